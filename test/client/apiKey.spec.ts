import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkApiKey, maxApiKeyLength, minApiKeyBytes } from "@qredo-partner-keys/client";

const keyBytes = fc.uint8Array({ minLength: minApiKeyBytes, maxLength: 512 });
const surroundingWhitespace = fc.stringMatching(/^[ \t\r\n]{0,4}$/);
const encodings = {
    "standard, padded": (b: Uint8Array) => Buffer.from(b).toString("base64"),
    "standard, unpadded": (b: Uint8Array) => Buffer.from(b).toString("base64").replace(/=+$/, ""),
    "URL-safe, unpadded": (b: Uint8Array) => Buffer.from(b).toString("base64url"),
    "URL-safe, padded": (b: Uint8Array) => Buffer.from(b).toString("base64").replace(/\+/g, "-").replace(/\//g, "_"),
};

describe("checkApiKey", () => {
    for (const [name, encode] of Object.entries(encodings)) {
        it(`accepts every ${name} Base64 encoding, trimmed of surrounding whitespace and nothing else`, () => {
            fc.assert(
                fc.property(keyBytes, surroundingWhitespace, surroundingWhitespace, (bytes, before, after) => {
                    const encoded = encode(bytes);
                    expect(checkApiKey(`${before}${encoded}${after}`)).toEqual({ ok: true, value: encoded });
                }),
            );
        });
    }

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
        const encoded = Buffer.from("a small JSON-ish payload!").toString("base64");
        expect(checkApiKey(`${encoded.slice(0, 8)}=${encoded.slice(8)}`).ok).toBe(false);
    });

    it("refuses a key longer than any real one", () => {
        expect(checkApiKey("A".repeat(maxApiKeyLength + 4))).toEqual({ ok: false, problem: expect.stringMatching(/longer than 4096/) });
    });
});
