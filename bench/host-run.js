// @ts-check
// Stand-in for @pulumi/pulumi/cmd/run/index.js: runs the program through the
// SDK's own run() exactly as the language host does, but with Pulumi's mock
// monitor (pulumi.runtime.setMocks) in place of a real engine. Launch it with
// the arguments and environment from bench/host.js.
//
// On success it prints one line, `host-run: {"resources":[...],"outputs":[...],"ms":N}`.
// Errors are printed by run() itself, as the host prints them.
"use strict";
const started = process.hrtime.bigint();
const path = require("node:path");
const { setMocks } = require("@pulumi/pulumi/runtime/mocks");
const { invokeResult, providerState } = require("../test/support/providers.js");

/** @type {Record<string, string>} */
const flags = {};
const positional = [];
for (const arg of process.argv.slice(2)) {
    const flag = /^--([^=]+)=(.*)$/.exec(arg);
    if (flag) {
        flags[flag[1]] = flag[2];
    } else {
        positional.push(arg);
    }
}
// run() reads these from the environment, as cmd/run/index.js sets them.
process.env.PULUMI_NODEJS_PROJECT = flags.project;
process.env.PULUMI_NODEJS_STACK = flags.stack;

/** @type {string[]} */
const registered = [];
setMocks(
    {
        newResource(args) {
            registered.push(`${args.type} ${args.name}`);
            const state = providerState(args.type, args.name, args.inputs);
            return { id: /** @type {string} */ (state.id), state };
        },
        call: (args) => invokeResult(args.token, args.inputs),
    },
    flags.project,
    flags.stack,
    false,
);

// Exit codes as cmd/run/index.js sets them: 32 after an error the user was shown, 1 otherwise.
const loggedErrors = new Set();
const uncaughtErrors = new Set();
process.on("uncaughtException", (err) => uncaughtErrors.add(err));
process.on("unhandledRejection", (err) => uncaughtErrors.add(err));
process.on("exit", (code) => {
    if (code === 0 && uncaughtErrors.size > 0) {
        process.exitCode = [...uncaughtErrors].every((e) => loggedErrors.has(e)) ? 32 : 1;
    }
});

// run.js requires its wrapper (cmd/run/index.js) for one constant; the wrapper's
// main() would parse --monitor and dial a real engine, so stand it in.
const Module = require("node:module");
const wrapperPath = require.resolve("@pulumi/pulumi/cmd/run/index.js");
const wrapper = new Module(wrapperPath);
wrapper.filename = wrapperPath;
wrapper.loaded = true;
wrapper.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
require.cache[wrapperPath] = wrapper;

/** @type {(argv: object, started: () => void, reportLoggedError: (e: unknown) => void, isErrorReported: (e: unknown) => boolean) => Promise<Record<string, unknown>>} */
const run = /** @type {any} */ (require("@pulumi/pulumi/cmd/run/run.js")).run;
run(
    { _: positional, project: flags.project, stack: flags.stack },
    () => undefined,
    (err) => loggedErrors.add(err),
    (err) => loggedErrors.has(err),
).then(async (outputs) => {
    await require("@pulumi/pulumi").runtime.disconnect();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Which @pulumi/aws files were loaded: the root index pulls in every service.
    const awsRoot = require.resolve("@pulumi/aws");
    const loadedAwsRoot = Object.keys(require.cache).includes(awsRoot);
    // The program checks the API key with the client package, which loads the AWS SDK only to read secrets.
    const loadedAwsSdk = Object.keys(require.cache).some((file) => file.includes(`${path.sep}@aws-sdk${path.sep}`));
    console.log(
        `host-run: ${JSON.stringify({ resources: registered.sort(), outputs: Object.keys(outputs ?? {}).sort(), loadedAwsRoot, loadedAwsSdk, ms })}`,
    );
});
