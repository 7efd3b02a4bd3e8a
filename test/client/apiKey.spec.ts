import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkApiKey, maxApiKeyLength, minApiKeyBytes } from "@qredo-partner-keys/client";

/** What a real key decodes to: a small JSON object (at least minApiKeyBytes long). */
const keyBytes = fc
    .dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 64 }), fc.integer(), fc.boolean()), { minKeys: 1, maxKeys: 6 })
    .map((object) => new Uint8Array(Buffer.from(JSON.stringify(object), "utf8")))
    .filter((bytes) => bytes.length >= minApiKeyBytes && bytes.length * 4 <= maxApiKeyLength * 3);
const surroundingWhitespace = fc.stringMatching(/^[ \t\r\n]{0,4}$/);
const encodings = {
    "standard, padded": (b: Uint8Array) => Buffer.from(b).toString("base64"),
    "standard, unpadded": (b: Uint8Array) => Buffer.from(b).toString("base64").replace(/=+$/, ""),
    "URL-safe, unpadded": (b: Uint8Array) => Buffer.from(b).toString("base64url"),
    "URL-safe, padded": (b: Uint8Array) => Buffer.from(b).toString("base64").replace(/\+/g, "-").replace(/\//g, "_"),
};
const notJson = "does not decode to the JSON object every Qredo API key holds; part of it is probably missing (copy the whole key again from the Qredo Web App: Settings → Partner API)";

describe("checkApiKey", () => {
    for (const [name, encode] of Object.entries(encodings)) {
        it(`accepts every ${name} Base64 encoding of a JSON object, trimmed of surrounding whitespace and nothing else`, () => {
            fc.assert(
                fc.property(keyBytes, surroundingWhitespace, surroundingWhitespace, (bytes, before, after) => {
                    const encoded = encode(bytes);
                    expect(checkApiKey(`${before}${encoded}${after}`)).toEqual({ ok: true, value: encoded });
                }),
            );
        });
    }

    it("refuses a key missing any number of its last characters, without quoting the key", () => {
        fc.assert(
            fc.property(keyBytes, fc.integer({ min: 1, max: 40 }), (bytes, cut) => {
                const encoded = Buffer.from(bytes).toString("base64url");
                const truncated = encoded.slice(0, Math.max(8, encoded.length - cut));
                const result = checkApiKey(truncated);
                expect(result.ok).toBe(false);
                expect(!result.ok && result.problem).not.toContain(truncated.slice(0, 8));
            }),
        );
    });

    it("refuses Base64 of anything but a JSON object: random bytes, a JSON array, a JSON string, broken UTF-8", () => {
        const encode = (text: string | Buffer) => Buffer.from(text).toString("base64url");
        fc.assert(
            fc.property(fc.uint8Array({ minLength: minApiKeyBytes, maxLength: 256 }), (bytes) => {
                const text = Buffer.from(bytes).toString("utf8");
                let isObject = false;
                try {
                    const parsed: unknown = JSON.parse(text);
                    isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
                } catch {
                    // not JSON: must be refused
                }
                fc.pre(!isObject);
                expect(checkApiKey(encode(Buffer.from(bytes)))).toEqual({ ok: false, problem: notJson });
            }),
        );
        expect(checkApiKey(encode('["partner", "key", 1]'))).toEqual({ ok: false, problem: notJson });
        expect(checkApiKey(encode('"a JSON string, not an object"'))).toEqual({ ok: false, problem: notJson });
        expect(checkApiKey(encode(Buffer.concat([Buffer.from('{"key":"'), Buffer.from([0xc3, 0x28]), Buffer.from('abcdefgh"}')])))).toEqual({ ok: false, problem: notJson });
    });

    it("refuses a key with any character outside both alphabets, without quoting the key", () => {
        const outside = fc
            .string({ unit: "grapheme", minLength: 1, maxLength: 1 })
            .filter((c) => !/^[A-Za-z0-9+/_=-]$/.test(c) && c.trim() !== "");
        fc.assert(
            fc.property(keyBytes, outside, fc.nat(), (bytes, bad, at) => {
                const encoded = Buffer.from(bytes).toString("base64url");
                const position = at % encoded.length;
                const key = `${encoded.slice(0, position)}${bad}${encoded.slice(position)}`;
                const result = checkApiKey(key);
                expect(result.ok).toBe(false);
                expect(!result.ok && result.problem).not.toContain(encoded.slice(0, 8));
            }),
        );
    });

    it("refuses padding anywhere but the end", () => {
        const encoded = Buffer.from('{"kind":"partner","key":"abc"}').toString("base64");
        expect(checkApiKey(`${encoded.slice(0, 8)}=${encoded.slice(8)}`).ok).toBe(false);
    });

    it("refuses a key longer than any real one", () => {
        expect(checkApiKey("A".repeat(maxApiKeyLength + 4))).toEqual({ ok: false, problem: expect.stringMatching(/longer than 4096/) });
    });
});
