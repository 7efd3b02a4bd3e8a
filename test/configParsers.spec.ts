// Properties of the per-key parsers: what each accepts, that a problem never
// shows a secret, and that its fix, applied, gives a value the parser accepts.
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
    candidateDers,
    configKeys,
    formatProblem,
    holdsApiKey,
    holdsKeyMaterial,
    maxTags,
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
    suggestKey,
    unknownKeyProblem,
    type FixCommand,
    type ParseContext,
    type Parsed,
} from "../src/configParsers";
import { defaults, keyStages } from "../src/environments";
import { looksLikeApiKey } from "../scripts/lib/apiKeyInput.js";
import { compiledParsers, growth, growthFactor, linearGrowthBound } from "./support/growth";
import { testKey } from "./support/testKeys";

const plain: ParseContext = { stack: "sandbox", secret: false };
const secret: ParseContext = { stack: "sandbox", secret: true };

/** Splits what our fixes contain (bare words, single-quoted words, \' escapes) as a POSIX shell does. */
function shellWords(text: string): string[] {
    const words: string[] = [];
    for (const match of text.matchAll(/(?:[^\s'\\]+|\\.|'[^']*')+/g)) {
        words.push(
            match[0].replace(
                /'([^']*)'|\\(.)|([^'\\]+)/g,
                (_, quoted?: string, escaped?: string, bare?: string) => quoted ?? escaped ?? bare ?? "",
            ),
        );
    }
    return words;
}

/** The entry a `--path` argument names: a list index or a map key. */
function pathEntry(path: string): number | string {
    const match = /^\w+(?:\[(\d+)\]|\.([A-Za-z0-9_-]+)|\[("(?:[^"\\]|\\.)*")\])$/.exec(path);
    if (match === null) {
        throw new Error(`unexpected path ${path}`);
    }
    return match[1] !== undefined ? Number(match[1]) : (match[2] ?? JSON.parse(match[3]));
}

/** Applies `set/rm --path` fixes to a parsed list or map, as the CLI would. */
function applyFixes(value: unknown[] | Record<string, unknown>, fix: readonly FixCommand[]): unknown {
    const result: unknown[] | Record<string, unknown> = Array.isArray(value) ? [...value] : { ...value };
    for (const command of fix) {
        const [flag, path, newValue] = shellWords(command.args);
        expect(flag).toBe("--path");
        const entry = pathEntry(path);
        if (Array.isArray(result) && typeof entry === "number") {
            if (command.verb === "rm") {
                result.splice(entry, 1);
            } else {
                result[entry] = newValue;
            }
        } else if (!Array.isArray(result) && typeof entry === "string") {
            if (command.verb === "rm") {
                delete result[entry];
            } else {
                result[entry] = newValue;
            }
        } else {
            throw new Error(`path ${path} does not fit the value`);
        }
    }
    return result;
}

function problemText(parsed: Parsed<unknown>): string {
    return parsed.ok ? "" : formatProblem("sandbox", "tags", parsed.problem);
}

/** The first 12 characters in a row of `material` that `text` repeats, if any. */
function repeated(text: string, material: string): string | undefined {
    for (let at = 0; at + 12 <= material.length; at++) {
        if (text.includes(material.slice(at, at + 12))) {
            return material.slice(at, at + 12);
        }
    }
    return undefined;
}

const region = fc.constantFrom("eu-west-1", "eu-west-2", "eu-west-3", "us-east-1", "us-east-2", "ap-south-1", "ca-central-1");
const tagCharacter = fc.constantFrom(..."abcXYZ019 _.:/=+-@üé東");
const tagName = fc.string({ unit: tagCharacter, minLength: 1, maxLength: 20 }).filter((name) => !name.toLowerCase().startsWith("aws:"));
const tagValue = fc.string({ unit: tagCharacter, maxLength: 30 });

describe("parseKeyVersion", () => {
    it("accepts every whole number from 1, with surrounding spaces, and defaults to 1", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom("", " ", "\n"), (n, pad) => {
                expect(parseKeyVersion(`${pad}${n}${pad}`, plain)).toEqual({ ok: true, value: n });
            }),
        );
        expect(parseKeyVersion(undefined, plain)).toEqual({ ok: true, value: defaults.keyVersion });
    });

    it("refuses zero, negatives and anything that is not a whole number", () => {
        fc.assert(fc.property(fc.integer({ max: 0 }), (n) => parseKeyVersion(String(n), plain).ok === false));
        fc.assert(
            fc.property(
                fc.string().filter((s) => !/^\s*-?\d+\s*$/.test(s)),
                (s) => parseKeyVersion(s, plain).ok === false,
            ),
        );
    });
});

describe("parseKeyStage", () => {
    it("accepts exactly current and pending, and defaults to current", () => {
        fc.assert(
            fc.property(fc.oneof(fc.constantFrom(...keyStages, "Current", "pending ", "staged", ""), fc.string()), (s) => {
                const parsed = parseKeyStage(s, plain);
                expect(parsed.ok).toBe(s === "current" || s === "pending");
                expect(parsed.ok && parsed.value).toBe(parsed.ok ? s : false);
            }),
        );
        expect(parseKeyStage(undefined, plain)).toEqual({ ok: true, value: "current" });
    });
});

describe("parseRecoveryWindow and parseProtect", () => {
    it("accept 0 or 7 to 30 days, and leave an absent value to the environment", () => {
        fc.assert(
            fc.property(fc.integer({ min: -100, max: 100 }), (n) => {
                expect(parseRecoveryWindow(String(n), plain).ok).toBe(n === 0 || (n >= 7 && n <= 30));
            }),
        );
        expect(parseRecoveryWindow(undefined, plain)).toEqual({ ok: true, value: undefined });
    });

    it("accept true and false in any case, nothing else", () => {
        fc.assert(
            fc.property(fc.boolean(), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (b, upper) => {
                const text = [...String(b)].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
                expect(parseProtect(` ${text} `, plain)).toEqual({ ok: true, value: b });
            }),
        );
        fc.assert(
            fc.property(
                fc.string().filter((s) => !["true", "false"].includes(s.trim().toLowerCase())),
                (s) => parseProtect(s, plain).ok === false,
            ),
        );
    });
});

