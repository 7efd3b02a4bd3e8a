// The program as `pulumi up` loads it: through the SDK's own language-host
// entry (cmd/run/run.js) with the environment the host derives from
// Pulumi.yaml, and the mock monitor in place of the engine. Host runs are
// asynchronous and the tests concurrent: each run is a process of its own, and
// the two compiles (in two project copies) are the slow part.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { hostInvocation } from "../bench/host.js";
import { build, isFresh } from "../scripts/build.js";
import { copyProject } from "./support/project.js";
import { makeApiKey } from "./support/providers.js";
import { testKey } from "./support/testKeys";

const apiKeyConfig = "qredo-partner-keys:apiKey";

interface HostResult {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly result?: { resources: string[]; outputs: string[]; loadedAwsRoot: boolean; loadedAwsSdk: boolean };
}

function runThroughHost(
    config: Record<string, string>,
    options: { secretKeys?: string[]; dir?: string; env?: Record<string, string> } = {},
): Promise<HostResult> {
    const invocation = hostInvocation({
        stack: "sandbox",
        config,
        secretKeys: options.secretKeys ?? [apiKeyConfig],
        // The mock TLS provider takes this key instead of generating one.
        env: { QREDO_MOCK_RSA_KEY: testKey(0).pem, ...options.env },
        ...(options.dir ? { projectDir: options.dir } : {}),
    });
    const child = spawn(invocation.command, invocation.args, {
        env: invocation.env,
        cwd: invocation.cwd,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    return new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (status) => {
            const line = stdout.split("\n").find((l) => l.startsWith("host-run: "));
            resolve({ status, stdout, stderr, ...(line ? { result: JSON.parse(line.slice("host-run: ".length)) } : {}) });
        });
    });
}

const expectedResources = [
    "aws:iam/policy:Policy qredo-partner-api-read",
    "aws:secretsmanager/secret:Secret qredo-partner-api-api-key",
    "aws:secretsmanager/secret:Secret qredo-partner-api-private-key",
    "aws:secretsmanager/secretVersion:SecretVersion qredo-partner-api-api-key",
    "aws:secretsmanager/secretVersion:SecretVersion qredo-partner-api-private-key",
    "pulumi:pulumi:Stack qredo-partner-keys-sandbox",
    "qredo-partner-keys:index:PartnerApiCredentials qredo-partner-api",
    "random:index/randomId:RandomId qredo-partner-api-key-generation",
    "tls:index/privateKey:PrivateKey qredo-partner-api-private-key",
];

describe.concurrent("through the language host, as Pulumi.yaml configures it", () => {
    it("registers the stack's resources and outputs from the fresh bin/, loading only the AWS submodules it uses and no AWS SDK", async ({
        expect,
    }) => {
        const run = await runThroughHost({ [apiKeyConfig]: makeApiKey() });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
        expect(run.stdout).not.toContain("compiling"); // globalSetup built it: no compile at start
        expect(run.result?.resources).toEqual(expectedResources);
        expect(run.result?.outputs).toEqual([
            "apiKeySecretArn",
            "apiKeySecretName",
            "environment",
            "keyId",
            "keyStage",
            "keyVersion",
            "partnerApiBaseUrl",
            "privateKeySecretArn",
            "privateKeySecretName",
            "publicKeyFingerprintSha256",
            "publicKeyPem",
            "readPolicyArn",
        ]);
        expect(run.result?.loadedAwsRoot).toBe(false);
        expect(run.result?.loadedAwsSdk).toBe(false);
    });

    // One host start for all: an API key set in plain text is one of the problems, and the fixes are
    // written as the scripts ask (npm run deploy and npm run pulumi set PARTNER_KEYS_CONFIG_COMMAND).
    it("reports bad configuration as the host prints a RunError: one message, no stack trace, no secret, fixes as asked; a plain-text API key is refused", async ({
        expect,
    }) => {
        const apiKey = makeApiKey();
        const run = await runThroughHost(
            { [apiKeyConfig]: apiKey, "qredo-partner-keys:keyVersion": "0" },
            { secretKeys: [], env: { PARTNER_KEYS_CONFIG_COMMAND: "npm run pulumi -- config" } },
        );
        expect(run.status).toBe(32); // the host's code for "error already shown to the user"
        expect(run.stderr).toMatch(
            /^error: (\[runtime\] )?The configuration of stack "sandbox" has 2 problems; nothing was deployed:\n {2}- apiKey: was set in plain text.*\n {2}- keyVersion: .*Fix: npm run pulumi -- config set --stack sandbox keyVersion 1\n$/,
        );
        expect(run.stderr).not.toMatch(/^\s+at /m);
        expect(run.stderr + run.stdout).not.toContain(apiKey.slice(0, 16));
        expect(run.result).toBeUndefined();
    });
});

/** Whether the copy's entry would start without compiling (what it checks first). */
function freshIn(dir: string): boolean {
    const script = `process.exitCode = require(${JSON.stringify(join(dir, "scripts", "build.js"))}).isFresh() ? 0 : 1`;
    return spawnSync(process.execPath, ["-e", script], { cwd: dir }).status === 0;
}

// Each test works in a project copy of its own (so they can run side by side);
// every copy starts with this checkout's fresh build.
// A compile (TypeScript 7's) takes about 2 CPU-seconds; with the suite and the
// checks beside it on two loaded cores it can take several times longer.
describe.concurrent("the compiled program is never stale", { timeout: 90_000 }, () => {
    const copies: string[] = [];
    const apiKey = makeApiKey();
    beforeAll(() => {
        if (!isFresh()) {
            build();
        }
        copies.push(...[1, 2].map(() => copyProject({ dependencies: true, build: true })));
    });
    afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

    it("builds when there is no build, and after a source edit runs the edited code", async ({ expect }) => {
        const dir = copies[0];
        expect(freshIn(dir)).toBe(true); // a copied fresh build counts as fresh
        rmSync(join(dir, "bin"), { recursive: true, force: true });
        const file = join(dir, "src", "partnerApiCredentials.ts");
        writeFileSync(file, readFileSync(file, "utf8").replace("`${name}-read`", "`${name}-read-edited`"));
        const run = await runThroughHost({ [apiKeyConfig]: apiKey }, { dir });
        expect(run.status).toBe(0);
        expect(run.stdout).toContain("the sources changed since the last build; compiling them");
        expect(run.result?.resources).toContain("aws:iam/policy:Policy qredo-partner-api-read-edited");
        expect(freshIn(dir)).toBe(true); // the build recorded its sources: the next start does not compile
    });

    it("stops, without running the old build, when the edited sources do not compile", async ({ expect }) => {
        const dir = copies[1];
        // In the client package, which is compiled first (build.js): the same stop as for the program's sources,
        // at half the compile.
        const file = join(dir, "client", "src", "signing.ts");
        writeFileSync(file, readFileSync(file, "utf8").replace("const timestamp = String(", "const timestamp: number = String("));
        const run = await runThroughHost({ [apiKeyConfig]: apiKey }, { dir });
        expect(run.status).toBe(32);
        expect(run.stderr).toMatch(/error TS2322/);
        expect(run.stderr).toMatch(/error: (\[runtime\] )?The program does not compile/);
        expect(run.stderr).not.toMatch(/^\s+at /m);
        expect(run.result).toBeUndefined();
    });
});
