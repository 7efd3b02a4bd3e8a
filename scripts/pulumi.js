#!/usr/bin/env node
// @ts-check
// npm run pulumi -- <pulumi arguments>: the Pulumi CLI against the same state
// as `npm run deploy` (the configured backend, else the project's local
// .pulumi-state/), with the passphrase taken the same way (from
// PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE; otherwise pulumi
// asks on the terminal itself; a relative passphrase file is the user's, from
// where they ran npm). Runs in the project folder. Exits with
// pulumi's exit code; 2 when npm kept some of pulumi's flags (no `--`), an
// argument looks like an API key, apiKey is set without --secret (or with
// `config set-all`), the passphrase settings are unusable, or the
// command is an update (`up`, `update`, `watch`, `deployment run update` or
// `remediate-drift`): updates go through npm run deploy, which checks the
// rotation and the API key first.
"use strict";
const { mkdirSync } = require("node:fs");
const { looksLikeApiKey } = require("./lib/apiKeyInput.js");
const {
    neverDeployed,
    passphraseFileEnv,
    passphraseSetting,
    refuseUnusablePassphrase,
    stackFileHoldsApiKey,
    stackFileText,
} = require("./lib/backend.js");
const { CliError, PulumiCli, configuredBackend, keyOnCommandLine, localBackendDir, projectDir, runMain } = require("./lib/cli.js");
const { actsOnAStack, commandWords, globalSwitches, refuseSwallowedPulumiFlags } = require("./lib/npmFlags.js");

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
        stackNamed(argv) ??
        (command === "stack" && (sub === "init" || sub === "select") ? words[at + 2] : undefined) ??
        "(the selected stack)";
    const selfManaged = !/^https?:/.test(backendUrl ?? "file:"); // where "default" means a passphrase
    if (command === "stack" && sub === "change-secrets-provider") {
        const provider = words[at + 2];
        return provider === "passphrase" || (provider === "default" && selfManaged) ? { stack, kind: "change" } : undefined;
    }
    // pflag spellings: --create, --create=true, -c, -c=true, and -c packed with other short flags (-cs NAME)
    const create = argv.some((a) => {
        const spelled = /^(?:--create|-[A-Za-z]*c[A-Za-z]*)(?:=(.*))?$/.exec(a);
        return spelled !== null && (spelled[1] === undefined || !/^(false|f|0)$/i.test(spelled[1]));
    });
    const creates = command === "new" || (command === "stack" && (sub === "init" || (sub === "select" && create)));
    const requested = flag("--secrets-provider");
    const passphrase = requested === undefined || requested === "default" ? selfManaged : requested === "passphrase";
    return creates && passphrase ? { stack, kind: "new" } : undefined;
}

/** The stack a command names with --stack or -s, in any of pflag's spellings. @param {string[]} argv */
function stackNamed(argv) {
    for (const [i, a] of argv.entries()) {
        if ((a === "--stack" || a === "-s") && argv[i + 1] !== undefined) {
            return argv[i + 1];
        }
        const glued = /^(?:--stack=|-s=?)(.+)$/.exec(a);
        if (glued !== null) {
            return glued[1];
        }
    }
    return undefined;
}

/**
 * With an empty passphrase set, on a self-managed backend, a command on a
 * stack whose secrets it would encrypt with it is refused: a stack that does
 * not exist (on a terminal pulumi offers to create it, for `config set`, `preview`,
 * `stack select` with no name, with a passphrase as its secrets provider), or
 * none where none is selected, or one created but never deployed. Moving a
 * stack to another secrets provider stays possible. Only then is the backend
 * asked (one `stack ls`).
 * @param {InstanceType<typeof PulumiCli>} pulumi @param {string[]} argv
 */
