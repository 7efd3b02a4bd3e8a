// scripts/build.js: which compiler it runs, with what environment, and what
// it trusts. The compilers here are stand-ins (a real compile of the program
// is test/host.spec.ts's): TypeScript 7's binary is a shell script that does
// what each test needs, and TypeScript 6's tsc6 a script that records its
// arguments and writes the entry files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLines } from "./support/deployRun";
import { systemPath } from "./support/fakeCli";
import { copyProject, standInTypeScript7 } from "./support/project.js";

const platformPackage = `typescript-${process.platform}-${process.arch}`;
/** What the stand-in binary does when asked to compile: writes the entry file of the target it was given. */
const compiles =
    'case "$2" in *client/tsconfig.json) mkdir -p client/dist && : > client/dist/index.js ;; *) mkdir -p bin && : > bin/index.js ;; esac';
/** Answers --version as TypeScript 7.0.0 does. */
const answersVersion = 'if [ "$1" = --version ]; then echo "Version 7.0.0"; exit 0; fi';

const copies: string[] = [];
afterEach(() => {
    for (const copy of copies.splice(0)) {
        rmSync(copy, { recursive: true, force: true });
    }
});

/**
 * A copy of the project, unbuilt, with stand-in compilers: @typescript/native 7.0.0 (unless `native` is
 * false), its platform package at `binaryVersion` with `binary` as its executable (none when undefined),
 * and a tsc6. Every call of either compiler is recorded in `record`.
 */
function copyWithCompilers(options: { native?: boolean; binary?: string; binaryVersion?: string }) {
    const copy = copyProject({ dependencies: true, build: false });
    copies.push(copy);
    rmSync(join(copy, "client", "dist"), { recursive: true, force: true });
    const record = join(copy, "compiler-calls.jsonl");
    const recordCall = `printf '["tsc","%s","%s"]\\n' "$1" "$2" >> '${record}'`;
    const binary = standInTypeScript7(copy, {
        ...options,
        binary: options.binary === undefined ? undefined : `#!/bin/sh\n${recordCall}\n${options.binary}\n`,
    });
    // typescript (6) is a link into this checkout's node_modules too: replaced by a folder of the copy's own.
    const typescript = join(copy, "node_modules", "typescript");
    rmSync(typescript);
    mkdirSync(join(typescript, "bin"), { recursive: true });
    writeFileSync(join(typescript, "package.json"), JSON.stringify({ name: "@typescript/typescript6", version: "6.0.0" }));
    writeFileSync(
        join(typescript, "bin", "tsc6"),
        `const fs = require("node:fs");
fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify(["tsc6", ...process.argv.slice(2)]) + "\\n");
const client = process.argv.at(-1).endsWith("client/tsconfig.json");
fs.mkdirSync(client ? "client/dist" : "bin", { recursive: true });
fs.writeFileSync(client ? "client/dist/index.js" : "bin/index.js", "");
`,
    );
    const build = (env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [join(copy, "scripts", "build.js")], {
            cwd: copy,
            env: { PATH: systemPath().join(":"), LANG: "C.UTF-8", ...env },
            encoding: "utf8",
        });
    const calls = () => readLines<string[]>(record);
    return { copy, build, calls, binary };
}

