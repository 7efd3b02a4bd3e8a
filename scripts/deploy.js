#!/usr/bin/env node
// @ts-check
// npm run deploy -- <stack> [options]: one safe step from a fresh clone to a
// deployed stack and a public.pem to upload. Plain Node.js with no
// dependencies, because it runs before the project's dependencies exist.
//
// Secrets: the API key goes to `pulumi config set --secret` on stdin, never in
// an argument; a passphrase only in the environment. Neither is ever printed.
"use strict";
const { createHash, createPublicKey } = require("node:crypto");
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { CliError, PulumiCli, configuredBackend, ensureInstalledAndBuilt, localBackendDir, parseStackCommand, projectDir, reporter, runMain, userPath } = require("./lib/cli.js");

/** Exit codes, documented in the README. */
const exit = {
    ok: 0,
    pulumiFailed: 1,
    usage: 2,
    noPulumiCli: 3,
    setupFailed: 4,
};

const usage = `usage: npm run deploy -- <stack> [options]

  <stack>                    sandbox, production, or another stack of this project

options:
  --api-key-file PATH        the \`apikey\` file from the Qredo Web App
                             (default: ./apikey if present, else $QREDO_API_KEY,
                             else the key already stored in the stack)
  --secrets-provider URL     for a new stack, e.g. awskms://alias/pulumi-qredo
  --public-key-out PATH      where to write the public key (default: public.pem)
  --rotate                   bump keyVersion by one: a new RSA key
  --yes                      update without the interactive preview (pipelines)
  --help                     this text`;

/** @param {string[]} argv */
function parseOptions(argv) {
    const options = {
        "api-key-file": { type: "string" },
        "secrets-provider": { type: "string" },
        "public-key-out": { type: "string", default: "public.pem" },
        rotate: { type: "boolean", default: false },
        yes: { type: "boolean", default: false },
    };
    return parseStackCommand(argv, /** @type {any} */ (options), usage, exit.usage);
}

const say = reporter("deploy");
const pulumiCli = new PulumiCli(exit.pulumiFailed);
/** @param {string[]} args @param {{ capture?: boolean, stdin?: string }} [options] */
const pulumi = (args, options) => pulumiCli.run(args, options);

// ---------------------------------------------------------------- setup

/** @returns {{ url: string, env: Record<string, string> }} the backend, and the environment for every pulumi command */
function chooseBackend() {
    const backend = configuredBackend();
    if (backend !== undefined) {
        say(`using the configured Pulumi backend ${/^https?:/.test(backend) ? "(logged in)" : backend}`);
        return { url: backend, env: {} };
    }
    if (process.env.CI) {
        // A runner's disk is thrown away: state kept there would be lost, and the keys with it.
        throw new CliError("no Pulumi backend is configured, and on CI a local one would be lost with the runner. Set PULUMI_BACKEND_URL (e.g. s3://BUCKET) or PULUMI_ACCESS_TOKEN.", exit.usage);
    }
    mkdirSync(localBackendDir, { recursive: true });
    const url = `file://${localBackendDir}`;
    say(`no Pulumi backend is configured: using the local file backend in ${path.relative(process.cwd(), localBackendDir) || "."}/ (git-ignored). Set PULUMI_BACKEND_URL or run \`pulumi login\` to use another.`);
    return { url, env: { PULUMI_BACKEND_URL: url } };
}

/**
 * Whether the stack encrypts its secrets with a passphrase: the stack file says
 * so, or a new stack on a self-managed backend gets that provider by default.
 * @param {string} stack @param {string} backendUrl @param {string | undefined} secretsProvider
 */
function usesPassphrase(stack, backendUrl, secretsProvider) {
    const stackFile = path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
    const text = existsSync(stackFile) ? readFileSync(stackFile, "utf8") : "";
    if (/^encryptionsalt:/m.test(text)) {
        return true;
    }
    if (/^secretsprovider:/m.test(text)) {
        return /^secretsprovider:\s*passphrase\s*$/m.test(text);
    }
    if (secretsProvider !== undefined && secretsProvider !== "passphrase" && secretsProvider !== "default") {
        return false;
    }
    return secretsProvider === "passphrase" || !/^https?:/.test(backendUrl);
}

