// npm run verify against a stand-in `pulumi` on PATH (serving the stack
// outputs) and a Secrets Manager endpoint on loopback, reached through the
// SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER.
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, isFresh } from "../scripts/build.js";
import { fakeCliPath, systemPath } from "./support/fakeCli";
import { FakeSecretsManager } from "./support/fakeSecretsManager";
import { copyProject } from "./support/project.js";
import { makeApiKey } from "./support/providers.js";

let aws: FakeSecretsManager;
let endpoint: string;
let work: string;
let project: string;
let fakePath: string;

beforeAll(async () => {
    if (!isFresh()) {
        build();
    }
    aws = new FakeSecretsManager();
    endpoint = await aws.start();
    work = mkdtempSync(join(tmpdir(), "qredo-keys-verify-"));
    fakePath = fakeCliPath(work);
    project = copyProject({ dependencies: true, build: true });
});
afterAll(async () => {
    await aws.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
});

function rsaKey() {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
        pkcs1: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        fingerprint: createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex"),
    };
}

interface Deployed {
    readonly state: string;
    readonly apiKey: string;
    readonly key: ReturnType<typeof rsaKey>;
}

let counter = 0;
/** A "deployed" stack: its secrets in the fake Secrets Manager, its outputs in the fake pulumi. */
function deployed(options: { keyVersion?: number; storedKey?: (key: ReturnType<typeof rsaKey>) => string; apiKey?: string; rotations?: number } = {}): Deployed {
    const key = rsaKey();
    const apiKey = options.apiKey ?? makeApiKey();
    const name = `qredo/partner-api/test-${++counter}`;
    let privateKeySecretArn = "";
    for (let i = 0; i < (options.rotations ?? 0); i++) {
        privateKeySecretArn = aws.put(`${name}/private-key`, rsaKey().pkcs1);
    }
    privateKeySecretArn = aws.put(`${name}/private-key`, options.storedKey ? options.storedKey(key) : key.pkcs1);
    const apiKeySecretArn = aws.put(`${name}/api-key`, apiKey);
    const state = mkdtempSync(join(work, "state-"));
    const outputs = {
        environment: "sandbox",
        publicKeyPem: key.publicPem,
        publicKeyFingerprintSha256: key.fingerprint,
        keyVersion: options.keyVersion ?? 1,
        keyId: "0011223344556677",
        privateKeySecretArn,
        privateKeySecretName: `${name}/private-key`,
        apiKeySecretArn,
        apiKeySecretName: `${name}/api-key`,
        readPolicyArn: "arn:aws:iam::123456789012:policy/qredo-partner-api-read-AbCdEf",
    };
    const config = { "aws:region": { value: "eu-west-2", secret: false } };
    writeFileSync(join(state, "state.json"), JSON.stringify({ stacks: { sandbox: { secretsProvider: null, config, outputs } } }));
    return { state, apiKey, key };
}

interface Verify {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function verify(stack: Deployed, args: string[] = [], env: Record<string, string> = {}): Promise<Verify> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(project, "scripts", "verify.js"), "sandbox", ...args], {
            cwd: project,
            stdio: ["ignore", "pipe", "pipe"],
            env: {
                PATH: fakePath,
                HOME: work,
                INIT_CWD: project,
                FAKE_PULUMI_DIR: stack.state,
                PULUMI_BACKEND_URL: "s3://team-state",
                AWS_ACCESS_KEY_ID: "test",
                AWS_SECRET_ACCESS_KEY: "test",
                AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
                AWS_EC2_METADATA_DISABLED: "true",
                ...env,
            },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

function expectNoSecretIn(run: Verify, stack: Deployed) {
    const text = run.stdout + run.stderr;
    expect(text).not.toContain(stack.apiKey.slice(0, 16));
    expect(text).not.toContain(stack.key.pkcs1.split("\n")[1]);
    expect(text).not.toContain("PRIVATE KEY");
}

const line = (_run: Verify, status: string, name: string) => new RegExp(`^  ${status} +${name.replace(/[()]/g, "\\$&")}`, "m");

describe("npm run verify", () => {
    it("passes a healthy stack, each check on its own line, reading the secrets in the stack's region", async () => {
        const stack = deployed();
        aws.regions.length = 0;
        const run = await verify(stack);
        expect(run.stderr).not.toMatch(/error/i);
        expect(run.status).toBe(0);
        expect(new Set(aws.regions)).toEqual(new Set(["eu-west-2"])); // from the stack's aws:region; no AWS_REGION is set
        expect(run.stdout).toMatch(line(run, "pass", "the stored private key is PKCS#1 PEM, RSA 2048"));
        expect(run.stdout).toMatch(line(run, "pass", "its public half is the publicKeyPem output"));
        expect(run.stdout).toMatch(line(run, "pass", "its fingerprint is the publicKeyFingerprintSha256 output"));
        expect(run.stdout).toMatch(line(run, "pass", "a sample request signed with it verifies with the public key"));
        expect(run.stdout).toMatch(line(run, "pass", "the stored API key is valid Base64"));
        expect(run.stdout).toMatch(line(run, "skip", "the uploaded public key file is the published key"));
        expect(run.stdout).toMatch(line(run, "skip", "the previous private key is kept as AWSPREVIOUS"));
        expect(run.stdout).toMatch(/^5 passed, 0 failed$/m);
        expectNoSecretIn(run, stack);
    });

    it("checks the uploaded public key file and, after a rotation, the AWSPREVIOUS version", async () => {
        const stack = deployed({ keyVersion: 2, rotations: 1 });
        writeFileSync(join(project, "uploaded.pem"), stack.key.publicPem);
        const run = await verify(stack, ["--public-key-file", "uploaded.pem"]);
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(line(run, "pass", "the uploaded public key file is the published key"));
        expect(run.stdout).toMatch(line(run, "pass", "the previous private key is kept as AWSPREVIOUS"));
        expect(run.stdout).toMatch(/^7 passed, 0 failed$/m);
    });

    it("fails when the stored key is not the published public key", async () => {
        const stack = deployed({ storedKey: () => rsaKey().pkcs1 });
        const run = await verify(stack);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "pass", "the stored private key is PKCS#1 PEM, RSA 2048"));
        expect(run.stdout).toMatch(line(run, "fail", "its public half is the publicKeyPem output"));
        expect(run.stdout).toMatch(line(run, "fail", "its fingerprint is the publicKeyFingerprintSha256 output"));
        expect(run.stdout).toMatch(line(run, "fail", "a sample request signed with it verifies with the public key"));
        expectNoSecretIn(run, stack);
    });

