// PartnerApiClient against a loopback Qredo that verifies signatures with the
// one public key uploaded to it, and a loopback Secrets Manager with real
// staging labels, driven through a whole staged rotation.
import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PartnerApiClient, type PartnerApiClientOptions } from "@qredo-partner-keys/client";
import { FakeQredo } from "../support/fakeQredo";
import { FakeSecretsManager } from "../support/fakeSecretsManager";
import { makeApiKey } from "../support/providers.js";
import { testKey } from "../support/testKeys";

const keys = [0, 1, 2].map((i) => testKey(i));
const [keyA, keyB, keyC] = keys;

let aws: FakeSecretsManager;
let qredo: FakeQredo;
let secretsManager: SecretsManagerClient;
beforeAll(async () => {
    // These tests build SDK clients on purpose; on Node 20 the SDK warns that its 2027 releases need Node 22.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    aws = new FakeSecretsManager();
    qredo = new FakeQredo();
    const endpoint = await aws.start();
    await qredo.start();
    secretsManager = new SecretsManagerClient({
        endpoint,
        region: "eu-west-2",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
});
afterAll(async () => {
    await Promise.all([aws.stop(), qredo.stop()]);
});

let ids: { privateKeySecretId: string; apiKeySecretId: string };
beforeEach(() => {
    const suffix = Math.random().toString(36).slice(2);
    qredo.apiKey = makeApiKey();
    qredo.upload(keyA.publicPem);
    qredo.hang = false;
    qredo.requests.length = 0;
    aws.hang = false;
    aws.holdUntil = undefined;
    ids = {
        privateKeySecretId: aws.put(`c-${suffix}/private-key`, keyA.pem),
        apiKeySecretId: aws.put(`c-${suffix}/api-key`, qredo.apiKey),
    };
});
const newClient = (options: Partial<PartnerApiClientOptions> = {}) =>
    new PartnerApiClient({ ...ids, baseUrl: qredo.baseUrl, secretsManager, ...options });

/** What `pulumi up` with keyStage pending does to the private key's secret. */
async function stage(pem: string): Promise<string> {
    const put = await secretsManager.send(
        new PutSecretValueCommand({ SecretId: ids.privateKeySecretId, SecretString: pem, VersionStages: ["AWSPENDING"] }),
    );
    return put.VersionId!;
}

/** What `pulumi up` with keyStage current does: AWSCURRENT moves to the staged version, AWSPENDING goes. */
async function promote(versionId: string): Promise<void> {
    const current = aws.versionId(ids.privateKeySecretId, "AWSCURRENT");
    await secretsManager.send(
        new UpdateSecretVersionStageCommand({
            SecretId: ids.privateKeySecretId,
            VersionStage: "AWSCURRENT",
            MoveToVersionId: versionId,
            RemoveFromVersionId: current,
        }),
    );
    await secretsManager.send(
        new UpdateSecretVersionStageCommand({
            SecretId: ids.privateKeySecretId,
            VersionStage: "AWSPENDING",
            RemoveFromVersionId: versionId,
        }),
    );
}

/** GETs and POSTs in turn; returns the statuses the caller saw. */
async function traffic(client: PartnerApiClient, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
        const response =
            i % 2 === 0
                ? await client.request(`/assets?page=${i}`)
                : await client.request("/company", {
                      method: "POST",
                      headers: { "content-type": "application/json" },
                      body: JSON.stringify({ name: `Zürich ${i}` }),
                  });
        const body = (await response.json()) as { echo?: string };
        if (i % 2 === 1 && response.status === 200) {
            expect(body.echo).toBe(JSON.stringify({ name: `Zürich ${i}` }));
        }
        statuses.push(response.status);
    }
    return statuses;
}

describe("PartnerApiClient across a staged rotation", () => {
    for (const cacheTtlMs of [0, 60_000]) {
        it(`returns no failed response while key A is live, B staged, B uploaded, B promoted (cacheTtlMs ${cacheTtlMs})`, async () => {
            const client = newClient({ cacheTtlMs });
            const statuses = await traffic(client, 4); // A live

            const staged = await stage(keyB.pem);
            statuses.push(...(await traffic(client, 4))); // B staged: signers keep A

            qredo.upload(keyB.publicPem);
            const afterUpload = qredo.requests.length;
            statuses.push(...(await traffic(client, 6)));
            expect(qredo.rejections(afterUpload)).toBe(1); // the one request that discovers the cutover

            await promote(staged);
            expect(aws.stages(ids.privateKeySecretId)).toEqual({
                [staged]: ["AWSCURRENT"],
                [aws.versionId(ids.privateKeySecretId, "AWSPREVIOUS")!]: ["AWSPREVIOUS"],
            });
            const afterPromotion = qredo.requests.length;
            statuses.push(...(await traffic(client, 4)));
            expect(qredo.rejections(afterPromotion)).toBe(0);

            expect(statuses).toEqual(new Array(18).fill(200));
            expect(qredo.rejections()).toBe(1);
        });
    }

    for (const cacheTtlMs of [0, 60_000]) {
        it(`a new API key while the uploaded staged key is in use: retried with that key and the new API key (cacheTtlMs ${cacheTtlMs})`, async () => {
            // rereadIntervalMs 0: the cutover's read just now would otherwise hold back the next one for 10 s.
            const client = newClient({ cacheTtlMs, rereadIntervalMs: 0 });
            await stage(keyB.pem);
            qredo.upload(keyB.publicPem);
            await traffic(client, 2); // the cutover: the client moves to B
            const newApiKey = makeApiKey();
            qredo.apiKey = newApiKey;
            aws.put(ids.apiKeySecretId, newApiKey);
            const before = qredo.requests.length;
            expect(await traffic(client, 4)).toEqual([200, 200, 200, 200]);
            expect(qredo.rejections(before)).toBe(1); // the request that finds the new API key
        });
    }

    it("retries an immediate rotation (a new AWSCURRENT, nothing staged) with the new key once Qredo rejects the old one", async () => {
        const client = newClient();
        await traffic(client, 2);
        aws.put(ids.privateKeySecretId, keyB.pem);
        qredo.upload(keyB.publicPem);
        const before = qredo.requests.length;
        expect(await traffic(client, 4)).toEqual([200, 200, 200, 200]);
        expect(qredo.rejections(before)).toBe(1);
    });

    it("after a rollback, going forward to the new key in the order of docs/rotation.md fails no request", async () => {
        const label = (input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) =>
            secretsManager.send(new UpdateSecretVersionStageCommand({ SecretId: ids.privateKeySecretId, ...input }));
        // An immediate rotation to B that was not uploaded, rolled back: AWSCURRENT on A again, B AWSPREVIOUS.
        const keyN = aws.versionId(ids.privateKeySecretId, "AWSCURRENT")!;
        aws.put(ids.privateKeySecretId, keyB.pem);
        const newKey = aws.versionId(ids.privateKeySecretId, "AWSCURRENT")!;
        await label({ VersionStage: "AWSCURRENT", MoveToVersionId: keyN, RemoveFromVersionId: newKey });
        const client = newClient({ rereadIntervalMs: 0 });
        const statuses = await traffic(client, 2);

        await label({ VersionStage: "AWSPENDING", MoveToVersionId: newKey }); // 1. staged again
        statuses.push(...(await traffic(client, 2)));
        qredo.upload(keyB.publicPem); // 2. uploaded
        statuses.push(...(await traffic(client, 4)));
        await label({ VersionStage: "AWSCURRENT", MoveToVersionId: newKey, RemoveFromVersionId: keyN }); // 3. current again
        await label({ VersionStage: "AWSPENDING", RemoveFromVersionId: newKey });
        statuses.push(...(await traffic(client, 4)));

        expect(statuses).toEqual(new Array(12).fill(200));
        expect(qredo.rejections()).toBe(1);
        expect(aws.stages(ids.privateKeySecretId)).toEqual({ [newKey]: ["AWSCURRENT"], [keyN]: ["AWSPREVIOUS"] });
    });

    it("signs with AWSCURRENT while the staged version cannot be used, and says why when Qredo then rejects that key", async () => {
        aws.put(ids.privateKeySecretId, keyB.pem.slice(0, 200), { stages: ["AWSPENDING"] }); // cut short
        const client = newClient({ rereadIntervalMs: 0 });
        expect(await traffic(client, 2)).toEqual([200, 200]);
        qredo.upload(keyB.publicPem);
        const error = await client.request("/assets").then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).toMatch(
            /^Qredo rejected the request \(401\), and the staged key that could retry it cannot be used: \S+ \(AWSPENDING\): /,
        );
        expect(error?.message).not.toContain(keyB.pem.split("\n")[1]);
    });

    it("retries once with the other key when Qredo accepts neither, then returns Qredo's 401; it never loops", async () => {
        qredo.upload(keyC.publicPem);
        await stage(keyB.pem);
        const client = newClient();
        const response = await client.request("/assets");
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ code: 401, msg: "Unauthorized" });
        expect(qredo.requests.map((r) => r.status)).toEqual([401, 401]);
        expect((await client.request("/assets")).status).toBe(401);
        expect(qredo.requests.length).toBe(4);
    });

    it("returns Qredo's 401 after one attempt when there is no other key to try, having read the secrets again", async () => {
        qredo.upload(keyC.publicPem);
        const client = newClient();
        aws.calls.length = 0;
        const response = await client.request("/assets");
        expect(response.status).toBe(401);
        expect(qredo.requests.length).toBe(1);
        expect(aws.calls.filter((c) => c.startsWith(`GetSecretValue ${ids.privateKeySecretId} AWSCURRENT`)).length).toBe(2);
    });

    it("a key Qredo rejects for good costs one read of the secrets per rereadIntervalMs, not one per request", async () => {
        qredo.upload(keyC.publicPem);
        const reads = async (options: Partial<PartnerApiClientOptions>) => {
            const client = newClient(options);
            aws.calls.length = 0;
            for (let i = 0; i < 5; i++) {
                expect((await client.request("/assets")).status).toBe(401);
            }
            return aws.calls.filter((c) => c.startsWith(`GetSecretValue ${ids.privateKeySecretId} AWSCURRENT`)).length;
        };
        expect(await reads({})).toBe(2); // the first read, and one reload that found nothing changed
        expect(await reads({ rereadIntervalMs: 0 })).toBe(6);
    });

    it("sends a form, URL-encoded parameters or bytes again on the retry, signed exactly as sent", async () => {
        const client = newClient();
        await stage(keyB.pem);
        qredo.upload(keyB.publicPem);
        const form = new FormData();
        form.set("name", "Acme");
        form.set("file", new Blob(["hello"], { type: "text/plain" }), "hello.txt");
        const bodies: RequestInit["body"][] = [
            form,
            new URLSearchParams({ a: "1", b: "ü" }),
            new Uint8Array([0, 1, 2, 255]),
            new Blob(["blob"]),
        ];
        for (const body of bodies) {
            expect((await client.request("/upload", { method: "POST", body })).status).toBe(200);
        }
        expect(qredo.requests.map((r) => r.status)).toEqual([401, 200, 200, 200, 200]);
        expect(qredo.requests[1].body).toContain('Content-Disposition: form-data; name="file"; filename="hello.txt"');
        expect(qredo.requests[1].body).toBe(qredo.requests[0].body);
        expect(qredo.requests[2].body).toBe("a=1&b=%C3%BC");
    });

    it("refuses a body that can be read only once, before sending anything", async () => {
        const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("{}")), c.close()) });
        await expect(newClient().request("/company", { method: "POST", body: stream })).rejects.toThrow(
            "PartnerApiClient.request: the body is a ReadableStream, which can be read only once; it could be neither signed nor sent again after a 401. Pass the body as a string, bytes, a Blob, URLSearchParams or FormData.",
        );
        expect(qredo.requests).toEqual([]);
    });
});

