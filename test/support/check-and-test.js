// @ts-check
// npm test: the type check, the lint, the format check and the vitest suite,
// side by side.
//
// The suite runs in a child process (its output passes straight through);
// meanwhile the project is type-checked (tsconfig.json) by both compilers, as
// `npm run typecheck` does: TypeScript 7's native `tsc` in a process of its
// own, the one the build runs, and TypeScript 6 in this process, the one
// ts-node and ESLint use. Then it is linted (what `npm run lint` does) with
// TypeScript 6's program: ESLint's type-aware rules get the program the type
// check built (parserOptions.programs) instead of building the same ~1,100
// files again. Prettier's check runs in a process of its own beside them. When
// the type checks and the lint passed before for exactly the same inputs, they
// are not run again (test/support/checksCache.js says what "the same" covers).
//
// The checks' output is held back and printed after the suite's, so a failure
// never interleaves with the test report. Every argument goes to vitest (CI
// passes its reporters after `npm test --`). The exit code is the first
// failure's, in the order tsc, tsc6, lint, prettier, vitest; 0 when all pass.
"use strict";
const { spawn } = require("node:child_process");
const { existsSync, mkdirSync, readdirSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const { checkUnlessPassed } = require("./checksCache.js");
const { tmpdirProblem } = require("./tmpdirCheck.js");

const projectDir = path.resolve(__dirname, "..", "..");
// The type check is incremental: a repeated run re-checks only what changed
// (tsc's own, sound bookkeeping); a fresh clone has no cache and checks everything.
const cacheDir = path.join(projectDir, "node_modules", ".cache", "qredo-partner-keys");
const buildInfo = path.join(cacheDir, "tsc.tsbuildinfo");
const passRecord = path.join(cacheDir, "checks-passed.json");

/**
 * @param {string} command  found on PATH (npm run puts node_modules/.bin first)
 * @param {string[]} args
 * @param {boolean} capture  hold the output back instead of passing it through
 * @returns {Promise<{ code: number, output: string, started: boolean }>}
 */
function run(command, args, capture) {
    const child = spawn(command, args, { cwd: projectDir, stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit" });
    let output = "";
    if (capture) {
        child.stdout?.setEncoding("utf8").on("data", (chunk) => (output += chunk));
        child.stderr?.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    }
    return new Promise((resolve) => {
        child.on("error", (err) => {
            const message = `${command}: ${err.message}\n`;
            if (!capture) {
                process.stderr.write(message); // its output passes through: so does this
            }
            resolve({ code: 1, output: `${output}${message}`, started: false });
        });
        // Killed by a signal: no exit code, still a failure.
        child.on("close", (code) => resolve({ code: code ?? 1, output, started: true }));
    });
}

/**
 * TypeScript 6's `tsc6 --noEmit --incremental` as a program: the diagnostics
 * in tsc's format, and the program for ESLint.
 * @returns {{ code: number, output: string, program: import("typescript").Program | undefined }}
 */
function typeCheck() {
    const ts = require("typescript");
    const host = {
        getCanonicalFileName: (/** @type {string} */ f) => f,
        getCurrentDirectory: () => projectDir,
        getNewLine: () => "\n",
    };
    const config = ts.getParsedCommandLineOfConfigFile(
        path.join(projectDir, "tsconfig.json"),
        { noEmit: true, incremental: true, tsBuildInfoFile: buildInfo },
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (config === undefined || config.errors.length > 0) {
        return {
            code: 2,
            output: ts.formatDiagnostics(config?.errors ?? [], host) || "tsconfig.json could not be read\n",
            program: undefined,
        };
    }
    mkdirSync(path.dirname(buildInfo), { recursive: true });
    const builder = ts.createIncrementalProgram({
        rootNames: config.fileNames,
        options: config.options,
        projectReferences: config.projectReferences,
        configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
    });
    const diagnostics = [
        ...builder.getConfigFileParsingDiagnostics(),
        ...builder.getOptionsDiagnostics(),
        ...builder.getGlobalDiagnostics(),
        ...builder.getSyntacticDiagnostics(),
    ];
    if (diagnostics.length === 0) {
        diagnostics.push(...builder.getSemanticDiagnostics()); // cached for files that did not change
    }
    builder.emit(); // with noEmit: only the incremental cache is written
    const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
    return {
        code: errors > 0 ? 2 : 0,
        output: diagnostics.length > 0 ? `${ts.formatDiagnostics(diagnostics, host)}\nFound ${errors} error(s).\n` : "",
        program: builder.getProgram(),
    };
}

/**
 * `eslint .` with the type check's program for the files the config lints with types.
 * @param {import("typescript").Program | undefined} program
 * @returns {Promise<{ code: number, output: string }>}
 */
async function lint(program) {
    try {
        const { ESLint } = require("eslint");
        /** @type {{ typeAwareFiles: string[] }} */
        const { typeAwareFiles } = await import(pathToFileURL(path.join(projectDir, "eslint.config.mjs")).href);
        /** @type {import("eslint").Linter.Config[]} */
        const overrideConfig = program ? [{ files: typeAwareFiles, languageOptions: { parserOptions: { programs: [program] } } }] : [];
        const eslint = new ESLint({ cwd: projectDir, overrideConfig });
        const results = await eslint.lintFiles(["."]);
        const errors = results.reduce((n, r) => n + r.errorCount, 0);
        const text = await (await eslint.loadFormatter("stylish")).format(results);
        return { code: errors > 0 ? 1 : 0, output: text };
    } catch (error) {
        return { code: 2, output: `${error instanceof Error ? error.message : String(error)}\n` };
    }
}

/**
 * TypeScript 7's files: its package, and the binary for this platform with the lib declarations beside it
 * (a changed or replaced binary, installed by npm or not, checks again).
 * @returns {string[]}
 */
function nativeCompilerFiles() {
    const scope = path.join(projectDir, "node_modules", "@typescript");
    const lib = path.join(scope, `typescript-${process.platform}-${process.arch}`, "lib");
    /** @type {string[]} */
    let libFiles = [];
    try {
        libFiles = readdirSync(lib).map((name) => path.join(lib, name));
    } catch {
        // not installed: its absence is recorded through the package.json below
    }
    return [path.join(scope, "native", "package.json"), path.join(lib, "..", "package.json"), ...libFiles];
}

/** @param {string} what @param {unknown} error @returns {{ code: number, output: string }} */
function crashed(what, error) {
    return { code: 2, output: `${what} stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` };
}

/**
 * The type checks, then the lint with TypeScript 6's program; skipped when
 * they passed for the same inputs before. Never throws: a crash is a failed check.
 * @returns {Promise<{ nativeTypes: { code: number, output: string }, types: { code: number, output: string }, lintResult: { code: number, output: string }, skipped: boolean }>}
 */
async function typeCheckAndLint() {
    const passed = { code: 0, output: "" };
    const { results, skipped } = await checkUnlessPassed(projectDir, passRecord, async () => {
        // Started first: it runs on the other core while this process checks and lints.
        const nativeTypes = run("tsc", ["--noEmit", "-p", "tsconfig.json"], true);
        /** @type {ReturnType<typeof typeCheck>} */
        let types;
        try {
            types = typeCheck();
        } catch (error) {
            types = { ...crashed("The type check", error), program: undefined };
        }
        let lintResult;
        try {
            lintResult = await lint(types.program);
        } catch (error) {
            lintResult = crashed("ESLint", error);
        }
        // What the checks read besides the project: the program's files (TypeScript 7 reads the same), and
        // both compilers, ESLint and its plugins.
        const filesRead = [
            ...(types.program?.getSourceFiles().map((f) => f.fileName) ?? []),
            ...Object.keys(require.cache),
            ...nativeCompilerFiles(),
        ];
        return { results: [await nativeTypes, types, lintResult], filesRead };
    });
    const [nativeTypes, types, lintResult] = results ?? [passed, passed, passed];
    return { nativeTypes, types, lintResult, skipped };
}

/** The tools npm test runs, when one is not installed (npm ci not run yet, or stopped). @returns {string | undefined} */
function missingTool() {
    // In this project's node_modules: Node would also find one in a folder above, which npm test does not run.
    return ["vitest", "typescript", "@typescript/native", "eslint", "prettier"].find(
        (name) => !existsSync(path.join(projectDir, "node_modules", name, "package.json")),
    );
}

async function main() {
    const missing = missingTool();
    if (missing !== undefined) {
        process.stderr.write(
            `npm test: the dependencies are not installed (${missing} is missing): run npm ci first, then npm test again.\n`,
        );
        process.exitCode = 1;
        return;
    }
    const tmpdir = tmpdirProblem(process.env);
    if (tmpdir !== undefined) {
        process.stderr.write(`npm test: ${tmpdir}\n`);
        process.exitCode = 1;
        return;
    }
    const suite = run("vitest", ["run", ...process.argv.slice(2)], false);
    const format = run("prettier", ["--check", "--cache", "--log-level", "warn", "."], true);
    // Whatever happens to the checks, the children are awaited: npm test ends when the suite does.
    const [{ nativeTypes, types, lintResult, skipped }, formatResult, suiteResult] = await Promise.all([typeCheckAndLint(), format, suite]);
    if (skipped) {
        process.stdout.write(
            "Type check and lint: not run again, they passed for these same files (to force them: rm -r node_modules/.cache/qredo-partner-keys)\n",
        );
    }
    const checks = /** @type {const} */ ([
        ["tsc --noEmit", nativeTypes],
        ["tsc6 --noEmit", types],
        ["eslint .", lintResult],
        ["prettier --check .", formatResult],
    ]);
    if (checks.every(([, check]) => check.code === 0)) {
        process.stdout.write(`${skipped ? "Format check" : "Type check, lint and format check"}: passed\n`);
    }
    for (const [name, check] of checks) {
        if (check.code !== 0) {
            const fix = name.startsWith("prettier") ? "(`npm run format` rewrites the files)" : "";
            process.stderr.write(`\n${name} failed (exit ${check.code})${fix ? ` ${fix}` : ""}:\n${check.output}`);
        }
    }
    if (suiteResult.code !== 0) {
        // Last, so that the checks' lines above it are not read as the outcome.
        process.stderr.write(
            suiteResult.started
                ? `\nnpm test: the tests failed (vitest exit ${suiteResult.code}); vitest's report is above.\n`
                : "\nnpm test: vitest could not be started (the error is above): run npm ci, then npm test again.\n",
        );
    }
    process.exitCode = [nativeTypes, types, lintResult, formatResult, suiteResult].find((r) => r.code !== 0)?.code ?? 0;
}

void main();
