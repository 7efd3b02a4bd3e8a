// npm test skips the type check and the lint only when they passed for the
// same inputs: every change a developer can make to those inputs must bring
// them back.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkUnlessPassed, lastPass, recordPass } from "./checksCache.js";
import { systemPath } from "./fakeCli";
import { standInTypeScript7 } from "./project.js";

let root: string;
let project: string;
let outside: string;
let record: string;

function write(file: string, text: string) {
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, text);
}

/** Runs "the checks": the record a passing run leaves, for the inputs as they were when it started. */
function pass(
    filesRead = [join(project, "src", "index.ts"), join(project, "node_modules", "lib", "index.d.ts"), join(outside, "lib.d.ts")],
) {
    const { state } = lastPass(project, record);
    expect(recordPass(project, record, state, filesRead)).toBe(true);
}

beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "qredo-keys-checks-"));
    project = join(root, "project");
    outside = join(root, "typescript-libs");
    record = join(project, "node_modules", ".cache", "checks-passed.json");
    write(join(project, "tsconfig.json"), "{}");
    write(join(project, "src", "index.ts"), "export const a = 1;\n");
    write(join(project, "node_modules", ".package-lock.json"), '{"packages":{}}');
    write(join(project, "node_modules", "lib", "index.d.ts"), "export declare const b: number;\n");
    write(join(outside, "lib.d.ts"), "interface Array<T> {}\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("the record of a passing type check and lint", () => {
    it("is missing at first, and holds after a pass while nothing changes", () => {
        expect(lastPass(project, record).passed).toBe(false);
        pass();
        expect(lastPass(project, record).passed).toBe(true);
        expect(lastPass(project, record).passed).toBe(true);
    });

    it.each([
        ["a project file's content", () => write(join(project, "src", "index.ts"), "export const a = 2;\n")],
        ["the ESLint or TypeScript config", () => write(join(project, "tsconfig.json"), '{"compilerOptions":{}}')],
        ["a new file (tsconfig's globs or ESLint may pick it up)", () => write(join(project, "src", "new.ts"), "")],
        ["a new file in a new folder", () => write(join(project, "scripts", "tool.js"), "")],
        ["a deleted file", () => unlinkSync(join(project, "src", "index.ts"))],
        ["a new symbolic link", () => symlinkSync(join(project, "src", "index.ts"), join(project, "src", "alias.ts"))],
        [
            "an install (npm rewrites node_modules/.package-lock.json)",
            () => write(join(project, "node_modules", ".package-lock.json"), '{"packages":{"x":{}}}'),
        ],
        [
            "a declaration in node_modules the type check read",
            () => write(join(project, "node_modules", "lib", "index.d.ts"), "export declare const b: boolean;\n"),
        ],
        [
            "a file outside the project the type check read",
            () => utimesSync(join(outside, "lib.d.ts"), new Date(), new Date(Date.now() + 5000)),
        ],
    ])("no longer holds after a change to %s", (_, change) => {
        pass();
        change();
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("is not invalidated by build output or by what a deploy leaves, which the checks do not read", () => {
        pass();
        write(join(project, "bin", "index.js"), "built");
        write(join(project, "client", "dist", "index.js"), "built");
        write(join(project, "coverage", "index.html"), "report");
        write(join(project, "public-sandbox.pem"), "-----BEGIN PUBLIC KEY-----\n");
        write(join(project, "apikey"), "not a real key");
        write(join(project, "qredo-partner-keys-client-0.1.0.tgz"), "packed");
        write(join(project, ".pulumi-state", "stacks", "sandbox.json"), "{}");
        write(join(project, "docs", "notes.md"), "# notes");
        expect(lastPass(project, record).passed).toBe(true);
    });

    it("follows a file in a skipped folder when the type check read it", () => {
        const built = join(project, "client", "dist", "index.d.ts");
        write(built, "export declare const c: number;\n");
        pass([join(project, "src", "index.ts"), built]);
        write(built, "export declare const c: boolean;\n");
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("is not recorded when a file changed while the checks ran: restoring what was there at the start does not revive it", () => {
        const file = join(project, "src", "index.ts");
        write(file, "export const a: string = 1;\n"); // broken when the run starts
        const { state } = lastPass(project, record);
        write(file, "export const a = 1;\n"); // fixed while the checks run: they may pass on a mix
        expect(recordPass(project, record, state, [file])).toBe(false);
        write(file, "export const a: string = 1;\n"); // undone later
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("is not recorded when a file was edited and edited back while the checks ran", () => {
        const file = join(project, "src", "index.ts");
        write(file, "export const a: string = 1;\n");
        const { state } = lastPass(project, record);
        write(file, "export const a = 1;\n"); // the checks may read this
        write(file, "export const a: string = 1;\n"); // and the start's content is back
        expect(recordPass(project, record, state, [file])).toBe(false);
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("tells two files from one file whose content spells out both", () => {
        write(join(project, "src", "one.ts"), "export const a = 1; //");
        write(join(project, "src", "two.ts"), "\nexport const a = 2;\n");
        pass();
        unlinkSync(join(project, "src", "two.ts"));
        write(join(project, "src", "one.ts"), "export const a = 1; //\0src/two.ts\0\nexport const a = 2;\n");
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("follows symbolic links: a linked file's content, a linked folder's files, and where a link points", () => {
        const shared = join(root, "shared");
        write(join(shared, "one.ts"), "export const one = 1;\n");
        write(join(shared, "other.ts"), "export const other = 2;\n");
        write(join(shared, "dir", "a.ts"), "export const a = 1;\n");
        symlinkSync(join(shared, "one.ts"), join(project, "src", "linked.ts"));
        symlinkSync(join(shared, "dir"), join(project, "src", "vendor"));
        pass();
        write(join(shared, "one.ts"), "export const one: number = 'x';\n");
        expect(lastPass(project, record).passed).toBe(false);
        pass();
        write(join(shared, "dir", "b.ts"), "export const b: number = 'x';\n");
        expect(lastPass(project, record).passed).toBe(false);
        pass();
        unlinkSync(join(project, "src", "linked.ts"));
        symlinkSync(join(shared, "other.ts"), join(project, "src", "linked.ts"));
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("does not follow a link back up the tree forever", () => {
        symlinkSync(project, join(project, "src", "loop"));
        pass();
        expect(lastPass(project, record).passed).toBe(true);
        write(join(project, "src", "index.ts"), "export const a = 2;\n");
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("does not hold in a copy of the project, whose files the record does not describe", () => {
        pass();
        const copy = join(root, "copy");
        cpSync(project, copy, { recursive: true, preserveTimestamps: true });
        expect(lastPass(copy, join(copy, "node_modules", ".cache", "checks-passed.json")).passed).toBe(false);
    });

    it.each([
        ["not JSON", "{ not json"],
        ["null", "null"],
        ["no external files", '{"digest":"DIGEST","external":null}'],
        ["an empty list", '{"digest":"DIGEST","external":[]}'],
        ["an empty map", '{"digest":"DIGEST","external":{}}'],
    ])("counts a record that is %s as none, and the next pass replaces it", (_, text) => {
        write(record, text.replace("DIGEST", lastPass(project, record).state.digest));
        expect(lastPass(project, record).passed).toBe(false);
        pass();
        expect(lastPass(project, record).passed).toBe(true);
    });
});

describe("checkUnlessPassed", () => {
    const filesRead = () => [join(outside, "lib.d.ts")];

    it("runs the checks, records a pass of all of them, and then skips them while nothing changes", async () => {
        let runs = 0;
        const checks = async () => {
            runs++;
            return {
                results: [
                    { code: 0, output: "" },
                    { code: 0, output: "" },
                ],
                filesRead: filesRead(),
            };
        };
        expect(await checkUnlessPassed(project, record, checks)).toEqual({
            results: [
                { code: 0, output: "" },
                { code: 0, output: "" },
            ],
            skipped: false,
        });
        expect(await checkUnlessPassed(project, record, checks)).toEqual({ results: undefined, skipped: true });
        expect(runs).toBe(1);
        write(join(project, "src", "index.ts"), "export const a = 2;\n");
        expect((await checkUnlessPassed(project, record, checks)).skipped).toBe(false);
        expect(runs).toBe(2);
    });

    it.each([
        ["the first check fails", [2, 0]],
        ["the second check fails", [0, 1]],
        ["both fail", [2, 1]],
    ])("records nothing when %s: the failure is shown on every run", async (_, codes) => {
        let runs = 0;
        const checks = async () => {
            runs++;
            return { results: codes.map((code) => ({ code, output: "error" })), filesRead: filesRead() };
        };
        await checkUnlessPassed(project, record, checks);
        const again = await checkUnlessPassed(project, record, checks);
        expect(again.skipped).toBe(false);
        expect(again.results?.map((r) => r.code)).toEqual(codes);
        expect(runs).toBe(2);
    });
});

describe("npm test before npm ci", () => {
    it("says in one line to run npm ci first, and runs nothing", () => {
        const dir = mkdtempSync(join(tmpdir(), "qredo-keys-noinstall-"));
        try {
            mkdirSync(join(dir, "test", "support"), { recursive: true });
            for (const file of ["check-and-test.js", "checksCache.js", "tmpdirCheck.js"]) {
                cpSync(join(__dirname, file), join(dir, "test", "support", file));
            }
            const run = spawnSync(process.execPath, [join(dir, "test", "support", "check-and-test.js")], {
                cwd: dir,
                env: { PATH: systemPath().join(":") },
                encoding: "utf8",
            });
            expect(run.stderr).toBe(
                "npm test: the dependencies are not installed (vitest is missing): run npm ci first, then npm test again.\n",
            );
            expect(run.stdout).toBe("");
            expect(run.status).toBe(1);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("npm test's own lines", () => {
    let dir: string;
    let env: Record<string, string>;
    beforeEach(() => {
        // A project with the tools npm test looks for, and stand-ins for the three it runs as commands:
        // vitest records that it ran and fails, prettier and TypeScript 7's tsc pass.
        dir = mkdtempSync(join(tmpdir(), "qredo-keys-npmtest-"));
        mkdirSync(join(dir, "test", "support"), { recursive: true });
        for (const file of ["check-and-test.js", "checksCache.js", "tmpdirCheck.js"]) {
            cpSync(join(__dirname, file), join(dir, "test", "support", file));
        }
        mkdirSync(join(dir, "node_modules"));
        for (const tool of ["vitest", "typescript", "@typescript", "eslint", "prettier"]) {
            symlinkSync(join(__dirname, "..", "..", "node_modules", tool), join(dir, "node_modules", tool));
        }
        writeFileSync(join(dir, "tsconfig.json"), '{ "files": [] }\n');
        mkdirSync(join(dir, "bin"));
        writeFileSync(join(dir, "bin", "vitest"), `#!/bin/sh\necho ran > "${join(dir, "vitest-ran")}"\necho "vitest: 1 failed"\nexit 1\n`, {
            mode: 0o755,
        });
        writeFileSync(join(dir, "bin", "prettier"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        writeFileSync(join(dir, "bin", "tsc"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        env = { PATH: [join(dir, "bin"), ...systemPath()].join(":") };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const npmTest = (extra: Record<string, string> = {}) =>
        spawnSync(process.execPath, [join(dir, "test", "support", "check-and-test.js")], {
            cwd: dir,
            env: { ...env, ...extra },
            encoding: "utf8",
        });

    it("runs the checks again once TypeScript 7's binary changed, though npm installed nothing", () => {
        // A project that passes, with a TypeScript 7 of its own, and vitest passing.
        writeFileSync(join(dir, "a.ts"), "export const a = 1;\n");
        writeFileSync(
            join(dir, "tsconfig.json"),
            '{ "compilerOptions": { "strict": true, "types": [], "lib": ["es5"] }, "files": ["a.ts"] }\n',
        );
        writeFileSync(
            join(dir, "eslint.config.mjs"),
            'export const typeAwareFiles = ["a.ts"];\nexport default [{ ignores: ["node_modules/", "bin/", "test/"] }];\n',
        );
        writeFileSync(join(dir, "bin", "vitest"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        const binary = standInTypeScript7(dir, { binary: "first binary" });
        expect(npmTest().stdout).toBe("Type check, lint and format check: passed\n");
        writeFileSync(binary, "another binary"); // as a hand copy or a broken download would
        const again = npmTest();
        expect(again.stdout).toBe("Type check, lint and format check: passed\n");
        expect(again.status).toBe(0);
    });

    it("a TMPDIR the tests cannot use: that one line, before anything runs", () => {
        const missing = join(dir, "no-such-folder");
        const run = npmTest({ TMPDIR: missing });
        expect(run.stderr).toBe(
            `npm test: TMPDIR is ${missing}, which is not a folder the tests can write to: create it, or unset TMPDIR.\n`,
        );
        expect(run.stdout).toBe("");
        expect(run.status).toBe(1);
        expect(existsSync(join(dir, "vitest-ran"))).toBe(false);
    });

    it("vitest that cannot be started: the last line says that, not that tests failed", () => {
        rmSync(join(dir, "bin", "vitest"));
        const run = npmTest();
        expect(run.stderr).toContain("vitest: spawn vitest ENOENT");
        expect(run.stderr.trimEnd().split("\n").at(-1)).toBe(
            "npm test: vitest could not be started (the error is above): run npm ci, then npm test again.",
        );
        expect(run.status).not.toBe(0);
    });

    it("failed tests: the last line says so, after the checks' lines", () => {
        const run = npmTest();
        expect(existsSync(join(dir, "vitest-ran"))).toBe(true);
        expect(run.stdout).toContain("vitest: 1 failed");
        expect(run.stderr.trimEnd().split("\n").at(-1)).toBe("npm test: the tests failed (vitest exit 1); vitest's report is above.");
        expect(run.status).not.toBe(0);
    });
});
