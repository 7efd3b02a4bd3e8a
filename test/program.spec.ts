import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, createSign, createVerify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
    accountId,
    calls,
    kmsKeyArn,
    isSecretValue,
    makeApiKey,
    promiseOf,
    resources,
    reveal,
    runProgram,
    stateOf,
    type RecordedCall,
    type RecordedResource,
    type StackState,
} from "./mocks";
import { testKey } from "./support/testKeys";

// One key for the runs that do not compare keys: generating RSA keys is the
// slow part of a run. Runs that must tell keys apart generate their own.
const sharedKeyPem = testKey(0).pem;

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
    "keyStage",
    "partnerApiBaseUrl",
];

interface Deployed {
    readonly apiKey: string;
    readonly outputs: Record<string, unknown>;
    readonly resources: readonly RecordedResource[];
    readonly calls: readonly RecordedCall[];
    /** The stack's state after this run, to deploy an update from. */
    readonly state: StackState;
}

interface DeployOptions {
    /** Deploy as an update of this earlier run (same API key). @default a new stack */
    readonly from?: Deployed;
    /** Generate a new key when the key is created or replaced, instead of the shared one. */
    readonly freshKey?: boolean;
}

async function deploy(stack: string, config: Record<string, string> = {}, options: DeployOptions = {}): Promise<Deployed> {
    const apiKey = options.from?.apiKey ?? makeApiKey();
    const program = await runProgram({
        stack,
        config: { apiKey: `${apiKey}\n`, ...config },
        ...(options.from ? { previous: options.from.state } : {}),
        ...(options.freshKey ? {} : { rsaKeyPem: sharedKeyPem }),
    });
    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(program)) {
        outputs[name] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
    }
    return { apiKey, outputs, resources: [...resources], calls: [...calls], state: stateOf() };
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

/** The input names that differ between two runs, per resource (`type name`); unchanged resources left out. */
function changedInputs(before: Deployed, after: Deployed): Record<string, string[]> {
    const changed: Record<string, string[]> = {};
    for (const r of after.resources) {
        const old = byName(before, r.type, r.name);
        const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])].filter(
            (k) => !isDeepStrictEqual(old.inputs[k], r.inputs[k]),
        );
        if (keys.length > 0) {
            changed[`${r.type} ${r.name}`] = keys.sort();
        }
    }
    return changed;
}

/** What the update did to each resource (`type name` → create/same/update/replace). */
function operations(deployed: Deployed): Record<string, string> {
    return Object.fromEntries(deployed.resources.map((r) => [`${r.type} ${r.name}`, r.operation]));
}

