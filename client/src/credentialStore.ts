/**
 * Loads the API key and the private keys from the two secrets this project
 * stores, caches them briefly, and signs.
 *
 *     const credentials = new PartnerApiCredentialStore({
 *         privateKeySecretId: process.env.QREDO_PRIVATE_KEY_SECRET_ARN!,
 *         apiKeySecretId: process.env.QREDO_API_KEY_SECRET_ARN!,
 *     });
 *     const headers = await credentials.signRequest({ url, body });
 *
 * A rotation stages the next private key as `AWSPENDING` beside the
 * `AWSCURRENT` one (DESIGN.md, "Rotation"); the store reads both, so that
 * `PartnerApiClient` can switch to the pending key the moment Qredo starts
 * rejecting the current one. The service's role needs the stack's
 * `readPolicyArn` policy.
 */
import type { KeyObject } from "node:crypto";
import type * as SecretsManager from "@aws-sdk/client-secrets-manager";
import { checkApiKey } from "./apiKey";
import { loadSigningKey, signRequest, type SignedHeaders, type SignRequestInput } from "./signing";
import { checkDuration, defaultTimeoutMs, withTimeout } from "./timeouts";

export const defaultCacheTtlMs = 5 * 60 * 1000;
export const defaultRereadIntervalMs = 10 * 1000;

/**
 * The AWS SDK, loaded on the first read of a secret: code that only signs or
 * checks an API key (the Pulumi program, the deploy script) never loads it.
 * `require`, not `import()`: the package is CommonJS, and test runners that
 * load CommonJS in a VM (Jest without --experimental-vm-modules) refuse
 * `import()`. A failed load throws into that read and is tried again on the next.
 */
function secretsManager(): typeof SecretsManager {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    return require("@aws-sdk/client-secrets-manager") as typeof SecretsManager;
}

export interface CredentialStoreOptions {
    /** ARN or name of the private key's secret (the `privateKeySecretArn` output). */
    readonly privateKeySecretId: string;
    /** ARN or name of the API key's secret (the `apiKeySecretArn` output). */
    readonly apiKeySecretId: string;
    /** @default a client with the SDK's default credentials and endpoint, in the region of the secrets' ARNs (else the SDK's default region) */
    readonly client?: SecretsManager.SecretsManagerClient | undefined;
    /** How long loaded credentials are reused; a rotation is picked up after at most this (0: read for every use). @default 300000 (5 minutes) */
    readonly cacheTtlMs?: number | undefined;
    /** Limit on each read of Secrets Manager (the SDK's retries included). @default 30000 */
    readonly timeoutMs?: number | undefined;
    /**
     * After a reload (a request Qredo rejected) found the secrets unchanged, further reloads within
     * this time reuse that read instead of reading again: a key Qredo rejects for good (revoked, not
     * uploaded) then costs one read per interval, not one per request. @default 10000
     */
    readonly rereadIntervalMs?: number | undefined;
    /** @default Date.now */
    readonly now?: (() => number) | undefined;
}

/** One version of the private key's secret. */
export interface SigningKey {
    readonly versionId: string;
    readonly privateKey: KeyObject;
}

export interface PartnerApiCredentials {
    readonly apiKey: string;
    readonly apiKeyVersionId: string;
    /** The `AWSCURRENT` private key: what signers use. */
    readonly current: SigningKey;
    /** The `AWSPENDING` private key, while a rotation is staged. */
    readonly pending?: SigningKey;
    /**
     * Why an `AWSPENDING` version could not be used (it could not be read, or is not an RSA 2048 key),
     * when there is one: signing goes on with `current`, as it does while a rotation is staged.
     */
    readonly pendingProblem?: string;
}

interface CacheEntry {
    readonly startedAt: number;
    readonly value: Promise<PartnerApiCredentials>;
    settled?: PartnerApiCredentials;
}

export class PartnerApiCredentialStore {
    /** The caller's client, used for every read when given. */
    private readonly client: SecretsManager.SecretsManagerClient | undefined;
    /** Without a client given: one per region, made at the first read. */
    private readonly clients = new Map<string, SecretsManager.SecretsManagerClient>();
    private readonly region: string | undefined;
    private readonly ttlMs: number;
    private readonly timeoutMs: number;
    private readonly now: () => number;
    /** Holds the API key: `#private`, so that neither `util.inspect` nor `JSON.stringify` shows it. */
    #cached?: CacheEntry;
    private readonly rereadIntervalMs: number;
    /** When a reload last found the same versions as the credentials it was asked to replace. */
    private unchangedAt?: number;

