// @ts-check
// Reading an API key from a file or the environment, safely: never blocking on
// a pipe, never loading a huge file, decoding what Windows editors write, and
// never putting the value in a message.
"use strict";
const path = require("node:path");
const { readFileSync, statSync } = require("node:fs");

/** A real key is about 106 characters; anything past this is the wrong file. */
const maxFileBytes = 64 * 1024;

/** A problem with the key input; the caller turns it into a usage error. */
class ApiKeyInputError extends Error {}

/**
 * The text of an API key file, decoded. Throws ApiKeyInputError, naming the
 * file as the user typed it (`label`) and the fix.
 * @param {string} file  absolute path @param {string} label  e.g. "--api-key-file keys/apikey"
 * @param {string} [typed]  the path as the user typed it, for the fix
 */
function readApiKeyFile(file, label, typed = label) {
    let stat;
    try {
        stat = statSync(file);
    } catch {
        throw new ApiKeyInputError(
            `${label}: no such file. Save the key from the Qredo Web App (Settings → Partner API → Generate API Key) in it, or pass another --api-key-file.`,
        );
    }
    if (stat.isDirectory()) {
        // A folder that is itself named apikey (./apikey) holds no key: suggesting apikey/apikey would only puzzle.
        const named = path.basename(typed) === "apikey"; // basename ignores trailing slashes
        throw new ApiKeyInputError(
            named
                ? `${label} is a directory, not the file holding the key; save the key from the Qredo Web App in a file and pass that (--api-key-file PATH), or replace the directory with the \`apikey\` file.`
                : `${label} is a directory; pass the \`apikey\` file itself, e.g. --api-key-file ${typed.replace(/\/$/, "")}/apikey.`,
        );
    }
    if (!stat.isFile()) {
        // Checked before opening: reading a FIFO would block until someone writes to it.
        throw new ApiKeyInputError(
            `${label} is not a regular file (a pipe, socket or device); save the key in a plain file and pass that.`,
        );
    }
    if (stat.size === 0) {
        throw new ApiKeyInputError(`${label} is empty; paste the key from the Qredo Web App into it and save.`);
    }
    if (stat.size > maxFileBytes) {
        throw new ApiKeyInputError(
            `${label} is ${stat.size} bytes, far more than an API key (about 106 characters): is it the right file?`,
        );
    }
    const text = decodeText(readFileSync(file), label, typed);
    if (text.trim() === "") {
        // Blank lines only (an editor's save of an empty buffer): as empty as a file of no bytes.
        throw new ApiKeyInputError(`${label} is empty; paste the key from the Qredo Web App into it and save.`);
    }
    return text;
}

/** A path as one PowerShell word: in single quotes, a quote doubled. @param {string} word */
const powerShellWord = (word) => (/^[A-Za-z0-9_./:=+@-]+$/.test(word) ? word : `'${word.replace(/'/g, "''")}'`);

/** A path as one shell word. @param {string} word */
const shellWord = (word) => (/^[A-Za-z0-9_./:=+@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/**
 * UTF-8, or UTF-16 with a byte-order mark (what Windows PowerShell's `>` and
 * Notepad's "Unicode" write): decoded, since the key is plain ASCII either way.
 * @param {Buffer} bytes @param {string} label @param {string} [typed]  the file as the user named it
 */
function decodeText(bytes, label, typed = label) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) {
        return bytes.subarray(2).toString("utf16le");
    }
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
        const swapped = Buffer.from(bytes.subarray(2));
        return swapped.swap16().toString("utf16le");
    }
    if (bytes.includes(0)) {
        throw new ApiKeyInputError(
            `${label} contains NUL bytes: it looks like UTF-16 without a byte-order mark. Convert it to UTF-8 in place: iconv -f UTF-16LE -t UTF-8 ${shellWord(typed)} > ${shellWord(`${typed}.utf8`)} && mv ${shellWord(`${typed}.utf8`)} ${shellWord(typed)} (PowerShell: (Get-Content -Encoding Unicode ${powerShellWord(typed)}) | Set-Content -Encoding utf8 ${powerShellWord(typed)}), or paste the key into a new file in its place.`,
        );
    }
    const text = bytes.toString("utf8");
    return text.startsWith("\ufeff") ? text.slice(1) : text;
}

/**
 * Surrounding whitespace trimmed, and one pair of matching quotes around the
 * key removed (a key copied from JSON or a shell line): a quote can never be
 * part of a Base64 key, so removing it cannot change a valid key.
 * @param {string} text @returns {{ value: string, unquoted: boolean }}
 */
function unquote(text) {
    const trimmed = text.trim();
    const quoted = /^(["'])(.*)\1$/s.exec(trimmed);
    return quoted === null ? { value: trimmed, unquoted: false } : { value: quoted[2].trim(), unquoted: true };
}

/**
 * The value as the API-key scan reads it: percent-escapes and JSON escapes
 * undone, and whitespace, invisible characters (control and format characters,
 * such as a soft hyphen, and combining marks), line continuations and the
 * `","` between list entries removed, so a key split over lines, URL-encoded
 * or escaped reads as one run.
 * Kept in step with holdsApiKey in src/configParsers.ts (a test holds them together).
 * @param {string} value
 */
function scanText(value) {
    return value
        .replace(/%([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\\u([0-9A-Fa-f]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
        .replace(/\\\r?\n|\\[nrt]|\\(?=\/)/g, "")
        .replace(/["']\s*,\s*["']/g, "")
        .replace(/[\s\p{Cc}\p{Cf}\p{Mn}]+/gu, "");
}

/** The printable text a decoded window starts with. */
const printablePrefix = /^[\x20-\x7e\t\n\r]*/;

/**
 * Whether an API key sits anywhere in a value, so that it is neither echoed
 * nor passed on: alone, quoted, glued to other text ("x-KEY", a path,
 * "name=KEY"), in a URL, split over lines or escaped, whole or with its start
 * cut off: at some position of a Base64 run the decoded bytes are printable
 * text holding `":` (a JSON member); every position is tried.
 * @param {string} value
 */
function looksLikeApiKey(value) {
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
            if (text.length >= 9 && text.includes('":')) {
                return true;
            }
        }
    }
    return false;
}

module.exports = { ApiKeyInputError, decodeText, looksLikeApiKey, maxFileBytes, readApiKeyFile, unquote };
