// @ts-check
// Compiles the client package (client/src to client/dist, which the program
// and the scripts import) and then the program (index.ts, src/) to bin/ with
// the project's strict tsconfig, and records a hash of the sources it was
// compiled from, so the entry point (scripts/pulumi-main.js) can refuse to
// run stale output.
//
//   node scripts/build.js          build (npm run build)
"use strict";
const { createHash } = require("node:crypto");
const { execFileSync } = require("node:child_process");
const { existsSync, readFileSync, readdirSync, writeFileSync } = require("node:fs");
const path = require("node:path");

const projectDir = path.resolve(__dirname, "..");
const outDir = path.join(projectDir, "bin");
const hashFile = path.join(outDir, ".source-hash");

/** The files whose content decides what bin/ holds. */
function sourceFiles() {
    const files = ["index.ts", "tsconfig.json", "tsconfig.build.json", "client/package.json", "client/tsconfig.json"];
    /** @param {string} dir */
    const walk = (dir) => {
        for (const entry of readdirSync(path.join(projectDir, dir), { withFileTypes: true })) {
            const relative = path.posix.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(relative);
            } else if (entry.name.endsWith(".ts")) {
                files.push(relative);
            }
        }
    };
    walk("src");
    walk("client/src");
    return files.sort();
}

function sourceHash() {
    const hash = createHash("sha256");
    for (const file of sourceFiles()) {
        hash.update(`${file}\0`).update(readFileSync(path.join(projectDir, file))).update("\0");
    }
    return hash.digest("hex");
}

/** True when bin/ was built from exactly the sources as they are now. */
function isFresh() {
    return existsSync(hashFile) && existsSync(path.join(projectDir, "client", "dist", "index.js")) && readFileSync(hashFile, "utf8").trim() === sourceHash();
}

/**
 * Type-checks and compiles. Returns false, with tsc's diagnostics on stderr,
 * when the program does not compile; bin/ is then left as it was.
 */
function build() {
    const hash = sourceHash(); // before compiling: an edit made during the build makes the output stale
    const tsc = require.resolve("typescript/bin/tsc", { paths: [projectDir] });
    try {
        for (const config of ["client/tsconfig.json", "tsconfig.build.json"]) {
            execFileSync(process.execPath, [tsc, "-p", path.join(projectDir, config)], {
                cwd: projectDir,
                stdio: ["ignore", process.stderr, process.stderr],
            });
        }
    } catch {
        return false;
    }
    writeFileSync(hashFile, `${hash}\n`);
    return true;
}

module.exports = { build, isFresh };

if (require.main === module) {
    process.exitCode = build() ? 0 : 1;
}
