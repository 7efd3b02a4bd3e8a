/**
 * The typed configuration of a stack: every key of DESIGN.md, read once,
 * validated all at once, before any resource is declared.
 *
 * `parseConfig` is pure (strings in, a typed object or a list of problems out)
 * so it can be tested without Pulumi. `loadConfig` is the only place in the
 * program that touches `pulumi.Config`.
 *
 * We read raw strings and parse them ourselves: Pulumi's `require*` helpers
 * echo the offending value in their errors, and the value may be the API key.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkApiKey } from "@qredo-partner-keys/client";

export const projectName = "qredo-partner-keys";

export const environments = ["sandbox", "production"] as const;
export type Environment = (typeof environments)[number];

/** What differs between the two environments when the stack does not say. */
export const environmentDefaults: Readonly<Record<Environment, { recoveryWindowInDays: number; protect: boolean }>> = {
    production: { recoveryWindowInDays: 30, protect: true },
    sandbox: { recoveryWindowInDays: 7, protect: false },
};

export const defaultSecretNamePrefix = "qredo/partner-api";

/** Every project config key, in the order problems are reported. */
export const configKeys = [
    "apiKey",
    "environment",
    "keyVersion",
    "secretNamePrefix",
    "kmsKeyId",
    "recoveryWindowInDays",
    "protect",
    "readerArns",
    "replicaRegions",
    "tags",
] as const;
export type ConfigKey = (typeof configKeys)[number];

/** Configuration exactly as Pulumi hands it to the program: strings, or absent. */
export interface RawConfig {
    readonly stack: string;
    readonly values: Readonly<Partial<Record<ConfigKey, string>>>;
    /** Keys whose value was set with `--secret`. */
    readonly secretKeys: ReadonlySet<ConfigKey>;
    /** `aws:region`, when the stack sets it; replicas must be elsewhere. */
    readonly awsRegion?: string;
}

export interface PartnerKeysConfig {
    readonly environment: Environment;
    /** The API key, trimmed. Handle as a secret. */
    readonly apiKey: string;
    readonly keyVersion: number;
    readonly secretNamePrefix: string;
    readonly kmsKeyId?: string;
    readonly recoveryWindowInDays: number;
    readonly protect: boolean;
    readonly readerArns: readonly string[];
    readonly replicaRegions: readonly string[];
    readonly tags: Readonly<Record<string, string>>;
}

type Fix = (key: ConfigKey, what: string, command: string) => void;

export type ConfigResult =
    | { readonly ok: true; readonly config: PartnerKeysConfig }
    | { readonly ok: false; readonly problems: readonly string[] };

// Longest suffix we append to the prefix: "/production/private-key".
const longestNameSuffix = "/production/private-key".length;
const maxSecretNameLength = 512;
const secretNameCharacters = /^[A-Za-z0-9/_+=.@-]+$/;
const iamPrincipalArn = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:root|(?:user|role)\/[A-Za-z0-9+=,.@_/-]+)$/;
const awsRegion = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const kmsKey =
    /^(?:arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|(?:mrk-)?[A-Za-z0-9-]{32,36}|alias\/[A-Za-z0-9/_-]+)$/;