describe("parseApiBaseUrl", () => {
    const segments = fc.array(fc.stringMatching(/^[a-z0-9-]{1,10}$/), { maxLength: 4 }).map((parts) => parts.map((p) => `/${p}`).join(""));

    it("accepts any https URL without query, fragment or trailing slash, as given", () => {
        fc.assert(
            fc.property(fc.domain(), segments, (host, path) => {
                const url = `https://${host}${path}`;
                expect(parseApiBaseUrl(url, plain)).toEqual({ ok: true, value: url });
            }),
        );
    });

    it("accepts plain http to this machine only", () => {
        fc.assert(
            fc.property(
                fc.constantFrom("localhost", "127.0.0.1", "127.8.9.10", "[::1]"),
                fc.integer({ min: 1, max: 65535 }),
                segments,
                (host, port, path) => {
                    const url = `http://${host}:${port}${path}`;
                    expect(parseApiBaseUrl(url, plain)).toEqual({ ok: true, value: url });
                },
            ),
        );
        fc.assert(
            fc.property(
                fc.domain().filter((d) => d !== "localhost"),
                segments,
                (host, path) => {
                    expect(problemText(parseApiBaseUrl(`http://${host}${path}`, plain))).toContain("uses plain http to");
                },
            ),
        );
    });

    it("never shows a user name, password, query or fragment in a problem, also when the URL does not parse", () => {
        const withAt = "(a value with @ in it, not shown: the part before @ can be a user name and password)";
        const cases = {
            "ftp://proxyuser:Hunter2-s3cret@proxy.corp/api/v1/p": withAt,
            "https://proxyuser:Hunter2-s3cret@host:99999/api": withAt, // port out of range
            "https//proxyuser:Hunter2-s3cret@host/api": withAt, // colon missing
            "proxyuser:Hunter2-s3cret@proxy.corp/api": withAt, // no scheme
            "https:\\\\proxyuser:Hunter2-s3cret@host:0x/api": withAt, // backslashes, bad port
            "https://proxyuser:Hunter2/s3cret@host/api": withAt, // a / in the password
            "https://proxyuser:Hunter2?s3cret@host/api": withAt,
            "https://proxyuser:Hunter2#s3cret@host/api": withAt,
            " https://proxyuser:Hunter2-s3cret@host:99999/api": withAt, // leading space
            "ht\ttps://proxyuser:Hunter2-s3cret@host:99999/api": withAt, // a tab the URL parser drops
            "https://api.qredo.network/api/v1/p?token=Hunter2-s3cret": '"https://api.qredo.network/api/v1/p?…"',
            "https://api.qredo.network/api/v1/p#Hunter2-s3cret": '"https://api.qredo.network/api/v1/p#…"',
            "https://api.qredo.network/api/v1/p?token=proxyuser@Hunter2-s3cret": withAt,
            "https://proxyuser:pw@x.example/p?token=Hunter2-s3cret": "user name or password",
        };
        for (const [value, shown] of Object.entries(cases)) {
            const text = problemText(parseApiBaseUrl(value, plain));
            expect(text, value).toContain(shown);
            expect(text, value).not.toMatch(/Hunter2|s3cret|proxyuser/);
        }
        fc.assert(
            fc.property(fc.string(), fc.string(), (before, after) => {
                const text = problemText(parseApiBaseUrl(`${before}proxyuser:Hunter2@${after}`, plain));
                return !/proxyuser|Hunter2/.test(text);
            }),
        );
    });

    it("takes time in proportion to the value's length, whatever its slashes", () => {
        const slashes = "/".repeat(50_000);
        expect(problemText(parseApiBaseUrl(`https://A.example/${slashes}x`, plain))).toContain("not written the way URLs are normalised");
        expect(problemText(parseApiBaseUrl(`https://a.example/x${slashes}`, plain))).toContain("must not end with /");
        // Quadratic, 12,500 slashes took about 0.6 s here, and 16 times as many 256 times as long.
        const ratios = growth(
            compiledParsers,
            `(m, url) => m.parseApiBaseUrl(url, ${JSON.stringify(plain)})`,
            ['(n) => `https://A.example/${"/".repeat(n)}x`', '(n) => `https://a.example/x${"/".repeat(n)}`'],
            12_500 / growthFactor,
        );
        expect(Math.max(...ratios), String(ratios)).toBeLessThan(linearGrowthBound);
    });
});

describe("parseReplicaRegions", () => {
    it("takes time in proportion to the list's length, however many regions it lists", () => {
        const regions = '(n) => JSON.stringify(Array.from({ length: n / 12 }, (_, i) => "eu-west-" + (10 + i)))';
        const ratios = growth(
            compiledParsers,
            `(m, list) => m.parseReplicaRegions(list, ${JSON.stringify(plain)})`,
            [regions],
            51_200 / growthFactor,
        );
        expect(Math.max(...ratios), String(ratios)).toBeLessThan(linearGrowthBound);
    });

    it("accepts a list only without repeats or the stack's own region, and its fix removes exactly those", () => {
        fc.assert(
            fc.property(fc.array(region, { maxLength: 8 }), region, (list, own) => {
                const context = { ...plain, awsRegion: own };
                const parsed = parseReplicaRegions(JSON.stringify(list), context);
                const valid = new Set(list).size === list.length && !list.includes(own);
                expect(parsed.ok).toBe(valid);
                if (!parsed.ok) {
                    const fixed = applyFixes(list, parsed.problem.fix);
                    expect(fixed).toEqual([...new Set(list)].filter((r) => r !== own));
                    expect(parseReplicaRegions(JSON.stringify(fixed), context).ok).toBe(true);
                }
            }),
        );
    });
});

