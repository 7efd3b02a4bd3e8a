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
const { existsSync, readdirSync, rmSync, statSync } = require("node:fs");
const { looksLikeApiKey } = require("./lib/apiKeyInput.js");
const path = require("node:path");
const {
    CliError,
    PulumiCli,
    ensureInstalledAndBuilt,
    keyOnCommandLine,
    localBackendDir,
    projectDir,
    quote,
    reporter,
    runMain,
    userPath,
} = require("./lib/cli.js");
const { explicitKey, keyGivenAsPath, localKey, validKey } = require("./lib/apiKeySource.js");
const {
    chooseBackend,
    installedYaml,
    neverDeployed,
    passphraseEnv,
    passphraseSetting,
    secretsProviderKind,
    shownBackend,
    stackFileHoldsApiKey,
    stackFileSettings,
    stackFileText,
} = require("./lib/backend.js");
const { commandLine, exit, parseOptions, stackEnvironment, usage } = require("./lib/deployOptions.js");
const { finishedMessage, immediateWarning } = require("./lib/deployMessages.js");
const { configuredKey, deployedApiKey, deployedKey, planKeyChange, stateGeneration, unfinishedMessage } = require("./lib/keyState.js");
const { checkedPublicKey, defaultPublicKeyFile, outputProblem, writeAtomically } = require("./lib/publicKeyFile.js");

const say = reporter("deploy");
const pulumi = new PulumiCli(exit.pulumiFailed);
const apiKeyName = "qredo-partner-keys:apiKey";

/**
 * A checked API key and where it came from. localFile: ./apikey, removed once
 * the stack holds the key; unchanged: the stack already holds it (only remove).
 * @typedef {{ value: string, source: string, localFile?: string, unchanged?: boolean }} ApiKey
 */

/** @param {string} message */
function refuse(message) {
    return new CliError(message, exit.usage);
}