    it("fails on a stale public.pem", async () => {
        const stack = deployed();
        writeFileSync(join(project, "stale.pem"), rsaKey().publicPem);
        const run = await verify(stack, ["--public-key-file", "stale.pem"]);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the uploaded public key file is the published key (the file is a different key"));
    });

    it("fails on a stored API key that is not Base64, without printing it", async () => {
        const stack = deployed({ apiKey: `${makeApiKey()}!` });
        const run = await verify(stack);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the stored API key is valid Base64 (it is not Base64"));
        expectNoSecretIn(run, stack);
    });

    it("fails on a private key stored as PKCS#8, which the signing clients cannot read", async () => {
        const run = await verify(deployed({ storedKey: (key) => key.pkcs8 }));
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the stored private key is PKCS#1 PEM, RSA 2048 (it is RSA 2048 but not PKCS#1"));
        expect(run.stdout).toMatch(line(run, "pass", "its public half is the publicKeyPem output"));
    });

    it("fails after a rotation that left no AWSPREVIOUS version", async () => {
        const run = await verify(deployed({ keyVersion: 3 }));
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the previous private key is kept as AWSPREVIOUS"));
    });

    it("cannot run (exit 2) when a secret is missing, and says which", async () => {
        const stack = deployed();
        const outputs = JSON.parse(readFileSync(join(stack.state, "state.json"), "utf8"));
        outputs.stacks.sandbox.outputs.apiKeySecretArn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:gone-AbCdEf";
        writeFileSync(join(stack.state, "state.json"), JSON.stringify(outputs));
        const run = await verify(stack);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("verify: error: the API key secret arn:aws:secretsmanager:eu-west-2:123456789012:secret:gone-AbCdEf does not exist");
        expect(run.stderr).not.toMatch(/^\s+at /m);
    });

    it("cannot run (exit 2) when access is denied, and names the policy to attach", async () => {
        const stack = deployed();
        const arn = JSON.parse(readFileSync(join(stack.state, "state.json"), "utf8")).stacks.sandbox.outputs.privateKeySecretArn;
        aws.denied.add(arn);
        const run = await verify(stack);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(`access denied reading the private key secret ${arn}`);
        expect(run.stderr).toContain("arn:aws:iam::123456789012:policy/qredo-partner-api-read-AbCdEf");
    });

    it("cannot run (exit 2) without AWS credentials", async () => {
        const run = await verify(deployed(), [], { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SHARED_CREDENTIALS_FILE: join(work, "none"), AWS_CONFIG_FILE: join(work, "none") });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("no AWS credentials found");
    });

    it("cannot run (exit 2) without the Pulumi CLI, or for a stack that was never deployed", async () => {
        const noCli = await verify(deployed(), [], { PATH: systemPath().join(":") });
        expect(noCli.status).toBe(2);
        expect(noCli.stderr).toContain("the Pulumi CLI is not on your PATH");

        const stack = deployed();
        writeFileSync(join(stack.state, "state.json"), JSON.stringify({ stacks: { sandbox: { secretsProvider: null, config: {}, outputs: {} } } }));
        const never = await verify(stack);
        expect(never.status).toBe(2);
        expect(never.stderr).toContain("has it been deployed (`npm run deploy -- sandbox`)?");
    });
});
