// @ts-check
// The entry point Pulumi runs (package.json `main`; Pulumi.yaml names no
// `main`, so the host runs this folder): the compiled program in
// bin/, never stale. If the sources changed since the last build, rebuild
// first (type-checked); if they do not compile, stop before anything runs.
"use strict";
const { build, isFresh } = require("./build.js");

if (!isFresh()) {
    console.log("qredo-partner-keys: the sources changed since the last build; compiling them (npm run build)…");
    if (!build()) {
        const { RunError } = require("@pulumi/pulumi");
        throw new RunError(
            "The program does not compile (the TypeScript errors are printed above); nothing was deployed. Fix them (npm run build shows them again), then deploy again.",
        );
    }
}

// A computed path: the type-checker must not follow it into build output.
module.exports = require(require("node:path").join(__dirname, "..", "bin", "index.js"));
