#!/usr/bin/env node
// @ts-check
// A stand-in `npm` for testing scripts/deploy.js: records its arguments and
// the names of the environment variables it was given and, for `npm ci`,
// "installs" by linking this checkout's packages (in place of any node_modules, as npm ci does). With FAKE_NPM_CI_WAIT_SIGNAL=1,
// `npm ci` instead waits for SIGINT or SIGTERM (its pid and its parent's in
// ci.json), then takes a second to clean up, as npm does, and records that it
// stopped (ci-stopped.json). With FAKE_NPM_CI_SLOW=1 it "installs" once the
// test says so (the file ci-go appears; at most 20 s), recording any signal it
// gets meanwhile (ci-signals.jsonl): a signal the test sends first always lands
// while npm runs, however loaded the machine.
"use strict";
const { appendFileSync, existsSync, rmSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { linkDependencies } = require("./project.js");

const dir = /** @type {string} */ (process.env.FAKE_PULUMI_DIR);
const args = process.argv.slice(2);
const envNames = Object.keys(process.env).sort();
appendFileSync(path.join(dir, "npm.jsonl"), `${JSON.stringify({ args, cwd: process.cwd(), envNames })}\n`);
if (args[0] === "ci" && process.env.FAKE_NPM_CI_WAIT_SIGNAL) {
    const stop = (/** @type {string} */ signal) =>
        setTimeout(() => {
            writeFileSync(path.join(dir, "ci-stopped.json"), JSON.stringify({ signal }));
            process.exit(130);
        }, 1000);
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    writeFileSync(path.join(dir, "ci.json"), JSON.stringify({ pid: process.pid, ppid: process.ppid }));
    process.stderr.write("fake npm ci: waiting for a signal\n");
    setTimeout(() => process.exit(98), 20_000); // bounded: a test that never signals still ends
} else if (args[0] === "ci" && process.env.FAKE_NPM_CI_SLOW) {
    for (const signal of ["SIGINT", "SIGTERM"]) {
        process.on(signal, () => appendFileSync(path.join(dir, "ci-signals.jsonl"), `${JSON.stringify({ signal })}\n`));
    }
    writeFileSync(path.join(dir, "ci.json"), JSON.stringify({ pid: process.pid, ppid: process.ppid }));
    const started = Date.now();
    const wait = setInterval(() => {
        if (existsSync(path.join(dir, "ci-go")) || Date.now() - started > 20_000) {
            clearInterval(wait);
            linkDependencies(process.cwd());
        }
    }, 50);
} else if (args[0] === "ci") {
    rmSync(path.join(process.cwd(), "node_modules"), { recursive: true, force: true }); // as npm ci does
    linkDependencies(process.cwd());
}
