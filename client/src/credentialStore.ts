/**
 * For the service that signs requests: load the API key and the private key
 * from the two secrets this project stores, cache them briefly, and sign.
 *
 *     const credentials = new PartnerApiCredentialStore({
 *         privateKeySecretId: process.env.QREDO_PRIVATE_KEY_SECRET_ARN!,
 *         apiKeySecretId: process.env.QREDO_API_KEY_SECRET_ARN!,
 *     });
 *     const headers = await credentials.signRequest({ url, body });
 *
 * The service's role needs the stack's `readPolicyArn` policy.
 */
import type { KeyObject } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { checkApiKey } from "./apiKey";
import { loadSigningKey, signRequest, type SignedHeaders, type SignRequestInput } from "./signing";

export interface CredentialStoreOptions {
    /** ARN or name of the private key's secret (the `privateKeySecretArn` output). */
    readonly privateKeySecretId: string;
    /** ARN or name of the API key's secret (the `apiKeySecretArn` output). */
    readonly apiKeySecretId: string;
    /** @default a client with the SDK's default credentials, region and endpoint */
    readonly client?: SecretsManagerClient;
    /** How long loaded credentials are reused; a rotation is picked up after at most this. @default 300000 (5 minutes) */
    readonly cacheTtlMs?: number;
    /** @default Date.now */
    readonly now?: () => number;
}

export interface PartnerApiCredentials {
    readonly apiKey: string;
    readonly privateKey: KeyObject;
}

export class PartnerApiCredentialStore {
    private readonly client: SecretsManagerClient;
    private readonly ttlMs: number;
    private readonly now: () => number;
    private cached?: { readonly loadedAt: number; readonly value: Promise<PartnerApiCredentials> };

    constructor(private readonly options: CredentialStoreOptions) {
        this.client = options.client ?? new SecretsManagerClient({});
        this.ttlMs = options.cacheTtlMs ?? 5 * 60 * 1000;
        this.now = options.now ?? Date.now;
    }

    /** The current credentials, from the cache while it is fresh. Concurrent callers share one load. */
    get(): Promise<PartnerApiCredentials> {
        const now = this.now();
        if (this.cached === undefined || now - this.cached.loadedAt >= this.ttlMs) {
            const value = this.load();
            this.cached = { loadedAt: now, value };
            // A failed load is not cached: the next call tries again.
            value.catch(() => {
                if (this.cached?.value === value) {
                    this.cached = undefined;
                }
            });
        }
        return this.cached.value;
    }

    /** Forget the cached credentials, e.g. after Qredo rejected a signature. */
    invalidate(): void {
        this.cached = undefined;
    }

    /** Signs one request with the current credentials. */
    async signRequest(request: Omit<SignRequestInput, "privateKeyPem" | "apiKey">): Promise<SignedHeaders> {
        const { apiKey, privateKey } = await this.get();
        return signRequest({ ...request, apiKey, privateKeyPem: privateKey });
    }

    private async load(): Promise<PartnerApiCredentials> {
        const [privateKeyPem, apiKey] = await Promise.all([
            this.secretString(this.options.privateKeySecretId),
            this.secretString(this.options.apiKeySecretId),
        ]);
        const checked = checkApiKey(apiKey);
        if (!checked.ok) {
            throw new Error(`the API key in ${this.options.apiKeySecretId} ${checked.problem}`);
        }
        let privateKey: KeyObject;
        try {
            privateKey = loadSigningKey(privateKeyPem);
        } catch (error) {
            throw new Error(`${this.options.privateKeySecretId}: ${(error as Error).message}`);
        }
        return { apiKey: checked.value, privateKey };
    }

    private async secretString(secretId: string): Promise<string> {
        const result = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
        if (result.SecretString === undefined) {
            throw new Error(`${secretId} has no string value`);
        }
        return result.SecretString;
    }
}
