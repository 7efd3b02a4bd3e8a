#!/usr/bin/env node
// @ts-check
// A stand-in `pulumi` executable for testing the scripts: it records every
// call (arguments, stdin, which secrets its environment held) and keeps a tiny
// stack state in $FAKE_PULUMI_DIR/state.json, answering the commands the
// scripts use the way the real CLI does. `up` "deploys" by publishing a public
// key per keyVersion: from the pool in $FAKE_PULUMI_KEYS (a JSON array of
// SPKI PEMs made once by the test), else a freshly generated one.
//
// Faults, by environment: FAKE_PULUMI_UP_EXIT=N (up fails), FAKE_PULUMI_UP_DECLINE=1
// (up prints what the CLI prints when the confirmation is declined, exit 255),
// FAKE_PULUMI_UP_WAIT_SIGNAL=1 (up waits for SIGINT/SIGTERM and records it),
// FAKE_PULUMI_UP_PARTIAL=1 (up fails after replacing the key generation in the state, as a
// real update can: the state holds the new keyVersion, the outputs the old),
// FAKE_PULUMI_HANG=<command> (that command never answers), FAKE_PULUMI_VERSION,
// FAKE_PULUMI_BAD_FINGERPRINT=1.
"use strict";
const { createHash, createPublicKey, generateKeyPairSync } = require("node:crypto");
const { appendFileSync, existsSync, readFileSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { exported, saveState, shownConfig, stackList, writeAnswers } = require("./fakePulumiState.js");

const dir = /** @type {string} */ (process.env.FAKE_PULUMI_DIR);
const statePath = path.join(dir, "state.json");
const args = process.argv.slice(2);
const valueFlags = ["--stack", "--secrets-provider", "--plaintext", "--secret"];
const positionals = args.filter((a, i) => !a.startsWith("-") && !(i > 0 && valueFlags.slice(0, 3).includes(args[i - 1])));
const [command, sub] = positionals;
const readsStdin = command === "config" && sub === "set" && positionals.length < 4;
const stdin = readsStdin && !process.stdin.isTTY ? readFileSync(0, "utf8") : "";

appendFileSync(
    path.join(dir, "calls.jsonl"),
    `${JSON.stringify({
        args,
        stdin,
        backend: process.env.PULUMI_BACKEND_URL ?? null,
        passphrase: process.env.PULUMI_CONFIG_PASSPHRASE ?? null,
        passphraseFile: process.env.PULUMI_CONFIG_PASSPHRASE_FILE ?? null,
        aws: process.env.AWS_SECRET_ACCESS_KEY !== undefined,
        qredoApiKey: process.env.QREDO_API_KEY !== undefined,
    })}\n`,
);

/** @type {import('./fakePulumiState.js').State} */
const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { stacks: {} };
const save = () => saveState(dir, state);
const fail = (/** @type {string} */ message) => {
    process.stderr.write(`error: ${message}\n`);
    process.exit(255);
};

/** @param {string} name */
function flag(name) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
}
/** @param {string | undefined} name */
function stackOrFail(name) {
    return state.stacks[name ?? ""] ?? fail(`no stack named '${name}' found`);
}
/** @param {string} key */
const fullKey = (key) => (key.includes(":") ? key : `qredo-partner-keys:${key}`);

/** A new public key: the next from the test's pool, else a generated one. */
function newPublicKey() {
    if (process.env.FAKE_PULUMI_KEYS) {
        const pool = JSON.parse(readFileSync(process.env.FAKE_PULUMI_KEYS, "utf8"));
        state.keysUsed = (state.keysUsed ?? 0) + 1; // a different key each time, as the real provider makes
        return createPublicKey(pool[(state.keysUsed - 1) % pool.length]);
    }
    return generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
}

/** The outputs that name AWS resources, as the program makes them (default prefix, region and base URL). @param {string} name @param {string} environment */
function names(name, environment) {
    const secret = (/** @type {string} */ what) => `qredo/partner-api/${environment}/${what}`;
    const arn = (/** @type {string} */ what) => `arn:aws:secretsmanager:eu-west-2:123456789012:secret:${secret(what)}-AbC123`;
    return {
        environment,
        privateKeySecretName: secret("private-key"),
        privateKeySecretArn: arn("private-key"),
        apiKeySecretName: secret("api-key"),
        apiKeySecretArn: arn("api-key"),
        readPolicyArn: `arn:aws:iam::123456789012:policy/qredo-partner-keys-${name}-read`,
        partnerApiBaseUrl: "https://api.qredo.network/api/v1/p",
    };
}

