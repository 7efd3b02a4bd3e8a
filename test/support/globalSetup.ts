// Builds client/dist and bin/ once, before any test file starts: the script
// and language-host tests run the built code, and test files running side by
// side must not each start a build of the same folders.
import { build, isFresh } from "../../scripts/build.js";

export default function setup(): void {
    if (!isFresh() && !build()) {
        throw new Error("the project does not compile (tsc's errors are above); fix it before running the tests");
    }
}
