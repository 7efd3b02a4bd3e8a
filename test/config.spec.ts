import { generateKeyPairSync } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { parseConfig, type ConfigKey, type RawConfig } from "../src/config";
import { configKeys } from "../src/configParsers";
import { makeApiKey, resources, runProgram } from "./mocks";
import { compiledConfig, growth, growthFactor, linearGrowthBound } from "./support/growth";
import { testKey } from "./support/testKeys";

const apiKey = makeApiKey();
const sharedKeyPem = testKey(0).pem;

interface BadCase {
    readonly title: string;
    readonly stack?: string;
    readonly config: Record<string, string>;
    readonly secretKeys?: string[];
    /** Every key that must be named in the error, with a fragment of its message. */
    readonly expected: Partial<Record<ConfigKey, RegExp>>;
}

const pem = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA", "-----END RSA PRIVATE KEY-----"].join("\n");

function manyTags(count: number): Record<string, string> {
    return Object.fromEntries(Array.from({ length: count }, (_, i) => [`Tag${i}`, `value ${i}`]));
}

function manyReaders(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `arn:aws:iam::123456789012:role/signing-service-${String(i).padStart(4, "0")}`);
}

const badCases: BadCase[] = [
    { title: "a missing API key", config: {}, expected: { apiKey: /is not set/ } },
    { title: "an empty API key", config: { apiKey: "" }, expected: { apiKey: /is empty/ } },
    { title: "a whitespace-only API key", config: { apiKey: " \n\t " }, expected: { apiKey: /is empty/ } },
    {
        title: "a non-Base64 API key",
        config: { apiKey: `${apiKey.slice(0, 40)}!${apiKey.slice(41)}` },
        expected: { apiKey: /is not Base64/ },
    },
    {
        title: "an API key mixing both alphabets",
        config: { apiKey: `ab+d${apiKey.slice(4, 40)}-${apiKey.slice(41)}` },
        expected: { apiKey: /mixes the two/ },
    },
    {
        title: "an API key with whitespace inside",
        config: { apiKey: `${apiKey.slice(0, 50)} ${apiKey.slice(50)}` },
        expected: { apiKey: /whitespace inside/ },
    },
    { title: "a PEM pasted as the API key", config: { apiKey: pem }, expected: { apiKey: /looks like a PEM key/ } },
    {
        title: "an API key of impossible length",
        config: { apiKey: `${apiKey.slice(0, 101)}` },
        expected: { apiKey: /length no Base64 encoding can have/ },
    },
    {
        title: "an API key with too much padding",
        config: { apiKey: `${apiKey.slice(0, 104)}===` },
        expected: { apiKey: /length no Base64 encoding can have/ },
    },
    { title: "an API key too short to be one", config: { apiKey: "dHJ1ZQ" }, expected: { apiKey: /too short/ } },
    { title: "an API key set in plain text", config: { apiKey }, secretKeys: [], expected: { apiKey: /plain text/ } },
    {
        title: "an unknown environment",
        config: { apiKey, environment: "staging" },
        expected: { environment: /must be "sandbox" or "production", got "staging"/ },
    },
    {
        title: "a stack name that is no environment, with none configured",
        stack: "dev",
        config: { apiKey },
        expected: { environment: /stack name "dev" is not an environment/ },
    },
    { title: "keyVersion 0", config: { apiKey, keyVersion: "0" }, expected: { keyVersion: /whole number of 1 or more, got "0"/ } },
    { title: "a negative keyVersion", config: { apiKey, keyVersion: "-2" }, expected: { keyVersion: /got "-2"/ } },
    { title: "a fractional keyVersion", config: { apiKey, keyVersion: "1.5" }, expected: { keyVersion: /got "1.5"/ } },
    { title: "a non-numeric keyVersion", config: { apiKey, keyVersion: "two" }, expected: { keyVersion: /got "two"/ } },
    {
        title: "a recovery window of 3 days",
        config: { apiKey, recoveryWindowInDays: "3" },
        expected: { recoveryWindowInDays: /0 .* or a whole number of days from 7 to 30, got "3"/ },
    },
    {
        title: "a recovery window of 31 days",
        config: { apiKey, recoveryWindowInDays: "31" },
        expected: { recoveryWindowInDays: /got "31"/ },
    },
    { title: "a negative recovery window", config: { apiKey, recoveryWindowInDays: "-7" }, expected: { recoveryWindowInDays: /got "-7"/ } },
    { title: "protect that is no boolean", config: { apiKey, protect: "yes" }, expected: { protect: /true or false, got "yes"/ } },
    {
        title: "a reader that is not an IAM ARN",
        config: { apiKey, readerArns: JSON.stringify(["payments-signer"]) },
        expected: { readerArns: /"payments-signer" is not an IAM principal ARN/ },
    },
    {
        title: "a reader that is an S3 ARN",
        config: { apiKey, readerArns: JSON.stringify(["arn:aws:s3:::bucket"]) },
        expected: { readerArns: /is not an IAM principal ARN/ },
    },
    {
        title: "readers that are not a list",
        config: { apiKey, readerArns: "arn:aws:iam::123456789012:role/x" },
        expected: { readerArns: /must be a list/ },
    },
    {
        title: "a secret name prefix with a space",
        config: { apiKey, secretNamePrefix: "qredo keys" },
        expected: { secretNamePrefix: /may only contain/ },
    },
    {
        title: "an Environment tag that contradicts the stack's environment",
        config: { apiKey, environment: "production", tags: JSON.stringify({ environment: "sandbox", Team: "payments" }) },
        expected: { tags: /sets the "environment" tag to "sandbox" on a production stack/ },
    },
    {
        title: "a secret name prefix inside another environment's namespace",
        config: { apiKey, secretNamePrefix: "qredo/partner-api/sandbox" },
        expected: { secretNamePrefix: /must not contain sandbox or production as a path segment/ },
    },
    {
        title: "a secret name prefix with a trailing slash",
        config: { apiKey, secretNamePrefix: "qredo/" },
        expected: { secretNamePrefix: /must not start or end with \// },
    },
    {
        title: "a secret name prefix too long for Secrets Manager",
        config: { apiKey, secretNamePrefix: "q".repeat(500) },
        expected: { secretNamePrefix: /too long/ },
    },
    { title: "a KMS key that is none", config: { apiKey, kmsKeyId: "my key" }, expected: { kmsKeyId: /KMS key ARN, key id or alias/ } },
    {
        title: "a replica region that is none",
        config: { apiKey, replicaRegions: JSON.stringify(["europe"]) },
        expected: { replicaRegions: /"europe" is not an AWS region/ },
    },
    {
        title: "a replica in the stack's own region",
        config: { apiKey, replicaRegions: JSON.stringify(["eu-west-2"]) },
        expected: { replicaRegions: /stack.s own region "eu-west-2"/ },
    },
    { title: "tags that are not a map", config: { apiKey, tags: JSON.stringify(["a"]) }, expected: { tags: /map of tag names/ } },
    {
        title: "a reserved tag",
        config: { apiKey, tags: JSON.stringify({ "aws:owner": "me" }) },
        expected: { tags: /reserved "aws:" prefix/ },
    },
    {
        title: "a tag name with a character AWS refuses",
        config: { apiKey, tags: JSON.stringify({ "cost#centre": "42" }) },
        expected: { tags: /tag "cost#centre" has characters AWS refuses/ },
    },
    {
        title: "a tag value with a character AWS refuses",
        config: { apiKey, tags: JSON.stringify({ Owner: "a&b" }) },
        expected: { tags: /tag "Owner" has characters AWS refuses/ },
    },
    {
        title: "more tags than AWS allows with the program's own",
        config: { apiKey, tags: JSON.stringify(manyTags(48)) },
        expected: { tags: /makes 51 tags with the program's own Project, Environment and ManagedBy; AWS allows 50/ },
    },
    {
        title: "an unknown key stage",
        config: { apiKey, keyVersion: "2", keyStage: "staged" },
        expected: { keyStage: /must be "current" or "pending", got "staged"/ },
    },
    {
        title: "a pending key with no current key to keep",
        config: { apiKey, keyStage: "pending" },
        expected: { keyStage: /is pending, but keyVersion is 1: there is no current key/ },
    },
    {
        title: "a base URL over plain http to another host",
        config: { apiKey, apiBaseUrl: "http://api.qredo.network/api/v1/p" },
        expected: { apiBaseUrl: /plain http to "api.qredo.network"/ },
    },
    {
        title: "a base URL that is no URL",
        config: { apiKey, apiBaseUrl: "api.qredo.network" },
        expected: { apiBaseUrl: /must be an https URL .*, got "api.qredo.network"/ },
    },
    {
        title: "a base URL of another scheme",
        config: { apiKey, apiBaseUrl: "ftp://api.qredo.network/p" },
        expected: { apiBaseUrl: /must be an https URL/ },
    },
    {
        title: "a base URL with a query",
        config: { apiKey, apiBaseUrl: "https://api.qredo.network/api/v1/p?x=1" },
        expected: { apiBaseUrl: /must not have a query or fragment/ },
    },
    {
        title: "a base URL that fetch would send differently (a tab, an upper-case host, the default port)",
        config: { apiKey, apiBaseUrl: "https://API.qredo.network:443/api/v1/p" },
        expected: {
            apiBaseUrl:
                /is not written the way URLs are normalised .*Fix: pulumi config set --stack sandbox apiBaseUrl https:\/\/api.qredo.network\/api\/v1\/p$/,
        },
    },
    {
        title: "a base URL with a tab inside",
        config: { apiKey, apiBaseUrl: "https://api.qredo.network/api/v1\t/p" },
        expected: { apiBaseUrl: /is not written the way URLs are normalised/ },
    },
    {
        title: "a base URL ending with /",
        config: { apiKey, apiBaseUrl: "https://api.qredo.network/api/v1/p/" },
        expected: {
            apiBaseUrl: /must not end with \/.*Fix: pulumi config set --stack sandbox apiBaseUrl https:\/\/api.qredo.network\/api\/v1\/p$/,
        },
    },
    {
        title: "so many readers that the resource policy is too large",
        config: { apiKey, readerArns: JSON.stringify(manyReaders(400)) },
        expected: { readerArns: /lists 400 principals, .* up to \d+ characters; Secrets Manager allows 20480/ },
    },
    {
        title: "so many replicas that the read policy is too large",
        config: {
            apiKey,
            secretNamePrefix: "p".repeat(400),
            replicaRegions: JSON.stringify(["eu-west-1", "eu-west-3", "us-east-1", "us-east-2", "us-west-2", "ap-south-1"]),
        },
        expected: { replicaRegions: /makes the read policy up to \d+ characters .*; IAM allows 6144 in a managed policy/ },
    },
    {
        title: "settings other than apiKey set with --secret (their values would end up in plain text)",
        config: {
            apiKey,
            apiBaseUrl: "https://proxy.example.com/t0ken-in-path",
            kmsKeyId: "alias/hidden-key",
            tags: '{"CostCentre":"cc-1234"}',
        },
        secretKeys: ["apiKey", "apiBaseUrl", "kmsKeyId", "tags"],
        expected: {
            apiBaseUrl:
                /^ {2}- apiBaseUrl: was set with --secret, but only apiKey is kept secret: .*Fix: pulumi config rm --stack sandbox apiBaseUrl$/,
            kmsKeyId:
                /^ {2}- kmsKeyId: was set with --secret, but only apiKey is kept secret: .*Fix: pulumi config rm --stack sandbox kmsKeyId$/,
            tags: /^ {2}- tags: was set with --secret, but only apiKey is kept secret: .*Fix: pulumi config rm --stack sandbox tags$/,
        },
    },
    {
        title: "two problems at once",
        config: { apiKey: `${apiKey}!`, keyVersion: "0" },
        expected: { apiKey: /is not Base64/, keyVersion: /got "0"/ },
    },
];

describe("bad configuration stops the program before any resource is declared", () => {
    for (const bad of badCases) {
        it(`refuses ${bad.title}`, async () => {
            const stack = bad.stack ?? "sandbox";
            const error = await runProgram({ stack, config: bad.config, ...(bad.secretKeys ? { secretKeys: bad.secretKeys } : {}) }).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(error).toBeInstanceOf(pulumi.RunError);
            expect(resources).toEqual([]);
            const message = (error as Error).message;
            const keys = Object.keys(bad.expected) as ConfigKey[];
            expect(message).toMatch(
                keys.length === 1 ? /has a problem; nothing was deployed/ : new RegExp(`has ${keys.length} problems; nothing was deployed`),
            );
            for (const key of keys) {
                const line = message.split("\n").find((l) => l.startsWith(`  - ${key}: `));
                expect(line, `a line for ${key} in:\n${message}`).toBeDefined();
                expect(line).toMatch(bad.expected[key] as RegExp);
                expect(line).toMatch(new RegExp(`Fix: pulumi config (set|rm) --stack ${stack} `));
                // A fix pastes into a shell: commands only, no "(or …)" alternatives inside.
                for (const command of (line ?? "").split(". Fix: ")[1].split(" && ")) {
                    expect(command).toMatch(new RegExp(`^pulumi config (set|rm) --stack ${stack} [^()]+$`));
                }
            }
            // No secret ever appears: neither the API key nor any distinctive part of it.
            if (bad.config.apiKey !== undefined && bad.config.apiKey.trim().length >= 8) {
                for (const line of bad.config.apiKey.split(/\s+/).filter((part) => part.length >= 8)) {
                    expect(message).not.toContain(line);
                }
            }
            expect(message).not.toContain(apiKey.slice(0, 20));
        });
    }
});

describe("parseConfig", () => {
    const base = { values: { apiKey: ` ${apiKey}\r\n` }, secretKeys: new Set<ConfigKey>(["apiKey"]) };

    it("takes time in proportion to the lists' length, also when their policies are too long", () => {
        const tooMany = parseConfig({
            ...base,
            stack: "sandbox",
            values: { ...base.values, replicaRegions: JSON.stringify(Array.from({ length: 500 }, (_, i) => `eu-west-${10 + i}`)) },
        });
        expect(tooMany.ok || tooMany.problems.join("\n")).toMatch(
            /replicaRegions: makes the read policy up to \d+ characters with 500 regions/,
        );
        // Quadratic, 2,000 replica regions took about 4 s here: the policy was rebuilt for each one too many.
        const regions = '(n) => JSON.stringify(Array.from({ length: n / 12 }, (_, i) => "eu-west-" + (10 + i)))';
        const ratios = growth(
            compiledConfig,
            `(m, regions) => m.parseConfig({ stack: "sandbox", secretKeys: new Set(["apiKey"]), values: { apiKey: ${JSON.stringify(apiKey)}, replicaRegions: regions } })`,
            [regions],
            25_600 / growthFactor,
        );
        expect(Math.max(...ratios), String(ratios)).toBeLessThan(linearGrowthBound);
    });

    it("takes the environment from the stack name and fills in its defaults", () => {
        expect(parseConfig({ ...base, stack: "sandbox" })).toEqual({
            ok: true,
            warnings: [],
            config: {
                environment: "sandbox",
                apiKey,
                keyVersion: 1,
                keyStage: "current",
                apiBaseUrl: "https://api.qredo.network/api/v1/p",
                secretNamePrefix: "qredo/partner-api",
                recoveryWindowInDays: 7,
                protect: false,
                readerArns: [],
                replicaRegions: [],
                tags: {},
            },
        });
        const production = parseConfig({ ...base, stack: "production" });
        expect(production.ok && production.config).toMatchObject({ environment: "production", recoveryWindowInDays: 30, protect: true });
    });

    it("lets a configured environment decide the defaults of any stack name", () => {
        const result = parseConfig({ ...base, stack: "prod-eu", values: { ...base.values, environment: "production" } });
        expect(result.ok && result.config).toMatchObject({ environment: "production", recoveryWindowInDays: 30, protect: true });
    });

    it("keeps explicit settings that equal the other environment's defaults", () => {
        const result = parseConfig({
            ...base,
            stack: "production",
            values: { ...base.values, recoveryWindowInDays: "0", protect: "false" },
        });
        expect(result.ok && result.config).toMatchObject({ recoveryWindowInDays: 0, protect: false });
    });

    it("refuses, without quoting it, a setting other than apiKey that was set as a secret", () => {
        const result = parseConfig({
            ...base,
            stack: "sandbox",
            values: { ...base.values, environment: "hush-hush" },
            secretKeys: new Set<ConfigKey>(["apiKey", "environment"]),
        });
        expect(result.ok).toBe(false);
        expect(!result.ok && result.problems.join("\n")).toContain("environment: was set with --secret, but only apiKey is kept secret");
        expect(!result.ok && result.problems.join("\n")).not.toContain("hush-hush");
    });

    // Each of these values is valid in plain text; set with --secret, each is refused on its own.
    const validValues: Record<Exclude<ConfigKey, "apiKey">, string> = {
        environment: "sandbox",
        keyVersion: "2",
        keyStage: "current",
        apiBaseUrl: "https://api.qredo.network/api/v1/p",
        secretNamePrefix: "qredo/partner-api-x7",
        kmsKeyId: "alias/qredo-keys-x7",
        recoveryWindowInDays: "9",
        protect: "true",
        readerArns: '["arn:aws:iam::123456789012:role/signer-x7"]',
        replicaRegions: '["eu-central-1"]',
        tags: '{"CostCentre":"cc-x7"}',
    };
    it.each(Object.keys(validValues) as Exclude<ConfigKey, "apiKey">[])(
        "refuses %s set with --secret, though its value is valid",
        (key) => {
            const values = { ...base.values, [key]: validValues[key] };
            expect(parseConfig({ ...base, stack: "sandbox", values }).ok).toBe(true);
            const result = parseConfig({ ...base, stack: "sandbox", values, secretKeys: new Set<ConfigKey>(["apiKey", key]) });
            expect(result.ok ? [] : result.problems).toEqual([
                `${key}: was set with --secret, but only apiKey is kept secret: every other setting is kept in plain text in the stack's state (in resource names, tags, IAM policies and options) or its outputs, so its value would not stay secret. Remove it and set it again without --secret; a value that must stay secret does not belong in this setting. Fix: pulumi config rm --stack sandbox ${key}`,
            ]);
        },
    );

    it("still names an API key pasted into a setting set with --secret as a key", () => {
        const result = parseConfig({
            ...base,
            stack: "sandbox",
            values: { ...base.values, secretNamePrefix: `qredo/${apiKey}`, tags: JSON.stringify({ Note: apiKey }) },
            secretKeys: new Set<ConfigKey>(["apiKey", "secretNamePrefix", "tags"]),
        });
        const problems = result.ok ? "" : result.problems.join("\n");
        expect(problems).toMatch(/^secretNamePrefix: holds what looks like an API key \(not shown\)/m);
        expect(problems).toMatch(/^tags: has a tag that looks like it holds an API key \(not shown\)/m);
        expect(problems).not.toContain(apiKey.slice(0, 20));
    });
});

describe("parseConfig: rotation and the Partner API URL", () => {
    const base = { stack: "production", secretKeys: new Set<ConfigKey>(["apiKey"]) };

    it("stages a key only on top of a current one", () => {
        const staged = parseConfig({ ...base, values: { apiKey, keyVersion: "2", keyStage: "pending" } });
        expect(staged.ok && staged.config).toMatchObject({ keyVersion: 2, keyStage: "pending" });
        expect(parseConfig({ ...base, values: { apiKey, keyVersion: "1", keyStage: "pending" } })).toEqual({
            ok: false,
            problems: [
                "keyStage: is pending, but keyVersion is 1: there is no current key for signers to keep while a new one is staged. To stage a rotation, raise keyVersion by one together with keyStage pending. Fix: pulumi config set --stack production keyStage current",
            ],
        });
    });

    it("allows plain http only to this machine", () => {
        for (const url of [
            "http://localhost:4010/api/v1/p",
            "http://127.0.0.1:4010/p",
            "http://[::1]:8080/p",
            "https://qredo.example/api",
        ]) {
            const result = parseConfig({ ...base, values: { apiKey, apiBaseUrl: url } });
            expect(result.ok && result.config.apiBaseUrl, url).toBe(url);
        }
        for (const url of ["http://10.0.0.1/p", "http://localhost.example.com/p", "http://128.0.0.1/p"]) {
            const result = parseConfig({ ...base, values: { apiKey, apiBaseUrl: url } });
            expect(!result.ok && result.problems[0], url).toMatch(/^apiBaseUrl: uses plain http to /);
        }
    });

    it("never quotes a base URL that carries a password", () => {
        const result = parseConfig({ ...base, values: { apiKey, apiBaseUrl: "https://ops:hunter2-pass@api.qredo.network/api/v1/p" } });
        expect(result).toEqual({
            ok: false,
            problems: [
                "apiBaseUrl: must not contain a user name or password (signers authenticate with the API key and signature). Fix: pulumi config set --stack production apiBaseUrl https://api.qredo.network/api/v1/p",
            ],
        });
    });

    it("never quotes an API key pasted under another key's name, even in plain text", () => {
        const pasted = makeApiKey();
        const result = parseConfig({
            ...base,
            values: { apiKey, apiBaseUrl: pasted, kmsKeyId: pasted, readerArns: JSON.stringify([pasted]) },
        });
        expect(result.ok).toBe(false);
        const text = result.ok ? "" : result.problems.join("\n");
        for (const key of ["apiBaseUrl", "kmsKeyId", "readerArns"]) {
            expect(text).toContain(
                `${key}: holds what looks like an API key (not shown): this setting is stored and shown in plain text, and ends up in resource names, policies or stack outputs; the API key belongs in apiKey only. Remove it, and clear the shell history entry that set it. Fix: pulumi config rm --stack production ${key}`,
            );
        }
        expect(text).not.toContain(pasted.slice(0, 12));
    });
});

describe("parseConfig: what AWS would refuse, and what it accepts but is risky", () => {
    const base = { secretKeys: new Set<ConfigKey>(["apiKey"]) };

    it("names the tags to remove when there are too many", () => {
        const result = parseConfig({
            ...base,
            stack: "sandbox",
            values: { apiKey, tags: JSON.stringify({ ...manyTags(48), ManagedBy: "platform" }) },
        });
        expect(result).toEqual({
            ok: false,
            problems: [
                "tags: makes 51 tags with the program's own Project, Environment and ManagedBy; AWS allows 50 on a secret or policy, so remove 1. Fix: pulumi config rm --stack sandbox --path 'tags.Tag47'",
            ],
        });
        const fits = parseConfig({
            ...base,
            stack: "sandbox",
            values: { apiKey, tags: JSON.stringify({ ...manyTags(47), ManagedBy: "platform" }) },
        });
        expect(fits.ok).toBe(true);
    });

    it("accepts every character AWS allows in tags, letters of any script included", () => {
        const tags = { "cost-centre_1 .:/=+@": "Zürich ünit 東京 42 _.:/=+-@" };
        const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, tags: JSON.stringify(tags) } });
        expect(result.ok && result.config.tags).toEqual(tags);
    });

    it("fixes a bad tag value by setting it without the refused characters, and removes a bad tag name", () => {
        const result = parseConfig({
            ...base,
            stack: "sandbox",
            values: { apiKey, tags: JSON.stringify({ Owner: "a&b", "bad name!": "x" }) },
        });
        expect(!result.ok && result.problems).toEqual([
            `tags: tag "Owner" has characters AWS refuses in tags (allowed: letters, digits, spaces and _ . : / = + - @); tag "bad name!" has characters AWS refuses in tags (allowed: letters, digits, spaces and _ . : / = + - @). Fix: pulumi config set --stack sandbox --path 'tags.Owner' a-b && pulumi config rm --stack sandbox --path 'tags["bad name!"]'`,
        ]);
    });

    it("removes a bad tag value, without showing it, when it would read as an API key once cleaned", () => {
        // `cnloIjp-dGp0` decodes to `ryh":~tjt`, nine printable characters with `":`: an API key to the scans, and to npm run pulumi.
        const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, tags: JSON.stringify({ Build: "cnloIjp!dGp0" }) } });
        expect(!result.ok && result.problems).toEqual([
            `tags: tag "Build" has characters AWS refuses in tags (allowed: letters, digits, spaces and _ . : / = + - @). Fix: pulumi config rm --stack sandbox --path 'tags.Build'`,
        ]);
    });

    it("removes exactly as many readers as the resource policy must lose, last first", () => {
        const readers = manyReaders(400);
        const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, readerArns: JSON.stringify(readers) } });
        const line = !result.ok ? result.problems[0] : "";
        const removed = [...line.matchAll(/--path 'readerArns\[(\d+)\]'/g)].map((m) => Number(m[1]));
        expect(removed.length).toBeGreaterThan(0);
        expect(removed).toEqual([...removed].sort((a, b) => b - a));
        expect(removed.at(-1)).toBe(400 - removed.length);
        // Exactly enough: with one more reader kept it would not fit.
        const kept = readers.slice(0, 400 - removed.length);
        expect(parseConfig({ ...base, stack: "sandbox", values: { apiKey, readerArns: JSON.stringify(kept) } }).ok).toBe(true);
        const oneMore = readers.slice(0, 401 - removed.length);
        expect(parseConfig({ ...base, stack: "sandbox", values: { apiKey, readerArns: JSON.stringify(oneMore) } }).ok).toBe(false);
    });

    it("refuses an API key pasted into any other setting, glued to other text or not, without quoting it", () => {
        // Every setting but apiKey: the record below must name each (a new setting fails to compile here).
        const keys = configKeys.filter((key): key is Exclude<ConfigKey, "apiKey"> => key !== "apiKey");
        const pasted: Record<Exclude<ConfigKey, "apiKey">, string> = {
            environment: `x-${apiKey}`,
            keyVersion: `1${apiKey}`,
            keyStage: `pending-${apiKey}`,
            apiBaseUrl: `https://api.qredo.network/api/v1/p/${apiKey}`,
            secretNamePrefix: `qredo/x-${apiKey}`,
            kmsKeyId: `alias/${apiKey}`,
            recoveryWindowInDays: `7${apiKey}`,
            protect: `true+${apiKey}`,
            readerArns: JSON.stringify([`arn:aws:iam::123456789012:role/${apiKey}`]),
            replicaRegions: JSON.stringify([`r-${apiKey}`]),
            tags: JSON.stringify({ Team: `x-${apiKey}` }),
        };
        for (const key of keys) {
            const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, [key]: pasted[key] } });
            expect(result.ok, key).toBe(false);
            const problems = result.ok ? [] : result.problems;
            expect(problems.join("\n"), key).toMatch(new RegExp(`^${key}: .*looks like (it holds )?an API key \\(not shown\\)`));
            expect(problems.join("\n")).not.toContain(apiKey.slice(4, 20));
        }
    });

    it("refuses key material in a setting whose value would otherwise be accepted, without quoting it", () => {
        // A key whose Base64 makes no empty path segment (`//`, about one key in twenty), which
        // secretNamePrefix's own parser would refuse first.
        const keys = Array.from({ length: 100 }, () =>
            generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "der" }),
        );
        const ec = keys.find((der) => !/\/\/|\/$/.test(der.toString("base64")));
        if (ec === undefined) {
            throw new Error("none of 100 keys has Base64 without an empty path segment");
        }
        const key = ec.toString("base64");
        const pasted = {
            secretNamePrefix: `team/${key}`,
            kmsKeyId: `alias/k${key.replace(/[^A-Za-z0-9]/g, "")}`,
            apiBaseUrl: `https://proxy.example.com/${ec.toString("base64url")}`,
        };
        for (const [name, value] of Object.entries(pasted)) {
            const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, [name]: value } });
            expect(result.ok, name).toBe(false);
            const text = result.ok ? "" : result.problems.join("\n");
            expect(text).toBe(
                `${name}: holds what looks like key material (not shown): this setting is stored and shown in plain text, and ends up in resource names, policies or stack outputs; no key belongs in it. Remove it, and if it is a private key in use, treat it as exposed and rotate it (docs/rotation.md). Fix: pulumi config rm --stack sandbox ${name}`,
            );
        }
    });

    it("never quotes key material pasted into a setting, in the problem or its fix", () => {
        const result = parseConfig({
            ...base,
            stack: "sandbox",
            values: { apiKey, environment: sharedKeyPem, tags: JSON.stringify({ Team: sharedKeyPem }) },
        });
        expect(result.ok ? [] : result.problems).toEqual([
            `environment: must be "sandbox" or "production", got (a value that looks like key material, not shown). Fix: pulumi config set --stack sandbox environment sandbox`,
            `tags: has a tag ("Team") that looks like it holds key material (not shown): tags are readable by anyone who can list the secrets; if it is a private key in use, treat it as exposed and rotate it (docs/rotation.md); remove the map and set the other tags again. Fix: pulumi config rm --stack sandbox tags`,
        ]);
        const text = result.ok ? "" : result.problems.join("\n");
        for (const line of sharedKeyPem.split("\n").slice(1, -2)) {
            expect(text).not.toContain(line.slice(0, 16));
        }
    });

    it("warns, without refusing, about an apiBaseUrl that is not Qredo's (nor this machine's)", () => {
        const elsewhere = parseConfig({
            ...base,
            stack: "production",
            values: { apiKey, apiBaseUrl: "https://qredo-proxy.example.com/api/v1/p" },
        });
        expect(elsewhere.ok && elsewhere.warnings).toEqual([
            `apiBaseUrl points at "qredo-proxy.example.com", not Qredo's api.qredo.network: signers and verify --live send the production API key and signed requests there. If that is not meant: pulumi config rm --stack production apiBaseUrl`,
        ]);
        for (const apiBaseUrl of ["https://api.qredo.network/api/v1/p", "http://127.0.0.1:8080/p"]) {
            const fine = parseConfig({ ...base, stack: "production", values: { apiKey, apiBaseUrl } });
            expect(fine.ok && fine.warnings).toEqual([]);
        }
    });

    it("warns, without refusing, about a production stack without a recovery window or protection", () => {
        const result = parseConfig({ ...base, stack: "production", values: { apiKey, recoveryWindowInDays: "0", protect: "false" } });
        expect(result.ok && result.warnings).toEqual([
            "recoveryWindowInDays is 0 on a production stack: deleting a secret (a destroy, or a change of secretNamePrefix) deletes the production private key and API key at once, with no way back. To keep a window: pulumi config set --stack production recoveryWindowInDays 30",
            "protect is false on a production stack: pulumi destroy deletes the production secrets without first requiring an unprotect. To protect them: pulumi config set --stack production protect true",
        ]);
        const sandbox = parseConfig({ ...base, stack: "sandbox", values: { apiKey, recoveryWindowInDays: "0", protect: "false" } });
        expect(sandbox.ok && sandbox.warnings).toEqual([]);
    });

    it("warns that an account root as reader grants the whole account", () => {
        const readers = ["arn:aws:iam::123456789012:role/signer", "arn:aws:iam::210987654321:root"];
        const result = parseConfig({ ...base, stack: "sandbox", values: { apiKey, readerArns: JSON.stringify(readers) } });
        expect(result.ok && result.config.readerArns).toEqual(readers);
        expect(result.ok && result.warnings).toEqual([
            `readerArns lists "arn:aws:iam::210987654321:root", an account root: it grants the whole account 210987654321 (every user and role there whose own IAM policies allow secretsmanager:GetSecretValue can read the keys), not one principal. If that is not meant, name the signing service's role instead: pulumi config set --stack sandbox --path 'readerArns[1]' arn:aws:iam::ACCOUNT:role/NAME`,
        ]);
    });
});

