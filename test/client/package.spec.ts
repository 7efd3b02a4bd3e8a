// The client as a signing service gets it: `npm pack -w client`, the tarball
// installed into an empty project, used from CommonJS, ESM and TypeScript.
// Offline and quick: the one dependency is linked from this checkout's
// node_modules instead of fetched, so npm resolves nothing from a registry.
import { execFile, spawnSync } from "node:child_process";
import { verify } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "../../scripts/build.js";
import { projectDir } from "../support/project.js";
import { makeApiKey } from "../support/providers.js";
import { testKey } from "../support/testKeys";

const dir = mkdtempSync(join(tmpdir(), "qredo-keys-consumer-"));
const app = join(dir, "app");
const { publicKey, pem: privateKeyPem } = testKey(0);
const apiKey = makeApiKey();
let tarball: string;

function run(command: string, args: string[], cwd: string, input?: string) {
    const result = spawnSync(command, args, { cwd, input, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`);
    }
    return result.stdout;
}

beforeAll(() => {
    // As a developer's shell may have it (an expired SSO login, say): runService must not pass it on.
    // The thread's environment is given back when the file ends (test/support/isolation.ts).
    process.env.AWS_PROFILE = "qredo-keys-no-such-profile";
    build(); // the client first: client/dist is what the tarball ships (the program's build may fail; it does not matter here)
    run("npm", ["pack", "-w", "client", "--ignore-scripts", "--pack-destination", dir, "--silent"], projectDir);
    tarball = join(
        dir,
        readdirSync(dir).find((f) => f.endsWith(".tgz"))!,
    );
    mkdirSync(app);
    const sdk = join(projectDir, "node_modules", "@aws-sdk", "client-secrets-manager");
    writeFileSync(
        join(app, "package.json"),
        JSON.stringify({ name: "signing-service", private: true, dependencies: { "@aws-sdk/client-secrets-manager": `file:${sdk}` } }),
    );
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], app);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Signs, then has a store read a secret from a closed loopback port: the AWS
// SDK must be loaded by that read and not before (signing alone never loads it).
const signs = `
    const { signRequest, PartnerApiClient, PartnerApiCredentialStore } = CLIENT;
    const privateKeyPem = require("node:fs").readFileSync(0, "utf8"); // the key on stdin, never in argv
    const headers = signRequest({ privateKeyPem, apiKey: process.env.API_KEY, url: "https://api.qredo.network/api/v1/p/assets?x=1", body: "{}", timestamp: 1700000000 });
    const sdkLoaded = () => Object.keys(require.cache).some((file) => file.includes("@aws-sdk"));
    const sdkBeforeRead = sdkLoaded();
    new PartnerApiCredentialStore({ privateKeySecretId: "p", apiKeySecretId: "a", timeoutMs: 2000 }).get().then(
        () => "read",
        (error) => error.message,
    ).then((read) =>
        console.log(JSON.stringify({ headers, client: typeof PartnerApiClient, store: typeof PartnerApiCredentialStore, sdkBeforeRead, sdkAfterRead: sdkLoaded(), read })),
    );
`;

/** No network but a closed loopback port, and credentials that are not real. */
const offlineAws = {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "not-a-secret",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:9",
    AWS_MAX_ATTEMPTS: "1",
};

/**
 * Runs node with these arguments in the consumer project: the private key on
 * stdin, the API key in the environment. A service that fails shows its stderr,
 * as run() does, instead of an empty stdout that JSON.parse cannot read.
 */
function runService(args: string[]): string {
    const result = spawnSync(process.execPath, args, {
        cwd: app,
        input: privateKeyPem,
        encoding: "utf8",
        // Nothing from the developer's environment: an AWS_PROFILE there (an expired SSO login, say)
        // would take precedence over these credentials, and its ~/.aws config would be read.
        env: { PATH: process.env.PATH ?? "", HOME: app, ...offlineAws, API_KEY: apiKey },
    });
    if (result.status !== 0) {
        throw new Error(`node ${args[0] === "-e" ? "-e <script>" : args.join(" ")} exited ${result.status}:\n${result.stderr}`);
    }
    return result.stdout;
}

function expectSigned(stdout: string) {
    const { headers, client, store, sdkBeforeRead, sdkAfterRead, read } = JSON.parse(stdout);
    expect({ client, store }).toEqual({ client: "function", store: "function" });
    expect({ sdkBeforeRead, sdkAfterRead }).toEqual({ sdkBeforeRead: false, sdkAfterRead: true });
    expect(read).toContain("ECONNREFUSED 127.0.0.1:9"); // the read was made, to the closed port
    expect(headers["x-api-key"]).toBe(apiKey);
    expect(headers["x-timestamp"]).toBe("1700000000");
    const signed = Buffer.from("1700000000https://api.qredo.network/api/v1/p/assets?x=1{}");
    expect(verify("sha256", signed, publicKey, Buffer.from(headers["x-sign"], "base64url"))).toBe(true);
}

describe("the packed client package", () => {
    it("ships the compiled JavaScript and declarations only", () => {
        const files = run("tar", ["tzf", tarball], dir).trim().split("\n").sort();
        expect(files).toContain("package/dist/index.js");
        expect(files).toContain("package/dist/index.d.ts");
        expect(files.filter((f) => !/^package\/dist\/[a-zA-Z]+\.(js|d\.ts)$/.test(f))).toEqual(["package/package.json"]);
        // No reference to a file that is not shipped (bundlers warn about a missing source map).
        const installed = join(app, "node_modules", "@qredo-partner-keys", "client", "dist");
        const references = readdirSync(installed).flatMap((f) => [
            ...readFileSync(join(installed, f), "utf8").matchAll(/sourceMappingURL=(\S+)/g),
        ]);
        expect(references.map((m) => m[1])).toEqual([]);
    });

    it("installs into an empty project and signs a request from CommonJS", () => {
        const script = `const CLIENT = require("@qredo-partner-keys/client");${signs}`;
        expectSigned(runService(["-e", script]));
    });

    it("signs and reads when its files run in a VM script that refuses import(), as Jest loads CommonJS", () => {
        // A loader like Jest's without --experimental-vm-modules: the package's
        // own files are evaluated with vm.runInThisContext and no dynamic import
        // callback, everything else comes from Node's require.
        const script = `
            const vm = require("node:vm"), fs = require("node:fs"), path = require("node:path"), Module = require("node:module");
            const dist = path.dirname(require.resolve("@qredo-partner-keys/client"));
            const loaded = new Map();
            const vmRequire = (from) => (id) => {
                const real = Module.createRequire(from);
                const file = real.resolve(id);
                if (!file.startsWith(dist + path.sep)) return real(id);
                if (!loaded.has(file)) {
                    const module = { exports: {} };
                    loaded.set(file, module);
                    vm.runInThisContext(Module.wrap(fs.readFileSync(file, "utf8")), { filename: file })(module.exports, vmRequire(file), module, file, path.dirname(file));
                }
                return loaded.get(file).exports;
            };
            const CLIENT = vmRequire(path.join(process.cwd(), "service.js"))("@qredo-partner-keys/client");
            if (!loaded.has(path.join(dist, "credentialStore.js"))) throw new Error("the loader did not load the package's files");
            ${signs}`;
        expectSigned(runService(["-e", script]));
    });

    it("signs from an ES module, with named imports", () => {
        writeFileSync(
            join(app, "service.mjs"),
            `import { createRequire } from "node:module"; import * as CLIENT from "@qredo-partner-keys/client"; const require = createRequire(import.meta.url);${signs}`,
        );
        expectSigned(runService(["service.mjs"]));
    });

    it("type-checks a TypeScript service against its declarations (option names included), also under exactOptionalPropertyTypes, with TypeScript 7 and 6", async () => {
        writeFileSync(
            join(app, "service.ts"),
            `import { PartnerApiClient, PartnerApiCredentialStore, signRequest, type SignedHeaders } from "@qredo-partner-keys/client";
const client = new PartnerApiClient({ privateKeySecretId: "p", apiKeySecretId: "a", baseUrl: "https://api.qredo.network/api/v1/p", cacheTtlMs: 1, timeoutMs: 1, fetch });
// docs/client.md's example, under exactOptionalPropertyTypes: an option read from the environment may be undefined
new PartnerApiClient({ privateKeySecretId: process.env.QREDO_PRIVATE_KEY_SECRET_ARN!, apiKeySecretId: process.env.QREDO_API_KEY_SECRET_ARN!, baseUrl: process.env.QREDO_API_BASE_URL });
new PartnerApiCredentialStore({ privateKeySecretId: "p", apiKeySecretId: "a", cacheTtlMs: Number(process.env.TTL) || undefined });
const response: Promise<Response> = client.request("/assets", { method: "POST", body: "{}" });
const store = new PartnerApiCredentialStore({ privateKeySecretId: "p", apiKeySecretId: "a", cacheTtlMs: 1 });
const headers: SignedHeaders = signRequest({ privateKeyPem: "", apiKey: "", url: "" });
// @ts-expect-error an option the client does not have
new PartnerApiClient({ privateKeySecretId: "p", apiKeySecretId: "a", retries: 3 });
export { response, store, headers };
`,
        );
        const options = [
            "--noEmit",
            "--strict",
            "--exactOptionalPropertyTypes",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
            "--target",
            "es2022",
            "--types",
            "node",
            "--typeRoots",
            join(projectDir, "node_modules", "@types"),
            "--skipLibCheck",
            "service.ts",
        ];
        // A service may be on TypeScript 7 (tsc) or still on 6 (tsc6): both, side by side.
        const check = (tsc: string) =>
            new Promise<string>((resolve) => {
                execFile(
                    process.execPath,
                    [join(projectDir, "node_modules", ".bin", tsc), ...options],
                    { cwd: app },
                    (error, stdout, stderr) => resolve(`${tsc}: exit ${error ? String(error.code) : "0"}\n${stdout}${stderr}`),
                );
            });
        expect(await Promise.all([check("tsc"), check("tsc6")])).toEqual(["tsc: exit 0\n", "tsc6: exit 0\n"]);
    });
});