describe("parseTags", () => {
    it("accepts any map of letters, digits, spaces and _ . : / = + - @ that fits, unchanged", () => {
        fc.assert(
            fc.property(fc.dictionary(tagName, tagValue, { maxKeys: maxTags - 3 }), (tags) => {
                expect(parseTags(JSON.stringify(tags), plain)).toEqual({ ok: true, value: tags });
            }),
        );
    });

    it("refuses what AWS would, and its fixes give a map it accepts", () => {
        const badCharacter = fc.constantFrom("!", "#", "&", "*", "'", '"', "\\", "<", "%");
        const badTag = fc
            .tuple(tagName, badCharacter, fc.boolean())
            .map(([name, c, inName]) => (inName ? [`${name}${c}`, "v"] : [name, `v${c}`]));
        fc.assert(
            fc.property(fc.dictionary(tagName, tagValue, { maxKeys: 60 }), fc.array(badTag, { maxLength: 3 }), (good, bad) => {
                const tags = { ...good, ...Object.fromEntries(bad) };
                const parsed = parseTags(JSON.stringify(tags), plain);
                if (!parsed.ok) {
                    // One round fixes the characters; the count is checked on the map that is left.
                    const once = applyFixes(tags, parsed.problem.fix);
                    const again = parseTags(JSON.stringify(once), plain);
                    const fixed = again.ok ? once : applyFixes(once as Record<string, unknown>, again.problem.fix);
                    expect(parseTags(JSON.stringify(fixed), plain).ok).toBe(true);
                } else {
                    expect(bad).toEqual([]);
                    expect(new Set([...Object.keys(tags), "Project", "Environment", "ManagedBy"]).size).toBeLessThanOrEqual(maxTags);
                }
            }),
        );
    });
});

