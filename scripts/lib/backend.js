// @ts-check
// Where the state lives and how its secrets are encrypted: the backend, the
// secrets provider, and the passphrase (asked here, without echo, because the
// pulumi commands' stdin carries the API key).
"use strict";
const { chmodSync, existsSync, fstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } = require("node:fs");
const path = require("node:path");
const { looksLikeApiKey } = require("./apiKeyInput.js");
const { CliError, configuredBackend, localBackendDir, userPath } = require("./cli.js");

/**
 * The backend in use and the environment that points pulumi at it: the
 * configured one, else the project's local file backend (outside CI).
 * @param {(message: string) => void} say @param {number} code  exit code when none is usable
 * @returns {{ url: string, env: Record<string, string> }}
 */
function chooseBackend(say, code) {
    const backend = configuredBackend();
    if (backend !== undefined) {
        say(`using the configured Pulumi backend ${/^https?:/.test(backend) ? "(logged in)" : shownBackend(backend)}`);
        return { url: backend, env: {} };
    }
    if (process.env.CI) {
        // A runner's disk is thrown away: state kept there would be lost, and the keys with it.
        throw new CliError(
            "no Pulumi backend is configured, and on CI a local one would be lost with the runner. Set PULUMI_BACKEND_URL (e.g. s3://BUCKET) or PULUMI_ACCESS_TOKEN.",
            code,
        );
    }
    // The state holds the private keys (encrypted with the stack's passphrase): for this user only.
    mkdirSync(localBackendDir, { recursive: true, mode: 0o700 });
    chmodSync(localBackendDir, 0o700);
    const url = `file://${localBackendDir}`;
    say(
        `no Pulumi backend is configured: using the local file backend in .pulumi-state/ (git-ignored). Run other pulumi commands against it with: npm run pulumi -- <command>`,
    );
    return { url, env: { PULUMI_BACKEND_URL: url } };
}

/**
 * A backend URL as messages show it: without its user part, query or fragment,
 * which can carry credentials (postgres://user:PASSWORD@host/db, a token as
 * the user name, a storage SAS token), however the URL is written (pulumi
 * also reads postgres:user:PASSWORD@host). A file: URL is a path: shown as is.
 * Text that is no URL at all is not shown.
 * @param {string} url
 */
