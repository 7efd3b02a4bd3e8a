/**
 * One parser per config key: the raw string Pulumi hands over (or nothing)
 * in, a typed value or one problem out, the way `checkApiKey` works. A
 * problem says what is wrong without quoting a secret, and carries the
 * `pulumi config` commands that fix it, so every fix pastes into a shell.
 */
import { checkApiKey } from "@qredo-partner-keys/client";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { defaults, defaultTags, environments, isEnvironment, isKeyStage, type Environment, type KeyStage } from "./environments";

/** Every project config key, in the order problems are reported. */
export const configKeys = [
    "apiKey",
    "environment",
    "keyVersion",
    "keyStage",
    "apiBaseUrl",
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
    /** Other keys set in this project's namespace (`keyversion`, `kmsKeyID`): none is read, so each is refused. */
    readonly unknownKeys?: readonly string[];
    /** How the fixes start; `pulumi config` when not given. */
    readonly configCommand?: ConfigCommand;
}

/**
 * How a fix starts. `pulumi config` for the CLI run by hand or by a pipeline;
 * `npm run pulumi -- config` when the project's scripts ran pulumi (npm run
 * deploy, npm run pulumi), which find the stack's backend and passphrase as
 * the deploy did: a bare `pulumi config` would not find a stack kept in the
 * local .pulumi-state/. The scripts ask for theirs in
 * PARTNER_KEYS_CONFIG_COMMAND (scripts/lib/cli.js).
 */
export const configCommands = ["pulumi config", "npm run pulumi -- config"] as const;
export type ConfigCommand = (typeof configCommands)[number];

/** The fixes' command named by PARTNER_KEYS_CONFIG_COMMAND; any other value, or none, is `pulumi config`. */
export function configCommandFrom(value: string | undefined): ConfigCommand {
    return configCommands.find((command) => command === value) ?? "pulumi config";
}

/** One `pulumi config` command, verb first; the command and the stack are added when the problem is reported. */
export interface FixCommand {
    readonly verb: "set" | "rm";
    readonly args: string;
}

/** What is wrong with one key (never its secret value) and the commands that fix it, run in order. */
export interface Problem {
    readonly what: string;
    readonly fix: readonly FixCommand[];
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: Problem };

/** What a parser may know besides its own raw value. */
export interface ParseContext {
    readonly stack: string;
    /** Whether this key was set with `--secret` (its value is then never quoted). */
    readonly secret: boolean;
    readonly awsRegion?: string;
    /** How a fix starts; `pulumi config` when not given. */
    readonly configCommand?: ConfigCommand;
}

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const problem = (what: string, ...fix: FixCommand[]): Parsed<never> => ({ ok: false, problem: { what, fix } });
export const set = (args: string): FixCommand => ({ verb: "set", args });
export const rm = (args: string): FixCommand => ({ verb: "rm", args });

/**
 * The value as the API-key scan reads it: percent-escapes and JSON escapes
 * undone, and whitespace, invisible characters (control and format characters,
 * such as a soft hyphen, and combining marks), line continuations and the
 * `","` between list entries removed, so a key split over lines, URL-encoded
 * or escaped reads as one run.
 * Kept in step with scripts/lib/apiKeyInput.js (a test holds them together).
 */
