/**
 * A fetch-like client for the Qredo Partner API that signs every request and
 * survives a staged key rotation without a failed request:
 *
 *     const qredo = new PartnerApiClient({
 *         privateKeySecretId: process.env.QREDO_PRIVATE_KEY_SECRET_ARN!,
 *         apiKeySecretId: process.env.QREDO_API_KEY_SECRET_ARN!,
 *     });
 *     const response = await qredo.request("/assets");
 *
 * Qredo checks one public key at a time, and the upload of a new one is a
 * cutover (DESIGN.md, "Rotation"). When Qredo answers 401, the client reads
 * the secrets again and retries once with the other key: the staged
 * `AWSPENDING` key, or a newly promoted `AWSCURRENT` one; when the API key
 * changed, with the same private key and the new API key first. It then keeps
 * signing with the key Qredo accepted until a read shows that the labels
 * moved, so a cutover costs a signer one rejected attempt per request in
 * flight (usually one), each retried. A 401 after the retry is Qredo's
 * answer, returned as it is.
 *
 * What holds the API key (the credentials, the signer Qredo accepted) is kept
 * in `#private` fields, which neither `util.inspect` nor `JSON.stringify` show.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { prepareBody } from "./body";
import { PartnerApiCredentialStore, type PartnerApiCredentials, type SigningKey } from "./credentialStore";
import { partnerApiBaseUrl, signRequest } from "./signing";
import { checkDuration, defaultTimeoutMs, withTimeout } from "./timeouts";

export interface PartnerApiClientOptions {
    /** ARN or name of the private key's secret (the `privateKeySecretArn` output). */
    readonly privateKeySecretId: string;
    /** ARN or name of the API key's secret (the `apiKeySecretArn` output). */
    readonly apiKeySecretId: string;
    /** The Partner API base URL (the stack's `partnerApiBaseUrl` output). @default "https://api.qredo.network/api/v1/p" */
    readonly baseUrl?: string | undefined;
    /** @default a client with the SDK's default credentials and endpoint, in the region of the secrets' ARNs (else the SDK's default region) */
    readonly secretsManager?: SecretsManagerClient | undefined;
    /** How long loaded credentials are reused. @default 300000 (5 minutes) */
    readonly cacheTtlMs?: number | undefined;
    /** See `CredentialStoreOptions.rereadIntervalMs`. @default 10000 */
    readonly rereadIntervalMs?: number | undefined;
    /** Limit on each HTTP attempt (reading its response body included) and each Secrets Manager read. @default 30000 */
    readonly timeoutMs?: number | undefined;
    /** @default globalThis.fetch */
    readonly fetch?: typeof fetch | undefined;
}

/** Which key and which API key signed a request, and the labels seen when it was chosen. */
interface Signer {
    readonly key: SigningKey;
    readonly apiKey: string;
    readonly apiKeyVersionId: string;
    readonly labels: string;
}

const labelsOf = (c: PartnerApiCredentials) => `${c.current.versionId}|${c.pending?.versionId ?? ""}|${c.apiKeyVersionId}`;
const signerOf = (c: PartnerApiCredentials, key: SigningKey): Signer => ({
    key,
    apiKey: c.apiKey,
    apiKeyVersionId: c.apiKeyVersionId,
    labels: labelsOf(c),
});
const signerId = (s: Signer) => `${s.key.versionId}|${s.apiKeyVersionId}`;
const sameSigner = (a: Signer, b: Signer) => signerId(a) === signerId(b);

/** Qredo's 401 bodies are a few bytes; a body larger than this is not kept. */
const maxRejectionBytes = 64 * 1024;

export class PartnerApiClient {
    readonly credentials: PartnerApiCredentialStore;
    private readonly baseUrl: URL;
    private readonly timeoutMs: number;
    private readonly fetch: typeof fetch;
    /** The signer Qredo last accepted; kept while the labels stay where they were. */
    #accepted?: Signer;
    /** Orders attempts and rejections: each attempt starts at the next tick, and each 401 takes one. */
    #clock = 0;
    /** When each signer (by `signerId`) was last rejected: an acceptance of an attempt started before is out of date. */
    readonly #rejectedAt = new Map<string, number>();

    constructor(options: PartnerApiClientOptions) {
        this.timeoutMs = checkDuration("PartnerApiClient", "timeoutMs", options.timeoutMs ?? defaultTimeoutMs, { allowZero: false });
        this.baseUrl = parseBaseUrl(options.baseUrl ?? partnerApiBaseUrl);
        this.fetch = options.fetch ?? globalThis.fetch;
        this.credentials = new PartnerApiCredentialStore({
            privateKeySecretId: options.privateKeySecretId,
            apiKeySecretId: options.apiKeySecretId,
            ...(options.secretsManager === undefined ? {} : { client: options.secretsManager }),
            ...(options.cacheTtlMs === undefined ? {} : { cacheTtlMs: options.cacheTtlMs }),
            ...(options.rereadIntervalMs === undefined ? {} : { rereadIntervalMs: options.rereadIntervalMs }),
            timeoutMs: this.timeoutMs,
        });
    }

