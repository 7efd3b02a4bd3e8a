/**
 * @qredo-partner-keys/client: sign Qredo Partner API requests with the
 * credentials that qredo-partner-keys stores in AWS Secrets Manager.
 */
export { checkApiKey, maxApiKeyLength, minApiKeyBytes, type ApiKeyCheck } from "./apiKey";
export { loadSigningKey, partnerApiBaseUrl, requiredModulusLength, signedPayload, signRequest, type SignedHeaders, type SignRequestInput } from "./signing";
export { PartnerApiCredentialStore, type CredentialStoreOptions, type PartnerApiCredentials } from "./credentialStore";