describe("npm run build", () => {
    it("runs TypeScript 7's binary from the project's own node_modules, with no credential and no Pulumi config in its environment", () => {
        const { copy, build, calls } = copyWithCompilers({
            binary: `env | sed 's/=.*//' > ENV\n${answersVersion}\n${compiles}`,
        });
        const run = build({
            AWS_SECRET_ACCESS_KEY: "x",
            PULUMI_CONFIG_PASSPHRASE: "x",
            QREDO_API_KEY: "x",
            // What the language host sets for the program when pulumi up builds: the decrypted config.
            PULUMI_CONFIG: JSON.stringify({ "qredo-partner-keys:apiKey": "x" }),
            PULUMI_NODEJS_MONITOR: "127.0.0.1:1",
            GITHUB_TOKEN: "x",
        });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
        // Asked for its version once, then the client and the program.
        expect(calls()).toEqual([
            ["tsc", "--version", ""],
            ["tsc", "-p", join(copy, "client", "tsconfig.json")],
            ["tsc", "-p", join(copy, "tsconfig.build.json")],
        ]);
        const names = readFileSync(join(copy, "ENV"), "utf8").split("\n");
        expect(names.filter((n) => n === "PATH" || n === "LANG").sort()).toEqual(["LANG", "PATH"]);
        expect(names.filter((n) => /AWS|PASSPHRASE|QREDO|PULUMI|TOKEN/.test(n))).toEqual([]);
    });

    const fallback = (why: string) =>
        `build: TypeScript 7's native compiler cannot run here (${why}). Compiling with TypeScript 6 instead, which takes about five times as long.\n`;
    it.each([
        {
            case: "no binary for the platform (npm ci --omit=optional)",
            options: {},
            why: `@typescript/${platformPackage} is not installed: npm ci --omit=optional leaves it out, or TypeScript 7 has no binary for this platform`,
        },
        {
            case: "no @typescript/native (npm ci --omit=dev, NODE_ENV=production)",
            options: { native: false },
            why: "@typescript/native is not installed: the dev dependencies were left out (npm ci --omit=dev, or NODE_ENV=production)",
        },
        {
            case: "a binary of another version than @typescript/native",
            options: { binary: `${answersVersion}\n${compiles}`, binaryVersion: "7.9.9" },
            why: `@typescript/${platformPackage} is 7.9.9, not 7.0.0 as @typescript/native: run npm ci`,
        },
        {
            case: "a binary that answers with another version",
            options: { binary: `echo "Version 9.9.9"\n${compiles}` },
            why: 'its binary, asked for its version, answered "Version 9.9.9", not Version 7.0.0',
        },
        {
            case: "a binary that fails",
            options: { binary: "exit 3" },
            why: "its binary, asked for its version, stopped (exit 3)",
        },
    ])("compiles with TypeScript 6, and says why, where TypeScript 7 cannot run: $case", ({ options, why }) => {
        const { copy, build, calls } = copyWithCompilers(options);
        const run = build();
        expect(run.stderr).toBe(fallback(why));
        expect(run.status).toBe(0);
        expect(calls().filter(([compiler]) => compiler === "tsc6")).toEqual([
            ["tsc6", "-p", join(copy, "client", "tsconfig.json")],
            ["tsc6", "-p", join(copy, "tsconfig.build.json")],
        ]);
    });

    it.each([
        {
            case: "reports success without writing the output",
            binary: `${answersVersion}\nexit 0`,
            says: "build: the TypeScript compiler reported success for client/tsconfig.json but did not write client/dist/index.js.\n",
        },
        {
            case: "is killed",
            binary: `${answersVersion}\nkill -SEGV $$`,
            says: "build: the TypeScript compiler stopped (SIGSEGV) while compiling client/tsconfig.json, without judging the sources.\n",
        },
        {
            case: "ends with 2, as TypeScript 7 does when its runtime panics (with noEmitOnError, type errors end with 1)",
            binary: `${answersVersion}\nexit 2`,
            says: "build: the TypeScript compiler stopped (exit 2) while compiling client/tsconfig.json, without judging the sources.\n",
        },
        {
            case: "ends with a code that is not a compile result",
            binary: `${answersVersion}\nexit 7`,
            says: "build: the TypeScript compiler stopped (exit 7) while compiling client/tsconfig.json, without judging the sources.\n",
        },
    ])("fails, and leaves no output that looks built, when the compiler $case", ({ binary, says }) => {
        const { copy, build } = copyWithCompilers({ binary });
        // Output of an earlier build, with its hash, which must not pass for this one's.
        mkdirSync(join(copy, "client", "dist"), { recursive: true });
        writeFileSync(join(copy, "client", "dist", "index.js"), "// earlier build\n");
        writeFileSync(join(copy, "client", "dist", ".source-hash"), "0123\n");
        const run = build();
        expect(run.stderr).toBe(says);
        expect(run.status).toBe(1);
        expect(existsSync(join(copy, "client", "dist", "index.js"))).toBe(false);
        expect(existsSync(join(copy, "client", "dist", ".source-hash"))).toBe(false);
        expect(existsSync(join(copy, "bin", ".source-hash"))).toBe(false);
    });

    it("after a failed build, sources reverted to an earlier build's are not taken as built", () => {
        const { copy, build, binary } = copyWithCompilers({ binary: `${answersVersion}\n${compiles}` });
        expect(build().status).toBe(0);
        const isFresh = () =>
            spawnSync(process.execPath, ["-e", 'process.exit(require("./scripts/build.js").isFresh() ? 0 : 1)'], { cwd: copy }).status ===
            0;
        expect(isFresh()).toBe(true);
        // The compiler now rejects what it is given (an edit with a type error), and the edit is then undone.
        writeFileSync(binary, `#!/bin/sh\n${answersVersion}\nexit 1\n`, { mode: 0o755 });
        const index = join(copy, "index.ts");
        const source = readFileSync(index, "utf8");
        writeFileSync(index, `${source}\nconst broken: number = "x";\n`);
        expect(build().status).toBe(1);
        writeFileSync(index, source);
        expect(isFresh()).toBe(false);
    });
});
