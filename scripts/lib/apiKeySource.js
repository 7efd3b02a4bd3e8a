// @ts-check
// Which API key a deploy stores, if any. A stored key is never replaced
// silently, and ./apikey never travels to a second stack: it is picked up
// only for a stack that has no key yet, and removed once stored.
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");
const { CliError, projectDir, userPath } = require("./cli.js");
const { ApiKeyInputError, looksLikeApiKey, readApiKeyFile, unquote } = require("./apiKeyInput.js");
const { exit } = require("./deployOptions.js");

/** @typedef {{ text: string, source: string, localFile?: string }} RawKey */

/**
 * The key the user gave explicitly (--api-key-file, else QREDO_API_KEY), read
 * and decoded but not yet checked; undefined when none was given.
 * @param {string | undefined} apiKeyFile @returns {RawKey | undefined}
 */
function explicitKey(apiKeyFile) {
    try {
        if (apiKeyFile !== undefined) {
            const file = userPath(apiKeyFile);
            const text = readApiKeyFile(file, `--api-key-file ${apiKeyFile}`, apiKeyFile);
            // ./apikey given by name is still ./apikey: removed once stored, like the one picked up.
            return { text, source: apiKeyFile, ...(isLocalKeyFile(file) ? { localFile: file } : {}) };
        }
    } catch (error) {
        throw error instanceof ApiKeyInputError ? new CliError(error.message, exit.usage) : error;
    }
    const env = process.env.QREDO_API_KEY;
    return env !== undefined && env !== "" ? { text: env, source: "$QREDO_API_KEY" } : undefined;
}

/**
 * False when the value given for --api-key-file is no file and looks like the
 * key itself (pasted in place of the path): it must then never be echoed, not
 * even in "no such file". Base64 has "/" in its alphabet, so only a long run
 * with one counts; a real key is about 106 characters.
 * @param {string} value
 */
function keyGivenAsPath(value) {
    if (existsSync(userPath(value))) {
        return true;
    }
    return !looksLikeApiKey(value);
}

/**
 * Whether `file` names ./apikey where the user ran npm (`apikey`, `./apikey`, its
 * absolute path). By name only: a file that ./apikey links to is the user's own.
 * @param {string} file
 */
function isLocalKeyFile(file) {
    // The project folder's apikey too: named from a subfolder, it must not stay for the next new stack.
    return file === userPath("apikey") || file === path.join(projectDir, "apikey");
}

/** ./apikey where the user ran npm, read and decoded, or undefined when there is none. @returns {RawKey | undefined} */
function localKey() {
    const file = userPath("apikey");
    if (!existsSync(file)) {
        return undefined;
    }
    try {
        return { text: readApiKeyFile(file, "./apikey"), source: "./apikey", localFile: file };
    } catch (error) {
        throw error instanceof ApiKeyInputError ? new CliError(error.message, exit.usage) : error;
    }
}

/**
 * The trimmed, unquoted, validated key. Never echoes it.
 * @param {RawKey} raw @param {(m: string) => void} say @returns {string}
 */
function validKey(raw, say) {
    /** @type {typeof import("@qredo-partner-keys/client")} */
    const { checkApiKey } = require("@qredo-partner-keys/client");
    const { value, unquoted } = unquote(raw.text);
    const checked = checkApiKey(value);
    if (!checked.ok) {
        throw new CliError(`the API key from ${raw.source} ${checked.problem}.`, exit.usage);
    }
    if (unquoted) {
        say(`removed the quotes around the API key from ${raw.source}`);
    }
    return checked.value;
}

module.exports = { explicitKey, keyGivenAsPath, localKey, validKey };
