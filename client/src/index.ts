/**
 * @qredo-partner-keys/client: sign Qredo Partner API requests with the
 * credentials that qredo-partner-keys stores in AWS Secrets Manager, and
 * survive a staged key rotation without a failed request.
 */
export { checkApiKey, maxApiKeyLength, minApiKeyBytes, type ApiKeyCheck } from "./apiKey";
export {
    loadSigningKey,
    partnerApiBaseUrl,
    requiredModulusLength,
    signedPayload,
    signRequest,
    type SignedHeaders,
    type SignRequestInput,
} from "./signing";
export {
    PartnerApiCredentialStore,
    defaultCacheTtlMs,
    type CredentialStoreOptions,
    type PartnerApiCredentials,
    type SigningKey,
} from "./credentialStore";
export { PartnerApiClient, type PartnerApiClientOptions } from "./partnerApiClient";
export { TimeoutError, defaultTimeoutMs } from "./timeouts";
