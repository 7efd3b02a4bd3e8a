// @ts-check
// What the stand-in `pulumi` does with one call: records it (arguments, stdin,
// which secrets its environment held) in $FAKE_PULUMI_DIR/calls.jsonl, keeps a
// tiny stack state in $FAKE_PULUMI_DIR/state.json and answers the commands the
// scripts use the way the real CLI does. `up` "deploys" by publishing a public
// key per keyVersion: from the pool in $FAKE_PULUMI_KEYS (a JSON array of SPKI
// PEMs made once by the test), else a freshly generated one.
//
// Two ways in, with the same answers: fake-pulumi.js, a process per call, and
// fakePulumiServer.js, which answers the calls the shell wrapper (fakeCli.ts)
// hands it without starting Node.js for each.
//
// Faults, by environment: FAKE_PULUMI_UP_EXIT=N (up fails), FAKE_PULUMI_UP_DECLINE=1
// (up prints what the CLI prints when the confirmation is declined, exit 255),
// FAKE_PULUMI_UP_PARTIAL=1 (up fails after replacing the key generation in the state, as a
// real update can: the state holds the new keyVersion, the outputs the old),
// FAKE_PULUMI_VERSION, FAKE_PULUMI_BAD_FINGERPRINT=1. The two that need a process of
// their own, FAKE_PULUMI_UP_WAIT_SIGNAL=1 (up waits for SIGINT/SIGTERM and records it)
// and FAKE_PULUMI_HANG=<command> (that command never answers), are fake-pulumi.js's.
"use strict";
const { createHash, createPublicKey, generateKeyPairSync } = require("node:crypto");
const { appendFileSync, existsSync, readFileSync } = require("node:fs");
const path = require("node:path");
const { exported, saveState, shownConfig, stackList, writeAnswers } = require("./fakePulumiState.js");

/** The environment variables a call's answer depends on; the server is handed these only. */
const envNames = [
    "FAKE_PULUMI_DIR",
    "FAKE_PULUMI_KEYS",
    "FAKE_PULUMI_UP_EXIT",
    "FAKE_PULUMI_UP_DECLINE",
    "FAKE_PULUMI_UP_PARTIAL",
    "FAKE_PULUMI_UP_WAIT_SIGNAL",
    "FAKE_PULUMI_HANG",
    "FAKE_PULUMI_VERSION",
    "FAKE_PULUMI_BAD_FINGERPRINT",
    "FAKE_PULUMI_UP_SAME_KEY",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_CONFIG_PASSPHRASE_FILE",
    "AWS_SECRET_ACCESS_KEY",
    "QREDO_API_KEY",
    "PARTNER_KEYS_CONFIG_COMMAND",
];

/** @param {string[]} args */
function positionalsOf(args) {
    const valueFlags = ["--stack", "--secrets-provider", "--plaintext"];
    return args.filter((a, i) => !a.startsWith("-") && !(i > 0 && valueFlags.includes(args[i - 1])));
}

/** Whether the call takes its value on stdin (`config set KEY` without a value). @param {string[]} args */
function readsStdin(args) {
    const [command, sub, ...rest] = positionalsOf(args);
    return command === "config" && sub === "set" && rest.length < 2;
}

/** Whether the command is the one FAKE_PULUMI_HANG names (`up`, or two words such as `stack init`). @param {string[]} args @param {Record<string, string | undefined>} env */
function hangs(args, env) {
    const [command, sub] = positionalsOf(args);
    return Boolean(env.FAKE_PULUMI_HANG) && (env.FAKE_PULUMI_HANG === `${command} ${sub}` || env.FAKE_PULUMI_HANG === command);
}

/** Whether only a process of its own can answer the call (it waits for a signal, or never answers). @param {string[]} args @param {Record<string, string | undefined>} env */
function needsOwnProcess(args, env) {
    return (Boolean(env.FAKE_PULUMI_UP_WAIT_SIGNAL) && positionalsOf(args)[0] === "up") || hangs(args, env);
}

