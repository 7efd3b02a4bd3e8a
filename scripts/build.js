// @ts-check
// Compiles the client package (client/src to client/dist, which the program
// and the scripts import) and then the program (index.ts, src/) to bin/ with
// the project's strict tsconfig. Each output records a hash of the sources it
// was compiled from, so the entry point (scripts/pulumi-main.js) can refuse to
// run stale output, and a build skips the client when only the program changed.
//
//   node scripts/build.js          build (npm run build)
"use strict";
const { createHash } = require("node:crypto");
const { spawnSync } = require("node:child_process");
const { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { compilerEnv } = require("./lib/childEnv.js");

const projectDir = path.resolve(__dirname, "..");

/**
 * @typedef {{ tsconfig: string, hashFile: string, entry: string, files: () => string[] }} Target
 * @type {{ client: Target, program: Target }}
 */
const targets = {
    client: {
        tsconfig: "client/tsconfig.json",
        hashFile: "client/dist/.source-hash",
        entry: "client/dist/index.js",
        files: () => ["tsconfig.json", "client/package.json", "client/tsconfig.json", ...typeScriptFiles("client/src")],
    },
    program: {
        tsconfig: "tsconfig.build.json",
        hashFile: "bin/.source-hash",
        entry: "bin/index.js",
        // The program is type-checked against the client's sources too.
        files: () => ["index.ts", "tsconfig.json", "tsconfig.build.json", ...targets.client.files(), ...typeScriptFiles("src")],
    },
};

/** @param {string} dir  relative to the project @returns {string[]} */
function typeScriptFiles(dir) {
    /** @type {string[]} */
    const files = [];
    for (const entry of readdirSync(path.join(projectDir, dir), { withFileTypes: true })) {
        const relative = path.posix.join(dir, entry.name);
        if (entry.isDirectory()) {
            files.push(...typeScriptFiles(relative));
        } else if (entry.name.endsWith(".ts")) {
            files.push(relative);
        }
    }
    return files.sort();
}

/** @param {Target} target */
function sourceHash(target) {
    const hash = createHash("sha256");
    for (const file of target.files()) {
        hash.update(`${file}\0`)
            .update(readFileSync(path.join(projectDir, file)))
            .update("\0");
    }
    return hash.digest("hex");
}

/** @param {Target} target */
function targetIsFresh(target) {
    const hashFile = path.join(projectDir, target.hashFile);
    return (
        existsSync(hashFile) &&
        existsSync(path.join(projectDir, target.entry)) &&
        readFileSync(hashFile, "utf8").trim() === sourceHash(target)
    );
}

/** True when client/dist and bin/ were built from exactly the sources as they are now. */
function isFresh() {
    return targetIsFresh(targets.client) && targetIsFresh(targets.program);
}

/** @typedef {{ command: string, args: string[] }} Compiler */

/** @param {string} dir  a package's folder @returns {string} its version */
function packageVersion(dir) {
    return JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).version;
}

/**
 * TypeScript 7's native compiler, as installed in this project's node_modules: @typescript/native and
 * its binary for this platform (an optional package) at the same version, answering `--version` with
 * it. Run directly, not through the package's launcher, which would also look in the folders above
 * the project for a binary the lock file does not pin.
 * @returns {{ compiler: Compiler } | { problem: string }}
 */
function nativeCompiler() {
    const scope = path.join(projectDir, "node_modules", "@typescript");
    let version;
    try {
        version = packageVersion(path.join(scope, "native"));
    } catch {
        return {
            problem: "@typescript/native is not installed: the dev dependencies were left out (npm ci --omit=dev, or NODE_ENV=production)",
        };
    }
    const binary = `typescript-${process.platform}-${process.arch}`;
    let binaryVersion;
    try {
        binaryVersion = packageVersion(path.join(scope, binary));
    } catch {
        return {
            problem: `@typescript/${binary} is not installed: npm ci --omit=optional leaves it out, or TypeScript 7 has no binary for this platform`,
        };
    }
    if (binaryVersion !== version) {
        return { problem: `@typescript/${binary} is ${binaryVersion}, not ${version} as @typescript/native: run npm ci` };
    }
    const command = path.join(scope, binary, "lib", process.platform === "win32" ? "tsc.exe" : "tsc");
    const probe = spawnSync(command, ["--version"], { cwd: projectDir, env: compilerEnv(process.env), encoding: "utf8", timeout: 30_000 });
    const answer = probe.stdout?.trim() ?? "";
    if (probe.error === undefined && probe.status === 0 && answer === `Version ${version}`) {
        return { compiler: { command, args: [] } };
    }
    const what =
        probe.error === undefined && probe.status === 0
            ? `answered ${JSON.stringify(answer.slice(0, 60))}, not Version ${version}`
            : howItEnded(probe, "30 s");
    return { problem: `its binary, asked for its version, ${what}` };
}