function scanText(value: string): string {
    return unescapeText(value)
        .replace(/\\\r?\n|\\[nrt]|\\(?=\/)/g, "")
        .replace(/["']\s*,\s*["']/g, "")
        .replace(/[\s\p{Cc}\p{Cf}\p{Mn}]+/gu, "");
}

/** The value with its percent-escapes and JSON `\u` escapes undone. */
function unescapeText(value: string): string {
    return value
        .replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The printable text a decoded window starts with. */
const printablePrefix = /^[\x20-\x7e\t\n\r]*/;

/**
 * Whether an API key sits anywhere in a value: alone, quoted, glued to other
 * text ("x-KEY", "sandbox_KEY"), after "name=", in a URL, split over lines or
 * escaped, whole or with its start cut off. A Qredo API key is Base64 of a
 * small JSON object, so at some position of a Base64 run the decoded bytes are
 * printable text holding `":` (a member: `{"key":`, `","kind":`); every
 * position is tried. Other Base64 and ordinary names decode to bytes that are
 * not text, but for a rare stretch of nine printable characters holding `":`.
 * Errors reach CI logs and preview comments.
 *
 * Pieces read together (tags, list entries) make long runs of Base64 where
 * there was none: there, `printable` asks for a longer stretch of text, as the
 * whole key gives (its JSON is over 80 characters).
 */
export function holdsApiKey(value: string, printable = 9): boolean {
    for (const [run] of scanText(value).matchAll(/[A-Za-z0-9+/_-]{12,}/g)) {
        for (let start = 0; run.length - start >= 12; start++) {
            const decoded = Buffer.from(
                run
                    .slice(start, start + 96)
                    .replaceAll("-", "+")
                    .replaceAll("_", "/"),
                "base64",
            ).toString("latin1");
            const text = printablePrefix.exec(decoded)?.[0] ?? "";
            if (text.length >= printable && text.includes('":')) {
                return true;
            }
        }
    }
    return false;
}

/**
 * Whether a value holds key material: a PEM block or a piece of one (a BEGIN
 * or END line of any label, any case: a private key, a public key, a
 * certificate), the Base64 of a DER key or certificate without those lines,
 * or a JWK. Read as the API-key scan reads a value, so a block split over
 * lines, escaped or URL-encoded counts. Errors reach CI logs and preview
 * comments; a private key pasted into the wrong setting must not.
 */
export function holdsKeyMaterial(value: string, der: "starts like a key" | "parses" = "starts like a key"): boolean {
    const text = scanText(value);
    // A BEGIN or END line: five dashes either side (any case), or a label that ends in KEY, CERTIFICATE or BLOCK
    // as PEM labels do ("--- END OF LIFE ---", "--- Begin key ceremony ---" are no PEM line); or a JWK: its key
    // type in JSON, or written loosely next to a long Base64url value ("kty: oct" alone is a note). Each dash run
    // is anchored at its start, so a long run of dashes is read once, not once per dash.
    // The JWK's type is read in the value with its escapes undone (percent, JSON, HTML) but nothing removed: the
    // scan text joins `"oct","k"` into `"octk"`. A symmetric key's one member is short (22 characters for 128
    // bits): next to its type, a `k` member counts.
    const pemLine = /-{5}(?:BEGIN|END)[^-]{0,80}-{5}(?!-)/i;
    const looseLabel = /(?:^|[^-])-{3,}(?:BEGIN|END)[A-Z0-9]{0,80}(?:KEY|CERTIFICATE|BLOCK)-{3,}/i;
    const jwkType = /\\?"kty\\?"\s*:\s*\\?"(?:RSA|EC|OKP|oct)\\?"/;
    const unescaped = jwkText(value);
    const loose = unescaped.replace(/\\[nrt]/g, " ");
    const yamlJwk =
        /kty\W{1,8}(?:RSA|EC|OKP|oct)\b/i.test(loose) && (/[A-Za-z0-9_-]{40,}/.test(loose) || /\bk\W{1,4}[A-Za-z0-9_-]{16,}/.test(loose));
    // Where a value is built from pieces read together (tags, list entries), Base64 that only starts as a DER key
    // does is too common to refuse on (two digests joined, one time in about 10 million characters): the key must parse.
    const hasDerKey = (v: string) => (der === "parses" ? candidateDers(v).some(parsesAsKey) : derCandidates(v).length > 0);
    return (
        pemLine.test(text) ||
        looseLabel.test(text) ||
        jwkType.test(text) ||
        jwkType.test(unescaped) ||
        yamlJwk ||
        [value, text].some(hasDerKey)
    );
}

/**
 * The value with the escapes a JWK's quotes may be written in undone: percent (twice, as a URL inside a URL
 * has it), JSON and shell (`\u0022`, `\U0022`, `\x22`), and HTML (`&quot;`, `&#34;`, `&#x22;`).
 */
function jwkText(value: string): string {
    const code = (hex: string) => String.fromCharCode(parseInt(hex, 16));
    return unescapeText(unescapeText(value))
        .replace(/\\[uU]([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})/g, (_, u?: string, x?: string) => code(u ?? x ?? ""))
        .replace(/&quot;/gi, '"')
        .replace(/&#(?:x([0-9A-Fa-f]{1,6})|(\d{1,7}));/gi, (_, hex?: string, decimal?: string) =>
            hex !== undefined ? code(hex) : String.fromCharCode(Number(decimal)),
        );
}

/** Whether DER bytes are a key or a certificate that Node.js's crypto reads. */
function parsesAsKey(der: Buffer): boolean {
    const reads = [
        () => createPrivateKey({ key: der, format: "der", type: "pkcs8" }),
        () => createPrivateKey({ key: der, format: "der", type: "pkcs1" }),
        () => createPrivateKey({ key: der, format: "der", type: "sec1" }),
        () => createPublicKey({ key: der, format: "der", type: "spki" }),
        () => createPublicKey({ key: der, format: "der", type: "pkcs1" }),
        () => new X509Certificate(der),
    ];
    return reads.some((read) => {
        try {
            read();
            return true;
        } catch (error) {
            // An encrypted private key needs its passphrase to be read, and says so: it is a key all the same.
            return error instanceof Error && /passphrase required/i.test(error.message);
        }
    });
}

/**
 * The Base64 (standard or URL-safe) in a value that starts as a DER key or
 * certificate does, from that start to the end of its run: a run is Base64
 * split only by whitespace (a key wrapped over lines, after "key " or in a
 * sentence folded at 72 columns), with percent-, JSON- and form-encoded
 * spaces and line breaks read as such. A try starts wherever the Base64 of a
 * DER SEQUENCE can ("M", then "A" to "I"), so also where the key is glued to
 * a word or a path ("apikeyMIIE…", "/p/privkeyMIIE…"); runs shorter than 60
 * characters are too short to be a key. Linear in the value.
 */
export function derCandidates(value: string): string[] {
    const spaced = value
        .replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\\[nrt]/g, " ");
    const found: string[] = [];
    for (const [group] of spaced.matchAll(/[A-Za-z0-9+/=_-]+(?:\s+[A-Za-z0-9+/=_-]+)*/g)) {
        const run = group.split(/\s+/).join("");
        for (const { index: start = 0 } of run.matchAll(/M[A-I]/g)) {
            if (run.length - start >= 60 && startsLikeDerKey(Buffer.from(run.slice(start, start + 16), "base64"))) {
                found.push(run.slice(start));
            }
        }
    }
    return found;
}

/**
 * Each candidate of `derCandidates` as DER, cut to the length its outer
 * SEQUENCE gives: only that much Base64 is decoded, so a file full of
 * candidates costs time in proportion to its length.
 */
export function candidateDers(value: string): Buffer[] {
    return derCandidates(value).flatMap((base64) => {
        const head = Buffer.from(base64.slice(0, 8), "base64");
        const header = contentStart(head, 0) ?? 2; // defined: a candidate starts like DER
        const length = header === 2 ? (head[1] ?? 0) : [...head.subarray(2, header)].reduce((n, byte) => n * 256 + byte, 0);
        const total = header + length;
        return total > 16_384 ? [] : [Buffer.from(base64.slice(0, Math.ceil(total / 3) * 4), "base64").subarray(0, total)];
    });
}

/**
 * Whether bytes start as a DER key or certificate does: a SEQUENCE holding a
 * small version INTEGER (PKCS#1, PKCS#8 and SEC1 private keys), a large
 * INTEGER (a PKCS#1 public key's modulus), or a SEQUENCE that starts with an
 * OID, a version tag or a serial (SPKI, encrypted PKCS#8, X.509).
 */
function startsLikeDerKey(der: Buffer): boolean {
    const inner = der[0] === 0x30 ? contentStart(der, 0) : undefined;
    if (inner === undefined) {
        return false;
    }
    if (der[inner] === 0x02) {
        return (der[inner + 1] === 0x01 && (der[inner + 2] ?? 0xff) <= 3) || der[inner + 1] === 0x81 || der[inner + 1] === 0x82;
    }
    const next = der[inner] === 0x30 ? contentStart(der, inner) : undefined;
    return next !== undefined && [0x02, 0x06, 0xa0].includes(der[next] ?? -1);
}

/** Where the contents of the DER element at `at` start (definite length of up to 3 bytes), or undefined. */
function contentStart(der: Buffer, at: number): number | undefined {
    const length = der[at + 1];
    return length === undefined ? undefined : length < 0x80 ? at + 2 : length <= 0x83 && length > 0x80 ? at + 2 + length - 0x80 : undefined;
}

/**
 * Key material in a setting whose value is otherwise valid (a key's Base64 in a secret name prefix or a
 * URL path): refused, never quoted. The value would go into resource names, policies or stack outputs.
 */
export function keyMaterialElsewhere(key: ConfigKey): Parsed<never> {
    return problem(
        "holds what looks like key material (not shown): this setting is stored and shown in plain text, and ends up in resource names, policies or stack outputs; no key belongs in it. Remove it, and if it is a private key in use, treat it as exposed and rotate it (docs/rotation.md)",
        rm(key),
    );
}

/**
 * An API key in a setting other than apiKey: refused, never quoted. Such
 * settings are stored and shown in plain text, and end up in secret names,
 * policies, tags or stack outputs.
 */
export function apiKeyElsewhere(key: ConfigKey): Parsed<never> {
    return problem(
        "holds what looks like an API key (not shown): this setting is stored and shown in plain text, and ends up in resource names, policies or stack outputs; the API key belongs in apiKey only. Remove it, and clear the shell history entry that set it",
        rm(key),
    );
}

/**
 * A setting other than apiKey set with `--secret`: refused, never quoted. The
 * program cannot keep it secret: every other setting goes in plain text into
 * resource names, tags, IAM policies or the stack outputs (which are never
 * secret), so accepting it would only pretend.
 */
export function notASecret(key: ConfigKey): Parsed<never> {
    return problem(
        "was set with --secret, but only apiKey is kept secret: every other setting is kept in plain text in the stack's state (in resource names, tags, IAM policies and options) or its outputs, so its value would not stay secret. Remove it and set it again without --secret; a value that must stay secret does not belong in this setting",
        rm(key),
    );
}

/** What a value is, when it must not be quoted (in a message or a fix): a secret, an API key or key material. */
function unquotable(value: string, context: Pick<ParseContext, "secret">): string | undefined {
    return context.secret
        ? "a secret value"
        : holdsApiKey(value)
          ? "a value that looks like an API key"
          : holdsKeyMaterial(value)
            ? "a value that looks like key material"
            : undefined;
}

/** Whether a value may appear in a message or a fix. */
export const quotable = (value: string, context: Pick<ParseContext, "secret">): boolean => unquotable(value, context) === undefined;

/**
 * Quotes a value for a message, unless it was set as a secret, or holds an
 * API key or key material pasted under the wrong name.
 */
export function show(value: string, context: Pick<ParseContext, "secret">): string {
    const hidden = unquotable(value, context);
    return hidden !== undefined ? `(${hidden}, not shown)` : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * Quotes entries of a list, each unless the list as a whole holds key material
 * (a PEM split over entries, say), or the entries shown, read together, hold
 * an API key or key material (a key cut into pieces between valid entries).
 * Read once, on the first entry shown, however many entries are.
 */
function entryShower(list: string | undefined, shown: readonly string[], context: Pick<ParseContext, "secret">): (entry: string) => string {
    let whole: { shown: string | undefined } | undefined;
    const hidden = () =>
        list !== undefined && holdsKeyMaterial(list)
            ? list
            : readTogether(shown).find((text) => holdsApiKey(text, 24) || holdsKeyMaterial(text, "parses"));
    return (entry) => {
        if (whole === undefined) {
            const text = hidden();
            whole = { shown: text === undefined ? undefined : show(text, context) };
        }
        return whole.shown ?? show(entry, context);
    };
}

/**
 * Pieces joined as written, and with only the characters of standard Base64 (a PEM body's), so a key cut
 * into pieces reads whole again, also when characters were added to each ("!", "_", "=", "-"). An API key
 * (URL-safe Base64, with "-" and "_" of its own) is still found in the second: its scan needs only a
 * stretch of its text intact, not all of it.
 */
function readTogether(pieces: readonly string[]): string[] {
    return [pieces.join(""), pieces.map((piece) => piece.replace(/[^A-Za-z0-9+/]/g, "")).join("")];
}

/** Single-quotes a word for a POSIX shell, so a fix pastes as one argument. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_./:=+@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `--path` argument for an entry of a list or map, shell-quoted. */
export function pathTo(key: ConfigKey, entry: number | string): string {
    const segment = typeof entry === "number" ? `[${entry}]` : /^[A-Za-z0-9_-]+$/.test(entry) ? `.${entry}` : `[${JSON.stringify(entry)}]`;
    return `--path '${`${key}${segment}`.replace(/'/g, `'\\''`)}'`;
}

/** Commands removing these entries of a list, last first so the indexes stay right. */
export function removeEntries(key: ConfigKey, indexes: readonly number[]): FixCommand[] {
    return [...new Set(indexes)].sort((a, b) => b - a).map((index) => rm(pathTo(key, index)));
}

/** Renders one problem as the line the user reads: key, what is wrong, pasteable fix. */
export function formatProblem(stack: string, key: ConfigKey, found: Problem, configCommand: ConfigCommand = "pulumi config"): string {
    const commands = found.fix.map((c) => `${configCommand} ${c.verb} --stack ${shellQuote(stack)} ${c.args}`).join(" && ");
    return `${key}: ${found.what}. Fix: ${commands}`;
}

// ---- the parsers, one per key ---------------------------------------------

const setApiKey = set("--secret apiKey < apikey");

export function parseApiKey(value: string | undefined, context: ParseContext): Parsed<string> {
    if (value === undefined) {
        return problem(
            "is not set; it is the Base64 key from the Qredo Web App (Settings → Partner API), saved as the file `apikey`",
            setApiKey,
        );
    }
    if (!context.secret) {
        // The value now sits readable in stacks/Pulumi.<stack>.yaml; refuse to use it.
        return problem("was set in plain text, so it is readable in the stack's config file; set it again as a secret", setApiKey);
    }
    const checked = checkApiKey(value);
    return checked.ok ? ok(checked.value) : problem(checked.problem, setApiKey);
}

export function parseEnvironment(value: string | undefined, context: ParseContext): Parsed<Environment> {
    if (value === undefined) {
        return isEnvironment(context.stack)
            ? ok(context.stack)
            : problem(
                  `is not set and the stack name "${context.stack}" is not an environment, so this stack does not say which Qredo environment it holds keys for; for production keys, set production instead of sandbox`,
                  set("environment sandbox"),
              );
    }
    return isEnvironment(value)
        ? ok(value)
        : problem(`must be "sandbox" or "production", got ${show(value, context)}`, set("environment sandbox"));
}

export function parseKeyVersion(value: string | undefined, context: ParseContext): Parsed<number> {
    const parsed = value === undefined ? defaults.keyVersion : parseWholeNumber(value);
    return parsed !== undefined && parsed >= 1
        ? ok(parsed)
        : problem(`must be a whole number of 1 or more, got ${show(value ?? "", context)}`, set(`keyVersion ${defaults.keyVersion}`));
}

export function parseKeyStage(value: string | undefined, context: ParseContext): Parsed<KeyStage> {
    if (value === undefined) {
        return ok(defaults.keyStage);
    }
    return isKeyStage(value)
        ? ok(value)
        : problem(`must be "current" or "pending", got ${show(value, context)}`, set(`keyStage ${defaults.keyStage}`));
}

/** Hosts plain http may go to: this machine only, for local try-outs. */
const loopbackHost = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
/** The slashes a URL ends with. Linear: a match can start only at the first / of a run (plain /\/+$/ is quadratic). */
export const trailingSlashes = /(?<!\/)\/+$/;
/**
 * An apiBaseUrl as a problem may show it: never with an @ (what comes before
 * one can be a user name and password, and a password can hold any character
 * a URL parser would stop at), and cut at a query or fragment (either can
 * hold a token). What is left still says which host and path were meant.
 */
export function shownUrl(value: string, context: Pick<ParseContext, "secret">): string {
    if (value.includes("@")) {
        return "(a value with @ in it, not shown: the part before @ can be a user name and password)";
    }
    const cut = value.search(/[?#]/);
    return show(cut === -1 ? value : `${value.slice(0, cut + 1)}…`, context);
}

export function parseApiBaseUrl(value: string | undefined, context: ParseContext): Parsed<string> {
    const useDefault = set(`apiBaseUrl ${defaults.apiBaseUrl}`);
    if (value === undefined) {
        return ok(defaults.apiBaseUrl);
    }
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url === undefined || !(url.protocol === "https:" || url.protocol === "http:")) {
        return problem(`must be an https URL such as ${defaults.apiBaseUrl}, got ${shownUrl(value, context)}`, useDefault);
    }
    if (url.username !== "" || url.password !== "") {
        // Not quoted: the part before @ is a credential.
        return problem("must not contain a user name or password (signers authenticate with the API key and signature)", useDefault);
    }
    if (url.protocol === "http:" && !loopbackHost.test(url.hostname)) {
        return problem(
            `uses plain http to ${show(quotable(value, context) ? url.hostname : value, context)}, so the API key and signatures would cross the network unencrypted; plain http is allowed only to localhost, 127.0.0.1 or [::1], for local try-outs`,
            useDefault,
        );
    }
    if (url.search !== "" || url.hash !== "" || value.endsWith("?") || value.endsWith("#")) {
        return problem(`must not have a query or fragment (request paths are appended to it), got ${shownUrl(value, context)}`, useDefault);
    }
    if (url.href.replace(trailingSlashes, "") !== value.replace(trailingSlashes, "")) {
        // Signers sign the URL as the fetch API normalises it; a value that normalises differently would be signed
        // one way by some tools and sent another way, and every request would be rejected.
        const canonical = url.href.replace(trailingSlashes, "");
        return problem(
            `is not written the way URLs are normalised (no spaces or tabs, lower-case host, no default port), got ${show(value, context)}`,
            quotable(value, context) ? set(`apiBaseUrl ${shellQuote(canonical)}`) : useDefault,
        );
    }
    if (value.endsWith("/")) {
        const trimmed = value.replace(trailingSlashes, "");
        // A secret value (or a key in the path) must not appear in the fix either: suggest the default then.
        return problem(
            `must not end with / (request paths start with one), got ${show(value, context)}`,
            quotable(value, context) ? set(`apiBaseUrl ${shellQuote(trimmed)}`) : useDefault,
        );
    }
    return ok(value);
}

// Longest suffix we append to the prefix: "/production/private-key".
const longestNameSuffix = "/production/private-key".length;
const maxSecretNameLength = 512;

export function parseSecretNamePrefix(value: string | undefined, context: ParseContext): Parsed<string> {
    const prefix = value ?? defaults.secretNamePrefix;
    const wrong =
        prefix === ""
            ? "must not be empty"
            : !/^[A-Za-z0-9/_+=.@-]+$/.test(prefix)
              ? "may only contain letters, digits and / _ + = . @ - (the characters Secrets Manager allows in a secret name)"
              : prefix.startsWith("/") || prefix.endsWith("/") || prefix.includes("//")
                ? "must not start or end with / or contain an empty path segment"
                : prefix.split("/").some((segment) => (environments as readonly string[]).includes(segment))
                  ? // <prefix>/<environment>/...: a prefix holding an environment would nest one environment's secrets
                    // inside the other's namespace, where that environment's IAM patterns (docs/security.md) reach them
                    "must not contain sandbox or production as a path segment (the environment follows the prefix; one environment's secrets must never fall under the other's name pattern)"
                  : prefix.length + longestNameSuffix > maxSecretNameLength
                    ? `is too long: secret names are limited to ${maxSecretNameLength} characters`
                    : undefined;
    return wrong === undefined
        ? ok(prefix)
        : problem(`${wrong}, got ${show(prefix, context)}`, set(`secretNamePrefix ${defaults.secretNamePrefix}`));
}

const kmsKey =
    /^(?:arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|(?:mrk-)?[A-Za-z0-9-]{32,36}|alias\/[A-Za-z0-9/_-]+)$/;

/** Undefined when not set: the secrets then use the AWS-managed key. */
export function parseKmsKeyId(value: string | undefined, context: ParseContext): Parsed<string | undefined> {
    const keyId = value?.trim();
    return keyId === undefined || kmsKey.test(keyId)
        ? ok(keyId)
        : problem(
              `must be a KMS key ARN, key id or alias/NAME, got ${show(keyId, context)}. To use the AWS-managed key instead, run \`${context.configCommand ?? "pulumi config"} rm --stack ${shellQuote(context.stack)} kmsKeyId\``,
              set("kmsKeyId alias/qredo-partner-api"),
          );
}

/** Undefined when not set: the environment's default applies. */
export function parseRecoveryWindow(value: string | undefined, context: ParseContext): Parsed<number | undefined> {
    if (value === undefined) {
        return ok(undefined);
    }
    const days = parseWholeNumber(value);
    return days !== undefined && (days === 0 || (days >= 7 && days <= 30))
        ? ok(days)
        : problem(
              `must be 0 (delete at once) or a whole number of days from 7 to 30, got ${show(value, context)}`,
              set("recoveryWindowInDays 30"),
          );
}

/** Undefined when not set: the environment's default applies. */
export function parseProtect(value: string | undefined, context: ParseContext): Parsed<boolean | undefined> {
    const normalized = value?.trim().toLowerCase();
    if (normalized === undefined || normalized === "true" || normalized === "false") {
        return ok(normalized === undefined ? undefined : normalized === "true");
    }
    return problem(`must be true or false, got ${show(value ?? "", context)}`, set("protect true"));
}

const iamPrincipalArn = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:root|(?:user|role)\/[A-Za-z0-9+=,.@_/-]+)$/;

export function parseReaderArns(value: string | undefined, context: ParseContext): Parsed<readonly string[]> {
    const example = "arn:aws:iam::123456789012:role/NAME";
    const list = parseStringList(value);
    if (list === undefined) {
        return problem("must be a list of IAM principal ARNs", set(`${pathTo("readerArns", 0)} ${example}`));
    }
    const bad = indexesWhere(list, (arn) => !iamPrincipalArn.test(arn));
    if (bad.length > 0) {
        const showEntry = entryShower(
            value,
            bad.map((i) => list[i]),
            context,
        );
        const names = bad.map((i) => showEntry(list[i])).join(", ");
        return problem(
            `${names} ${bad.length === 1 ? "is not an IAM principal ARN" : "are not IAM principal ARNs"} (arn:aws:iam::ACCOUNT:role/NAME, :user/NAME or :root); set each to the ARN of the principal meant`,
            ...bad.map((i) => set(`${pathTo("readerArns", i)} ${example}`)),
        );
    }
    return ok(list);
}

const awsRegionName = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

export function parseReplicaRegions(value: string | undefined, context: ParseContext): Parsed<readonly string[]> {
    const list = parseStringList(value);
    if (list === undefined) {
        return problem("must be a list of AWS regions", set(`${pathTo("replicaRegions", 0)} eu-west-1`));
    }
    const bad = indexesWhere(list, (region) => !awsRegionName.test(region));
    if (bad.length > 0) {
        const showEntry = entryShower(
            value,
            bad.map((i) => list[i]),
            context,
        );
        const names = bad.map((i) => showEntry(list[i])).join(", ");
        return problem(
            `${names} ${bad.length === 1 ? "is not an AWS region name" : "are not AWS region names"} such as eu-west-1`,
            ...bad.map((i) => set(`${pathTo("replicaRegions", i)} eu-west-1`)),
        );
    }
    const first = new Map<string, number>();
    list.forEach((region, i) => first.set(region, first.get(region) ?? i));
    const repeated = indexesWhere(list, (region, i) => first.get(region) !== i);
    const own = indexesWhere(list, (region, i) => region === context.awsRegion && first.get(region) === i);
    const showEntry = entryShower(
        value,
        [...repeated, ...own.slice(0, 1)].map((i) => list[i]),
        context,
    );
    const wrong = [
        ...(repeated.length > 0 ? [`lists ${[...new Set(repeated.map((i) => showEntry(list[i])))].join(", ")} more than once`] : []),
        ...(own.length > 0 ? [`includes the stack's own region ${showEntry(list[own[0]])}, where the secrets already are`] : []),
    ];
    return wrong.length > 0 ? problem(wrong.join("; "), ...removeEntries("replicaRegions", [...repeated, ...own])) : ok(list);
}

/** Most tags a Secrets Manager secret or an IAM policy can have, the program's own included. */
export const maxTags = 50;
/** The characters AWS allows in tag names and values: letters, digits, spaces and _ . : / = + - @ */
const tagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function parseTags(value: string | undefined, context: ParseContext): Parsed<Readonly<Record<string, string>>> {
    const parsed = value === undefined ? {} : parseJson(value);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return problem("must be a map of tag names to string values", set(`${pathTo("tags", "Team")} payments`));
    }
    const tags: Record<string, string> = {};
    const wrong: string[] = [];
    const fix: FixCommand[] = [];
    const entries = Object.entries(parsed);
    // Tags are plain metadata, readable by anyone who can list the secrets (also when the map was set
    // as a secret): a key never goes there, nor into this message.
    const caught = (holds: (text: string) => boolean) =>
        entries.filter(([name, tagValue]) => holds(name) || (typeof tagValue === "string" && holds(tagValue))).map(([name]) => name);
    // A key may also be cut over several names or values, each piece too short to be taken for one, which
    // the messages below would show one by one: the names, the values, and both in turn are read together
    // as well (readTogether). A tag caught by itself may hold only part of a key whose other parts look like
    // nothing: the whole map goes.
    const tagNames = entries.map(([name]) => name);
    const values = entries.map(([, tagValue]) => (typeof tagValue === "string" ? tagValue : ""));
    const inTurn = entries.flatMap(([name, tagValue]) => [name, typeof tagValue === "string" ? tagValue : ""]);
    const together = [tagNames, values, inTurn].flatMap(readTogether);
    const apiKeyTags = caught(holdsApiKey);
    if (apiKeyTags.length > 0 || holdsApiKey(value ?? "") || together.some((text) => holdsApiKey(text, 24))) {
        return tagsHolding("an API key (not shown): tags are readable by anyone who can list the secrets", apiKeyTags, context);
    }
    const keyMaterialTags = caught(holdsKeyMaterial);
    if (
        keyMaterialTags.length > 0 ||
        (value !== undefined && holdsKeyMaterial(value)) ||
        together.some((text) => holdsKeyMaterial(text, "parses"))
    ) {
        return tagsHolding(
            "key material (not shown): tags are readable by anyone who can list the secrets; if it is a private key in use, treat it as exposed and rotate it (docs/rotation.md)",
            keyMaterialTags,
            context,
        );
    }
    for (const [name, tagValue] of entries) {
        const issue = tagProblem(name, tagValue);
        if (issue === undefined && typeof tagValue === "string") {
            tags[name] = tagValue;
        } else {
            wrong.push(`tag ${context.secret ? "(a secret name)" : show(name, context)} ${issue ?? "must have a string value"}`);
            fix.push(tagFix(name, tagValue));
        }
    }
    if (wrong.length > 0) {
        return context.secret ? secretTagsProblem(wrong.length) : problem(wrong.join("; "), ...fix);
    }
    // The program's tag names are the same in every environment.
    const names = new Set([...Object.keys(defaultTags(environments[0])), ...Object.keys(tags)]);
    if (names.size > maxTags) {
        const extra = Object.keys(tags)
            .filter((name) => !(name in defaultTags(environments[0])))
            .slice(maxTags - names.size);
        if (context.secret) {
            return secretTagsProblem(names.size - maxTags);
        }
        return problem(
            `makes ${names.size} tags with the program's own Project, Environment and ManagedBy; AWS allows ${maxTags} on a secret or policy, so remove ${names.size - maxTags}`,
            ...extra.map((name) => rm(pathTo("tags", name))),
        );
    }
    return ok(tags);
}

