/**
 * The typed configuration of a stack: every key of DESIGN.md, read once,
 * validated all at once, before any resource is declared.
 *
 * Each key has its own parser (configParsers.ts); `parseConfig` runs them
 * all, then the checks that span keys (a pending key needs a current one;
 * policy sizes AWS would refuse), and is pure so it can be tested without
 * Pulumi. `loadConfig` is the only place in the program that touches
 * `pulumi.Config`.
 *
 * We read raw strings and parse them ourselves: Pulumi's `require*` helpers
 * echo the offending value in their errors, and the value may be the API key.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    apiKeyElsewhere,
    keyMaterialElsewhere,
    configCommandFrom,
    configKeys,
    formatProblem,
    holdsApiKey,
    holdsKeyMaterial,
    notASecret,
    parseApiBaseUrl,
    parseApiKey,
    parseEnvironment,
    parseKeyStage,
    parseKeyVersion,
    parseKmsKeyId,
    parseProtect,
    parseReaderArns,
    parseRecoveryWindow,
    parseReplicaRegions,
    parseSecretNamePrefix,
    parseTags,
    pathTo,
    removeEntries,
    rm,
    set,
    shellQuote,
    show,
    type ConfigCommand,
    type ConfigKey,
    type ParseContext,
    type Parsed,
    type Problem,
    type RawConfig,
    unknownKeyProblem,
} from "./configParsers";
import { defaults, environmentDefaults, projectName, secretNames, type Environment, type KeyStage } from "./environments";
import {
    longestKmsKeyArn,
    longestSecretArn,
    maxManagedPolicyLength,
    maxSecretPolicyLength,
    policyLength,
    readPolicyDocument,
    secretReaderPolicyDocument,
} from "./policies";

export { configKeys, type ConfigKey, type RawConfig } from "./configParsers";

export interface PartnerKeysConfig {
    readonly environment: Environment;
    /** The API key, trimmed. Handle as a secret. */
    readonly apiKey: string;
    readonly keyVersion: number;
    readonly keyStage: KeyStage;
    readonly apiBaseUrl: string;
    readonly secretNamePrefix: string;
    readonly kmsKeyId?: string;
    readonly recoveryWindowInDays: number;
    readonly protect: boolean;
    readonly readerArns: readonly string[];
    readonly replicaRegions: readonly string[];
    readonly tags: Readonly<Record<string, string>>;
}

export type ConfigResult =
    | { readonly ok: true; readonly config: PartnerKeysConfig; readonly warnings: readonly string[] }
    | { readonly ok: false; readonly problems: readonly string[] };

type Found = readonly [ConfigKey, Problem];

