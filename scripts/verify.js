#!/usr/bin/env node
// @ts-check
// npm run verify -- <stack> [--public-key-file PATH] [--live]: after a deploy,
// prove that what the stack stored is sound and matches what was published,
// say which phase of a rotation the stack is in and, with --live, ask Qredo
// which stored key it accepts. Reads the stack outputs with the Pulumi CLI and
// the secrets with the AWS SDK (default credentials; the region in the secrets' ARN;
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SECRETS_MANAGER honoured). Prints no
// secret value.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const path = require("node:path");
const {
    CliError,
    PulumiCli,
    configuredBackend,
    ensureInstalledAndBuilt,
    localBackendDir,
    parseStackCommand,
    projectDir,
    reporter,
    runMain,
    userPath,
} = require("./lib/cli.js");
const { passphraseFileEnv } = require("./lib/backend.js");
const { suggestStack } = require("./lib/deployOptions.js");
const { refuseSwallowedFlags } = require("./lib/npmFlags.js");
const { defaultPublicKeyFile } = require("./lib/publicKeyFile.js");

/** Exit codes, documented in the README. */
const exit = { ok: 0, checkFailed: 1, cannotRun: 2 };

const usage = `usage: npm run verify -- <stack> [--public-key-file PATH] [--live]

  <stack>                   a deployed stack of this project
  --public-key-file PATH    the public key file that was uploaded to Qredo, to check it too
                            (default: what npm run deploy writes, public-<environment>.pem
                            or public-<stack>-<environment>.pem, where you run it or else
                            in the project folder, when it exists)
  --live                    send a signed GET {partnerApiBaseUrl}/assets with each stored key
                            and report which one Qredo accepts: exit 0 only when it accepts
                            the key signers use now (AWSCURRENT)`;

const say = reporter("verify");

const optionSpec = /** @type {const} */ ({ "public-key-file": { type: "string" }, live: { type: "boolean", default: false } });

/** @param {string[]} argv @param {NodeJS.ProcessEnv} env */
function parseOptions(argv, env) {
    // Without the `--`, npm keeps --live for itself: the checks would pass without asking Qredo.
    refuseSwallowedFlags(argv, env, { script: "verify", options: optionSpec, code: exit.cannotRun });
    const parsed = parseStackCommand(argv, optionSpec, usage, exit.cannotRun);
    return (
        parsed && {
            stack: parsed.stack,
            publicKeyFile: /** @type {string | undefined} */ (parsed["public-key-file"]),
            live: parsed.live === true,
        }
    );
}

/** The stack's outputs, from the backend deploy used: the configured one, else the project's local one. @param {InstanceType<typeof PulumiCli>} pulumi @param {string} stack */
function readOutputs(pulumi, stack) {
    if (configuredBackend() === undefined) {
        if (!existsSync(localBackendDir)) {
            throw new CliError(
                "no Pulumi backend is configured and there is no local state in .pulumi-state/: set PULUMI_BACKEND_URL or `pulumi login` to where the stack lives.",
                exit.cannotRun,
            );
        }
        pulumi.env = { PULUMI_BACKEND_URL: `file://${localBackendDir}` };
    }
    // pulumi runs in the project folder: a relative passphrase file reaches it as an absolute path
    pulumi.env = { ...pulumi.env, ...passphraseFileEnv({ code: exit.cannotRun }) };
    // For a stack that does not exist, our message (with the stack probably meant) replaces pulumi's.
    const read = pulumi.run(["stack", "output", "--stack", stack, "--json"], {
        capture: true,
        holdErrors: () => noSuchStack(pulumi, stack),
    });
    const outputs = JSON.parse(read.stdout || "{}");
    // keyStage and partnerApiBaseUrl are optional: stacks deployed before staged rotation lack them.
    const missing = [
        "publicKeyPem",
        "publicKeyFingerprintSha256",
        "keyVersion",
        "privateKeySecretArn",
        "apiKeySecretArn",
        "readPolicyArn",
    ].filter((k) => outputs[k] === undefined);
    if (missing.length > 0) {
        throw new CliError(
            `stack ${stack} has no ${missing.join(", ")} output${missing.length > 1 ? "s" : ""}: has it been deployed (\`npm run deploy -- ${stack}\`)?`,
            exit.cannotRun,
        );
    }
    // Where the secrets live: the region in their ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME),
    // not the shell's default region, nor a stack setting that may be unset.
    const region = /^arn:[\w-]+:secretsmanager:([a-z0-9-]+):/.exec(String(outputs.privateKeySecretArn))?.[1];
    return { outputs, region };
}

/**
 * After a failed read: a CliError saying the stack does not exist (with the
 * stack it probably meant), or undefined when it does and the failure is another.
 * @param {InstanceType<typeof PulumiCli>} pulumi @param {string} stack
 */
function noSuchStack(pulumi, stack) {
    /** @type {{ name: string }[]} */
    let stacks;
    try {
        stacks = JSON.parse(pulumi.run(["stack", "ls", "--json"], { capture: true }).stdout || "[]");
    } catch {
        return undefined;
    }
    const names = stacks.map((s) => s.name.split("/").pop());
    if (names.includes(stack)) {
        return undefined;
    }
    const guess = suggestStack(stack);
    const has = `stack ${stack} does not exist in this backend (it has ${names.length === 0 ? "no stacks" : names.join(", ")})`;
    if (guess !== undefined && guess !== stack && names.includes(guess)) {
        return new CliError(`${has}. Did you mean ${guess}?\n    npm run verify -- ${guess}`, exit.cannotRun);
    }
    return new CliError(
        `${has}: deploy it first (npm run deploy -- ${guess ?? stack}), or point PULUMI_BACKEND_URL or pulumi login at the backend it was deployed with.`,
        exit.cannotRun,
    );
}

