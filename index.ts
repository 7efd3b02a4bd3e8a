// Qredo Partner API credentials for one environment. Wiring only: the logic
// lives in src/ (config.ts validates, partnerApiCredentials.ts declares).
import { loadConfig } from "./src/config";
import { PartnerApiCredentials } from "./src/partnerApiCredentials";

const config = loadConfig();

// The component wraps the API key in pulumi.secret where it stores it.
const credentials = new PartnerApiCredentials("qredo-partner-api", config);

export const environment = credentials.environment;
export const publicKeyPem = credentials.publicKeyPem;
export const publicKeyFingerprintSha256 = credentials.publicKeyFingerprintSha256;
export const keyVersion = credentials.keyVersion;
export const keyId = credentials.keyId;
export const privateKeySecretArn = credentials.privateKeySecret.arn;
export const privateKeySecretName = credentials.privateKeySecret.name;
export const apiKeySecretArn = credentials.apiKeySecret.arn;
export const apiKeySecretName = credentials.apiKeySecret.name;
export const readPolicyArn = credentials.readPolicy.arn;
export const keyStage = credentials.keyStage;
export const partnerApiBaseUrl = config.apiBaseUrl;