    constructor(private readonly options: CredentialStoreOptions) {
        for (const name of ["privateKeySecretId", "apiKeySecretId"] as const) {
            if (typeof options[name] !== "string" || options[name] === "") {
                throw new Error(
                    `PartnerApiCredentialStore: ${name} must be the ARN or name of a secret (the stack's ${name.replace("SecretId", "SecretArn")} output)`,
                );
            }
        }
        this.ttlMs = checkDuration("PartnerApiCredentialStore", "cacheTtlMs", options.cacheTtlMs ?? defaultCacheTtlMs, { allowZero: true });
        this.timeoutMs = checkDuration("PartnerApiCredentialStore", "timeoutMs", options.timeoutMs ?? defaultTimeoutMs, {
            allowZero: false,
        });
        this.rereadIntervalMs = checkDuration(
            "PartnerApiCredentialStore",
            "rereadIntervalMs",
            options.rereadIntervalMs ?? defaultRereadIntervalMs,
            { allowZero: true },
        );
        this.client = options.client;
        // The secrets' ARNs say where they are: a service with no AWS region configured still reads them,
        // each in its own region; a secret given by name is read where the ARNs are, if they agree.
        const regions = new Set([options.privateKeySecretId, options.apiKeySecretId].map(secretRegion).filter((r) => r !== undefined));
        this.region = regions.size === 1 ? [...regions][0] : undefined;
        this.now = options.now ?? Date.now;
    }

    /** The credentials, from the cache while it is fresh. Concurrent callers share one read. */
    get(): Promise<PartnerApiCredentials> {
        const entry = this.#cached;
        const fresh = entry !== undefined && (entry.settled === undefined || within(this.now() - entry.startedAt, this.ttlMs));
        return fresh ? entry.value : this.startLoad();
    }

    /**
     * Reads the secrets again, unless a read newer than `stale` has already
     * finished or is under way (then its result is shared): a burst of
     * rejected requests costs one read, not one each. When the last reload
     * found nothing changed, `stale` is returned as it is until
     * `rereadIntervalMs` has passed.
     */
    reload(stale?: PartnerApiCredentials): Promise<PartnerApiCredentials> {
        const entry = this.#cached;
        if (entry !== undefined && stale !== undefined && entry.settled !== stale) {
            return entry.value;
        }
        if (
            entry !== undefined &&
            stale !== undefined &&
            this.unchangedAt !== undefined &&
            within(this.now() - this.unchangedAt, this.rereadIntervalMs)
        ) {
            return entry.value;
        }
        const value = this.startLoad();
        if (stale !== undefined) {
            value.then(
                // A staged version that could not be used may be readable next time: that read is not held on to.
                (loaded) =>
                    (this.unchangedAt =
                        sameVersions(loaded, stale) && loaded.pendingProblem === undefined && stale.pendingProblem === undefined
                            ? this.now()
                            : undefined),
                () => undefined, // the caller sees the failure
            );
        }
        return value;
    }

    /** Forget the cached credentials. */
    invalidate(): void {
        this.#cached = undefined;
    }

    /** Signs one request with the `AWSCURRENT` key. */
    async signRequest(request: Omit<SignRequestInput, "privateKeyPem" | "apiKey">): Promise<SignedHeaders> {
        const { apiKey, current } = await this.get();
        return signRequest({ ...request, apiKey, privateKeyPem: current.privateKey });
    }

    private startLoad(): Promise<PartnerApiCredentials> {
        const value = this.load();
        const entry: CacheEntry = { startedAt: this.now(), value };
        this.#cached = entry;
        value.then(
            (loaded) => (entry.settled = loaded),
            // A failed read is not cached: the next call tries again.
            () => {
                if (this.#cached === entry) {
                    this.#cached = undefined;
                }
            },
        );
        return value;
    }