/** A path as the user would type it from where they ran npm. @param {string} file */
function displayPath(file) {
    const relative = path.relative(userPath("."), file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/**
 * ./apikey is looked for where npm was run: from a subfolder, say so; and name
 * a file there that may be it under another name (apikey.txt, "apikey (1)",
 * api_key): the shortest such name, never one that names the other
 * environment, a public key file, or anything a terminal would not show as
 * written.
 * @param {string} environment  the stack's
 */
function elsewhereHint(environment) {
    const here = userPath(".");
    const where = path.resolve(here) === path.resolve(projectDir) ? "" : ` ./apikey is looked for in ${here}, where you ran npm.`;
    // Words for the other environment, its short forms included: a renamed key of the other environment
    // would be stored here without a word, since nothing tells whose key a key is.
    const other = environment === "production" ? /sandbox|sbx|sand|test|dev|stag|stg/i : /production|prod|prd|live/i;
    /** @param {string} name */
    const likely = (name) =>
        /^api[-_ ]?key/i.test(name) &&
        name !== "apikey" &&
        name.length <= 40 &&
        /^[\x20-\x7e]+$/.test(name) &&
        !/\.(pub|pem)$/i.test(name) &&
        !other.test(name) &&
        !looksLikeApiKey(name);
    let near;
    try {
        near = readdirSync(here, { withFileTypes: true })
            .filter((e) => e.isFile() && likely(e.name))
            .map((e) => e.name)
            .sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
    } catch {
        near = undefined;
    }
    // Renamed to apikey it is deleted once stored, as ./apikey always is.
    return near === undefined
        ? where
        : `${where} There is ${quote(near)}: if it holds the ${environment} API key (each environment has its own; a leftover key file of another stack looks the same), rename it: mv ${quote(near)} apikey`;
}

/**
 * Run from a subfolder, ./apikey is that folder's: an apikey left in the project
 * folder would escape every check (taken by the next new stack run from there).
 * Refused, unless it is the key file given.
 * @param {import("./lib/apiKeySource.js").RawKey | undefined} given
 * @param {string} rerun  the command to run from the project folder
 */
function refuseRootKeyFromSubfolder(given, rerun) {
    const rootKey = path.join(projectDir, "apikey");
    if (path.resolve(userPath(".")) === path.resolve(projectDir) || !existsSync(rootKey)) {
        return;
    }
    if (given !== undefined && given.source !== "$QREDO_API_KEY" && path.resolve(userPath(given.source)) === rootKey) {
        return;
    }
    throw refuse(
        `there is an apikey file in the project folder (${rootKey}), and ${process.env.INIT_CWD === undefined ? "the deploy" : "npm"} ran in ${userPath(".")}, where ./apikey is looked for: that file would be neither used nor checked. Run from the project folder: cd ${quote(projectDir)} && ${rerun} (or remove it, if it is a leftover).`,
    );
}

/** @typedef {{ name: string, lastUpdate?: string, resourceCount?: number }} StackEntry */

/** The stacks in the backend. @returns {StackEntry[]} */
function listStacks() {
    return JSON.parse(pulumi.run(["stack", "ls", "--json"], { capture: true }).stdout || "[]");
}

/** @param {StackEntry[]} stacks @param {string} stack */
function stackEntry(stacks, stack) {
    return stacks.find((s) => s.name === stack || s.name.endsWith(`/${stack}`));
}

/**
 * A stack must not take another environment's API key: nothing in a key tells a sandbox key from a production one,
 * but the other stacks in this backend hold theirs. Each is read if it can be without a prompt (its secrets
 * provider reachable, its passphrase the one set); one that cannot be read is said to be passed over.
 * @param {StackEntry[]} stacks @param {string} stack @param {string} environment @param {ApiKey} apiKey @param {string} backendUrl
 */
function refuseOtherEnvironmentsKey(stacks, stack, environment, apiKey, backendUrl) {
    for (const other of stacks.map((s) => s.name.split("/").pop() ?? s.name).filter((name) => name !== stack)) {
        let otherEnvironment;
        try {
            otherEnvironment = stackEnvironment(other, projectDir);
        } catch {
            continue; // a stack this deploy could not deploy either
        }
        if (otherEnvironment === environment) {
            continue; // two stacks of one environment may share its key
        }
        const otherFile = stackFileText(projectDir, other);
        if (!stackFileHoldsApiKey(otherFile)) {
            continue; // no key to compare with (a stack file of its own elsewhere is not read here either)
        }
        const aws = secretsProviderKind(otherFile, backendUrl, undefined) === "awskms";
        const read = pulumi.run(["config", "get", "--stack", other, "apiKey"], { capture: true, stdin: "", quiet: true, aws });
        if (read.status !== 0) {
            say(
                `could not compare this API key with stack ${other}'s (${otherEnvironment}): its secrets could not be read without asking, or in time (another passphrase, a KMS key out of reach). Make sure ${apiKey.source} holds the ${environment} key.`,
            );
            continue;
        }
        if (read.stdout.trim() === apiKey.value) {
            throw refuse(
                `the API key from ${apiKey.source} is the one stack ${other} (${otherEnvironment}) stores; stack ${stack} is ${environment}, and the two environments have separate keys. Nothing was changed. Generate or copy the ${environment} key in the Qredo Web App (your ${environment} account → Settings → Partner API) and give it to this stack instead.`,
            );
        }
    }
}

/** Config (secrets masked) and outputs of an existing stack. @param {string} stack */
function readStack(stack) {
    /** @type {Record<string, { value?: unknown, secret?: boolean }>} */
    const config = JSON.parse(pulumi.run(["config", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    /** @type {Record<string, unknown>} */
    const outputs = JSON.parse(pulumi.run(["stack", "output", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    return { config, outputs };
}

/**
 * From the stack's state: the keyVersion of the key generation (outputs are
 * written only when `up` succeeds, the state also after a failed one), and the
 * API key last deployed. Only those two are read; the export, decrypted to
 * read the API key, is never printed.
 * @param {string} stack
 */
function readState(stack) {
    const exported = pulumi.run(["stack", "export", "--stack", stack, "--show-secrets"], { capture: true }).stdout;
    try {
        JSON.parse(exported || "{}");
    } catch {
        // The parser's message quotes the text around the fault, and this text holds decrypted secrets.
        throw new CliError(
            `\`pulumi stack export --stack ${stack}\` printed something that is not JSON (not shown: it holds the stack's secrets); nothing was changed. Run again; if it persists, update the Pulumi CLI.`,
            exit.pulumiFailed,
        );
    }
    return { keyVersion: stateGeneration(exported), apiKey: deployedApiKey(exported) };
}

/**
 * An API key never goes backwards. When this run stores no new key, the stack
 * file's key must be the one last deployed: one that differs means the file is
 * older than the deployment (a key replaced elsewhere, its stack file change
 * not pulled), or holds a replacement whose `up` never finished. Deploying it
 * would put that key in front of signers, so only --replace-api-key does.
 * @param {import("./lib/deployOptions.js").DeployOptions} options @param {ApiKey | undefined} apiKey
 * @param {string | undefined} deployed  the API key in the state
 */
function checkApiKeyNotBehind(options, apiKey, deployed) {
    const { stack } = options;
    if (apiKey !== undefined && !apiKey.unchanged) {
        return; // this run stores a key of its own
    }
    const inFile =
        deployed === undefined ? undefined : pulumi.run(["config", "get", "--stack", stack, "apiKey"], { capture: true }).stdout.trim();
    const differs = deployed !== undefined && inFile !== deployed.trim();
    if (differs && !options.replaceApiKey) {
        throw refuse(
            `stacks/Pulumi.${stack}.yaml holds a different API key than the one stack ${stack} last deployed; nothing was changed. Usually this copy of the stack file is older than the deployment: the key was replaced on another machine or in the pipeline, and that change to the stack file was not committed or pulled. Deploying it would put the older key back in front of signers, and Qredo may no longer accept it. Get the current stack file (git pull), then run again. Only if this file holds the key you mean to deploy (a --replace-api-key whose pulumi up failed or was declined), finish that: npm run deploy -- ${stack} --replace-api-key`,
        );
    }
    if (differs) {
        say(`deploying the API key in stacks/Pulumi.${stack}.yaml in place of the one stack ${stack} last deployed (--replace-api-key)`);
    } else if (options.replaceApiKey && (apiKey === undefined || (apiKey.unchanged === true && apiKey.localFile === undefined))) {
        throw refuse(
            `--replace-api-key needs the new key: pass --api-key-file PATH (on CI, QREDO_API_KEY).${deployed === undefined ? "" : ` The key in stacks/Pulumi.${stack}.yaml is already the one deployed: to deploy without replacing it, run without --replace-api-key.`}`,
        );
    }
}

/**
 * The file the deploy removes once the key is stored (./apikey) must not be
 * the passphrase file: the stack's secrets would be encrypted with a
 * passphrase whose only copy the deploy then deletes.
 * @param {string | undefined} keyFile
 */
function refusePassphraseInKeyFile(keyFile) {
    const setting = passphraseSetting(process.env);
    if (keyFile === undefined || setting.source !== "file") {
        return;
    }
    const same = (() => {
        try {
            const [a, b] = [statSync(keyFile), statSync(setting.file)];
            return a.dev === b.dev && a.ino === b.ino;
        } catch {
            return false; // unreadable: the passphrase check reports it
        }
    })();
    if (same) {
        throw refuse(
            `PULUMI_CONFIG_PASSPHRASE_FILE names ./apikey, the API key file, which the deploy removes once the key is stored: the stack's secrets would be encrypted with a passphrase whose only copy is gone; nothing was changed. Keep the passphrase in a file of its own (outside the project), point PULUMI_CONFIG_PASSPHRASE_FILE at it, and run again.`,
        );
    }
}

/**
 * A deployed stack keeps its environment: the secrets' names and their
 * protection derive from it, so another one would replace the secrets (and
 * the read policy) signers use with new ones under the other environment.
 * @param {string} stack @param {string} environment  the stack file's @param {unknown} deployed  the deployed output
 */
function refuseEnvironmentChange(stack, environment, deployed) {
    if (typeof deployed === "string" && deployed !== environment) {
        throw refuse(
            `stack ${stack} was deployed as environment ${deployed}, and stacks/Pulumi.${stack}.yaml now says ${environment}; nothing was changed. A deployed stack keeps its environment: the secrets' names and protection derive from it, so this would replace the ${deployed} secrets and read policy that signers use with new ones. Set environment back to ${deployed} in stacks/Pulumi.${stack}.yaml; for ${environment} credentials, deploy a stack of their own (npm run deploy -- ${environment}).`,
        );
    }
}

/**
 * A deployed stack keeps its secrets. Their names derive from secretNamePrefix
 * and the environment, their ARNs from the region too, and other ones make
 * pulumi replace both secrets: the new private key secret would hold only the
 * newest key (Secrets Manager makes a secret's first version AWSCURRENT, a staged
 * key's too), the old one, with the key Qredo accepts and the AWSPREVIOUS key,
 * would be deleted, and signers reading the old ARNs would lose access.
 * The settings are read as pulumi reads them (`pulumi config --json`, which
 * also takes the older `qredo-partner-keys:config:NAME` spelling); none of the new
 * values is quoted (a pasted key would be), only what the stack deployed.
 * @param {string} stack @param {string} environment  the stack file's, as the deploy read it
 * @param {{ config: Record<string, { value?: unknown, secret?: boolean }>, outputs: Record<string, unknown> }} current
 */
function refuseSecretsMoved(stack, environment, { config, outputs }) {
    const setting = (/** @type {string} */ name) => config[`qredo-partner-keys:${name}`];
    const pulumiEnvironment = setting("environment");
    if (pulumiEnvironment !== undefined && !pulumiEnvironment.secret && pulumiEnvironment.value !== environment) {
        throw refuse(
            `pulumi reads another environment than ${environment} from stacks/Pulumi.${stack}.yaml, where the deploy found ${environment}; nothing was changed. Write the setting on one line as it is documented, qredo-partner-keys:environment: ${environment} (not the older qredo-partner-keys:config:environment spelling), with no second one, then run again.`,
        );
    }
    const { defaults, secretNames } = require(path.join(projectDir, "bin", "src", "environments.js"));
    const deployedName = outputs.privateKeySecretName;
    const prefix = setting("secretNamePrefix");
    const suffix = `/${environment}/private-key`;
    if (typeof deployedName === "string" && deployedName.endsWith(suffix) && !prefix?.secret) {
        const names = secretNames(prefix?.value ?? defaults.secretNamePrefix, environment);
        if (
            names.privateKey !== deployedName ||
            (typeof outputs.apiKeySecretName === "string" && names.apiKey !== outputs.apiKeySecretName)
        ) {
            const deployedPrefix = deployedName.slice(0, -suffix.length);
            throw refuse(
                `stack ${stack} keeps its keys in the secrets ${deployedName} and ${String(outputs.apiKeySecretName)}, and stacks/Pulumi.${stack}.yaml now gives them other names (another secretNamePrefix, or none); nothing was changed. A deployed stack keeps its secrets: new names would replace both, the new one holding only the newest key (as AWSCURRENT, even a staged one), the old ones, with the key Qredo accepts, deleted, and signers reading the old ARNs locked out. Set it back:\n    npm run pulumi -- config set --stack ${stack} secretNamePrefix ${deployedPrefix}\nFor secrets under another name, deploy a stack of their own.`,
            );
        }
    }
    const deployedRegion = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(String(outputs.privateKeySecretArn))?.[1];
    if (deployedRegion === undefined) {
        return;
    }
    // As the provider takes it: aws:region (read with pulumi config get when set with --secret), else the environment.
    // A region from an AWS profile alone is not seen here.
    const regionSetting = config["aws:region"];
    const fromEnv = process.env.AWS_REGION ? "AWS_REGION" : process.env.AWS_DEFAULT_REGION ? "AWS_DEFAULT_REGION" : undefined;
    const region =
        regionSetting === undefined
            ? fromEnv && process.env[fromEnv]
            : regionSetting.secret
              ? pulumi.run(["config", "get", "--stack", stack, "aws:region"], { capture: true }).stdout.trim()
              : regionSetting.value;
    if (typeof region === "string" && region !== deployedRegion) {
        const where =
            regionSetting === undefined ? `${fromEnv} names another region` : `stacks/Pulumi.${stack}.yaml sets another aws:region`;
        throw refuse(
            `stack ${stack} keeps its keys in ${deployedRegion}, and ${where}; nothing was changed. A deployed stack keeps its region: another one would replace both secrets there, the new private key secret holding only the newest key (as AWSCURRENT, even a staged one), the old ones, with the key Qredo accepts, deleted, and signers reading the old ARNs locked out. For copies in other regions, use replicaRegions. State the stack's region in its stack file (it wins over ${fromEnv ?? "AWS_REGION"}), then run again:\n    npm run pulumi -- config set --stack ${stack} aws:region ${deployedRegion}`,
        );
    }
}

/**
 * The key a stack holds: the one in its stack file, else the one its state
 * last deployed (a stack file copy that lost its apiKey still belongs to a
 * stack with a key: any other key replaces that one only with --replace-api-key).
 * @typedef {{ inStackFile: boolean, value: () => string }} StoredKey
 * @param {string} stack @param {Record<string, unknown>} config @param {string | undefined} deployed  the API key in the state
 * @returns {StoredKey | undefined}
 */
function storedKey(stack, config, deployed) {
    if (config[apiKeyName] !== undefined) {
        return {
            inStackFile: true,
            value: () => pulumi.run(["config", "get", "--stack", stack, "apiKey"], { capture: true }).stdout.trim(),
        };
    }
    return deployed === undefined ? undefined : { inStackFile: false, value: () => deployed.trim() };
}

/**
 * The API key to store (undefined: keep the stack's). Decided before any change.
 * @param {import("./lib/deployOptions.js").DeployOptions} options @param {StoredKey | undefined} stored
 * @param {ApiKey | undefined} given @param {import("./lib/apiKeySource.js").RawKey | undefined} local
 * @param {string} environment  the stack's
 * @returns {ApiKey | undefined}
 */
function chooseApiKey(options, stored, given, local, environment) {
    const { stack } = options;
    const hasKey = stored !== undefined;
    const restoring = `stacks/Pulumi.${stack}.yaml has no apiKey, but stack ${stack} deployed one (commit the file after this deploy): storing`;
    if (given !== undefined) {
        if (options.replaceApiKey && given.source === "$QREDO_API_KEY" && !process.env.CI) {
            // The same leftover, replacing the key of a stack that has one: one environment's key in the other.
            throw refuse(
                `QREDO_API_KEY is set, and outside CI it does not replace a stored key: it may be another stack's key left over in this shell. Save ${stack}'s new key from the Qredo Web App in a file and pass it: npm run deploy -- ${stack} --api-key-file PATH --replace-api-key (and unset QREDO_API_KEY).`,
            );
        }
        if (!hasKey && given.source === "$QREDO_API_KEY" && !process.env.CI) {
            // Outside CI the variable may be left over from a deploy of another stack in this shell.
            throw refuse(
                `stack ${stack} has no API key yet, and QREDO_API_KEY is set: outside CI it is not taken for a stack that has no key, since it may be another stack's key left over in this shell. Save ${stack}'s key from the Qredo Web App in a file and pass it: npm run deploy -- ${stack} --api-key-file PATH (or unset QREDO_API_KEY and save it as ./apikey).`,
            );
        }
        if (local !== undefined && given.localFile === undefined) {
            // ./apikey next to a key given another way: never left behind for the next new stack.
            if (validKey(local, say) !== given.value) {
                throw refuse(
                    `./apikey exists and holds a different key than the one from ${given.source}; nothing was changed. ./apikey is taken only by a stack that has no key yet, so left in place it would end up in the next one: if it is another stack's key, deploy that stack with it (npm run deploy -- STACK), otherwise remove it (rm apikey).`,
                );
            }
            given = { ...given, localFile: /** @type {string} */ (local.localFile) };
        }
        if (!hasKey) {
            return given;
        }
        if (stored.value() === given.value) {
            if (!stored.inStackFile && options.replaceApiKey) {
                throw refuse(
                    `the key from ${given.source} is the one stack ${stack} deployed: there is nothing to replace; nothing was changed. Run again without --replace-api-key, which stores that key in stacks/Pulumi.${stack}.yaml again.`,
                );
            }
            if (!stored.inStackFile) {
                say(`${restoring} the same key again, from ${given.source}`);
                return given;
            }
            say(`the API key from ${given.source} is the one stack ${stack} already stores: no change`);
            // Nothing to store, but ./apikey must still go (left in place, the next new stack would take it), and a
            // file named with --api-key-file is said to be left where it is.
            return given.localFile === undefined && given.source === "$QREDO_API_KEY" ? undefined : { ...given, unchanged: true };
        }
        if (!options.replaceApiKey) {
            // Outside CI, QREDO_API_KEY never replaces a key (see above): the way that works is a file.
            const again =
                given.source === "$QREDO_API_KEY" && !process.env.CI
                    ? `save it in a file and run again with it: npm run deploy -- ${stack} --api-key-file PATH --replace-api-key (and unset QREDO_API_KEY)`
                    : "run again with --replace-api-key";
            throw refuse(
                `stack ${stack} already stores a different API key than the one from ${given.source}; nothing was changed. Replacing it is never done silently: only if you regenerated ${stack}'s key in the Qredo Web App and this is that key, ${again}. If it may be another stack's key, do not.`,
            );
        }
        return given;
    }
    if (local !== undefined && hasKey) {
        // The key this stack stores: nothing to store, and ./apikey goes, as with --api-key-file apikey.
        const value = validKey(local, () => undefined);
        if (stored.value() === value) {
            if (!stored.inStackFile) {
                say(`${restoring} the same key again, from ./apikey`);
                return { value, source: local.source, localFile: /** @type {string} */ (local.localFile) };
            }
            say(`the API key in ./apikey is the one stack ${stack} already stores: no change`);
            return { value, source: local.source, localFile: /** @type {string} */ (local.localFile), unchanged: true };
        }
        // Left in place it would be picked up by the next stack that has no key (production, say).
        throw refuse(
            `./apikey holds a different API key than the one stack ${stack} stores, and ./apikey is only taken for a stack that has none; nothing was changed. If it is another stack's key, deploy that stack with it (npm run deploy -- STACK), or remove it (rm apikey). Only if you regenerated ${stack}'s key in the Qredo Web App and ./apikey is that key, replace the stored one: npm run deploy -- ${stack} --api-key-file apikey --replace-api-key`,
        );
    }
    if (local !== undefined) {
        return {
            value: validKey(local, say),
            source: local.source,
            ...(local.localFile === undefined ? {} : { localFile: local.localFile }),
        };
    }
    if (!hasKey) {
        throw refuse(
            `stack ${stack} has no API key yet. Save ${stack}'s key from the Qredo Web App (Settings → Partner API) as ./apikey, or pass --api-key-file PATH (on CI, QREDO_API_KEY is taken too).${elsewhereHint(environment)}`,
        );
    }
    if (!stored.inStackFile) {
        throw refuse(
            `stacks/Pulumi.${stack}.yaml has no apiKey, but stack ${stack} has deployed one; nothing was changed. Usually this copy of the stack file is older than the stack's first deploy, or the line was removed: get the current stack file (git pull), then run again. ${options.replaceApiKey ? "--replace-api-key needs the new key: pass --api-key-file PATH (on CI, QREDO_API_KEY)." : `To store the deployed key again, pass it: npm run deploy -- ${stack} --api-key-file PATH (a different key only with --replace-api-key).`}`,
        );
    }
    return undefined; // the stack's own key, once checkApiKeyNotBehind has seen it is the deployed one
}

/**
 * The settings a new stack starts from: its stack file's. A file that already
 * holds what only a deployed stack has means the stack lives in another
 * backend: creating it here would store a second key over the committed one.
 * @param {string} stack @param {string} backendUrl
 */
function newStackSettings(stack, backendUrl) {
    const { config, deployedElsewhere } = stackFileSettings(stackFileText(projectDir, stack), stack);
    if (deployedElsewhere.length > 0) {
        throw refuse(
            `stack ${stack} does not exist in the backend ${shownBackend(backendUrl)}, but stacks/Pulumi.${stack}.yaml already holds ${deployedElsewhere.join(" and ")}: it was deployed with another backend. Nothing was changed. Point the deploy at that backend (PULUMI_BACKEND_URL, or pulumi login), then run again. To start this stack afresh here instead, remove those entries from the stack file first.`,
        );
    }
    return { config, outputs: {} };
}

/**
 * Without --yes pulumi asks before it updates, and needs a terminal on both
 * ends to do so. The suggested command is rebuilt from the parsed options
 * (quoted), never from argv: a key pasted in place of a path stays out of it.
 * @param {import("./lib/deployOptions.js").DeployOptions} options
 */
function checkTerminal(options) {
    if (options.yes || (process.stdin.isTTY && process.stdout.isTTY)) {
        return;
    }
    const withYes = commandLine(options, ["--yes"]);
    if (process.stdin.isTTY) {
        throw refuse(
            `stdout is not a terminal (is the output piped, e.g. into tee?), and pulumi needs one to ask for confirmation. Run it without the pipe, or pass --yes to update without asking: ${withYes}`,
        );
    }
    throw refuse(
        `there is no terminal to confirm the update on. Run it in a terminal, or pass --yes to update without asking (pipelines): ${withYes}`,
    );
}

/**
 * The key state to set (or undefined), after checking the step against the
 * stack file and what is deployed (outputs and state); says what it applies.
 * @param {import("./lib/deployOptions.js").DeployOptions} options @param {Record<string, { value?: unknown, secret?: boolean }>} config
 * @param {import("./lib/keyState.js").DeployedKey | undefined} deployed @param {string} outLabel
 */
function planKey(options, config, deployed, outLabel) {
    const { stack } = options;
    const from = configuredKey(stack, config);
    /** @type {import("./lib/keyState.js").Step} */
    const step = options.promote ? "promote" : options.rotate ? (options.immediate ? "rotate-immediate" : "rotate") : "plain";
    const { immediate, replacePending } = options;
    const to = planKeyChange({ stack, step, replacePending, immediate, configured: from, deployed });
    // After an update that stopped part way, the stack still runs what its outputs say.
    const runs = deployed?.unfinished ? deployed.outputVersion : deployed?.version;
    const rising = step === "plain" && runs !== undefined && from.version > runs;
    if (rising) {
        // A rotation committed to the stack file (the pipeline's way to rotate): applied as written, and said.
        say(
            `stacks/Pulumi.${stack}.yaml asks for keyVersion ${from.version} (${from.stage}); the stack runs keyVersion ${runs}: this update ${deployed?.unfinished ? "finishes generating" : "generates"} a new key.`,
        );
    }
    const immediateNow = (rising && from.stage === "current") || step === "rotate-immediate";
    if (immediateNow && replacePending) {
        say(
            `warning: the discarded staged key's version keeps its AWSPENDING label in Secrets Manager (this update does not remove it): if you have not taken it off, do it now, or signers on @qredo-partner-keys/client fall back to it: aws secretsmanager update-secret-version-stage --secret-id ARN --region REGION --version-stage AWSPENDING --remove-from-version-id VERSION_ID (REGION: the one in the ARN)`,
        );
    }
    if (immediateNow) {
        say(immediateWarning(outLabel));
    }
    if (step === "promote") {
        // Signers on AWSCURRENT, the client's fallback (AWSPENDING) gone: a key Qredo does not have fails them all.
        say(
            `promote only once Qredo has the staged key (${outLabel} uploaded): from this update on, signers use it and nothing else. npm run verify -- ${stack} --live says whether Qredo accepts it.`,
        );
    }
    const finish = `npm run deploy -- ${stack}${immediate ? " --immediate" : ""}${replacePending ? " --replace-pending" : ""}`;
    return { step, from, to, rising, runs, again: finish };
}

/** @param {string[]} argv */
async function main(argv) {
    const options = parseOptions(argv, process.env);
    if (options === undefined) {
        console.log(usage);
        return;
    }
    const { stack } = options;
    if (options.apiKeyFile !== undefined && !keyGivenAsPath(options.apiKeyFile)) {
        throw refuse(
            `the value of --api-key-file is not a file and looks like the API key itself; it is not repeated here. Save the key in a file and pass that file's path: --api-key-file PATH. ${keyOnCommandLine(argv)}`,
        );
    }
    const environment = stackEnvironment(stack, projectDir);
    const outLabel = options.publicKeyOut ?? defaultPublicKeyFile(stack, environment);
    const outFile = userPath(outLabel);
    const outProblem = outputProblem(outFile, outLabel, options.publicKeyOut !== undefined);
    if (outProblem !== undefined) {
        throw refuse(outProblem);
    }
    const rawGiven = explicitKey(options.apiKeyFile);
    const local = rawGiven?.localFile === undefined ? localKey() : undefined;
    // Paths the user typed are theirs, from the subfolder: absolute in the command to run from the project.
    const fromProject = {
        ...options,
        ...(options.apiKeyFile === undefined ? {} : { apiKeyFile: userPath(options.apiKeyFile) }),
        ...(options.publicKeyOut === undefined ? {} : { publicKeyOut: userPath(options.publicKeyOut) }),
    };
    refuseRootKeyFromSubfolder(rawGiven, commandLine(fromProject));
    refusePassphraseInKeyFile(rawGiven?.localFile ?? local?.localFile);
    if (options.replaceApiKey && rawGiven === undefined && local !== undefined) {
        // Only a key named on purpose replaces a stored one; ./apikey alone may be a leftover.
        throw refuse(
            `--replace-api-key takes the new key from --api-key-file: npm run deploy -- ${stack} --api-key-file apikey --replace-api-key`,
        );
    }

    pulumi.ensureInstalled(exit.noPulumiCli); // first of the prerequisites: without it, --yes would not help
    checkTerminal(options);
    await ensureInstalledAndBuilt(say, exit.setupFailed);
    // Before the install the stack file may have been read from its plain `key: value` lines alone;
    // from here on it is read as YAML, with js-yaml 5, or not at all.
    if (installedYaml(projectDir) === undefined) {
        throw new CliError(
            "node_modules has no js-yaml 5, which the deploy reads stack files with: the install is older than package.json or incomplete, though it looks current. Nothing was changed. Run npm ci, then run again.",
            exit.setupFailed,
        );
    }
    const readAsYaml = stackEnvironment(stack, projectDir);
    if (readAsYaml !== environment) {
        throw refuse(
            `stacks/Pulumi.${stack}.yaml says environment ${readAsYaml}, read as YAML now that the dependencies are installed. Before they were, it could only be read line by line, which gave ${environment} (a plain \`key: value\` line, or the stack's name when none was found). Nothing was changed: run the same command again.`,
        );
    }
    /** @type {ApiKey | undefined} */
    const given = rawGiven && {
        value: validKey(rawGiven, say),
        source: rawGiven.source,
        ...(rawGiven.localFile === undefined ? {} : { localFile: rawGiven.localFile }),
    };
    const backend = chooseBackend(say, exit.usage);
    pulumi.env = backend.env;
    const provider = secretsProviderKind(stackFileText(projectDir, stack), backend.url, options.secretsProvider);
    pulumi.stateNeedsAws = backend.url.startsWith("s3://") || provider === "awskms";
    const stacks = listStacks();
    const entry = stackEntry(stacks, stack);
    const exists = entry !== undefined;
    if (exists && options.secretsProvider !== undefined) {
        throw refuse(
            `--secrets-provider only applies to a new stack, and stack ${stack} exists. To change it: npm run pulumi -- stack change-secrets-provider --stack ${stack} ${quote(options.secretsProvider)}`,
        );
    }
    /**
     * The step and the API key, checked against the stack's settings and what is deployed.
     * @param {{ config: Record<string, { value?: unknown, secret?: boolean }> }} settings @param {import("./lib/keyState.js").DeployedKey | undefined} deployed
     * @param {string} [deployedApiKey]  the API key in the state
     */
    const settle = ({ config }, deployed, deployedApiKey) => ({
        plan: planKey(options, config, deployed, outLabel),
        apiKey: chooseApiKey(options, storedKey(stack, config, deployedApiKey), given, local, environment),
    });
    // A new stack needs nothing from the backend for that: it is settled before the passphrase
    // prompt, so a bad ./apikey or stack file is refused before the user types anything.
    const settledNew = exists ? undefined : { ...settle(newStackSettings(stack, backend.url), undefined), outputsBefore: undefined };
    const settleExisting = () => {
        const current = readStack(stack);
        refuseEnvironmentChange(stack, environment, current.outputs.environment);
        refuseSecretsMoved(stack, environment, current);
        const state = readState(stack);
        const settled = settle(current, deployedKey(current.outputs, state.keyVersion), state.apiKey);
        checkApiKeyNotBehind(options, settled.apiKey, state.apiKey);
        if (settled.apiKey === undefined && !options.replaceApiKey) {
            say(`keeping the API key already stored in stack ${stack}`);
        }
        return { ...settled, outputsBefore: current.outputs };
    };
    const kmsAdvice = () => {
        if (provider !== "passphrase" || environment !== "production") {
            return;
        }
        const kms = "'awskms://alias/NAME?region=REGION'";
        const move = `npm run pulumi -- stack change-secrets-provider --stack ${stack} ${kms}`;
        const prompted = passphraseSetting(process.env).source === "none";
        const when = !prompted
            ? `(this run creates it with the passphrase set; to move it to KMS later: ${move})`
            : process.stdin.isTTY
              ? "(nothing is created yet: to do that, stop at the passphrase prompt with Ctrl-C)"
              : "(nothing is created yet)";
        say(
            `warning: stack ${stack} protects its private key (in the state) with a passphrase only. For production use a KMS key: ${exists ? move : `create the stack with --secrets-provider ${kms} ${when}`}`,
        );
    };
    // A new stack's checks passed already: the advice comes before its passphrase is asked for and anything is created.
    if (!exists) {
        kmsAdvice();
    }
    if (provider === "passphrase") {
        pulumi.env = {
            ...pulumi.env,
            ...(await passphraseEnv({
                stack,
                newStack: !exists,
                neverDeployed: exists && neverDeployed(entry),
                holdsKey: stackFileHoldsApiKey(stackFileText(projectDir, stack)),
                code: exit.usage,
            })),
        };
    }
    const settled = settledNew ?? settleExisting();
    const { plan, apiKey } = settled;
    if (apiKey !== undefined && !apiKey.unchanged) {
        refuseOtherEnvironmentsKey(stacks, stack, environment, apiKey, backend.url);
    }
    // Once the checks passed: a refused deploy (a changed environment, say) gets no advice about its secrets provider.
    if (exists) {
        kmsAdvice();
    }
    const { step, from, to, rising, runs, again } = plan;

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
        if (!apiKey.unchanged) {
            pulumi.run(["config", "set", "--stack", stack, "--secret", "apiKey"], { stdin: apiKey.value });
            say(`stored the API key from ${apiKey.source} in stack ${stack} as a secret`);
        }
        if (apiKey.localFile === undefined && apiKey.source !== "$QREDO_API_KEY") {
            // Only ./apikey is removed; a key file named with --api-key-file stays, and would look like anyone's key later.
            say(
                `left ${quote(apiKey.source)} where it is (--api-key-file): delete it once you no longer need it, so it is not taken for another environment's key later`,
            );
        }
        if (apiKey.localFile !== undefined) {
            rmSync(apiKey.localFile);
            const shown = displayPath(apiKey.localFile);
            say(
                `removed ${path.isAbsolute(shown) ? shown : `./${shown}`}: the key now lives only in stack ${stack} (encrypted), so it cannot be picked up for another stack`,
            );
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
        const changed = [
            ...(from.version === to.version ? [] : [`keyVersion ${from.version} → ${to.version}`]),
            ...(from.stage === to.stage ? [] : [`keyStage ${from.stage} → ${to.stage}`]),
        ];
        say(`set ${changed.join(", ")} in stacks/Pulumi.${stack}.yaml`);
    }

    const up = await pulumi.runLong(["up", "--stack", stack, ...(options.yes ? ["--yes"] : [])]);
    if (up.interrupted !== undefined || up.status !== 0) {
        const outcome = up.interrupted !== undefined ? `was interrupted (${up.interrupted})` : `failed or was declined (exit ${up.status})`;
        throw new CliError(
            unfinishedMessage({
                stack,
                step,
                from,
                to,
                outcome,
                // Until its up succeeds, a replaced key in the stack file differs from the deployed one: finishing takes the flag.
                again: options.replaceApiKey ? `${again} --replace-api-key` : again,
                rising,
                apiKeyStored: apiKey !== undefined && !apiKey.unchanged,
            }),
            up.interrupted === "SIGTERM" ? 143 : up.interrupted ? exit.interrupted : exit.pulumiFailed,
        );
    }

    const after = readStack(stack).outputs;
    const checked = checkedPublicKey(after);
    if (!checked.ok) {
        throw new CliError(`stack ${stack} ${checked.problem}`, exit.pulumiFailed);
    }
    const before = settled.outputsBefore;
    if (
        before?.publicKeyFingerprintSha256 !== undefined &&
        after.keyVersion !== before.keyVersion &&
        after.publicKeyFingerprintSha256 === before.publicKeyFingerprintSha256
    ) {
        // A stack deployed before the key recorded its generation (replacementTrigger), whose update stopped between
        // the new RandomId and the new key: running it again moved keyVersion on and kept the old key.
        const next =
            after.keyStage === "pending"
                ? `npm run deploy -- ${stack} --rotate --replace-pending`
                : `npm run deploy -- ${stack} --rotate (or, if the key must stop working now, npm run deploy -- ${stack} --rotate --immediate)`;
        throw new CliError(
            `stack ${stack} now says keyVersion ${String(after.keyVersion)}, but its private key is still keyVersion ${String(before.keyVersion)}'s (the same fingerprint): this update did not replace it, which happens when an earlier update of it stopped part way. Nothing changed for signers or Qredo, and ${displayPath(outFile)} was not written. Generate the new key now: ${next}`,
            exit.pulumiFailed,
        );
    }
    // Checked again: `up` may have waited minutes at its confirmation, and the path is the user's.
    const lateProblem = outputProblem(outFile, outLabel, options.publicKeyOut !== undefined);
    if (lateProblem !== undefined) {
        throw new CliError(
            `${lateProblem} (it changed while pulumi up ran; the stack is deployed: npm run pulumi -- stack output --stack ${stack} publicKeyPem)`,
            exit.usage,
        );
    }
    writeAtomically(outFile, checked.pem);
    const now = deployedKey(after) ?? to ?? from;
    console.log(
        `\n${finishedMessage({ stack, environment: String(after.environment ?? environment), step, from, now, ...(rising ? { rotatedFrom: runs } : {}), file: outFile, shownFile: displayPath(outFile), fingerprint: checked.fingerprint, apiKeyReplaced: options.replaceApiKey, sharedState: backend.url !== `file://${localBackendDir}` })}`,
    );
}

runMain("deploy", () => main(process.argv.slice(2)));
