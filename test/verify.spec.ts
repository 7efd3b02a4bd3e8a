// npm run verify against a stand-in `pulumi` on PATH (serving the stack
// outputs) and a Secrets Manager endpoint on loopback, reached through the
// SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER.
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, isFresh } from "../scripts/build.js";
import { fakeCliPath, systemPath } from "./support/fakeCli";
import { FakeQredo } from "./support/fakeQredo";
import { FakeSecretsManager } from "./support/fakeSecretsManager";
import { saveState } from "./support/fakePulumiState.js";
import { copyProject } from "./support/project.js";
import { makeApiKey } from "./support/providers.js";
import { testKey } from "./support/testKeys";
import { liveVerdict, type LiveAnswer } from "../src/verify";

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

type Key = ReturnType<typeof newKey>;
function newKey(i: number) {
    const { privateKey, publicKey } = testKey(i);
    return {
        pkcs1: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        pkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        fingerprint: createHash("sha256")
            .update(publicKey.export({ type: "spki", format: "der" }))
            .digest("hex"),
    };
}
// Three distinct keys serve every test.
const [keyA, keyB, keyC] = [newKey(0), newKey(1), newKey(2)];

interface Deployed {
    readonly state: string;
    readonly apiKey: string;
    readonly key: Key;
    readonly privateKeySecretArn: string;
}

let counter = 0;
/**
 * A "deployed" stack: its secrets in the fake Secrets Manager, its outputs in the fake pulumi.
 * `previous` is stored first (it becomes AWSPREVIOUS, or stays AWSCURRENT when `key` is staged).
 */
function deployed(
    options: {
        key?: Key;
        keyVersion?: number;
        keyStage?: "current" | "pending";
        previous?: Key;
        storedKey?: (key: Key) => string;
        apiKey?: string;
        baseUrl?: string;
    } = {},
): Deployed {
    const key = options.key ?? keyA;
    const apiKey = options.apiKey ?? makeApiKey();
    const name = `qredo/partner-api/test-${++counter}`;
    if (options.previous !== undefined) {
        aws.put(`${name}/private-key`, options.previous.pkcs1);
    }
    const stored = options.storedKey ? options.storedKey(key) : key.pkcs1;
    const privateKeySecretArn = aws.put(`${name}/private-key`, stored, {
        stages: [options.keyStage === "pending" ? "AWSPENDING" : "AWSCURRENT"],
    });
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
        // An older deployment has neither output: the default leaves them out.
        ...(options.keyStage === undefined ? {} : { keyStage: options.keyStage }),
        ...(options.baseUrl === undefined ? {} : { partnerApiBaseUrl: options.baseUrl }),
    };
    // No aws:region: the secrets' ARNs say where they live.
    const config = {};
    saveState(state, { stacks: { sandbox: { secretsProvider: null, config, outputs } } });
    return { state, apiKey, key, privateKeySecretArn };
}

/** Changes some outputs of a deployed stack, as a later `pulumi up` would. */
function setOutputs(stack: Deployed, outputs: Record<string, unknown>): void {
    const state = JSON.parse(readFileSync(join(stack.state, "state.json"), "utf8"));
    Object.assign(state.stacks.sandbox.outputs, outputs);
    saveState(stack.state, state);
}