/**
 * Refuses tags holding a key, or part of one: the whole map goes, since the other parts of a key may sit
 * in tags that look like nothing by themselves. One tag caught is named, where its name may be shown.
 */
function tagsHolding(what: string, caught: readonly string[], context: ParseContext): Parsed<never> {
    const which = !context.secret && caught.length === 1 && quotable(caught[0], context) ? ` (${JSON.stringify(caught[0])})` : "";
    return problem(`has a tag${which} that looks like it holds ${what}; remove the map and set the other tags again`, rm("tags"));
}

/** Tags set with --secret: nothing of them may show, not even in a fix, so the fix is to set them again. */
function secretTagsProblem(count: number): Parsed<never> {
    return problem(
        `has ${count} ${count === 1 ? "tag" : "tags"} AWS would refuse (more than ${maxTags} with the program's own Project, Environment and ManagedBy, or a name or value too long or with characters other than letters, digits, spaces and _ . : / = + - @); the map was set as a secret, so its entries are not shown: remove it and set the tags again`,
        rm("tags"),
    );
}

function tagProblem(name: string, value: unknown): string | undefined {
    if (typeof value !== "string") {
        return "must have a string value";
    }
    if (name.length === 0 || name.length > 128 || value.length > 256) {
        return "must have a name of 1–128 characters and a value of at most 256";
    }
    if (name.toLowerCase().startsWith("aws:")) {
        return `uses the reserved "aws:" prefix`;
    }
    if (!tagCharacters.test(name) || !tagCharacters.test(value)) {
        return "has characters AWS refuses in tags (allowed: letters, digits, spaces and _ . : / = + - @)";
    }
    return undefined;
}