/** Validates raw configuration; returns the typed config (and warnings) or every problem found. */
export function parseConfig(raw: RawConfig): ConfigResult {
    const context = (key: ConfigKey): ParseContext => ({
        stack: raw.stack,
        secret: raw.secretKeys.has(key),
        ...(raw.awsRegion === undefined ? {} : { awsRegion: raw.awsRegion }),
        ...(raw.configCommand === undefined ? {} : { configCommand: raw.configCommand }),
    });
    const v = raw.values;
    // A key pasted into another setting is refused before that setting's own parser could quote it or accept it.
    // Then a value set with --secret is refused: only apiKey is kept secret.
    const parse = <T>(key: Exclude<ConfigKey, "apiKey">, parser: (value: string | undefined, context: ParseContext) => Parsed<T>) => {
        const value = v[key];
        if (value === undefined) {
            return parser(value, context(key));
        }
        if (holdsApiKey(value)) {
            return apiKeyElsewhere(key);
        }
        if (raw.secretKeys.has(key)) {
            return notASecret(key);
        }
        // A parser's problem never quotes key material; a value it accepts would carry it into names and outputs.
        const parsed = parser(value, context(key));
        return parsed.ok && holdsKeyMaterial(value) ? keyMaterialElsewhere(key) : parsed;
    };
    const apiKey = parseApiKey(v.apiKey, context("apiKey"));
    const environment = parse("environment", parseEnvironment);
    const keyVersion = parse("keyVersion", parseKeyVersion);
    const keyStage = parse("keyStage", parseKeyStage);
    const apiBaseUrl = parse("apiBaseUrl", parseApiBaseUrl);
    const secretNamePrefix = parse("secretNamePrefix", parseSecretNamePrefix);
    const kmsKeyId = parse("kmsKeyId", parseKmsKeyId);
    const recoveryWindowInDays = parse("recoveryWindowInDays", parseRecoveryWindow);
    const protect = parse("protect", parseProtect);
    const readerArns = parse("readerArns", parseReaderArns);
    const replicaRegions = parse("replicaRegions", parseReplicaRegions);
    // Tags have their own check for a key, which names the tag to remove.
    const tags =
        v.tags !== undefined && raw.secretKeys.has("tags") && !holdsApiKey(v.tags)
            ? notASecret("tags")
            : parseTags(v.tags, context("tags"));

    const parsed: ReadonlyArray<readonly [ConfigKey, Parsed<unknown>]> = [
        ["apiKey", apiKey],
        ["environment", environment],
        ["keyVersion", keyVersion],
        ["keyStage", keyStage],
        ["apiBaseUrl", apiBaseUrl],
        ["secretNamePrefix", secretNamePrefix],
        ["kmsKeyId", kmsKeyId],
        ["recoveryWindowInDays", recoveryWindowInDays],
        ["protect", protect],
        ["readerArns", readerArns],
        ["replicaRegions", replicaRegions],
        ["tags", tags],
    ];
    const found: Found[] = parsed.flatMap(([key, result]): Found[] => (result.ok ? [] : [[key, result.problem]]));
    // Checks spanning keys run whenever the keys they read are valid, so every problem shows at once.
    if (keyStage.ok && keyVersion.ok) {
        found.push(...pendingNeedsCurrentKey(keyStage.value, keyVersion.value));
    }
    if (environment.ok && tags.ok) {
        found.push(...environmentTagMismatch(environment.value, tags.value, context("tags")));
    }
    // Names are longest for production, which stands in for an environment still unknown.
    const named = secretNamePrefix.ok ? secretNames(secretNamePrefix.value, environment.ok ? environment.value : "production") : undefined;
    const names = named && [named.privateKey, named.apiKey];
    if (names !== undefined && replicaRegions.ok && kmsKeyId.ok) {
        found.push(...readPolicyTooLong(names, replicaRegions.value, kmsKeyId.value, raw.awsRegion));
    }
    if (names !== undefined && readerArns.ok) {
        found.push(...secretPolicyTooLong(names, readerArns.value, raw.awsRegion));
    }

    const unknown = (raw.unknownKeys ?? []).map((name) => unknownKeyProblem(raw.stack, name, raw.configCommand));
    if (
        unknown.length > 0 ||
        found.length > 0 ||
        !apiKey.ok ||
        !environment.ok ||
        !keyVersion.ok ||
        !keyStage.ok ||
        !apiBaseUrl.ok ||
        !secretNamePrefix.ok ||
        !kmsKeyId.ok ||
        !recoveryWindowInDays.ok ||
        !protect.ok ||
        !readerArns.ok ||
        !replicaRegions.ok ||
        !tags.ok
    ) {
        const order = (key: ConfigKey) => configKeys.indexOf(key);
        const sorted = [...found].sort(([a], [b]) => order(a) - order(b));
        return { ok: false, problems: [...sorted.map(([key, p]) => formatProblem(raw.stack, key, p, raw.configCommand)), ...unknown] };
    }
    const environmentDefault = environmentDefaults[environment.value];
    const config: PartnerKeysConfig = {
        environment: environment.value,
        apiKey: apiKey.value,
        keyVersion: keyVersion.value,
        keyStage: keyStage.value,
        apiBaseUrl: apiBaseUrl.value,
        secretNamePrefix: secretNamePrefix.value,
        ...(kmsKeyId.value === undefined ? {} : { kmsKeyId: kmsKeyId.value }),
        recoveryWindowInDays: recoveryWindowInDays.value ?? environmentDefault.recoveryWindowInDays,
        protect: protect.value ?? environmentDefault.protect,
        readerArns: readerArns.value,
        replicaRegions: replicaRegions.value,
        tags: tags.value,
    };
    return {
        ok: true,
        config,
        warnings: warningsFor(config, raw.stack, raw.configCommand),
    };
}

