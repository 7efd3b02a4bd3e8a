#!/usr/bin/env node
// @ts-check
// npm run pulumi -- <pulumi arguments>: the Pulumi CLI against the same state
// as `npm run deploy` (the configured backend, else the project's local
// .pulumi-state/), with the passphrase taken the same way (from
// PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE; otherwise pulumi
// asks on the terminal itself; a relative passphrase file is the user's, from
// where they ran npm). Runs in the project folder. Exits with
// pulumi's exit code; 2 when npm kept some of pulumi's flags (no `--`).
"use strict";
const { mkdirSync } = require("node:fs");
const { CliError, PulumiCli, configuredBackend, localBackendDir, runMain, userPath } = require("./lib/cli.js");
const { refuseSwallowedPulumiFlags } = require("./lib/npmFlags.js");

async function main() {
    refuseSwallowedPulumiFlags(process.argv.slice(2), process.env, 2);
    const pulumi = new PulumiCli(1);
    if (configuredBackend() === undefined) {
        if (process.env.CI) {
            throw new CliError(
                "no Pulumi backend is configured, and on CI a local one would be lost with the runner. Set PULUMI_BACKEND_URL or PULUMI_ACCESS_TOKEN.",
                2,
            );
        }
        mkdirSync(localBackendDir, { recursive: true, mode: 0o700 }); // the state holds the private keys
        pulumi.env = { PULUMI_BACKEND_URL: `file://${localBackendDir}` };
    }
    if (process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        // pulumi runs in the project folder and would resolve a relative name from there
        pulumi.env = { ...pulumi.env, PULUMI_CONFIG_PASSPHRASE_FILE: userPath(process.env.PULUMI_CONFIG_PASSPHRASE_FILE) };
    }
    const result = await pulumi.runLong(process.argv.slice(2));
    process.exitCode = result.interrupted === "SIGTERM" ? 143 : result.interrupted ? 130 : result.status;
}

runMain("pulumi", main);
