import { execFileSync } from "node:child_process";
import { createPrivateKey, createSign, createVerify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountId, calls, kmsKeyArn, isSecretValue, makeApiKey, promiseOf, resources, reveal, runProgram, type RecordedCall, type RecordedResource } from "./mocks";

const types = {
    component: "qredo-partner-keys:index:PartnerApiCredentials",
    keyGeneration: "random:index/randomId:RandomId",
    privateKey: "tls:index/privateKey:PrivateKey",
    secret: "aws:secretsmanager/secret:Secret",
    version: "aws:secretsmanager/secretVersion:SecretVersion",
    policy: "aws:iam/policy:Policy",
    secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
};

const outputNames = [
    "environment",
    "publicKeyPem",
    "publicKeyFingerprintSha256",
    "keyVersion",
    "keyId",
    "privateKeySecretArn",
    "privateKeySecretName",
    "apiKeySecretArn",
    "apiKeySecretName",
    "readPolicyArn",
];

interface Deployed {
    readonly apiKey: string;
    readonly outputs: Record<string, unknown>;
    readonly resources: readonly RecordedResource[];
    readonly calls: readonly RecordedCall[];
}

async function deploy(stack: string, config: Record<string, string> = {}): Promise<Deployed> {
    const apiKey = makeApiKey();
    const program = await runProgram({ stack, config: { apiKey: `${apiKey}\n`, ...config } });
    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(program)) {
        outputs[name] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
    }
    return { apiKey, outputs, resources: [...resources], calls: [...calls] };
}

function byName(deployed: Deployed, type: string, name: string): RecordedResource {
    const found = deployed.resources.find((r) => r.type === type && r.name === name);
    if (found === undefined) {
        throw new Error(`no ${type} named ${name}`);
    }
    return found;
}

function ofType(deployed: Deployed, type: string): RecordedResource[] {
    return deployed.resources.filter((r) => r.type === type);
}

function privateKeyPemOf(deployed: Deployed): string {
    return String(reveal(byName(deployed, types.version, "qredo-partner-api-private-key").inputs.secretString));
}