function refuseEmptyPassphraseStack(pulumi, argv) {
    const setting = passphraseSetting(process.env);
    const command = commandWords(argv);
    const words = command.join(" ");
    const select = words.startsWith("stack select");
    if (
        setting.source === "none" ||
        !setting.empty ||
        /^https?:/.test(configuredBackend() ?? "file:") ||
        !(actsOnAStack(argv) || select) ||
        words.startsWith("stack change-secrets-provider")
    ) {
        return;
    }
    const named = stackNamed(argv) ?? (select ? command[2] : undefined);
    /** @type {{ name: string, current?: boolean, lastUpdate?: string, resourceCount?: number }[]} */
    const stacks = JSON.parse(pulumi.run(["stack", "ls", "--json"], { capture: true }).stdout || "[]");
    const entry =
        named === undefined ? stacks.find((s) => s.current) : stacks.find((s) => s.name === named || s.name.endsWith(`/${named}`));
    if (entry === undefined) {
        const which = named === undefined ? "no stack is selected" : `stack ${named} does not exist`;
        throw new CliError(
            `the passphrase is empty and ${which}: on a terminal pulumi would offer to create one, its secrets encrypted with an empty passphrase, which protects nothing; nothing was run. Create the stack with npm run deploy -- NAME and a passphrase set, or with --secrets-provider 'awskms://alias/NAME?region=REGION'.`,
            2,
        );
    }
    if (neverDeployed(entry)) {
        const stack = entry.name.split("/").pop() ?? entry.name;
        const holdsKey = stackFileHoldsApiKey(stackFileText(projectDir, stack));
        refuseUnusablePassphrase(setting, { stack, kind: "never-deployed", holdsKey }, 2);
    }
}

/**
 * `up` (alias `update`), `watch` and `deployment run update` (or `remediate-drift`) apply the stack file as it is,
 * without the deploy's checks.
 * @param {string[]} argv
 */
function refuseUpdates(argv) {
    const words = commandWords(argv);
    const first = words[0];
    // pulumi deployment run update: the same update, run by Pulumi Deployments.
    const run = words.indexOf("run");
    // remediate-drift runs `up --refresh`: an update as well.
    const operation = run >= 0 ? words.slice(run + 1).find((w) => w === "update" || w === "remediate-drift") : undefined;
    const remote = first === "deployment" && operation !== undefined;
    const command = remote ? `deployment run ${operation}` : first;
    if (command === "up" || command === "update" || command === "watch" || remote) {
        const stack = stackNamed(argv) ?? "STACK";
        throw new CliError(
            `npm run pulumi does not run \`pulumi ${command}\`; nothing was run. It would apply stacks/Pulumi.${stack}.yaml without the deploy's checks (a keyVersion set back or skipped, an API key older than the one deployed, an immediate rotation while a key is staged), and could put a key Qredo does not accept in front of the signers. Deploy with:\n    npm run deploy -- ${stack}\nTo only see the changes: npm run pulumi -- preview --stack ${stack}`,
            2,
        );
    }
}

/**
 * Whether an argument of `config set` may name the API key: "apiKey" as a
 * word anywhere in it, so every spelling pulumi reads as that key counts
 * (qredo-partner-keys:apiKey, the legacy qredo-partner-keys:config:apiKey, and
 * with --path .apiKey, apiKey.x, ["apiKey"], qredo-partner-keys:["apiKey"]).
 * Read broadly on purpose: a flag's value or a config value with the word counts too.
 * @param {string} word
 */
const namesApiKey = (word) => /(^|[^A-Za-z0-9_])apiKey($|[^A-Za-z0-9_])/.test(word) || isApiKeySpelling(word);

/**
 * A config key that spells the API key another way (apikey, API_KEY, api-key, apiKeys): another key to
 * pulumi (the program refuses it), but its value would sit in the stack file in plain text all the same.
 * Read as `config set` reads a key: with or without a namespace (and the legacy `ns:config:`), or as a
 * --path (`.apikey`, `["apikey"]`, `apikey.inner`). Only the key's first segment counts: `tags.ApiKeyOwner` is a tag.
 * @param {string} word
 */
