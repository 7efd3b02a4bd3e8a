// @ts-check
// Throwaway copies of the project, for tests that edit sources, install
// dependencies or deploy. node_modules is a real folder of links into this
// checkout's, so a copy can be "installed" without the network.
"use strict";
const { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync } = require("node:fs");
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
    "stacks",
];

/** @param {{ dependencies: boolean, build?: boolean }} options @returns {string} the copy's folder */
function copyProject(options) {
    const dir = mkdtempSync(path.join(tmpdir(), "qredo-keys-project-"));
    for (const entry of projectFiles) {
        cpSync(path.join(projectDir, entry), path.join(dir, entry), { recursive: true });
    }
    if (options.build && existsSync(path.join(projectDir, "bin"))) {
        cpSync(path.join(projectDir, "bin"), path.join(dir, "bin"), { recursive: true });
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

module.exports = { copyProject, linkDependencies, projectDir };
