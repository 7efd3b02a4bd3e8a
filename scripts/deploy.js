#!/usr/bin/env node
// @ts-check
// npm run deploy -- <stack> [options]: one safe step from a fresh clone to a
// deployed stack and a public key file to upload; also the rotation steps.
// Plain Node.js with no dependencies, because it runs before the project's
// dependencies exist. Reference: docs/deploy.md.
//
// Order matters: every input is checked, and the stack's state read, before
// the first change (stack creation, config, `up`).
// Secrets: the API key goes to `pulumi config set --secret` on stdin, never in
// an argument; a passphrase only in the environment. Neither is ever printed.
"use strict";
const { rmSync } = require("node:fs");
const path = require("node:path");
const { CliError, PulumiCli, ensureInstalledAndBuilt, projectDir, reporter, runMain, userPath } = require("./lib/cli.js");
const { explicitKey, localKey, validKey } = require("./lib/apiKeySource.js");
const { chooseBackend, passphraseEnv, secretsProviderKind, stackFileText } = require("./lib/backend.js");
const { exit, parseOptions, stackEnvironment, usage } = require("./lib/deployOptions.js");
const { finishedMessage, immediateWarning } = require("./lib/deployMessages.js");
const { configuredKey, deployedKey, planKeyChange, unfinishedMessage } = require("./lib/keyState.js");
const { checkedPublicKey, defaultPublicKeyFile, outputProblem, writeAtomically } = require("./lib/publicKeyFile.js");

const say = reporter("deploy");
const pulumi = new PulumiCli(exit.pulumiFailed);
const apiKeyName = "qredo-partner-keys:apiKey";

/** @param {string} message */
function refuse(message) {
    return new CliError(message, exit.usage);
}

