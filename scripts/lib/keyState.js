// @ts-check
// The RSA key's rotation state (keyVersion, keyStage) and what a deploy may do
// to it. The stack file holds the intent, the stack's outputs what was last
// deployed; a deploy only ever moves forward from both.
"use strict";
const { CliError } = require("./cli.js");
const { exit } = require("./deployOptions.js");

/** @typedef {{ version: number, stage: "current" | "pending" }} KeyState */
/** @typedef {"plain" | "rotate" | "rotate-immediate" | "promote"} Step */

/**
 * The key state the stack file asks for (config as `pulumi config --json` shows it).
 * @param {string} stack @param {Record<string, { value?: unknown }>} config @returns {KeyState}
 */
function configuredKey(stack, config) {
    const rawVersion = config["qredo-partner-keys:keyVersion"]?.value;
    const version = rawVersion === undefined ? 1 : Number(rawVersion);
    if (!Number.isSafeInteger(version) || version < 1) {
        throw new CliError(
            `stack ${stack} has keyVersion ${JSON.stringify(rawVersion)}, which is not a whole number ≥ 1; fix stacks/Pulumi.${stack}.yaml.`,
            exit.usage,
        );
    }
    const stage = config["qredo-partner-keys:keyStage"]?.value ?? "current";
    if (stage !== "current" && stage !== "pending") {
        throw new CliError(
            `stack ${stack} has keyStage ${JSON.stringify(stage)}; it must be current or pending. Fix stacks/Pulumi.${stack}.yaml.`,
            exit.usage,
        );
    }
    return { version, stage };
}

/** What the stack last deployed, or undefined when it never was. @param {Record<string, unknown>} outputs @returns {KeyState | undefined} */
function deployedKey(outputs) {
    const version = Number(outputs.keyVersion);
    if (outputs.keyVersion === undefined || !Number.isSafeInteger(version)) {
        return undefined;
    }
    return { version, stage: outputs.keyStage === "pending" ? "pending" : "current" };
}

/** @param {KeyState} a @param {KeyState} b  negative when a is behind b */
function compareKeys(a, b) {
    return a.version !== b.version ? a.version - b.version : (a.stage === "current" ? 1 : 0) - (b.stage === "current" ? 1 : 0);
}

/**
 * The key state to set before `up`, or undefined to leave the stack file as it
 * is. Throws a usage CliError when the step makes no sense in this state.
 * @param {{ stack: string, step: Step, replacePending: boolean, configured: KeyState, deployed: KeyState | undefined }} input
 * @returns {KeyState | undefined}
 */
function planKeyChange({ stack, step, replacePending, configured, deployed }) {
    /** @param {string} message */
    const refuse = (message) => {
        throw new CliError(message, exit.usage);
    };
    if (deployed !== undefined && compareKeys(configured, deployed) < 0) {
        refuse(
            `stacks/Pulumi.${stack}.yaml says keyVersion ${configured.version} (keyStage ${configured.stage}), but the stack last deployed keyVersion ${deployed.version} (keyStage ${deployed.stage}). ` +
                `This copy of the stack file is older than the deployment: usually a rotation or promotion whose change to stacks/Pulumi.${stack}.yaml was never committed and pushed, or was made on another machine. ` +
                `Deploying it would move the key backwards, and a lower keyVersion generates yet another new key, which signers would use and Qredo would reject. ` +
                `Get the current file (git pull, or commit it where the rotation ran), then run again.`,
        );
    }
    const pending = configured.stage === "pending" || deployed?.stage === "pending";
    if (step === "promote") {
        if (!pending) {
            refuse(
                `nothing to promote: stack ${stack} has no staged key (keyVersion ${configured.version} is current). Stage one with: npm run deploy -- ${stack} --rotate`,
            );
        }
        return configured.stage === "pending" ? { version: configured.version, stage: "current" } : undefined;
    }
    if (step === "plain") {
        return undefined;
    }
    if (deployed === undefined) {
        refuse(`stack ${stack} has no deployed key to rotate yet: deploy it first with npm run deploy -- ${stack}`);
    }
    if (pending && !replacePending) {
        refuse(
            `stack ${stack} already has a staged key (keyVersion ${configured.version}, keyStage ${configured.stage}; deployed: ${deployed?.version} ${deployed?.stage}). ` +
                `Finish that rotation: upload the public key file it wrote, then npm run deploy -- ${stack} --promote. ` +
                `To throw the staged key away and stage a new one instead (only if it was never uploaded): npm run deploy -- ${stack} --rotate --replace-pending`,
        );
    }
    return { version: configured.version + 1, stage: step === "rotate-immediate" ? "current" : "pending" };
}

/**
 * What to tell the user when `up` failed, was declined or was interrupted
 * after this step changed the stack file. The CLI exits with the same code
 * for a declined confirmation as for a failure ("confirmation declined" is
 * only printed), so both are treated as "may have applied something":
 * nothing is set back, since a lower keyVersion would generate another key.
 * @param {{ stack: string, step: Step, from: KeyState, to: KeyState | undefined, outcome: string }} input
 */
function unfinishedMessage({ stack, step, from, to, outcome }) {
    const again = `npm run deploy -- ${stack}`;
    if (to === undefined || step === "plain") {
        return `\`pulumi up\` ${outcome}; its output is above. This deploy did not change keyVersion or keyStage; the stack is as that output leaves it. Run ${again} to try again.`;
    }
    const kept = `The stack file keeps keyVersion ${to.version}, keyStage ${to.stage}: the update may have applied part of it, so nothing is set back (a lower keyVersion would generate yet another key).`;
    if (step === "rotate") {
        return `\`pulumi up\` ${outcome}; its output is above. ${kept} Signers are not affected: a staged key is invisible to them, and key ${from.version} is still the one they use (AWSCURRENT). To finish staging, run ${again}, then upload the public key and promote as it says. Commit stacks/Pulumi.${stack}.yaml once it succeeds.`;
    }
    if (step === "rotate-immediate") {
        return `\`pulumi up\` ${outcome}; its output is above. ${kept} The update may already have made the new key AWSCURRENT: if it did, requests signed with it FAIL until you upload it. Run ${again} now to finish; it writes the public key to upload. Commit stacks/Pulumi.${stack}.yaml once it succeeds.`;
    }
    return `\`pulumi up\` ${outcome}; its output is above. ${kept} Signers are in one of two states: if the update did not reach the key's labels, key ${from.version - (from.stage === "pending" ? 1 : 0)} is still AWSCURRENT and key ${to.version} AWSPENDING, as before; if it did, key ${to.version} is AWSCURRENT. Signers built on @qredo-partner-keys/client work in both (on a 401 they retry with the other key); a signer that read the secret once at start keeps the key it read. Run ${again} to finish the promotion, then commit stacks/Pulumi.${stack}.yaml.`;
}

module.exports = { compareKeys, configuredKey, deployedKey, planKeyChange, unfinishedMessage };
