// @ts-check
// Flags npm kept for itself. `npm run deploy sandbox --rotate` (no `--`) hands
// --rotate to npm, which sets npm_config_rotate and passes only `sandbox` to
// the script. Every script refuses rather than run without what was asked:
// deploy would skip a rotation, verify would pass without its live check, and
// `npm run pulumi config set --secret …` would store a secret in plain text.
"use strict";
const { CliError, keyOnCommandLine, quote } = require("./cli.js");
const { looksLikeApiKey } = require("./apiKeyInput.js");

/** The environment variable npm sets for a flag it kept. @param {string} name */
const npmVariable = (name) => `npm_config_${name.replaceAll("-", "_")}`;

/**
 * @typedef {{ [name: string]: { type: "string" | "boolean" } }} OptionSpec
 * @typedef {{ script: string, options: OptionSpec, code: number, placeholders?: Record<string, string> }} Command
 */

/**
 * The options of `command.options` that npm took: not in argv, and
 * npm_config_<flag> set: to "true", or to what followed `=` (--rotate=1 sets
 * "1"); npm sets "" for false (an .npmrc with yes=false), and "false" is false.
 * @param {string[]} argv @param {NodeJS.ProcessEnv} env @param {OptionSpec} options
 */
function swallowedFlags(argv, env, options) {
    return Object.keys(options).filter((name) => {
        const given = argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
        const value = env[npmVariable(name)];
        return !given && value !== undefined && value !== "" && (options[name].type === "string" || value !== "false");
    });
}

/**
 * Throws a usage CliError naming the flags npm took and the command the user
 * meant. Only under `npm run <script>`: run directly (node scripts/deploy.js),
 * an exported npm_config_yes (which guides suggest for npx) must not block the way out.
 * @param {string[]} argv @param {NodeJS.ProcessEnv} env @param {Command} command
 */
function refuseSwallowedFlags(argv, env, command) {
    const swallowed = swallowedFlags(argv, env, command.options);
    if (swallowed.length === 0 || env.npm_lifecycle_event !== command.script) {
        return;
    }
    const { stack, options } = swallowedCommand(argv, swallowed, env, command);
    // yes is also a real npm setting: an .npmrc with yes=true sets it for every run.
    const npmrc = swallowed.includes("yes")
        ? `\nIf your .npmrc sets yes=true, or your shell exports npm_config_yes, run node scripts/${command.script}.js ${stack} … directly (from the project folder), or remove that setting.`
        : "";
    // npm echoed the command line, and warned about the value it kept: a key there is on screen.
    const keyShown = [...argv, ...swallowed.map((name) => env[npmVariable(name)] ?? "")].some((a) => looksLikeApiKey(a))
        ? `\nAn argument looks like an API key; it is not repeated here. ${keyOnCommandLine(argv)}`
        : "";
    throw new CliError(
        `npm kept ${swallowed.map((name) => `--${name}`).join(" ")} for itself (it set ${swallowed.map(npmVariable).join(", ")}), so this script never saw ${swallowed.length > 1 ? "them" : "it"}. Put -- before the options:\n    npm run ${command.script} -- ${stack} ${options}${npmrc}${keyShown}`,
        command.code,
    );
}

/**
 * The command the user meant. npm takes a string flag as a boolean, so its
 * value is left among the positionals, before or after the stack: it is put
 * back only when it is clear which argument it is, and never when it looks
 * like a key.
 * @param {string[]} argv @param {string[]} swallowed @param {NodeJS.ProcessEnv} env @param {Command} command
 */
function swallowedCommand(argv, swallowed, env, command) {
    const positionals = argv.filter((a) => !a.startsWith("-"));
    const safe = positionals.filter((a) => /^[A-Za-z0-9_./-]+$/.test(a) && !looksLikeApiKey(a));
    const valued = swallowed.filter((n) => command.options[n].type === "string");
    const named = safe.filter((a) => a === "sandbox" || a === "production");
    const stack = positionals.length === 1 && safe.length === 1 ? safe[0] : named.length === 1 ? named[0] : "<stack>";
    const clear = valued.length === 1 && positionals.length === 2 && safe.length === 2 && stack !== "<stack>";
    const placeholder = (/** @type {string} */ name) => command.placeholders?.[name] ?? "PATH";
    const value = (/** @type {string} */ name) => {
        const given = env[npmVariable(name)] ?? "true";
        if (given !== "true") {
            // --flag=VALUE: npm kept the value itself
            return looksLikeApiKey(given) ? placeholder(name) : quote(given);
        }
        return clear ? /** @type {string} */ (safe.find((a) => a !== stack)) : placeholder(name);
    };
    return { stack, options: swallowed.map((name) => (valued.includes(name) ? `--${name} ${value(name)}` : `--${name}`)).join(" ") };
}