class Failure {
    /** @param {string} stderr @param {number} code */
    constructor(stderr, code) {
        this.stderr = stderr;
        this.code = code;
    }
}

/**
 * Answers one call made in the folder `cwd` (relative paths in FAKE_PULUMI_DIR and
 * FAKE_PULUMI_KEYS are taken from there). `stdin` is what the call read, when `readsStdin(args)`.
 * For a call that `needsOwnProcess`, the answer stops where the process would
 * start waiting (`waits`), its state and output up to there written.
 * @param {{ args: string[], env: Record<string, string | undefined>, stdin: string, cwd: string }} call
 * @returns {{ stdout: string, stderr: string, code: number, waits?: "signal" | "forever" }}
 */
function answer({ args, env, stdin, cwd }) {
    const dir = path.resolve(cwd, /** @type {string} */ (env.FAKE_PULUMI_DIR));
    const statePath = path.join(dir, "state.json");
    const positionals = positionalsOf(args);
    const [command, sub] = positionals;
    let stdout = "";
    const print = (/** @type {string} */ text) => (stdout += `${text}\n`);

    appendFileSync(
        path.join(dir, "calls.jsonl"),
        `${JSON.stringify({
            args,
            stdin,
            backend: env.PULUMI_BACKEND_URL ?? null,
            passphrase: env.PULUMI_CONFIG_PASSPHRASE ?? null,
            passphraseFile: env.PULUMI_CONFIG_PASSPHRASE_FILE ?? null,
            aws: env.AWS_SECRET_ACCESS_KEY !== undefined,
            qredoApiKey: env.QREDO_API_KEY !== undefined,
            configCommand: env.PARTNER_KEYS_CONFIG_COMMAND ?? null,
        })}\n`,
    );

    /** @type {import('./fakePulumiState.js').State} */
    const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : { stacks: {} };
    const save = () => saveState(dir, state);
    /** @returns {never} */
    const fail = (/** @type {string} */ message) => {
        throw new Failure(`error: ${message}\n`, 255);
    };
    /** @param {string} name */
    const flag = (name) => {
        const i = args.indexOf(name);
        return i >= 0 ? args[i + 1] : undefined;
    };
    /** @param {string | undefined} name */
    const stackOrFail = (name) => state.stacks[name ?? ""] ?? fail(`no stack named '${name}' found`);
    /** @param {string} key */
    const fullKey = (key) => (key.includes(":") ? key : `qredo-partner-keys:${key}`);

    /**
     * A new public key, never the one the stack has now (as the real provider makes): the next from the test's
     * pool, else a generated one.
     * @param {string | undefined} current  the stack's publicKeyPem
     */
    const newPublicKey = (current) => {
        if (env.FAKE_PULUMI_KEYS) {
            /** @type {string[]} */
            const pool = JSON.parse(readFileSync(path.resolve(cwd, env.FAKE_PULUMI_KEYS), "utf8"));
            const spki = (/** @type {string} */ pem) => createPublicKey(pem).export({ type: "spki", format: "pem" });
            for (let tries = 0; tries < pool.length; tries++) {
                state.keysUsed = (state.keysUsed ?? 0) + 1;
                const pem = pool[(state.keysUsed - 1) % pool.length];
                if (current === undefined || spki(pem) !== spki(current)) {
                    return createPublicKey(pem);
                }
            }
        }
        return generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    };

    /** @returns {"signal" | undefined} */
    const up = () => {
        const name = /** @type {string} */ (flag("--stack"));
        const stack = stackOrFail(name);
        print(`Updating (${name})`);
        if (env.FAKE_PULUMI_UP_WAIT_SIGNAL) {
            print("waiting for a signal");
            return "signal";
        }
        if (env.FAKE_PULUMI_UP_DECLINE) {
            print("Do you want to perform this update? no\nconfirmation declined, not proceeding with the update");
            throw new Failure("", 255);
        }
        if (env.FAKE_PULUMI_UP_EXIT) {
            fail("update failed");
        }
        const keyVersion = Number(stack.config["qredo-partner-keys:keyVersion"]?.value ?? 1);
        const keyStage = stack.config["qredo-partner-keys:keyStage"]?.value ?? "current";
        if (env.FAKE_PULUMI_UP_PARTIAL) {
            stack.generation = keyVersion; // the RandomId (and the private key) replaced; no outputs written
            save();
            fail("update failed");
        }
        delete stack.generation;
        if (env.FAKE_PULUMI_UP_SAME_KEY && stack.outputs !== null && stack.outputs.keyVersion !== keyVersion) {
            // A new key generation over the old key: an update that stopped part way on a stack whose key did not
            // record its generation, run again.
            stack.outputs = {
                ...stack.outputs,
                keyVersion,
                keyId: createHash("sha256").update(String(keyVersion)).digest("hex").slice(0, 16),
            };
        } else if (stack.outputs === null || stack.outputs.keyVersion !== keyVersion) {
            const current = stack.outputs?.publicKeyPem;
            const publicKey = newPublicKey(typeof current === "string" ? current : undefined);
            const der = publicKey.export({ type: "spki", format: "der" });
            stack.outputs = {
                ...names(name, stack.config["qredo-partner-keys:environment"]?.value ?? name),
                keyVersion,
                keyId: createHash("sha256").update(der).digest("hex").slice(0, 16),
                publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
                publicKeyFingerprintSha256: env.FAKE_PULUMI_BAD_FINGERPRINT
                    ? "0".repeat(64)
                    : createHash("sha256").update(der).digest("hex"),
            };
        }
        stack.outputs.keyStage = keyStage;
        stack.deployedApiKey = stack.config["qredo-partner-keys:apiKey"]?.value; // the API key's SecretVersion
        save();
        print("Resources: 9 unchanged");
        return undefined;
    };

    try {
        if (!existsSync(path.join(dir, "answers"))) {
            writeAnswers(dir, state); // a state the test wrote itself
        }
        if (hangs(args, env)) {
            return { stdout, stderr: "", code: 0, waits: "forever" };
        } else if (command === "version") {
            print(env.FAKE_PULUMI_VERSION ?? "v3.250.0");
        } else if (command === "stack" && sub === "ls") {
            print(JSON.stringify(stackList(state)));
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
                print(`Created stack '${name}'`);
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
            print(entry.value); // the real CLI prints secrets decrypted here
        } else if (command === "config" && args.includes("--json")) {
            print(JSON.stringify(shownConfig(stackOrFail(flag("--stack"))), null, 2));
        } else if (command === "up") {
            if (up() === "signal") {
                return { stdout, stderr: "", code: 0, waits: "signal" };
            }
        } else if (command === "stack" && sub === "output" && args.includes("--json")) {
            print(JSON.stringify(stackOrFail(flag("--stack")).outputs ?? {}, null, 2));
        } else if (command === "stack" && sub === "output" && positionals[2] !== undefined) {
            const outputs = stackOrFail(flag("--stack")).outputs ?? {};
            if (!(positionals[2] in outputs)) {
                fail(`current stack does not have output property '${positionals[2]}'`);
            }
            print(String(outputs[positionals[2]])); // the plain value, as the real CLI prints a string
        } else if (command === "stack" && sub === "export") {
            const name = /** @type {string} */ (flag("--stack"));
            print(JSON.stringify(exported(name, stackOrFail(name), args.includes("--show-secrets")), null, 2));
        } else {
            return { stdout, stderr: `fake pulumi: unsupported call: ${args.join(" ")}\n`, code: 99 };
        }
        return { stdout, stderr: "", code: 0 };
    } catch (error) {
        if (error instanceof Failure) {
            return { stdout, stderr: error.stderr, code: error.code };
        }
        throw error;
    }
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

module.exports = { answer, envNames, needsOwnProcess, readsStdin };
