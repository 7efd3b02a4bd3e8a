// @ts-check
// Throwaway copies of the project, for tests that edit sources, install
// dependencies or deploy. node_modules is a real folder of links into this
// checkout's, so a copy can be "installed" without the network.
"use strict";
const { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } = require("node:fs");
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

module.exports = { copyProject, linkDependencies, projectDir, projectFiles };
