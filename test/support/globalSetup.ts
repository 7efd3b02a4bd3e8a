// Before any test file starts: gives the run a temporary folder of its own
// (suiteTmpdir.ts: every test file and every process they start gets it as
// TMPDIR), builds client/dist and bin/ once (the script and language-host
// tests run the built code, and test files running side by side must not each
// start a build of the same folders), and makes the test keys (testKeys.ts)
// meanwhile, on the thread pool.
import type { TestProject } from "vitest/node";
import { build, isFresh } from "../../scripts/build.js";
import { removeRunFolder, suiteTmpdir } from "./suiteTmpdir";
import { generateTestKeys } from "./testKeys";

/** An error vitest shows as its message alone: its own frames would only hide it. */
function setupError(message: string): Error {
    const error = new Error(message);
    error.stack = `Error: ${message}`;
    return error;
}

export default async function setup(project: TestProject): Promise<() => void> {
    let tmp: string;
    try {
        tmp = suiteTmpdir();
    } catch (error) {
        throw setupError((error as Error).message);
    }
    const removeTmp = () => removeRunFolder(tmp);
    process.env.TMPDIR = tmp;
    process.once("exit", removeTmp); // vitest exits on SIGINT and SIGTERM too
    process.once("SIGHUP", () => {
        removeTmp();
        process.kill(process.pid, "SIGHUP"); // then ends as the signal would have ended it
    });
    const keys = generateTestKeys();
    if (!isFresh() && !build()) {
        throw setupError("the project does not compile (tsc's errors are above); fix it before running the tests");
    }
    project.provide("testKeys", await keys);
    return removeTmp;
}
