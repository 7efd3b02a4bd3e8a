// @ts-check
// The public key file to upload: checked against the stack's fingerprint and
// written atomically, so a failed write (a full disk) never leaves a truncated
// or empty file where the previous good one was.
"use strict";
const { createHash, createPublicKey, randomBytes } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/**
 * The default file name: public-<environment>.pem for a stack named like its
 * environment, else public-<stack>-<environment>.pem, so that no two stacks
 * (sandbox and a "local" sandbox stack, say) overwrite each other's file.
 * @param {string} stack @param {string} environment
 */
const defaultPublicKeyFile = (stack, environment) =>
    stack === environment ? `public-${environment}.pem` : `public-${stack}-${environment}.pem`;

/**
 * The PEM and its SHA-256 fingerprint, or a reason not to write it.
 * @param {Record<string, unknown>} outputs
 * @returns {{ ok: true, pem: string, fingerprint: string } | { ok: false, problem: string }}
 */
function checkedPublicKey(outputs) {
    const pem = outputs.publicKeyPem;
    if (typeof pem !== "string" || !pem.includes("-----BEGIN PUBLIC KEY-----")) {
        return { ok: false, problem: "has no publicKeyPem output; did `pulumi up` finish?" };
    }
    const der = createPublicKey(pem).export({ type: "spki", format: "der" });
    const fingerprint = createHash("sha256").update(der).digest("hex");
    if (fingerprint !== outputs.publicKeyFingerprintSha256) {
        return {
            ok: false,
            problem: "has a publicKeyPem output that does not match its publicKeyFingerprintSha256 output; not writing it",
        };
    }
    return { ok: true, pem: pem.endsWith("\n") ? pem : `${pem}\n`, fingerprint };
}

/**
 * Writes `text` to `file` through a temporary file in the same folder and a
 * rename, which replaces the old file in one step.
 * @param {string} file @param {string} text
 */
function writeAtomically(file, text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fd = fs.openSync(temp, "wx", 0o644);
    try {
        try {
            fs.writeSync(fd, text);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(temp, file);
    } catch (error) {
        fs.rmSync(temp, { force: true });
        throw error;
    }
}

/**
 * Why `file` cannot be the output, or undefined. Checked before anything changes.
 * @param {string} file @param {string} label  as the user gave it, or the default's name
 * @param {boolean} given  whether --public-key-out named it (else it is the default file)
 */
function outputProblem(file, label, given) {
    let stat;
    try {
        stat = fs.statSync(file);
    } catch {
        return undefined;
    }
    const what = given ? `--public-key-out ${label}` : `${label} (the default public key file)`;
    const elsewhere = given ? "name another path" : "name another with --public-key-out PATH";
    if (stat.isDirectory()) {
        return `${what} is a directory; ${given ? `name a file, e.g. ${path.join(label, "public.pem")}` : elsewhere}.`;
    }
    if (!stat.isFile()) {
        return `${what} exists and is not a regular file; ${elsewhere}.`;
    }
    // Only a public key file is replaced: never an API key, a private key (alone or in a bundle
    // with its public key) or any other file of the user's. A public key file is small.
    // The same rule as verify's (src/verify.ts, onlyPublicKey): Base64 lines, spaces only at their ends.
    const onlyPublicKey = /^\s*-----BEGIN PUBLIC KEY-----[ \t]*\r?\n(?:[A-Za-z0-9+/=]+[ \t]*\r?\n)+-----END PUBLIC KEY-----\s*$/;
    return stat.size === 0 || (stat.size < 16 * 1024 && onlyPublicKey.test(fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "")))
        ? undefined
        : `${what} exists and is not a public key file (one PUBLIC KEY block and nothing else); it is not overwritten. Remove it or ${elsewhere}.`;
}

module.exports = { checkedPublicKey, defaultPublicKeyFile, outputProblem, writeAtomically };
