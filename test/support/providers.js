// @ts-check
// Mock provider behaviour shared by the vitest suite (test/mocks.ts) and the
// language-host harness (bench/host-run.js), which must run without TypeScript.
"use strict";
const { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } = require("node:crypto");

const accountId = "123456789012";
const region = "eu-west-2";
const kmsKeyArn = `arn:aws:kms:${region}:${accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** A short random suffix, like the one AWS appends to secret and policy names. */
function suffix() {
    return randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 6);
}

/**
 * What each provider returns for a new resource. Computed outputs that the
 * program uses must be here, or they are undefined under the mock runtime.
 * @param {string} type @param {string} name @param {Record<string, unknown>} inputs
 * @returns {Record<string, unknown>}
 */
function providerState(type, name, inputs) {
    switch (type) {
        case "tls:index/privateKey:PrivateKey": {
            // A real key, so tests can sign, verify and compare with openssl. The
            // benchmark hands over one made beforehand (QREDO_MOCK_RSA_KEY), so that
            // it times the program, not the key generation a real provider does.
            const { privateKey, publicKey } = process.env.QREDO_MOCK_RSA_KEY
                ? {
                      privateKey: createPrivateKey(process.env.QREDO_MOCK_RSA_KEY),
                      publicKey: createPublicKey(process.env.QREDO_MOCK_RSA_KEY),
                  }
                : generateKeyPairSync("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) });
            return {
                ...inputs,
                id: randomBytes(20).toString("hex"),
                privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }),
                privateKeyPemPkcs8: privateKey.export({ type: "pkcs8", format: "pem" }),
                publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
            };
        }
        case "random:index/randomId:RandomId": {
            const bytes = randomBytes(Number(inputs.byteLength));
            return { ...inputs, id: bytes.toString("base64url"), hex: bytes.toString("hex"), b64Url: bytes.toString("base64url") };
        }
        case "aws:secretsmanager/secret:Secret": {
            const arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${String(inputs.name)}-${suffix()}`;
            return { ...inputs, id: arn, arn };
        }
        case "aws:secretsmanager/secretVersion:SecretVersion": {
            const versionId = randomBytes(16).toString("hex");
            // Without versionStages, PutSecretValue makes the new version AWSCURRENT.
            const versionStages = inputs.versionStages ?? ["AWSCURRENT"];
            return { ...inputs, id: `${String(inputs.secretId)}|${versionId}`, versionId, versionStages, arn: inputs.secretId };
        }
        case "aws:iam/policy:Policy": {
            const arn = `arn:aws:iam::${accountId}:policy/${name}-${suffix()}`;
            return { ...inputs, id: arn, arn, name: arn.split("/").pop() };
        }
        case "aws:secretsmanager/secretPolicy:SecretPolicy":
            return { ...inputs, id: String(inputs.secretArn) };
        default:
            return { ...inputs, id: `${name}-id` };
    }
}

/**
 * What each data source returns.
 * @param {string} token @param {Record<string, unknown>} inputs
 * @returns {Record<string, unknown>}
 */
function invokeResult(token, inputs) {
    if (token === "aws:kms/getKey:getKey") {
        const keyId = String(inputs.keyId);
        const arn = keyId.startsWith("arn:") && keyId.includes(":key/") ? keyId : kmsKeyArn;
        return { arn, id: arn.split("/").pop(), keyId };
    }
    throw new Error(`unexpected call ${token}`);
}

/** An API key shaped like Qredo's: URL-safe Base64 of a small JSON object, no padding. Made at run time. */
function makeApiKey() {
    return Buffer.from(JSON.stringify({ key: randomBytes(48).toString("base64url"), kind: "partner" })).toString("base64url");
}

module.exports = { accountId, region, kmsKeyArn, providerState, invokeResult, makeApiKey };
