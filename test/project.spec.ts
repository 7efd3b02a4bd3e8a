// Pulumi.yaml, the stack files and the README are read by people and by the
// CLI; these checks keep them in step with the code.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "js-yaml";
import { configKeys, parseConfig, type ConfigKey } from "../src/config";
import { defaults } from "../src/environments";
import { copyProject, projectDir, projectFiles } from "./support/project.js";
import { makeApiKey } from "./support/providers.js";

const root = join(__dirname, "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
interface ConfigDeclaration {
    type: string;
    description: string;
    default?: unknown;
    secret?: boolean;
}
interface ProjectFile {
    name: string;
    stackConfigDir: string;
    runtime: { name: string };
    requiredPulumiVersion: string;
    config: Record<string, ConfigDeclaration>;
}
/** A stack file's settings, by their namespaced keys. */
const stackConfig = (text: string) => (YAML.load(text) as { config: Record<string, unknown> }).config;
const project = YAML.load(read("Pulumi.yaml")) as ProjectFile;

/** The first column of the README table that follows `heading`. */
function readmeTableKeys(heading: string): string[] {
    const section = read("README.md").split(`\n## ${heading}\n`)[1].split("\n## ")[0];
    return section
        .split("\n")
        .filter((line) => /^\| `/.test(line))
        .flatMap((line) => [...line.split("|")[1].matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]));
}

describe("Pulumi.yaml", () => {
    it("is the project of the design, with its stack config in stacks/", () => {
        expect(project.name).toBe("qredo-partner-keys");
        expect(project.stackConfigDir).toBe("stacks");
        expect(project.runtime.name).toBe("nodejs");
    });

    it("declares config keys the way the CLI can enforce: each with a type and description, and a default unless required", () => {
        const declared = Object.entries<{ type: string; description: string; default?: unknown; secret?: boolean }>(project.config);
        for (const [key, declaration] of declared) {
            expect(configKeys, key).toContain(key);
            expect(["string", "integer", "boolean", "array"], key).toContain(declaration.type);
            expect(declaration.description.length, key).toBeGreaterThan(20);
            // The CLI refuses to run a stack that lacks a declared key with no default.
            expect(declaration.default !== undefined || key === "apiKey", key).toBe(true);
        }
        expect(project.config.apiKey).toMatchObject({ type: "string", secret: true });
        expect(project.config.apiKey.default).toBeUndefined();
        expect(project.requiredPulumiVersion).toBe(">=3.248.0");
    });

    it("has defaults that, applied as the CLI applies them, mean what the program's own defaults mean", () => {
        // The CLI passes a primitive default as its text and a list as JSON.
        const values: Record<string, string> = { apiKey: makeApiKey() };
        for (const [key, declaration] of Object.entries<{ default?: unknown }>(project.config)) {
            if (declaration.default !== undefined) {
                values[key] = typeof declaration.default === "string" ? declaration.default : JSON.stringify(declaration.default);
            }
        }
        const secretKeys = new Set<ConfigKey>(["apiKey"]);
        for (const stack of ["sandbox", "production"]) {
            const withDefaults = parseConfig({ stack, values, secretKeys });
            const without = parseConfig({ stack, values: { apiKey: values.apiKey }, secretKeys });
            expect(withDefaults.ok).toBe(true);
            expect(withDefaults).toEqual(without);
        }
    });
});

describe("Pulumi.yaml and src/environments.ts", () => {
    it("state the same fixed defaults: the CLI reads one, the program the other", () => {
        const declared = Object.fromEntries(
            Object.entries<{ default?: unknown }>(project.config).flatMap(([key, declaration]) =>
                key in defaults && declaration.default !== undefined ? [[key, declaration.default]] : [],
            ),
        );
        expect(declared).toEqual({ ...defaults });
    });

    it("declare keyStage and apiBaseUrl as strings with a default, so the CLI never requires them", () => {
        expect(project.config.keyStage).toMatchObject({ type: "string", default: "current" });
        expect(project.config.apiBaseUrl).toMatchObject({ type: "string", default: "https://api.qredo.network/api/v1/p" });
    });
});

/**
 * A stack file holds the API key only encrypted, once the stack is deployed: `secure:` and ciphertext, in
 * whichever form its secrets provider writes (`v1:…` for a passphrase, Base64 for Pulumi Cloud's).
 */
function expectNoPlainApiKey(config: Record<string, unknown>) {
    const apiKey = config["qredo-partner-keys:apiKey"];
    if (apiKey !== undefined) {
        expect(apiKey).toEqual({ secure: expect.stringMatching(/^\S{8,}$/) });
    }
}

describe("compiler configs", () => {
    const resolved = (tsconfig: string) => {
        const tsc = join(projectDir, "node_modules", "@typescript", "native", "bin", "tsc");
        const run = spawnSync(process.execPath, [tsc, "--showConfig", "-p", tsconfig], { cwd: projectDir, encoding: "utf8" });
        expect(run.stderr).toBe("");
        return (JSON.parse(run.stdout) as { compilerOptions: { noEmit?: boolean; outDir?: string } }).compilerOptions;
    };

    it("a plain `tsc` only type-checks (it would write a .js beside every source), and the builds write to bin/ and client/dist/", () => {
        expect(resolved("tsconfig.json").noEmit).toBe(true);
        expect(resolved("tsconfig.build.json")).toMatchObject({ noEmit: false, outDir: "./bin" });
        expect(resolved("client/tsconfig.json")).toMatchObject({ noEmit: false, outDir: "./dist" });
    });
});

describe("stack files", () => {
    for (const stack of ["sandbox", "production"]) {
        // Also true of a user's stack file once the stack is deployed and the file committed (as the docs say):
        // it then holds the API key encrypted, never in plain text, and pulumi may have dropped its comments.
        it(`stacks/Pulumi.${stack}.yaml sets the environment and region, and holds no secret in plain text`, () => {
            const text = read(`stacks/Pulumi.${stack}.yaml`);
            const config = stackConfig(text);
            expect(config["qredo-partner-keys:environment"]).toBe(stack);
            expect(config["aws:region"]).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
            expectNoPlainApiKey(config);
            if (/^#/m.test(text)) {
                // The comment tells a newcomer the command that stores the key as a secret.
                expect(text).toMatch(new RegExp(`^#\\s+npm run deploy -- ${stack}\\b`, "m"));
            }
        });
    }

    it("the tests' copies of the project start from a fresh clone's stack files, whatever the project's own hold", () => {
        // A project whose stacks were deployed and committed, and one more stack of the user's own.
        const from = mkdtempSync(join(tmpdir(), "qredo-keys-deployed-"));
        try {
            for (const entry of projectFiles) {
                writeFileSync(join(from, entry), "");
            }
            mkdirSync(join(from, "stacks"));
            const deployed = `encryptionsalt: v1:AAAA:v1:BBBB:CCCC\nconfig:\n  aws:region: us-east-1\n  qredo-partner-keys:apiKey:\n    secure: v1:DDDD:EEEE\n  qredo-partner-keys:keyVersion: "2"\n`;
            for (const stack of ["sandbox", "production", "staging"]) {
                writeFileSync(join(from, "stacks", `Pulumi.${stack}.yaml`), `${deployed}  qredo-partner-keys:environment: ${stack}\n`);
            }
            const copy = copyProject({ dependencies: false, from });
            try {
                const files = readdirSync(join(copy, "stacks")).sort();
                expect(files).toEqual(["Pulumi.production.yaml", "Pulumi.sandbox.yaml"]);
                for (const file of files) {
                    const stack = file.split(".")[1];
                    expect(stackConfig(readFileSync(join(copy, "stacks", file), "utf8"))).toEqual({
                        "aws:region": "eu-west-2",
                        "qredo-partner-keys:environment": stack,
                    });
                }
            } finally {
                rmSync(copy, { recursive: true, force: true });
            }
        } finally {
            rmSync(from, { recursive: true, force: true });
        }
    });
});