/**
 * Removes a tag with a bad name; for a bad value, sets the value with the refused characters
 * replaced, unless that reads as an API key or key material: such a value is neither shown nor
 * suggested (and npm run pulumi would refuse it), so the tag is removed.
 */
function tagFix(name: string, value: unknown): FixCommand {
    const nameOk = name.length > 0 && name.length <= 128 && tagCharacters.test(name) && !name.toLowerCase().startsWith("aws:");
    if (!nameOk || typeof value !== "string") {
        return rm(pathTo("tags", name));
    }
    const cleaned = [...value]
        .map((c) => (tagCharacters.test(c) ? c : "-"))
        .join("")
        .slice(0, 256);
    return holdsApiKey(cleaned) || holdsKeyMaterial(cleaned)
        ? rm(pathTo("tags", name))
        : set(`${pathTo("tags", name)} ${shellQuote(cleaned)}`);
}

// ---- helpers --------------------------------------------------------------

function parseWholeNumber(value: string): number | undefined {
    const parsed = /^\s*-?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : undefined;
    return parsed !== undefined && Number.isSafeInteger(parsed) ? parsed : undefined;
}

/** A config list arrives as JSON text; absent means empty. Undefined means malformed. */
function parseStringList(value: string | undefined): readonly string[] | undefined {
    if (value === undefined) {
        return [];
    }
    const parsed = parseJson(value);
    if (!Array.isArray(parsed)) {
        return undefined;
    }
    const strings = parsed.filter((item): item is string => typeof item === "string");
    return strings.length === parsed.length ? strings : undefined;
}

