#!/usr/bin/env node
// @ts-check
// A stand-in `pulumi` executable for testing scripts/deploy.js: it records
// every call (arguments, stdin, the environment that matters) and keeps a tiny
// stack state in $FAKE_PULUMI_DIR, answering the commands the script uses the
// way the real CLI does. `up` "deploys" by generating an RSA key, once per keyVersion.
"use strict";
const { createHash, generateKeyPairSync } = require("node:crypto");
const { appendFileSync, existsSync, readFileSync, writeFileSync } = require("node:fs");
const path = require("node:path");

const dir = /** @type {string} */ (process.env.FAKE_PULUMI_DIR);
const statePath = path.join(dir, "state.json");
const args = process.argv.slice(2);
const stdin = process.stdin.isTTY ? "" : readFileSync(0, "utf8");

appendFileSync(
    path.join(dir, "calls.jsonl"),
    `${JSON.stringify({
        args,
        stdin,
        backend: process.env.PULUMI_BACKEND_URL ?? null,
        passphrase: process.env.PULUMI_CONFIG_PASSPHRASE ?? null,
    })}\n`,
);

/** @type {{ stacks: Record<string, { secretsProvider: string | null, config: Record<string, { value: string, secret: boolean }>, outputs: Record<string, unknown> | null }> }} */
const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { stacks: {} };
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));

/** @param {string} name */
function flag(name) {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
}
const positionals = args.filter((a, i) => !a.startsWith("-") && !(i > 0 && ["--stack", "--secrets-provider"].includes(args[i - 1])));

/** @param {string} stack */
function stackOrFail(stack) {
    const found = state.stacks[stack];
    if (found === undefined) {
        process.stderr.write(`error: no stack named '${stack}' found\n`);
        process.exit(255);
    }
    return found;
}

const [command, sub] = positionals;
if (command === "version") {
    console.log(process.env.FAKE_PULUMI_VERSION ?? "v3.250.0");
} else if (command === "stack" && sub === "select") {
    const name = positionals[2];
    if (state.stacks[name] === undefined) {
        if (!args.includes("--create")) {
            process.stderr.write(`error: no stack named '${name}' found\n`);
            process.exit(255);
        }
        state.stacks[name] = { secretsProvider: flag("--secrets-provider") ?? null, config: {}, outputs: null };
        save();
        console.log(`Created stack '${name}'`);
    }
} else if (command === "config" && sub === "set") {
    const stack = stackOrFail(/** @type {string} */ (flag("--stack")));
    const [, , key, value] = positionals;
    const fullKey = key.includes(":") ? key : `qredo-partner-keys:${key}`;
    stack.config[fullKey] = { value: value ?? stdin, secret: args.includes("--secret") };
    save();
} else if (command === "config" && args.includes("--json")) {
    const stack = stackOrFail(/** @type {string} */ (flag("--stack")));
    /** @type {Record<string, unknown>} */
    const shown = {};
    for (const [key, entry] of Object.entries(stack.config)) {
        shown[key] = entry.secret ? { secret: true } : { value: entry.value, secret: false };
    }
    console.log(JSON.stringify(shown, null, 2));
} else if (command === "up") {
    const name = /** @type {string} */ (flag("--stack"));
    const stack = stackOrFail(name);
    console.log(`Updating (${name})`);
    if (process.env.FAKE_PULUMI_UP_EXIT) {
        process.stderr.write("error: update failed\n");
        process.exit(Number(process.env.FAKE_PULUMI_UP_EXIT));
    }
    const keyVersion = Number(stack.config["qredo-partner-keys:keyVersion"]?.value ?? 1);
    if (stack.outputs === null || stack.outputs.keyVersion !== keyVersion) {
        const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const der = publicKey.export({ type: "spki", format: "der" });
        stack.outputs = {
            environment: stack.config["qredo-partner-keys:environment"]?.value ?? name,
            keyVersion,
            publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
            publicKeyFingerprintSha256: process.env.FAKE_PULUMI_BAD_FINGERPRINT ? "0".repeat(64) : createHash("sha256").update(der).digest("hex"),
        };
    }
    save();
    console.log("Resources: 9 unchanged");
} else if (command === "config" && sub === "get") {
    const stack = stackOrFail(/** @type {string} */ (flag("--stack")));
    const key = positionals[2].includes(":") ? positionals[2] : `qredo-partner-keys:${positionals[2]}`;
    const entry = stack.config[key];
    if (entry === undefined) {
        process.stderr.write(`error: configuration key '${key}' not found for stack '${flag("--stack")}'\n`);
        process.exit(255);
    }
    console.log(entry.secret ? "[secret]" : entry.value);
} else if (command === "stack" && sub === "output" && args.includes("--json")) {
    console.log(JSON.stringify(stackOrFail(/** @type {string} */ (flag("--stack"))).outputs ?? {}, null, 2));
} else {
    process.stderr.write(`fake pulumi: unsupported call: ${args.join(" ")}\n`);
    process.exit(99);
}
