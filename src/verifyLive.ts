/**
 * What `npm run verify` says about the rotation phase, and what Qredo's
 * answers to `--live` mean for the operator (exit codes from the contract:
 * 0 only when Qredo accepts the key signers use now, AWSCURRENT; 1 with
 * "upload" when it accepts neither, with "promote" when it accepts only the
 * pending key; 2 when it cannot tell).
 */
import type { StackOutputs } from "./verify";

/** Qredo's answer to a signed request with one key. */
export type LiveAnswer = "accepted" | "rejected" | { readonly problem: string };

export interface LiveVerdict {
    readonly code: 0 | 1 | 2;
    readonly message: string;
}

const promoteCommand = (stack: string) => `npm run deploy -- ${stack} --promote`;

/** The rotation phase in words, with the next step when there is one. */
export function describePhase(stack: string, outputs: StackOutputs, publicKeyFile: string): string {
    const generation = outputs.keyVersion;
    if ((outputs.keyStage ?? "current") === "current") {
        const older = outputs.keyStage === undefined ? " (this deployment predates staged rotation, so its key is current)" : "";
        return `key generation ${generation} is in use (AWSCURRENT); no rotation is staged${older}.`;
    }
    return (
        `rotation staged: key generation ${generation} is pending (AWSPENDING) while signers keep using the previous key (AWSCURRENT). ` +
        `Next: upload ${publicKeyFile} in the Qredo Web App (signers built on @qredo-partner-keys/client switch to the new key by themselves), ` +
        `then promote it: \`${promoteCommand(stack)}\`.`
    );
}

export function liveVerdict({
    stack,
    outputs,
    publicKeyFile,
    current,
    pending,
}: {
    stack: string;
    outputs: StackOutputs;
    /** The file the deploy wrote the public key to, named in the advice. */
    publicKeyFile: string;
    current: LiveAnswer;
    pending?: LiveAnswer;
}): LiveVerdict {
    const upload = `upload ${publicKeyFile} (the publicKeyPem output) in the Qredo Web App for ${outputs.environment}`;
    if (current === "accepted") {
        if (pending === undefined) {
            return { code: 0, message: "Qredo accepts the current key (AWSCURRENT), the one signers use." };
        }
        const next =
            pending === "rejected"
                ? `when you are ready, ${upload}, then promote it: \`${promoteCommand(stack)}\`.`
                : `Qredo could not be asked about the pending key: ${pending === "accepted" ? "it accepts it too" : pending.problem}.`;
        return {
            code: 0,
            message: `Qredo accepts the current key (AWSCURRENT), the one signers use; the pending key is not live yet: ${next}`,
        };
    }
    if (typeof current !== "string") {
        return { code: 2, message: `could not ask Qredo about the current key: ${current.problem}` };
    }
    if (pending === "accepted") {
        return {
            code: 1,
            message: `Qredo accepts only the pending key (AWSPENDING): it has been uploaded. Promote it now: \`${promoteCommand(stack)}\`. Signers built on @qredo-partner-keys/client already use it; any other signer fails until the promotion.`,
        };
    }
    if (pending !== undefined && pending !== "rejected") {
        return { code: 2, message: `Qredo rejects the current key, and could not be asked about the pending key: ${pending.problem}` };
    }
    const then = pending === undefined ? "" : `, then promote it: \`${promoteCommand(stack)}\``;
    return {
        code: 1,
        message: `${pending === undefined ? "Qredo rejects the current key (AWSCURRENT)" : "Qredo accepts neither stored key"}: ${upload}${then}. If that key is already uploaded, check the API key: Qredo answers 401 to a wrong API key too.`,
    };
}
