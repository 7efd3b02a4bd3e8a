// @ts-check
// What `npm run deploy` prints when it has finished: the public key, and the
// exact next steps for the key state the stack is in.
"use strict";

/** Where a key is uploaded; the account type chooses the environment. @param {string} environment */
const webAppSteps = (environment) =>
    `Qredo Web App → your name (top right) → the ${environment} account → Settings → Partner API → Upload Public Key`;

/** @param {string} stack @param {boolean} [shared]  the state is in a shared backend (false: the local .pulumi-state/ try-out) */
const commitReminder = (stack, shared = true) =>
    shared
        ? `Commit and push stacks/Pulumi.${stack}.yaml now (keyVersion/keyStage changed): the pipeline and every other machine must deploy this state, and a deploy from an older copy would try to move the key backwards.`
        : `Keep stacks/Pulumi.${stack}.yaml as it is now (keyVersion/keyStage changed): with the local .pulumi-state/ backend nobody else deploys it, but an older copy would try to move the key backwards.`;

/** The loud warning of an immediate rotation. @param {string} file */
const immediateWarning = (file) =>
    `WARNING: --immediate makes the new key the one signers use as soon as this update applies. Qredo REJECTS every request they sign from then until you upload ${file} in the Qredo Web App. Use it only for a key that must stop working now.`;

/**
 * rotatedFrom: the keyVersion the stack ran before a plain deploy applied a
 * rotation committed to the stack file (the pipeline's way to rotate).
 * apiKeyReplaced: this run deployed a replacement API key (--replace-api-key).
 * @param {{ stack: string, environment: string, step: import("./keyState.js").Step, from: import("./keyState.js").KeyState,
 *   now: import("./keyState.js").KeyState, rotatedFrom?: number, file: string, shownFile: string, fingerprint: string,
 *   apiKeyReplaced?: boolean, sharedState?: boolean }} r  sharedState: false for the local .pulumi-state/ backend
 */
function finishedMessage(r) {
    const lines = [
        `Public key for the Qredo ${r.environment} environment (keyVersion ${r.now.version}, ${r.now.stage}) written to ${r.file}`,
        `  SHA-256 fingerprint: ${r.fingerprint}`,
        `  check it:  openssl pkey -pubin -in ${r.shownFile} -outform DER | sha256sum`,
        "",
    ];
    if (r.step === "rotate") {
        lines.unshift(
            `Staged a new RSA key: keyVersion ${r.from.version} → ${r.now.version}, keyStage pending. Signers keep signing with key ${r.from.version} until you promote.`,
            "",
        );
        lines.push(
            "Next:",
            `  1. ${commitReminder(r.stack, r.sharedState)}`,
            `  2. Upload ${r.shownFile}: ${webAppSteps(r.environment)}. From then on Qredo accepts only the new key; signers built on @qredo-partner-keys/client switch to it by themselves.`,
            `  3. Check that Qredo accepts it: npm run verify -- ${r.stack} --live`,
            `  4. Promote it: npm run deploy -- ${r.stack} --promote`,
        );
    } else if (r.step === "rotate-immediate") {
        lines.unshift(`Rotated immediately: keyVersion ${r.from.version} → ${r.now.version} is the key signers use NOW.`, "");
        lines.push(
            `Upload ${r.shownFile} NOW: ${webAppSteps(r.environment)}. Until you do, Qredo rejects every signed request.`,
            commitReminder(r.stack, r.sharedState),
        );
    } else if (r.step === "promote") {
        lines.unshift(
            `Promoted keyVersion ${r.now.version}: it is AWSCURRENT, the key signers use; the previous key stays in Secrets Manager as AWSPREVIOUS for a rollback.`,
            "",
        );
        lines.push(commitReminder(r.stack, r.sharedState));
    } else if (r.rotatedFrom !== undefined && r.now.stage === "current") {
        lines.unshift(
            `Rotated immediately, as stacks/Pulumi.${r.stack}.yaml asks: keyVersion ${r.rotatedFrom} → ${r.now.version} is the key signers use NOW.`,
            "",
        );
        lines.push(`Upload ${r.shownFile} NOW: ${webAppSteps(r.environment)}. Until you do, Qredo rejects every signed request.`);
    } else if (r.now.stage === "pending") {
        lines.push(
            `A new key is staged (pending). Upload ${r.shownFile}: ${webAppSteps(r.environment)}; then promote it: npm run deploy -- ${r.stack} --promote`,
        );
    } else {
        lines.push(`If Qredo does not have this key yet, upload it: ${webAppSteps(r.environment)}.`);
    }
    if (r.apiKeyReplaced) {
        lines.push(
            r.sharedState === false
                ? `The API key was replaced: keep stacks/Pulumi.${r.stack}.yaml as it is (it holds the new key, encrypted); a deploy from an older copy is refused, since it would put the old key back.`
                : `The API key was replaced: commit and push stacks/Pulumi.${r.stack}.yaml now. The pipeline and every other machine must deploy this state; a deploy from an older copy is refused, since it would put the old key back.`,
        );
    }
    return lines.join("\n");
}

module.exports = { finishedMessage, immediateWarning, webAppSteps };
