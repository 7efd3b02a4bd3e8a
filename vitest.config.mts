import { defineConfig } from "vitest/config";

// Tests import the client package from its TypeScript sources (the same
// condition tsconfig.json sets), so a test run never needs a build first.
const sourceConditions = ["@qredo-partner-keys/source", "node", "import", "require", "default"];

export default defineConfig({
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ["@qredo-partner-keys/source"] } },
    test: {
        include: ["test/**/*.spec.ts"],
        // The mock runtime is process-global state: one file at a time, in one process per file.
        pool: "forks",
        fileParallelism: false,
        testTimeout: 30_000,
    },
});