    private async load(): Promise<PartnerApiCredentials> {
        const { privateKeySecretId, apiKeySecretId } = this.options;
        // A staged key that cannot be used is reported beside the credentials, not thrown: while a rotation is
        // staged, signers go on with AWSCURRENT (DESIGN.md, "Rotation").
        const [current, pending, apiKey] = await Promise.all([
            this.read(privateKeySecretId, "AWSCURRENT"),
            this.readPending(privateKeySecretId),
            this.read(apiKeySecretId, "AWSCURRENT"),
        ]);
        const checked = checkApiKey(apiKey.value);
        if (!checked.ok) {
            throw new Error(`the API key in ${apiKeySecretId} ${checked.problem}`);
        }
        const signingKey = ({ value, versionId }: { value: string; versionId: string }, stage: string): SigningKey => {
            try {
                return { versionId, privateKey: loadSigningKey(value) };
            } catch (error) {
                throw new Error(`${privateKeySecretId} (${stage}): ${(error as Error).message}`, { cause: error });
            }
        };
        const credentials = { apiKey: checked.value, apiKeyVersionId: apiKey.versionId, current: signingKey(current, "AWSCURRENT") };
        // A version may carry both labels for a moment during a promotion: it is then simply current.
        if (pending.read === undefined || pending.read.versionId === current.versionId) {
            return pending.problem === undefined ? credentials : { ...credentials, pendingProblem: pending.problem };
        }
        try {
            return { ...credentials, pending: signingKey(pending.read, "AWSPENDING") };
        } catch (error) {
            return { ...credentials, pendingProblem: (error as Error).message };
        }
    }

    /** The `AWSPENDING` version, or why it could not be read; neither when no version carries the label. */
    private async readPending(secretId: string): Promise<{ read?: { value: string; versionId: string }; problem?: string }> {
        try {
            return { read: await this.read(secretId, "AWSPENDING") };
        } catch (error) {
            // No version carries AWSPENDING: no rotation is staged.
            if ((error as { name?: string }).name === "ResourceNotFoundException") {
                return {};
            }
            return { problem: `${secretId} (AWSPENDING) could not be read: ${(error as Error).message}` };
        }
    }

    /** The client given, or one for the secret's region (its ARN's, else the one the ARNs agree on, else the SDK's default). */
    private clientFor(secretId: string): SecretsManager.SecretsManagerClient {
        if (this.client !== undefined) {
            return this.client;
        }
        const region = secretRegion(secretId) ?? this.region;
        const made = this.clients.get(region ?? "") ?? new (secretsManager().SecretsManagerClient)(region === undefined ? {} : { region });
        this.clients.set(region ?? "", made);
        return made;
    }

    private async read(secretId: string, stage: string): Promise<{ value: string; versionId: string }> {
        const what = `reading ${secretId} (${stage}) from Secrets Manager`;
        const { GetSecretValueCommand } = secretsManager();
        const client = this.clientFor(secretId);
        const result: SecretsManager.GetSecretValueCommandOutput = await withTimeout(what, this.timeoutMs, (signal) =>
            client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }), { abortSignal: signal }),
        ).catch((error: unknown) => {
            if (error instanceof Error && error.message === "Region is missing") {
                throw new Error(
                    this.client !== undefined
                        ? `${what}: the Secrets Manager client given has no region; give it one (new SecretsManagerClient({ region })), the region in the secrets' ARNs`
                        : `${what}: no AWS region is set. Pass the secrets' ARNs (the stack outputs privateKeySecretArn and apiKeySecretArn), whose region is used, or set AWS_REGION, or pass a client`,
                    { cause: error },
                );
            }
            throw error;
        });
        if (result.SecretString === undefined || result.VersionId === undefined) {
            throw new Error(`${secretId} (${stage}) has no string value`);
        }
        return { value: result.SecretString, versionId: result.VersionId };
    }
}

/** The region of a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`); undefined for a name. */
export function secretRegion(secretId: string): string | undefined {
    return /^arn:[\w-]+:secretsmanager:([a-z0-9-]+):\d{12}:secret:./.exec(secretId)?.[1];
}

/** Whether two reads found the same secret versions (the same keys under the same labels). */
function sameVersions(a: PartnerApiCredentials, b: PartnerApiCredentials): boolean {
    return (
        a.apiKeyVersionId === b.apiKeyVersionId &&
        a.current.versionId === b.current.versionId &&
        a.pending?.versionId === b.pending?.versionId
    );
}

/** Whether `elapsed` is inside a window of `limitMs`; a clock that stepped back (negative elapsed) never is. */
function within(elapsed: number, limitMs: number): boolean {
    return elapsed >= 0 && elapsed < limitMs;
}
