// @ts-check
// The RSA key's rotation state (keyVersion, keyStage) and what a deploy may do
// to it. The stack file holds the intent, the stack's outputs what was last
// deployed; a deploy only ever moves forward from both.
"use strict";
const { CliError } = require("./cli.js");
const { exit, setAsSecret } = require("./deployOptions.js");

/** @typedef {{ version: number, stage: "current" | "pending" }} KeyState */
/** @typedef {"plain" | "rotate" | "rotate-immediate" | "promote"} Step */

/**
 * The key state the stack file asks for (config as `pulumi config --json` shows it).
 * @param {string} stack @param {Record<string, { value?: unknown, secret?: boolean }>} config @returns {KeyState}
 */
function configuredKey(stack, config) {
    for (const name of ["keyVersion", "keyStage"]) {
        // Set with --secret, pulumi config --json hides the value: the deploy would check the rotation against a guess.
        const entry = config[`qredo-partner-keys:${name}`];
        if (entry?.secret === true || (typeof entry?.value === "object" && entry.value !== null)) {
            throw setAsSecret(stack, name);
        }
    }
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

/**
 * The highest keyVersion in the keepers of the key generation (the RandomId)
 * in `pulumi stack export` JSON, or undefined when the state has none. A
 * failed `up` may already have replaced the RandomId (and the private key)
 * without writing outputs: the state is the only record of that key.
 * @param {string} exportJson @returns {number | undefined}
 */
function stateGeneration(exportJson) {
    /** @type {{ deployment?: { resources?: { type?: string, inputs?: any, outputs?: any }[] | null } }} */
    const exported = JSON.parse(exportJson || "{}");
    const versions = (exported.deployment?.resources ?? [])
        .filter((r) => r.type === "random:index/randomId:RandomId")
        .flatMap((r) => [r.inputs?.keepers?.keyVersion, r.outputs?.keepers?.keyVersion])
        .map(Number)
        .filter((v) => Number.isSafeInteger(v));
    return versions.length === 0 ? undefined : Math.max(...versions);
}

/**
 * The API key the stack last deployed: its SecretVersion's value in
 * `pulumi stack export --show-secrets` JSON (a secret there is
 * `{ <sig>, plaintext: <JSON> }`), or undefined when the state has none (never
 * deployed) or holds it encrypted. Never printed.
 * @param {string} exportJson @returns {string | undefined}
 */
function deployedApiKey(exportJson) {
    /** @type {{ deployment?: { resources?: { urn?: string, type?: string, inputs?: any, outputs?: any }[] | null } }} */
    const exported = JSON.parse(exportJson || "{}");
    const version = (exported.deployment?.resources ?? []).find(
        (r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && String(r.urn).endsWith("::qredo-partner-api-api-key"),
    );
    const value = version?.outputs?.secretString ?? version?.inputs?.secretString;
    if (typeof value === "string") {
        return value;
    }
    try {
        const plain = typeof value?.plaintext === "string" ? JSON.parse(value.plaintext) : undefined;
        return typeof plain === "string" ? plain : undefined;
    } catch {
        return undefined;
    }
}

/**
 * @typedef {KeyState & { unfinished: boolean, outputVersion?: number, outputStage?: KeyState["stage"] }} DeployedKey
 * unfinished: the state holds a newer key generation than the outputs (an
 * `up` that stopped part way); its stage is unknown, so it counts as pending.
 */

/**
 * What the stack last deployed (the newer of its outputs and the key
 * generation in its state), or undefined when it never was.
 * @param {Record<string, unknown>} outputs @param {number} [stateVersion] @returns {DeployedKey | undefined}
 */
function deployedKey(outputs, stateVersion) {
    const version = Number(outputs.keyVersion);
    const fromOutputs = outputs.keyVersion === undefined || !Number.isSafeInteger(version) ? undefined : version;
    if (stateVersion !== undefined && (fromOutputs === undefined || stateVersion > fromOutputs)) {
        return {
            version: stateVersion,
            stage: "pending",
            unfinished: true,
            ...(fromOutputs === undefined
                ? {}
                : { outputVersion: fromOutputs, outputStage: outputs.keyStage === "pending" ? "pending" : "current" }),
        };
    }
    if (fromOutputs === undefined) {
        return undefined;
    }
    return { version: fromOutputs, stage: outputs.keyStage === "pending" ? "pending" : "current", unfinished: false };
}

/** @param {KeyState} a @param {KeyState} b  negative when a is behind b */
function compareKeys(a, b) {
    return a.version !== b.version ? a.version - b.version : (a.stage === "current" ? 1 : 0) - (b.stage === "current" ? 1 : 0);
}

/** @param {string} message @returns {never} */
function refuse(message) {
    throw new CliError(message, exit.usage);
}

/**
 * @typedef {{ stack: string, step: Step, replacePending: boolean, immediate?: boolean,
 *   configured: KeyState, deployed: (KeyState & { unfinished?: boolean, outputVersion?: number, outputStage?: KeyState["stage"] }) | undefined }} PlanInput
 */

/**
 * The key state to set before `up`, or undefined to leave the stack file as it
 * is. Throws a usage CliError when the step makes no sense in this state. A
 * plain deploy applies the stack file, under the same rules as the flags.
 * @param {PlanInput} input @returns {KeyState | undefined}
 */
function planKeyChange(input) {
    const { stack, step, configured, deployed } = input;
    if (deployed?.unfinished) {
        return planUnfinished({ ...input, deployed });
    }
    if (deployed === undefined && configured.stage === "pending") {
        refuse(
            `stacks/Pulumi.${stack}.yaml says keyStage pending, but stack ${stack} has no deployed key: a staged key waits beside the key signers use, and there is none. Nothing was changed. Set keyStage: current in stacks/Pulumi.${stack}.yaml (or remove the line), then run again.`,
        );
    }
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
        if (configured.stage === "pending" && deployed !== undefined && deployed.version < configured.version) {
            // The staging never reached the stack (a failed or declined --rotate): promoting it now would
            // generate the key and make it current at once, before anyone could upload it.
            refuse(
                `nothing to promote yet: stacks/Pulumi.${stack}.yaml stages keyVersion ${configured.version}, but the stack runs keyVersion ${deployed.version} (keyStage ${deployed.stage}): the staging was never deployed. Finish it first (npm run deploy -- ${stack}), upload the public key it writes, then promote.`,
            );
        }
        return configured.stage === "pending" ? { version: configured.version, stage: "current" } : undefined;
    }
    if (step === "plain") {
        checkPlainDeploy(input);
        return undefined;
    }
    if (deployed === undefined) {
        return refuse(`stack ${stack} has no deployed key to rotate yet: deploy it first with npm run deploy -- ${stack}`);
    }
    if (!pending && input.replacePending) {
        // Nothing to discard: the flag would only print the warning about a discarded key's AWSPENDING label.
        refuse(
            `--replace-pending discards a staged key, and stack ${stack} has none (keyVersion ${configured.version} is ${configured.stage}); nothing was changed. Run without it: npm run deploy -- ${stack} --rotate${step === "rotate-immediate" ? " --immediate" : ""}`,
        );
    }
    if (pending && step === "rotate-immediate" && !input.replacePending) {
        refuse(immediateWhilePending(stack, `--rotate --immediate`, Math.max(configured.version, deployed.version)));
    }
    if (pending && !input.replacePending) {
        refuse(
            `stack ${stack} already has a staged key (keyVersion ${configured.version}, keyStage ${configured.stage}; deployed: ${deployed.version} ${deployed.stage}). ` +
                `Finish that rotation: upload the public key file it wrote, then npm run deploy -- ${stack} --promote. ` +
                `To throw the staged key away and stage a new one instead (only if it was never uploaded): npm run deploy -- ${stack} --rotate --replace-pending`,
        );
    }
    return { version: configured.version + 1, stage: step === "rotate-immediate" ? "current" : "pending" };
}

/**
 * A plain deploy (the pipeline's only path) applying a stack file that a pull
 * request changed: keyVersion rises by one at most, and the two risky rises
 * need the flag that says the person meant it.
 * @param {PlanInput} input
 */
function checkPlainDeploy({ stack, configured: c, deployed: d, immediate = false, replacePending = false }) {
    const wants = `keyVersion ${c.version} (keyStage ${c.stage})`;
    const asks = `stacks/Pulumi.${stack}.yaml asks for ${wants}`;
    const runs = d === undefined ? "the stack has no deployed key yet" : `the stack runs keyVersion ${d.version} (keyStage ${d.stage})`;
    const rises = d !== undefined && c.version === d.version + 1;
    if (d !== undefined && c.version > d.version + 1) {
        refuse(
            `${asks}, but ${runs}: keyVersion may rise by exactly 1 per deploy. Set keyVersion to ${d.version + 1} in stacks/Pulumi.${stack}.yaml, then run again.`,
        );
    }
    if (rises && d.stage === "pending" && c.stage === "current" && !(immediate && replacePending)) {
        refuse(`${asks}, an immediate rotation, but ${runs}: a key is staged. ${immediateWhilePending(stack, "--immediate", d.version)}`);
    }
    if (rises && d.stage === "pending" && !replacePending) {
        refuse(
            `${asks}, but ${runs}: applying it throws the staged key away (anything uploaded for it stops working). If it was never uploaded and that is what you want, run again with --replace-pending: npm run deploy -- ${stack} --replace-pending. Otherwise promote the staged key first (keyStage: current, same keyVersion).`,
        );
    }
    if (rises && c.stage === "current" && !immediate) {
        refuse(
            `${asks}, but ${runs}: that is an immediate rotation, and signing FAILS from this update until the new public key is uploaded. If the key must stop working now, run again with --immediate: npm run deploy -- ${stack} --immediate. Otherwise stage it: set keyStage: pending in stacks/Pulumi.${stack}.yaml.`,
        );
    }
    const rotation = rises ? (c.stage === "current" ? "immediate" : "staged") : "none";
    if (immediate && rotation !== "immediate") {
        refuse(
            `--immediate without --rotate applies an immediate rotation that stacks/Pulumi.${stack}.yaml asks for, and it asks for none: ${wants}; ${runs}. To rotate immediately: npm run deploy -- ${stack} --rotate --immediate`,
        );
    }
    if (replacePending && !(rises && d.stage === "pending")) {
        refuse(
            `--replace-pending without --rotate applies a rotation in stacks/Pulumi.${stack}.yaml that discards a staged key, and there is none: ${wants}; ${runs}. To stage a new key in place of a staged one: npm run deploy -- ${stack} --rotate --replace-pending`,
        );
    }
}

/**
 * A deploy after an `up` that stopped part way: the state holds a newer key
 * generation than the outputs. Only finishing it is allowed; anything else
 * would replace a key generation again, and a lower keyVersion makes a key
 * nobody uploaded the one signers use.
 * @param {PlanInput & { deployed: KeyState & { outputVersion?: number, outputStage?: KeyState["stage"] } }} input @returns {undefined}
 */
function planUnfinished({ stack, step, configured: c, deployed: d, immediate = false, replacePending = false }) {
    const where = `the last update of stack ${stack} stopped part way: its state already holds the new key for keyVersion ${d.version}, but its outputs ${d.outputVersion === undefined ? "were never written" : `still say keyVersion ${d.outputVersion}`}`;
    if (step !== "plain") {
        refuse(
            `${where}. Finish that update first: npm run deploy -- ${stack} (with keyVersion ${d.version} in stacks/Pulumi.${stack}.yaml), then run this step.`,
        );
    }
    if (c.version !== d.version) {
        refuse(
            `stacks/Pulumi.${stack}.yaml asks for keyVersion ${c.version}, but ${where}. Deploying keyVersion ${c.version} would replace that key with yet another one that nobody has uploaded. Do not revert stacks/Pulumi.${stack}.yaml: set keyVersion to ${d.version} in it (keyStage: pending stages that key, as --rotate does; current makes it the signers' key at once and needs --immediate), then run npm run deploy -- ${stack} to finish.`,
        );
    }
    if (c.stage === "current" && d.outputVersion !== undefined && d.outputStage === "pending" && !(immediate && replacePending)) {
        // The same rule as for a finished stack: an immediate rotation over a staged key needs both flags.
        refuse(
            `stacks/Pulumi.${stack}.yaml asks for keyVersion ${c.version} as current, an immediate rotation, and ${where} (staged). ${immediateWhilePending(stack, "--immediate", d.outputVersion)}`,
        );
    }
    if (c.stage === "current" && d.outputVersion !== undefined && !immediate) {
        refuse(
            `stacks/Pulumi.${stack}.yaml asks for keyVersion ${c.version} as current, an immediate rotation from keyVersion ${d.outputVersion}, and ${where}. To finish the immediate rotation, run again with --immediate: npm run deploy -- ${stack} --immediate. To stage the key instead, set keyStage: pending.`,
        );
    }
    return undefined;
}

/**
 * Why an immediate rotation must wait while a key is staged, and the ways on.
 * @param {string} stack @param {string} flags @param {number} staged
 */
function immediateWhilePending(stack, flags, staged) {
    return (
        `${flags} while keyVersion ${staged} is staged would leave AWSPENDING on that discarded staged key: the new key's version gets only AWSCURRENT, and the staged version keeps its label (versions are retained on delete), so signers built on @qredo-partner-keys/client would fall back to the discarded key on a 401. Nothing was changed. ` +
        `Promote the staged key first (npm run deploy -- ${stack} --promote, once it is uploaded), or replace it (npm run deploy -- ${stack} --rotate --replace-pending, which moves AWSPENDING to the new key, since a staging label sits on one version only). ` +
        `If the staged key must stop working now (promoting it is not the way), take its label off: ` +
        `aws secretsmanager update-secret-version-stage --secret-id ARN --region REGION --version-stage AWSPENDING --remove-from-version-id VERSION_ID ` +
        `(ARN: npm run pulumi -- stack output --stack ${stack} privateKeySecretArn; REGION: the one in the ARN; VERSION_ID: the version listed with AWSPENDING by aws secretsmanager describe-secret --secret-id ARN --region REGION --query VersionIdsToStages), ` +
        `then retry with --replace-pending as well: npm run deploy -- ${stack} ${flags} --replace-pending`
    );
}

/**
 * What to tell the user when `up` failed, was declined or was interrupted.
 * The CLI exits with the same code for a declined confirmation as for a
 * failure ("confirmation declined" is only printed), so both are treated as
 * "may have applied something": nothing is set back, since a failed update
 * may already have saved the new key generation in the state.
 * @param {{ stack: string, step: Step, from: KeyState, to: KeyState | undefined, outcome: string,
 *   again: string, rising?: boolean, apiKeyStored?: boolean }} input  again: the command that finishes; rising: the stack
 *   file asks for a new key; apiKeyStored: this run stored an API key in the stack file
 */
function unfinishedMessage({ stack, step, from, to, outcome, again, rising = false, apiKeyStored = false }) {
    const head = `\`pulumi up\` ${outcome}; its output is above.${
        apiKeyStored
            ? ` The API key this run stored now lives in stacks/Pulumi.${stack}.yaml (encrypted): keep that file as it is (do not git checkout or revert it), or the key is lost. The next run needs no API key given again.`
            : ""
    }`;
    const noRevert = `The update may already have generated the new key, so do not revert stacks/Pulumi.${stack}.yaml: run the deploy again to finish (${again}).`;
    if (to === undefined || step === "plain") {
        return rising
            ? `${head} ${noRevert}`
            : `${head} This deploy did not change keyVersion or keyStage; the stack is as that output leaves it. Run ${again} to try again.`;
    }
    const kept = `The stack file keeps keyVersion ${to.version}, keyStage ${to.stage}: the update may have applied part of it, so nothing is set back (a lower keyVersion would generate yet another key).`;
    const declined = apiKeyStored
        ? ""
        : ` If you declined at the confirmation and nothing was deployed, you can also restore the file instead: git checkout -- stacks/Pulumi.${stack}.yaml`;
    if (step === "rotate") {
        return `${head} ${kept} Signers are not affected: a staged key is invisible to them, and key ${from.version - (from.stage === "pending" ? 1 : 0)} is still the one they use (AWSCURRENT). ${noRevert} Then upload the public key and promote as it says, and commit stacks/Pulumi.${stack}.yaml once it succeeds.${declined}`;
    }
    if (step === "rotate-immediate") {
        return `${head} ${kept} The update may already have made the new key AWSCURRENT: if it did, requests signed with it FAIL until you upload it. ${noRevert} It writes the public key to upload. Commit stacks/Pulumi.${stack}.yaml once it succeeds.${declined}`;
    }
    return `${head} ${kept} Signers are in one of two states: if the update did not reach the key's labels, key ${from.version - (from.stage === "pending" ? 1 : 0)} is still AWSCURRENT and key ${to.version} AWSPENDING, as before; if it did, key ${to.version} is AWSCURRENT. Signers built on @qredo-partner-keys/client work in both (on a 401 they retry with the other key); a signer that read the secret once at start keeps the key it read. Run ${again} to finish the promotion, then commit stacks/Pulumi.${stack}.yaml.${declined}`;
}

module.exports = { compareKeys, configuredKey, deployedApiKey, deployedKey, planKeyChange, stateGeneration, unfinishedMessage };