/**
 * How a run that did not end well ended, in words: not started, past its time limit, or stopped by a
 * signal or an exit code.
 * @param {import("node:child_process").SpawnSyncReturns<unknown>} run @param {string} limit  its timeout, in words
 */
function howItEnded(run, limit) {
    if (run.error !== undefined) {
        const code = /** @type {NodeJS.ErrnoException} */ (run.error).code;
        return code === "ETIMEDOUT" ? `did not finish within ${limit}` : `could not be run (${code ?? run.error.message})`;
    }
    return `stopped (${run.signal ?? `exit ${run.status}`})`;
}

/**
 * The compiler: TypeScript 7's native tsc, with the same checks and output as TypeScript 6's in a fifth
 * of the time. Where it cannot run, TypeScript 6's tsc6 (the `typescript` package, which the tools that
 * need TypeScript's JavaScript API use), said on stderr.
 * @returns {Compiler}
 */
function compiler() {
    const native = nativeCompiler();
    if ("compiler" in native) {
        return native.compiler;
    }
    process.stderr.write(
        `build: TypeScript 7's native compiler cannot run here (${native.problem}). Compiling with TypeScript 6 instead, which takes about five times as long.\n`,
    );
    return { command: process.execPath, args: [path.join(projectDir, "node_modules", "typescript", "bin", "tsc6")] };
}

/**
 * Type-checks and compiles one target; false (diagnostics on stderr) when it does not compile, or when
 * the compiler stopped without a verdict or wrote nothing.
 * @param {Target} target @param {Compiler} tsc
 */
function buildTarget(target, tsc) {
    const hash = sourceHash(target); // before compiling: an edit made during the build makes the output stale
    const entry = path.join(projectDir, target.entry);
    // Until this compile succeeds the target is not built: sources reverted after a failure must not match the
    // old hash, and the entry file is written again only by a compiler that really compiled.
    rmSync(path.join(projectDir, target.hashFile), { force: true });
    rmSync(entry, { force: true });
    const run = spawnSync(tsc.command, [...tsc.args, "-p", path.join(projectDir, target.tsconfig)], {
        cwd: projectDir,
        // The compiler needs no credential: a deploy may build with AWS keys, the passphrase and QREDO_API_KEY
        // set, and pulumi up with the decrypted stack config in PULUMI_CONFIG.
        env: compilerEnv(process.env),
        stdio: ["ignore", process.stderr, process.stderr],
        timeout: 600_000,
    });
    if (run.status === 1) {
        return false; // type errors, printed above (with noEmitOnError, tsc's exit code for them)
    }
    if (run.status !== 0) {
        process.stderr.write(
            `build: the TypeScript compiler ${howItEnded(run, "10 minutes")} while compiling ${target.tsconfig}, without judging the sources.\n`,
        );
        return false;
    }
    if (!existsSync(entry)) {
        process.stderr.write(`build: the TypeScript compiler reported success for ${target.tsconfig} but did not write ${target.entry}.\n`);
        return false;
    }
    writeFileSync(path.join(projectDir, target.hashFile), `${hash}\n`);
    return true;
}

/**
 * Builds what is stale, the client first. Returns false, with tsc's
 * diagnostics on stderr, when something does not compile; a target that
 * failed has no entry file and no hash (it is stale until a build succeeds).
 */
function build() {
    /** @type {Compiler | undefined} */
    let tsc;
    for (const target of [targets.client, targets.program]) {
        if (!targetIsFresh(target) && !buildTarget(target, (tsc ??= compiler()))) {
            return false;
        }
    }
    return true;
}

module.exports = { build, isFresh };

if (require.main === module) {
    process.exitCode = build() ? 0 : 1;
}