describe("every parser", () => {
    const parsers = {
        apiKey: parseApiKey,
        environment: parseEnvironment,
        keyVersion: parseKeyVersion,
        keyStage: parseKeyStage,
        apiBaseUrl: parseApiBaseUrl,
        secretNamePrefix: parseSecretNamePrefix,
        kmsKeyId: parseKmsKeyId,
        recoveryWindowInDays: parseRecoveryWindow,
        protect: parseProtect,
        readerArns: parseReaderArns,
        replicaRegions: parseReplicaRegions,
        tags: parseTags,
    };
    // A value that is distinctive enough never to appear in a message by chance.
    const secretValue = fc.string({ minLength: 6, maxLength: 40 }).map((s) => `Zq9${s}`);
    const raw = fc.oneof(
        secretValue,
        secretValue.map((v) => `https://x:${v}@api.example/p`),
        secretValue.map((v) => `http://${v.replace(/[^a-z0-9]/gi, "")}.example/p/`),
        secretValue.map((v) => JSON.stringify([v, v])),
        secretValue.map((v) => JSON.stringify({ [v]: "x", t: `${v}!` })),
    );

    for (const [key, parse] of Object.entries(parsers)) {
        it(`${key}: never shows a value set as a secret, in the problem or its fix`, () => {
            fc.assert(
                fc.property(raw, (value) => {
                    const text = problemText(parse(value, secret));
                    const distinctive = value.match(/Zq9[^"\\]{6,}/)?.[0] ?? value;
                    expect(text.toLowerCase()).not.toContain(distinctive.slice(0, 9).toLowerCase());
                }),
            );
        });
    }

    // An API key pasted into another setting: alone, quoted, after "name=", in a URL path or host, in a list
    // or a map; in either Base64 alphabet.
    const apiKey = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 48 }), fc.boolean()).map(([bytes, urlSafe]) => {
        const key = Buffer.from(JSON.stringify({ key: Buffer.from(bytes).toString("base64") })).toString("base64");
        return urlSafe ? key.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "") : key;
    });
    const holdingKey = fc.tuple(apiKey, fc.integer({ min: 0, max: 18 })).map(([k, wrap]) => {
        const values = [
            `x-${k}`,
            `sandbox_${k}`,
            `1${k}`,
            `true+${k}`,
            `bad!x-${k}`,
            `https://x.example/?q=x-${k}`,
            `https://api.qredo.network/api/v1/p/x-${k}/`,
            JSON.stringify([`x-${k}`]),
            JSON.stringify({ Team: `x-${k}!` }),
            JSON.stringify({ [`x-${k}!`]: "v" }),
            k,
            `"${k}"`,
            `apiKey=${k}`,
            `https://api.qredo.network/api/v1/p/${k}/`,
            `https://api.qredo.network/api/v1/p/${k}?x`,
            `http://${k.replace(/[^A-Za-z0-9]/g, "")}.example/p`,
            JSON.stringify([`apiKey=${k}`, "eu-west-1"]),
            JSON.stringify({ Note: `"${k}"` }),
            JSON.stringify({ [k]: "x" }),
        ];
        return { key: k, value: values[wrap] };
    });
    for (const [key, parse] of Object.entries(parsers).filter(([name]) => name !== "apiKey")) {
        it(`${key}: never shows an API key pasted into it, in the problem or its fix`, () => {
            fc.assert(
                fc.property(holdingKey, ({ key: k, value }) => {
                    const text = problemText(parse(value, plain)).toLowerCase();
                    // 12 characters of a URL-safe key are far from anything a message says by itself.
                    expect(text).not.toContain(
                        k
                            .replace(/[^A-Za-z0-9]/g, "")
                            .slice(4, 16)
                            .toLowerCase(),
                    );
                }),
            );
        });
    }

    // Key material pasted into a setting: a PEM block of any label (private key, public key, certificate or
    // anything else), in any case, on one line, cut short at either end; a key's Base64 body without its
    // BEGIN and END lines; a JWK. Alone, glued to other text, in a list, a map (value or name) or a URL.
    const testKeys = [0, 1, 2].map((i) => testKey(i).privateKey);
    const derBodies = testKeys.flatMap((k) =>
        [
            k.export({ type: "pkcs1", format: "der" }),
            k.export({ type: "pkcs8", format: "der" }),
            createPublicKey(k).export({ type: "spki", format: "der" }),
            createPublicKey(k).export({ type: "pkcs1", format: "der" }),
        ].map((der) => der.toString("base64")),
    );
    const pemLabel = fc.oneof(
        fc.constantFrom("RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"),
        fc.constantFrom("PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"),
        fc.stringMatching(/^[A-Z0-9]{1,12}(?: [A-Z0-9]{1,12}){0,3}$/),
    );
    const pemBody = fc.oneof(
        fc.constantFrom(...derBodies),
        fc.uint8Array({ minLength: 48, maxLength: 1200 }).map((bytes) => Buffer.from(bytes).toString("base64")),
    );
    const lines = (body: string) => body.match(/.{1,64}/g) ?? [];
    const pemBlock = fc
        .tuple(pemLabel, pemBody, fc.constantFrom("as written", "lower case", "CRLF", "one line", "no END line", "no BEGIN line"))
        .map(([label, body, form]) => {
            const begin = `-----BEGIN ${label}-----`;
            const end = `-----END ${label}-----`;
            const text =
                form === "lower case"
                    ? [begin.toLowerCase(), ...lines(body), end.toLowerCase()].join("\n")
                    : form === "CRLF"
                      ? [begin, ...lines(body), end].join("\r\n")
                      : form === "one line"
                        ? [begin, body, end].join(" ")
                        : form === "no END line"
                          ? [begin, ...lines(body)].join("\n")
                          : form === "no BEGIN line"
                            ? [...lines(body), end].join("\n")
                            : [begin, ...lines(body), end, ""].join("\n");
            return { text, material: body };
        });
    const bareKey = fc.tuple(fc.constantFrom(...derBodies), fc.boolean()).map(([body, wrapped]) => ({
        text: wrapped ? lines(body).join("\n") : body,
        material: body,
    }));
    const jwk = fc.tuple(fc.constantFrom(...testKeys), fc.boolean()).map(([key, isPrivate]) => {
        const fields = (isPrivate ? key : createPublicKey(key)).export({ format: "jwk" });
        return { text: JSON.stringify(fields), material: `${fields.n ?? ""}${fields.d ?? ""}` };
    });
    // A symmetric JWK: its one secret member is short (22 characters for 128 bits), and more members may follow it.
    const octJwk = fc
        .tuple(fc.uint8Array({ minLength: 16, maxLength: 32 }), fc.constantFrom("json", "json, k first", "yaml"))
        .map(([bytes, form]) => {
            const k = Buffer.from(bytes).toString("base64url");
            const text =
                form === "json"
                    ? JSON.stringify({ kty: "oct", k, alg: "A128KW" })
                    : form === "json, k first"
                      ? JSON.stringify({ k, kty: "oct", use: "enc" })
                      : `kty: oct\nk: ${k}\n`;
            return { text, material: k };
        });
    const holdingKeyMaterial = fc
        .tuple(fc.oneof(pemBlock, bareKey, jwk, octJwk), fc.integer({ min: 0, max: 11 }))
        .map(([{ text, material }, at]) => {
            const values = [
                text,
                `x-${text}`,
                `${text}\n`,
                JSON.stringify([text]),
                JSON.stringify({ Team: text }),
                JSON.stringify({ [text]: "v" }),
                JSON.stringify(text.split(/\r?\n/)),
                JSON.stringify(Object.fromEntries(text.split(/\r?\n/).map((line, i) => [`Line${i}`, line]))),
                `https://api.qredo.network/api/v1/p/${text}/`,
                `arn:aws:iam::123456789012:role/${text}`,
                // glued to a word, or to the end of a path, with nothing between
                `apikey${text}`,
                `https://api.qredo.network/api/v1/p/privkey${text}/`,
                // percent-encoded, or its quotes escaped as JSON or HTML write them
                encodeURIComponent(text),
                text.replaceAll('"', "\\u0022"),
                text.replaceAll('"', "&quot;"),
            ];
            return { value: values[at], material };
        });
    for (const [key, parse] of Object.entries(parsers).filter(([name]) => name !== "apiKey")) {
        it(`${key}: never shows key material pasted into it, in the problem or its fix`, () => {
            fc.assert(
                fc.property(holdingKeyMaterial, ({ value, material }) => {
                    expect(repeated(problemText(parse(value, plain)), material)).toBeUndefined();
                }),
            );
        });
    }

    it("says a value holding key material is not shown, and suggests no fix built from it", () => {
        const { pem, publicPem } = testKey(0);
        const body = publicPem.split("\n").slice(1, -2).join("");
        for (const value of [pem, publicPem.toLowerCase(), body, `-----BEGIN CERTIFICATE-----\n${body}`]) {
            expect(parseEnvironment(value, plain)).toEqual({
                ok: false,
                problem: {
                    what: 'must be "sandbox" or "production", got (a value that looks like key material, not shown)',
                    fix: [{ verb: "set", args: "environment sandbox" }],
                },
            });
        }
        // A key pasted as a list of its lines: the list is read once, not once per entry that is wrong.
        const lines = JSON.stringify(pem.trim().split("\n"));
        for (const parse of [parseReaderArns, parseReplicaRegions]) {
            const parsed = parse(lines, plain);
            expect(parsed.ok).toBe(false);
            expect(problemText(parsed)).toContain("(a value that looks like key material, not shown)");
            expect(repeated(problemText(parsed), pem.split("\n").slice(1, -2).join(""))).toBeUndefined();
        }
        const listOfLines =
            '(n) => JSON.stringify(["-----BEGIN PRIVATE KEY-----", ...Array.from({ length: n / 64 }, () => "QUJD".repeat(16))])';
        const perEntry = growth(
            compiledParsers,
            `(m, list) => [m.parseReaderArns(list, ${JSON.stringify(plain)}), m.parseReplicaRegions(list, ${JSON.stringify(plain)})]`,
            [listOfLines],
            12_800 / growthFactor,
        );
        expect(Math.max(...perEntry), String(perEntry)).toBeLessThan(linearGrowthBound);
        const url = parseApiBaseUrl(`https://api.qredo.network/api/v1/p/${body}/`, plain);
        expect(url).toEqual({
            ok: false,
            problem: {
                what: "must not end with / (request paths start with one), got (a value that looks like key material, not shown)",
                fix: [{ verb: "set", args: "apiBaseUrl https://api.qredo.network/api/v1/p" }],
            },
        });
    });

    it("refuses tags of which one holds key material (tags are readable metadata), naming the tag but not the value", () => {
        const { pem } = testKey(0);
        const what =
            "has a tag that looks like it holds key material (not shown): tags are readable by anyone who can list the secrets; if it is a private key in use, treat it as exposed and rotate it (docs/rotation.md)";
        // Multi-line, AWS would refuse it anyway; on one line and cut to 256 characters, AWS would take it.
        for (const value of [pem, pem.replaceAll("\n", " ").slice(0, 256)]) {
            const parsed = parseTags(JSON.stringify({ Team: "payments", Note: value }), plain);
            // The map goes: other parts of a key may sit in tags that look like nothing by themselves.
            expect(parsed).toEqual({
                ok: false,
                problem: {
                    what: `${what.replace("has a tag", 'has a tag ("Note")')}; remove the map and set the other tags again`,
                    fix: [{ verb: "rm", args: "tags" }],
                },
            });
        }
        // In a tag's name, the tag cannot be named; spread over several tags, some pieces look like nothing in
        // particular.
        const lineByLine = Object.fromEntries(pem.split("\n").map((line, i) => [`Line${i}`, line]));
        for (const tags of [
            { Team: "payments", [pem.slice(0, 100)]: "x" },
            { Team: "payments", ...lineByLine },
        ]) {
            expect(parseTags(JSON.stringify(tags), plain)).toEqual({
                ok: false,
                problem: { what: `${what}; remove the map and set the other tags again`, fix: [{ verb: "rm", args: "tags" }] },
            });
        }
    });

    it("refuses a tag that holds an API key (tags are readable metadata), without naming the key", () => {
        const k = Buffer.from(JSON.stringify({ key: "c2VjcmV0LXNlY3JldC1zZWNyZXQ" })).toString("base64url");
        const parsed = parseTags(JSON.stringify({ Team: "payments", Note: `key ${k}` }), plain);
        expect(parsed.ok).toBe(false);
        expect(problemText(parsed)).toContain('has a tag ("Note") that looks like it holds an API key (not shown)');
        expect(parsed.ok ? [] : parsed.problem.fix).toEqual([{ verb: "rm", args: "tags" }]);
        expect(problemText(parsed)).not.toContain(k.slice(0, 16));
        expect(parseTags(JSON.stringify({ Team: "payments" }), plain).ok).toBe(true);
    });

    it("gives fixes that a shell splits into exactly the arguments meant", () => {
        // Fixes from bad tags and lists, whose arguments need quoting; run once through bash.
        const fixes = fc
            .sample(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 12 }), { minKeys: 1, maxKeys: 3 }), {
                numRuns: 40,
                seed: 42,
            })
            .flatMap((tags) => {
                const parsed = parseTags(JSON.stringify(tags), plain);
                return parsed.ok ? [] : parsed.problem.fix.map((c) => `pulumi config ${c.verb} --stack sandbox ${c.args}`);
            });
        expect(fixes.length).toBeGreaterThan(10);
        const script = `pulumi() { printf '%s\\037' "$@"; printf '\\036'; }\n${fixes.join("\n")}\n`;
        const run = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        expect(run.stderr).toBe("");
        const bashWords = run.stdout
            .split("\x1e")
            .filter(Boolean)
            .map((line) => line.split("\x1f").slice(0, -1));
        expect(bashWords).toEqual(fixes.map((fix) => shellWords(fix).slice(1)));
    });
});

