#!/usr/bin/env node
// @ts-check
// npm run pulumi -- <pulumi arguments>: the Pulumi CLI against the same state
// as `npm run deploy` (the configured backend, else the project's local
// .pulumi-state/), with the passphrase taken the same way (from
// PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE; otherwise pulumi
// asks on the terminal itself; a relative passphrase file is the user's, from
// where they ran npm). Runs in the project folder. Exits with
// pulumi's exit code; 2 when npm kept some of pulumi's flags (no `--`), an
// argument looks like an API key, or the passphrase settings are unusable.
"use strict";
const { mkdirSync } = require("node:fs");
const { looksLikeApiKey } = require("./lib/apiKeyInput.js");
const { passphraseFileEnv } = require("./lib/backend.js");
const { CliError, PulumiCli, configuredBackend, keyOnCommandLine, localBackendDir, runMain } = require("./lib/cli.js");
const { refuseSwallowedPulumiFlags } = require("./lib/npmFlags.js");

/**
 * The stack a command creates or moves to a passphrase, or undefined: `stack
 * init` and `stack select --create` without another --secrets-provider (on a
 * self-managed backend, whose default is a passphrase), `stack
 * change-secrets-provider passphrase`.
 * @param {string[]} argv @param {string | undefined} backendUrl
 */
function createsPassphraseStack(argv, backendUrl) {
    const valueFlags = ["--stack", "-s", "--secrets-provider", "--cwd", "-C", "--color", "--config-file"];
    const positionals = argv.filter((a, i) => !a.startsWith("-") && !valueFlags.includes(argv[i - 1] ?? ""));
    const flag = (/** @type {string} */ name) => {
        const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
        return i < 0 ? undefined : argv[i].includes("=") ? argv[i].slice(argv[i].indexOf("=") + 1) : argv[i + 1];
    };
    const stack = positionals[2] ?? flag("--stack") ?? flag("-s") ?? "(the selected stack)";
    const [command, sub, provider] = positionals;
    if (command !== "stack") {
        return undefined;
    }
    if (sub === "change-secrets-provider") {
        return provider === "passphrase" ? (flag("--stack") ?? flag("-s") ?? "(the selected stack)") : undefined;
    }
    const creates = sub === "init" || (sub === "select" && argv.some((a) => a === "--create" || a === "-c"));
    const requested = flag("--secrets-provider");
    const passphrase =
        requested === undefined || requested === "default" ? !/^https?:/.test(backendUrl ?? "file:") : requested === "passphrase";
    return creates && passphrase ? stack : undefined;
}

async function main() {
    const argv = process.argv.slice(2);
    refuseSwallowedPulumiFlags(argv, process.env, 2);
    if (argv.some((a) => looksLikeApiKey(a))) {
        // In pulumi's argv it would be in the process list, and `config set` would store it where it was pointed.
        throw new CliError(
            `an argument looks like an API key; it is neither passed to pulumi nor repeated here, and nothing was run. ${keyOnCommandLine()} Give secrets on stdin, for example:\n    npm run pulumi -- config set --stack sandbox --secret apiKey < apikey`,
            2,
        );
    }
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
    // The passphrase file reaches pulumi (which runs in the project folder) as an absolute path, checked
    // as the deploy checks it; a command that creates a passphrase stack refuses an empty passphrase.
    pulumi.env = { ...pulumi.env, ...passphraseFileEnv({ newStack: createsPassphraseStack(argv, configuredBackend()), code: 2 }) };
    const result = await pulumi.runLong(argv);
    process.exitCode = result.interrupted === "SIGTERM" ? 143 : result.interrupted ? 130 : result.status;
}

runMain("pulumi", main);
