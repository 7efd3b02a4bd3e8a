// @ts-check
// Remembers that the type check and the lint passed, and for which inputs, so
// that `npm test` run again with nothing changed skips them (they are a fifth
// of its CPU time). The record is kept only for a pass, and it holds:
//
// - every source, declaration and config file of the project (.ts, .js,
//   .mjs, .json, …) outside the folders nobody edits by hand (node_modules,
//   .git, bin, client/dist, coverage, the local Pulumi state), with a hash of
//   its content: an edit, a new file or a deleted one invalidates it
//   (tsconfig.json, the ESLint config, the lock file included);
// - every other file the type check read (the declarations in node_modules, the
//   TypeScript libs), with its size and modification time;
// - npm's record of the installed packages (node_modules/.package-lock.json,
//   rewritten by every install), and the Node.js version.
//
// A fresh clone (CI) has no record and runs both checks. To force them:
// delete node_modules/.cache/qredo-partner-keys/.
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } = require("node:fs");
const path = require("node:path");

/**
 * Folders of installed or generated files, git's, and the local Pulumi state
 * (relative, "/"-separated). Neither tsconfig.json's globs nor ESLint reach
 * into them; a file in them that the type check does read is followed by its
 * size and time instead.
 */
const skippedDirs = new Set([".git", "bin", "client/dist", "coverage", ".pulumi", ".pulumi-state"]);

/**
 * What the type check and ESLint can read: sources, declarations, configs.
 * Other files (public-*.pem, a packed .tgz, the Markdown docs) cannot change
 * their result, so they do not count as a change.
 */
const checkedFile = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx|json)$/;

/** @param {string} relative  "/"-separated */
function skipped(relative) {
    return skippedDirs.has(relative) || relative.split("/").includes("node_modules");
}

/**
 * A digest of the project's own files (paths and contents), npm's install
 * record and the Node.js version.
 * @param {string} projectDir
 * @returns {string}
 */
function projectDigest(projectDir) {
    const hash = createHash("sha256").update(`node ${process.version}\0`);
    /** @param {string} relative */
    const walk = (relative) => {
        const entries = readdirSync(path.join(projectDir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
        for (const entry of entries) {
            const file = path.posix.join(relative, entry.name);
            if (entry.isDirectory()) {
                if (!skipped(file)) {
                    walk(file);
                }
            } else if (checkedFile.test(entry.name)) {
                // Symbolic links and other entries are hashed by what they are, files by content.
                hash.update(`${file}\0`).update(
                    entry.isFile() ? readFileSync(path.join(projectDir, file)) : `(${entry.isSymbolicLink() ? "link" : "other"})`,
                );
                hash.update("\0");
            }
        }
    };
    walk(".");
    hash.update("installed\0").update(readOrEmpty(path.join(projectDir, "node_modules", ".package-lock.json")));
    return hash.digest("hex");
}

/** @param {string} file */
function readOrEmpty(file) {
    try {
        return readFileSync(file);
    } catch {
        return "";
    }
}

/** @param {string} file  @returns {string} size and modification time, or "missing" */
function stamp(file) {
    try {
        const stat = statSync(file);
        return `${stat.size}:${stat.mtimeMs}`;
    } catch {
        return "missing";
    }
}

/**
 * @typedef {{ digest: string, external: Record<string, string> }} PassRecord
 * @param {string} projectDir
 * @param {string} cacheFile
 * @returns {{ passed: boolean, digest: string }}  whether the last pass was for exactly these inputs;
 *   `digest` is what to record if this run passes (taken now, before the checks read anything)
 */
function lastPass(projectDir, cacheFile) {
    const digest = projectDigest(projectDir);
    /** @type {PassRecord | undefined} */
    let record;
    try {
        record = JSON.parse(readFileSync(cacheFile, "utf8"));
    } catch {
        return { passed: false, digest };
    }
    const passed =
        record !== undefined &&
        record.digest === digest &&
        typeof record.external === "object" &&
        Object.entries(record.external).every(([file, was]) => stamp(file) === was);
    return { passed, digest };
}

/**
 * Records a pass of both checks.
 * @param {string} projectDir
 * @param {string} cacheFile
 * @param {string} digest  from lastPass(), taken before the checks ran
 * @param {readonly string[]} filesRead  every file the checks read (the type check's source files)
 */
function recordPass(projectDir, cacheFile, digest, filesRead) {
    /** @type {PassRecord["external"]} */
    const external = {};
    for (const file of filesRead) {
        const absolute = path.resolve(projectDir, file);
        const relative = path.relative(projectDir, absolute);
        const parts = relative.split(path.sep);
        const inProject =
            parts[0] !== ".." && !path.isAbsolute(relative) && !parts.some((_, i) => skipped(parts.slice(0, i + 1).join("/")));
        if (!inProject) {
            external[absolute] = stamp(absolute);
        }
    }
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const temporary = `${cacheFile}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify({ digest, external }));
    renameSync(temporary, cacheFile);
}

module.exports = { lastPass, projectDigest, recordPass };
