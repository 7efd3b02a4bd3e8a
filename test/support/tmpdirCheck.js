// @ts-check
// The one thing about TMPDIR that stops a test run: npm test checks it before
// starting anything (test/support/check-and-test.js), and the suite's own
// setup again (suiteTmpdir.ts), for a run started with vitest directly.
"use strict";
const { accessSync, constants, statSync } = require("node:fs");

/**
 * Why the tests cannot use TMPDIR, or undefined when it is unset or a folder they can write to.
 * @param {NodeJS.ProcessEnv} env @returns {string | undefined}
 */
function tmpdirProblem(env) {
    if (!env.TMPDIR) {
        return undefined;
    }
    try {
        if (!statSync(env.TMPDIR).isDirectory()) {
            throw new Error("not a folder");
        }
        accessSync(env.TMPDIR, constants.W_OK | constants.X_OK);
        return undefined;
    } catch {
        return `TMPDIR is ${env.TMPDIR}, which is not a folder the tests can write to: create it, or unset TMPDIR.`;
    }
}

module.exports = { tmpdirProblem };
