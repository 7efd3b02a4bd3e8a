// Runs before every test file (vitest.config.mts, setupFiles). Test files share
// two worker threads and the modules those have loaded, so what a file changes
// in the thread it runs in, it gives back when it ends: its spies are restored
// (restoreMocks also restores them before every test) and the thread's
// environment is put back as it was.
import { afterAll, vi } from "vitest";

const environmentAtStart = { ...process.env };

afterAll(() => {
    vi.restoreAllMocks();
    for (const name of Object.keys(process.env)) {
        if (!(name in environmentAtStart)) {
            delete process.env[name];
        }
    }
    Object.assign(process.env, environmentAtStart);
});