describe("sandbox stack", () => {
    let sandbox: Deployed;
    let workDir: string;
    beforeAll(async () => {
        sandbox = await deploy("sandbox");
        workDir = mkdtempSync(join(tmpdir(), "qredo-keys-test-"));
    });
    afterAll(() => rmSync(workDir, { recursive: true, force: true }));

    it("declares exactly the resources of the design, all under one component", () => {
        expect(sandbox.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                `${types.component} qredo-partner-api`,
                `${types.keyGeneration} qredo-partner-api-key-generation`,
                `${types.privateKey} qredo-partner-api-private-key`,
                `${types.secret} qredo-partner-api-private-key`,
                `${types.secret} qredo-partner-api-api-key`,
                `${types.version} qredo-partner-api-private-key`,
                `${types.version} qredo-partner-api-api-key`,
                `${types.policy} qredo-partner-api-read`,
            ].sort(),
        );
        const component = byName(sandbox, types.component, "qredo-partner-api");
        for (const r of sandbox.resources.filter((r) => r.type !== types.component)) {
            expect(r.parent, r.name).toBe(component.urn);
        }
    });

    it("generates an RSA 2048 key and replaces it with the key generation", () => {
        const key = byName(sandbox, types.privateKey, "qredo-partner-api-private-key");
        expect(key.inputs).toEqual({ algorithm: "RSA", rsaBits: 2048 });
        const generation = byName(sandbox, types.keyGeneration, "qredo-partner-api-key-generation");
        expect(key.replaceWith).toEqual([generation.urn]);
        expect(key.protect).toBe(false);
    });

    it("names the secrets <prefix>/<environment>/… with the sandbox defaults", () => {
        const privateKeySecret = byName(sandbox, types.secret, "qredo-partner-api-private-key");
        const apiKeySecret = byName(sandbox, types.secret, "qredo-partner-api-api-key");
        expect(privateKeySecret.inputs.name).toBe("qredo/partner-api/sandbox/private-key");
        expect(apiKeySecret.inputs.name).toBe("qredo/partner-api/sandbox/api-key");
        for (const secret of [privateKeySecret, apiKeySecret]) {
            expect(secret.inputs.recoveryWindowInDays).toBe(7);
            expect(secret.protect).toBe(false);
            expect(secret.inputs.kmsKeyId).toBeUndefined();
            expect(secret.inputs.tags).toEqual({ Project: "qredo-partner-keys", Environment: "sandbox", ManagedBy: "pulumi" });
            expect(String(secret.inputs.description)).toMatch(/Qredo Partner API sandbox/);
        }
        expect(sandbox.outputs.privateKeySecretName).toBe("qredo/partner-api/sandbox/private-key");
        expect(sandbox.outputs.apiKeySecretName).toBe("qredo/partner-api/sandbox/api-key");
    });

    it("stores the private key as PKCS#1 PEM and the trimmed API key, both as Pulumi secrets, retained on delete", () => {
        const keyVersion = byName(sandbox, types.version, "qredo-partner-api-private-key");
        const apiVersion = byName(sandbox, types.version, "qredo-partner-api-api-key");
        expect(isSecretValue(keyVersion.inputs.secretString)).toBe(true);
        expect(isSecretValue(apiVersion.inputs.secretString)).toBe(true);
        expect(keyVersion.inputs.secretId).toBe(sandbox.outputs.privateKeySecretArn);
        expect(apiVersion.inputs.secretId).toBe(sandbox.outputs.apiKeySecretArn);

        const pem = privateKeyPemOf(sandbox);
        expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END RSA PRIVATE KEY-----\n$/);
        const key = createPrivateKey(pem);
        expect(key.asymmetricKeyType).toBe("rsa");
        expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(reveal(apiVersion.inputs.secretString)).toBe(sandbox.apiKey);

        for (const version of [keyVersion, apiVersion]) {
            expect(version.retainOnDelete).toBe(true);
            expect(version.protect).toBe(false);
        }
    });

    it("exports the public half of the stored private key: a signature made with one verifies with the other", () => {
        const message = `1700000000https://api.qredo.network/api/v1/p/company{"name":"test"}`;
        const signature = createSign("sha256").update(message).sign(privateKeyPemOf(sandbox));
        const publicKeyPem = String(sandbox.outputs.publicKeyPem);
        expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
        expect(createVerify("sha256").update(message).verify(publicKeyPem, signature)).toBe(true);
        expect(createVerify("sha256").update(`${message} `).verify(publicKeyPem, signature)).toBe(false);
    });

    it("exports the fingerprint openssl computes for the exported PEM", () => {
        const file = join(workDir, "public.pem");
        writeFileSync(file, String(sandbox.outputs.publicKeyPem));
        const der = execFileSync("openssl", ["pkey", "-pubin", "-in", file, "-outform", "DER"]);
        const printed = execFileSync("sha256sum", { input: der }).toString().split(" ")[0];
        expect(sandbox.outputs.publicKeyFingerprintSha256).toBe(printed);
        expect(sandbox.outputs.publicKeyFingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("exports exactly the outputs of the design, none secret, none holding key material or the API key", async () => {
        const program = await runProgram({ stack: "sandbox", config: { apiKey: sandbox.apiKey } });
        expect(Object.keys(program).sort()).toEqual([...outputNames].sort());
        const privateKeyBody = privateKeyPemOf(sandbox).split("\n")[1];
        for (const [name, value] of Object.entries(program)) {
            if (pulumi.Output.isInstance(value)) {
                expect(await pulumi.isSecret(value), name).toBe(false);
            }
        }
        for (const [name, value] of Object.entries(sandbox.outputs)) {
            const text = JSON.stringify(value);
            expect(text, name).not.toContain("PRIVATE KEY");
            expect(text, name).not.toContain(privateKeyBody);
            expect(text, name).not.toContain(sandbox.apiKey);
        }
        expect(sandbox.outputs.environment).toBe("sandbox");
        expect(sandbox.outputs.keyVersion).toBe(1);
        expect(sandbox.outputs.keyId).toMatch(/^[0-9a-f]{16}$/);
        expect(String(sandbox.outputs.readPolicyArn)).toMatch(new RegExp(`^arn:aws:iam::${accountId}:policy/`));
    });

    it("grants the read policy only read actions, on exactly the two secret ARNs", () => {
        const [policy] = ofType(sandbox, types.policy);
        const document = JSON.parse(String(policy.inputs.policy));
        expect(document).toEqual({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ReadQredoPartnerApiSecrets",
                    Effect: "Allow",
                    Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    Resource: [sandbox.outputs.privateKeySecretArn, sandbox.outputs.apiKeySecretArn],
                },
            ],
        });
        expect(ofType(sandbox, types.policy)).toHaveLength(1);
        expect(ofType(sandbox, types.secretPolicy)).toEqual([]);
        expect(sandbox.calls).toEqual([]); // no KMS key configured: nothing to look up
    });
});

