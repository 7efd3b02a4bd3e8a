/**
 * The checks behind `npm run verify`: is what a deployed stack stored in
 * Secrets Manager sound, does it match what was published for upload, and
 * (with --live) which stored key does Qredo accept? Understands a staged
 * rotation: while keyStage is `pending`, the published key is the AWSPENDING
 * version and signers still use the AWSCURRENT one. Never a secret value in a
 * result, a detail or an error.
 */
import { createHash, createPrivateKey, createPublicKey, verify, type KeyObject } from "node:crypto";
import { DescribeSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { checkApiKey, loadSigningKey, partnerApiBaseUrl, signedPayload, signRequest } from "@qredo-partner-keys/client";
import { candidateDers, trailingSlashes } from "./configParsers";
import { liveVerdict, type LiveAnswer, type LiveVerdict } from "./verifyLive";

export { describePhase, liveVerdict, type LiveAnswer, type LiveVerdict } from "./verifyLive";

export type KeyStage = "current" | "pending";

/** The stack outputs the checks read (names from DESIGN.md). */
export interface StackOutputs {
    readonly environment: string;
    readonly publicKeyPem: string;
    readonly publicKeyFingerprintSha256: string;
    readonly keyVersion: number;
    readonly privateKeySecretArn: string;
    readonly apiKeySecretArn: string;
    readonly readPolicyArn: string;
    /** Absent on stacks deployed before staged rotation existed: they are `current`. */
    readonly keyStage?: KeyStage;
    /** @default the Partner API base URL */
    readonly partnerApiBaseUrl?: string;
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
    readonly stack: string;
    readonly outputs: StackOutputs;
    /** The public key file the deploy writes for this stack, named in the advice (scripts/lib/publicKeyFile.js). */
    readonly publicKeyFile: string;
    readonly client: SecretsManagerClient;
    /** The public key file that was uploaded to Qredo, if the caller has it. */
    readonly uploadedPublicKeyPem?: string;
    /** Ask Qredo which key it accepts. */
    readonly live?: { readonly fetch?: typeof fetch; readonly timeoutMs?: number };
    /** Limit on each Secrets Manager call. @default 30000 */
    readonly timeoutMs?: number;
}

export interface VerifyReport {
    readonly results: CheckResult[];
    readonly live?: { readonly current: LiveAnswer; readonly pending?: LiveAnswer; readonly verdict: LiveVerdict };
}

export const sampleRequest = {
    url: `${partnerApiBaseUrl}/company?verify=qredo-partner-keys`,
    body: '{"name":"qredo-partner-keys verify"}',
};

/** ` --region REGION` from a secret's ARN: the AWS CLI sends a request to its default region, not the ARN's. */
const regionOf = (arn: string) => {
    const region = /^arn:[^:]+:secretsmanager:([a-z0-9-]+):/.exec(arn)?.[1];
    return region === undefined ? "" : ` --region ${region}`;
};

export const keyStageOf = (outputs: StackOutputs): KeyStage => outputs.keyStage ?? "current";

type Check = (name: string, outcome: boolean | string, detail?: string) => void;

export async function verifyStack(input: VerifyInput): Promise<VerifyReport> {
    const { outputs, client, uploadedPublicKeyPem } = input;
    const read = new SecretReader(client, outputs.readPolicyArn, input.timeoutMs ?? 30_000, input.stack);
    const [currentPem, pendingPem, apiKey, privateKeyVersions] = await Promise.all([
        read.value(outputs.privateKeySecretArn, "private key", "AWSCURRENT"),
        read.value(outputs.privateKeySecretArn, "private key", "AWSPENDING", { optional: true }),
        read.value(outputs.apiKeySecretArn, "API key", "AWSCURRENT"),
        read.stages(outputs.privateKeySecretArn),
    ]);
    const results: CheckResult[] = [];
    const check: Check = (name, outcome, detail) =>
        results.push(
            outcome === true
                ? { name, status: "pass" }
                : outcome === false
                  ? { name, status: "fail", ...(detail ? { detail } : {}) }
                  : { name, status: "skip", detail: outcome },
        );

    const staged = keyStageOf(outputs) === "pending";
    const label = staged ? "the staged private key (AWSPENDING)" : "the stored private key";
    const published = staged ? pendingPem : currentPem;
    const publishedKey = checkPublishedKey(check, label, published, outputs, input.stack);
    let currentKey = publishedKey;
    if (staged) {
        currentKey = checkKeyInUse(check, currentPem, publishedKey);
    }
    checkUploadedFile(check, uploadedPublicKeyPem, outputs.publicKeyPem, input);

    const apiKeyCheck = checkApiKey(apiKey ?? "");
    check(
        "the stored API key is valid Base64",
        apiKeyCheck.ok && apiKeyCheck.value === apiKey,
        apiKeyCheck.ok ? "it has whitespace around it" : `it ${apiKeyCheck.problem}`,
    );

    if (staged) {
        check(
            "the previous private key is kept as AWSPREVIOUS",
            "a rotation is staged: the key in use becomes AWSPREVIOUS when the staged key is promoted",
        );
    } else if (outputs.keyVersion > 1) {
        const kept = Object.values(privateKeyVersions).some((stages) => stages.includes("AWSPREVIOUS"));
        check(
            "the previous private key is kept as AWSPREVIOUS",
            kept,
            "no version has the AWSPREVIOUS stage, so there is nothing to roll back to",
        );
    } else {
        check("the previous private key is kept as AWSPREVIOUS", "keyVersion is 1: no rotation yet");
    }
    if (!staged) {
        // An immediate rotation over a staged key leaves that key's AWSPENDING label (deploy warns to take it off).
        const left = Object.entries(privateKeyVersions).find(
            ([, stages]) => stages.includes("AWSPENDING") && !stages.includes("AWSCURRENT"),
        )?.[0];
        check(
            "no discarded key is left as AWSPENDING",
            left === undefined,
            `version ${left} of the private key's secret has the AWSPENDING stage, though no rotation is staged: signers on @qredo-partner-keys/client fall back to that key when Qredo rejects theirs. Take the stage off: aws secretsmanager update-secret-version-stage --secret-id ${outputs.privateKeySecretArn}${regionOf(outputs.privateKeySecretArn)} --version-stage AWSPENDING --remove-from-version-id ${left} (unless you put it there to end a rollback, docs/rotation.md#rolling-back: then go on with those steps)`,
        );
    }

    if (input.live === undefined) {
        return { results };
    }
    // A malformed key is never sent: an HTTP library's error about a bad header quotes its value.
    const sendable = apiKeyCheck.ok && apiKeyCheck.value === apiKey;
    const ask = async (key: KeyObject | undefined, what: string): Promise<LiveAnswer> =>
        sendable
            ? askQredo(outputs.partnerApiBaseUrl ?? partnerApiBaseUrl, apiKey, key, what, input.live ?? {})
            : { problem: "not sent: the stored API key is not valid (see the checks above)" };
    const current = await ask(currentKey, "AWSCURRENT");
    // With nothing staged, an AWSPENDING key is a discarded one (the check above fails it), not one to promote.
    const pending = staged ? await ask(publishedKey, "AWSPENDING") : undefined;
    return {
        results,
        live: {
            current,
            ...(pending === undefined ? {} : { pending }),
            verdict: liveVerdict({
                stack: input.stack,
                outputs,
                publicKeyFile: input.publicKeyFile,
                current,
                ...(pending === undefined ? {} : { pending }),
            }),
        },
    };
}

/**
 * The way back when the secrets no longer match the state (labels or values changed outside
 * Pulumi): a refresh reads them back, then a deploy, with its checks, puts them in step.
 */
function backInStep(stack: string): string {
    return `run npm run pulumi -- refresh --stack ${stack}, then npm run deploy -- ${stack}`;
}

/** The key published for upload: PKCS#1, RSA 2048, and the publicKeyPem output. */
function checkPublishedKey(
    check: Check,
    label: string,
    pem: string | undefined,
    outputs: StackOutputs,
    stack: string,
): KeyObject | undefined {
    let key: KeyObject | undefined;
    let problem = "";
    if (pem === undefined) {
        problem = `no version of the private key's secret has the AWSPENDING stage; to stage the key again, ${backInStep(stack)}`;
    } else {
        try {
            key = loadSigningKey(pem);
            if (!pem.trimStart().startsWith("-----BEGIN RSA PRIVATE KEY-----")) {
                problem = "it is RSA 2048 but not PKCS#1 PEM (-----BEGIN RSA PRIVATE KEY-----), which the official signing clients require";
            }
        } catch (error) {
            problem = (error as Error).message;
        }
    }
    check(`${label} is PKCS#1 PEM, RSA 2048`, problem === "", problem);

    const publishedDer = derOf(outputs.publicKeyPem);
    if (key === undefined) {
        for (const name of [
            "its public half is the publicKeyPem output",
            "its fingerprint is the publicKeyFingerprintSha256 output",
            "a sample request signed with it verifies with the public key",
        ]) {
            check(name, false, `${label} could not be loaded`);
        }
        return undefined;
    }
    const storedDer = createPublicKey(key).export({ type: "spki", format: "der" });
    check(
        "its public half is the publicKeyPem output",
        publishedDer !== undefined && storedDer.equals(publishedDer),
        `the stored key is not the one published for upload. After a rollback (AWSCURRENT moved back by hand, docs/rotation.md#rolling-back) that is expected: do not refresh, end the rollback as that section says. Otherwise, to bring the stack back in step, ${backInStep(stack)}`,
    );
    const fingerprint = createHash("sha256").update(storedDer).digest("hex");
    check(
        "its fingerprint is the publicKeyFingerprintSha256 output",
        fingerprint === outputs.publicKeyFingerprintSha256,
        `stored key ${fingerprint}, output ${outputs.publicKeyFingerprintSha256}`,
    );
    const headers = signRequest({ privateKeyPem: key, apiKey: "sample", ...sampleRequest, timestamp: 1_700_000_000 });
    const verified =
        publishedDer !== undefined &&
        verify(
            "sha256",
            signedPayload(headers["x-timestamp"], sampleRequest.url, sampleRequest.body),
            createPublicKey({ key: publishedDer, format: "der", type: "spki" }),
            Buffer.from(headers["x-sign"], "base64url"),
        );
    check(
        "a sample request signed with it verifies with the public key",
        verified,
        "Qredo would reject requests signed with the stored key",
    );
    return key;
}

/** While a rotation is staged, signers use AWSCURRENT: the previous generation, which must still be sound. */
function checkKeyInUse(check: Check, pem: string | undefined, staged: KeyObject | undefined): KeyObject | undefined {
    let key: KeyObject | undefined;
    let problem = "";
    try {
        key = loadSigningKey(pem ?? "");
        if (!(pem ?? "").trimStart().startsWith("-----BEGIN RSA PRIVATE KEY-----")) {
            problem = "it is RSA 2048 but not PKCS#1 PEM";
        } else if (staged !== undefined && key.equals(staged)) {
            problem = "it is the staged key itself: AWSCURRENT and AWSPENDING should be two generations";
        }
    } catch (error) {
        problem = (error as Error).message;
    }
    check("the key signers use now (AWSCURRENT) is the previous generation, PKCS#1 PEM, RSA 2048", problem === "", problem);
    return key;
}

function checkUploadedFile(
    check: Check,
    uploadedPem: string | undefined,
    publishedPem: string,
    { publicKeyFile, stack }: { publicKeyFile: string; stack: string },
): void {
    if (uploadedPem === undefined) {
        check(
            "the uploaded public key file is the published key",
            `no ${publicKeyFile} here or in the project folder, and no --public-key-file given; npm run deploy -- ${stack} writes it again, or: npm run --silent pulumi -- stack output --stack ${stack} publicKeyPem > ${publicKeyFile}`,
        );
        return;
    }
    const uploaded = judgeUploadedFile(uploadedPem);
    const publishedDer = derOf(publishedPem);
    check(
        "the uploaded public key file is the published key",
        "der" in uploaded && publishedDer !== undefined && uploaded.der.equals(publishedDer),
        "problem" in uploaded ? uploaded.problem : "the file is a different key (stale after a rotation?): upload the publicKeyPem output",
    );
}

/**
 * What Qredo takes, by the rule npm run deploy applies before it replaces a public key file (outputProblem in
 * scripts/lib/publicKeyFile.js, which src/ cannot import: keep the two in step): one SPKI PUBLIC KEY block
 * of Base64 lines and nothing else, a byte-order mark and whitespace around it aside.
 */
const onlyPublicKey = /^\s*-----BEGIN PUBLIC KEY-----[ \t]*\r?\n(?:[A-Za-z0-9+/=]+[ \t]*\r?\n)+-----END PUBLIC KEY-----\s*$/;
const pemBlock = /-----BEGIN ([^\n]*?)-----([\s\S]*?)-----END \1-----/g;
const qredoExpects =
    "Qredo expects one SPKI public key, a single -----BEGIN PUBLIC KEY----- block (what openssl rsa -pubout writes) and nothing else: upload the publicKeyPem output";

/** The uploaded file's key as DER, or what the file holds instead. Never quotes the file. */
function judgeUploadedFile(file: string): { der: Buffer } | { problem: string } {
    const text = file.trim(); // trim() takes a byte-order mark too
    const blockDers = [...text.matchAll(pemBlock)].map(([, , body]) => Buffer.from(body, "base64"));
    const privateKey = privateKeyIn(text, blockDers);
    if (privateKey !== undefined) {
        return {
            problem: `the file holds a private key${privateKey}, not a public key: if it was uploaded or shared, that key is exposed, rotate it (docs/rotation.md); upload the publicKeyPem output`,
        };
    }
    const labels = [...text.matchAll(/-----BEGIN ([^\n]*?)-----/g)].map(([, label]) => label);
    const otherText = text.replace(pemBlock, "").trim() !== "";
    if (labels.length === 1 && labels[0] === "PUBLIC KEY" && !otherText) {
        const der = onlyPublicKey.test(text) ? derOf(text) : undefined;
        return der !== undefined
            ? { der }
            : { problem: `the file's -----BEGIN PUBLIC KEY----- block is not a well-formed SPKI public key; ${qredoExpects}` };
    }
    const found =
        labels.length === 0
            ? "no PEM block"
            : [...describeBlocks(labels), ...(otherText ? ["other text"] : [])].join(", ").replace(/, ([^,]*)$/, " and $1");
    return { problem: `the file holds ${found}; ${qredoExpects}` };
}

/**
 * How a file holds private key material, if it does ("" when the words "private key" say it all). Only
 * the uploaded public key belongs with Qredo; a file with a private key in it must not pass, however it
 * holds it. OpenSSL reads PEM labels loosely ("rsa PRIVATE KEY"), so the label is matched loosely, a file
 * that loads as a private key counts, and so does a private key's DER under any label or none.
 */
function privateKeyIn(text: string, blockDers: readonly Buffer[]): string | undefined {
    if (/"kty"\s*:/.test(text) && /"d"\s*:/.test(text)) {
        return ' (a JWK with its private part, "d")';
    }
    const found =
        /-----BEGIN[^\n]*PRIVATE KEY/i.test(text) || loadsAsPrivateKey(text) || [...blockDers, ...bareDers(text)].some(isPrivateKeyDer);
    return found ? "" : undefined;
}

/**
 * The Base64 outside the PEM blocks that starts as a DER key does, as DER cut to the length its outer
 * SEQUENCE gives (words after it are not part of it): a private key pasted before or after the public key
 * block, on lines of its own, after a word or punctuation ("private key: MIIE…"), or URL-safe. Found as the
 * config scan finds key material (derCandidates), so an ordinary text file costs no key parsing.
 */
function bareDers(text: string): Buffer[] {
    return candidateDers(text.replace(pemBlock, " "));
}

const blockNotes = new Map([
    ["RSA PUBLIC KEY", " (PKCS#1)"],
    ["CERTIFICATE", " (an X.509 certificate)"],
]);

/** "a -----BEGIN CERTIFICATE----- block (an X.509 certificate)", "2 -----BEGIN PUBLIC KEY----- blocks"…, in the file's order. */
function describeBlocks(labels: readonly string[]): string[] {
    const counts = new Map<string, number>();
    for (const label of labels) {
        // A label is repeated only when it reads like one: anything else in a BEGIN line stays out of the message.
        const readable = /^[A-Za-z0-9]+(?: [A-Za-z0-9]+)*$/.test(label) && label.length <= 40;
        counts.set(readable ? label : "", (counts.get(readable ? label : "") ?? 0) + 1);
    }
    return [...counts].map(([label, count]) => {
        const block = label === "" ? "PEM block" : `-----BEGIN ${label}----- block`;
        return `${count === 1 ? `a ${block}` : `${count} ${block}s`}${blockNotes.get(label.toUpperCase()) ?? ""}`;
    });
}

/** A signed `GET {base}/assets`: 2xx accepted, 401 rejected, anything else a problem. Never reports the key. */
async function askQredo(
    baseUrl: string,
    apiKey: string,
    key: KeyObject | undefined,
    what: string,
    live: { fetch?: typeof fetch; timeoutMs?: number },
): Promise<LiveAnswer> {
    if (key === undefined) {
        return { problem: `the ${what} private key could not be loaded (see the checks above)` };
    }
    // Signed exactly as fetch will send it: the normalised URL.
    const url = new URL(`${baseUrl.replace(trailingSlashes, "")}/assets`).href;
    const timeoutMs = live.timeoutMs ?? 15_000;
    try {
        const headers = signRequest({ privateKeyPem: key, apiKey, url });
        const response = await (live.fetch ?? fetch)(url, {
            headers: { ...headers },
            redirect: "manual",
            signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        if (response.status === 401) {
            return "rejected";
        }
        return response.ok ? "accepted" : { problem: `Qredo answered GET ${url} with ${response.status} ${response.statusText}`.trim() };
    } catch (error) {
        const name = (error as { name?: string }).name;
        const cause = (error as { cause?: { code?: unknown; message?: string } }).cause;
        // A system error (ECONNREFUSED, ENOTFOUND…) names the host; any other message may quote a header.
        const reason =
            name === "TimeoutError"
                ? `no answer within ${timeoutMs} ms`
                : typeof cause?.code === "string" && cause.message !== undefined
                  ? cause.message
                  : `${name ?? "Error"} (its message is not shown: it may quote the request's headers)`;
        return { problem: `GET ${url} failed: ${reason}` };
    }
}

function loadsAsPrivateKey(pem: string): boolean {
    try {
        createPrivateKey(pem);
        return true;
    } catch {
        return false;
    }
}

function isPrivateKeyDer(der: Buffer): boolean {
    return (["pkcs1", "pkcs8", "sec1"] as const).some((type) => {
        try {
            createPrivateKey({ key: der, format: "der", type });
            return true;
        } catch {
            return false;
        }
    });
}

function derOf(pem: string): Buffer | undefined {
    try {
        return createPublicKey(pem).export({ type: "spki", format: "der" });
    } catch {
        return undefined;
    }
}

/** Secrets Manager reads with a time limit, turning AWS errors into what to do. */
class SecretReader {
    constructor(
        private readonly client: SecretsManagerClient,
        private readonly readPolicyArn: string,
        private readonly timeoutMs: number,
        private readonly stack: string,
    ) {}

    async value(secretId: string, what: string, stage: string, { optional = false } = {}): Promise<string | undefined> {
        try {
            const result = await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }), {
                abortSignal: AbortSignal.timeout(this.timeoutMs),
            });
            if (result.SecretString === undefined) {
                throw new CannotVerify(`the ${what} secret ${secretId} has no ${stage} string value; ${backInStep(this.stack)}`);
            }
            return result.SecretString;
        } catch (error) {
            // A missing AWSPENDING version is only "no rotation staged"; a missing secret is still an error.
            if (
                optional &&
                (error as { name?: string }).name === "ResourceNotFoundException" &&
                /staging label/.test((error as Error).message)
            ) {
                return undefined;
            }
            throw this.explain(error, secretId, what);
        }
    }

    async stages(secretId: string): Promise<Record<string, string[]>> {
        try {
            return (
                (
                    await this.client.send(new DescribeSecretCommand({ SecretId: secretId }), {
                        abortSignal: AbortSignal.timeout(this.timeoutMs),
                    })
                ).VersionIdsToStages ?? {}
            );
        } catch (error) {
            throw this.explain(error, secretId, "private key");
        }
    }

    /** Turns an AWS error into a message that says which secret and what to do. Never includes a value. */
    private explain(error: unknown, secretId: string, what: string): Error {
        if (error instanceof CannotVerify) {
            return error;
        }
        const name = (error as { name?: string }).name ?? "Error";
        switch (name) {
            case "ResourceNotFoundException":
                return new CannotVerify(
                    `the ${what} secret ${secretId} does not exist in this account (read in the region of its ARN). Check AWS_PROFILE, or deploy the stack: \`npm run deploy -- STACK\`.`,
                );
            case "AccessDeniedException":
            case "AccessDenied":
                return new CannotVerify(
                    `access denied reading the ${what} secret ${secretId}. Use credentials whose role has the stack's read policy attached (${this.readPolicyArn}).`,
                );
            case "CredentialsProviderError":
                return new CannotVerify("no AWS credentials found: sign in (e.g. `aws sso login`, AWS_PROFILE) and run again.");
            case "TimeoutError":
            case "AbortError":
                return new CannotVerify(
                    `Secrets Manager did not answer within ${this.timeoutMs} ms reading the ${what} secret ${secretId}; check the network and the region.`,
                );
            default:
                return new CannotVerify(
                    `could not read the ${what} secret ${secretId}: ${name}${(error as Error).message ? `: ${(error as Error).message}` : ""}`,
                );
        }
    }
}
