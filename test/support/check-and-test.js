// @ts-check
// npm test: the type check (tsc --noEmit) and npm run lint run side by side
// with the vitest suite. One after the other they leave a core idle for much
// of the run; side by side the whole takes about as long as the CPU work.
//
// The checks' output is held back and printed after the suite's, so a failure
// never interleaves with the test report. Every argument goes to vitest (CI
// passes its reporters after `npm test --`). The exit code is the first
// failure's, in the order tsc, lint, vitest; 0 when all three pass.
"use strict";
const { spawn } = require("node:child_process");

/**
 * @param {string} command  found on PATH (npm run puts node_modules/.bin first)
 * @param {string[]} args
 * @param {boolean} capture  hold the output back instead of passing it through
 * @returns {Promise<{ code: number, output: string }>}
 */
function run(command, args, capture) {
    const child = spawn(command, args, { stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit" });
    let output = "";
    if (capture) {
        child.stdout?.setEncoding("utf8").on("data", (chunk) => (output += chunk));
        child.stderr?.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    }
    return new Promise((resolve) => {
        child.on("error", (err) => resolve({ code: 1, output: `${output}${command}: ${err.message}\n` }));
        // Killed by a signal: no exit code, still a failure.
        child.on("close", (code) => resolve({ code: code ?? 1, output }));
    });
}

async function main() {
    const [typeCheck, lint, suite] = await Promise.all([
        // Incremental: a repeated run re-checks only what changed (tsc's own,
        // sound bookkeeping); a fresh clone has no cache and checks everything.
        run("tsc", ["--noEmit", "--incremental", "--tsBuildInfoFile", "node_modules/.cache/qredo-partner-keys/tsc.tsbuildinfo"], true),
        run("npm", ["run", "--silent", "lint"], true),
        run("vitest", ["run", ...process.argv.slice(2)], false),
    ]);
    for (const [name, check] of /** @type {const} */ ([
        ["tsc --noEmit", typeCheck],
        ["npm run lint", lint],
    ])) {
        if (check.code !== 0) {
            process.stderr.write(`\n${name} failed (exit ${check.code}):\n${check.output}`);
        }
    }
    process.exitCode = [typeCheck, lint, suite].find((r) => r.code !== 0)?.code ?? 0;
}

void main();
