// npm test skips the type check and the lint only when they passed for the
// same inputs: every change a developer can make to those inputs must bring
// them back.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastPass, recordPass } from "./checksCache.js";

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
    const { digest } = lastPass(project, record);
    recordPass(project, record, digest, filesRead);
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

    it("describes the inputs as they were when the checks started: an edit during the run makes the next run check again", () => {
        const { digest } = lastPass(project, record);
        write(join(project, "src", "index.ts"), "export const a: string = 1;\n"); // while the checks run
        recordPass(project, record, digest, [join(project, "src", "index.ts")]);
        expect(lastPass(project, record).passed).toBe(false);
    });

    it("ignores a record it cannot read", () => {
        write(record, "{ not json");
        expect(lastPass(project, record).passed).toBe(false);
    });
});