function parseJson(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return undefined;
    }
}

function indexesWhere<T>(list: readonly T[], predicate: (item: T, index: number) => boolean): number[] {
    return list.flatMap((item, index) => (predicate(item, index) ? [index] : []));
}

// ---- keys this project does not read ---------------------------------------

/** Levenshtein distance, for suggesting the key a misspelt one meant. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

/**
 * The setting a misspelt or shortened key most likely meant: the same but for
 * case; else the one project key that starts with it (`tag`, `env`), or contains it (`stage`), or is
 * one or two edits away (`keyverison`); none when that is not one key. `region`
 * is the AWS provider's own setting.
 */
export function suggestKey(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (lower === "region") {
        return "aws:region";
    }
    const exact = configKeys.find((key) => key.toLowerCase() === lower);
    if (exact !== undefined) {
        return exact;
    }
    const only = (keys: readonly ConfigKey[]) => (keys.length === 1 ? keys[0] : undefined);
    if (lower.length >= 3) {
        const containing = configKeys.filter((key) => key.toLowerCase().includes(lower));
        if (containing.length > 0) {
            return only(containing.filter((key) => key.toLowerCase().startsWith(lower))) ?? only(containing);
        }
    }
    const distances = configKeys.map((key) => ({ key, distance: editDistance(key.toLowerCase(), lower) }));
    const best = Math.min(...distances.map(({ distance }) => distance));
    return best <= 2 ? only(distances.filter(({ distance }) => distance === best).map(({ key }) => key)) : undefined;
}

