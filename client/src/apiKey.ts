/**
 * Validation of the Qredo Partner API key.
 *
 * The Web App hands out the key as Base64 text (in practice the URL-safe
 * alphabet without padding, about 106 characters). We accept either alphabet,
 * padded or not, and trim the whitespace around it, because a key pasted into
 * the `apikey` file ends with a newline. Nothing else is changed: the key is
 * stored exactly as Qredo issued it.
 *
 * Real keys decode to a small JSON object. Checking that catches the mistake
 * the alphabet and length checks cannot: a key missing its last characters
 * (a short copy) still looks like Base64, but decodes to broken JSON.
 *
 * Every message here describes the problem without quoting the value.
 */

/** Decoded length below which a "key" is certainly a paste mistake. */
export const minApiKeyBytes = 16;
/** Longest key accepted; real keys are about 106 characters. */
export const maxApiKeyLength = 4096;

const standardAlphabet = /^[A-Za-z0-9+/]+$/;
const urlSafeAlphabet = /^[A-Za-z0-9_-]+$/;

export type ApiKeyCheck =
    | { readonly ok: true; readonly value: string }
    | { readonly ok: false; readonly problem: string };

/** Trims surrounding whitespace and checks that what is left is one Base64 string. */
export function checkApiKey(raw: string): ApiKeyCheck {
    const value = raw.trim();
    const problem = describeProblem(value);
    return problem === undefined ? { ok: true, value } : { ok: false, problem };
}

function describeProblem(value: string): string | undefined {
    if (value === "") {
        return "is empty";
    }
    if (value.includes("-----BEGIN") || value.includes("-----END")) {
        return "looks like a PEM key, not the API key (the API key is the one line in the `apikey` file from the Qredo Web App)";
    }
    if (/\s/.test(value)) {
        return "contains whitespace inside it (only surrounding whitespace is trimmed); copy the key again as one line";
    }
    if (value.length > maxApiKeyLength) {
        return `is longer than ${maxApiKeyLength} characters, far more than a Qredo API key`;
    }
    const body = value.replace(/=+$/, "");
    const padding = value.length - body.length;
    if (!standardAlphabet.test(body) && !urlSafeAlphabet.test(body)) {
        return "is not Base64: it has characters outside the standard (A-Z a-z 0-9 + /) and URL-safe (A-Z a-z 0-9 - _) alphabets, or mixes the two";
    }
    if (body.length % 4 === 1 || padding > 2 || (padding > 0 && value.length % 4 !== 0)) {
        return "has a length no Base64 encoding can have; part of it is probably missing";
    }
    if (Math.floor((body.length * 3) / 4) < minApiKeyBytes) {
        return `is too short to be a Qredo API key (it decodes to fewer than ${minApiKeyBytes} bytes)`;
    }
    if (!decodesToJsonObject(body)) {
        return "does not decode to the JSON object every Qredo API key holds; part of it is probably missing (copy the whole key again from the Qredo Web App: Settings → Partner API)";
    }
    return undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Node's decoder reads both alphabets; `body` was checked to use only one. */
function decodesToJsonObject(body: string): boolean {
    try {
        const decoded: unknown = JSON.parse(utf8.decode(Buffer.from(body, "base64")));
        return typeof decoded === "object" && decoded !== null && !Array.isArray(decoded);
    } catch {
        return false;
    }
}