/** A path as the user would type it from where they ran npm. @param {string} file */
function displayPath(file) {
    const relative = path.relative(userPath("."), file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** @param {string} stack */
function stackExists(stack) {
    /** @type {{ name: string }[]} */
    const stacks = JSON.parse(pulumi.run(["stack", "ls", "--json"], { capture: true }).stdout || "[]");
    return stacks.some((s) => s.name === stack || s.name.endsWith(`/${stack}`));
}

/** Config (secrets masked) and outputs of an existing stack. @param {string} stack */
function readStack(stack) {
    /** @type {Record<string, { value?: unknown }>} */
    const config = JSON.parse(pulumi.run(["config", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    /** @type {Record<string, unknown>} */
    const outputs = JSON.parse(pulumi.run(["stack", "output", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    return { config, outputs };
}

/**
 * The API key to store (undefined: keep the stack's). Decided before any change.
 * @param {import("./lib/deployOptions.js").DeployOptions} options @param {boolean} hasKey
 * @param {{ value: string, source: string } | undefined} given @param {import("./lib/apiKeySource.js").RawKey | undefined} local
 * @returns {{ value: string, source: string, localFile?: string } | undefined}
 */
function chooseApiKey(options, hasKey, given, local) {
    const { stack } = options;
    if (given !== undefined) {
        if (!hasKey) {
            return given;
        }
        const stored = pulumi.run(["config", "get", "--stack", stack, "apiKey"], { capture: true }).stdout.trim();
        if (stored === given.value) {
            say(`the API key from ${given.source} is the one stack ${stack} already stores: no change`);
            return undefined;
        }
        if (!options.replaceApiKey) {
            throw refuse(
                `stack ${stack} already stores a different API key than the one from ${given.source}; nothing was changed. Replacing it is never done silently: if this key is the new one for ${stack}, run again with --replace-api-key.`,
            );
        }
        return given;
    }
    if (local !== undefined && hasKey) {
        say(
            `ignoring ./apikey: stack ${stack} already has an API key, and ./apikey is only picked up for a stack that has none. To replace ${stack}'s key with it: npm run deploy -- ${stack} --api-key-file apikey --replace-api-key`,
        );
    } else if (local !== undefined) {
        return {
            value: validKey(local, say),
            source: local.source,
            ...(local.localFile === undefined ? {} : { localFile: local.localFile }),
        };
    }
    if (!hasKey) {
        throw refuse(
            `stack ${stack} has no API key yet. Save the key from the Qredo Web App (Settings → Partner API) as ./apikey, or pass --api-key-file PATH, or set QREDO_API_KEY.`,
        );
    }
    say(`keeping the API key already stored in stack ${stack}`);
    return undefined;
}

/** @param {string[]} argv */
async function main(argv) {
    const options = parseOptions(argv, process.env);
    if (options === undefined) {
        console.log(usage);
        return;
    }
    const { stack } = options;
    const environment = stackEnvironment(stack, projectDir);
    if (!options.yes && !(process.stdin.isTTY && process.stdout.isTTY)) {
        throw refuse(
            `there is no terminal to confirm the update on. Run it in a terminal, or pass --yes to update without asking (pipelines): npm run deploy -- ${argv.join(" ")} --yes`,
        );
    }
    const outLabel = options.publicKeyOut ?? defaultPublicKeyFile(environment);
    const outFile = userPath(outLabel);
    const outProblem = outputProblem(outFile, outLabel);
    if (outProblem !== undefined) {
        throw refuse(outProblem);
    }
    const rawGiven = explicitKey(options.apiKeyFile);
    const local = rawGiven === undefined ? localKey() : undefined;
    if (options.replaceApiKey && rawGiven === undefined) {
        throw refuse("--replace-api-key needs the new key: pass --api-key-file PATH or set QREDO_API_KEY.");
    }

    pulumi.ensureInstalled(exit.noPulumiCli);
    ensureInstalledAndBuilt(say, exit.setupFailed);
    const given = rawGiven && { value: validKey(rawGiven, say), source: rawGiven.source };
    const backend = chooseBackend(say, exit.usage);
    pulumi.env = backend.env;
    const provider = secretsProviderKind(stackFileText(projectDir, stack), backend.url, options.secretsProvider);
    pulumi.stateNeedsAws = backend.url.startsWith("s3://") || provider === "awskms";
    const exists = stackExists(stack);
    if (exists && options.secretsProvider !== undefined) {
        throw refuse(
            `--secrets-provider only applies to a new stack, and stack ${stack} exists. To change it: npm run pulumi -- stack change-secrets-provider --stack ${stack} ${options.secretsProvider}`,
        );
    }
    if (provider === "passphrase") {
        pulumi.env = { ...pulumi.env, ...(await passphraseEnv({ newStack: !exists, code: exit.usage })) };
        if (environment === "production") {
            say(
                `warning: stack ${stack} protects its private key (in the state) with a passphrase only. For production use a KMS key: ${exists ? `npm run pulumi -- stack change-secrets-provider --stack ${stack} awskms://alias/NAME` : `create the stack with --secrets-provider awskms://alias/NAME`}`,
            );
        }
    }
    const { config, outputs } = exists ? readStack(stack) : { config: {}, outputs: {} };
    const from = configuredKey(stack, config);
    const step = options.promote ? "promote" : options.rotate ? (options.immediate ? "rotate-immediate" : "rotate") : "plain";
    const deployed = deployedKey(outputs);
    const to = planKeyChange({ stack, step, replacePending: options.replacePending, configured: from, deployed });
    if (step === "plain" && deployed !== undefined && from.version > deployed.version) {
        // A rotation committed to the stack file (the pipeline's way to rotate): applied as written, and said.
        say(
            `stacks/Pulumi.${stack}.yaml asks for keyVersion ${from.version} (${from.stage}); the stack runs keyVersion ${deployed.version}: this update generates a new key.`,
        );
        if (from.stage === "current") {
            say(immediateWarning(outLabel));
        }
    }
    const apiKey = chooseApiKey(options, config[apiKeyName] !== undefined, given, local);

    // ---- changes from here on
    if (!exists) {
        pulumi.run([
            "stack",
            "init",
            stack,
            ...(options.secretsProvider === undefined ? [] : ["--secrets-provider", options.secretsProvider]),
        ]);
    }
    if (apiKey !== undefined) {
        pulumi.run(["config", "set", "--stack", stack, "--secret", "apiKey"], { stdin: apiKey.value });
        say(`stored the API key from ${apiKey.source} in stack ${stack} as a secret`);
        if (apiKey.localFile !== undefined) {
            rmSync(apiKey.localFile);
            say(`removed ./apikey: the key now lives only in stack ${stack} (encrypted), so it cannot be picked up for another stack`);
        }
    }
    if (to !== undefined) {
        pulumi.run([
            "config",
            "set-all",
            "--stack",
            stack,
            "--plaintext",
            `keyVersion=${to.version}`,
            "--plaintext",
            `keyStage=${to.stage}`,
        ]);
        say(`set keyVersion ${from.version} → ${to.version}, keyStage ${from.stage} → ${to.stage} in stacks/Pulumi.${stack}.yaml`);
    }
    if (step === "rotate-immediate") {
        say(immediateWarning(outLabel));
    }

    const up = await pulumi.runLong(["up", "--stack", stack, ...(options.yes ? ["--yes"] : [])]);
    if (up.interrupted !== undefined || up.status !== 0) {
        const outcome = up.interrupted !== undefined ? `was interrupted (${up.interrupted})` : `failed or was declined (exit ${up.status})`;
        throw new CliError(
            unfinishedMessage({ stack, step, from, to, outcome }),
            up.interrupted === "SIGTERM" ? 143 : up.interrupted ? exit.interrupted : exit.pulumiFailed,
        );
    }

    const after = readStack(stack).outputs;
    const checked = checkedPublicKey(after);
    if (!checked.ok) {
        throw new CliError(`stack ${stack} ${checked.problem}`, exit.pulumiFailed);
    }
    writeAtomically(outFile, checked.pem);
    const now = deployedKey(after) ?? to ?? from;
    console.log(
        `\n${finishedMessage({ stack, environment: String(after.environment ?? environment), step, from, now, file: outFile, shownFile: displayPath(outFile), fingerprint: checked.fingerprint })}`,
    );
    if (step === "rotate-immediate") {
        say(immediateWarning(displayPath(outFile)));
    }
}

runMain("deploy", () => main(process.argv.slice(2)));