function shownBackend(url) {
    const trimmed = url.trim();
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(trimmed);
    if (scheme === null) {
        return "(not shown: PULUMI_BACKEND_URL is not a URL)";
    }
    if (scheme[0].toLowerCase() === "file:") {
        return trimmed;
    }
    let rest = trimmed.slice(scheme[0].length);
    // Up to the last "@": a password may hold an unescaped "@", "/", "?" or "#".
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
        rest = `${/^[/\\]*/.exec(rest)?.[0] ?? ""}***${rest.slice(at)}`;
    }
    const cut = rest.search(/[?#]/);
    return `${scheme[0]}${cut < 0 ? rest : `${rest.slice(0, cut)} (the rest hidden)`}`;
}

/** The stack file's text, or "" for a stack that has none yet. @param {string} projectDir @param {string} stack */
function stackFileText(projectDir, stack) {
    // Matched in the listing, not with existsSync: on a case-insensitive disk
    // (macOS, Windows) Pulumi.Sandbox.yaml would open Pulumi.sandbox.yaml.
    const dir = path.join(projectDir, "stacks");
    const name = `Pulumi.${stack}.yaml`;
    return existsSync(dir) && readdirSync(dir).includes(name) ? readFileSync(path.join(dir, name), "utf8") : "";
}

/**
 * A stack file's text as YAML, with merge keys (`<<: *anchor`) applied, as
 * Pulumi's own reader applies them; an empty file (or only comments) is null.
 * Not YAML, or more than one document: a usage error naming the file.
 * @param {typeof import("js-yaml")} YAML @param {string} text @param {string} stack @returns {any}
 */
function parseStackFile(YAML, text, stack) {
    /** @type {unknown[]} */
    let documents;
    try {
        documents = YAML.loadAll(text, { schema: YAML.CORE_SCHEMA.withTags(YAML.mergeTag) });
    } catch (error) {
        throw notYaml(stack, parserMessage(/** @type {Error} */ (error)));
    }
    if (documents.length > 1) {
        throw notYaml(stack, `it holds ${documents.length} documents, separated by ---; a stack file is one`);
    }
    // An alias (*name) repeats a whole subtree: ten levels of ten aliases are a "billion laughs" that the
    // checks which walk the values would take hours over, a chain of them nests deeper than those checks
    // can recurse, and an alias inside its own anchor is a cycle.
    if (!withinBounds(documents[0])) {
        throw notYaml(
            stack,
            `it holds more than ${maxValues} values or ${maxDepth} levels, counting what its aliases (*name) repeat, or a value that holds itself`,
        );
    }
    return documents[0] ?? null;
}

/** More values, and deeper, than a stack file needs by far (a few dozen settings, a few levels). */
const maxValues = 10_000;
const maxDepth = 64;

/**
 * Whether `value`, with its aliases expanded, holds at most maxValues values
 * in at most maxDepth levels, and no value that holds itself. Linear in the
 * file: a subtree that aliases repeat is measured once; the recursion stops
 * past maxDepth.
 * @param {unknown} value @returns {boolean}
 */
function withinBounds(value) {
    const tooBig = { size: Infinity, height: Infinity };
    /** @type {Map<object, { size: number, height: number }>} */
    const measured = new Map();
    /** @param {unknown} v @param {number} depth @returns {{ size: number, height: number }} */
    const measure = (v, depth) => {
        if (v === null || typeof v !== "object") {
            return { size: 1, height: 0 };
        }
        const known = measured.get(v);
        if (known !== undefined) {
            return known;
        }
        if (depth > maxDepth) {
            return tooBig;
        }
        measured.set(v, tooBig); // until it is measured: met again inside itself, it holds itself
        let size = 1;
        let height = 0;
        for (const child of Object.values(v)) {
            const inner = measure(child, depth + 1);
            size += inner.size;
            height = Math.max(height, inner.height + 1);
            if (size > maxValues || depth + height > maxDepth) {
                return tooBig; // and stays measured so
            }
        }
        const result = { size, height };
        measured.set(v, result);
        return result;
    };
    const { size, height } = measure(value, 0);
    return size <= maxValues && height <= maxDepth;
}

/**
 * The first line of the parser's message ("unknown tag !<…> (3:5)"), unless
 * it quotes what looks like an API key (a key typed as a tag or an alias
 * name): then only where the problem is. A long Base64 run in it, which may
 * be a piece of a key, is not shown either.
 * @param {Error} error
 */
function parserMessage(error) {
    const line = error.message.split("\n")[0] ?? "";
    if (!looksLikeApiKey(line)) {
        return line.replace(/[A-Za-z0-9+/=_-]{24,}/g, "(not shown)");
    }
    const at = /\((\d+):(\d+)\)$/.exec(line);
    return `${at ? `at line ${at[1]}, column ${at[2]}; ` : ""}the parser's message quotes what looks like an API key, so it is not shown`;
}

/**
 * js-yaml 5 when it is installed, else undefined: before npm ci, or in an
 * install from before js-yaml 5 was a dependency, where the js-yaml 4 that
 * @pulumi/pulumi brings takes its place. Its version is read from its
 * package.json, not by loading it: a js-yaml 4 once loaded would stay in
 * Node's module cache after npm ci installed js-yaml 5.
 * @param {string} projectDir @returns {typeof import("js-yaml") | undefined}
 */
function installedYaml(projectDir) {
    let major;
    try {
        const manifest = JSON.parse(readFileSync(path.join(projectDir, "node_modules", "js-yaml", "package.json"), "utf8"));
        major = Number(String(manifest.version).split(".")[0]);
    } catch {
        return undefined;
    }
    try {
        // From the project's node_modules, the one whose version was read.
        return major >= 5 ? require(require.resolve("js-yaml", { paths: [projectDir] })) : undefined;
    } catch {
        return undefined; // half installed: its package.json without the code
    }
}

/** @param {string} stack @param {string} why */
function notYaml(stack, why) {
    return new CliError(`stacks/Pulumi.${stack}.yaml is not valid YAML (${why}); fix it, then run again.`, 2);
}

/**
 * Whether a stack file value was set with --secret, anywhere inside it (`config set --path --secret`
 * puts the `secure:` in a map or list).
 * @param {unknown} value @returns {boolean}
 */
function holdsSecure(value) {
    return typeof value === "object" && value !== null && ("secure" in value || Object.values(value).some((inner) => holdsSecure(inner)));
}

/**
 * What a stack file says, for a stack the backend does not know yet (its
 * file may already be committed): keyVersion and keyStage in the shape of
 * `pulumi config --json`, and whether it holds what only a deployed stack
 * has (an encrypted API key or a secrets provider's key material). Parsed as
 * YAML (the dependencies are installed by the time this runs); a file that is
 * not valid YAML is refused.
 * @param {string} stackFile @param {string} stack
 * @returns {{ config: Record<string, { value?: string, secret?: boolean }>, deployedElsewhere: string[] }}
 */
function stackFileSettings(stackFile, stack) {
    /** @type {unknown} */
    const parsed = parseStackFile(require("js-yaml"), stackFile, stack);
    const file = /** @type {Record<string, unknown>} */ (parsed !== null && typeof parsed === "object" ? parsed : {});
    const settings = /** @type {Record<string, unknown>} */ (file.config !== null && typeof file.config === "object" ? file.config : {});
    /** @type {Record<string, { value?: string, secret?: boolean }>} */
    const config = {};
    for (const key of ["qredo-partner-keys:keyVersion", "qredo-partner-keys:keyStage"]) {
        const value = settings[key];
        if (value !== undefined && value !== null) {
            // As pulumi config --json shows them: a secret without its value, anything else as text.
            config[key] = holdsSecure(value)
                ? { secret: true }
                : { value: typeof value === "object" ? JSON.stringify(value) : String(value) };
        }
    }
    const deployedElsewhere = [
        ...(settings["qredo-partner-keys:apiKey"] !== undefined ? ["an API key"] : []),
        ...["encryptionsalt", "encryptedkey"].filter((k) => file[k] !== undefined),
    ];
    return { config, deployedElsewhere };
}

/**
 * The stack's secrets provider: "passphrase", "awskms", another scheme, or
 * "service" (Pulumi Cloud's default); from its stack file, or for a new stack
 * from --secrets-provider and the backend's default.
 * @param {string} stackFile @param {string} backendUrl @param {string | undefined} requested
 */
function secretsProviderKind(stackFile, backendUrl, requested) {
    if (/^encryptionsalt:/m.test(stackFile)) {
        return "passphrase";
    }
    const declared = /^secretsprovider:\s*["']?([a-z0-9]+)/m.exec(stackFile)?.[1] ?? requested?.split(":")[0];
    if (declared !== undefined && declared !== "default") {
        return declared;
    }
    return /^https?:/.test(backendUrl) ? "service" : "passphrase";
}

/** This process's stdin, when it has one. */
function statStdin() {
    try {
        return fstatSync(0);
    } catch {
        return undefined;
    }
}

/**
 * The passphrase the user set, as pulumi will take it: PULUMI_CONFIG_PASSPHRASE
 * whenever it is set, even empty; else the file PULUMI_CONFIG_PASSPHRASE_FILE
 * names, unless that is empty (pulumi then treats it as unset). A relative
 * file is the user's (from where they ran npm), not the project folder's,
 * where pulumi runs: `file` is the absolute path to hand pulumi.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ source: "variable", empty: boolean } | { source: "file", file: string, empty: boolean, unreadable?: string } | { source: "none" }}
 */
function passphraseSetting(env) {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
        return { source: "variable", empty: env.PULUMI_CONFIG_PASSPHRASE === "" };
    }
    if (!env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        return { source: "none" };
    }
    const file = userPath(env.PULUMI_CONFIG_PASSPHRASE_FILE);
    try {
        // Each pulumi command would open its own stdin or descriptor: for `config set` that is the API key.
        // Checked on the path typed, the path it leads to, and the file itself (a symlink, /proc/self/root/…).
        const descriptor = /^\/dev\/(stdin|fd\/)|^\/proc\/[^/]+\/fd\//;
        const target = statSync(file);
        const stdin = statStdin();
        if (descriptor.test(file) || descriptor.test(realpathSync(file)) || (stdin?.dev === target.dev && stdin.ino === target.ino)) {
            return { source: "file", file, empty: false, unreadable: "stdin or a file descriptor, which every pulumi command opens anew" };
        }
        // A FIFO or a device would block this read, and pulumi reads the file once per command.
        if (!target.isFile()) {
            return { source: "file", file, empty: false, unreadable: target.isDirectory() ? "a directory" : "not a regular file" };
        }
        // Pulumi trims with Go's strings.TrimSpace, which also takes U+0085; JavaScript's \s does not.
        return { source: "file", file, empty: /^[\s\u0085]*$/.test(readFileSync(file, "utf8")) };
    } catch (err) {
        return { source: "file", file, empty: false, unreadable: /** @type {NodeJS.ErrnoException} */ (err).code ?? "error" };
    }
}

/**
 * Whether a stack, as `pulumi stack ls --json` lists it, was created but never
 * deployed: pulumi lists neither a last update nor resources for it.
 * @param {{ lastUpdate?: string, resourceCount?: number }} entry
 */
function neverDeployed(entry) {
    return entry.lastUpdate === undefined && !(Number(entry.resourceCount) > 0);
}

/** Whether a stack file holds the API key (its ciphertext, `secure: v1:…`). @param {string} text */
function stackFileHoldsApiKey(text) {
    return /^[ \t]+qredo-partner-keys:apiKey:/m.test(text);
}

/**
 * A stack whose secrets are about to be encrypted with the passphrase: a new
 * one, one created (npm run pulumi -- stack init) but never deployed, or one
 * moved to a passphrase (stack change-secrets-provider passphrase).
 * holdsKey: its stack file already holds the API key's ciphertext (a first
 * deploy whose `up` did not finish), which `stack rm` would delete.
 * @typedef {{ stack: string, kind: "new" | "never-deployed" | "change", holdsKey?: boolean }} PassphraseTarget
 */

/**
 * Throws for a passphrase file that cannot be read, and, for a target, for a
 * passphrase that is empty, set either way: as a typed empty passphrase is
 * refused, the stack's private key would be protected by nothing.
 * @param {ReturnType<typeof passphraseSetting>} setting @param {PassphraseTarget | undefined} target @param {number} code
 */
function refuseUnusablePassphrase(setting, target, code) {
    if (setting.source === "file" && setting.unreadable) {
        throw new CliError(
            `PULUMI_CONFIG_PASSPHRASE_FILE names ${setting.file}, which cannot be read (${setting.unreadable}). Point it at a regular file that holds the stack's passphrase, or unset it to be asked.`,
            code,
        );
    }
    if (target === undefined || setting.source === "none" || !setting.empty) {
        return;
    }
    const empty =
        setting.source === "variable" ? "PULUMI_CONFIG_PASSPHRASE is set but empty" : "PULUMI_CONFIG_PASSPHRASE_FILE names an empty file";
    const protectsNothing = "its private key among them, would be encrypted with an empty passphrase, which protects nothing";
    const kms = "'awskms://alias/NAME?region=REGION'";
    throw new CliError(
        {
            new: `${empty}: the new stack's secrets, ${protectsNothing}. Set a passphrase, or create the stack with --secrets-provider ${kms}.`,
            "never-deployed": target.holdsKey
                ? `${empty}: stack ${target.stack} has never been deployed, and its secrets, ${protectsNothing}. Its stack file already holds the API key, encrypted with the passphrase the stack was created with: set PULUMI_CONFIG_PASSPHRASE to that passphrase and run again. If it was created with an empty one, move it to a KMS key first: npm run pulumi -- stack change-secrets-provider --stack ${target.stack} ${kms}`
                : `${empty}: stack ${target.stack} has never been deployed, and its secrets, ${protectsNothing}. It holds nothing yet: remove it, keeping its stack file and settings (npm run pulumi -- stack rm --preserve-config ${target.stack}; without that flag pulumi deletes stacks/Pulumi.${target.stack}.yaml), delete the encryptionsalt line from that file (it belongs to the empty passphrase), then deploy it again with a passphrase set, or with --secrets-provider ${kms}.`,
            change: `${empty}: moved to a passphrase, the secrets of stack ${target.stack}, ${protectsNothing}. Set a passphrase, or move it to a KMS key instead: npm run pulumi -- stack change-secrets-provider --stack ${target.stack} ${kms}`,
        }[target.kind],
        code,
    );
}

/**
 * For commands that hand pulumi the user's passphrase settings as they are
 * (npm run pulumi, verify): the passphrase file as an absolute path, checked
 * as the deploy checks it; an empty passphrase refused for `target`.
 * @param {{ target?: PassphraseTarget, code: number }} options
 * @returns {Record<string, string>}
 */
function passphraseFileEnv({ target, code }) {
    const setting = passphraseSetting(process.env);
    refuseUnusablePassphrase(setting, target, code);
    return setting.source === "file" ? { PULUMI_CONFIG_PASSPHRASE_FILE: setting.file } : {};
}

/**
 * The passphrase environment for pulumi: what the user set, or asked on the
 * terminal (twice for a new stack, which fixes it for good). An empty one is
 * refused for a new stack, and for one that was created (npm run pulumi --
 * stack init) but never deployed: its secrets are about to be written.
 * @param {{ stack: string, newStack: boolean, neverDeployed?: boolean, holdsKey?: boolean, code: number }} options
 * @returns {Promise<Record<string, string>>}
 */
async function passphraseEnv({ stack, newStack, neverDeployed = false, holdsKey = false, code }) {
    const setting = passphraseSetting(process.env);
    /** @type {PassphraseTarget | undefined} */
    const target = newStack ? { stack, kind: "new" } : neverDeployed ? { stack, kind: "never-deployed", holdsKey } : undefined;
    refuseUnusablePassphrase(setting, target, code);
    if (setting.source === "variable") {
        return {};
    }
    if (setting.source === "file") {
        return { PULUMI_CONFIG_PASSPHRASE_FILE: setting.file };
    }
    if (!process.stdin.isTTY) {
        const other = newStack
            ? "or create the stack with --secrets-provider 'awskms://alias/NAME?region=REGION'"
            : `or move the stack to a KMS key (it then needs no passphrase): npm run pulumi -- stack change-secrets-provider --stack ${stack} 'awskms://alias/NAME?region=REGION'`;
        throw new CliError(
            `${newStack ? "a new stack" : `stack ${stack}`} encrypts its secrets with a passphrase, and there is no terminal to ask for it on: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, ${other}.`,
            code,
        );
    }
    const passphrase = await promptHidden(
        newStack
            ? "New stack: choose a passphrase for its secrets (keep it; it cannot be recovered): "
            : "Passphrase for the stack's secrets: ",
        code,
    );
    if (passphrase === "") {
        throw new CliError("an empty passphrase protects nothing; run again and enter one.", code);
    }
    if (newStack && (await promptHidden("Repeat the passphrase: ", code)) !== passphrase) {
        throw new CliError("the two passphrases differ; nothing was created. Run again.", code);
    }
    return { PULUMI_CONFIG_PASSPHRASE: passphrase };
}

/** @param {string} question @param {number} code @returns {Promise<string>} */
function promptHidden(question, code) {
    const readline = require("node:readline");
    const { Writable } = require("node:stream");
    // In terminal mode readline turns the terminal's own echo off and echoes
    // through `output`; an output that drops everything echoes nothing.
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    return new Promise((resolve, reject) => {
        const rl = readline.createInterface({ input: process.stdin, output: silent, terminal: true });
        let answered = false;
        process.stderr.write(question); // after the terminal's echo is off
        // Ctrl-C, Ctrl-D (end of input: readline closes without an answer, and
        // nothing else would keep the process alive to say so) or Ctrl-Z (readline
        // would stop the process and, after fg, leave the prompt paused: the same).
        const cancel = () => {
            process.stderr.write("\n");
            reject(new CliError("cancelled; nothing was changed.", code));
        };
        rl.on("SIGINT", () => rl.close());
        rl.on("SIGTSTP", () => rl.close());
        rl.on("close", () => {
            if (!answered) {
                cancel();
            }
        });
        rl.question("", (answer) => {
            answered = true;
            rl.close();
            process.stderr.write("\n");
            resolve(answer);
        });
    });
}

module.exports = {
    chooseBackend,
    holdsSecure,
    installedYaml,
    neverDeployed,
    parseStackFile,
    passphraseEnv,
    passphraseFileEnv,
    passphraseSetting,
    refuseUnusablePassphrase,
    secretsProviderKind,
    shownBackend,
    stackFileHoldsApiKey,
    stackFileSettings,
    stackFileText,
};
