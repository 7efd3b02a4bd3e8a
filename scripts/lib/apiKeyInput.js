// @ts-check
// Reading an API key from a file or the environment, safely: never blocking on
// a pipe, never loading a huge file, decoding what Windows editors write, and
// never putting the value in a message.
"use strict";
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
        throw new ApiKeyInputError(
            `${label} is a directory; pass the \`apikey\` file itself, e.g. --api-key-file ${typed.replace(/\/$/, "")}/apikey.`,
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
    return decodeText(readFileSync(file), label);
}

/**
 * UTF-8, or UTF-16 with a byte-order mark (what Windows PowerShell's `>` and
 * Notepad's "Unicode" write): decoded, since the key is plain ASCII either way.
 * @param {Buffer} bytes @param {string} label
 */
function decodeText(bytes, label) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) {
        return bytes.subarray(2).toString("utf16le");
    }
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
        const swapped = Buffer.from(bytes.subarray(2));
        return swapped.swap16().toString("utf16le");
    }
    if (bytes.includes(0)) {
        throw new ApiKeyInputError(
            `${label} contains NUL bytes: it looks like UTF-16 without a byte-order mark. Re-save it as UTF-8 (PowerShell: Get-Content apikey | Set-Content -Encoding utf8 apikey.txt; then use apikey.txt), or paste the key into a new file.`,
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
 * Whether a command-line value (a path, a stack name, an option's value)
 * holds an API key pasted in its place. Such a value must never be echoed,
 * nor passed to a child process. A Qredo API key is Base64 of a JSON object,
 * so it begins "eyJ" ('{"') in both alphabets: any Base64 run in the value
 * whose decoding starts with "{" counts, wherever it sits (quoted, wrapped,
 * after "apiKey: ", cut short). Needs no build, and names that merely are long
 * (a stack name, a runner's path) do not decode to a "{".
 * @param {string} value
 */
function looksLikeApiKey(value) {
    for (const [run] of value.matchAll(/[A-Za-z0-9+/_-]{16,}/g)) {
        // Every position: the key may be glued to other text ("x-KEY", a path, "name=KEY").
        for (let start = 0; run.length - start >= 16; start++) {
            const head = Buffer.from(
                run
                    .slice(start, start + 8)
                    .replaceAll("-", "+")
                    .replaceAll("_", "/"),
                "base64",
            ).toString("latin1");
            if (/^\s*\{\s*"/.test(head)) {
                return true;
            }
        }
    }
    return false;
}

module.exports = { ApiKeyInputError, decodeText, looksLikeApiKey, maxFileBytes, readApiKeyFile, unquote };
