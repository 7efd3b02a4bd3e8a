// @ts-check
// What `npm run deploy` and `npm run verify` share: finding and running the
// Pulumi CLI, the state backend, the dependencies and the build. Plain Node.js
// with no dependencies: it runs before the project's dependencies exist.
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const { accessSync, constants, existsSync, readFileSync, statSync } = require("node:fs");
const { homedir } = require("node:os");
const path = require("node:path");
const { parseArgs } = require("node:util");
const { looksLikeApiKey } = require("./apiKeyInput.js");
const { plainEnv, pulumiEnv } = require("./childEnv.js");

const projectDir = path.resolve(__dirname, "..", "..");
/** The oldest CLI that runs this program (it uses the `replaceWith` resource option). */
const minimumPulumiVersion = "3.248.0";
/**
 * How the program's configuration fixes start when these scripts ran pulumi
 * (one of src/configParsers.ts's configCommands): through npm run pulumi, which
 * finds this stack's backend and passphrase as the deploy did.
 */
const configCommand = "npm run pulumi -- config";
/** Where state lives when no backend is configured (git-ignored). */
const localBackendDir = path.join(projectDir, ".pulumi-state");

/** A failure the user can act on: printed without a stack trace, exiting with `code`. */
class CliError extends Error {
    /** @param {string} message @param {number} code */
    constructor(message, code) {
        super(message);
        this.code = code;
    }
}

/** @param {string} script  e.g. "deploy" */
function reporter(script) {
    return (/** @type {string} */ message) => process.stderr.write(`${script}: ${message}\n`);
}

/**
 * Runs `main`, turning a CliError into its message and exit code.
 * @param {string} script @param {() => Promise<void>} main
 */
function runMain(script, main) {
    main().catch((error) => {
        if (!(error instanceof CliError)) {
            throw error;
        }
        reporter(script)(`error: ${error.message}`);
        process.exitCode = error.code;
    });
}

/**
 * Where a key typed on this command line (argv) is left, beyond the screen:
 * the shell's history; under npm, the line npm echoed before running the
 * script (unless it ran silent, or the key went into one of npm's settings
 * instead), and npm's debug log, which records every run's command line.
 * @param {string[]} argv  the script's arguments
 * @returns {string}
 */
function keyOnCommandLine(argv) {
    const env = process.env;
    const underNpm = env.npm_lifecycle_event !== undefined;
    const echoed = underNpm && env.npm_config_loglevel !== "silent" && argv.some((a) => looksLikeApiKey(a));
    const logs = env.npm_config_logs_dir || path.join(env.npm_config_cache || path.join(homedir(), ".npm"), "_logs");
    return [
        "Keys typed on a command line stay in the shell's history: clear that entry.",
        ...(echoed
            ? [
                  "npm printed the command line above this message, key included: clear the terminal's scrollback (and the CI log, if this ran there).",
              ]
            : []),
        ...(underNpm && env.npm_config_logs_max !== "0"
            ? [`npm also wrote the command line to its debug log: delete those logs (rm ${quote(logs)}/*-debug-*.log).`]
            : []),
    ].join(" ");
}

/**
 * Single-quotes a word for a POSIX shell when it needs it, so a command in a message pastes as it is.
 * @param {string} v
 */