/**
 * Pulumi flags that npm takes for itself without `--` (npm has no setting of
 * these names). Losing one changes what a command does: --secret stores a value
 * in plain text, --stack acts on the selected stack, --target widens an update
 * or a destroy. Pulumi's flags that are also npm settings (--yes, --json,
 * --force, --color) are left out: a user's .npmrc may set those.
 */
const pulumiFlags = [
    "stack",
    "secret",
    "plaintext",
    "path",
    "show-secrets",
    "target",
    "target-dependents",
    "target-replace",
    "replace",
    "exclude",
    "exclude-dependents",
    "exclude-protected",
    "refresh",
    "skip-preview",
    "expect-no-changes",
    "config",
    "config-file",
    "remove",
    "preserve-config",
    "non-interactive",
    "suppress-outputs",
    "continue-on-error",
    "show-config",
    "show-replacement-steps",
    "show-sames",
    "secrets-provider",
    "copy-config-from",
    "preview-only",
    "policy-pack",
    "policy-pack-config",
    "file",
    "diff",
    "create",
    "run-program",
    "skip-pending-creates",
    "clear-pending-creates",
    "import-pending-creates",
    "save-plan",
    "parent",
    "provider",
    "from",
    "protect",
];

/**
 * Pulumi flags that npm records under other names (its one-letter flags, an
 * abbreviation of one of its settings, a negated flag): the npm variable each
 * sets, and the value that gives it away. -s (pulumi's --stack) is npm's
 * loglevel=silent, so it counts only for a command that acts on a stack and
 * names none: `npm run -s pulumi -- stack output --stack sandbox` is fine.
 * Pulumi flags npm reads as harmless settings of its own (-p, -m, -f, --all)
 * are left out: an .npmrc may set those, and pulumi loses nothing that matters.
 */
const pulumiFlagsUnderNpmNames = [
    // npm expands --replace, an abbreviation of its replace-registry-host setting (npmjs, never, always or a host)
    {
        flag: "--replace",
        variable: "npm_config_replace_registry_host",
        is: (/** @type {string} */ v) => !["", "npmjs", "never", "always"].includes(v) && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(v),
    },
    { flag: "-s (--stack)", variable: "npm_config_loglevel", is: (/** @type {string} */ v) => v === "silent" },
    { flag: "-c (--config)", variable: "npm_config_call", is: (/** @type {string} */ v) => v !== "" },
    { flag: "-t (--target)", variable: "npm_config_t", is: (/** @type {string} */ v) => v !== "" && v !== "false" },
    { flag: "-r (--refresh)", variable: "npm_config_r", is: (/** @type {string} */ v) => v !== "" && v !== "false" },
    // npm has no select setting: its variable exists only because npm took --no-select (set to "")
    { flag: "--no-select", variable: "npm_config_select", is: (/** @type {string} */ v) => v === "" || v === "false" },
];

/**
 * Pulumi's global flags that take no value: the only flags before the command
 * word that do not take the next argument as theirs.
 */
const globalSwitches = new Set([
    "--disable-integrity-checking",
    "--emoji",
    "-e",
    "--fully-qualify-stack-names",
    "-Q",
    "--logflow",
    "--logtostderr",
    "--non-interactive",
    "--help",
    "-h",
]);

/**
 * The command words of a pulumi argv (`stack output`, `deployment run update`):
 * the first found as the CLI's parser (cobra) finds it, where a flag before it
 * written without `=` takes the next argument as its value unless it is one of
 * the global switches (so `--stack sandbox up`, `-s sandbox up` and `-v 9
 * update` all run the word after the value); then the words that follow it.
 * @param {string[]} argv @returns {string[]}
 */
function commandWords(argv) {
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            return [];
        }
        if (!a.startsWith("-") && a !== "") {
            return [a, ...argv.slice(i + 1).filter((w) => !w.startsWith("-"))];
        }
        const takesNext = !a.includes("=") && !globalSwitches.has(a) && (a.startsWith("--") || a.length === 2);
        if (takesNext) {
            i++;
        }
    }
    return [];
}

/** Commands that act on the selected stack when no --stack is given. @param {string[]} argv */
function actsOnAStack(argv) {
    const [command, sub] = commandWords(argv);
    if (command === "stack") {
        return sub !== undefined && !["ls", "init", "select", "rm"].includes(sub);
    }
    return ["up", "update", "preview", "destroy", "refresh", "import", "config", "state", "cancel", "watch"].includes(command ?? "");
}

/** Pulumi flags whose names other tools also keep in .npmrc (electron, node-gyp). */
const npmrcNames = new Set(["target", "diff", "provider", "file", "from", "parent", "config", "path", "remove", "protect"]);

/** npm settings whose values are command lines of their own, so a leading -- is theirs. */
const npmSettingsWithFlags = new Set(["node-options", "script-shell", "shell", "editor", "browser", "git"]);

/**
 * `npm run pulumi config set --secret apiKey` without `--`: refuse, naming the
 * flags npm took, without repeating any argument (one may be a secret value).
 * @param {string[]} argv @param {NodeJS.ProcessEnv} env @param {number} code
 */