/**
 * The public key file to compare: the one named, else the file npm run deploy
 * writes by default (publicKeyFile.js) when it exists.
 * @param {string | undefined} named @param {string} stack @param {string} environment
 * @returns {{ pem?: string, note?: string }}
 */
function uploadedPublicKey(named, stack, environment) {
    if (named !== undefined) {
        const file = userPath(named);
        if (!existsSync(file)) {
            throw new CliError(`--public-key-file ${named}: no such file.`, exit.cannotRun);
        }
        return { pem: readFileSync(file, "utf8") };
    }
    const fallback = defaultPublicKeyFile(stack, environment);
    // Where npm ran (where deploy writes it), else the project folder: verify run from a subfolder after a
    // deploy from the project folder still checks the file that was uploaded.
    const file = [userPath(fallback), path.join(projectDir, fallback)].find((f) => existsSync(f));
    if (file === undefined) {
        return {};
    }
    const shown = path.relative(userPath("."), file);
    return {
        pem: readFileSync(file, "utf8"),
        note: `Checking ${shown} as the uploaded public key (the file npm run deploy wrote; --public-key-file PATH checks another).`,
    };
}

/** @param {string[]} argv */
async function main(argv) {
    const options = parseOptions(argv, process.env);
    if (options === undefined) {
        console.log(usage);
        return;
    }
    const pulumi = new PulumiCli(exit.cannotRun);
    pulumi.ensureInstalled(exit.cannotRun);
    await ensureInstalledAndBuilt(say, exit.cannotRun);
    if (options.publicKeyFile !== undefined && !existsSync(userPath(options.publicKeyFile))) {
        throw new CliError(`--public-key-file ${options.publicKeyFile}: no such file.`, exit.cannotRun);
    }
    const { outputs, region } = readOutputs(pulumi, options.stack);
    const uploaded = uploadedPublicKey(options.publicKeyFile, options.stack, outputs.environment);

    const { SecretsManagerClient } = require("@aws-sdk/client-secrets-manager");
    /** @type {typeof import("../src/verify")} */
    const { CannotVerify, describePhase, keyStageOf, verifyStack } = require(path.join(__dirname, "..", "bin", "src", "verify.js"));
    const client = new SecretsManagerClient(region === undefined ? {} : { region });
    let report;
    try {
        report = await verifyStack({
            stack: options.stack,
            outputs,
            publicKeyFile: defaultPublicKeyFile(options.stack, outputs.environment),
            client,
            ...(uploaded.pem === undefined ? {} : { uploadedPublicKeyPem: uploaded.pem }),
            ...(options.live ? { live: {} } : {}),
        });
    } catch (error) {
        throw error instanceof CannotVerify ? new CliError(error.message, exit.cannotRun) : error;
    }

    console.log(
        `Verifying stack ${options.stack} (${outputs.environment}, keyVersion ${outputs.keyVersion}, keyStage ${keyStageOf(outputs)}):`,
    );
    // What the outputs say, unless AWSCURRENT holds another key than the one published (a rollback by hand, or labels
    // moved outside Pulumi): the phase would then name a key that is not in use.
    const outOfStep =
        keyStageOf(outputs) === "current" &&
        report.results.some((r) => r.name === "its public half is the publicKeyPem output" && r.status === "fail");
    console.log(
        `Phase: ${
            outOfStep
                ? `the stack says key generation ${outputs.keyVersion} is in use, but AWSCURRENT holds another key (after a rollback by hand that is expected: docs/rotation.md#rolling-back); see the checks below.`
                : describePhase(options.stack, outputs, defaultPublicKeyFile(options.stack, outputs.environment))
        }`,
    );
    if (uploaded.note !== undefined) {
        console.log(uploaded.note);
    }
    for (const result of report.results) {
        console.log(
            `  ${result.status.padEnd(4)}  ${result.name}${result.detail && result.status !== "pass" ? ` (${result.detail})` : ""}`,
        );
    }
    const failed = report.results.filter((r) => r.status === "fail").length;
    const passed = report.results.filter((r) => r.status === "pass").length;
    console.log(`${passed} passed, ${failed} failed`);
    let code = failed > 0 ? exit.checkFailed : exit.ok;
    if (report.live !== undefined) {
        const { current, pending, verdict } = report.live;
        const { partnerApiBaseUrl } = require("@qredo-partner-keys/client");
        console.log(`Live (signed GET ${outputs.partnerApiBaseUrl ?? partnerApiBaseUrl}/assets):`);
        for (const [stage, answer] of /** @type {const} */ ([
            ["current key (AWSCURRENT)", current],
            ["pending key (AWSPENDING)", pending],
        ])) {
            if (answer !== undefined) {
                console.log(
                    `  ${typeof answer === "string" ? answer : "unknown"}  the ${stage}${typeof answer === "string" ? "" : ` (${answer.problem})`}`,
                );
            }
        }
        if (verdict.code === exit.cannotRun) {
            throw new CliError(verdict.message, exit.cannotRun);
        }
        console.log(verdict.message);
        code = Math.max(code, verdict.code);
    }
    process.exitCode = code;
}

runMain("verify", () => main(process.argv.slice(2)));
