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
 * init`, `stack select --create` and `new` without another --secrets-provider
 * (on a self-managed backend, whose default is a passphrase), and `stack
 * change-secrets-provider passphrase`. The command words are found wherever
 * they are: global flags before them may take values (-v 9, --tracing URL).
 * @param {string[]} argv @param {string | undefined} backendUrl
 * @returns {import("./lib/backend.js").PassphraseTarget | undefined}
 */
function passphraseTarget(argv, backendUrl) {
    const flag = (/** @type {string[]} */ ...names) => {
        const i = argv.findIndex((a) => names.some((name) => a === name || a.startsWith(`${name}=`)));
        return i < 0 ? undefined : argv[i].includes("=") ? argv[i].slice(argv[i].indexOf("=") + 1) : argv[i + 1];
    };
    const words = argv.filter((a, i) => !a.startsWith("-") && !["-s", "--stack", "--secrets-provider"].includes(argv[i - 1] ?? ""));
    const at = words.findIndex((w) => w === "stack" || w === "new");
    if (at < 0) {
        return undefined;
    }
    const [command, sub] = words.slice(at);
    const stack =
        flag("--stack", "-s") ??
        (command === "stack" && (sub === "init" || sub === "select") ? words[at + 2] : undefined) ??
        "(the selected stack)";
    const selfManaged = !/^https?:/.test(backendUrl ?? "file:"); // where "default" means a passphrase
    if (command === "stack" && sub === "change-secrets-provider") {
        const provider = words[at + 2];
        return provider === "passphrase" || (provider === "default" && selfManaged) ? { stack, kind: "change" } : undefined;
    }
    const create = argv.some((a) => a === "--create" || a === "-c" || (a.startsWith("--create=") && !/^--create=(false|0)$/i.test(a)));
    const creates = command === "new" || (command === "stack" && (sub === "init" || (sub === "select" && create)));
    const requested = flag("--secrets-provider");
    const passphrase = requested === undefined || requested === "default" ? selfManaged : requested === "passphrase";
    return creates && passphrase ? { stack, kind: "new" } : undefined;
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
    pulumi.env = { ...pulumi.env, ...passphraseFileEnv({ target: passphraseTarget(argv, configuredBackend()), code: 2 }) };
    const result = await pulumi.runLong(argv);
    process.exitCode = result.interrupted === "SIGTERM" ? 143 : result.interrupted ? 130 : result.status;
}

if (require.main === module) {
    runMain("pulumi", main);
}

module.exports = { passphraseTarget };
