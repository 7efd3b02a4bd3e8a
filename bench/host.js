// @ts-check
// How Pulumi's Node.js language host starts this program, as data: the node
// arguments, environment and program path it derives from Pulumi.yaml. Used by
// the host-path test and by `npm run bench`, which launch bench/host-run.js
// (a stand-in for @pulumi/pulumi/cmd/run/index.js) with them.
"use strict";
const { readFileSync } = require("node:fs");
const path = require("node:path");
const YAML = require("js-yaml");

const projectDir = path.resolve(__dirname, "..");

/**
 * @typedef {{ typescript?: boolean, tsconfig?: string, main?: string }} RuntimeOverrides
 * @typedef {{ stack: string, config: Record<string, string>, secretKeys?: string[], env?: Record<string, string>, runtime?: RuntimeOverrides, projectDir?: string }} HostRun
 * @param {HostRun} run  config keys with their namespace ("qredo-partner-keys:apiKey");
 *   `runtime` replaces Pulumi.yaml's settings, to measure other configurations
 * @returns {{ command: string, args: string[], env: Record<string, string>, cwd: string }}
 */
function hostInvocation(run) {
    const dir = run.projectDir ?? projectDir;
    const project =
        /** @type {{ name: string, main?: string, runtime: string | { options?: RuntimeOverrides & { nodeargs?: string } } }} */ (
            YAML.load(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))
        );
    const options = { ...((typeof project.runtime === "object" && project.runtime.options) || {}), ...run.runtime };
    // Without `main` in Pulumi.yaml the host runs the program folder, and Node
    // resolves package.json `main` in it.
    const main = run.runtime?.main ?? project.main ?? ".";
    /** @type {Record<string, string>} */
    const env = {
        PULUMI_CONFIG: JSON.stringify(run.config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(run.secretKeys ?? []),
    };
    // The host's defaults: TypeScript on unless `typescript: false`; a tsconfig path when given.
    if (options.typescript !== false) {
        env.PULUMI_NODEJS_TYPESCRIPT = "true";
    }
    if (options.tsconfig) {
        env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    }
    const nodeArgs = options.nodeargs ? String(options.nodeargs).split(/\s+/).filter(Boolean) : [];
    return {
        command: process.execPath,
        args: [...nodeArgs, path.join(__dirname, "host-run.js"), `--project=${project.name}`, `--stack=${run.stack}`, main],
        env: { ...stripPulumiEnv(process.env), ...env, ...run.env },
        cwd: dir,
    };
}

/** @param {NodeJS.ProcessEnv} source */
function stripPulumiEnv(source) {
    /** @type {Record<string, string>} */
    const env = {};
    for (const [key, value] of Object.entries(source)) {
        if (value !== undefined && !key.startsWith("PULUMI_") && !key.startsWith("VITEST") && key !== "NODE_OPTIONS") {
            env[key] = value;
        }
    }
    return env;
}

module.exports = { hostInvocation, projectDir };
