#!/usr/bin/env node
// @ts-check
// A stand-in `pulumi` executable for testing the scripts, a process per call:
// fakePulumiCalls.js says what each call does. The calls that only a process
// of its own can answer are answered here: `up` with FAKE_PULUMI_UP_WAIT_SIGNAL=1
// (waits for SIGINT or SIGTERM and records it, its pid in up.pid) and the
// command named by FAKE_PULUMI_HANG (never answers). Both are bounded at 20 s.
"use strict";
const { appendFileSync, readFileSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { isatty } = require("node:tty");
const { answer, readsStdin } = require("./fakePulumiCalls.js");

const args = process.argv.slice(2);
// isatty, not process.stdin.isTTY: that makes a piped stdin non-blocking, and a read before the writer is done fails (EAGAIN).
const stdin = readsStdin(args) && !isatty(0) ? readFileSync(0, "utf8") : "";
const result = answer({ args, env: process.env, stdin, cwd: process.cwd() });

if (result.waits === "signal") {
    const dir = /** @type {string} */ (process.env.FAKE_PULUMI_DIR);
    writeFileSync(path.join(dir, "up.pid"), String(process.pid));
    const stop = (/** @type {string} */ signal) => {
        appendFileSync(path.join(dir, "signals.jsonl"), `${JSON.stringify({ signal })}\n`);
        process.exit(255);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    process.stdout.write(result.stdout);
    setTimeout(() => process.exit(98), 20_000); // bounded: a test that never signals still ends
} else if (result.waits === "forever") {
    setTimeout(() => process.exit(97), 20_000);
} else {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.code;
}