const quote = (v) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`);

/**
 * For pulumi's `--stack NAME` (or `-s NAME`, `--stack=NAME`): the command with
 * the stack first, rebuilt from the options parsed, never copied from argv.
 * Only when that is the whole story: one plain stack name, no stack given
 * besides, every other argument an option of this command.
 * @param {string} flag  the unknown option as typed @param {string[]} argv
 * @param {import("node:util").ParseArgsConfig["options"]} options @param {string} usage
 * @returns {string | undefined}
 */
function stackFirst(flag, argv, options, usage) {
    const command = /^usage: (npm run \S+ --)/.exec(usage)?.[1];
    if (command === undefined) {
        return undefined;
    }
    const at = argv.indexOf(flag);
    const inline = flag.includes("=");
    const stack = inline ? flag.slice(flag.indexOf("=") + 1) : argv[at + 1];
    if (stack === undefined || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(stack)) {
        return undefined; // none, an option, or org/project/stack: not a name this command takes
    }
    let rest;
    try {
        rest = parseArgs({
            args: argv.filter((_, i) => i !== at && (inline || i !== at + 1)),
            allowPositionals: true,
            options,
            strict: true,
        });
    } catch {
        return undefined;
    }
    if (rest.positionals.length > 0) {
        return undefined; // a stack given besides: which one was meant is the user's to say
    }
    // A value that starts with a dash only pastes back as --option=VALUE.
    const words = Object.entries(rest.values).flatMap(([option, value]) =>
        value === true
            ? [`--${option}`]
            : typeof value === "string"
              ? value.startsWith("-")
                  ? [`--${option}=${quote(value)}`]
                  : [`--${option}`, quote(value)]
              : [],
    );
    return [command, stack, ...words].join(" ");
}

/**
 * parseArgs's complaint in the words of this command: an unknown option with
 * the likely one (for pulumi's --stack, the command with the stack first);
 * never an argument that looks like an API key.
 * @param {Error & { code?: string }} error @param {string[]} argv
 * @param {import("node:util").ParseArgsConfig["options"]} options @param {string} usage  "usage: npm run deploy -- <stack> …"
 */
function argumentProblem(error, argv, options, usage) {
    const known = Object.keys(options ?? {});
    if (argv.some((a) => looksLikeApiKey(a.replace(/^-+/, "").replace(/^[\w-]+=/, "")))) {
        return `an argument looks like an API key; it is not repeated here, and nothing was run.${known.includes("api-key-file") ? " Give the key in a file: --api-key-file PATH." : ""} ${keyOnCommandLine(argv)}`;
    }
    const unknown =
        error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
            ? argv.find((a) => a.startsWith("-") && !known.includes(a.replace(/^-+/, "").split("=")[0]) && a !== "--help" && a !== "--")
            : undefined;
    if (unknown !== undefined) {
        const name = unknown.replace(/^-+/, "").split("=")[0];
        if (name === "stack" || name === "s") {
            // Pulumi's way; here the stack is the first word. Never a guess at another option (-s is not --yes).
            const fixed = stackFirst(unknown, argv, options, usage);
            return `unknown option ${unknown.split("=")[0]}: the stack is the first word${fixed === undefined ? " (the usage is below)." : `, without it:\n    ${fixed}`}`;
        }
        const close = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
        return `unknown option ${unknown.split("=")[0]}.${close !== undefined && distance(name, close) <= 3 ? ` Did you mean --${close}?` : ""}`;
    }
    return error.message;
}

/** Levenshtein distance. @param {string} a @param {string} b */
function distance(a, b) {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = row;
    }
    return previous[b.length];
}

/**
 * Parses `<stack> [options]` (plus --help). Returns undefined for --help;
 * throws a CliError with the usage for anything else that does not fit.
 * @param {string[]} argv
 * @param {import("node:util").ParseArgsConfig["options"]} options
 * @param {string} usage
 * @param {number} code  exit code for a usage error
 * @returns {({ stack: string } & Record<string, any>) | undefined}
 */
function parseStackCommand(argv, options, usage, code) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, help: { type: "boolean", default: false } } });
    } catch (error) {
        throw new CliError(`${argumentProblem(/** @type {Error & { code?: string }} */ (error), argv, options, usage)}\n\n${usage}`, code);
    }
    if (parsed.values.help) {
        return undefined;
    }
    // Only where the command takes a key file (deploy) is it the way to give the key.
    const keyFile = options !== undefined && "api-key-file" in options ? "; give the key in a file: --api-key-file PATH" : "";
    if (parsed.positionals.some((a) => looksLikeApiKey(a))) {
        const what = parsed.positionals.length === 1 ? "the stack name looks" : "an argument looks";
        throw new CliError(
            `${what} like an API key; it is not repeated here, and nothing was run. Name the stack first (sandbox or production)${keyFile}. ${keyOnCommandLine(argv)}`,
            code,
        );
    }
    if (parsed.positionals.length !== 1) {
        throw new CliError(`name one stack.\n\n${usage}`, code);
    }
    const stack = parsed.positionals[0];
    for (const [name, value] of Object.entries(parsed.values)) {
        // --api-key-file is the caller's to judge: there a key-like value may also be a file's name.
        if (name !== "api-key-file" && typeof value === "string" && looksLikeApiKey(value)) {
            throw new CliError(
                `the value of --${name} looks like an API key; it is not repeated here, and nothing was run. Give --${name} what it asks for (see --help)${keyFile}. ${keyOnCommandLine(argv)}`,
                code,
            );
        }
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        throw new CliError(
            `"${stack}" is not a stack name: use letters, digits, "-", "_" and "." only (for example sandbox or production).`,
            code,
        );
    }
    return { ...parsed.values, stack };
}

/** Paths the user typed are relative to where they ran npm, not to the project. */
function userPath(/** @type {string} */ p) {
    return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** npm writes node_modules/.package-lock.json on every install; older than the manifests means stale. */
function dependenciesUpToDate() {
    const installed = path.join(projectDir, "node_modules", ".package-lock.json");
    if (!existsSync(installed)) {
        return false;
    }
    const installedAt = statSync(installed).mtimeMs;
    return ["package.json", "package-lock.json"].every((f) => statSync(path.join(projectDir, f)).mtimeMs <= installedAt);
}

/** The process that started this one: when it is gone, whoever ran us wants us stopped (see runToItsEnd). */
const launchedBy = process.ppid;

/**
 * Runs a command to its end, asynchronously, so that SIGINT and SIGTERM do not
 * kill this process under it: it waits for the command to stop and reports the
 * signal. With `forward` (pulumi up, which then cancels cleanly and unlocks the
 * stack) the signal is handed on; without it (npm ci, which must not be left
 * running behind us nor be cut short) the command stays in our process group,
 * so a terminal's Ctrl-C or a group kill reaches it, and a signal sent to us
 * alone lets it finish first.
 * @param {string} command @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, stdio: import("node:child_process").StdioOptions }} options
 * @param {{ forward: boolean }} how
 * @returns {Promise<{ status: number, interrupted: NodeJS.Signals | undefined }>}
 */
function runToItsEnd(command, args, options, how) {
    // Forwarding without a terminal: the child gets its own process group, so a
    // signal sent to our group reaches it exactly once, through us. On a terminal
    // it shares our group, Ctrl-C reaches it directly, and a second SIGINT
    // from us would make pulumi abandon the update instead of cancelling it.
    const ownGroup = how.forward && !process.stdin.isTTY;
    /** @type {NodeJS.Signals | undefined} */
    let interrupted;
    const forwarded = new Set();
    const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
        interrupted = interrupted ?? signal;
        if (!how.forward || forwarded.has(signal) || (signal === "SIGINT" && !ownGroup)) {
            return;
        }
        forwarded.add(signal);
        child.kill(signal);
    };
    // Listening before the spawn: a Ctrl-C at that moment would otherwise end this process and leave the child.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const child = spawn(command, args, { ...options, detached: ownGroup });
    // `npm run` passes a signal to `sh -c`, and dash dies of it without
    // passing it on: this process then only sees its parent change.
    const parentGone = () => {
        if (process.ppid !== launchedBy) {
            clearInterval(watch);
            onSignal("SIGTERM");
        }
    };
    const watch = setInterval(parentGone, 500);
    parentGone();
    const stopListening = () => {
        clearInterval(watch);
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
    };
    return new Promise((resolve, reject) => {
        child.on("error", (error) => {
            stopListening();
            reject(error);
        });
        child.on("close", (code) => {
            stopListening();
            resolve({ status: code ?? 1, interrupted });
        });
    });
}

/**
 * Installs the dependencies when missing or stale, then compiles the program if its sources changed.
 * @param {(m: string) => void} say @param {number} code @returns {Promise<void>}
 */
async function ensureInstalledAndBuilt(say, code) {
    if (!dependenciesUpToDate()) {
        say("installing the project's dependencies (npm ci)…");
        // --ignore-scripts: the only dependency with an install script is
        // protobufjs, whose postinstall merely warns about version ranges; and
        // install scripts get no credential in their environment either way.
        const npm = await runToItsEnd(
            "npm",
            ["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            { cwd: projectDir, env: plainEnv(process.env), stdio: ["ignore", process.stderr, "inherit"] },
            { forward: false },
        ).catch((/** @type {Error} */ error) => {
            throw new CliError(`could not run npm ci: ${error.message}`, code);
        });
        if (npm.interrupted !== undefined) {
            throw new CliError(
                npm.status === 0
                    ? `interrupted (${npm.interrupted}) while npm ci ran; it was left to finish, and nothing was deployed. Run the same command again.`
                    : `npm ci was interrupted (${npm.interrupted}) and has stopped; nothing was deployed. The dependencies may be half installed: run the same command again, and it installs them first.`,
                npm.interrupted === "SIGTERM" ? 143 : 130,
            );
        }
        if (npm.status !== 0) {
            throw new CliError("npm ci failed (its output is above). Check Node.js and npm, then run again.", code);
        }
    }
    const { build, isFresh } = require("../build.js");
    if (!isFresh() && !build()) {
        throw new CliError("the program does not compile (the TypeScript errors are above); nothing was changed.", code);
    }
}

/** @param {string} name */
function findOnPath(name) {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, name);
        try {
            accessSync(candidate, constants.X_OK);
            return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/** @param {string} a @param {string} b  dotted versions; negative when a < b */
function compareVersions(a, b) {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < 3; i++) {
        if ((pa[i] ?? 0) !== (pb[i] ?? 0)) {
            return (pa[i] ?? 0) - (pb[i] ?? 0);
        }
    }
    return 0;
}

/** The backend in use: PULUMI_BACKEND_URL, a token, or the CLI's current login; undefined when none. */
function configuredBackend() {
    if (process.env.PULUMI_BACKEND_URL) {
        return process.env.PULUMI_BACKEND_URL;
    }
    if (process.env.PULUMI_ACCESS_TOKEN) {
        return "https://api.pulumi.com";
    }
    const credentials = path.join(process.env.PULUMI_HOME ?? path.join(homedir(), ".pulumi"), "credentials.json");
    try {
        const current = JSON.parse(readFileSync(credentials, "utf8")).current;
        return typeof current === "string" && current !== "" ? current : undefined;
    } catch {
        return undefined;
    }
}

/** Seconds a quick pulumi command (version, config, stack output) may take; a slow backend can raise it. */
function quickTimeoutMs() {
    const seconds = Number(process.env.QREDO_PULUMI_TIMEOUT_SECONDS ?? 120);
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000;
}

/** `pulumi stack output` for `args`, as the user would recognise it. @param {string[]} args */
function commandName(args) {
    const firstFlag = args.findIndex((a) => a.startsWith("-"));
    return args.slice(0, firstFlag === -1 ? 2 : Math.min(2, firstFlag)).join(" ");
}

const installAdvice = `Install it with the official installer:
    curl -fsSL https://get.pulumi.com | sh