describe("production stack", () => {
    it("protects the secrets and keeps them recoverable for 30 days", async () => {
        const production = await deploy("production");
        const secrets = ofType(production, types.secret);
        expect(secrets.map((s) => s.inputs.name).sort()).toEqual(["qredo/partner-api/production/api-key", "qredo/partner-api/production/private-key"]);
        for (const secret of secrets) {
            expect(secret.protect).toBe(true);
            expect(secret.inputs.recoveryWindowInDays).toBe(30);
            expect((secret.inputs.tags as Record<string, string>).Environment).toBe("production");
        }
        // Rotation replaces these, so they must never be protected.
        expect(byName(production, types.privateKey, "qredo-partner-api-private-key").protect).toBe(false);
        for (const version of ofType(production, types.version)) {
            expect(version.protect).toBe(false);
        }
        expect(production.outputs.environment).toBe("production");
    });

    it("takes every optional setting from config", async () => {
        const reader = `arn:aws:iam::${accountId}:role/payments-signer`;
        const production = await deploy("prod-eu", {
            environment: "production",
            keyVersion: "3",
            secretNamePrefix: "team-a/qredo",
            kmsKeyId: "alias/qredo-partner-api",
            recoveryWindowInDays: "0",
            protect: "false",
            readerArns: JSON.stringify([reader]),
            replicaRegions: JSON.stringify(["eu-west-1", "us-east-1"]),
            tags: JSON.stringify({ Team: "payments", ManagedBy: "platform" }),
        });
        const secrets = ofType(production, types.secret);
        expect(secrets.map((s) => s.inputs.name).sort()).toEqual(["team-a/qredo/production/api-key", "team-a/qredo/production/private-key"]);
        for (const secret of secrets) {
            expect(secret.protect).toBe(false);
            expect(secret.inputs).toMatchObject({
                kmsKeyId: "alias/qredo-partner-api",
                recoveryWindowInDays: 0,
                replicas: [{ region: "eu-west-1" }, { region: "us-east-1" }],
                tags: { Project: "qredo-partner-keys", Environment: "production", ManagedBy: "platform", Team: "payments" },
            });
        }
        expect(production.outputs.keyVersion).toBe(3);
        expect(byName(production, types.keyGeneration, "qredo-partner-api-key-generation").inputs.keepers).toEqual({ keyVersion: "3" });

        // The policy names the key ARN resolved from the alias, usable only through Secrets Manager.
        expect(production.calls.map((c) => [c.token, c.inputs.keyId])).toEqual([["aws:kms/getKey:getKey", "alias/qredo-partner-api"]]);
        const statements = JSON.parse(String(ofType(production, types.policy)[0].inputs.policy)).Statement;
        expect(statements[1]).toEqual({
            Sid: "DecryptQredoPartnerApiSecrets",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: kmsKeyArn,
            Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
        });

        const secretPolicies = ofType(production, types.secretPolicy);
        expect(secretPolicies.map((p) => p.inputs.secretArn).sort()).toEqual([production.outputs.apiKeySecretArn, production.outputs.privateKeySecretArn].sort());
        for (const secretPolicy of secretPolicies) {
            expect(secretPolicy.inputs.blockPublicPolicy).toBe(true);
            expect(JSON.parse(String(secretPolicy.inputs.policy))).toEqual({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ReadersOfQredoPartnerApiSecret",
                        Effect: "Allow",
                        Principal: { AWS: [reader] },
                        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                        Resource: secretPolicy.inputs.secretArn,
                    },
                ],
            });
        }
    });
});

describe("rotation", () => {
    it("bumping keyVersion changes the key generation that replaces the key, and nothing about the secrets", async () => {
        const before = await deploy("production", { keyVersion: "1" });
        const after = await deploy("production", { keyVersion: "2" });

        const generation = (d: Deployed) => byName(d, types.keyGeneration, "qredo-partner-api-key-generation");
        expect(generation(before).inputs.keepers).toEqual({ keyVersion: "1" });
        expect(generation(after).inputs.keepers).toEqual({ keyVersion: "2" });
        expect(byName(after, types.privateKey, "qredo-partner-api-private-key").replaceWith).toEqual([generation(after).urn]);

        for (const name of ["qredo-partner-api-private-key", "qredo-partner-api-api-key"]) {
            const secretBefore = byName(before, types.secret, name);
            const secretAfter = byName(after, types.secret, name);
            expect(secretAfter.inputs).toEqual(secretBefore.inputs);
            expect(secretAfter.protect).toBe(secretBefore.protect);
            expect(secretAfter.urn).toBe(secretBefore.urn);
        }
        expect(after.outputs.keyVersion).toBe(2);
    });
});