describe("the LocalStack try-out stack", () => {
    const config = stackConfig(read("stacks/Pulumi.local.yaml"));

    it("points Secrets Manager, IAM, STS and KMS at LocalStack on port 4566, as a sandbox", () => {
        expect(config["aws:endpoints"]).toEqual([
            {
                secretsmanager: "http://localhost:4566",
                iam: "http://localhost:4566",
                sts: "http://localhost:4566",
                kms: "http://localhost:4566",
            },
        ]);
        expect(config["qredo-partner-keys:environment"]).toBe("sandbox");
    });

    it("skips the checks LocalStack cannot answer, with its dummy credentials", () => {
        expect(config).toMatchObject({
            "aws:skipCredentialsValidation": true,
            "aws:skipRequestingAccountId": true,
            "aws:skipMetadataApiCheck": true,
            "aws:accessKey": "test",
            "aws:secretKey": "test",
        });
        expectNoPlainApiKey(config);
    });
});

describe("README", () => {
    it("documents exactly the config keys the program reads", () => {
        expect(readmeTableKeys("Configuration").sort()).toEqual([...configKeys].sort());
    });

    it("documents exactly the stack outputs the program exports", () => {
        const exported = [...read("index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        expect(readmeTableKeys("Outputs").sort()).toEqual(exported.sort());
    });

    it("writes shell commands in README.md and docs/ without # comments, which interactive zsh (macOS's shell) runs as words", () => {
        const files = ["README.md", ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
        const commented: string[] = [];
        for (const file of files) {
            let fence: { lang: string; lines: string[] } | undefined;
            for (const line of read(file).split("\n")) {
                const marker = /^\s*```(\w*)/.exec(line);
                if (marker !== null && fence === undefined) {
                    fence = { lang: marker[1], lines: [] };
                } else if (marker !== null && fence !== undefined) {
                    const shell = ["sh", "bash", "shell"].includes(fence.lang);
                    commented.push(...(shell ? fence.lines.filter((l) => /(^|\s)#/.test(l)).map((l) => `${file}: ${l.trim()}`) : []));
                    fence = undefined;
                } else {
                    fence?.lines.push(line);
                }
            }
        }
        expect(files.length).toBeGreaterThan(5);
        expect(commented).toEqual([]);
    });

    it("gives the CI's test command", () => {
        expect(read("README.md")).toContain("npm ci && npm test");
        expect(read(".ci/run")).toMatch(/^npm test /m);
    });
});

describe(".gitignore", () => {
    // Checked in a scratch repository holding only this .gitignore, so the test needs no checkout.
    const repo = mkdtempSync(join(tmpdir(), "qredo-keys-gitignore-"));
    afterAll(() => rmSync(repo, { recursive: true, force: true }));
    const ignored = (paths: string[]) => {
        spawnSync("git", ["init", "-q"], { cwd: repo });
        writeFileSync(join(repo, ".gitignore"), read(".gitignore"));
        const result = spawnSync("git", ["check-ignore", "--no-index", "--stdin"], {
            cwd: repo,
            input: paths.join("\n"),
            encoding: "utf8",
        });
        return result.stdout.split("\n").filter(Boolean);
    };

    it("keeps API key, passphrase and key files out of commits, wherever they are, and no source", () => {
        const secrets = [
            "apikey",
            "apikey.txt",
            "APIKEY",
            "apiKey",
            "api-key",
            "api_key.txt",
            "passphrase",
            "passphrase.txt",
            ".passphrase",
            "production.passphrase",
            "public-sandbox.pem",
            "private.key",
            "stacks/apikey",
            "deploy/.passphrase",
            "ApiKey",
            "API_KEY",
            "apikey (1)",
            "apikey-sandbox",
            "sandbox.apikey",
            ".pulumi-passphrase",
            "pulumi-passphrase.txt",
        ];
        const sources = [
            "client/src/apiKey.ts",
            "test/client/apiKey.spec.ts",
            "src/configParsers.ts",
            "stacks/Pulumi.sandbox.yaml",
            "scripts/lib/apiKeyInput.js",
            "docs/security.md",
        ];
        expect(ignored([...secrets, ...sources])).toEqual(secrets);
    });
});

describe("the public key file rule", () => {
    it("is the same in verify (src/verify.ts) and in the deploy's check before it replaces a file (scripts/lib/publicKeyFile.js)", () => {
        const rule = (file: string) => /const onlyPublicKey = (\/.*\/);/.exec(readFileSync(join(projectDir, file), "utf8"))?.[1];
        expect(rule("src/verify.ts")).toBeDefined();
        expect(rule("scripts/lib/publicKeyFile.js")).toBe(rule("src/verify.ts"));
    });
});