/** Validates raw configuration; returns the typed config or every problem found. */
export function parseConfig(raw: RawConfig): ConfigResult {
    const problems: string[] = [];
    // `command` is what follows `pulumi config`, verb first: "set keyVersion 1".
    const fix: Fix = (key, what, command) => {
        const [verb, ...rest] = command.split(" ");
        problems.push(`${key}: ${what}. Fix: pulumi config ${verb} --stack ${raw.stack} ${rest.join(" ")}`);
    };
    // Quote a value in a message, unless it was set as a secret.
    const show = (key: ConfigKey, value: string) =>
        raw.secretKeys.has(key) ? "(a secret value, not shown)" : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
    const value = (key: ConfigKey) => raw.values[key];

    const apiKey = checkApiKeySetting(raw, fix);

    let environment: Environment | undefined;
    const configuredEnvironment = value("environment");
    if (configuredEnvironment !== undefined) {
        environment = asEnvironment(configuredEnvironment);
        if (environment === undefined) {
            fix("environment", `must be "sandbox" or "production", got ${show("environment", configuredEnvironment)}`, "set environment sandbox");
        }
    } else {
        environment = asEnvironment(raw.stack);
        if (environment === undefined) {
            fix(
                "environment",
                `is not set and the stack name "${raw.stack}" is not an environment, so this stack does not say which Qredo environment it holds keys for`,
                "set environment sandbox (or production)",
            );
        }
    }

    const keyVersion = parseWholeNumber(value("keyVersion")) ?? (value("keyVersion") === undefined ? 1 : undefined);
    if (keyVersion === undefined || keyVersion < 1) {
        fix("keyVersion", `must be a whole number of 1 or more, got ${show("keyVersion", value("keyVersion") ?? "")}`, "set keyVersion 1");
    }

    const secretNamePrefix = value("secretNamePrefix") ?? defaultSecretNamePrefix;
    const prefixProblem = checkSecretNamePrefix(secretNamePrefix);
    if (prefixProblem !== undefined) {
        fix("secretNamePrefix", `${prefixProblem}, got ${show("secretNamePrefix", secretNamePrefix)}`, `set secretNamePrefix ${defaultSecretNamePrefix}`);
    }

    const kmsKeyId = value("kmsKeyId")?.trim();
    if (kmsKeyId !== undefined && !kmsKey.test(kmsKeyId)) {
        fix(
            "kmsKeyId",
            `must be a KMS key ARN, key id or alias/NAME, got ${show("kmsKeyId", kmsKeyId)}`,
            "set kmsKeyId alias/qredo-partner-api (or pulumi config rm kmsKeyId to use the AWS-managed key)",
        );
    }

    const windowDefault = environment === undefined ? undefined : environmentDefaults[environment].recoveryWindowInDays;
    const rawWindow = value("recoveryWindowInDays");
    const recoveryWindowInDays = rawWindow === undefined ? windowDefault : parseWholeNumber(rawWindow);
    if (rawWindow !== undefined && (recoveryWindowInDays === undefined || !(recoveryWindowInDays === 0 || (recoveryWindowInDays >= 7 && recoveryWindowInDays <= 30)))) {
        fix("recoveryWindowInDays", `must be 0 (delete at once) or a whole number of days from 7 to 30, got ${show("recoveryWindowInDays", rawWindow)}`, "set recoveryWindowInDays 30");
    }

    const rawProtect = value("protect");
    const protect = rawProtect === undefined ? (environment === undefined ? undefined : environmentDefaults[environment].protect) : parseBoolean(rawProtect);
    if (rawProtect !== undefined && protect === undefined) {
        fix("protect", `must be true or false, got ${show("protect", rawProtect)}`, "set protect true");
    }

    const readerArns = parseStringList(value("readerArns"));
    if (readerArns === undefined) {
        fix("readerArns", "must be a list of IAM principal ARNs", "set --path 'readerArns[0]' arn:aws:iam::123456789012:role/NAME");
    } else {
        for (const arn of readerArns.filter((a) => !iamPrincipalArn.test(a))) {
            fix("readerArns", `${show("readerArns", arn)} is not an IAM principal ARN (arn:aws:iam::ACCOUNT:role/NAME, :user/NAME or :root)`, "set --path 'readerArns[0]' arn:aws:iam::123456789012:role/NAME");
        }
    }

    const replicaRegions = parseStringList(value("replicaRegions"));
    if (replicaRegions === undefined) {
        fix("replicaRegions", "must be a list of AWS regions", "set --path 'replicaRegions[0]' eu-west-1");
    } else {
        for (const region of replicaRegions.filter((r) => !awsRegion.test(r))) {
            fix("replicaRegions", `${show("replicaRegions", region)} is not an AWS region name such as eu-west-1`, "set --path 'replicaRegions[0]' eu-west-1");
        }
        if (new Set(replicaRegions).size !== replicaRegions.length) {
            fix("replicaRegions", "lists a region twice", "rm --path 'replicaRegions[N]' for each repeated entry");
        }
        if (raw.awsRegion !== undefined && replicaRegions.includes(raw.awsRegion)) {
            fix("replicaRegions", `includes the stack's own region ${raw.awsRegion}, where the secrets already are`, "rm --path 'replicaRegions[N]' for that entry");
        }
    }

    const tags = parseTags(value("tags"));
    if (typeof tags === "string") {
        fix("tags", tags, "set --path 'tags.Team' payments");
    }

    if (problems.length > 0 || apiKey === undefined || environment === undefined || keyVersion === undefined) {
        return { ok: false, problems };
    }
    return {
        ok: true,
        config: {
            environment,
            apiKey,
            keyVersion,
            secretNamePrefix,
            ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
            recoveryWindowInDays: recoveryWindowInDays as number,
            protect: protect as boolean,
            readerArns: readerArns as string[],
            replicaRegions: replicaRegions as string[],
            tags: tags as Record<string, string>,
        },
    };
}

