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
        // The mock runtime is module state: every file runs in a worker thread of
        // its own, with its own module graph and its own copy of process.env
        // (cheaper to start than a process per file).
        pool: "threads",
        maxWorkers: 2,
        testTimeout: 30_000,
    },
});