describe("loadConfig", () => {
    it("logs the warnings of a valid configuration through Pulumi, and deploys", async () => {
        const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue(undefined);
        try {
            await runProgram({
                stack: "production",
                config: { apiKey, readerArns: JSON.stringify(["arn:aws:iam::123456789012:root"]) },
                rsaKeyPem: sharedKeyPem,
            });
            expect(warn.mock.calls.map(([message]) => message)).toEqual([
                expect.stringMatching(
                    /^readerArns lists "arn:aws:iam::123456789012:root", an account root: it grants the whole account 123456789012 /,
                ),
            ]);
            expect(resources.length).toBeGreaterThan(0);
        } finally {
            warn.mockRestore();
        }
    });
});

describe("fixes as the command that ran pulumi can run them", () => {
    const npmCommand = "npm run pulumi -- config";
    // Problems of every kind, a parser's own hint, unknown keys, and warnings.
    const raws: RawConfig[] = [
        ...badCases.map((bad) => ({
            stack: bad.stack ?? "sandbox",
            values: bad.config,
            secretKeys: new Set((bad.secretKeys ?? ["apiKey"]) as ConfigKey[]),
            unknownKeys: ["keyversion", "colour"],
        })),
        { stack: "sandbox", values: { apiKey, kmsKeyId: "not a key" }, secretKeys: new Set<ConfigKey>(["apiKey"]) },
        {
            stack: "production",
            values: {
                apiKey,
                recoveryWindowInDays: "0",
                protect: "false",
                apiBaseUrl: "https://qredo-proxy.example.com/api/v1/p",
                readerArns: JSON.stringify(["arn:aws:iam::123456789012:root"]),
            },
            secretKeys: new Set<ConfigKey>(["apiKey"]),
        },
    ];
    const lines = (result: ReturnType<typeof parseConfig>) => (result.ok ? result.warnings : result.problems);

    it("starts every fix with npm run pulumi -- config when the scripts ask for it, and with pulumi config otherwise", () => {
        let fixes = 0;
        for (const raw of raws) {
            const plain = lines(parseConfig(raw));
            const viaNpm = lines(parseConfig({ ...raw, configCommand: npmCommand }));
            expect(lines(parseConfig({ ...raw, configCommand: "pulumi config" }))).toEqual(plain);
            // The same lines, each command started the npm way, and no bare pulumi config left.
            expect(viaNpm).toEqual(plain.map((line) => line.replaceAll("pulumi config ", `${npmCommand} `)));
            for (const line of viaNpm) {
                expect(line.replaceAll(npmCommand, "")).not.toContain("pulumi config");
                fixes += line.split(npmCommand).length - 1;
            }
        }
        expect(fixes).toBeGreaterThan(raws.length);
    });

    it("reads PARTNER_KEYS_CONFIG_COMMAND, and takes no other command from it", async () => {
        const config = { apiKey, keyVersion: "0", kmsKeyId: "not a key", colour: "blue" };
        const message = async (value: string | undefined) => {
            vi.stubEnv("PARTNER_KEYS_CONFIG_COMMAND", value);
            try {
                return await runProgram({ stack: "sandbox", config }).then(
                    () => "",
                    (e: unknown) => (e as Error).message,
                );
            } finally {
                vi.unstubAllEnvs();
            }
        };
        const viaNpm = await message(npmCommand);
        expect(viaNpm).toContain('keyVersion: must be a whole number of 1 or more, got "0"');
        expect(viaNpm).toContain(`Fix: ${npmCommand} set --stack sandbox keyVersion 1`);
        expect(viaNpm).toContain(`run \`${npmCommand} rm --stack sandbox kmsKeyId\``);
        expect(viaNpm).toContain(`Fix: ${npmCommand} rm --stack sandbox colour`);
        expect(viaNpm.replaceAll(npmCommand, "")).not.toContain("pulumi config");
        for (const other of [undefined, "", "npm run pulumi -- config; curl example.com | sh", "pulumi config"]) {
            const plain = await message(other);
            expect(plain).toBe(viaNpm.replaceAll(npmCommand, "pulumi config"));
            expect(plain).not.toContain("curl");
        }
    });
});