describe("spotting an API key in a value (the config parsers' and the scripts' scans agree)", () => {
    const makeKey = (member: string, pretty: boolean) =>
        Buffer.from(JSON.stringify({ [member]: randomBytes(48).toString("base64url"), kind: "partner" }, null, pretty ? 4 : undefined));
    const scans = [holdsApiKey, looksLikeApiKey as (value: string) => boolean];

    it("finds a key split over lines, pretty-printed, percent-encoded or JSON-escaped, in either alphabet, inside other text", () => {
        fc.assert(
            fc.property(
                fc.constantFrom("key", "apiKey", "k"),
                fc.boolean(),
                fc.constantFrom("base64", "base64url") as fc.Arbitrary<BufferEncoding>,
                fc.integer({ min: 1, max: 100 }),
                fc.constantFrom("\n", "\r\n", " ", "\n    ", "\t"),
                fc.constantFrom("plain", "percent", "json"),
                fc.constantFrom("", "x-", "apiKey=", "https://api.qredo.network/p/", "tags: "),
                (member, pretty, alphabet, cut, gap, escaping, before) => {
                    const key = makeKey(member, pretty).toString(alphabet);
                    const split = `${key.slice(0, cut)}${gap}${key.slice(cut)}`;
                    const text =
                        escaping === "percent"
                            ? encodeURIComponent(split)
                            : escaping === "json"
                              ? JSON.stringify(split).replace(/\//g, "\\/")
                              : split;
                    return scans.every((scan) => scan(`${before}${text}`));
                },
            ),
        );
    });

    it("finds a key with its start cut off, a character inserted, a zero-width space, a line continuation, or split over quoted list items", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 100 }), (cut, at) => {
                const key = makeKey("key", false).toString("base64url");
                return [
                    key.slice(cut),
                    `${key.slice(0, at)}/${key.slice(at)}`,
                    `${key.slice(0, at)}\u200b${key.slice(at)}`,
                    key.replace(/(.{10})/g, "$1\u00ad"), // soft hyphens, as copied from a web page
                    key.replace(/(.{7})/g, "$1\u034f\ufe0f\u2062"),
                    `${key.slice(0, at)}\\\n${key.slice(at)}`,
                    `['${key.slice(0, at)}', '${key.slice(at)}']`,
                ].every((value) => scans.every((scan) => scan(value)));
            }),
        );
    });

    it("lets other Base64 through: hashes, random bytes, the lock file's integrity strings", () => {
        fc.assert(
            fc.property(
                fc.uint8Array({ minLength: 16, maxLength: 64 }),
                fc.constantFrom("base64", "base64url", "hex") as fc.Arbitrary<BufferEncoding>,
                (bytes, encoding) => {
                    const value = `sha512-${Buffer.from(bytes).toString(encoding)}`;
                    return scans.every((scan) => !scan(value));
                },
            ),
            // A fixed sample: about one random value in 200,000 decodes, at some offset, to nine printable
            // characters holding `":` and is taken for a key (a refusal, the safe side). Unseeded, the 2000 runs
            // failed about once in a hundred suite runs; one did on Uint8Array [0,18,2,0,162,0,144,146,35,162,0,…].
            { numRuns: 2000, seed: 42 },
        );
    });

    it("lets names, ARNs and paths with 'eyJ' in them through", () => {
        for (const value of [
            "hockeyJerseyNumber12345",
            "arn:aws:secretsmanager:eu-west-2:123456789012:secret:monkeyJarOfHoney-AbCdEf",
            "arn:aws:iam::123456789012:role/turkeyJamboreeDeployRole",
            "qredo/hockeyJersey/sandbox",
            "https://api.qredo.network/api/v1/p",
            "qredo-partner-keys-production-eu-west-2",
            "/home/runner/work/qredo-partner-keys/qredo-partner-keys/artifacts/public-key-sandbox",
        ]) {
            for (const scan of scans) {
                expect(scan(value), value).toBe(false);
            }
        }
        // Random identifiers of letters and digits: both scans answer alike, and almost never "a key".
        fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9-]{0,60}$/), (value) => holdsApiKey(value) === looksLikeApiKey(value)));
    });

    it("refuses a tag holding a pretty-printed key split over lines, and never repeats it", () => {
        const key = makeKey("key", true).toString("base64");
        const parsed = parseTags(JSON.stringify({ Team: `${key.slice(0, 30)}\n${key.slice(30)}` }), plain);
        expect(problemText(parsed)).toContain('has a tag ("Team") that looks like it holds an API key (not shown)');
        expect(problemText(parsed)).not.toContain(key.slice(0, 12));
    });

    it("refuses, showing no entry, tags that hold a key only read together: cut into names or values", () => {
        const der = testKey(1).privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
        const apiKey = makeKey("key", false).toString("base64url");
        const cut = (text: string, sizes: number[]) => {
            const pieces: string[] = [];
            for (let at = 0, i = 0; at < text.length; at += sizes[i % sizes.length], i++) {
                pieces.push(text.slice(at, at + sizes[i % sizes.length]));
            }
            return pieces;
        };
        const derPieces = cut(der, [48]); // each too short to be taken for a key by itself
        const keyPieces = cut(apiKey, [8, 76, 20, 8, 10]);
        const cases: [string, Record<string, unknown>, ParseContext, string][] = [
            ["DER pieces as names", Object.fromEntries(derPieces.map((piece) => [piece, 1])), plain, der],
            [
                "DER pieces as values, each with a refused character",
                Object.fromEntries(derPieces.map((p, i) => [`L${i}`, `${p}!`])),
                plain,
                der,
            ],
            ["API key pieces as names", Object.fromEntries(keyPieces.map((piece) => [piece, "x"])), plain, apiKey],
            [
                "API key pieces as Environment tags",
                Object.fromEntries(keyPieces.map((p, i) => [`${"environment".slice(0, i)}E${"environment".slice(i + 1)}`, p])),
                plain,
                apiKey,
            ],
            ["an API key over two entries, set as a secret", { A: apiKey.slice(0, 8), [apiKey.slice(8, 40)]: "x" }, secret, apiKey],
            [
                "API key pieces as values, each with a refused character",
                Object.fromEntries(keyPieces.map((p, i) => [`T${i}`, `${p}!`])),
                plain,
                apiKey,
            ],
            [
                "API key pieces as names ending in a dot, among too many tags",
                Object.fromEntries([...keyPieces.map((p) => [`${p}.`, "x"]), ...Array.from({ length: 50 }, (_, i) => [`Tag${i}`, "x"])]),
                plain,
                apiKey,
            ],
            ...["_", "=", "-!"].map((glue): [string, Record<string, unknown>, ParseContext, string] => [
                `API key pieces as values, each with "${glue}" added`,
                Object.fromEntries(cut(apiKey, [10, 11, 9]).map((p, i) => [`T${i}`, `${p}${glue}`])),
                plain,
                apiKey,
            ]),
            ["DER pieces as values, each with a dash added", Object.fromEntries(derPieces.map((p, i) => [`L${i}`, `${p}-`])), plain, der],
            [
                "DER pieces in names and values by turns",
                Object.fromEntries(cut(der, [48, 48]).flatMap((p, i, all) => (i % 2 === 0 ? [[p, all[i + 1] ?? "x"]] : []))),
                plain,
                der,
            ],
            // One piece is caught by itself, the others look like nothing: removing that one tag would keep the rest.
            ["an API key in three tags", Object.fromEntries(cut(apiKey, [41]).map((p, i) => [`ApiKey${i}`, p])), plain, apiKey],
            ["a DER key line by line", Object.fromEntries(cut(der, [64]).map((p, i) => [`L${String(i).padStart(2, "0")}`, p])), plain, der],
        ];
        for (const [title, tags, context, material] of cases) {
            const parsed = parseTags(JSON.stringify(tags), context);
            expect(parsed.ok, title).toBe(false);
            expect(problemText(parsed), title).toMatch(
                /looks like it holds (an API key|key material) \(not shown\).*Fix: pulumi config rm --stack sandbox tags$/,
            );
            expect(repeated(problemText(parsed), material), title).toBeUndefined();
        }
        // Digests in Base64, read together, can start as a DER key does: they are not a key unless they parse as one.
        for (const i of [51687, 87599]) {
            const digest = (name: string) => createHash("sha256").update(`${name}-${i}`).digest("base64");
            const tags = { ArtifactSha256: digest("artifact"), ConfigSha256: digest("config") };
            expect(parseTags(JSON.stringify(tags), plain)).toEqual({ ok: true, value: tags });
        }
        // Random Base64 values, read together, once decoded at some position to nine printable characters holding `":`.
        const ids = {
            T0: "3bd150e89a1fdc6446bd867be8940a523051556d",
            T1: "PJphsYy6cwUPN2Ei",
            T2: "OiwxL0J+lJXkdH99h9SKsZ2vlazWlCbgHzssj3Cvojg=",
            T3: "/3Yd17K59vyAI55un6gSHg==",
        };
        expect(parseTags(JSON.stringify(ids), plain)).toEqual({ ok: true, value: ids });
    });

    it("never shows a key cut into list entries with valid entries between the pieces", () => {
        const der = testKey(1).privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
        const apiKey = makeKey("key", false).toString("base64url");
        const between = (pieces: string[], valid: string) => JSON.stringify(pieces.flatMap((piece) => [piece, valid]));
        const arn = "arn:aws:iam::123456789012:role/signer";
        for (const [parse, valid] of [
            [parseReaderArns, arn],
            [parseReplicaRegions, "eu-west-1"],
        ] as const) {
            for (const [material, size, glued] of [
                [der, 48, ""],
                [der, 48, "!"], // each piece with a character added that a reader would drop
                [der, 48, "-!"],
                [apiKey, 10, "_"],
                [apiKey, 10, ""],
            ] as const) {
                const pieces = (material.match(new RegExp(`.{1,${size}}`, "g")) ?? []).map((piece) => `${piece}${glued}`);
                const parsed = parse(between(pieces, valid), plain);
                expect(parsed.ok).toBe(false);
                expect(problemText(parsed)).toContain("not shown)");
                expect(repeated(problemText(parsed), material)).toBeUndefined();
            }
        }
    });
});

