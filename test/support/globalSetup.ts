// Before any test file starts: builds client/dist and bin/ once (the script
// and language-host tests run the built code, and test files running side by
// side must not each start a build of the same folders), and makes the test
// keys (testKeys.ts) meanwhile, on the thread pool. Points TMPDIR at a
// RAM-backed folder where the machine has one (ramTmpdir.ts), removed when the
// run ends.
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { build, isFresh } from "../../scripts/build.js";
import { ramTempDir } from "./ramTmpdir";
import { generateTestKeys } from "./testKeys";

export default async function setup(project: TestProject): Promise<() => void> {
    const tmp = ramTempDir();
    const removeTmp = () => {
        if (tmp !== undefined) {
            rmSync(tmp, { recursive: true, force: true });
        }
    };
    if (tmp !== undefined) {
        process.env.TMPDIR = tmp; // the test threads and every process they start inherit it
        process.once("exit", removeTmp); // also when the run is stopped (Ctrl-C)
    }
    const keys = generateTestKeys();
    if (!isFresh() && !build()) {
        const error = new Error("the project does not compile (tsc's errors are above); fix it before running the tests");
        error.stack = `Error: ${error.message}`; // vitest prints the stack: its own frames would only hide the message
        throw error;
    }
    project.provide("testKeys", await keys);
    return removeTmp;
}