/**
 * Pulumi would prompt for the passphrase on stdin, which carries the API key;
 * so ask for it here, without echo, and hand it over in the environment.
 * @returns {Promise<Record<string, string>>}
 */
async function passphraseEnv() {
    if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined || process.env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined) {
        return {};
    }
    if (!process.stdin.isTTY) {
        throw new CliError(
            "this stack encrypts its secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or create the stack with --secrets-provider awskms://alias/NAME.",
            exit.usage,
        );
    }
    const passphrase = await promptHidden("Passphrase for the stack's secrets (new stack: choose one and keep it): ");
    if (passphrase === "") {
        throw new CliError("an empty passphrase protects nothing; run again and enter one.", exit.usage);
    }
    return { PULUMI_CONFIG_PASSPHRASE: passphrase };
}

/** @param {string} question @returns {Promise<string>} */
function promptHidden(question) {
    const readline = require("node:readline");
    const { Writable } = require("node:stream");
    // In terminal mode readline turns the terminal's own echo off and echoes
    // through `output`; an output that drops everything echoes nothing.
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    return new Promise((resolve, reject) => {
        const rl = readline.createInterface({ input: process.stdin, output: silent, terminal: true });
        process.stderr.write(question); // after the terminal's echo is off
        rl.on("SIGINT", () => {
            rl.close();
            process.stderr.write("\n");
            reject(new CliError("cancelled.", exit.usage));
        });
        rl.question("", (answer) => {
            rl.close();
            process.stderr.write("\n");
            resolve(answer);
        });
    });
}

/** @param {string} stack @param {string | undefined} secretsProvider */
function selectStack(stack, secretsProvider) {
    const args = ["stack", "select", "--create", stack];
    if (secretsProvider !== undefined) {
        args.push("--secrets-provider", secretsProvider);
    }
    pulumi(args);
}

/** The stack's config as `pulumi config --json` shows it (secrets masked). @param {string} stack */
function stackConfig(stack) {
    /** @type {Record<string, { value?: unknown, secret?: boolean }>} */
    const config = JSON.parse(pulumi(["config", "--stack", stack, "--json"], { capture: true }).stdout || "{}");
    return config;
}

/**
 * The API key to store, or undefined to keep the stack's. Never printed.
 * @param {string | undefined} apiKeyFile
 */
function readApiKey(apiKeyFile) {
    if (apiKeyFile !== undefined) {
        const file = userPath(apiKeyFile);
        if (!existsSync(file)) {
            throw new CliError(`--api-key-file ${apiKeyFile}: no such file.`, exit.usage);
        }
        return { value: readFileSync(file, "utf8"), source: apiKeyFile };
    }
    const local = userPath("apikey");
    if (existsSync(local)) {
        return { value: readFileSync(local, "utf8"), source: "./apikey" };
    }
    if (process.env.QREDO_API_KEY) {
        return { value: process.env.QREDO_API_KEY, source: "$QREDO_API_KEY" };
    }
    return undefined;
}

/** @param {string} stack @param {{ value: string, source: string } | undefined} apiKey */
function storeApiKey(stack, apiKey) {
    const key = "qredo-partner-keys:apiKey";
    if (apiKey === undefined) {
        if (stackConfig(stack)[key] === undefined) {
            throw new CliError(
                `stack ${stack} has no API key yet. Save the key from the Qredo Web App (Settings → Partner API) as ./apikey, or pass --api-key-file PATH, or set QREDO_API_KEY.`,
                exit.usage,
            );
        }
        say(`keeping the API key already stored in stack ${stack}`);
        return;
    }
    /** @type {typeof import("@qredo-partner-keys/client")} */
    const { checkApiKey } = require("@qredo-partner-keys/client");
    const checked = checkApiKey(apiKey.value);
    if (!checked.ok) {
        throw new CliError(`the API key from ${apiKey.source} ${checked.problem}.`, exit.usage);
    }
    pulumi(["config", "set", "--stack", stack, "--secret", "apiKey"], { stdin: checked.value });
    say(`stored the API key from ${apiKey.source} in stack ${stack} as a secret`);
}