function refuseSwallowedPulumiFlags(argv, env, code) {
    if (env.npm_lifecycle_event !== "pulumi") {
        return;
    }
    const swallowed = pulumiFlags.filter((name) => {
        const value = env[npmVariable(name)];
        const given = argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
        // Names an .npmrc may set for other tools (electron's target=30.0.0): only what npm sets for the
        // flag typed without -- counts, "true", or a URN typed as --target=URN.
        const taken = npmrcNames.has(name)
            ? value === "true" || value === "1" || /^urn:/.test(value ?? "")
            : value !== undefined && value !== "" && value !== "false";
        return taken && !given;
    });
    const variables = swallowed.map(npmVariable);
    const names = swallowed.map((name) => `--${name}`);
    for (const { flag, variable, is } of pulumiFlagsUnderNpmNames) {
        const value = env[variable];
        if (value === undefined || !is(value)) {
            continue;
        }
        if (flag.startsWith("-s ") && (!actsOnAStack(argv) || argv.some((a) => /^(-s|--stack)($|=)|^-s./.test(a)))) {
            continue;
        }
        names.push(flag);
        variables.push(`${variable}=${value === "silent" ? value : "…"}`);
    }
    // A flag npm took as the value of one of its own settings (npm run pulumi preview --diff --stack x: npm_config_diff=--stack).
    for (const [variable, value] of Object.entries(env)) {
        const name = /^npm_config_(.+)$/.exec(variable)?.[1]?.replaceAll("_", "-");
        if (name !== undefined && !npmSettingsWithFlags.has(name) && /^--[A-Za-z][\w-]*$/.test(value ?? "") && !swallowed.includes(name)) {
            names.push(`--${name}`);
            variables.push(variable);
        }
    }
    if (names.length === 0) {
        return;
    }
    const history = argv.some((a) => looksLikeApiKey(a))
        ? `\nAn argument looks like an API key; it is not repeated here. ${keyOnCommandLine(argv)} Give the API key on stdin (npm run pulumi -- config set --stack STACK --secret apiKey < apikey).`
        : "";
    const command = pulumiCommand(argv);
    if (names.length === 1 && names[0] === "-s (--stack)") {
        // No flag may be missing at all: -s before the script, or an .npmrc, sets the same.
        throw new CliError(
            `npm's log level is silent (from -s, or loglevel=silent in an .npmrc), and \`pulumi ${command}\` names no stack: if -s was meant as pulumi's --stack, npm took it; nothing was run. Name the stack after --:\n    npm run pulumi -- ${command} --stack sandbox …${history}`,
            code,
        );
    }
    const flags = names.map((name) => name.replace(/^-\w \((--[\w-]+)\)$/, "$1"));
    throw new CliError(
        `npm kept ${names.join(" ")} for itself (it set ${variables.join(", ")}), so pulumi would never see ${names.length > 1 ? "them" : "it"}; nothing was run. Put -- right after npm run pulumi and type the rest as before (${flags.join(", ")} included):\n    npm run pulumi -- ${command} …${history}`,
        code,
    );
}

/** Pulumi's top-level commands. */
const pulumiCommands = new Set(
    (
        "about cancel config console convert deployment destroy env help import install login logout logs new " +
        "org package plugin policy preview refresh schema stack state up update version watch whoami"
    ).split(" "),
);

/** The pulumi command words (`up`, `config set`, `stack output`) of argv, for an example. @param {string[]} argv */
function pulumiCommand(argv) {
    const words = commandWords(argv);
    // npm run pulumi --stack sandbox stack output: npm took --stack alone, so its value comes first.
    if (!pulumiCommands.has(words[0] ?? "") && pulumiCommands.has(words[1] ?? "")) {
        words.shift();
    }
    const [first, second] = words;
    if (first === undefined || !/^[a-z][a-z-]*$/.test(first)) {
        return "<command>";
    }
    const grouped = ["stack", "config", "state", "plugin", "policy", "org", "package", "schema"].includes(first);
    // For the two most used groups, only their subcommands: a stack name npm left behind (npm run pulumi config
    // --stack sandbox: npm took --stack, not its value) is not one.
    const known = /** @type {Record<string, string[]>} */ ({
        config: ["cp", "env", "get", "refresh", "rm", "rm-all", "set", "set-all"],
        stack: [
            "change-secrets-provider",
            "export",
            "graph",
            "history",
            "import",
            "init",
            "ls",
            "output",
            "rename",
            "rm",
            "select",
            "tag",
            "unselect",
        ],
    })[first];
    const sub = second !== undefined && /^[a-z][a-z-]*$/.test(second) && (known === undefined || known.includes(second));
    return grouped && sub ? `${first} ${second}` : first;
}

module.exports = { actsOnAStack, commandWords, globalSwitches, refuseSwallowedFlags, refuseSwallowedPulumiFlags };