function up() {
    const name = /** @type {string} */ (flag("--stack"));
    const stack = stackOrFail(name);
    console.log(`Updating (${name})`);
    if (process.env.FAKE_PULUMI_UP_WAIT_SIGNAL) {
        writeFileSync(path.join(dir, "up.pid"), String(process.pid));
        const stop = (/** @type {string} */ signal) => {
            appendFileSync(path.join(dir, "signals.jsonl"), `${JSON.stringify({ signal })}\n`);
            process.exit(255);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        console.log("waiting for a signal");
        setTimeout(() => process.exit(98), 20_000); // bounded: a test that never signals still ends
        return;
    }
    if (process.env.FAKE_PULUMI_UP_DECLINE) {
        console.log("Do you want to perform this update? no\nconfirmation declined, not proceeding with the update");
        process.exit(255);
    }
    if (process.env.FAKE_PULUMI_UP_EXIT) {
        fail("update failed");
    }
    const keyVersion = Number(stack.config["qredo-partner-keys:keyVersion"]?.value ?? 1);
    const keyStage = stack.config["qredo-partner-keys:keyStage"]?.value ?? "current";
    if (process.env.FAKE_PULUMI_UP_PARTIAL) {
        stack.generation = keyVersion; // the RandomId (and the private key) replaced; no outputs written
        save();
        fail("update failed");
    }
    delete stack.generation;
    if (stack.outputs === null || stack.outputs.keyVersion !== keyVersion) {
        const publicKey = newPublicKey();
        const der = publicKey.export({ type: "spki", format: "der" });
        stack.outputs = {
            ...names(name, stack.config["qredo-partner-keys:environment"]?.value ?? name),
            keyVersion,
            keyId: createHash("sha256").update(der).digest("hex").slice(0, 16),
            publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
            publicKeyFingerprintSha256: process.env.FAKE_PULUMI_BAD_FINGERPRINT
                ? "0".repeat(64)
                : createHash("sha256").update(der).digest("hex"),
        };
    }
    stack.outputs.keyStage = keyStage;
    stack.deployedApiKey = stack.config["qredo-partner-keys:apiKey"]?.value; // the API key's SecretVersion
    save();
    console.log("Resources: 9 unchanged");
}

if (!existsSync(path.join(dir, "answers"))) {
    writeAnswers(dir, state); // a state the test wrote itself
}
if (process.env.FAKE_PULUMI_HANG === positionals.slice(0, 2).join(" ") || process.env.FAKE_PULUMI_HANG === command) {
    setTimeout(() => process.exit(97), 20_000);
} else if (command === "version") {
    console.log(process.env.FAKE_PULUMI_VERSION ?? "v3.250.0");
} else if (command === "stack" && sub === "ls") {
    console.log(JSON.stringify(stackList(state)));
} else if (command === "stack" && (sub === "init" || sub === "select")) {
    const name = positionals[2];
    if (sub === "init" && state.stacks[name] !== undefined) {
        fail(`stack '${name}' already exists`);
    }
    if (state.stacks[name] === undefined) {
        if (sub === "select" && !args.includes("--create")) {
            fail(`no stack named '${name}' found`);
        }
        state.stacks[name] = { secretsProvider: flag("--secrets-provider") ?? null, config: {}, outputs: null };
        save();
        console.log(`Created stack '${name}'`);
    }
} else if (command === "config" && sub === "set-all") {
    const stack = stackOrFail(flag("--stack"));
    args.forEach((a, i) => {
        if (a === "--plaintext" || a === "--secret") {
            const [key, ...value] = args[i + 1].split("=");
            stack.config[fullKey(key)] = { value: value.join("="), secret: a === "--secret" };
        }
    });
    save();
} else if (command === "config" && sub === "set") {
    const stack = stackOrFail(flag("--stack"));
    stack.config[fullKey(positionals[2])] = { value: positionals[3] ?? stdin, secret: args.includes("--secret") };
    save();
} else if (command === "config" && sub === "get") {
    const entry = stackOrFail(flag("--stack")).config[fullKey(positionals[2])];
    if (entry === undefined) {
        fail(`configuration key '${fullKey(positionals[2])}' not found for stack '${flag("--stack")}'`);
    }
    console.log(entry.value); // the real CLI prints secrets decrypted here
} else if (command === "config" && args.includes("--json")) {
    console.log(JSON.stringify(shownConfig(stackOrFail(flag("--stack"))), null, 2));
} else if (command === "up") {
    up();
} else if (command === "stack" && sub === "output" && args.includes("--json")) {
    console.log(JSON.stringify(stackOrFail(flag("--stack")).outputs ?? {}, null, 2));
} else if (command === "stack" && sub === "output" && positionals[2] !== undefined) {
    const outputs = stackOrFail(flag("--stack")).outputs ?? {};
    if (!(positionals[2] in outputs)) {
        fail(`current stack does not have output property '${positionals[2]}'`);
    }
    console.log(String(outputs[positionals[2]])); // the plain value, as the real CLI prints a string
} else if (command === "stack" && sub === "export") {
    const name = /** @type {string} */ (flag("--stack"));
    console.log(JSON.stringify(exported(name, stackOrFail(name), args.includes("--show-secrets")), null, 2));
} else {
    process.stderr.write(`fake pulumi: unsupported call: ${args.join(" ")}\n`);
    process.exit(99);
}