/** @param {string} stack */
function rotate(stack) {
    const current = stackConfig(stack)["qredo-partner-keys:keyVersion"]?.value;
    const version = current === undefined ? 1 : Number(current);
    if (!Number.isSafeInteger(version) || version < 1) {
        throw new CliError(`stack ${stack} has keyVersion ${JSON.stringify(current)}, which is not a whole number ≥ 1; fix it with \`pulumi config set --stack ${stack} keyVersion N\`.`, exit.usage);
    }
    pulumi(["config", "set", "--stack", stack, "keyVersion", String(version + 1)]);
    say(`rotating: keyVersion ${version} → ${version + 1}. A new RSA key replaces the current one; requests signed with it FAIL until you upload the new public key to Qredo.`);
}

/** @param {string} stack @param {string} outFile */
function writePublicKey(stack, outFile) {
    const outputs = JSON.parse(pulumi(["stack", "output", "--stack", stack, "--json"], { capture: true }).stdout);
    const pem = outputs.publicKeyPem;
    if (typeof pem !== "string" || !pem.includes("-----BEGIN PUBLIC KEY-----")) {
        throw new CliError(`stack ${stack} has no publicKeyPem output; did \`pulumi up\` finish?`, exit.pulumiFailed);
    }
    const der = createPublicKey(pem).export({ type: "spki", format: "der" });
    const fingerprint = createHash("sha256").update(der).digest("hex");
    if (fingerprint !== outputs.publicKeyFingerprintSha256) {
        throw new CliError(`the publicKeyPem output does not match the publicKeyFingerprintSha256 output of stack ${stack}; not writing it.`, exit.pulumiFailed);
    }
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, pem.endsWith("\n") ? pem : `${pem}\n`);
    return { fingerprint, environment: String(outputs.environment), keyVersion: outputs.keyVersion };
}

// ---------------------------------------------------------------- main

/** A path as the user would type it from where they ran npm. @param {string} file */
function displayPath(file) {
    const relative = path.relative(userPath("."), file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** @param {string[]} argv */
async function main(argv) {
    const options = parseOptions(argv);
    if (options === undefined) {
        console.log(usage);
        return;
    }
    pulumiCli.ensureInstalled(exit.noPulumiCli);
    ensureInstalledAndBuilt(say, exit.setupFailed);
    const backend = chooseBackend();
    pulumiCli.env = backend.env;
    if (usesPassphrase(options.stack, backend.url, options["secrets-provider"])) {
        pulumiCli.env = { ...pulumiCli.env, ...(await passphraseEnv()) };
    }

    selectStack(options.stack, options["secrets-provider"]);
    storeApiKey(options.stack, readApiKey(options["api-key-file"]));
    if (options.rotate) {
        rotate(options.stack);
    }

    pulumi(["up", "--stack", options.stack, ...(options.yes ? ["--yes"] : [])]);

    const outFile = userPath(options["public-key-out"]);
    const published = writePublicKey(options.stack, outFile);
    console.log(`
Public key for the Qredo ${published.environment} environment (keyVersion ${published.keyVersion}) written to ${outFile}
  SHA-256 fingerprint: ${published.fingerprint}
  check it:  openssl pkey -pubin -in ${displayPath(outFile)} -outform DER | sha256sum

Upload it: Qredo Web App → your name → Settings → Partner API → Upload Public Key.${
        options.rotate ? "\nUntil you do, requests signed with the new key are rejected." : ""
    }`);
}

runMain("deploy", () => main(process.argv.slice(2)));