function versionStagesOf(deployed: Deployed): unknown {
    return byName(deployed, types.version, "qredo-partner-api-private-key").inputs.versionStages;
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
        // and with the generation's hex id recorded in the key's state (the keyId output)
        expect(key.replacementTrigger).toBe(sandbox.outputs.keyId);
        expect(key.replacementTrigger).toMatch(/^[0-9a-f]{16}$/);
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
        const program = await runProgram({ stack: "sandbox", config: { apiKey: sandbox.apiKey }, rsaKeyPem: sharedKeyPem });
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
        expect(sandbox.outputs.keyStage).toBe("current");
        expect(sandbox.outputs.partnerApiBaseUrl).toBe("https://api.qredo.network/api/v1/p");
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
        expect(secrets.map((s) => s.inputs.name).sort()).toEqual([
            "qredo/partner-api/production/api-key",
            "qredo/partner-api/production/private-key",
        ]);
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
        const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue(undefined);
        const reader = `arn:aws:iam::${accountId}:role/payments-signer`;
        const production = await deploy("prod-eu", {
            environment: "production",
            keyVersion: "3",
            keyStage: "pending",
            apiBaseUrl: "http://127.0.0.1:4010/api/v1/p",
            secretNamePrefix: "team-a/qredo",
            kmsKeyId: "alias/qredo-partner-api",
            recoveryWindowInDays: "0",
            protect: "false",
            readerArns: JSON.stringify([reader]),
            replicaRegions: JSON.stringify(["eu-west-1", "us-east-1"]),
            tags: JSON.stringify({ Team: "payments", ManagedBy: "platform" }),
        });
        const secrets = ofType(production, types.secret);
        expect(secrets.map((s) => s.inputs.name).sort()).toEqual([
            "team-a/qredo/production/api-key",
            "team-a/qredo/production/private-key",
        ]);
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
        expect(production.outputs.keyStage).toBe("pending");
        expect(production.outputs.partnerApiBaseUrl).toBe("http://127.0.0.1:4010/api/v1/p");
        expect(byName(production, types.keyGeneration, "qredo-partner-api-key-generation").inputs.keepers).toEqual({ keyVersion: "3" });
        expect(versionStagesOf(production)).toEqual(["AWSPENDING"]);

        // Risky but valid production settings are warned about, not refused.
        expect(warn.mock.calls.map(([message]) => String(message).split(":")[0])).toEqual([
            "recoveryWindowInDays is 0 on a production stack",
            "protect is false on a production stack",
        ]);

        // Read access covers each secret's replicas (same name and suffix, the replica's region) and nothing more.
        const primary = [String(production.outputs.privateKeySecretArn), String(production.outputs.apiKeySecretArn)];
        const inRegion = (arn: string, region: string) => arn.replace(/^(arn:aws:secretsmanager:)eu-west-2:/, `$1${region}:`);
        const policyText = String(ofType(production, types.policy)[0].inputs.policy);
        const statements = JSON.parse(policyText).Statement;
        expect(statements[0].Resource).toEqual([
            ...primary,
            ...primary.map((a) => inRegion(a, "eu-west-1")),
            ...primary.map((a) => inRegion(a, "us-east-1")),
        ]);
        expect(statements[0].Resource[2]).toMatch(
            /^arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-a\/qredo\/production\/private-key-\w{6}$/,
        );
        expect(statements[0].Resource.filter((arn: string) => arn.includes("*"))).toEqual([]);
        // The key ARN resolved from the alias, usable only through Secrets Manager and only for these secrets.
        expect(production.calls.map((c) => [c.token, c.inputs.keyId])).toEqual([["aws:kms/getKey:getKey", "alias/qredo-partner-api"]]);
        expect(statements[1]).toEqual({
            Sid: "DecryptQredoPartnerApiSecrets",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: kmsKeyArn,
            Condition: {
                StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" },
                StringEquals: { "kms:EncryptionContext:SecretARN": primary },
            },
        });

        const secretPolicies = ofType(production, types.secretPolicy);
        expect(secretPolicies.map((p) => p.inputs.secretArn).sort()).toEqual(
            [production.outputs.apiKeySecretArn, production.outputs.privateKeySecretArn].sort(),
        );
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

afterEach(() => {
    vi.restoreAllMocks();
});

describe("rotation, as updates of one stack", () => {
    const key = {
        generation: `${types.keyGeneration} qredo-partner-api-key-generation`,
        privateKey: `${types.privateKey} qredo-partner-api-private-key`,
        version: `${types.version} qredo-partner-api-private-key`,
    };
    // The key the TLS provider would return for a PEM stored in a version.
    const publicPemOf = (d: Deployed) => createPublicKey(privateKeyPemOf(d)).export({ type: "spki", format: "pem" });

    let steady: Deployed;
    let staged: Deployed;
    beforeAll(async () => {
        steady = await deploy("production", { keyVersion: "1" });
        staged = await deploy("production", { keyVersion: "2", keyStage: "pending" }, { from: steady, freshKey: true });
    });

    it("steady: the only key is AWSCURRENT, and keyStage never reaches the key generation", () => {
        expect(versionStagesOf(steady)).toEqual(["AWSCURRENT"]);
        expect(steady.outputs.keyStage).toBe("current");
        expect(byName(steady, types.keyGeneration, "qredo-partner-api-key-generation").inputs).toEqual({
            byteLength: 8,
            keepers: { keyVersion: "1" },
        });
        // The API key's version keeps PutSecretValue's labels: a new API key is current at once.
        expect(byName(steady, types.version, "qredo-partner-api-api-key").inputs.versionStages).toBeUndefined();
    });

    it("staging writes a new key as AWSPENDING, replacing only the key generation, the key and its version", () => {
        expect(versionStagesOf(staged)).toEqual(["AWSPENDING"]);
        expect(staged.outputs.keyStage).toBe("pending");
        expect(Object.entries(operations(staged)).filter(([, op]) => op !== "same")).toEqual([
            [key.generation, "replace"],
            [key.privateKey, "replace"],
            [key.version, "replace"],
        ]);
        expect(changedInputs(steady, staged)).toEqual({
            [key.generation]: ["keepers"],
            [key.version]: ["secretString", "versionStages"],
        });
        for (const name of ["qredo-partner-api-private-key", "qredo-partner-api-api-key"]) {
            expect(byName(staged, types.secret, name).urn).toBe(byName(steady, types.secret, name).urn);
            expect(byName(staged, types.secret, name).id).toBe(byName(steady, types.secret, name).id);
        }
        // publicKeyPem is the new key, the one to upload; signers still hold the old one.
        expect(staged.outputs.keyId).not.toBe(steady.outputs.keyId);
        expect(staged.outputs.publicKeyPem).not.toBe(steady.outputs.publicKeyPem);
        expect(staged.outputs.publicKeyPem).toBe(publicPemOf(staged));
        expect(staged.outputs.privateKeySecretArn).toBe(steady.outputs.privateKeySecretArn);
    });

    it("promotion changes only the new version's labels, in place: same key, same keyId, same everything else", async () => {
        const promoted = await deploy("production", { keyVersion: "2", keyStage: "current" }, { from: staged, freshKey: true });
        expect(versionStagesOf(promoted)).toEqual(["AWSCURRENT"]);
        expect(promoted.outputs.keyStage).toBe("current");
        expect(changedInputs(staged, promoted)).toEqual({ [key.version]: ["versionStages"] });
        expect(Object.entries(operations(promoted)).filter(([, op]) => op !== "same")).toEqual([[key.version, "update"]]);
        expect(byName(promoted, types.version, "qredo-partner-api-private-key").id).toBe(
            byName(staged, types.version, "qredo-partner-api-private-key").id,
        );
        expect(promoted.outputs.keyId).toBe(staged.outputs.keyId);
        expect(promoted.outputs.publicKeyPem).toBe(staged.outputs.publicKeyPem);
        expect(promoted.outputs.publicKeyFingerprintSha256).toBe(staged.outputs.publicKeyFingerprintSha256);
        expect(privateKeyPemOf(promoted)).toBe(privateKeyPemOf(staged));
    });

    it("immediate rotation: a new key that is AWSCURRENT at once, and still nothing else replaced", async () => {
        const immediate = await deploy("production", { keyVersion: "2", keyStage: "current" }, { from: steady, freshKey: true });
        expect(versionStagesOf(immediate)).toEqual(["AWSCURRENT"]);
        expect(Object.entries(operations(immediate)).filter(([, op]) => op !== "same")).toEqual([
            [key.generation, "replace"],
            [key.privateKey, "replace"],
            [key.version, "replace"],
        ]);
        expect(changedInputs(steady, immediate)).toEqual({ [key.generation]: ["keepers"], [key.version]: ["secretString"] });
        expect(immediate.outputs.publicKeyPem).not.toBe(steady.outputs.publicKeyPem);
        expect(immediate.outputs.publicKeyPem).toBe(publicPemOf(immediate));
    });

    it("an update that stopped after replacing the key generation replaces the key when run again", async () => {
        // Ctrl-C or a failed step between the two: the state holds the new RandomId beside the old key.
        const full = await deploy("production", { keyVersion: "2", keyStage: "pending" }, { from: steady, freshKey: true });
        const generationKey = [...full.state.keys()].find((k) => k.startsWith(`${types.keyGeneration}::`))!;
        const stopped = new Map(steady.state).set(generationKey, full.state.get(generationKey)!);
        const again = await deploy(
            "production",
            { keyVersion: "2", keyStage: "pending" },
            { from: { ...steady, state: stopped }, freshKey: true },
        );
        expect(Object.entries(operations(again)).filter(([, op]) => op !== "same")).toEqual([
            [key.privateKey, "replace"],
            [key.version, "replace"],
        ]);
        expect(again.outputs.keyId).toBe(full.outputs.keyId);
        expect(again.outputs.publicKeyPem).not.toBe(steady.outputs.publicKeyPem);
        expect(again.outputs.publicKeyPem).toBe(publicPemOf(again));
        expect(versionStagesOf(again)).toEqual(["AWSPENDING"]);
    });

    it("a stack deployed before the key recorded its generation keeps its key: the trigger is recorded, nothing replaced", async () => {
        const before: StackState = new Map([...steady.state].map(([k, { inputs, state, id }]) => [k, { inputs, state, id }]));
        expect([...before.values()].some((v) => "replacementTrigger" in v)).toBe(false);
        expect([...steady.state.values()].some((v) => "replacementTrigger" in v)).toBe(true);
        const upgraded = await deploy("production", { keyVersion: "1" }, { from: { ...steady, state: before }, freshKey: true });
        expect(Object.entries(operations(upgraded)).filter(([, op]) => op !== "same")).toEqual([]);
        expect(upgraded.outputs.publicKeyPem).toBe(steady.outputs.publicKeyPem);
        expect(byName(upgraded, types.privateKey, "qredo-partner-api-private-key").replacementTrigger).toBe(steady.outputs.keyId);
    });

    it("a stack deployed before keyStage existed upgrades with no replacement: versionStages is added in place", async () => {
        // What that program sent: the same inputs, without versionStages (the provider then recorded ["AWSCURRENT"]).
        const oldInputs = (inputs: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(inputs).filter(([name]) => name !== "versionStages"));
        const before = new Map(
            [...steady.state].map(([k, v]) => [k, k.startsWith(types.version) ? { ...v, inputs: oldInputs(v.inputs) } : v]),
        );
        const upgraded = await deploy("production", { keyVersion: "1" }, { from: { ...steady, state: before } });
        expect(Object.entries(operations(upgraded)).filter(([, op]) => op !== "same")).toEqual([[key.version, "update"]]);
        expect(versionStagesOf(upgraded)).toEqual(["AWSCURRENT"]);
        expect(upgraded.outputs.keyId).toBe(steady.outputs.keyId);
        expect(upgraded.outputs.publicKeyPem).toBe(steady.outputs.publicKeyPem);
    });
});
