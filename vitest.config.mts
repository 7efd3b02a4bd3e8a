import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.spec.ts"],
        // The mock runtime is process-global state: one file at a time, in one process per file.
        pool: "forks",
        fileParallelism: false,
        testTimeout: 30_000,
    },
});
