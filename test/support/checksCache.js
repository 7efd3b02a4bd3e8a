// @ts-check
// Remembers that the type check and the lint passed, and for which inputs, so
// that `npm test` run again with nothing changed skips them (they are a fifth
// of its CPU time). The record is kept only for a pass, and it holds:
//
// - every source, declaration and config file of the project (.ts, .js,
//   .mjs, .json, …) outside the folders nobody edits by hand (node_modules,
//   .git, bin, client/dist, coverage, the local Pulumi state), with a hash of
//   its content, through symbolic links: an edit, a new file or a deleted one
//   invalidates it (tsconfig.json, the ESLint config, the lock file included);
//   and the project's own path, so a copy of the project checks again;
// - every other file the checks read (the declarations in node_modules, the
//   TypeScript libs) or ran with require (TypeScript, ESLint, its plugins),
//   with its size and modification and change times;
// - npm's record of the installed packages (node_modules/.package-lock.json,
//   rewritten by every install), and the Node.js version.
//
// A pass is recorded only if no project file was touched while the checks ran.
// Not seen: a hand edit inside node_modules to a module loaded with import()
// or to a package.json. A fresh clone (CI) has no record and runs both
// checks. To force them: delete node_modules/.cache/qredo-partner-keys/.
"use strict";
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync, writeFileSync } = require("node:fs");
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
 * The project's own checkable files (through symbolic links), where the
 * project is, npm's install record and the Node.js version, as two digests:
 * `digest` of the paths and contents (what a record is for), and `stamps` of
 * the paths, sizes and change times (to tell whether a file was touched while
 * the checks ran, even if its content went back to what it was).
 * @param {string} projectDir
 * @returns {{ digest: string, stamps: string }}
 */
function projectState(projectDir) {
    const contents = createHash("sha256").update(`node ${process.version}\0project ${path.resolve(projectDir)}\0`);
    const stamps = createHash("sha256");
    /** @param {string} text */
    const both = (text) => {
        contents.update(text);
        stamps.update(text);
    };
    /**
     * @param {string} relative  "/"-separated
     * @param {ReadonlySet<string>} ancestors  real paths of the folders above: a link back up is not followed again
     */
    const walk = (relative, ancestors) => {
        const entries = readdirSync(path.join(projectDir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
        for (const entry of entries) {
            const file = path.posix.join(relative, entry.name);
            const full = path.join(projectDir, file);
            let isDirectory = entry.isDirectory();
            let isFile = entry.isFile();
            if (entry.isSymbolicLink()) {
                // Where it points, and then what it points at, as if it were there.
                both(`${file}\0link\0${readlinkSync(full)}\0`);
                try {
                    const target = statSync(full);
                    isDirectory = target.isDirectory();
                    isFile = target.isFile();
                } catch {
                    continue; // a dangling link: its text is all there is
                }
            }
            if (isDirectory) {
                const real = realpathSync(full);
                if (!skipped(file) && !ancestors.has(real)) {
                    walk(file, new Set([...ancestors, real]));
                }
            } else if (checkedFile.test(entry.name)) {
                // A path has no NUL and a content hash a fixed length: no two file sets read the same.
                both(`${file}\0`);
                contents.update(`${isFile ? createHash("sha256").update(readFileSync(full)).digest("hex") : "(not a file)"}\0`);
                stamps.update(`${stamp(full)}\0`);
            }
        }
    };
    walk(".", new Set([realpathSync(projectDir)]));
    const installed = path.join(projectDir, "node_modules", ".package-lock.json");
    contents.update(`installed\0${createHash("sha256").update(readOrEmpty(installed)).digest("hex")}`);
    stamps.update(`installed\0${stamp(installed)}`);
    return { digest: contents.digest("hex"), stamps: stamps.digest("hex") };
}

/** @param {string} file */
function readOrEmpty(file) {
    try {
        return readFileSync(file);
    } catch {
        return "";
    }
}

/** @param {string} file  @returns {string} size, modification and change times, or "missing" */
function stamp(file) {
    try {
        const stat = statSync(file, { bigint: true });
        return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    } catch {
        return "missing";
    }
}

/** @param {unknown} value @returns {value is { digest: string, external: Record<string, string> }} */
function isRecord(value) {
    if (typeof value !== "object" || value === null || !("digest" in value) || !("external" in value)) {
        return false;
    }
    const { digest, external } = value;
    return (
        typeof digest === "string" &&
        typeof external === "object" &&
        external !== null &&
        !Array.isArray(external) &&
        Object.keys(external).length > 0 &&
        Object.values(external).every((v) => typeof v === "string")
    );
}

/**
 * @typedef {{ digest: string, stamps: string }} ProjectState
 * @param {string} projectDir
 * @param {string} cacheFile
 * @returns {{ passed: boolean, state: ProjectState }}  whether the last pass was for exactly these inputs;
 *   `state` is what recordPass needs if this run passes (taken now, before the checks read anything)
 */
function lastPass(projectDir, cacheFile) {
    const state = projectState(projectDir);
    /** @type {unknown} */
    let record;
    try {
        record = JSON.parse(readFileSync(cacheFile, "utf8"));
    } catch {
        return { passed: false, state };
    }
    // Anything else than a record this module wrote counts as no record (and is replaced by the next pass).
    const passed =
        isRecord(record) && record.digest === state.digest && Object.entries(record.external).every(([file, was]) => stamp(file) === was);
    return { passed, state };
}

/**
 * Records a pass of both checks, if no file of the project was touched since
 * they started: a file edited meanwhile (even edited back) may have been read
 * in either state, so the pass is not recorded and the next run checks again.
 * @param {string} projectDir
 * @param {string} cacheFile
 * @param {ProjectState} before  from lastPass(), taken before the checks ran
 * @param {readonly string[]} filesRead  every other file the checks read: the type check's
 *   source files and the modules the checking process loaded (TypeScript, ESLint and its plugins)
 * @returns {boolean} whether it was recorded
 */
function recordPass(projectDir, cacheFile, before, filesRead) {
    const after = projectState(projectDir);
    if (after.digest !== before.digest || after.stamps !== before.stamps) {
        return false;
    }
    /** @type {Record<string, string>} */
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
    writeFileSync(temporary, JSON.stringify({ digest: before.digest, external }));
    renameSync(temporary, cacheFile);
    return true;
}

/**
 * @typedef {{ code: number, output: string }} CheckResult
 * Runs the checks unless they passed for these same inputs; records a pass
 * of all of them. Failures are never recorded: they are shown every time.
 * @param {string} projectDir
 * @param {string} cacheFile
 * @param {() => Promise<{ results: CheckResult[], filesRead: readonly string[] }>} runChecks  never throws
 * @returns {Promise<{ results: CheckResult[] | undefined, skipped: boolean }>}  results undefined when skipped
 */
async function checkUnlessPassed(projectDir, cacheFile, runChecks) {
    /** @type {{ passed: boolean, state: ProjectState | undefined }} */
    let before;
    try {
        before = lastPass(projectDir, cacheFile);
    } catch {
        before = { passed: false, state: undefined }; // e.g. a file deleted during the walk: check, do not record
    }
    if (before.passed) {
        return { results: undefined, skipped: true };
    }
    const { results, filesRead } = await runChecks();
    if (before.state !== undefined && results.every((r) => r.code === 0)) {
        try {
            recordPass(projectDir, cacheFile, before.state, filesRead);
        } catch {
            // Not recorded: the next run checks again.
        }
    }
    return { results, skipped: false };
}

module.exports = { checkUnlessPassed, lastPass, projectState, recordPass };
