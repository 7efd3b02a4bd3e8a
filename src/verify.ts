/**
 * The checks behind `npm run verify`: is what a deployed stack stored in
 * Secrets Manager sound, and does it match what was published for upload?
 * Reports pass/fail per check; never a secret value.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { checkApiKey, loadSigningKey, partnerApiBaseUrl, signedPayload, signRequest } from "@qredo-partner-keys/client";

/** The stack outputs the checks read (names from DESIGN.md). */
export interface StackOutputs {
    readonly environment: string;
    readonly publicKeyPem: string;
    readonly publicKeyFingerprintSha256: string;
    readonly keyVersion: number;
    readonly privateKeySecretArn: string;
    readonly apiKeySecretArn: string;
    readonly readPolicyArn: string;
}

export type CheckStatus = "pass" | "fail" | "skip";
export interface CheckResult {
    readonly name: string;
    readonly status: CheckStatus;
    readonly detail?: string;
}

/** The checks could not run (missing secret, no access, no credentials): exit 2, not 1. */
export class CannotVerify extends Error {}

export interface VerifyInput {
    readonly outputs: StackOutputs;
    readonly client: SecretsManagerClient;
    /** The public key file that was uploaded to Qredo, if the caller has it. */
    readonly uploadedPublicKeyPem?: string;
}

export const sampleRequest = { url: `${partnerApiBaseUrl}/company?verify=qredo-partner-keys`, body: '{"name":"qredo-partner-keys verify"}' };

export async function verifyStack({ outputs, client, uploadedPublicKeyPem }: VerifyInput): Promise<CheckResult[]> {
    const [privateKeyPem, apiKey, privateKeyVersions] = await Promise.all([
        readSecret(client, outputs.privateKeySecretArn, "private key", outputs.readPolicyArn),
        readSecret(client, outputs.apiKeySecretArn, "API key", outputs.readPolicyArn),
        describeVersions(client, outputs.privateKeySecretArn, outputs.readPolicyArn),
    ]);
    const results: CheckResult[] = [];
    const check = (name: string, outcome: boolean | string, detail?: string) =>
        results.push(
            outcome === true ? { name, status: "pass" } : outcome === false ? { name, status: "fail", ...(detail ? { detail } : {}) } : { name, status: "skip", detail: outcome },
        );

    let key: KeyObject | undefined;
    let keyProblem = "";
    try {
        key = loadSigningKey(privateKeyPem);
        if (!privateKeyPem.trimStart().startsWith("-----BEGIN RSA PRIVATE KEY-----")) {
            keyProblem = "it is RSA 2048 but not PKCS#1 PEM (-----BEGIN RSA PRIVATE KEY-----), which the official signing clients require";
        }
    } catch (error) {
        keyProblem = (error as Error).message;
    }
    check("the stored private key is PKCS#1 PEM, RSA 2048", keyProblem === "", keyProblem);

    const publishedDer = derOf(outputs.publicKeyPem);
    if (key === undefined) {
        for (const name of ["its public half is the publicKeyPem output", "its fingerprint is the publicKeyFingerprintSha256 output", "a sample request signed with it verifies with the public key"]) {
            check(name, false, "the stored private key could not be loaded");
        }
    } else {
        const storedDer = createPublicKey(key).export({ type: "spki", format: "der" });
        check("its public half is the publicKeyPem output", publishedDer !== undefined && storedDer.equals(publishedDer), "the stored key is not the one published for upload: run `pulumi up` to bring the stack back in step");
        const fingerprint = createHash("sha256").update(storedDer).digest("hex");
        check("its fingerprint is the publicKeyFingerprintSha256 output", fingerprint === outputs.publicKeyFingerprintSha256, `stored key ${fingerprint}, output ${outputs.publicKeyFingerprintSha256}`);
        const headers = signRequest({ privateKeyPem: key, apiKey: "sample", ...sampleRequest, timestamp: 1_700_000_000 });
        const verified =
            publishedDer !== undefined &&
            verify("sha256", signedPayload(headers["x-timestamp"], sampleRequest.url, sampleRequest.body), createPublicKey({ key: publishedDer, format: "der", type: "spki" }), Buffer.from(headers["x-sign"], "base64url"));
        check("a sample request signed with it verifies with the public key", verified, "Qredo would reject requests signed with the stored key");
    }

    if (uploadedPublicKeyPem === undefined) {
        check("the uploaded public key file is the published key", "no --public-key-file given");
    } else {
        const uploadedDer = derOf(uploadedPublicKeyPem);
        check(
            "the uploaded public key file is the published key",
            uploadedDer !== undefined && publishedDer !== undefined && uploadedDer.equals(publishedDer),
            uploadedDer === undefined ? "the file is not a PEM public key" : "the file is a different key (stale after a rotation?): upload the publicKeyPem output",
        );
    }

    const apiKeyCheck = checkApiKey(apiKey);
    check("the stored API key is valid Base64", apiKeyCheck.ok && apiKeyCheck.value === apiKey, apiKeyCheck.ok ? "it has whitespace around it" : `it ${apiKeyCheck.problem}`);

    if (outputs.keyVersion > 1) {
        const kept = Object.values(privateKeyVersions).some((stages) => stages.includes("AWSPREVIOUS"));
        check("the previous private key is kept as AWSPREVIOUS", kept, "no version has the AWSPREVIOUS stage, so there is nothing to roll back to");
    } else {
        check("the previous private key is kept as AWSPREVIOUS", "keyVersion is 1: no rotation yet");
    }
    return results;
}

function derOf(pem: string): Buffer | undefined {
    try {
        return createPublicKey(pem).export({ type: "spki", format: "der" });
    } catch {
        return undefined;
    }
}

async function readSecret(client: SecretsManagerClient, secretId: string, what: string, readPolicyArn: string): Promise<string> {
    try {
        const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        if (result.SecretString === undefined) {
            throw new CannotVerify(`the ${what} secret ${secretId} has no current string value; run \`pulumi up\` for this stack`);
        }
        return result.SecretString;
    } catch (error) {
        throw explain(error, secretId, what, readPolicyArn);
    }
}

async function describeVersions(client: SecretsManagerClient, secretId: string, readPolicyArn: string): Promise<Record<string, string[]>> {
    try {
        return (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
    } catch (error) {
        throw explain(error, secretId, "private key", readPolicyArn);
    }
}

/** Turns an AWS error into a message that says which secret and what to do. Never includes a value. */
function explain(error: unknown, secretId: string, what: string, readPolicyArn: string): Error {
    if (error instanceof CannotVerify) {
        return error;
    }
    const name = (error as { name?: string }).name ?? "Error";
    switch (name) {
        case "ResourceNotFoundException":
            return new CannotVerify(`the ${what} secret ${secretId} does not exist (in this account and region). Check AWS_PROFILE and the region, or run \`pulumi up\` for this stack.`);
        case "AccessDeniedException":
        case "AccessDenied":
            return new CannotVerify(`access denied reading the ${what} secret ${secretId}. Use credentials whose role has the stack's read policy attached (${readPolicyArn}).`);
        case "CredentialsProviderError":
            return new CannotVerify("no AWS credentials found: sign in (e.g. `aws sso login`, AWS_PROFILE) and run again.");
        default:
            return new CannotVerify(`could not read the ${what} secret ${secretId}: ${name}${(error as Error).message ? `: ${(error as Error).message}` : ""}`);
    }
}
