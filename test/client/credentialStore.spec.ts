// PartnerApiCredentialStore with the real AWS SDK client against a Secrets
// Manager endpoint on loopback.
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PartnerApiCredentialStore, partnerApiBaseUrl, signedPayload } from "@qredo-partner-keys/client";
import { FakeSecretsManager } from "../support/fakeSecretsManager";
import { makeApiKey } from "../support/providers.js";
import { testKey } from "../support/testKeys";

// Three distinct keys serve every test.
const [keyA, keyB, keyC] = [0, 1, 2].map((i) => testKey(i).pem);
const pemOf = (key: { export: (o: { type: "pkcs1"; format: "pem" }) => string | Buffer }) =>
    key.export({ type: "pkcs1", format: "pem" }).toString();

let aws: FakeSecretsManager;
let client: SecretsManagerClient;
let endpoint: string;
beforeAll(async () => {
    // These tests build SDK clients on purpose; on Node 20 the SDK warns that its 2027 releases need Node 22.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    aws = new FakeSecretsManager();
    endpoint = await aws.start();
    client = new SecretsManagerClient({ endpoint, region: "eu-west-2", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
});
afterAll(() => aws.stop());

describe("PartnerApiCredentialStore", () => {
    let apiKey: string;
    let ids: { privateKeySecretId: string; apiKeySecretId: string };
    let clock: number;
    const reads = () => aws.calls.filter((c) => c.startsWith("GetSecretValue")).length;
    beforeEach(() => {
        apiKey = makeApiKey();
        const suffix = Math.random().toString(36).slice(2);
        ids = { privateKeySecretId: aws.put(`t-${suffix}/private-key`, keyA), apiKeySecretId: aws.put(`t-${suffix}/api-key`, apiKey) };
        clock = 1_000_000;
        aws.calls.length = 0;
        aws.hang = false;
    });
    const store = (ttl = 60_000) => new PartnerApiCredentialStore({ ...ids, client, cacheTtlMs: ttl, now: () => clock });

    it("signs with the AWSCURRENT key and API key: the signature verifies with the key's public half", async () => {
        const headers = await store().signRequest({ url: `${partnerApiBaseUrl}/company?x=1`, body: '{"a":1}', timestamp: 1_700_000_000 });
        expect(headers["x-api-key"]).toBe(apiKey);
        const signed = signedPayload("1700000000", `${partnerApiBaseUrl}/company?x=1`, '{"a":1}');
        expect(verify("sha256", signed, createPublicKey(keyA), Buffer.from(headers["x-sign"], "base64url"))).toBe(true);
    });

    it("reads AWSCURRENT and AWSPENDING of the private key, AWSCURRENT of the API key; no AWSPENDING means no pending key", async () => {
        const none = await store().get();
        expect(aws.calls.sort()).toEqual(
            [
                `GetSecretValue ${ids.apiKeySecretId} AWSCURRENT`,
                `GetSecretValue ${ids.privateKeySecretId} AWSCURRENT`,
                `GetSecretValue ${ids.privateKeySecretId} AWSPENDING`,
            ].sort(),
        );
        expect(none.pending).toBeUndefined();
        expect(none.current.versionId).toBe(aws.versionId(ids.privateKeySecretId, "AWSCURRENT"));

        aws.put(ids.privateKeySecretId, keyB, { stages: ["AWSPENDING"] });
        const staged = await store().get();
        expect(pemOf(staged.current.privateKey)).toBe(keyA);
        expect(pemOf(staged.pending!.privateKey)).toBe(keyB);
        expect(staged.pending!.versionId).toBe(aws.versionId(ids.privateKeySecretId, "AWSPENDING"));
        expect(staged.apiKeyVersionId).toBe(aws.versionId(ids.apiKeySecretId, "AWSCURRENT"));
    });

    it("reuses loaded credentials until the cache time runs out, then reads the secrets again", async () => {
        const credentials = store(60_000);
        await credentials.get();
        await credentials.get();
        clock += 59_999;
        await credentials.get();
        expect(reads()).toBe(3);
        aws.put(ids.privateKeySecretId, keyC); // an immediate rotation lands; it is picked up once the cache expires
        clock += 1;
        expect(pemOf((await credentials.get()).current.privateKey)).toBe(keyC);
        expect(reads()).toBe(6);
    });

    it("shares one read between concurrent callers; reload(stale) reads once however many callers ask", async () => {
        const credentials = store();
        const [first, second, third] = await Promise.all([credentials.get(), credentials.get(), credentials.get()]);
        expect(second).toBe(first);
        expect(third).toBe(first);
        expect(reads()).toBe(3);
        const reloaded = await Promise.all([credentials.reload(first), credentials.reload(first), credentials.reload(first)]);
        expect(new Set(reloaded).size).toBe(1);
        expect(reloaded[0]).not.toBe(first);
        expect(reads()).toBe(6);
        // A caller still holding the old credentials gets the newer ones, without another read.
        expect(await credentials.reload(first)).toBe(reloaded[0]);
        expect(reads()).toBe(6);
    });

    it("after a reload found nothing changed, holds it for rereadIntervalMs; reads again after it, or when the clock stepped back", async () => {
        const credentials = new PartnerApiCredentialStore({ ...ids, client, rereadIntervalMs: 10_000, now: () => clock });
        const first = await credentials.get();
        const unchanged = await credentials.reload(first); // a 401: read again, nothing moved
        expect(reads()).toBe(6);
        clock += 9_999;
        expect(await credentials.reload(unchanged)).toBe(unchanged); // a key Qredo rejects for good: no read per request
        expect(reads()).toBe(6);
        clock += 1;
        aws.put(ids.privateKeySecretId, keyB, { stages: ["AWSPENDING"] });
        const staged = await credentials.reload(unchanged);
        expect(pemOf(staged.pending!.privateKey)).toBe(keyB);
        expect(reads()).toBe(9);
        // The wall clock steps back (NTP) after another unchanged reload: no window, read again.
        const again = await credentials.reload(staged);
        clock -= 3_600_000;
        await credentials.reload(again);
        expect(reads()).toBe(15);
    });

    it("does not reuse loaded credentials when the clock stepped back past their load", async () => {
        const credentials = store(60_000);
        await credentials.get();
        clock -= 1;
        await credentials.get();
        expect(reads()).toBe(6);
    });

    it("does not cache a failure", async () => {
        const credentials = store();
        aws.denied.add(ids.apiKeySecretId);
        await expect(credentials.get()).rejects.toMatchObject({ name: "AccessDeniedException" });
        aws.denied.delete(ids.apiKeySecretId);
        await expect(credentials.get()).resolves.toMatchObject({ apiKey });
    });

    it("rejects within timeoutMs when Secrets Manager never answers, caches nothing, and recovers", async () => {
        // 500 ms: the reads after the recovery have that limit too, on a machine the suite keeps busy.
        const credentials = new PartnerApiCredentialStore({ ...ids, client, timeoutMs: 500 });
        aws.hang = true;
        const started = Date.now();
        const [a, b] = await Promise.all([credentials.get().catch((e: Error) => e), credentials.get().catch((e: Error) => e)]);
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(490);
        expect(elapsed).toBeLessThan(5_000);
        expect(a).toBe(b); // the concurrent callers shared the one read
        expect(a).toMatchObject({
            name: "TimeoutError",
            message: `reading ${ids.privateKeySecretId} (AWSCURRENT) from Secrets Manager did not finish within 500 ms (timeoutMs)`,
        });
        aws.hang = false;
        await expect(credentials.get()).resolves.toMatchObject({ apiKey });
    });

    it.each([
        ["cacheTtlMs", Number.NaN, "cacheTtlMs must be a finite number of milliseconds, 0 or more; got NaN"],
        ["cacheTtlMs", -1, "cacheTtlMs must be a finite number of milliseconds, 0 or more; got -1"],
        ["cacheTtlMs", Number.POSITIVE_INFINITY, "cacheTtlMs must be a finite number of milliseconds, 0 or more; got Infinity"],
        ["cacheTtlMs", "60000", "cacheTtlMs must be a finite number of milliseconds, 0 or more; got string"],
        ["timeoutMs", 0, "timeoutMs must be a finite number of milliseconds, more than 0 and at most 2147483647; got 0"],
        ["timeoutMs", 2 ** 31, "timeoutMs must be a finite number of milliseconds, more than 0 and at most 2147483647; got 2147483648"],
    ])("refuses %s %s at construction", (option, value, message) => {
        expect(() => new PartnerApiCredentialStore({ ...ids, client, [option]: value })).toThrow(`PartnerApiCredentialStore: ${message}`);
    });

    it("refuses a missing secret id at construction, naming the stack output", () => {
        expect(() => new PartnerApiCredentialStore({ ...ids, apiKeySecretId: "", client })).toThrow(
            "PartnerApiCredentialStore: apiKeySecretId must be the ARN or name of a secret (the stack's apiKeySecretArn output)",
        );
    });

    describe("with no client and no AWS region configured", () => {
        beforeEach(() => {
            // Only an endpoint and credentials: no region from the environment or a config file.
            for (const [name, value] of Object.entries({
                AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
                AWS_ACCESS_KEY_ID: "test",
                AWS_SECRET_ACCESS_KEY: "test",
                AWS_REGION: undefined,
                AWS_DEFAULT_REGION: undefined,
                AWS_PROFILE: undefined,
                AWS_CONFIG_FILE: "/nonexistent/aws-config",
                AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
                AWS_EC2_METADATA_DISABLED: "true",
            })) {
                vi.stubEnv(name, value);
            }
        });

        it("reads the secrets in the region of their ARNs", async () => {
            aws.regions.length = 0;
            const credentials = await new PartnerApiCredentialStore({ ...ids, timeoutMs: 5000 }).get();
            expect(credentials.apiKey).toBe(apiKey);
            expect(new Set(aws.regions)).toEqual(new Set(["eu-west-2"]));
        });

        it("reads each secret in its own ARN's region when the two differ", async () => {
            aws.regions.length = 0;
            const privateKeySecretId = aws.put(`t-${Math.random().toString(36).slice(2)}/private-key`, keyA, { region: "us-east-1" });
            const credentials = await new PartnerApiCredentialStore({ ...ids, privateKeySecretId, timeoutMs: 5000 }).get();
            expect(credentials.apiKey).toBe(apiKey);
            expect(new Set(aws.regions)).toEqual(new Set(["eu-west-2", "us-east-1"]));
        });

        it("with a client given that has no region, says to give it one (the ARNs' region is not the client's)", async () => {
            const regionless = new SecretsManagerClient({ endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
            await expect(new PartnerApiCredentialStore({ ...ids, client: regionless, timeoutMs: 5000 }).get()).rejects.toThrow(
                "from Secrets Manager: the Secrets Manager client given has no region; give it one (new SecretsManagerClient({ region })), the region in the secrets' ARNs",
            );
        });

        it("given secret names, says how to give a region instead of the SDK's bare 'Region is missing'", async () => {
            const names = {
                privateKeySecretId: "qredo/partner-api/sandbox/private-key",
                apiKeySecretId: "qredo/partner-api/sandbox/api-key",
            };
            await expect(new PartnerApiCredentialStore({ ...names, timeoutMs: 5000 }).get()).rejects.toThrow(
                /^reading qredo\/partner-api\/sandbox\/(private-key|api-key) \(AWSCURRENT\) from Secrets Manager: no AWS region is set\. Pass the secrets' ARNs \(the stack outputs privateKeySecretArn and apiKeySecretArn\), whose region is used, or set AWS_REGION, or pass a client$/,
            );
        });
    });

    it("refuses a stored API key that is not Base64, without quoting it", async () => {
        const bad = `${makeApiKey()}!`;
        const credentials = new PartnerApiCredentialStore({ ...ids, apiKeySecretId: aws.put(`bad-${Math.random()}`, bad), client });
        const error = await credentials.get().then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(/is not Base64/);
        expect(error?.message).not.toContain(bad.slice(0, 16));
    });

    it("refuses a stored private key that is not RSA 2048, naming the label; a staged one is reported, and AWSCURRENT still signs", async () => {
        const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        const secretId = aws.put(`small-${Math.random()}`, keyA);
        aws.put(secretId, small, { stages: ["AWSPENDING"] });
        const credentials = new PartnerApiCredentialStore({ ...ids, privateKeySecretId: secretId, client });
        const loaded = await credentials.get();
        expect(loaded.pendingProblem).toBe(`${secretId} (AWSPENDING): the private key is RSA 1024; the Qredo Partner API needs RSA 2048`);
        expect(loaded.pending).toBeUndefined();
        expect(loaded.current.versionId).toBe(aws.versionId(secretId, "AWSCURRENT"));

        const currentSmall = aws.put(`small-${Math.random()}`, small);
        await expect(new PartnerApiCredentialStore({ ...ids, privateKeySecretId: currentSmall, client }).get()).rejects.toThrow(
            `${currentSmall} (AWSCURRENT): the private key is RSA 1024; the Qredo Partner API needs RSA 2048`,
        );
    });

    it("reports a staged version that cannot be read, without the key, and still signs with AWSCURRENT", async () => {
        const secretId = aws.put(`unreadable-${Math.random()}`, keyA);
        aws.put(secretId, keyB, { stages: ["AWSPENDING"] });
        const credentials = new PartnerApiCredentialStore({ ...ids, privateKeySecretId: secretId, client });
        aws.deniedStages.add("AWSPENDING");
        try {
            const loaded = await credentials.get();
            expect(loaded.pendingProblem).toMatch(new RegExp(`^${secretId} \\(AWSPENDING\\) could not be read: .*not authorized`));
            expect(loaded.pendingProblem).not.toContain(keyB.split("\n")[1]);
            expect(loaded.pending).toBeUndefined();
            expect(loaded.current.versionId).toBe(aws.versionId(secretId, "AWSCURRENT"));
        } finally {
            aws.deniedStages.delete("AWSPENDING");
        }
    });
});