function pendingNeedsCurrentKey(keyStage: KeyStage, keyVersion: number): Found[] {
    if (keyStage !== "pending" || keyVersion > 1) {
        return [];
    }
    return [
        [
            "keyStage",
            {
                what: "is pending, but keyVersion is 1: there is no current key for signers to keep while a new one is staged. To stage a rotation, raise keyVersion by one together with keyStage pending",
                fix: [set("keyStage current")],
            },
        ],
    ];
}

/**
 * The program tags everything with the stack's Environment; a tag saying another one would
 * mislead every IAM condition and inventory that keys on it (a production secret tagged sandbox).
 */
function environmentTagMismatch(environment: Environment, tags: Readonly<Record<string, string>>, context: ParseContext): Found[] {
    // Any capitalisation: IAM condition keys (aws:ResourceTag/...) are not case-sensitive.
    return Object.entries(tags)
        .filter(([name, value]) => name.toLowerCase() === "environment" && value !== environment)
        .map(([name, value]): Found => [
            "tags",
            {
                what: `sets the ${show(name, context)} tag to ${show(value, context)} on a ${environment} stack; the program tags its resources with the stack's environment, and IAM conditions or inventories keyed on that tag would misread them`,
                fix: [rm(pathTo("tags", name))],
            },
        ]);
}

// Stands in for the stack's region when it is not in config: as long as any region name.
const longRegion = "ap-southeast-5";

/** The read policy, with ARNs as long as AWS can make them, against IAM's size limit. */
function readPolicyTooLong(
    names: readonly string[],
    replicaRegions: readonly string[],
    kmsKeyId: string | undefined,
    awsRegion = longRegion,
): Found[] {
    const kmsKeyArn =
        kmsKeyId === undefined
            ? undefined
            : kmsKeyId.startsWith("arn:") && kmsKeyId.includes(":key/")
              ? kmsKeyId
              : longestKmsKeyArn(awsRegion);
    const length = (regions: readonly string[]) =>
        policyLength(
            readPolicyDocument(
                names.map((n) => longestSecretArn(n, awsRegion)),
                regions,
                kmsKeyArn,
            ),
        );
    if (length(replicaRegions) <= maxManagedPolicyLength) {
        return [];
    }
    const what = `makes the read policy up to ${length(replicaRegions)} characters with ${replicaRegions.length} regions (two secret ARNs each); IAM allows ${maxManagedPolicyLength} in a managed policy, so list fewer replica regions or use a shorter secretNamePrefix`;
    const keep = longestFitting(replicaRegions, (kept) => length(kept) <= maxManagedPolicyLength);
    return [["replicaRegions", { what, fix: removeEntries("replicaRegions", range(keep, replicaRegions.length)) }]];
}

/** Each secret's resource policy against Secrets Manager's size limit. */
function secretPolicyTooLong(names: readonly string[], readerArns: readonly string[], awsRegion = longRegion): Found[] {
    const length = (readers: readonly string[]) => policyLength(secretReaderPolicyDocument(longestSecretArn(names[0], awsRegion), readers));
    if (length(readerArns) <= maxSecretPolicyLength) {
        return [];
    }
    const what = `lists ${readerArns.length} principals, which makes each secret's resource policy up to ${length(readerArns)} characters; Secrets Manager allows ${maxSecretPolicyLength}, so grant a role that the signing services assume instead of each principal`;
    const keep = longestFitting(readerArns, (kept) => length(kept) <= maxSecretPolicyLength);
    return [["readerArns", { what, fix: removeEntries("readerArns", range(keep, readerArns.length)) }]];
}

/**
 * How many leading entries fit. A longer list never makes a shorter policy, so the range is
 * halved each time: a very long list costs a few policies, not one per entry too many.
 */
function longestFitting<T>(list: readonly T[], fits: (kept: readonly T[]) => boolean): number {
    let fitting = 0;
    let tooLong = list.length + 1;
    while (tooLong - fitting > 1) {
        const middle = Math.floor((fitting + tooLong) / 2);
        if (fits(list.slice(0, middle))) {
            fitting = middle;
        } else {
            tooLong = middle;
        }
    }
    return fitting;
}

