// The stand-in `pulumi` answers the read-only calls from the shell (fakeCli.ts)
// with files fakePulumiState.js renders; fake-pulumi.js answers the same calls
// itself. A script test is only as good as those answers, so both paths must
// print the same thing for every call the shell serves.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
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

/** Whether `file` appears (a server writes its port there once it listens), waiting at most 5 s. */
async function appeared(file: string): Promise<boolean> {
    for (let i = 0; i < 100 && !existsSync(file); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return existsSync(file);
}

// The calls that change the state go to fakePulumiServer.js (through bash and a
// loopback port); fake-pulumi.js, a process per call, must answer them alike.
// Concurrent: each test has its own state folders, and the one that moves the port file its own stand-ins.
describe.concurrent("the stand-in pulumi's server", () => {
    let work = "";
    let pulumi = "";
    const apiKey = makeApiKey();
    beforeAll(async () => {
        // A folder name the shell would read as a quote, a command and a variable, were it in a script.
        work = mkdtempSync(join(tmpdir(), 'qredo-keys-fakeserver "`echo x`$HOME-'));
        fakeCliPath(work);
        pulumi = join(work, "bin", "pulumi");
        writeFileSync(join(work, "keys.json"), JSON.stringify([testKey(0).publicPem, testKey(1).publicPem]));
        await appeared(join(work, "bin", ".port"));
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    // Node.js cannot start with this preload: an answer through the wrapper can only come from the server.
    const noNode = () => "--require /nonexistent/qredo-keys-no-such-file.js";
    const calls: { args: string[]; stdin?: string | "closed"; env?: Record<string, string> }[] = [
        { args: ["stack", "init", "sandbox", "--secrets-provider", "passphrase"] },
        // A record the shell could not write as JSON: the shell leaves the call to the others.
        { args: ["stack", "ls", "--json"], env: { PULUMI_CONFIG_PASSPHRASE: 'a"b\\c\td' } },
        { args: ["stack", "init", "sandbox"] },
        { args: ["config", "set", "--stack", "sandbox", "--secret", "apiKey"], stdin: `${apiKey}\n` },
        { args: ["config", "set", "--stack", "sandbox", "note"], stdin: "a\0b\r\nünïcode\n\n" },
        { args: ["config", "set", "--stack", "sandbox", "closed"], stdin: "closed" },
        { args: ["config", "set-all", "--stack", "sandbox", "--plaintext", "keyVersion=2", "--plaintext", "aws:region=eu-west-2"] },
        { args: ["config", "set", "--stack", "sandbox", "keyStage", "current"] },
        { args: ["config", "get", "--stack", "production", "apiKey"] },
        { args: ["up", "--stack", "sandbox", "--yes"], env: { FAKE_PULUMI_UP_DECLINE: "1" } },
        { args: ["up", "--stack", "sandbox", "--yes"], env: { FAKE_PULUMI_UP_EXIT: "1" } },
        { args: ["up", "--stack", "sandbox", "--yes"], env: { AWS_SECRET_ACCESS_KEY: "test", PULUMI_CONFIG_PASSPHRASE: "pass\nphrase=" } },
        { args: ["up", "--stack", "nowhere", "--yes"] },
        { args: ["stack", "select", "production", "--create"] },
        { args: ["stack", "output", "--stack", "sandbox", "publicKeyPem"] },
        { args: ["stack", "output", "--stack", "written", "odd"] },
        { args: ["whoami"] },
        { args: ["--version"] },
    ];

    it("answers every call as fake-pulumi.js does, and leaves the same state and record", ({ expect }) => {
        const [viaServer, viaNode] = [mkdtempSync(join(work, "state-")), mkdtempSync(join(work, "state-"))];
        // A state written by a test, with an output that holds NULs and a newline.
        for (const state of [viaServer, viaNode]) {
            saveState(state, {
                stacks: { written: { secretsProvider: null, config: {}, outputs: { odd: "a\0b\0\nc" } } },
            } as unknown as State);
        }
        // Called from a symbolic link into a deeper folder: relative paths are taken from the folder
        // itself, as Node.js and the kernel take them, not from the link's parent.
        mkdirSync(join(work, "real", "deep"), { recursive: true });
        symlinkSync(join(work, "real", "deep"), join(work, "link"));
        for (const { args, stdin = "", env = {} } of calls) {
            // PWD as a shell leaves it after `cd link`: the path through the link.
            const base = { PATH: "/usr/bin:/bin", PWD: join(work, "link"), FAKE_PULUMI_KEYS: "../../keys.json", ...env };
            const options = { cwd: join(work, "link"), input: stdin === "closed" ? "" : stdin, encoding: "utf8", timeout: 30_000 } as const;
            // With stdin closed (not empty): `sh -c 'exec "$@" <&-'`.
            const command = (...argv: string[]) =>
                (stdin === "closed" ? ["/bin/sh", ["-c", 'exec "$@" <&-', "sh", ...argv]] : [argv[0], argv.slice(1)]) as [string, string[]];
            const served = spawnSync(...command(pulumi, ...args), {
                ...options,
                env: { ...base, FAKE_PULUMI_DIR: `../../${basename(viaServer)}`, NODE_OPTIONS: noNode() },
            });
            const node = spawnSync(...command(process.execPath, join(__dirname, "fake-pulumi.js"), ...args), {
                ...options,
                env: { ...base, FAKE_PULUMI_DIR: `../../${basename(viaNode)}` },
            });
            expect({ status: served.status, stdout: served.stdout, stderr: served.stderr }, args.join(" ")).toEqual({
                status: node.status,
                stdout: node.stdout,
                stderr: node.stderr,
            });
        }
        for (const file of ["state.json", "calls.jsonl"]) {
            expect(readFileSync(join(viaServer, file), "utf8")).toBe(readFileSync(join(viaNode, file), "utf8"));
        }
        const config = JSON.parse(readFileSync(join(viaServer, "state.json"), "utf8")).stacks.sandbox.config;
        expect(config["qredo-partner-keys:apiKey"].value).toBe(`${apiKey}\n`);
        expect(config["qredo-partner-keys:note"].value).toBe("a\0b\r\nünïcode\n\n");
        expect(config["qredo-partner-keys:closed"].value).toBe("");
        expect(readFileSync(join(viaServer, "calls.jsonl"), "utf8")).toContain('"passphrase":"a\\"b\\\\c\\td"');
    });

    it("leaves to fake-pulumi.js the calls that need a process of their own, and every call when it is not there", async ({ expect }) => {
        const own = mkdtempSync(join(work, "own-"));
        fakeCliPath(own);
        await appeared(join(own, "bin", ".port"));
        const pulumi = join(own, "bin", "pulumi");
        const state = mkdtempSync(join(work, "state-"));
        const env = { PATH: "/usr/bin:/bin", FAKE_PULUMI_DIR: state, NODE_OPTIONS: noNode() };
        const toNode = (run: { status: number | null; stderr: string }) =>
            run.status !== 0 && run.stderr.includes("qredo-keys-no-such-file.js");
        const call = (args: string[], extra: Record<string, string> = {}) =>
            spawnSync(pulumi, args, { env: { ...env, ...extra }, encoding: "utf8" });
        // A signal to wait for, or an answer that never comes: the server hands these back.
        expect(toNode(call(["up", "--stack", "sandbox"], { FAKE_PULUMI_UP_WAIT_SIGNAL: "1" }))).toBe(true);
        expect(toNode(call(["stack", "init", "x"], { FAKE_PULUMI_HANG: "stack init" }))).toBe(true);
        expect(toNode(call(["stack", "init", "x"]))).toBe(false);
        // A port nobody listens on (a server that ended), then no port file at all.
        const portFile = join(own, "bin", ".port");
        const port = readFileSync(portFile, "utf8");
        writeFileSync(portFile, "1\n");
        expect(toNode(call(["stack", "init", "y"]))).toBe(true);
        rmSync(portFile); // the server notices within 0.2 s and ends
        expect(toNode(call(["stack", "init", "z"]))).toBe(true);
        expect(port).toMatch(/^\d+\n$/);
    });

    it("ends, removing its port file, when the test process ends or on SIGTERM; and ends when the port file is removed", async ({
        expect,
    }) => {
        const start = async (portFile: string) => {
            const server = spawn(process.execPath, [join(__dirname, "fakePulumiServer.js"), portFile], {
                stdio: ["pipe", "ignore", "inherit"],
            });
            const ended = new Promise<number | null>((resolve) => server.on("exit", resolve));
            const timer = setTimeout(() => server.kill("SIGKILL"), 10_000); // bounded
            expect(await appeared(portFile)).toBe(true);
            return { server, ended: ended.finally(() => clearTimeout(timer)) };
        };
        const first = await start(join(work, "first.port"));
        first.server.stdin.end(); // as when the test process ends
        expect(await first.ended).toBe(0);
        expect(existsSync(join(work, "first.port"))).toBe(false);
        const second = await start(join(work, "second.port"));
        rmSync(join(work, "second.port"));
        expect(await second.ended).toBe(0);
        const third = await start(join(work, "third.port"));
        third.server.kill("SIGTERM");
        expect(await third.ended).toBe(0);
        expect(existsSync(join(work, "third.port"))).toBe(false);
    });

    it("fake-pulumi.js waits for a stdin whose writer is not done yet", ({ expect }) => {
        const state = mkdtempSync(join(work, "state-"));
        saveState(state, { stacks: { s: { secretsProvider: null, config: {}, outputs: null } } } as unknown as State);
        const script = `(sleep 0.3; printf 'late key') | "$0" "$1" config set --stack s --secret apiKey`;
        const run = spawnSync("/bin/sh", ["-c", script, process.execPath, join(__dirname, "fake-pulumi.js")], {
            env: { PATH: "/usr/bin:/bin", FAKE_PULUMI_DIR: state },
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
        expect(JSON.parse(readFileSync(join(state, "state.json"), "utf8")).stacks.s.config["qredo-partner-keys:apiKey"].value).toBe(
            "late key",
        );
    });
});
