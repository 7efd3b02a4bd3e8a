// @ts-check
// The stand-in pulumi's state ($FAKE_PULUMI_DIR/state.json) and the answers to
// the read-only calls, rendered next to it on every change so that the shell
// wrapper (fakeCli.ts) serves those calls without starting Node.js. Both
// fake-pulumi.js and the tests that write a state themselves save through here,
// so the answers never fall behind the state.
"use strict";
const { mkdirSync, rmSync, writeFileSync } = require("node:fs");
const path = require("node:path");

const projectKeyPrefix = "qredo-partner-keys:";

/**
 * @typedef {{ secretsProvider: string | null, config: Record<string, { value: string, secret: boolean }>, outputs: Record<string, unknown> | null,
 *   generation?: number, deployedApiKey?: string }} Stack  generation: the keyVersion in the key generation's keepers in the state, when it
 *   differs from the outputs' (a failed up); deployedApiKey: the value of the API key's SecretVersion (the key the last successful up deployed)
 * @typedef {{ stacks: Record<string, Stack>, keysUsed?: number }} State
 */

/** `pulumi config --json`: secrets masked. @param {Stack} stack */
function shownConfig(stack) {
    /** @type {Record<string, unknown>} */
    const shown = {};
    for (const [key, entry] of Object.entries(stack.config)) {
        shown[key] = entry.secret ? { secret: true } : { value: entry.value, secret: false };
    }
    return shown;
}

/**
 * `pulumi stack export`: the deployment's resources as the real CLI exports
 * them, secrets encrypted, or with --show-secrets as `plaintext` (JSON); the
 * key generation (RandomId) and the API key's SecretVersion carry what the
 * deploy reads.
 * @param {string} name @param {Stack} stack @param {boolean} [showSecrets]
 */
function exported(name, stack, showSecrets = false) {
    const secret = (/** @type {unknown} */ value) => ({
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        ...(showSecrets ? { plaintext: JSON.stringify(value) } : { ciphertext: "v1:AAAA" }),
    });
    const apiKeyVersion =
        stack.deployedApiKey === undefined
            ? []
            : [
                  {
                      urn: `urn:pulumi:${name}::qredo-partner-keys::qredo-partner-keys:index:PartnerApiCredentials$aws:secretsmanager/secretVersion:SecretVersion::qredo-partner-api-api-key`,
                      type: "aws:secretsmanager/secretVersion:SecretVersion",
                      inputs: { secretString: secret(stack.deployedApiKey) },
                      outputs: { secretString: secret(stack.deployedApiKey), versionStages: ["AWSCURRENT"] },
                  },
              ];
    const keyVersion = stack.generation ?? stack.outputs?.keyVersion;
    const urn = (/** @type {string} */ type, /** @type {string} */ id) => `urn:pulumi:${name}::qredo-partner-keys::${type}::${id}`;
    const resources =
        keyVersion === undefined
            ? []
            : [
                  { urn: urn("pulumi:pulumi:Stack", `qredo-partner-keys-${name}`), type: "pulumi:pulumi:Stack" },
                  {
                      urn: urn("random:index/randomId:RandomId", "partner-api-key-generation"),
                      type: "random:index/randomId:RandomId",
                      inputs: { byteLength: 8, keepers: { keyVersion: String(keyVersion) } },
                      outputs: { byteLength: 8, hex: "00112233aabbccdd", keepers: { keyVersion: String(keyVersion) } },
                  },
                  {
                      urn: urn("tls:index/privateKey:PrivateKey", "partner-api-private-key"),
                      type: "tls:index/privateKey:PrivateKey",
                      outputs: { privateKeyPem: secret("-----BEGIN RSA PRIVATE KEY-----\n(stand-in)\n-----END RSA PRIVATE KEY-----\n") },
                  },
                  ...apiKeyVersion,
              ];
    return { version: 3, deployment: { manifest: {}, resources } };
}

/**
 * What `pulumi stack ls --json` prints: lastUpdate and resourceCount only for a
 * stack that has been updated (pulumi omits both before the first update).
 * @param {State} state
 */
function stackList(state) {
    return Object.entries(state.stacks).map(([name, stack]) =>
        stack.outputs ? { name, current: false, lastUpdate: "2026-11-01T00:00:00.000Z", resourceCount: 9 } : { name, current: false },
    );
}

/** What the read-only calls print, as fake-pulumi.js prints it. @param {string} dir @param {State} state */
function writeAnswers(dir, state) {
    const answers = path.join(dir, "answers");
    rmSync(answers, { recursive: true, force: true }); // no answer outlives its state
    mkdirSync(answers, { recursive: true });
    writeFileSync(path.join(answers, "ls.json"), `${JSON.stringify(stackList(state))}\n`);
    for (const [name, stack] of Object.entries(state.stacks)) {
        writeFileSync(path.join(answers, `config-${name}.json`), `${JSON.stringify(shownConfig(stack), null, 2)}\n`);
        writeFileSync(path.join(answers, `output-${name}.json`), `${JSON.stringify(stack.outputs ?? {}, null, 2)}\n`);
        writeFileSync(path.join(answers, `export-${name}.json`), `${JSON.stringify(exported(name, stack), null, 2)}\n`);
        writeFileSync(path.join(answers, `export-secrets-${name}.json`), `${JSON.stringify(exported(name, stack, true), null, 2)}\n`);
        // `config get --stack NAME KEY` by its full key, and by its short one for the project's own
        // keys (the CLI reads `apiKey` as `qredo-partner-keys:apiKey`); it prints secrets decrypted there too.
        for (const [key, entry] of Object.entries(stack.config)) {
            writeFileSync(path.join(answers, `get-${name}-${key}`), `${entry.value}\n`);
            if (key.startsWith(projectKeyPrefix)) {
                writeFileSync(path.join(answers, `get-${name}-${key.slice(projectKeyPrefix.length)}`), `${entry.value}\n`);
            }
        }
    }
}

/** @param {string} dir @param {State} state */
function saveState(dir, state) {
    writeFileSync(path.join(dir, "state.json"), JSON.stringify(state, null, 2));
    writeAnswers(dir, state);
}

module.exports = { exported, saveState, shownConfig, stackList, writeAnswers };