interface Verify {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function verify(stack: Deployed, args: string[] = [], env: Record<string, string> = {}, name = "sandbox"): Promise<Verify> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [join(project, "scripts", "verify.js"), name, ...args], {
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
                // The SDK warns on Node 20 that its 2027 releases need Node 22; expected here, not news.
                AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
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
    for (const key of [keyA, keyB, keyC]) {
        expect(text).not.toContain(key.pkcs1.split("\n")[1]);
    }
    expect(text).not.toContain("PRIVATE KEY");
}

/** A self-signed X.509 certificate for `key`, made by openssl (its key file lives in the temporary folder only). */
function certificateOf(key: Key): string {
    const keyFile = join(work, `cert-key-${++counter}.pem`);
    writeFileSync(keyFile, key.pkcs1, { mode: 0o600 });
    return execFileSync("openssl", ["req", "-x509", "-new", "-key", keyFile, "-subj", "/CN=qredo-partner-keys test", "-days", "1"], {
        encoding: "utf8",
    });
}

const line = (_run: Verify, status: string, name: string) => new RegExp(`^  ${status} +${name.replace(/[()]/g, "\\$&")}`, "m");

describe("npm run verify", () => {
    it("passes a healthy stack, each check on its own line, reading the secrets in the region of their ARN", async () => {
        const stack = deployed();
        aws.regions.length = 0;
        const run = await verify(stack);
        expect(run.stderr).not.toMatch(/error/i);
        expect(run.status).toBe(0);
        expect(new Set(aws.regions)).toEqual(new Set(["eu-west-2"])); // from the ARN; no AWS_REGION, no aws:region is set
        expect(run.stdout).toMatch(line(run, "pass", "the stored private key is PKCS#1 PEM, RSA 2048"));
        expect(run.stdout).toMatch(line(run, "pass", "its public half is the publicKeyPem output"));
        expect(run.stdout).toMatch(line(run, "pass", "its fingerprint is the publicKeyFingerprintSha256 output"));
        expect(run.stdout).toMatch(line(run, "pass", "a sample request signed with it verifies with the public key"));
        expect(run.stdout).toMatch(line(run, "pass", "the stored API key is valid Base64"));
        expect(run.stdout).toMatch(line(run, "skip", "the uploaded public key file is the published key"));
        expect(run.stdout).toContain(
            "no public-sandbox.pem here or in the project folder, and no --public-key-file given; npm run deploy -- sandbox writes it again, or: npm run --silent pulumi -- stack output --stack sandbox publicKeyPem > public-sandbox.pem",
        );
        expect(run.stdout).toMatch(line(run, "skip", "the previous private key is kept as AWSPREVIOUS"));
        expect(run.stdout).toMatch(line(run, "pass", "no discarded key is left as AWSPENDING"));
        expect(run.stdout).toMatch(/^6 passed, 0 failed$/m);
        // No keyStage output: an older deployment, whose key is current.
        expect(run.stdout).toContain("Verifying stack sandbox (sandbox, keyVersion 1, keyStage current):\n");
        expect(run.stdout).toContain(
            "Phase: key generation 1 is in use (AWSCURRENT); no rotation is staged (this deployment predates staged rotation, so its key is current).\n",
        );
        expectNoSecretIn(run, stack);
    });

    it("checks public-<environment>.pem when no file is named and, after a rotation, the AWSPREVIOUS version", async () => {
        const stack = deployed({ key: keyB, previous: keyA, keyVersion: 2, keyStage: "current" });
        writeFileSync(join(project, "public-sandbox.pem"), stack.key.publicPem);
        try {
            const run = await verify(stack);
            expect(run.status).toBe(0);
            expect(run.stdout).toContain(
                "Checking public-sandbox.pem as the uploaded public key (the file npm run deploy wrote; --public-key-file PATH checks another).\n",
            );
            expect(run.stdout).toContain("Phase: key generation 2 is in use (AWSCURRENT); no rotation is staged.\n");
            expect(run.stdout).toMatch(line(run, "pass", "the uploaded public key file is the published key"));
            expect(run.stdout).toMatch(line(run, "pass", "the previous private key is kept as AWSPREVIOUS"));
            expect(run.stdout).toMatch(/^8 passed, 0 failed$/m);
        } finally {
            rmSync(join(project, "public-sandbox.pem"));
        }
    });

    it("run from a subfolder, checks public-<environment>.pem in the project folder when there is none where it ran", async () => {
        const stack = deployed({ key: keyB, previous: keyA, keyVersion: 2, keyStage: "current" });
        writeFileSync(join(project, "public-sandbox.pem"), keyA.publicPem); // stale: key A was uploaded, B is current
        try {
            const run = await verify(stack, [], { INIT_CWD: join(project, "docs") });
            expect(run.stdout).toContain(
                "Checking ../public-sandbox.pem as the uploaded public key (the file npm run deploy wrote; --public-key-file PATH checks another).\n",
            );
            expect(run.stdout).toMatch(line(run, "fail", "the uploaded public key file is the published key"));
            expect(run.status).toBe(1);
        } finally {
            rmSync(join(project, "public-sandbox.pem"));
        }
    });

    it("fails a current key generation with a discarded key left as AWSPENDING, naming the command that takes it off", async () => {
        // After an immediate rotation over a staged key (A current, B staged, then C at once): B keeps its label.
        const stack = deployed({ key: keyC, previous: keyA, keyVersion: 3, keyStage: "current" });
        aws.put(stack.privateKeySecretArn, keyB.pkcs1, { stages: ["AWSPENDING"] });
        const pendingId = aws.versionId(stack.privateKeySecretArn, "AWSPENDING");
        const run = await verify(stack);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "no discarded key is left as AWSPENDING"));
        expect(run.stdout).toContain(
            `aws secretsmanager update-secret-version-stage --secret-id ${stack.privateKeySecretArn} --region eu-west-2 --version-stage AWSPENDING --remove-from-version-id ${pendingId} (unless you put it there to end a rollback, docs/rotation.md#rolling-back: then go on with those steps)`,
        );
        expectNoSecretIn(run, stack);
        aws.updateVersionStage(stack.privateKeySecretArn, { VersionStage: "AWSPENDING", RemoveFromVersionId: pendingId });
        const fixed = await verify(stack);
        expect(fixed.stdout).toMatch(line(fixed, "pass", "no discarded key is left as AWSPENDING"));
        expect(fixed.status).toBe(0);
    });