(or see https://www.pulumi.com/docs/iac/download-install/), open a new shell, and run this again.`;

/** The Pulumi CLI, run in the project folder with extra environment. Secrets go on stdin, never in arguments. */
class PulumiCli {
    /** @param {number} failureCode  exit code for a failed command */
    constructor(failureCode) {
        this.failureCode = failureCode;
        /** @type {Record<string, string>} extra environment for every command but `version` */
        this.env = {};
        /** Whether every stack command reaches AWS (S3 backend, awskms secrets); `up` always does. */
        this.stateNeedsAws = true;
    }

    /** Checks the CLI is on PATH. @param {number} code */
    ensureOnPath(code) {
        if (findOnPath("pulumi") === undefined) {
            throw new CliError(
                `the Pulumi CLI is not on your PATH. This project needs v${minimumPulumiVersion} or later.\n${installAdvice}`,
                code,
            );
        }
    }

    /** Checks the CLI is on PATH and new enough. @param {number} code */
    ensureInstalled(code) {
        this.ensureOnPath(code);
        const version = /v?(\d+\.\d+\.\d+)/.exec(this.run(["version"], { capture: true }).stdout)?.[1];
        if (version === undefined || compareVersions(version, minimumPulumiVersion) < 0) {
            throw new CliError(
                `the Pulumi CLI is v${version ?? "unknown"}; this project needs v${minimumPulumiVersion} or later.\n${installAdvice}`,
                code,
            );
        }
    }

    /**
     * The environment for `args`: no QREDO_API_KEY ever; AWS only where needed.
     * @param {string[]} args @param {boolean} [needsAws]  this command reaches AWS (another stack's KMS key, say)
     */
    childEnv(args, needsAws = false) {
        const stackAccess = args[0] !== "version";
        const aws = stackAccess && (needsAws || this.stateNeedsAws || ["up", "preview", "refresh", "destroy"].includes(args[0]));
        /** @type {Record<string, string>} */
        const env = {
            ...pulumiEnv(process.env, { aws, stackAccess }),
            ...(stackAccess ? { ...this.env, PARTNER_KEYS_CONFIG_COMMAND: configCommand } : {}),
        };
        if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
            // pulumi runs in the project folder; the user named the file from where they ran npm
            env.PULUMI_CONFIG_PASSPHRASE_FILE = userPath(env.PULUMI_CONFIG_PASSPHRASE_FILE);
        }
        return env;
    }

    /**
     * A quick command, run to completion with a timeout.
     * @param {string[]} args
     * @param {{ capture?: boolean, stdin?: string, check?: boolean, quiet?: boolean, aws?: boolean, holdErrors?: (status: number) => CliError | undefined }} [options]
     *   holdErrors: pulumi's stderr is held back; on a failure this may give the error to throw
     *   instead (pulumi's own message is then not shown), else the held output is printed.
     *   quiet: pulumi's stderr is dropped, and a failure, a timeout too, is only the status returned (a question that
     *   may have no answer). aws: the command reaches AWS although the stack's own state and secrets do not.
     */
    run(args, options = {}) {
        const timeout = quickTimeoutMs();
        const result = spawnSync("pulumi", args, {
            cwd: projectDir,
            env: this.childEnv(args, options.aws),
            input: options.stdin,
            stdio: [
                options.stdin === undefined ? "inherit" : "pipe",
                options.capture ? "pipe" : "inherit",
                options.holdErrors || options.quiet ? "pipe" : "inherit",
            ],
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            timeout,
            killSignal: "SIGTERM",
        });
        if (options.quiet) {
            return { status: result.error ? 1 : (result.status ?? 1), stdout: result.error ? "" : (result.stdout ?? "") };
        }
        if (result.error && /** @type {NodeJS.ErrnoException} */ (result.error).code === "ETIMEDOUT") {
            throw new CliError(
                `\`pulumi ${commandName(args)}\` did not finish within ${timeout / 1000} s and was stopped. Check that the backend and AWS are reachable (or set QREDO_PULUMI_TIMEOUT_SECONDS higher), then run again.`,
                this.failureCode,
            );
        }
        if (result.error) {
            throw new CliError(`could not run pulumi: ${result.error.message}`, this.failureCode);
        }
        if (options.holdErrors && result.status !== 0) {
            const instead = options.holdErrors(result.status ?? 1);
            if (instead !== undefined) {
                throw instead;
            }
            process.stderr.write(result.stderr ?? "");
        }
        if (options.check !== false && result.status !== 0) {
            throw new CliError(`\`pulumi ${commandName(args)}\` failed (exit ${result.status}); its output is above.`, this.failureCode);
        }
        return { status: result.status ?? 1, stdout: result.stdout ?? "" };
    }

    /**
     * A long command (`up`, or anything the user runs), run to its end (runToItsEnd).
     * @param {string[]} args
     * @returns {Promise<{ status: number, interrupted: NodeJS.Signals | undefined }>}
     */
    runLong(args) {
        return runToItsEnd("pulumi", args, { cwd: projectDir, env: this.childEnv(args), stdio: "inherit" }, { forward: true }).catch(
            (error) => {
                throw new CliError(`could not run pulumi: ${error.message}`, this.failureCode);
            },
        );
    }
}

module.exports = {
    distance,
    CliError,
    PulumiCli,
    commandName,
    configuredBackend,
    ensureInstalledAndBuilt,
    localBackendDir,
    minimumPulumiVersion,
    parseStackCommand,
    projectDir,
    reporter,
    runMain,
    keyOnCommandLine,
    quote,
    userPath,
};
