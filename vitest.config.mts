import { defineConfig } from "vitest/config";

// Tests import the client package from its TypeScript sources (the same
// condition tsconfig.json sets), so a test run never needs a build first.
const sourceConditions = ["@qredo-partner-keys/source", "node", "import", "require", "default"];

export default defineConfig({
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ["@qredo-partner-keys/source"] } },
    test: {
        include: ["test/**/*.spec.ts"],
        globalSetup: ["test/support/globalSetup.ts"],
        // Files run in two worker threads and share what those have loaded, so
        // @pulumi/pulumi and the AWS SDK load once per thread, not once per file.
        // The mock runtime is module state: runProgram (test/mocks.ts) resets it
        // and the program's modules for every stack it runs. What a file changes
        // in its thread (spies, environment) is given back when it ends
        // (test/support/isolation.ts).
        pool: "threads",
        maxWorkers: 2,
        isolate: false,
        restoreMocks: true,
        setupFiles: ["test/support/isolation.ts"],
        // Bounds, not targets: setups pack and install a package or copy the
        // project, which a loaded machine can slow several times over.
        testTimeout: 30_000,
        hookTimeout: 60_000,
    },
});