function range(from: number, to: number): number[] {
    return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Settings AWS accepts but that are risky; reported, never refused. */
const loopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

export function warningsFor(config: PartnerKeysConfig, stack: string, configCommand: ConfigCommand = "pulumi config"): string[] {
    const warnings: string[] = [];
    const fix = (args: string) => `${configCommand} set --stack ${shellQuote(stack)} ${args}`;
    if (config.environment === "production" && config.recoveryWindowInDays === 0) {
        warnings.push(
            `recoveryWindowInDays is 0 on a production stack: deleting a secret (a destroy, or a change of secretNamePrefix) deletes the production private key and API key at once, with no way back. To keep a window: ${fix("recoveryWindowInDays 30")}`,
        );
    }
    if (config.environment === "production" && !config.protect) {
        warnings.push(
            `protect is false on a production stack: pulumi destroy deletes the production secrets without first requiring an unprotect. To protect them: ${fix("protect true")}`,
        );
    }
    const host = new URL(config.apiBaseUrl).hostname;
    if (host !== new URL(defaults.apiBaseUrl).hostname && !loopbackHosts.includes(host)) {
        // Allowed (a proxy, a mirror), but every signer and verify --live sends the API key there.
        warnings.push(
            `apiBaseUrl points at ${show(host, { secret: false })}, not Qredo's ${new URL(defaults.apiBaseUrl).hostname}: signers and verify --live send the ${config.environment} API key and signed requests there. If that is not meant: ${configCommand} rm --stack ${shellQuote(stack)} apiBaseUrl`,
        );
    }
    config.readerArns.forEach((arn, index) => {
        const account = /^arn:[^:]+:iam::(\d{12}):root$/.exec(arn)?.[1];
        if (account !== undefined) {
            // Which account the stack deploys to is unknown without an AWS call, so every root is reported.
            warnings.push(
                `readerArns lists ${show(arn, { secret: false })}, an account root: it grants the whole account ${account} (every user and role there whose own IAM policies allow secretsmanager:GetSecretValue can read the keys), not one principal. If that is not meant, name the signing service's role instead: ${fix(`--path 'readerArns[${index}]' arn:aws:iam::ACCOUNT:role/NAME`)}`,
            );
        }
    });
    return warnings;
}

/**
 * Reads every key of this project's configuration and validates it.
 * Throws one `pulumi.RunError` (printed without a stack trace) listing every
 * problem; logs the warnings of a valid configuration.
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
    const stack = pulumi.getStack();
    const namespace = `${projectName}:`;
    const known = new Set<string>(configKeys);
    const unknownKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(namespace) && !known.has(key.slice(namespace.length)))
        .map((key) => key.slice(namespace.length))
        .sort();
    // Fixes read as the scripts that ran pulumi can run them (configCommands).
    const configCommand = configCommandFrom(process.env.PARTNER_KEYS_CONFIG_COMMAND);
    const result = parseConfig({
        stack,
        values,
        secretKeys,
        unknownKeys,
        configCommand,
        ...(awsRegion === undefined ? {} : { awsRegion }),
    });
    if (!result.ok) {
        const count = result.problems.length === 1 ? "a problem" : `${result.problems.length} problems`;
        throw new pulumi.RunError(
            `The configuration of stack "${stack}" has ${count}; nothing was deployed:\n` +
                result.problems.map((p) => `  - ${p}`).join("\n"),
        );
    }
    for (const warning of result.warnings) {
        void pulumi.log.warn(warning);
    }
    return result.config;
}

/**
 * Whether a config key was set with `--secret`. The SDK exposes this at run
 * time but not in its type declarations; if it ever goes away we treat every
 * key as plain, which fails closed (a plain-text apiKey is refused).
 */
function isSecret(fullKey: string): boolean {
    const check: unknown = Reflect.get(pulumi.runtime, "isConfigSecret");
    return typeof check === "function" && Reflect.apply(check, pulumi.runtime, [fullKey]) === true;
}
