// @ts-check
// npm run bench [-- --runs N]: what a cold `pulumi preview` / `pulumi up` pays to
// start the program. Each run is a fresh process through bench/host-run.js
// (Pulumi's own run(), mock monitor); modes alternate; medians are printed.
//
//   floor           node loading only the SDK modules the program needs
//   project         the program as Pulumi.yaml configures it (compiled, freshness-checked)
//   transpile-only  index.ts through ts-node without type-checking (PULUMI_NODEJS_TRANSPILE_ONLY)
//   type-check      the host's default: index.ts through ts-node, type-checked
//
// A real run generates the RSA key in the TLS provider's process, not in the
// program; so that the mock's key generation is not counted, every run is
// handed one throwaway key made here at start.
"use strict";
const { spawnSync } = require("node:child_process");
const { generateKeyPairSync } = require("node:crypto");
const { hostInvocation, projectDir } = require("./host.js");
const { makeApiKey } = require("../test/support/providers.js");

const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const sdkModules = ["@pulumi/pulumi", "@pulumi/tls", "@pulumi/random", "@pulumi/aws/secretsmanager", "@pulumi/aws/iam", "@pulumi/aws/kms"];

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const mockKey = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

/** @param {import("./host.js").RuntimeOverrides} [runtime] @param {Record<string, string>} [env] */
function hostRun(runtime, env = {}) {
    const invocation = hostInvocation({
        stack: "sandbox",
        config: { "qredo-partner-keys:apiKey": makeApiKey() },
        secretKeys: ["qredo-partner-keys:apiKey"],
        env: { QREDO_MOCK_RSA_KEY: mockKey, ...env },
        ...(runtime ? { runtime } : {}),
    });
    return () => time(invocation.command, invocation.args, invocation.env);
}

/** @type {Record<string, () => number>} */
const modes = {
    floor: () => time(process.execPath, ["-e", sdkModules.map((m) => `require(${JSON.stringify(m)});`).join("")], process.env),
    project: hostRun(),
    // ts-node gets the program's own compiler settings (tsconfig.build.json): tsconfig.json also
    // type-checks JavaScript (checkJs, for scripts/), which would make ts-node check client/dist.
    "transpile-only": hostRun(
        { typescript: true, main: "index.ts", tsconfig: "tsconfig.build.json" },
        { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
    ),
    // The host's default: TypeScript on, index.ts through ts-node, type-checked.
    "type-check": hostRun({ typescript: true, main: "index.ts", tsconfig: "tsconfig.build.json" }),
};

/** @param {string} command @param {string[]} args @param {NodeJS.ProcessEnv} env */
function time(command, args, env) {
    const start = process.hrtime.bigint();
    const result = spawnSync(command, args, { env, cwd: projectDir, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`);
    }
    return ms;
}

/** @param {number[]} values */
function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @type {Record<string, number[]>} */
const samples = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
require("../scripts/build.js").build(); // so that "project" measures a start, not a rebuild
for (const mode of Object.keys(modes)) {
    modes[mode](); // warm the OS file cache once, untimed
}
for (let i = 0; i < runs; i++) {
    for (const [mode, measure] of Object.entries(modes)) {
        samples[mode].push(measure());
    }
}
const floor = median(samples.floor);
console.log(`cold program start, median of ${runs} fresh processes each (ms, and times the SDK floor)`);
for (const [mode, values] of Object.entries(samples)) {
    const m = median(values);
    console.log(`  ${mode.padEnd(15)} ${m.toFixed(0).padStart(6)} ms  ${(m / floor).toFixed(2)}x`);
}