    /**
     * Sends one signed request. `pathOrUrl` is a path below `baseUrl`
     * ("/assets?limit=10") or a full URL under it.
     */
    async request(pathOrUrl: string | URL, init: RequestInit = {}): Promise<Response> {
        const url = this.resolve(pathOrUrl);
        const method = (init.method ?? "GET").toUpperCase();
        const body = await prepareBody(method, init.body);
        const attempt = (signer: Signer) => this.send(url, method, init, body, signer);

        const loaded = await this.credentials.get();
        const first = this.choose(loaded);
        const firstStarted = ++this.#clock;
        const response = await attempt(first);
        this.remember(first, response, firstStarted);
        if (response.status !== 401) {
            return response;
        }
        // Read now, within this attempt's deadline, which keeps running: the reload below may outlast it, and
        // this 401 may be the answer to return. A body that cannot be read in time is no reason not to retry.
        const rejected = await buffered(response);
        init.signal?.throwIfAborted(); // the caller gave up: no reload, no retry
        let reloaded: PartnerApiCredentials;
        try {
            reloaded = await this.credentials.reload(loaded);
        } catch (error) {
            throw new Error(
                `Qredo rejected the request (401) and the credentials could not be read again to retry it: ${(error as Error).message}`,
                { cause: error },
            );
        }
        const keys = [reloaded.current, reloaded.pending].filter((k) => k !== undefined);
        // A new API key: the private key just tried is still the one uploaded (Qredo checks one at a time), so it
        // goes first, with the new API key; AWSCURRENT first would be the wrong key while a staged one is live.
        const apiKeyMoved = reloaded.apiKeyVersionId !== first.apiKeyVersionId;
        const ordered = apiKeyMoved
            ? [...keys].sort((a, b) => Number(b.versionId === first.key.versionId) - Number(a.versionId === first.key.versionId))
            : keys;
        const other = ordered.map((k) => signerOf(reloaded, k)).find((s) => !sameSigner(s, first));
        if (other === undefined) {
            if (reloaded.pendingProblem !== undefined) {
                // A staged key that cannot be used may be the one uploaded: say so, rather than return a bare 401.
                throw new Error(
                    `Qredo rejected the request (401), and the staged key that could retry it cannot be used: ${reloaded.pendingProblem}`,
                );
            }
            if (rejected === undefined) {
                throw new Error(
                    `Qredo rejected the request (401), there is no other key to retry it with, and its answer could not be read (within timeoutMs, and at most ${maxRejectionBytes} bytes)`,
                );
            }
            return rejected; // nothing else to try: Qredo's 401 is the answer
        }
        const retryStarted = ++this.#clock;
        const retried = await attempt(other);
        this.remember(other, retried, retryStarted);
        return retried;
    }

    /** The key Qredo last accepted while the labels have not moved since; otherwise AWSCURRENT. */
    private choose(credentials: PartnerApiCredentials): Signer {
        const accepted = this.#accepted;
        if (accepted !== undefined && accepted.labels === labelsOf(credentials)) {
            const key = [credentials.current, credentials.pending].find((k) => k?.versionId === accepted.key.versionId);
            if (key !== undefined) {
                return signerOf(credentials, key);
            }
        }
        return signerOf(credentials, credentials.current);
    }