    it("fails a staged rotation whose AWSPENDING version is missing", async () => {
        const stack = deployed({ key: keyB, previous: keyA, keyVersion: 2, keyStage: "pending" });
        // keyStage pending, but no AWSPENDING version (the staging update did not run):
        aws.updateVersionStage(stack.privateKeySecretArn, {
            VersionStage: "AWSPENDING",
            RemoveFromVersionId: aws.versionId(stack.privateKeySecretArn, "AWSPENDING"),
        });
        const missing = await verify(stack);
        expect(missing.status).toBe(1);
        expect(missing.stdout).toMatch(
            line(
                missing,
                "fail",
                "the staged private key (AWSPENDING) is PKCS#1 PEM, RSA 2048 (no version of the private key's secret has the AWSPENDING stage",
            ),
        );
        // The way back goes through the deploy (npm run pulumi runs no update), after a refresh reads the labels.
        expect(missing.stdout).toContain(
            "to stage the key again, run npm run pulumi -- refresh --stack sandbox, then npm run deploy -- sandbox",
        );
    });

    it("fails when the stored key is not the published public key", async () => {
        const stack = deployed({ storedKey: () => keyC.pkcs1 });
        const run = await verify(stack);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "pass", "the stored private key is PKCS#1 PEM, RSA 2048"));
        expect(run.stdout).toMatch(line(run, "fail", "its public half is the publicKeyPem output"));
        expect(run.stdout).toContain(
            "the stored key is not the one published for upload. After a rollback (AWSCURRENT moved back by hand, docs/rotation.md#rolling-back) that is expected: do not refresh, end the rollback as that section says. Otherwise, to bring the stack back in step, run npm run pulumi -- refresh --stack sandbox, then npm run deploy -- sandbox",
        );
        expect(run.stdout).toMatch(line(run, "fail", "its fingerprint is the publicKeyFingerprintSha256 output"));
        expect(run.stdout).toMatch(line(run, "fail", "a sample request signed with it verifies with the public key"));
        expect(run.stdout).toContain(
            "Phase: the stack says key generation 1 is in use, but AWSCURRENT holds another key (after a rollback by hand that is expected: docs/rotation.md#rolling-back); see the checks below.\n",
        );
        expect(run.stdout).not.toContain("is in use (AWSCURRENT)");
        expectNoSecretIn(run, stack);
    });

    it("fails on a stale public.pem", async () => {
        const stack = deployed();
        writeFileSync(join(project, "stale.pem"), keyC.publicPem);
        const run = await verify(stack, ["--public-key-file", "stale.pem"]);
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the uploaded public key file is the published key (the file is a different key"));
    });

    it("fails a private key file given as the uploaded public key, loudly and without printing it", async () => {
        const stack = deployed();
        writeFileSync(join(project, "private.pem"), stack.key.pkcs1); // the stack's own key: its public half matches
        // OpenSSL reads the label loosely: a lower-case one still loads as the private key.
        writeFileSync(join(project, "private-lower.pem"), stack.key.pkcs1.replaceAll("RSA PRIVATE KEY", "rsa PRIVATE KEY"));
        const runs = await Promise.all(["private.pem", "private-lower.pem"].map((file) => verify(stack, ["--public-key-file", file])));
        for (const run of runs) {
            expect(run.status).toBe(1);
            expect(run.stdout).toMatch(
                line(
                    run,
                    "fail",
                    "the uploaded public key file is the published key (the file holds a private key, not a public key: if it was uploaded or shared, that key is exposed, rotate it (docs/rotation.md)",
                ),
            );
            expectNoSecretIn(run, stack);
        }
    });

    it("fails an uploaded file that is not exactly one SPKI PUBLIC KEY block, saying what it holds and what Qredo expects", async () => {
        const stack = deployed();
        const { privateKey, publicKey } = testKey(0); // the stack's own key: each file below holds its public half
        const jwk = JSON.stringify(privateKey.export({ format: "jwk" }));
        const body = (der: Buffer) => `${der.toString("base64").replace(/(.{64})/g, "$1\n")}\n`;
        const expects =
            "Qredo expects one SPKI public key, a single -----BEGIN PUBLIC KEY----- block (what openssl rsa -pubout writes) and nothing else: upload the publicKeyPem output";
        const privateKeyDetail = (form: string) =>
            `the file holds a private key${form}, not a public key: if it was uploaded or shared, that key is exposed, rotate it (docs/rotation.md); upload the publicKeyPem output`;
        const files: Record<string, readonly [contents: string, detail: string]> = {
            "jwk-then-public.pem": [`${jwk}\n${stack.key.publicPem}`, privateKeyDetail(' (a JWK with its private part, "d")')],
            "mislabelled.pem": [
                `-----BEGIN PUBLIC KEY-----\n${body(privateKey.export({ type: "pkcs1", format: "der" }))}-----END PUBLIC KEY-----\n`,
                privateKeyDetail(""),
            ],
            "bare-private.txt": [body(privateKey.export({ type: "pkcs8", format: "der" })), privateKeyDetail("")],
            "rsa-public.pem": [
                publicKey.export({ type: "pkcs1", format: "pem" }).toString(),
                `the file holds a -----BEGIN RSA PUBLIC KEY----- block (PKCS#1); ${expects}`,
            ],
            "certificate.pem": [
                certificateOf(stack.key),
                `the file holds a -----BEGIN CERTIFICATE----- block (an X.509 certificate); ${expects}`,
            ],
            "annotated.pem": [
                `Qredo sandbox key, uploaded by ops\n${stack.key.publicPem}`,
                `the file holds a -----BEGIN PUBLIC KEY----- block and other text; ${expects}`,
            ],
            "twice.pem": [`${stack.key.publicPem}${stack.key.publicPem}`, `the file holds 2 -----BEGIN PUBLIC KEY----- blocks; ${expects}`],
            "certificate-and-public.pem": [
                `${certificateOf(stack.key)}${stack.key.publicPem}`,
                `the file holds a -----BEGIN CERTIFICATE----- block (an X.509 certificate) and a -----BEGIN PUBLIC KEY----- block; ${expects}`,
            ],
            "notes.txt": ["the key is in the vault\n", `the file holds no PEM block; ${expects}`],
            "garbled.pem": [
                `-----BEGIN PUBLIC KEY-----\n${body(randomBytes(270))}-----END PUBLIC KEY-----\n`,
                `the file's -----BEGIN PUBLIC KEY----- block is not a well-formed SPKI public key; ${expects}`,
            ],
            "private-after-public.pem": [
                `${stack.key.publicPem}${body(privateKey.export({ type: "pkcs8", format: "der" }))}`,
                privateKeyDetail(""),
            ],
            "notes-then-private.pem": [
                `Notes\nuploaded on 2024 by alice for the sandbox stack, see ticket 42:\n${body(privateKey.export({ type: "pkcs8", format: "der" }))}${stack.key.publicPem}`,
                privateKeyDetail(""),
            ],
            "glued-private.pem": [
                `${stack.key.publicPem}private key:${privateKey.export({ type: "pkcs8", format: "der" }).toString("base64url")}\n`,
                privateKeyDetail(""),
            ],
            "assigned-private.pem": [
                `${stack.key.publicPem}PRIVATE_KEY=${privateKey.export({ type: "pkcs8", format: "der" }).toString("base64")}\n`,
                privateKeyDetail(""),
            ],
            "blank-line.pem": [
                stack.key.publicPem.replace(/\n(?=[A-Za-z0-9+/]{20})/, "\n\n"),
                `the file's -----BEGIN PUBLIC KEY----- block is not a well-formed SPKI public key; ${expects}`,
            ],
            "labelled-private-before-public.pem": [
                `private key ${privateKey.export({ type: "pkcs1", format: "der" }).toString("base64")}\n${stack.key.publicPem}`,
                privateKeyDetail(""),
            ],
        };
        const runs = await Promise.all(
            Object.entries(files).map(([file, [contents]]) => {
                writeFileSync(join(project, file), contents);
                return verify(stack, ["--public-key-file", file]);
            }),
        );
        Object.values(files).forEach(([, detail], i) => {
            const run = runs[i];
            expect(run.status).toBe(1);
            expect(run.stdout.split("\n")).toContain(`  fail  the uploaded public key file is the published key (${detail})`);
            expectNoSecretIn(run, stack);
            expect(run.stdout + run.stderr).not.toContain(String(privateKey.export({ format: "jwk" }).d).slice(0, 16));
        });
    });

    it("passes the published key as one PUBLIC KEY block, with a byte-order mark, CRLF line ends, trailing spaces or blank lines around it", async () => {
        const stack = deployed();
        const files = {
            "bom.pem": `\uFEFF${stack.key.publicPem}`,
            "crlf.pem": stack.key.publicPem.replaceAll("\n", "\r\n"),
            "padded.pem": `\n\n  ${stack.key.publicPem}\n\n`,
            // Spaces or tabs at the ends of lines, as an editor or a paste leaves them: OpenSSL reads the key the same.
            "trailing-spaces.pem": stack.key.publicPem.replace(/\n/g, " \t\n"),
        };
        const runs = await Promise.all(
            Object.entries(files).map(([file, contents]) => {
                writeFileSync(join(project, file), contents);
                return verify(stack, ["--public-key-file", file]);
            }),
        );
        for (const run of runs) {
            expect(run.stdout).toMatch(line(run, "pass", "the uploaded public key file is the published key"));
            expect(run.status).toBe(0);
        }
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
        const run = await verify(deployed({ keyVersion: 3, keyStage: "current" }));
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(line(run, "fail", "the previous private key is kept as AWSPREVIOUS"));
    });

    it("cannot run (exit 2) when a secret is missing, and says which", async () => {
        const stack = deployed();
        const outputs = JSON.parse(readFileSync(join(stack.state, "state.json"), "utf8"));
        outputs.stacks.sandbox.outputs.apiKeySecretArn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:gone-AbCdEf";
        saveState(stack.state, outputs);
        const run = await verify(stack);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(
            "verify: error: the API key secret arn:aws:secretsmanager:eu-west-2:123456789012:secret:gone-AbCdEf does not exist",
        );
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

    it("hands pulumi a relative passphrase file from the user's folder as an absolute path, and refuses one that cannot be read", async () => {
        const user = mkdtempSync(join(work, "user-"));
        writeFileSync(join(user, "passphrase.txt"), "correct horse battery staple\n");
        const stack = deployed();
        const [found, missing] = await Promise.all([
            verify(stack, [], { INIT_CWD: user, PULUMI_CONFIG_PASSPHRASE_FILE: "passphrase.txt" }),
            verify(deployed(), [], { INIT_CWD: user, PULUMI_CONFIG_PASSPHRASE_FILE: "nope.txt" }),
        ]);
        const calls = readFileSync(join(stack.state, "calls.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        expect(found.status, found.stderr).toBe(0);
        // `pulumi version` gets no passphrase; the stack's read gets the absolute path
        expect(calls.map((c: { args: string[]; passphraseFile: string | null }) => [c.args[0], c.passphraseFile])).toEqual([
            ["version", null],
            ["stack", join(user, "passphrase.txt")],
        ]);
        expect(missing.status).toBe(2);
        expect(missing.stderr).toContain(`PULUMI_CONFIG_PASSPHRASE_FILE names ${join(user, "nope.txt")}, which cannot be read (ENOENT).`);
    });

    it("cannot run (exit 2) without AWS credentials", async () => {
        const run = await verify(deployed(), [], {
            AWS_ACCESS_KEY_ID: "",
            AWS_SECRET_ACCESS_KEY: "",
            AWS_SHARED_CREDENTIALS_FILE: join(work, "none"),
            AWS_CONFIG_FILE: join(work, "none"),
        });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("no AWS credentials found");
    });

    it("cannot run (exit 2) with the API key pasted as the stack name, and neither prints it nor hands it to pulumi", async () => {
        const stack = deployed();
        const run = await verify(stack, [], {}, stack.apiKey);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("verify: error: the stack name looks like an API key; it is not repeated here, and nothing was run.");
        expect(run.stderr).not.toContain("--api-key-file"); // verify has no such option
        expectNoSecretIn(run, stack);
        expect(existsSync(join(stack.state, "calls.jsonl"))).toBe(false);
        const asFile = await verify(stack, ["--public-key-file", stack.apiKey]);
        expect(asFile.status).toBe(2);
        expect(asFile.stderr).toContain("verify: error: the value of --public-key-file looks like an API key; it is not repeated here");
        expectNoSecretIn(asFile, stack);
        expect(existsSync(join(stack.state, "calls.jsonl"))).toBe(false);
        await verify(stack); // the stand-in does record the calls of a run that gets that far
        expect(existsSync(join(stack.state, "calls.jsonl"))).toBe(true);
    });

    it("cannot run (exit 2) without the Pulumi CLI, or for a stack that was never deployed", async () => {
        const noCli = await verify(deployed(), [], { PATH: systemPath().join(":") });
        expect(noCli.status).toBe(2);
        expect(noCli.stderr).toContain("the Pulumi CLI is not on your PATH");

        const stack = deployed();
        saveState(stack.state, { stacks: { sandbox: { secretsProvider: null, config: {}, outputs: {} } } });
        const never = await verify(stack);
        expect(never.status).toBe(2);
        expect(never.stderr).toContain("has it been deployed (`npm run deploy -- sandbox`)?");
    });

    it("cannot run (exit 2) for a stack that does not exist: names the one probably meant, or says to deploy it", async () => {
        const stack = deployed(); // holds sandbox only
        const [typo, missing] = await Promise.all([verify(stack, [], {}, "sandbx"), verify(stack, [], {}, "production")]);
        expect(typo.status).toBe(2);
        expect(typo.stderr).toContain(
            "verify: error: stack sandbx does not exist in this backend (it has sandbox). Did you mean sandbox?\n    npm run verify -- sandbox",
        );
        expect(missing.status).toBe(2);
        expect(missing.stderr).toContain(
            "verify: error: stack production does not exist in this backend (it has sandbox): deploy it first (npm run deploy -- production), or point PULUMI_BACKEND_URL or pulumi login at the backend it was deployed with.",
        );
        // one error, ours: pulumi's own "no stack named" line is held back
        for (const run of [typo, missing]) {
            expect(run.stderr).not.toContain("no stack named");
            expect(run.stderr.match(/error/g)).toHaveLength(1);
        }
    });
});

describe("npm run verify --live", () => {
    let qredo: FakeQredo;
    beforeAll(async () => {
        qredo = new FakeQredo();
        await qredo.start();
    });
    afterAll(() => qredo.stop());

    const live = (answer: string, key: string) => new RegExp(`^  ${answer} +the ${key.replace(/[()]/g, "\\$&")}$`, "m");

    it("with nothing staged, asks only about the current key: a discarded AWSPENDING key is never to be promoted", async () => {
        // Immediate rotation over a staged, uploaded B: C current, B left as AWSPENDING, Qredo still holding B.
        const stack = deployed({ key: keyC, previous: keyA, keyVersion: 3, keyStage: "current", baseUrl: qredo.baseUrl });
        aws.put(stack.privateKeySecretArn, keyB.pkcs1, { stages: ["AWSPENDING"] });
        qredo.apiKey = stack.apiKey;
        qredo.upload(keyB.publicPem);
        qredo.requests.length = 0;
        try {
            const run = await verify(stack, ["--live"]);
            expect(run.status).toBe(1);
            expect(run.stdout).toMatch(line(run, "fail", "no discarded key is left as AWSPENDING"));
            expect(run.stdout).not.toMatch(/promote/i);
            expect(run.stdout).toContain("Qredo rejects the current key (AWSCURRENT): upload public-sandbox.pem");
            expect(qredo.requests).toHaveLength(1); // the current key only
        } finally {
            qredo.requests.length = 0; // the next test counts its own
        }
    });

    it("follows a rotation: A live, B staged, B uploaded, B promoted; then a key Qredo does not have", async () => {
        const stack = deployed({ key: keyA, keyStage: "current", baseUrl: qredo.baseUrl });
        qredo.apiKey = stack.apiKey;
        qredo.upload(keyA.publicPem);
        const first = await verify(stack, ["--live"]);
        expect(first.status).toBe(0);
        expect(first.stdout).toContain(`Live (signed GET ${qredo.baseUrl}/assets):\n`);
        expect(first.stdout).toMatch(live("accepted", "current key (AWSCURRENT)"));
        expect(first.stdout).toContain("Qredo accepts the current key (AWSCURRENT), the one signers use.\n");
        expect(qredo.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([`GET ${qredo.baseUrl}/assets 200`]);

        // Stage B: AWSPENDING on a new version, the outputs publish B.
        aws.put(stack.privateKeySecretArn, keyB.pkcs1, { stages: ["AWSPENDING"] });
        setOutputs(stack, {
            keyStage: "pending",
            keyVersion: 2,
            publicKeyPem: keyB.publicPem,
            publicKeyFingerprintSha256: keyB.fingerprint,
        });
        const staged = await verify(stack, ["--live"]);
        expect(staged.status).toBe(0);
        expect(staged.stdout).toContain(
            "Phase: rotation staged: key generation 2 is pending (AWSPENDING) while signers keep using the previous key (AWSCURRENT). " +
                "Next: upload public-sandbox.pem in the Qredo Web App (signers built on @qredo-partner-keys/client switch to the new key by themselves), " +
                "then promote it: `npm run deploy -- sandbox --promote`.\n",
        );
        expect(staged.stdout).toMatch(line(staged, "pass", "the staged private key (AWSPENDING) is PKCS#1 PEM, RSA 2048"));
        expect(staged.stdout).toMatch(line(staged, "pass", "its public half is the publicKeyPem output"));
        expect(staged.stdout).toMatch(
            line(staged, "pass", "the key signers use now (AWSCURRENT) is the previous generation, PKCS#1 PEM, RSA 2048"),
        );
        expect(staged.stdout).toMatch(line(staged, "skip", "the previous private key is kept as AWSPREVIOUS (a rotation is staged"));
        expect(staged.stdout).toMatch(/^6 passed, 0 failed$/m);
        expect(staged.stdout).toMatch(live("accepted", "current key (AWSCURRENT)"));
        expect(staged.stdout).toMatch(live("rejected", "pending key (AWSPENDING)"));
        expect(staged.stdout).toContain(
            "the pending key is not live yet: when you are ready, upload public-sandbox.pem (the publicKeyPem output) in the Qredo Web App for sandbox, then promote it: `npm run deploy -- sandbox --promote`.\n",
        );

        qredo.upload(keyB.publicPem);
        const uploaded = await verify(stack, ["--live"]);
        expect(uploaded.status).toBe(1);
        expect(uploaded.stdout).toMatch(live("rejected", "current key (AWSCURRENT)"));
        expect(uploaded.stdout).toMatch(live("accepted", "pending key (AWSPENDING)"));
        expect(uploaded.stdout).toContain(
            "Qredo accepts only the pending key (AWSPENDING): it has been uploaded. Promote it now: `npm run deploy -- sandbox --promote`.",
        );

        // Promote: AWSCURRENT moves to B (A becomes AWSPREVIOUS), AWSPENDING goes.
        const versionB = aws.versionId(stack.privateKeySecretArn, "AWSPENDING")!;
        aws.updateVersionStage(stack.privateKeySecretArn, {
            VersionStage: "AWSCURRENT",
            MoveToVersionId: versionB,
            RemoveFromVersionId: aws.versionId(stack.privateKeySecretArn, "AWSCURRENT"),
        });
        aws.updateVersionStage(stack.privateKeySecretArn, { VersionStage: "AWSPENDING", RemoveFromVersionId: versionB });
        setOutputs(stack, { keyStage: "current" });
        const promoted = await verify(stack, ["--live"]);
        expect(promoted.status).toBe(0);
        expect(promoted.stdout).toContain("Phase: key generation 2 is in use (AWSCURRENT); no rotation is staged.\n");
        expect(promoted.stdout).toMatch(line(promoted, "pass", "the previous private key is kept as AWSPREVIOUS"));
        expect(promoted.stdout).not.toMatch(/pending key/);
        expect(promoted.stdout).toContain("Qredo accepts the current key (AWSCURRENT), the one signers use.\n");

        qredo.upload(keyC.publicPem);
        const neither = await verify(stack, ["--live"]);
        expect(neither.status).toBe(1);
        expect(neither.stdout).toMatch(live("rejected", "current key (AWSCURRENT)"));
        expect(neither.stdout).toContain(
            "Qredo rejects the current key (AWSCURRENT): upload public-sandbox.pem (the publicKeyPem output) in the Qredo Web App for sandbox.",
        );
        for (const run of [first, staged, uploaded, promoted, neither]) {
            expectNoSecretIn(run, stack);
        }
    });

    it("never sends a malformed stored API key (a bad header value would be quoted in the error), and says why", async () => {
        const good = makeApiKey();
        const stack = deployed({ keyStage: "current", baseUrl: qredo.baseUrl, apiKey: `${good.slice(0, 40)}\r\n${good.slice(40)}` });
        const before = qredo.requests.length;
        const run = await verify(stack, ["--live"]);
        expect(run.status).toBe(2);
        expect(run.stdout).toMatch(line(run, "fail", "the stored API key is valid Base64"));
        expect(run.stdout).toContain(
            "  unknown  the current key (AWSCURRENT) (not sent: the stored API key is not valid (see the checks above))\n",
        );
        expect(qredo.requests.length).toBe(before);
        expectNoSecretIn(run, stack);
        expect(run.stdout + run.stderr).not.toContain(good.slice(40, 70));
    });

    it("cannot run (exit 2) when Qredo cannot be reached", async () => {
        const closed = createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const port = (closed.address() as AddressInfo).port;
        await new Promise((resolve) => closed.close(resolve));
        const stack = deployed({ keyStage: "current", baseUrl: `http://127.0.0.1:${port}/api/v1/p` });
        const run = await verify(stack, ["--live"]);
        expect(run.status).toBe(2);
        const url = `http://127.0.0.1:${port}/api/v1/p/assets`;
        expect(run.stdout).toContain(
            `  unknown  the current key (AWSCURRENT) (GET ${url} failed: connect ECONNREFUSED 127.0.0.1:${port})\n`,
        );
        expect(run.stderr).toContain(
            `verify: error: could not ask Qredo about the current key: GET ${url} failed: connect ECONNREFUSED 127.0.0.1:${port}\n`,
        );
        expectNoSecretIn(run, stack);
    });
});

describe("the --live verdict", () => {
    const outputs = { environment: "sandbox", keyVersion: 2, keyStage: "pending" } as unknown as Parameters<
        typeof liveVerdict
    >[0]["outputs"];
    const verdict = (current: LiveAnswer, pending?: LiveAnswer) =>
        liveVerdict({
            stack: "sandbox",
            outputs,
            publicKeyFile: "public-sandbox.pem",
            current,
            ...(pending === undefined ? {} : { pending }),
        });

    it("says which keys Qredo rejected: both while one is staged, the current one when nothing is", () => {
        expect(verdict("rejected", "rejected")).toMatchObject({
            code: 1,
            message: expect.stringMatching(/^Qredo accepts neither stored key: upload public-sandbox.pem /),
        });
        expect(verdict("rejected")).toMatchObject({
            code: 1,
            message: expect.stringMatching(/^Qredo rejects the current key \(AWSCURRENT\): upload public-sandbox.pem /),
        });
        expect(verdict("rejected").message).not.toMatch(/promote/);
    });
});