function isApiKeySpelling(word) {
    const first = word
        .replace(/^[^:[\]."]*:(config:)?/, "")
        .replace(/^\.|^\["?/, "")
        .split(/[.[\]"]/)[0];
    return /^api[-_]?keys?$/i.test(first);
}

/** `config set`'s own switches: flags that take no value. */
const configSetSwitches = new Set([...globalSwitches, "--secret", "--plaintext", "--path"]);

/**
 * A boolean flag as pulumi's parser (pflag) reads it: the last occurrence
 * wins, and one that follows a flag which may take a value (--profiling
 * --secret) is that flag's value, not the switch.
 * @param {string[]} argv @param {string} name @returns {boolean | undefined}
 */
function lastBoolean(argv, name) {
    /** @type {boolean | undefined} */
    let value;
    for (const [i, a] of argv.entries()) {
        const before = argv[i - 1] ?? "";
        if (before.startsWith("-") && !before.includes("=") && !configSetSwitches.has(before)) {
            continue; // the value of the flag before it
        }
        if (a === `--${name}`) {
            value = true;
        } else if (a.startsWith(`--${name}=`)) {
            value = /^(true|t|1)$/i.test(a.slice(name.length + 3));
        }
    }
    return value;
}

/**
 * `config set apiKey` without --secret would write the key in plain text into
 * the committed stack file (the program refuses it only at the next deploy);
 * `config set-all` with apiKey=VALUE puts the key on pulumi's command line.
 * @param {string[]} argv
 */
function refusePlainApiKey(argv) {
    const words = commandWords(argv);
    // config's own flags may come before set (config --stack sandbox set apiKey): their values are among the words.
    const sub = words[0] === "config" ? words.slice(1).find((w) => w === "set" || w === "set-all") : undefined;
    if (sub === undefined) {
        return;
    }
    const stack = stackNamed(argv) ?? "STACK";
    const instead = `Set it encrypted, from stdin:\n    npm run pulumi -- config set --stack ${stack} --secret apiKey < apikey`;
    if (
        sub === "set-all" &&
        // The key of each KEY=VALUE, read as config set reads a key (a tag named apiKeyOwner is no API key).
        argv.some((a) => a.includes("=") && namesApiKey(a.replace(/^--(plaintext|secret)=/, "").split("=")[0]))
    ) {
        throw new CliError(`config set-all would put the API key on pulumi's command line; nothing was run. ${instead}`, 2);
    }
    const plain = lastBoolean(argv, "secret") !== true || lastBoolean(argv, "plaintext") === true;
    if (sub === "set" && plain && argv.some((a) => !a.startsWith("-") && namesApiKey(a))) {
        throw new CliError(
            `config set apiKey without --secret would write the API key in plain text into stacks/Pulumi.${stack}.yaml, which is committed; nothing was run. ${instead}\nIf the word apiKey is only part of another setting's value (a tag, a URL), set that entry with config set-all:\n    npm run pulumi -- config set-all --stack ${stack} --path --plaintext 'KEY=VALUE'\nor edit its line in stacks/Pulumi.${stack}.yaml.`,
            2,
        );
    }
}

async function main() {
    const argv = process.argv.slice(2);
    if (argv.some((a) => looksLikeApiKey(a))) {
        // In pulumi's argv it would be in the process list, and `config set` would store it where it was pointed.
        throw new CliError(
            `an argument looks like an API key; it is neither passed to pulumi nor repeated here, and nothing was run. ${keyOnCommandLine(argv)} Give secrets on stdin, for example:\n    npm run pulumi -- config set --stack sandbox --secret apiKey < apikey`,
            2,
        );
    }
    // Before the check of flags npm kept: an update goes through the deploy, with or without them.
    refuseUpdates(argv);
    refuseSwallowedPulumiFlags(argv, process.env, 2);
    refusePlainApiKey(argv); // after the flags npm kept: a --secret npm took is named as such
    const pulumi = new PulumiCli(1);
    pulumi.ensureOnPath(3); // as the deploy and verify say it, before a local backend folder is made
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
    refuseEmptyPassphraseStack(pulumi, argv);
    const result = await pulumi.runLong(argv);
    process.exitCode = result.interrupted === "SIGTERM" ? 143 : result.interrupted ? 130 : result.status;
}

if (require.main === module) {
    runMain("pulumi", main);
}

module.exports = { passphraseTarget, refusePlainApiKey };
