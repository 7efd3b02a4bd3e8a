import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseConfig, type ConfigKey } from "../src/config";
import { makeApiKey, resources, runProgram } from "./mocks";

const apiKey = makeApiKey();

interface BadCase {
    readonly title: string;
    readonly stack?: string;
    readonly config: Record<string, string>;
    readonly secretKeys?: string[];
    /** Every key that must be named in the error, with a fragment of its message. */
    readonly expected: Partial<Record<ConfigKey, RegExp>>;
}

const pem = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA", "-----END RSA PRIVATE KEY-----"].join("\n");

const badCases: BadCase[] = [
    { title: "a missing API key", config: {}, expected: { apiKey: /is not set/ } },
    { title: "an empty API key", config: { apiKey: "" }, expected: { apiKey: /is empty/ } },
    { title: "a whitespace-only API key", config: { apiKey: " \n\t " }, expected: { apiKey: /is empty/ } },
    { title: "a non-Base64 API key", config: { apiKey: `${apiKey.slice(0, 40)}!${apiKey.slice(41)}` }, expected: { apiKey: /is not Base64/ } },
    { title: "an API key mixing both alphabets", config: { apiKey: `ab+d${apiKey.slice(4, 40)}-${apiKey.slice(41)}` }, expected: { apiKey: /mixes the two/ } },
    { title: "an API key with whitespace inside", config: { apiKey: `${apiKey.slice(0, 50)} ${apiKey.slice(50)}` }, expected: { apiKey: /whitespace inside/ } },
    { title: "a PEM pasted as the API key", config: { apiKey: pem }, expected: { apiKey: /looks like a PEM key/ } },
    { title: "an API key of impossible length", config: { apiKey: `${apiKey.slice(0, 101)}` }, expected: { apiKey: /length no Base64 encoding can have/ } },
    { title: "an API key with too much padding", config: { apiKey: `${apiKey.slice(0, 104)}===` }, expected: { apiKey: /length no Base64 encoding can have/ } },
    { title: "an API key too short to be one", config: { apiKey: "dHJ1ZQ" }, expected: { apiKey: /too short/ } },
    { title: "an API key set in plain text", config: { apiKey }, secretKeys: [], expected: { apiKey: /plain text/ } },
    { title: "an unknown environment", config: { apiKey, environment: "staging" }, expected: { environment: /must be "sandbox" or "production", got "staging"/ } },
    { title: "a stack name that is no environment, with none configured", stack: "dev", config: { apiKey }, expected: { environment: /stack name "dev" is not an environment/ } },
    { title: "keyVersion 0", config: { apiKey, keyVersion: "0" }, expected: { keyVersion: /whole number of 1 or more, got "0"/ } },
    { title: "a negative keyVersion", config: { apiKey, keyVersion: "-2" }, expected: { keyVersion: /got "-2"/ } },
    { title: "a fractional keyVersion", config: { apiKey, keyVersion: "1.5" }, expected: { keyVersion: /got "1.5"/ } },
    { title: "a non-numeric keyVersion", config: { apiKey, keyVersion: "two" }, expected: { keyVersion: /got "two"/ } },
    { title: "a recovery window of 3 days", config: { apiKey, recoveryWindowInDays: "3" }, expected: { recoveryWindowInDays: /0 .* or a whole number of days from 7 to 30, got "3"/ } },
    { title: "a recovery window of 31 days", config: { apiKey, recoveryWindowInDays: "31" }, expected: { recoveryWindowInDays: /got "31"/ } },
    { title: "a negative recovery window", config: { apiKey, recoveryWindowInDays: "-7" }, expected: { recoveryWindowInDays: /got "-7"/ } },
    { title: "protect that is no boolean", config: { apiKey, protect: "yes" }, expected: { protect: /true or false, got "yes"/ } },
    { title: "a reader that is not an IAM ARN", config: { apiKey, readerArns: JSON.stringify(["payments-signer"]) }, expected: { readerArns: /"payments-signer" is not an IAM principal ARN/ } },
    { title: "a reader that is an S3 ARN", config: { apiKey, readerArns: JSON.stringify(["arn:aws:s3:::bucket"]) }, expected: { readerArns: /is not an IAM principal ARN/ } },
    { title: "readers that are not a list", config: { apiKey, readerArns: "arn:aws:iam::123456789012:role/x" }, expected: { readerArns: /must be a list/ } },
    { title: "a secret name prefix with a space", config: { apiKey, secretNamePrefix: "qredo keys" }, expected: { secretNamePrefix: /may only contain/ } },
    { title: "a secret name prefix with a trailing slash", config: { apiKey, secretNamePrefix: "qredo/" }, expected: { secretNamePrefix: /must not start or end with \// } },
    { title: "a secret name prefix too long for Secrets Manager", config: { apiKey, secretNamePrefix: "q".repeat(500) }, expected: { secretNamePrefix: /too long/ } },
    { title: "a KMS key that is none", config: { apiKey, kmsKeyId: "my key" }, expected: { kmsKeyId: /KMS key ARN, key id or alias/ } },
    { title: "a replica region that is none", config: { apiKey, replicaRegions: JSON.stringify(["europe"]) }, expected: { replicaRegions: /"europe" is not an AWS region/ } },
    { title: "a replica in the stack's own region", config: { apiKey, replicaRegions: JSON.stringify(["eu-west-2"]) }, expected: { replicaRegions: /stack's own region eu-west-2/ } },
    { title: "tags that are not a map", config: { apiKey, tags: JSON.stringify(["a"]) }, expected: { tags: /map of tag names/ } },
    { title: "a reserved tag", config: { apiKey, tags: JSON.stringify({ "aws:owner": "me" }) }, expected: { tags: /reserved "aws:" prefix/ } },
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
            expect(message).toMatch(keys.length === 1 ? /has a problem; nothing was deployed/ : new RegExp(`has ${keys.length} problems; nothing was deployed`));
            for (const key of keys) {
                const line = message.split("\n").find((l) => l.startsWith(`  - ${key}: `));
                expect(line, `a line for ${key} in:\n${message}`).toBeDefined();
                expect(line).toMatch(bad.expected[key] as RegExp);
                expect(line).toMatch(new RegExp(`Fix: pulumi config (set|rm) --stack ${stack} `));
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

    it("takes the environment from the stack name and fills in its defaults", () => {
        expect(parseConfig({ ...base, stack: "sandbox" })).toEqual({
            ok: true,
            config: {
                environment: "sandbox",
                apiKey,
                keyVersion: 1,
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
        const result = parseConfig({ ...base, stack: "production", values: { ...base.values, recoveryWindowInDays: "0", protect: "false" } });
        expect(result.ok && result.config).toMatchObject({ recoveryWindowInDays: 0, protect: false });
    });

    it("does not quote the value of a key that was set as a secret", () => {
        const result = parseConfig({ ...base, stack: "sandbox", values: { ...base.values, environment: "hush-hush" }, secretKeys: new Set<ConfigKey>(["apiKey", "environment"]) });
        expect(result.ok).toBe(false);
        expect(!result.ok && result.problems.join("\n")).toContain("(a secret value, not shown)");
        expect(!result.ok && result.problems.join("\n")).not.toContain("hush-hush");
    });
});