/**
 * A key in this project's namespace that the program does not read: a typo
 * (`keyversion` for keyVersion) would otherwise be ignored without a word, and
 * the stack deployed without the setting meant (no KMS key, no rotation). Its
 * value is never shown, and neither is a name that holds a key.
 */
export function unknownKeyProblem(stack: string, name: string, configCommand: ConfigCommand = "pulumi config"): string {
    if (holdsApiKey(name) || holdsKeyMaterial(name)) {
        return `a setting whose name looks like an API key or key material (not shown) is not a setting of this project. Fix: remove its line from stacks/Pulumi.${stack}.yaml; if the key is in use, treat it as exposed and rotate it (docs/rotation.md)`;
    }
    const meant = suggestKey(name);
    const remove = `${configCommand} rm --stack ${shellQuote(stack)} ${shellQuote(name)}`;
    // The API key is set encrypted and from the file, never typed on a command line.
    // Lists and maps are set entry by entry, with --path.
    const setMeant =
        {
            apiKey: "--secret apiKey < apikey",
            tags: "--path 'tags.NAME' VALUE",
            readerArns: "--path 'readerArns[0]' arn:aws:iam::ACCOUNT:role/NAME",
            replicaRegions: "--path 'replicaRegions[0]' REGION",
        }[meant ?? ""] ?? `${meant} VALUE`;
    return meant === undefined
        ? `${name}: is not a setting of this project (the README lists them); nothing reads it. Fix: ${remove}`
        : `${name}: is not a setting of this project; did you mean ${meant}? Nothing reads ${name}. Fix: ${remove} && ${configCommand} set --stack ${shellQuote(stack)} ${setMeant}`;
}
