/**
 * Signing Qredo Partner API requests with the key this project stores.
 *
 * The scheme (DESIGN.md): RSA PKCS#1 v1.5 over SHA-256 of
 * `timestamp + url + body` (no separators, no HTTP method; the full URL with
 * scheme, host and query), encoded base64url without padding, and sent with
 * the API key and the timestamp as `x-api-key`, `x-timestamp`, `x-sign`.
 */
import { constants, createPrivateKey, sign, type KeyObject } from "node:crypto";

export const partnerApiBaseUrl = "https://api.qredo.network/api/v1/p";
export const requiredModulusLength = 2048;

export interface SignRequestInput {
    /** PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM, or a key already loaded. */
    readonly privateKeyPem: string | KeyObject;
    /** The Base64 API key, as issued. */
    readonly apiKey: string;
    /** The full request URL: scheme, host, path and query, exactly as it will be sent. */
    readonly url: string;
    /** The body exactly as it will be sent; strings are signed as their UTF-8 bytes. @default none */
    readonly body?: string | Uint8Array;
    /** Unix seconds. @default now */
    readonly timestamp?: number | string;
}

export interface SignedHeaders {
    readonly "x-api-key": string;
    readonly "x-timestamp": string;
    readonly "x-sign": string;
}

/** Loads a private key and checks it is RSA 2048; the message never quotes the key. */
export function loadSigningKey(privateKey: string | KeyObject): KeyObject {
    let key: KeyObject;
    if (typeof privateKey === "string") {
        try {
            key = createPrivateKey(privateKey);
        } catch (error) {
            const reason = (error as { code?: string }).code ?? "unreadable";
            // OpenSSL's error names the decoder step, never the input, so it is safe as the cause.
            throw new Error(`the private key could not be read as a PEM private key (${reason}); expected PKCS#1 or PKCS#8 PEM`, {
                cause: error,
            });
        }
    } else {
        key = privateKey;
    }
    if (key.type !== "private") {
        throw new Error(`expected a private key, got a ${key.type} key`);
    }
    if (key.asymmetricKeyType !== "rsa") {
        throw new Error(
            `the private key is ${key.asymmetricKeyType ?? "of an unknown type"}; the Qredo Partner API needs RSA ${requiredModulusLength}`,
        );
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits !== requiredModulusLength) {
        throw new Error(`the private key is RSA ${bits ?? "of unknown size"}; the Qredo Partner API needs RSA ${requiredModulusLength}`);
    }
    return key;
}

/** The bytes that are signed: timestamp, URL and body, concatenated. */
export function signedPayload(timestamp: string, url: string, body: string | Uint8Array = ""): Buffer {
    return Buffer.concat([Buffer.from(timestamp + url, "utf8"), typeof body === "string" ? Buffer.from(body, "utf8") : body]);
}

/** Returns the three headers that authenticate one Partner API request. */
export function signRequest(input: SignRequestInput): SignedHeaders {
    const key = loadSigningKey(input.privateKeyPem);
    const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
    if (!/^\d+$/.test(timestamp)) {
        throw new Error(`timestamp must be Unix seconds, got ${JSON.stringify(timestamp)}`);
    }
    const signature = sign("sha256", signedPayload(timestamp, input.url, input.body), { key, padding: constants.RSA_PKCS1_PADDING });
    return { "x-api-key": input.apiKey, "x-timestamp": timestamp, "x-sign": signature.toString("base64url") };
}