describe("PartnerApiClient when answers are slow or late", () => {
    const timeoutMs = 800;
    /**
     * A fetch that hands the client its first 401 only after `delayMs`, and holds Secrets Manager's answers
     * until that attempt's deadline (timeoutMs from its start) has passed: the reload outlasts the attempt.
     */
    function slowFirstRejection(delayMs: number, onRejected: () => void = () => undefined): typeof fetch {
        let seen = false;
        return async (input, init) => {
            const response = await fetch(input, init);
            if (response.status === 401 && !seen) {
                seen = true;
                const signal = init!.signal!;
                aws.holdUntil = new Promise((resolve) =>
                    signal.aborted ? resolve(undefined) : signal.addEventListener("abort", resolve, { once: true }),
                );
                onRejected();
                await new Promise((resolve) => setTimeout(resolve, delayMs));
            }
            return response;
        };
    }

    it("retries a 401 whose reload outlasts the rejected attempt's deadline, each within its own timeoutMs", async () => {
        await stage(keyB.pem);
        qredo.upload(keyB.publicPem);
        const client = newClient({ timeoutMs, fetch: slowFirstRejection(300) });
        const response = await client.request("/assets");
        expect(response.status).toBe(200);
        expect(qredo.requests.map((r) => r.status)).toEqual([401, 200]);
    });

    it("returns Qredo's 401 with its body readable when there is no other key, however long the reload took", async () => {
        qredo.upload(keyC.publicPem);
        const client = newClient({ timeoutMs, fetch: slowFirstRejection(300) });
        const response = await client.request("/assets");
        expect(response.status).toBe(401);
        expect(response.url).toBe(`${qredo.baseUrl}/assets`);
        expect(await response.json()).toEqual({ code: 401, msg: "Unauthorized" });
    });

    it("says the credentials could not be read again when that reload fails late, not that the first attempt timed out", async () => {
        await stage(keyB.pem);
        qredo.upload(keyB.publicPem);
        const client = newClient({ timeoutMs, fetch: slowFirstRejection(300, () => aws.denied.add(ids.privateKeySecretId)) });
        await expect(client.request("/assets")).rejects.toThrow(
            /^Qredo rejected the request \(401\) and the credentials could not be read again to retry it: /,
        );
        aws.denied.delete(ids.privateKeySecretId);
    });

    it("a slow request signed before the cutover that Qredo accepted does not bring the old key back", async () => {
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const client = newClient({
            rereadIntervalMs: 0,
            fetch: async (input, init) => {
                const response = await fetch(input, init);
                if (String(input).endsWith("/slow")) {
                    await gate;
                }
                return response;
            },
        });
        await stage(keyB.pem);
        const slow = client.request("/slow"); // signed with A, answered 200, held on its way back
        await expect.poll(() => qredo.requests.length).toBe(1);
        qredo.upload(keyB.publicPem);
        expect((await client.request("/assets")).status).toBe(200); // 401, retried with B
        release();
        expect((await slow).status).toBe(200);
        const before = qredo.requests.length;
        expect(await traffic(client, 2)).toEqual([200, 200]);
        expect(qredo.rejections(before)).toBe(0);
    });

    it("keeps a new key Qredo accepted although requests signed with the old key are rejected meanwhile", async () => {
        // Responses Qredo accepted for /r1 and /r2 are held until released: their retries overlap. /r0 is held
        // before it is sent: signed with A before the cutover, it reaches Qredo after B was accepted.
        const gate = () => {
            let resolve: () => void = () => undefined;
            return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
        };
        const gates = new Map(["r0", "r1", "r2"].map((name) => [name, gate()]));
        const r0Retry = gate();
        const client = newClient({
            rereadIntervalMs: 0,
            fetch: async (input, init) => {
                const name = String(input).split("/").pop()!;
                if (name === "r0") {
                    await gates.get(name)!.promise;
                }
                const response = await fetch(input, init);
                const held = name === "r0" ? r0Retry : gates.get(name);
                if (response.status === 200 && held !== undefined) {
                    await held.promise;
                }
                return response;
            },
        });
        expect(await traffic(client, 1)).toEqual([200]); // A accepted
        await stage(keyB.pem);
        const r0 = client.request("/r0");
        qredo.upload(keyB.publicPem);
        const arrivedAt = (name: string) => qredo.requests.filter((r) => r.url.endsWith(`/${name}`)).length;
        const r1 = client.request("/r1"); // A: 401, then B: 200, held
        await expect.poll(() => arrivedAt("r1")).toBe(2);
        const r2 = client.request("/r2"); // A again (nothing accepted yet): 401, then B: 200, held
        await expect.poll(() => arrivedAt("r2")).toBe(2);
        gates.get("r1")!.resolve();
        expect((await r1).status).toBe(200);
        const before = qredo.requests.length;
        expect(await traffic(client, 2)).toEqual([200, 200]); // signed with B: r2's 401 came for A
        expect(qredo.rejections(before)).toBe(0);
        gates.get("r0")!.resolve(); // A: 401, then B: 200, held
        await expect.poll(() => arrivedAt("r0")).toBe(2);
        const afterStale = qredo.requests.length;
        expect(await traffic(client, 2)).toEqual([200, 200]); // still B: that 401 was A's
        expect(qredo.rejections(afterStale)).toBe(0);
        r0Retry.resolve();
        expect((await r0).status).toBe(200);
        gates.get("r2")!.resolve();
        expect((await r2).status).toBe(200);
    });

    it("retries a 401 whose body cannot be read in time or is too large; with no other key, says the answer could not be read", async () => {
        /** A fetch whose first answer is a 401 with this body, made here; the rest go to Qredo. */
        const rejectingFirst = (body: (signal: AbortSignal) => ReadableStream<Uint8Array>): typeof fetch => {
            let first = true;
            return async (input, init) => {
                if (!first) {
                    return fetch(input, init);
                }
                first = false;
                return new Response(body(init!.signal!), { status: 401, headers: { "content-type": "application/json" } });
            };
        };
        // Never finishes: errors when the attempt's deadline aborts it, as fetch's own bodies do.
        const endless = (signal: AbortSignal) =>
            new ReadableStream<Uint8Array>({
                start: (c) => {
                    c.enqueue(new TextEncoder().encode("{"));
                    signal.addEventListener("abort", () => c.error(signal.reason), { once: true });
                },
            });
        const huge = () => new Blob([new Uint8Array(100 * 1024)]).stream();
        // Never finishes and never errors: a fetch option that ignores the signal.
        const ignoring = () => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
        await stage(keyB.pem);
        qredo.upload(keyB.publicPem);
        for (const body of [endless, huge, ignoring]) {
            const before = qredo.requests.length;
            const response = await newClient({ timeoutMs: 600, fetch: rejectingFirst(body) }).request("/assets");
            expect(response.status).toBe(200);
            expect(qredo.requests.slice(before).map((r) => r.status)).toEqual([200]);
        }
        await promote(aws.versionId(ids.privateKeySecretId, "AWSPENDING")!);
        for (const body of [endless, huge, ignoring]) {
            await expect(newClient({ timeoutMs: 600, fetch: rejectingFirst(body) }).request("/assets")).rejects.toThrow(
                "Qredo rejected the request (401), there is no other key to retry it with, and its answer could not be read (within timeoutMs, and at most 65536 bytes)",
            );
        }
    });

    it("stops when the caller aborts while a 401's body is read: no reload, no retry", async () => {
        await stage(keyB.pem);
        qredo.upload(keyB.publicPem);
        const controller = new AbortController();
        const client = newClient({
            fetch: async (_input, init) => {
                const signal = init!.signal!;
                setTimeout(() => controller.abort(), 50);
                const body = new ReadableStream<Uint8Array>({
                    start: (c) => signal.addEventListener("abort", () => c.error(signal.reason), { once: true }),
                });
                return new Response(body, { status: 401 });
            },
        });
        await client.credentials.get(); // the first read, before the request
        aws.calls.length = 0;
        await expect(client.request("/assets", { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
        expect(aws.calls).toEqual([]);
    });

    it("reads a staged version that could not be used again at the next 401, within rereadIntervalMs too", async () => {
        await stage(keyB.pem);
        const client = newClient({ rereadIntervalMs: 60_000 });
        aws.deniedStages.add("AWSPENDING");
        try {
            expect((await client.request("/assets")).status).toBe(200); // signs with A
            qredo.upload(keyB.publicPem);
            await expect(client.request("/assets")).rejects.toThrow(/the staged key that could retry it cannot be used/);
        } finally {
            aws.deniedStages.delete("AWSPENDING");
        }
        expect((await client.request("/assets")).status).toBe(200);
    });

    it("shows no API key when the client or its credentials are inspected or serialised", async () => {
        const client = newClient();
        expect((await client.request("/assets")).status).toBe(200);
        const seen = new WeakSet<object>();
        const json = JSON.stringify(client, (_key, value: unknown) => {
            if (typeof value === "object" && value !== null) {
                if (seen.has(value)) {
                    return undefined;
                }
                seen.add(value);
            }
            return value;
        });
        const shown = [inspect(client, { depth: Infinity, showHidden: true }), inspect(client.credentials), json];
        for (const text of shown) {
            expect(text).toContain(ids.privateKeySecretId);
            expect(text).not.toContain(qredo.apiKey);
            expect(text).not.toContain(keyA.pem.split("\n")[1]);
        }
    });
});

describe("PartnerApiClient requests", () => {
    it("resolves paths below baseUrl and accepts full URLs under it, signing the URL as sent", async () => {
        const client = newClient();
        for (const target of [
            "/assets?limit=10&offset=0",
            "assets?limit=10&offset=0",
            `${qredo.baseUrl}/assets?limit=10&offset=0`,
            new URL(`${qredo.baseUrl}/assets?limit=10&offset=0`),
        ]) {
            expect((await client.request(target)).status).toBe(200);
        }
        expect(new Set(qredo.requests.map((r) => r.url))).toEqual(new Set([`${qredo.baseUrl}/assets?limit=10&offset=0`]));
    });

    it("refuses a URL outside baseUrl, so the API key never reaches another server", async () => {
        const client = newClient();
        const origin = new URL(qredo.baseUrl).origin;
        for (const target of ["https://evil.example/api/v1/p/assets", `${origin}/api/v1/px/assets`, `${origin}/other`]) {
            await expect(client.request(target)).rejects.toThrow(
                /is not under the Partner API base URL .*; pass a path below it, or set baseUrl$/,
            );
        }
        expect(qredo.requests).toEqual([]);
    });

    it("refuses a path whose dot segments climb out of baseUrl, before sending anything", async () => {
        const client = newClient();
        for (const target of ["../../../admin/secret", "/assets/../../other", "%2e%2e/%2e%2e/admin"]) {
            await expect(client.request(target), target).rejects.toThrow(/is not under the Partner API base URL/);
        }
        expect(qredo.requests).toEqual([]);
    });

    it("refuses an encoded / or \\ in the path, which a decoding proxy would read as a way out; a query may hold one", async () => {
        const client = newClient();
        for (const target of ["..%2F..%2Fadmin", "/assets/..%2f..%2fadmin", "..%5C..%5Cadmin", "/assets/a%5cb"]) {
            await expect(client.request(target), target).rejects.toThrow(
                /^PartnerApiClient\.request: the path holds an encoded \/ or \\ \(%2F or %5C\)/,
            );
        }
        expect(qredo.requests).toEqual([]);
        await client.request("/assets?cursor=a%2Fb");
        expect(qredo.requests.map((r) => [r.url, r.status])).toEqual([[`${qredo.baseUrl}/assets?cursor=a%2Fb`, 200]]);
        // Only the part below baseUrl is the caller's: a base URL that holds one (a proxy's path) still works.
        const encodedBase = new PartnerApiClient({ ...ids, baseUrl: `${qredo.baseUrl}/x%2Fy`, secretsManager });
        await expect(encodedBase.request("/assets")).resolves.toBeInstanceOf(Response);
        await expect(encodedBase.request("/a%2F..%2Fb")).rejects.toThrow(/the path holds an encoded/);
    });

    it("refuses a #fragment, which would be signed but never sent", async () => {
        await expect(newClient().request("/assets#top")).rejects.toThrow(/#fragment, which is never sent/);
        expect(qredo.requests).toEqual([]);
    });

    it('drops an empty query ("/assets?"), which fetch never sends, so the URL signed is the URL Qredo receives', async () => {
        const client = newClient();
        for (const target of ["/assets?", "assets?", `${qredo.baseUrl}/assets?`, new URL(`${qredo.baseUrl}/assets?`)]) {
            expect((await client.request(target)).status, String(target)).toBe(200);
        }
        expect(qredo.requests.map((r) => [r.url, r.status])).toEqual(new Array(4).fill([`${qredo.baseUrl}/assets`, 200]));
    });

    it('refuses an empty #fragment too ("/assets#", "/assets?a=1#"): an unencoded # in a query value must not be cut off unseen', async () => {
        const client = newClient();
        for (const target of [
            "/assets#",
            "/assets?a=1#",
            "/assets?#",
            `${qredo.baseUrl}/assets#`,
            new URL(`${qredo.baseUrl}/assets?a=1#`),
        ]) {
            await expect(client.request(target), String(target)).rejects.toThrow(
                "PartnerApiClient.request: the URL has a #fragment, which is never sent to the server; remove it",
            );
        }
        expect(qredo.requests).toEqual([]);
    });

    it("refuses a user name or password in the URL, which would be signed but never sent", async () => {
        const withCredentials = qredo.baseUrl.replace("://", "://user:secret@");
        await expect(newClient().request(`${withCredentials}/assets`)).rejects.toThrow(
            "PartnerApiClient.request: the URL holds a user name or password (user:password@), which is never sent that way; remove it",
        );
        expect(qredo.requests).toEqual([]);
    });

    it("refuses a baseUrl with a query, fragment or credentials, an empty ? or # included, when the client is made", () => {
        const base = "https://api.qredo.network/api/v1/p";
        for (const baseUrl of [`${base}?`, `${base}#`, `${base}?a=1`, `${base}#top`, base.replace("://", "://user:pw@")]) {
            expect(() => newClient({ baseUrl }), baseUrl).toThrow(
                `PartnerApiClient: baseUrl must be a plain URL without query, fragment or credentials, such as ${base}`,
            );
        }
    });

    it("refuses a plain-http baseUrl except to this machine", () => {
        for (const baseUrl of ["http://api.qredo.network/api/v1/p", "http://10.0.0.1/p", "ftp://api.qredo.network/p"]) {
            expect(() => newClient({ baseUrl }), baseUrl).toThrow(
                /baseUrl must use https \(plain http only to localhost, 127.0.0.1 or \[::1\]\)/,
            );
        }
        for (const baseUrl of ["https://api.qredo.network/api/v1/p", "http://127.0.0.1:9/p", "http://localhost:9/p", "http://[::1]:9/p"]) {
            expect(() => newClient({ baseUrl }), baseUrl).not.toThrow();
        }
    });

    it("rejects within timeoutMs when Qredo never answers", async () => {
        qredo.hang = true;
        const started = Date.now();
        await expect(newClient({ timeoutMs: 200 }).request("/assets")).rejects.toMatchObject({
            name: "TimeoutError",
            message: `Qredo Partner API GET ${qredo.baseUrl}/assets did not finish within 200 ms (timeoutMs)`,
        });
        expect(Date.now() - started).toBeLessThan(1_000);
    });

    it("rejects within timeoutMs when Secrets Manager never answers, sending nothing to Qredo", async () => {
        aws.hang = true;
        const started = Date.now();
        await expect(newClient({ timeoutMs: 200 }).request("/assets")).rejects.toMatchObject({
            name: "TimeoutError",
            message: expect.stringMatching(/from Secrets Manager did not finish within 200 ms \(timeoutMs\)$/),
        });
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(qredo.requests).toEqual([]);
    });

    it.each([
        [
            { timeoutMs: Number.NaN },
            "PartnerApiClient: timeoutMs must be a finite number of milliseconds, more than 0 and at most 2147483647; got NaN",
        ],
        [
            { cacheTtlMs: Number.POSITIVE_INFINITY },
            "PartnerApiCredentialStore: cacheTtlMs must be a finite number of milliseconds, 0 or more; got Infinity",
        ],
        [
            { baseUrl: "api.qredo.network" },
            'PartnerApiClient: baseUrl must be an absolute URL such as https://api.qredo.network/api/v1/p; got "api.qredo.network"',
        ],
    ])("refuses bad options at construction: %j", (options, message) => {
        expect(() => newClient(options)).toThrow(message);
    });
});
