#!/usr/bin/env node
// @ts-check
// Usage (in a deploy job, after deploy and verify):
//   VERIFY_OUTCOME=<steps.verify.outcome> node .github/scripts/job-summary.js STACK >> "$GITHUB_STEP_SUMMARY"
//
// Tells the person who merged what the deploy left them to do: the key's
// fingerprint (to compare with the Qredo Web App), its stage, and the next
// step (upload, promote, or nothing). It reads only the stack outputs, none
// of which is secret, and prints only values whose shape it has checked, so
// nothing else can reach the summary.
"use strict";
const { spawnSync } = require("node:child_process");

/** @typedef {"upload" | "promote" | "nothing" | "check"} Action */

/** @param {unknown} value @param {RegExp} shape */
const checked = (value, shape) =>
    (typeof value === "string" || typeof value === "number") && shape.test(String(value)) ? String(value) : undefined;

/**
 * What to do after this deploy. `verifyOutcome` is the outcome of
 * `npm run verify -- STACK --live`, which succeeds exactly when Qredo accepts
 * the key signers use now (AWSCURRENT).
 * @param {string | undefined} keyStage @param {string} verifyOutcome @param {string} stackFile @param {string} pemFile
 * @returns {{ action: Action, detail: string }}
 */
function nextStep(keyStage, verifyOutcome, stackFile, pemFile) {
    if (verifyOutcome !== "success" && verifyOutcome !== "failure") {
        return {
            action: "check",
            detail: `\`verify --live\` did not run (${verifyOutcome}), so this job cannot tell whether Qredo accepts the key: run it by hand.`,
        };
    }
    if (keyStage === "pending") {
        return verifyOutcome === "success"
            ? {
                  action: "upload",
                  detail: `A new key is staged; signers still use the current one, which Qredo accepts. Upload \`${pemFile}\` in the Qredo Web App, then promote: a pull request setting \`qredo-partner-keys:keyStage: current\` in \`${stackFile}\`.`,
              }
            : {
                  action: "check",
                  detail: "Qredo does not accept the current key. If the staged key is already uploaded, promote now (the log of the verify step says so); otherwise follow the verify step's message.",
              };
    }
    if (keyStage === "current") {
        return verifyOutcome === "success"
            ? { action: "nothing", detail: "Qredo accepts the key signers use." }
            : {
                  action: "upload",
                  detail: `Qredo rejects the key signers use (an immediate rotation, or a key never uploaded): upload \`${pemFile}\` in the Qredo Web App now. Signed requests fail until then.`,
              };
    }
    return { action: "check", detail: "The stack has no valid keyStage output: read the deploy log." };
}

/**
 * The job summary (Markdown) for one deployed stack.
 * @param {string} stack @param {Record<string, unknown>} outputs @param {string} verifyOutcome
 */
function renderSummary(stack, outputs, verifyOutcome) {
    const environment = checked(outputs.environment, /^(sandbox|production)$/) ?? stack;
    const keyStage = checked(outputs.keyStage, /^(current|pending)$/);
    const pemFile = `public-${environment}.pem`;
    const next = nextStep(keyStage, verifyOutcome, `stacks/Pulumi.${stack}.yaml`, pemFile);
    const cell = (/** @type {string | undefined} */ value) => (value === undefined ? "(missing)" : `\`${value}\``);
    return [
        `### ${environment}: stack \`${stack}\``,
        "",
        "| | |",
        "|---|---|",
        `| key version | ${cell(checked(outputs.keyVersion, /^[1-9][0-9]{0,8}$/))} |`,
        `| key stage | ${cell(keyStage)} |`,
        `| public key SHA-256 fingerprint | ${cell(checked(outputs.publicKeyFingerprintSha256, /^[0-9a-f]{64}$/))} |`,
        `| public key file | artifact \`public-key-${environment}\` → \`${pemFile}\` |`,
        `| Qredo accepts the current key (\`verify --live\`) | ${verifyOutcome === "success" ? "yes" : verifyOutcome === "failure" ? "**no**" : verifyOutcome} |`,
        "",
        `**Next step: ${next.action}.** ${next.detail}`,
        "",
    ].join("\n");
}

/** @param {string} stack @returns {Record<string, unknown>} */
function readOutputs(stack) {
    const result = spawnSync("npm", ["run", "--silent", "pulumi", "--", "stack", "output", "--stack", stack, "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 120_000,
    });
    if (result.status !== 0) {
        throw new Error(
            `could not read the outputs of stack ${stack} (npm run pulumi -- stack output exited ${result.status ?? result.signal})`,
        );
    }
    return JSON.parse(result.stdout);
}

if (require.main === module) {
    const stack = process.argv[2];
    if (stack === undefined) {
        process.stderr.write("usage: VERIFY_OUTCOME=<outcome> node .github/scripts/job-summary.js STACK\n");
        process.exit(2);
    }
    try {
        process.stdout.write(renderSummary(stack, readOutputs(stack), process.env.VERIFY_OUTCOME ?? "skipped"));
    } catch (error) {
        process.stderr.write(`job-summary: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    }
}

module.exports = { nextStep, renderSummary };
