// @ts-check
// `npm run deploy -- <stack> [options]`: the options, the combinations that
// make sense, flags npm swallowed, and stack names. All pure: checked before
// the script runs anything.
"use strict";
const { existsSync } = require("node:fs");
const { CliError, distance, parseStackCommand, quote, userPath } = require("./cli.js");
const { looksLikeApiKey } = require("./apiKeyInput.js");
const { holdsSecure, installedYaml, parseStackFile, stackFileText } = require("./backend.js");
const { refuseSwallowedFlags } = require("./npmFlags.js");

/** Exit codes, documented in docs/deploy.md. */
const exit = {
    ok: 0,
    pulumiFailed: 1,
    usage: 2,
    noPulumiCli: 3,
    setupFailed: 4,
    interrupted: 130,
};

const environments = ["sandbox", "production"];

const usage = `usage: npm run deploy -- <stack> [options]

  <stack>                    sandbox, production, or another stack whose
                             stacks/Pulumi.<stack>.yaml sets its environment

options:
  --api-key-file PATH        the \`apikey\` file from the Qredo Web App
                             (default: $QREDO_API_KEY when set, which a new stack
                             takes only on CI; else ./apikey for a stack that has
                             no key yet; else the key already stored)
  --replace-api-key          replace the API key already stored in the stack
  --rotate                   stage a new RSA key (keyVersion + 1, keyStage pending);
                             signers keep the current key until --promote
  --promote                  make the staged key the one signers use
  --immediate                with --rotate: the new key is current at once
                             (signing FAILS until you upload it); alone: apply the
                             immediate rotation the stack file asks for
  --replace-pending          with --rotate: discard a staged key that was never
                             promoted; alone: apply the stack file's rotation that does
  --public-key-out PATH      where to write the public key (default:
                             public-<environment>.pem, or public-<stack>-<environment>.pem
                             for a stack not named like its environment)
  --secrets-provider URL     for a new stack, e.g. "awskms://alias/pulumi-qredo?region=eu-west-2"
  --yes                      update without the interactive confirmation (pipelines)
  --help                     this text`;

const optionSpec = /** @type {const} */ ({
    "api-key-file": { type: "string" },
    "replace-api-key": { type: "boolean", default: false },
    rotate: { type: "boolean", default: false },
    promote: { type: "boolean", default: false },
    immediate: { type: "boolean", default: false },
    "replace-pending": { type: "boolean", default: false },
    "public-key-out": { type: "string" },
    "secrets-provider": { type: "string" },
    yes: { type: "boolean", default: false },
});

/**
 * @typedef {{ stack: string, apiKeyFile?: string, replaceApiKey: boolean, rotate: boolean, promote: boolean,
 *   immediate: boolean, replacePending: boolean, publicKeyOut?: string, secretsProvider?: string, yes: boolean }} DeployOptions
 */

/**
 * The options, or undefined for --help. Throws a usage CliError for anything
 * that does not fit, including a flag npm took for itself.
 * @param {string[]} argv @param {NodeJS.ProcessEnv} env
 * @returns {DeployOptions | undefined}
 */
function parseOptions(argv, env) {
    refuseSwallowedFlags(argv, env, {
        script: "deploy",
        options: optionSpec,
        code: exit.usage,
        placeholders: { "secrets-provider": "URL" },
    });
    refuseNpmDryRun(argv, env);
    const parsed = parseStackCommand(argv, /** @type {any} */ (optionSpec), usage, exit.usage);
    if (parsed === undefined) {
        return undefined;
    }
    /** @type {DeployOptions} */
    const options = {
        stack: parsed.stack,
        apiKeyFile: parsed["api-key-file"],
        replaceApiKey: parsed["replace-api-key"],
        rotate: parsed.rotate,
        promote: parsed.promote,
        immediate: parsed.immediate,
        replacePending: parsed["replace-pending"],
        publicKeyOut: parsed["public-key-out"],
        secretsProvider: parsed["secrets-provider"],
        yes: parsed.yes,
    };
    checkCombination(options);
    return options;
}

/**
 * `npm run deploy sandbox --dry-run` is npm's own dry run: npm still runs the
 * script, which would deploy for real. There is no dry run here; say what to use.
 * @param {string[]} argv @param {NodeJS.ProcessEnv} env
 */
function refuseNpmDryRun(argv, env) {
    if (env.npm_lifecycle_event === "deploy" && env.npm_config_dry_run === "true") {
        const stack = argv.find((a) => /^[A-Za-z0-9_.-]+$/.test(a) && !looksLikeApiKey(a)) ?? "<stack>";
        throw new CliError(
            `npm took --dry-run for itself (it set npm_config_dry_run) and still ran this script, which has no dry run; nothing was changed. Without --yes, the deploy shows pulumi up's preview and asks before it changes anything. To only preview:\n    npm run pulumi -- preview --stack ${stack}\nIf your .npmrc sets dry-run=true, or your shell exports npm_config_dry_run, remove that setting.`,
            exit.usage,
        );
    }
}