function checkApiKeySetting(raw: RawConfig, fix: Fix): string | undefined {
    const setIt = "set --secret apiKey < apikey";
    const apiKey = raw.values.apiKey;
    if (apiKey === undefined) {
        fix("apiKey", "is not set; it is the Base64 key from the Qredo Web App (Settings → Partner API), saved as the file `apikey`", setIt);
        return undefined;
    }
    if (!raw.secretKeys.has("apiKey")) {
        // The value now sits readable in stacks/Pulumi.<stack>.yaml; refuse to use it.
        fix("apiKey", "was set in plain text, so it is readable in the stack's config file; set it again as a secret", setIt);
        return undefined;
    }
    const checked = checkApiKey(apiKey);
    if (!checked.ok) {
        fix("apiKey", checked.problem, setIt);
        return undefined;
    }
    return checked.value;
}

function asEnvironment(value: string): Environment | undefined {
    return (environments as readonly string[]).includes(value) ? (value as Environment) : undefined;
}

function parseWholeNumber(value: string | undefined): number | undefined {
    const parsed = value !== undefined && /^\s*-?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : undefined;
    return parsed !== undefined && Number.isSafeInteger(parsed) ? parsed : undefined;
}

function parseBoolean(value: string): boolean | undefined {
    const v = value.trim().toLowerCase();
    return v === "true" ? true : v === "false" ? false : undefined;
}

/** A config list arrives as JSON text; absent means empty. Undefined means malformed. */
function parseStringList(value: string | undefined): string[] | undefined {
    if (value === undefined) {
        return [];
    }
    const parsed = parseJson(value);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
}

function parseTags(value: string | undefined): Record<string, string> | string {
    if (value === undefined) {
        return {};
    }
    const parsed = parseJson(value);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return "must be a map of tag names to string values";
    }
    for (const [key, tagValue] of Object.entries(parsed)) {
        if (typeof tagValue !== "string") {
            return `tag ${JSON.stringify(key)} must have a string value`;
        }
        if (key.length === 0 || key.length > 128 || tagValue.length > 256) {
            return `tag ${JSON.stringify(key)} must have a name of 1–128 characters and a value of at most 256`;
        }
        if (key.toLowerCase().startsWith("aws:")) {
            return `tag ${JSON.stringify(key)} uses the reserved "aws:" prefix`;
        }
    }
    return parsed as Record<string, string>;
}

function parseJson(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return undefined;
    }
}

function checkSecretNamePrefix(prefix: string): string | undefined {
    if (prefix === "") {
        return "must not be empty";
    }
    if (!secretNameCharacters.test(prefix)) {
        return "may only contain letters, digits and / _ + = . @ - (the characters Secrets Manager allows in a secret name)";
    }
    if (prefix.startsWith("/") || prefix.endsWith("/") || prefix.includes("//")) {
        return "must not start or end with / or contain an empty path segment";
    }
    if (prefix.length + longestNameSuffix > maxSecretNameLength) {
        return `is too long: secret names are limited to ${maxSecretNameLength} characters`;
    }
    return undefined;
}

/**
 * Reads every key of this project's configuration and validates it.
 * Throws one `pulumi.RunError` (printed without a stack trace) listing every problem.
 */
export function loadConfig(): PartnerKeysConfig {
    const config = new pulumi.Config(projectName);
    const values: Partial<Record<ConfigKey, string>> = {};
    const secretKeys = new Set<ConfigKey>();
    for (const key of configKeys) {
        const value = config.get(key);
        if (value !== undefined) {
            values[key] = value;
        }
        if (isSecret(`${projectName}:${key}`)) {
            secretKeys.add(key);
        }
    }
    const awsRegion = new pulumi.Config("aws").get("region");
    const result = parseConfig({ stack: pulumi.getStack(), values, secretKeys, ...(awsRegion === undefined ? {} : { awsRegion }) });
    if (!result.ok) {
        const count = result.problems.length === 1 ? "a problem" : `${result.problems.length} problems`;
        throw new pulumi.RunError(
            `The configuration of stack "${pulumi.getStack()}" has ${count}; nothing was deployed:\n` +
                result.problems.map((p) => `  - ${p}`).join("\n"),
        );
    }
    return result.config;
}

/**
 * Whether a config key was set with `--secret`. The SDK exposes this at run
 * time but not in its type declarations; if it ever goes away we treat every
 * key as plain, which fails closed (a plain-text apiKey is refused).
 */
function isSecret(fullKey: string): boolean {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    return typeof runtime.isConfigSecret === "function" && runtime.isConfigSecret(fullKey);
}
