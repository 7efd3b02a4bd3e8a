// @ts-check
// Throwaway copies of the project, for tests that edit sources, install
// dependencies or deploy. node_modules is a real folder of links into this
// checkout's, so a copy can be "installed" without the network.
"use strict";
const { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const path = require("node:path");

const projectDir = path.resolve(__dirname, "..", "..");
const projectFiles = [
    "Pulumi.yaml",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "index.ts",
    "src",
    "client",
    "scripts",
];

/**
 * The stack files of a fresh clone, their settings without the comments. A copy gets these, not the
 * project's own stacks/: once a stack is deployed, its file holds that deployment's encrypted API key
 * and salt (or secrets provider) and its rotation settings, committed as the docs say, and every test
 * stack would then look deployed with another backend.
 */
const freshStackFiles = {
    "Pulumi.sandbox.yaml": "config:\n  aws:region: eu-west-2\n  qredo-partner-keys:environment: sandbox\n",
    "Pulumi.production.yaml": "config:\n  aws:region: eu-west-2\n  qredo-partner-keys:environment: production\n",
};

/**
 * @param {{ dependencies: boolean, build?: boolean, from?: string }} options  `from`: the project to copy (this one by default)
 * @returns {string} the copy's folder
 */
function copyProject(options) {
    const from = options.from ?? projectDir;
    const dir = mkdtempSync(path.join(tmpdir(), "qredo-keys-project-"));
    for (const entry of projectFiles) {
        cpSync(path.join(from, entry), path.join(dir, entry), { recursive: true });
    }
    mkdirSync(path.join(dir, "stacks"));
    for (const [name, text] of Object.entries(freshStackFiles)) {
        writeFileSync(path.join(dir, "stacks", name), text);
    }
    if (options.build && existsSync(path.join(from, "bin"))) {
        cpSync(path.join(from, "bin"), path.join(dir, "bin"), { recursive: true });
    }
    if (options.dependencies) {
        linkDependencies(dir);
    }
    return dir;
}

/**
 * What `npm ci` leaves behind, as far as the scripts can tell: the packages,
 * and npm's hidden lockfile newer than the manifests.
 * @param {string} dir
 */
function linkDependencies(dir) {
    const source = path.join(projectDir, "node_modules");
    const target = path.join(dir, "node_modules");
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(source)) {
        if (entry === ".package-lock.json") {
            cpSync(path.join(source, entry), path.join(target, entry));
        } else if (!existsSync(path.join(target, entry))) {
            symlinkSync(path.join(source, entry), path.join(target, entry));
        }
    }
    const later = new Date(Date.now() + 1000);
    utimesSync(path.join(target, ".package-lock.json"), later, later);
}

/**
 * Replaces a copy's node_modules/@typescript (a link into this checkout's) with a folder of stand-ins for
 * TypeScript 7: @typescript/native at 7.0.0 (unless `native` is false) and, when `binary` is given, the
 * platform package at `binaryVersion` (7.0.0 by default) whose executable lib/tsc is `binary`.
 * @param {string} dir  the copy
 * @param {{ native?: boolean, binary?: string, binaryVersion?: string }} options
 * @returns {string} the executable's path (written only when `binary` is given)
 */
function standInTypeScript7(dir, options) {
    const scope = path.join(dir, "node_modules", "@typescript");
    rmSync(scope);
    mkdirSync(scope);
    if (options.native !== false) {
        mkdirSync(path.join(scope, "native"));
        writeFileSync(path.join(scope, "native", "package.json"), JSON.stringify({ name: "typescript", version: "7.0.0" }));
    }
    const platformPackage = `typescript-${process.platform}-${process.arch}`;
    const executable = path.join(scope, platformPackage, "lib", "tsc");
    if (options.binary !== undefined) {
        mkdirSync(path.dirname(executable), { recursive: true });
        writeFileSync(
            path.join(scope, platformPackage, "package.json"),
            JSON.stringify({ name: `@typescript/${platformPackage}`, version: options.binaryVersion ?? "7.0.0" }),
        );
        writeFileSync(executable, options.binary, { mode: 0o755 });
    }
    return executable;
}

module.exports = { copyProject, linkDependencies, projectDir, projectFiles, standInTypeScript7 };