/** @param {DeployOptions} o */
function checkCombination(o) {
    /** @param {string} message */
    const refuse = (message) => {
        throw new CliError(message, exit.usage);
    };
    if (o.promote && o.rotate) {
        refuse(
            `--promote and --rotate cannot go together: they are two steps of a rotation. Stage a new key with npm run deploy -- ${o.stack} --rotate, upload it, and promote it in a later run: npm run deploy -- ${o.stack} --promote (if a key is staged already, promote it first).`,
        );
    }
    // Without --rotate they accept a rotation the stack file asks for (keyState.js checks it asks for one).
    if (o.promote && (o.immediate || o.replacePending)) {
        refuse(
            `--promote makes the staged key current and generates no key; --immediate and --replace-pending qualify a rotation. Promote with: npm run deploy -- ${o.stack} --promote`,
        );
    }
}

/**
 * The stack's Qredo environment: its name, or `environment` in its stack
 * file. Anything else is refused, with the likely intended name.
 * @param {string} stack @param {string} projectDir
 */
function stackEnvironment(stack, projectDir) {
    const exact = environments.find((e) => e.toLowerCase() === stack.toLowerCase());
    if (exact !== undefined && exact !== stack) {
        // Stack names are case-sensitive; a case-insensitive disk would even read the other's stack file.
        throw new CliError(
            `stack names are case-sensitive: "${stack}" is not ${exact}. Did you mean ${exact}?\n    npm run deploy -- ${exact}`,
            exit.usage,
        );
    }
    const text = stackFileText(projectDir, stack);
    if (/^[ \t]+["']?qredo-partner-keys:config:environment["']?[ \t]*:/m.test(text)) {
        // pulumi reads the older spelling as the environment: the deploy would name, protect and advise by another one.
        throw new CliError(
            `stacks/Pulumi.${stack}.yaml sets the environment as qredo-partner-keys:config:environment, an older spelling that pulumi reads and this deploy does not; nothing was changed. Write it as qredo-partner-keys:environment (same value), then run again.`,
            exit.usage,
        );
    }
    const set = environmentSetting(text, stack, projectDir);
    if (set !== undefined) {
        if (!environments.includes(set)) {
            throw new CliError(
                `stacks/Pulumi.${stack}.yaml sets qredo-partner-keys:environment to ${looksLikeApiKey(set) ? "a value that looks like an API key (not shown)" : `"${set}"`}; it must be sandbox or production.`,
                exit.usage,
            );
        }
        return set;
    }
    if (environments.includes(stack)) {
        return stack;
    }
    const guess = suggestStack(stack);
    throw new CliError(
        `stack "${stack}" is neither sandbox nor production, and stacks/Pulumi.${stack}.yaml does not say which Qredo environment it is.${guess === undefined ? "" : ` Did you mean ${guess}?\n    npm run deploy -- ${guess}`}
${ownStackFix(stack, text, guess, regionOf(stackFileText(projectDir, guess ?? "sandbox")))}`,
        exit.usage,
    );
}

/**
 * `qredo-partner-keys:environment` in a stack file's text. This runs before
 * the dependencies may be installed (a typo is refused without waiting for
 * npm ci): parsed as YAML when js-yaml 5 is installed, else read from its
 * plain `key: value` line. That reading can miss or mistake a file written
 * another way; the deploy reads the file again once js-yaml 5 is installed,
 * and stops if the two readings differ.
 * @param {string} text @param {string} stack @param {string} projectDir @returns {string | undefined}
 */
function environmentSetting(text, stack, projectDir) {
    const YAML = installedYaml(projectDir);
    if (YAML === undefined) {
        return /^[ \t]+qredo-partner-keys:environment:[ \t]*["']?([^"'\s#]*)["']?[ \t]*(#.*)?$/m.exec(text)?.[1];
    }
    const value = parseStackFile(YAML, text, stack)?.config?.["qredo-partner-keys:environment"];
    if (holdsSecure(value)) {
        throw setAsSecret(stack, "environment");
    }
    // Anything but a plain string (a list, a map) is shown as written, and refused.
    return value === undefined || value === null ? undefined : typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A setting the deploy reads in plain text (environment, keyVersion, keyStage) found set with
 * --secret: refused, never shown (not even its ciphertext). The program refuses it too.
 * @param {string} stack @param {string} name
 */
function setAsSecret(stack, name) {
    return new CliError(
        `stack ${stack} has ${name} set with --secret; only apiKey is kept secret, and the deploy reads ${name} in plain text ${name === "environment" ? "to know which environment the stack holds" : "to check the rotation"} (the program refuses it as well). Nothing was changed. Set it again in plain text: see it with npm run pulumi -- config get --stack ${stack} ${name}, then npm run pulumi -- config rm --stack ${stack} ${name} && npm run pulumi -- config set --stack ${stack} ${name} VALUE`,
        exit.usage,
    );
}

/** The aws:region a stack file sets, when it is a plain region name. @param {string} text */
function regionOf(text) {
    return /^[ \t]+aws:region:[ \t]*["']?([a-z]{2}(?:-[a-z]+)+-\d)["']?[ \t]*(?:#.*)?$/m.exec(text)?.[1];
}

/**
 * How to say which environment a stack holds: a new file with printf, or,
 * when the file exists (appending a second config: block would break it),
 * the line to add under its config: block.
 * @param {string} stack @param {string} text  the stack file's text, "" when there is none
 * @param {string} [guess]  the environment the name probably meant
 * @param {string} [region]  the AWS region to state in a new file
 */
function ownStackFix(stack, text, guess = "sandbox", region = undefined) {
    const line = `qredo-partner-keys:environment: ${guess}`;
    const other = guess === "production" ? "sandbox" : "production";
    if (text === "") {
        // The region too, as every stack file states it: without it the provider takes the shell's. And a prefix of
        // its own: with the environment's stack in the same account and region, the secret names would clash.
        const regionLine = region === undefined ? "" : `  aws:region: ${region}\\n`;
        const prefixLine = `  qredo-partner-keys:secretNamePrefix: qredo/partner-api-${stack}\\n`;
        return `If "${stack}" is meant to be a stack of its own, say which environment it holds${region === undefined ? "" : ` and the AWS region, as stacks/Pulumi.${guess}.yaml does`}, with secret names of its own, then run again. From the project folder:
    printf 'config:\\n${regionLine}  ${line}\\n${prefixLine}' > stacks/Pulumi.${stack}.yaml    # or ${other}`;
    }
    const where = /^config:/m.test(text) ? "under its config: block, indented like the other settings" : "in a config: block";
    // Secret names of its own too, unless the file gives it a prefix already.
    const prefix = /^[ \t]+["']?qredo-partner-keys:secretNamePrefix["']?[ \t]*:/m.test(text)
        ? ""
        : `\n    qredo-partner-keys:secretNamePrefix: qredo/partner-api-${stack}`;
    return `If "${stack}" is meant to be a stack of its own, add ${prefix === "" ? "this line" : "these lines"} to stacks/Pulumi.${stack}.yaml ${where}, then run again:
    ${line}    # or ${other}${prefix}`;
}

/**
 * The deploy command for `o` plus `extra`, quoted for a POSIX shell. The API
 * key file is named only when it exists (a checked path, never a pasted key).
 * @param {DeployOptions} o @param {string[]} [extra]
 */
function commandLine(o, extra = []) {
    const words = [o.stack];
    if (o.apiKeyFile !== undefined) {
        words.push("--api-key-file", existsSync(userPath(o.apiKeyFile)) ? quote(o.apiKeyFile) : "PATH");
    }
    /** @type {[boolean, string][]} */
    const flags = [
        [o.replaceApiKey, "--replace-api-key"],
        [o.rotate, "--rotate"],
        [o.promote, "--promote"],
        [o.immediate, "--immediate"],
        [o.replacePending, "--replace-pending"],
        [o.yes, "--yes"],
    ];
    words.push(...flags.filter(([on]) => on).map(([, flag]) => flag));
    if (o.publicKeyOut !== undefined) words.push("--public-key-out", quote(o.publicKeyOut));
    if (o.secretsProvider !== undefined) words.push("--secrets-provider", quote(o.secretsProvider));
    return ["npm run deploy --", ...words, ...extra.filter((e) => !words.includes(e))].join(" ");
}

/** sandbox or production when `name` is a near miss (case, prefix, a typo or two). @param {string} name */
function suggestStack(name) {
    const lower = name.toLowerCase();
    // The usual short forms that are neither a prefix nor two edits away.
    const short = /** @type {Record<string, string>} */ ({ prd: "production", sbx: "sandbox" })[lower];
    if (short !== undefined) {
        return short;
    }
    for (const env of environments) {
        if (lower === env || (lower.length >= 3 && (env.startsWith(lower) || lower.startsWith(env)))) {
            return env;
        }
    }
    const close = environments.map((env) => ({ env, d: distance(lower, env) })).sort((a, b) => a.d - b.d)[0];
    return close.d <= 2 ? close.env : undefined;
}

module.exports = { commandLine, exit, parseOptions, setAsSecret, stackEnvironment, suggestStack, usage };
