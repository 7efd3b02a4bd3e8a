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
const { execFileSync, spawnSync } = require("node:child_process");
const { existsSync, readFileSync, readdirSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { compilerEnv } = require("./lib/childEnv.js");

const projectDir = path.resolve(__dirname, "..");

/**
 * @typedef {{ tsconfig: string, hashFile: string, files: () => string[] }} Target
 * @type {{ client: Target, program: Target }}
 */
const targets = {
    client: {
        tsconfig: "client/tsconfig.json",
        hashFile: "client/dist/.source-hash",
        files: () => ["tsconfig.json", "client/package.json", "client/tsconfig.json", ...typeScriptFiles("client/src")],
    },
    program: {
        tsconfig: "tsconfig.build.json",
        hashFile: "bin/.source-hash",
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
    return existsSync(hashFile) && readFileSync(hashFile, "utf8").trim() === sourceHash(target);
}

/** True when client/dist and bin/ were built from exactly the sources as they are now. */
function isFresh() {
    return targetIsFresh(targets.client) && targetIsFresh(targets.program);
}

/**
 * The compiler: TypeScript 7's native tsc (package.json installs it as @typescript/native), with the same
 * checks and output as TypeScript 6's in a fifth of the time. Where it cannot run (no binary for the
 * platform, or npm told to omit optional packages, which carry the binaries), TypeScript 6's tsc6, said
 * on stderr. TypeScript 6 is the `typescript` package, for the tools that need its JavaScript API.
 * @returns {string} the compiler's script, for node
 */
function compiler() {
    let reason;
    try {
        const native = path.join(path.dirname(require.resolve("@typescript/native/package.json", { paths: [projectDir] })), "bin", "tsc");
        const probe = spawnSync(process.execPath, [native, "--version"], {
            cwd: projectDir,
            env: compilerEnv(process.env),
            encoding: "utf8",
        });
        if (probe.status === 0) {
            return native;
        }
        reason = /Error: (.+)/.exec(probe.stderr)?.[1]?.replace(/\.$/, "") ?? `tsc --version exited with ${probe.status ?? probe.signal}`;
    } catch (error) {
        reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    }
    process.stderr.write(
        `build: TypeScript 7's native compiler cannot run here (${reason}). Compiling with TypeScript 6 instead, which takes about five times as long; npm ci installs the native compiler where there is one for the platform (not with --omit=optional).\n`,
    );
    return path.join(path.dirname(require.resolve("typescript/package.json", { paths: [projectDir] })), "bin", "tsc6");
}

/**
 * Type-checks and compiles one target; false (diagnostics on stderr) when it does not compile.
 * @param {Target} target @param {string} tsc  the compiler's script
 */
function buildTarget(target, tsc) {
    const hash = sourceHash(target); // before compiling: an edit made during the build makes the output stale
    try {
        execFileSync(process.execPath, [tsc, "-p", path.join(projectDir, target.tsconfig)], {
            cwd: projectDir,
            // The compiler needs no credential: a deploy may build with AWS keys, the passphrase and QREDO_API_KEY
            // set, and pulumi up with the decrypted stack config in PULUMI_CONFIG.
            env: compilerEnv(process.env),
            stdio: ["ignore", process.stderr, process.stderr],
        });
    } catch {
        return false;
    }
    writeFileSync(path.join(projectDir, target.hashFile), `${hash}\n`);
    return true;
}

/**
 * Builds what is stale, the client first. Returns false, with tsc's
 * diagnostics on stderr, when something does not compile; the output of a
 * target that failed is left as it was (and stays stale).
 */
function build() {
    /** @type {string | undefined} */
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
