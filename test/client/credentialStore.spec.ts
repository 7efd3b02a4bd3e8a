// PartnerApiCredentialStore with the real AWS SDK client against a Secrets
// Manager endpoint on loopback.
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PartnerApiCredentialStore, partnerApiBaseUrl, signedPayload } from "@qredo-partner-keys/client";
import { FakeSecretsManager } from "../support/fakeSecretsManager";
import { makeApiKey } from "../support/providers.js";

const newKey = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

let aws: FakeSecretsManager;
let client: SecretsManagerClient;
beforeAll(async () => {
    aws = new FakeSecretsManager();
    const endpoint = await aws.start();
    client = new SecretsManagerClient({ endpoint, region: "eu-west-2", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
});
afterAll(() => aws.stop());

describe("PartnerApiCredentialStore", () => {
    let privateKeyPem: string;
    let apiKey: string;
    let ids: { privateKeySecretId: string; apiKeySecretId: string };
    let privateKeySecretName: string;
    let clock: number;
    const reads = () => aws.calls.filter((c) => c.startsWith("GetSecretValue")).length;
    beforeEach(() => {
        privateKeyPem = newKey();
        apiKey = makeApiKey();
        const suffix = Math.random().toString(36).slice(2);
        privateKeySecretName = `t-${suffix}/private-key`;
        ids = { privateKeySecretId: aws.put(privateKeySecretName, privateKeyPem), apiKeySecretId: aws.put(`t-${suffix}/api-key`, apiKey) };
        clock = 1_000_000;
        aws.calls.length = 0;
    });
    const store = (ttl = 60_000) => new PartnerApiCredentialStore({ ...ids, client, cacheTtlMs: ttl, now: () => clock });

    it("signs with the stored key and API key: the signature verifies with the key's public half", async () => {
        const headers = await store().signRequest({ url: `${partnerApiBaseUrl}/company?x=1`, body: '{"a":1}', timestamp: 1_700_000_000 });
        expect(headers["x-api-key"]).toBe(apiKey);
        const publicKey = createPublicKey(privateKeyPem);
        const signed = signedPayload("1700000000", `${partnerApiBaseUrl}/company?x=1`, '{"a":1}');
        expect(verify("sha256", signed, publicKey, Buffer.from(headers["x-sign"], "base64url"))).toBe(true);
    });

    it("reuses loaded credentials until the cache time runs out, then reads the secrets again", async () => {
        const credentials = store(60_000);
        await credentials.get();
        await credentials.get();
        clock += 59_999;
        await credentials.get();
        expect(reads()).toBe(2);
        // A rotation lands; it is picked up once the cache expires.
        const rotated = newKey();
        aws.put(privateKeySecretName, rotated);
        clock += 1;
        const { privateKey } = await credentials.get();
        expect(reads()).toBe(4);
        expect(privateKey.export({ type: "pkcs1", format: "pem" })).toBe(rotated);
    });

    it("shares one load between concurrent callers, and reloads after invalidate()", async () => {
        const credentials = store();
        await Promise.all([credentials.get(), credentials.get(), credentials.get()]);
        expect(reads()).toBe(2);
        credentials.invalidate();
        await credentials.get();
        expect(reads()).toBe(4);
    });

    it("does not cache a failure", async () => {
        const credentials = store();
        aws.denied.add(ids.apiKeySecretId);
        await expect(credentials.get()).rejects.toMatchObject({ name: "AccessDeniedException" });
        aws.denied.delete(ids.apiKeySecretId);
        await expect(credentials.get()).resolves.toMatchObject({ apiKey });
    });

    it("refuses a stored API key that is not Base64, without quoting it", async () => {
        const bad = `${makeApiKey()}!`;
        const credentials = new PartnerApiCredentialStore({ ...ids, apiKeySecretId: aws.put(`bad-${Math.random()}`, bad), client });
        const error = await credentials.get().then(() => undefined, (e: Error) => e);
        expect(error?.message).toMatch(/is not Base64/);
        expect(error?.message).not.toContain(bad.slice(0, 16));
    });

    it("refuses a stored private key that is not RSA 2048", async () => {
        const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const credentials = new PartnerApiCredentialStore({ ...ids, privateKeySecretId: aws.put(`small-${Math.random()}`, small), client });
        await expect(credentials.get()).rejects.toThrow(/RSA 1024; the Qredo Partner API needs RSA 2048/);
    });
});