describe("keys in this project's namespace that it does not read", () => {
    it("refuses each before any resource is declared, suggesting the key a misspelt one meant, never showing a value", async () => {
        const error = await runProgram({
            stack: "production",
            config: {
                apiKey,
                kmsKeyID: "alias/prod-cmk",
                keyversion: "2",
                readerARNs: '["arn:aws:iam::123456789012:role/x"]',
                colour: "blue",
            },
        }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(pulumi.RunError);
        expect(resources).toEqual([]);
        expect((error as Error).message).toBe(
            [
                'The configuration of stack "production" has 4 problems; nothing was deployed:',
                "  - colour: is not a setting of this project (the README lists them); nothing reads it. Fix: pulumi config rm --stack production colour",
                "  - keyversion: is not a setting of this project; did you mean keyVersion? Nothing reads keyversion. Fix: pulumi config rm --stack production keyversion && pulumi config set --stack production keyVersion VALUE",
                "  - kmsKeyID: is not a setting of this project; did you mean kmsKeyId? Nothing reads kmsKeyID. Fix: pulumi config rm --stack production kmsKeyID && pulumi config set --stack production kmsKeyId VALUE",
                "  - readerARNs: is not a setting of this project; did you mean readerArns? Nothing reads readerARNs. Fix: pulumi config rm --stack production readerARNs && pulumi config set --stack production --path 'readerArns[0]' arn:aws:iam::ACCOUNT:role/NAME",
            ].join("\n"),
        );
        expect((error as Error).message).not.toMatch(/prod-cmk|123456789012|blue/);
    });

    it("never shows a name that holds an API key, and lists it after the known keys' problems", () => {
        const result = parseConfig({ stack: "sandbox", values: { keyVersion: "0" }, secretKeys: new Set(), unknownKeys: [apiKey] });
        expect(result.ok).toBe(false);
        const problems = result.ok ? [] : result.problems;
        expect(problems).toHaveLength(3); // apiKey unset, keyVersion 0, the odd name
        expect(problems[2]).toBe(
            "a setting whose name looks like an API key or key material (not shown) is not a setting of this project. Fix: remove its line from stacks/Pulumi.sandbox.yaml; if the key is in use, treat it as exposed and rotate it (docs/rotation.md)",
        );
        expect(problems.join("\n")).not.toContain(apiKey.slice(0, 16));
    });
});
