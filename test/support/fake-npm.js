#!/usr/bin/env node
// @ts-check
// A stand-in `npm` for testing scripts/deploy.js: records its arguments and
// the names of the environment variables it was given and, for `npm ci`,
// "installs" by linking this checkout's packages.
"use strict";
const { appendFileSync } = require("node:fs");
const path = require("node:path");
const { linkDependencies } = require("./project.js");

const args = process.argv.slice(2);
const envNames = Object.keys(process.env).sort();
appendFileSync(
    path.join(/** @type {string} */ (process.env.FAKE_PULUMI_DIR), "npm.jsonl"),
    `${JSON.stringify({ args, cwd: process.cwd(), envNames })}\n`,
);
if (args[0] === "ci") {
    linkDependencies(process.cwd());
}