describe("spotting key material in a value", () => {
    it("finds a key's Base64 after a word and a space or a line break, URL-safe, or without its PEM dashes", () => {
        const der = (type: "ed25519" | "ec", format: "pkcs8" | "sec1") => {
            const { privateKey } =
                type === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
            return privateKey.export({ type: format, format: "der" });
        };
        const ed = der("ed25519", "pkcs8").toString("base64");
        const ec = der("ec", "sec1").toString("base64");
        const rsaBody = testKey(0).pem.split("\n").slice(1, -2).join("\n");
        const lines40 = (base64: string) => base64.replace(/(.{40})/g, "$1\n");
        for (const value of [
            `seed ${ed}`,
            `key\n${ec}`,
            `key ${lines40(ed)}`,
            `key\r\n${lines40(ec).replaceAll("\n", "\r\n")}`,
            `Here is the new signer key ${ed.slice(0, 45)}\n${ed.slice(45)}`, // a sentence folded at 72 columns
            `key\\n${ec.replace(/(.{40})/g, "$1\\n")}`, // JSON-escaped line breaks
            `private%20key%20${ec}`,
            `private+key+${ec}`,
            `private_key=${der("ec", "pkcs8").toString("base64")}`, // NAME=VALUE
            `https://x.example/?a=1&key=${ed}`,
            "---begin rsa private key---", // a header line alone, loosely written
            `BEGIN RSA PRIVATE KEY\n${rsaBody}`,
            `url ${der("ec", "sec1").toString("base64url")}`,
            `note-${ec}`,
            `apikey${ed}`, // glued to a word: no separator before the key
            `https://api.qredo.network/api/v1/p/privkey${der("ec", "pkcs8").toString("base64url")}/`,
            '{"kty":"RSA","n":"x","e":"AQAB"}', // a JWK whose type is followed by another member
            encodeURIComponent('{"kty":"RSA","n":"x","e":"AQAB"}'),
            JSON.stringify({ kty: "oct", k: "GawgguFyGrWKav7AX4VKUg", alg: "A128KW" }),
            encodeURIComponent(JSON.stringify({ kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" })), // percent-encoded
            JSON.stringify({ kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" }).replaceAll('"', "\\u0022"),
            JSON.stringify({ kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" }).replaceAll('"', "&quot;"),
            ...["&#34;", "&#x22;", "\\x22", "\\U0022", "%2522"].map((quote) =>
                JSON.stringify({ kty: "oct", k: "GawgguFyGrWKav7AX4VKUg" }).replaceAll('"', quote),
            ),
        ]) {
            expect(holdsKeyMaterial(value), value).toBe(true);
            expect(parseEnvironment(value, plain)).toMatchObject({
                ok: false,
                problem: { what: expect.stringContaining("key material, not shown") },
            });
        }
        const tags = parseTags(JSON.stringify({ Signer: `key\n${ec}` }), { stack: "sandbox", secret: false });
        expect(JSON.stringify(tags)).not.toContain(ec.slice(0, 24));
        expect(tags.ok).toBe(false);
    });

    it("reads a long value once: runs of dashes, words or Base64 take time in proportion to their length", () => {
        const shapes = ['(n) => "-".repeat(n)', '(n) => `kty:${"-".repeat(n)}`', '(n) => "- ".repeat(n / 2)', '(n) => "ab ".repeat(n / 3)'];
        for (const value of ["-".repeat(50_000), `kty:${"-".repeat(50_000)}`, "- ".repeat(25_000), "ab ".repeat(16_000)]) {
            expect(holdsKeyMaterial(value)).toBe(false);
        }
        const scans = growth(compiledParsers, "(m, value) => m.holdsKeyMaterial(value)", shapes, 50_000 / growthFactor);
        expect(Math.max(...scans), String(scans)).toBeLessThan(linearGrowthBound);
        // A file of candidates for verify: each is decoded only as far as its DER length.
        expect(candidateDers("MIIBIjANBgkq-".repeat(10_000)).length).toBeGreaterThan(0);
        const decoding = growth(
            compiledParsers,
            "(m, file) => m.candidateDers(file)",
            ['(n) => "MIIBIjANBgkq-".repeat(n)'],
            10_000 / growthFactor,
        );
        expect(Math.max(...decoding), String(decoding)).toBeLessThan(linearGrowthBound);
    });

    it("lets ordinary values through: names, ARNs, URLs, words about keys, hashes and other Base64", () => {
        for (const value of [
            "staging",
            "private key storage",
            "BEGIN RSA PRIVATE KEY",
            "rotate at year-end -- end of support",
            "--- END OF LIFE ---",
            "--- Begin 2026 ---",
            "--- Begin key ceremony ---",
            "---------- END OF NOTES ----------",
            "------- BEGIN CHANGELOG -------",
            "--- END OF MONKEY BUSINESS ---",
            "kty: oct",
            "arn:aws:iam::123456789012:role/MIIBIjANBgkqhkiG9w0BAQEFAAOC",
            "https://api.qredo.network/api/v1/p",
            "qredo/partner-api",
            `sha512-${createHash("sha512").update("qredo-partner-keys").digest("base64")}`,
        ]) {
            expect(holdsKeyMaterial(value), value).toBe(false);
        }
        fc.assert(
            fc.property(
                fc.uint8Array({ minLength: 16, maxLength: 192 }),
                (bytes) => !holdsKeyMaterial(Buffer.from(bytes).toString("base64")),
            ),
            // A fixed sample: the scan takes about one in ten million Base64 positions for the start of a key.
            { numRuns: 1000, seed: 42 },
        );
    });
});

describe("a key this project does not read", () => {
    it("is matched to the key meant, whatever its case", () => {
        fc.assert(
            fc.property(fc.constantFrom(...configKeys), fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }), (key, upper) => {
                const typed = [...key].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join("");
                fc.pre(typed !== key);
                expect(suggestKey(typed)).toBe(key);
                expect(unknownKeyProblem("sandbox", typed)).toContain(`did you mean ${key}?`);
            }),
        );
    });

    it("is matched after one slip (a letter dropped, added or changed), and nothing far from every key is", () => {
        expect(["keyVerison", "kmsKeyI", "protected", "recoveryWindowInDay", "replicaRegion", "tag"].map(suggestKey)).toEqual([
            "keyVersion",
            "kmsKeyId",
            "protect",
            "recoveryWindowInDays",
            "replicaRegions",
            "tags",
        ]);
        expect(["stage", "version", "env", "arns", "secretName", "region"].map(suggestKey)).toEqual([
            "keyStage",
            "keyVersion",
            "environment",
            "readerArns",
            "secretNamePrefix",
            "aws:region",
        ]);
        // Nothing close, or more than one key equally close: no guess.
        expect(["colour", "team", "key", "id"].map(suggestKey)).toEqual([undefined, undefined, undefined, undefined]);
    });

    it("suggests setting a list or map entry by entry, with --path", () => {
        expect(unknownKeyProblem("sandbox", "tag")).toBe(
            "tag: is not a setting of this project; did you mean tags? Nothing reads tag. Fix: pulumi config rm --stack sandbox tag && pulumi config set --stack sandbox --path 'tags.NAME' VALUE",
        );
        expect(unknownKeyProblem("sandbox", "reader")).toMatch(
            /did you mean readerArns\?.* --path 'readerArns\[0\]' arn:aws:iam::ACCOUNT:role\/NAME$/,
        );
        expect(unknownKeyProblem("sandbox", "replica")).toMatch(/did you mean replicaRegions\?.* --path 'replicaRegions\[0\]' REGION$/);
    });

    it("suggests setting a misspelt apiKey encrypted, from the file, never on the command line", () => {
        for (const name of ["apikey", "APIKEY", "ApiKey"]) {
            expect(unknownKeyProblem("sandbox", name)).toBe(
                `${name}: is not a setting of this project; did you mean apiKey? Nothing reads ${name}. Fix: pulumi config rm --stack sandbox ${name} && pulumi config set --stack sandbox --secret apiKey < apikey`,
            );
        }
    });
});