    /**
     * A 401 marks its signer rejected (and forgets it, if it was the accepted one); an answer Qredo accepted makes
     * its signer the accepted one, unless that signer was rejected since the attempt started: a slow request signed
     * before a cutover must not bring the old key back. 401s to other signers (requests in flight at the cutover,
     * signed with the old key) leave a newly accepted signer alone.
     */
    private remember(signer: Signer, response: Response, started: number): void {
        const id = signerId(signer);
        if (response.status === 401) {
            this.#rejectedAt.set(id, ++this.#clock);
            if (this.#accepted !== undefined && sameSigner(this.#accepted, signer)) {
                this.#accepted = undefined;
            }
        } else if (response.status < 500 && (this.#rejectedAt.get(id) ?? 0) < started) {
            this.#accepted = signer;
        }
    }

    private resolve(pathOrUrl: string | URL): string {
        const base = this.baseUrl.href.replace(/(?<!\/)\/+$/, ""); // the slashes it ends with; linear, unlike /\/+$/
        const basePath = base.slice(this.baseUrl.origin.length);
        const text = String(pathOrUrl);
        const isAbsolute = /^[a-z][a-z0-9+.-]*:/i.test(text);
        // A path is resolved, dot segments and all, before the check below: "../" must not climb out of the base path.
        const url = new URL(isAbsolute ? text : `${base}/${text.replace(/^\/+/, "")}`);
        if (url.origin !== this.baseUrl.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
            // The API key travels in a header: never hand it to another server, or another service behind the same host.
            throw new Error(
                `PartnerApiClient.request: ${url.origin}${url.pathname} is not under the Partner API base URL ${base}; pass a path below it, or set baseUrl`,
            );
        }
        if (/%(2f|5c)/i.test(url.pathname.slice(basePath.length))) {
            // Qredo's paths never hold one; a proxy or server that decodes it would see "../" climb out of the base path.
            throw new Error(
                "PartnerApiClient.request: the path holds an encoded / or \\ (%2F or %5C), which a server decoding it could read as a way out of the base path; pass the path segments unencoded",
            );
        }
        if (url.href.includes("#")) {
            // A fragment is never sent, so a signature over the URL with it could never verify. `url.hash` is "" for an
            // empty one too ("/assets#"), which is refused like "#top": it may be an unencoded # cutting a query value short.
            throw new Error("PartnerApiClient.request: the URL has a #fragment, which is never sent to the server; remove it");
        }
        if (url.username !== "" || url.password !== "") {
            throw new Error(
                "PartnerApiClient.request: the URL holds a user name or password (user:password@), which is never sent that way; remove it",
            );
        }
        // What fetch sends, and so what is signed: origin, path and query. An empty "?" ("/assets?") is not sent;
        // `search` is "" for it, so it drops out here, changing nothing the server sees.
        return `${url.origin}${url.pathname}${url.search}`;
    }

    private async send(
        url: string,
        method: string,
        init: RequestInit,
        body: { bytes?: Uint8Array; contentType?: string },
        signer: Signer,
    ): Promise<Response> {
        const headers = new Headers(init.headers);
        if (body.contentType !== undefined && !headers.has("content-type")) {
            headers.set("content-type", body.contentType);
        }
        const signed = signRequest({
            privateKeyPem: signer.key.privateKey,
            apiKey: signer.apiKey,
            url,
            ...(body.bytes === undefined ? {} : { body: body.bytes }),
        });
        for (const name of ["x-api-key", "x-timestamp", "x-sign"] as const) {
            headers.set(name, signed[name]);
        }
        // withTimeout bounds the wait for the response; this signal, left running, bounds reading its body too.
        const bodyDeadline = AbortSignal.timeout(this.timeoutMs);
        const signal = AbortSignal.any([bodyDeadline, ...(init.signal ? [init.signal] : [])]);
        const response = await withTimeout(
            `Qredo Partner API ${method} ${url}`,
            this.timeoutMs,
            (timeout) =>
                this.fetch(url, {
                    ...init,
                    method,
                    headers,
                    body: body.bytes ?? null,
                    redirect: "manual", // a redirect would carry the API key to wherever it points
                    signal: AbortSignal.any([timeout, signal]),
                }),
            bodyDeadline,
        );
        attemptSignals.set(response, signal);
        return response;
    }
}

/** The signal each attempt's body reading answers to (its deadline, and the caller's signal). */
const attemptSignals = new WeakMap<Response, AbortSignal>();

/**
 * The response with its body read into memory, so that it no longer depends on the attempt's deadline; undefined
 * when the body could not be read in time, or is larger than `maxRejectionBytes`. Each read also ends when the
 * attempt's signal does, even if a `fetch` option ignored it.
 */
async function buffered(response: Response): Promise<Response | undefined> {
    const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
    const signal = attemptSignals.get(response);
    const ended = new Promise<never>((_, reject) => {
        const end = () => reject(new Error("the attempt ended"));
        if (signal?.aborted) {
            end();
        }
        signal?.addEventListener("abort", end, { once: true });
    });
    ended.catch(() => undefined); // raced below; unobserved otherwise
    const read = () => (reader === undefined ? undefined : Promise.race([reader.read(), ended]));
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
        // Bounded: every read takes a chunk, and at most maxRejectionBytes are kept.
        for (let chunk = await read(); chunk !== undefined && !chunk.done; chunk = await read()) {
            size += chunk.value.byteLength;
            if (size > maxRejectionBytes) {
                await reader?.cancel().catch(() => undefined);
                return undefined;
            }
            chunks.push(chunk.value);
        }
    } catch {
        await reader?.cancel().catch(() => undefined);
        return undefined; // the attempt's deadline (or the caller) ended the body; nothing more can be read
    }
    const copy = new Response(reader === undefined ? null : Buffer.concat(chunks), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
    });
    Object.defineProperty(copy, "url", { value: response.url });
    return copy;
}

/** Hosts plain http may go to: this machine only, for tests and local try-outs. */
const loopbackHost = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

function parseBaseUrl(value: string): URL {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new Error(`PartnerApiClient: baseUrl must be an absolute URL such as ${partnerApiBaseUrl}; got ${JSON.stringify(value)}`);
    }
    // `search` and `hash` are "" for an empty "?" or "#" as well: the href shows them.
    if (/[?#]/.test(url.href) || url.username !== "" || url.password !== "") {
        throw new Error(
            `PartnerApiClient: baseUrl must be a plain URL without query, fragment or credentials, such as ${partnerApiBaseUrl}`,
        );
    }
    if (!(url.protocol === "https:" || (url.protocol === "http:" && loopbackHost.test(url.hostname)))) {
        // The API key and signatures must not cross a network unencrypted.
        throw new Error(
            `PartnerApiClient: baseUrl must use https (plain http only to localhost, 127.0.0.1 or [::1]), such as ${partnerApiBaseUrl}`,
        );
    }
    return url;
}
