// Request signing, checked against openssl (an independent implementation)
// with keys generated at run time.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSigningKey, partnerApiBaseUrl, signRequest } from "@qredo-partner-keys/client";
import { makeApiKey } from "../support/providers.js";
import { testKey } from "../support/testKeys";

const dir = mkdtempSync(join(tmpdir(), "qredo-keys-signing-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { privateKey, publicKey } = testKey(0);
const pkcs1 = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const pkcs8 = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
const apiKey = makeApiKey();
writeFileSync(join(dir, "private.pem"), pkcs1);
writeFileSync(join(dir, "public.pem"), publicPem);

/** What openssl signs for the same timestamp, URL and body, as base64url without padding. */
function opensslSignature(message: Buffer): string {
    writeFileSync(join(dir, "message.bin"), message);
    execFileSync("openssl", [
        "dgst",
        "-sha256",
        "-sign",
        join(dir, "private.pem"),
        "-out",
        join(dir, "signature.bin"),
        join(dir, "message.bin"),
    ]);
    return execFileSync("openssl", ["base64", "-A", "-in", join(dir, "signature.bin")])
        .toString()
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
}

function opensslVerifies(message: Buffer, xSign: string): boolean {
    writeFileSync(join(dir, "message.bin"), message);
    writeFileSync(join(dir, "signature.bin"), Buffer.from(xSign, "base64url"));
    try {
        execFileSync(
            "openssl",
            ["dgst", "-sha256", "-verify", join(dir, "public.pem"), "-signature", join(dir, "signature.bin"), join(dir, "message.bin")],
            { stdio: "pipe" },
        ); // a rejected signature is an expected outcome: keep openssl's complaint out of the test output
        return true;
    } catch {
        return false;
    }
}

const cases = [
    { title: "a GET without a body", url: `${partnerApiBaseUrl}/company`, body: undefined },
    { title: "a URL with a query string", url: `${partnerApiBaseUrl}/company/1xWk/fund?limit=10&offset=20`, body: undefined },
    { title: "a JSON body", url: `${partnerApiBaseUrl}/company`, body: '{"name":"Acme","domain":"acme.example"}' },
    {
        title: "a non-ASCII body, signed as its UTF-8 bytes",
        url: `${partnerApiBaseUrl}/company`,
        body: '{"name":"Zürich Ünïcødé 株式会社 🚀"}',
    },
    { title: "a body given as bytes", url: `${partnerApiBaseUrl}/company`, body: new Uint8Array([0, 1, 2, 255, 254, 10, 13]) },
];

describe("signRequest", () => {
    for (const { title, url, body } of cases) {
        it(`signs ${title} exactly as openssl does, and openssl verifies it with the public key`, () => {
            const headers = signRequest({
                privateKeyPem: pkcs1,
                apiKey,
                url,
                timestamp: 1_700_000_123,
                ...(body === undefined ? {} : { body }),
            });
            const message = Buffer.concat([Buffer.from(`1700000123${url}`), body === undefined ? Buffer.alloc(0) : Buffer.from(body)]);
            expect(headers).toEqual({ "x-api-key": apiKey, "x-timestamp": "1700000123", "x-sign": opensslSignature(message) });
            expect(headers["x-sign"]).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
            expect(opensslVerifies(message, headers["x-sign"])).toBe(true);
            expect(opensslVerifies(Buffer.concat([message, Buffer.from(" ")]), headers["x-sign"])).toBe(false);
        });
    }

    it("accepts the same key as PKCS#8 and produces the same signature", () => {
        const input = { apiKey, url: `${partnerApiBaseUrl}/company`, body: "{}", timestamp: 1_700_000_000 };
        expect(signRequest({ ...input, privateKeyPem: pkcs8 })).toEqual(signRequest({ ...input, privateKeyPem: pkcs1 }));
    });

    it("stamps the current Unix time in seconds when no timestamp is given", () => {
        const before = Math.floor(Date.now() / 1000);
        const stamp = Number(signRequest({ privateKeyPem: pkcs1, apiKey, url: partnerApiBaseUrl })["x-timestamp"]);
        expect(stamp).toBeGreaterThanOrEqual(before);
        expect(stamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    });

    it("refuses a timestamp that is not Unix seconds", () => {
        expect(() => signRequest({ privateKeyPem: pkcs1, apiKey, url: partnerApiBaseUrl, timestamp: "2026-11-28T00:00:00Z" })).toThrow(
            /Unix seconds/,
        );
    });
});

describe("loadSigningKey", () => {
    it("refuses a key that is not RSA", () => {
        const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        expect(() => loadSigningKey(ec)).toThrow("the private key is ec; the Qredo Partner API needs RSA 2048");
    });

    it.each([1024, 3072])("refuses RSA %i", (bits) => {
        const key = generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        expect(() => loadSigningKey(key)).toThrow(`the private key is RSA ${bits}; the Qredo Partner API needs RSA 2048`);
    });

    it("refuses a public key and unreadable text, without quoting what it was given", () => {
        expect(() => loadSigningKey(publicPem)).toThrow(/could not be read as a PEM private key/);
        const garbage = `-----BEGIN RSA PRIVATE KEY-----\n${apiKey}\n-----END RSA PRIVATE KEY-----\n`;
        expect(() => loadSigningKey(garbage)).toThrow(/could not be read/);
        try {
            loadSigningKey(garbage);
        } catch (error) {
            expect((error as Error).message).not.toContain(apiKey.slice(0, 16));
        }
    });
});
