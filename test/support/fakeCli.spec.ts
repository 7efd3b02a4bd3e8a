// The stand-in `pulumi` answers the read-only calls from the shell (fakeCli.ts)
// with files fakePulumiState.js renders; fake-pulumi.js answers the same calls
// itself. A script test is only as good as those answers, so both paths must
// print the same thing for every call the shell serves.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedStack } from "./deployRun";
import { fakeCliPath } from "./fakeCli";
import { saveState, type State } from "./fakePulumiState.js";
import { makeApiKey } from "./providers.js";
import { testKey } from "./testKeys";

describe("the stand-in pulumi's shell answers", () => {
    let work = "";
    let state = "";
    let pulumi = "";
    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "qredo-keys-fakecli-"));
        fakeCliPath(work);
        pulumi = join(work, "bin", "pulumi");
        state = mkdtempSync(join(work, "state-"));
        const sandbox = deployedStack(testKey(0).publicPem, { apiKey: makeApiKey(), keyVersion: 2 });
        saveState(state, { stacks: { sandbox, production: { secretsProvider: null, config: {}, outputs: null } } } as unknown as State);
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    const calls = [
        ["stack", "ls", "--json"],
        ["config", "--stack", "sandbox", "--json"],
        ["config", "--stack", "production", "--json"],
        ["stack", "output", "--stack", "sandbox", "--json"],
        ["stack", "output", "--stack", "production", "--json"],
        ["config", "get", "--stack", "sandbox", "apiKey"],
        ["config", "get", "--stack", "sandbox", "qredo-partner-keys:keyVersion"],
        ["stack", "export", "--stack", "sandbox"],
        ["stack", "export", "--stack", "sandbox", "--show-secrets"],
    ];
    it.each(calls.map((args) => [args.join(" "), args]))("`pulumi %s` from the shell is what fake-pulumi.js prints", (_, args) => {
        const env = { PATH: "/usr/bin:/bin", FAKE_PULUMI_DIR: state };
        // Node.js cannot start with this preload: the answer can only come from the shell.
        const noNode = { ...env, NODE_OPTIONS: `--require ${join(work, "no-such-file.js")}` };
        const fromShell = execFileSync(pulumi, args, { env: noNode, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const fromNode = spawnSync(process.execPath, [join(__dirname, "fake-pulumi.js"), ...args], { env, encoding: "utf8" });
        expect(fromNode.status).toBe(0);
        expect(fromShell).toBe(fromNode.stdout);
        expect(fromShell).not.toBe("");
    });

    it("leaves an unset key to fake-pulumi.js, which fails as the CLI does", () => {
        const run = spawnSync(pulumi, ["config", "get", "--stack", "production", "apiKey"], {
            env: { PATH: "/usr/bin:/bin", FAKE_PULUMI_DIR: state },
            encoding: "utf8",
        });
        expect(run.status).toBe(255);
        expect(run.stderr).toBe("error: configuration key 'qredo-partner-keys:apiKey' not found for stack 'production'\n");
    });
});
