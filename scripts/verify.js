#!/usr/bin/env node
// @ts-check
// npm run verify -- <stack> [--public-key-file PATH]: after a deploy, prove
// that what the stack stored is sound and matches what was published. Reads
// the stack outputs with the Pulumi CLI and both secrets with the AWS SDK
// (default credentials; the stack's aws:region; AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_SECRETS_MANAGER honoured). Prints no secret value.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { CliError, PulumiCli, configuredBackend, ensureInstalledAndBuilt, localBackendDir, parseStackCommand, reporter, runMain, userPath } = require("./lib/cli.js");

/** Exit codes, documented in the README. */
const exit = { ok: 0, checkFailed: 1, cannotRun: 2 };

const usage = `usage: npm run verify -- <stack> [--public-key-file PATH]

  <stack>                   a deployed stack of this project
  --public-key-file PATH    the public key file that was uploaded to Qredo, to check it too`;

const say = reporter("verify");

/** @param {string[]} argv */
function parseOptions(argv) {
    const parsed = parseStackCommand(argv, { "public-key-file": { type: "string" } }, usage, exit.cannotRun);
    return parsed && { stack: parsed.stack, publicKeyFile: parsed["public-key-file"] };
}

/** The stack's outputs, from the backend deploy used: the configured one, else the project's local one. @param {PulumiCli} pulumi @param {string} stack */
function readOutputs(pulumi, stack) {
    if (configuredBackend() === undefined) {
        if (!existsSync(localBackendDir)) {
            throw new CliError("no Pulumi backend is configured and there is no local state in .pulumi-state/: set PULUMI_BACKEND_URL or `pulumi login` to where the stack lives.", exit.cannotRun);
        }
        pulumi.env = { PULUMI_BACKEND_URL: `file://${localBackendDir}` };
    }
    const outputs = JSON.parse(pulumi.run(["stack", "output", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    const missing = ["publicKeyPem", "publicKeyFingerprintSha256", "keyVersion", "privateKeySecretArn", "apiKeySecretArn", "readPolicyArn"].filter((k) => outputs[k] === undefined);
    if (missing.length > 0) {
        throw new CliError(`stack ${stack} has no ${missing.join(", ")} output${missing.length > 1 ? "s" : ""}: has it been deployed (\`npm run deploy -- ${stack}\`)?`, exit.cannotRun);
    }
    const region = pulumi.run(["config", "get", "--stack", stack, "aws:region"], { capture: true, check: false });
    return { outputs, region: region.status === 0 ? region.stdout.trim() : undefined };
}

/** @param {string[]} argv */
async function main(argv) {
    const options = parseOptions(argv);
    if (options === undefined) {
        console.log(usage);
        return;
    }
    const pulumi = new PulumiCli(exit.cannotRun);
    pulumi.ensureInstalled(exit.cannotRun);
    ensureInstalledAndBuilt(say, exit.cannotRun);

    let uploaded;
    if (options.publicKeyFile !== undefined) {
        const file = userPath(options.publicKeyFile);
        if (!existsSync(file)) {
            throw new CliError(`--public-key-file ${options.publicKeyFile}: no such file.`, exit.cannotRun);
        }
        uploaded = readFileSync(file, "utf8");
    }
    const { outputs, region } = readOutputs(pulumi, options.stack);

    const { SecretsManagerClient } = require("@aws-sdk/client-secrets-manager");
    /** @type {typeof import("../src/verify")} */
    const { CannotVerify, verifyStack } = require(require("node:path").join(__dirname, "..", "bin", "src", "verify.js"));
    const client = new SecretsManagerClient(region === undefined ? {} : { region });
    let results;
    try {
        results = await verifyStack({ outputs, client, ...(uploaded === undefined ? {} : { uploadedPublicKeyPem: uploaded }) });
    } catch (error) {
        throw error instanceof CannotVerify ? new CliError(error.message, exit.cannotRun) : error;
    }

    console.log(`Verifying stack ${options.stack} (${outputs.environment}, keyVersion ${outputs.keyVersion}):`);
    for (const result of results) {
        console.log(`  ${result.status.padEnd(4)}  ${result.name}${result.detail && result.status !== "pass" ? ` (${result.detail})` : ""}`);
    }
    const failed = results.filter((r) => r.status === "fail").length;
    const passed = results.filter((r) => r.status === "pass").length;
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed > 0 ? exit.checkFailed : exit.ok;
}

runMain("verify", () => main(process.argv.slice(2)));
