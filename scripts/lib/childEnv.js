// @ts-check
// The environment each child process gets. A child sees only what it needs:
// npm's install scripts are third-party code and get no credential at all;
// `pulumi` gets its backend and passphrase settings, and the AWS credentials
// only for commands that reach AWS; nobody but this script sees QREDO_API_KEY
// (the key goes to `pulumi config set --secret` on stdin).
"use strict";

/** Names that hold a credential or look like one. */
const secretName = /TOKEN|SECRET|PASSWORD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH/i;
/** AWS settings: credentials, profile, region, endpoints. */
const awsName = /^AWS_/i;
/** What the Pulumi CLI needs to reach the backend and decrypt the stack's secrets. */
const pulumiSecrets = ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"];

/** Everything but credentials, AWS settings and the Qredo key. @param {NodeJS.ProcessEnv} env */
function plainEnv(env) {
    /** @type {Record<string, string>} */
    const out = {};
    for (const [name, value] of Object.entries(env)) {
        if (value !== undefined && !secretName.test(name) && !awsName.test(name) && !/^QREDO_/i.test(name)) {
            out[name] = value;
        }
    }
    return out;
}

/**
 * The TypeScript compiler's environment: only what runs Node.js and finds
 * files. A build inside `pulumi up` runs with the language host's variables,
 * PULUMI_CONFIG among them (the decrypted stack config, the API key included),
 * so nothing is passed on by default. @param {NodeJS.ProcessEnv} env
 */
function compilerEnv(env) {
    /** @type {Record<string, string>} */
    const out = {};
    for (const [name, value] of Object.entries(env)) {
        if (
            value !== undefined &&
            /^(PATH|HOME|USER|TMPDIR|TEMP|TMP|TZ|LANG|LC_\w+|NODE_OPTIONS|SYSTEMROOT|WINDIR|COMSPEC|PATHEXT)$/i.test(name)
        ) {
            out[name] = value;
        }
    }
    return out;
}

/**
 * The environment for one `pulumi` command.
 * @param {NodeJS.ProcessEnv} env
 * @param {{ aws: boolean, stackAccess: boolean }} needs  aws: the command reaches AWS; stackAccess: it reads or writes the backend
 */
function pulumiEnv(env, needs) {
    const out = plainEnv(env);
    for (const [name, value] of Object.entries(env)) {
        if (value === undefined) {
            continue;
        }
        if ((needs.aws && awsName.test(name)) || (needs.stackAccess && pulumiSecrets.includes(name))) {
            out[name] = value;
        }
    }
    return out;
}

module.exports = { compilerEnv, plainEnv, pulumiEnv };
