// Qredo Partner API credentials for one environment. Wiring only: the logic
// lives in src/ (config.ts validates, partnerApiCredentials.ts declares).
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./src/config";
import { PartnerApiCredentials } from "./src/partnerApiCredentials";

const config = loadConfig();

const credentials = new PartnerApiCredentials("qredo-partner-api", {
    ...config,
    apiKey: pulumi.secret(config.apiKey),
});

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
