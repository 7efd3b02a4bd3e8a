// scripts/deploy.js against stand-in `pulumi` and `npm` executables on PATH
// that record every call, in a throwaway copy of the project.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { build, isFresh } from "../scripts/build.js";
import { fakeCliPath, systemPath } from "./support/fakeCli";
import { copyProject } from "./support/project.js";
import { makeApiKey } from "./support/providers.js";

interface PulumiCall {
    readonly args: string[];
    readonly stdin: string;
    readonly backend: string | null;
    readonly passphrase: string | null;
}

interface Deploy {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly calls: PulumiCall[];
    readonly npmCalls: { args: string[] }[];
}

let fakePath: string;
let work: string;

beforeAll(() => {
    if (!isFresh()) {
        build();
    }
    work = mkdtempSync(join(tmpdir(), "qredo-keys-deploy-"));
    fakePath = fakeCliPath(work);
});
const copies: string[] = [];
afterAll(() => {
    for (const dir of [work, ...copies]) {
        rmSync(dir, { recursive: true, force: true });
    }
});

function readLines<T>(file: string): T[] {
    return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as T) : [];
}

/** A project copy, a fresh fake-pulumi state and a home with no Pulumi login. */
function setup(options: { dependencies?: boolean } = {}) {
    const project = copyProject({ dependencies: options.dependencies ?? true, build: true });
    copies.push(project);
    const state = mkdtempSync(join(work, "state-"));
    const home = mkdtempSync(join(work, "home-"));
    return { project, state, home };
}

function deploy(where: ReturnType<typeof setup>, args: string[], env: Record<string, string> = {}, path?: string): Deploy {
    const run = spawnSync(process.execPath, [join(where.project, "scripts", "deploy.js"), ...args], {
        cwd: where.project,
        encoding: "utf8",
        input: "",
        timeout: 120_000,
        env: {
            PATH: path ?? fakePath,
            HOME: where.home,
            FAKE_PULUMI_DIR: where.state,
            INIT_CWD: where.project,
            PULUMI_CONFIG_PASSPHRASE: "correct horse battery staple",
            ...env,
        },
    });
    return {
        status: run.status,
        stdout: run.stdout,
        stderr: run.stderr,
        calls: readLines<PulumiCall>(join(where.state, "calls.jsonl")),
        npmCalls: readLines<{ args: string[] }>(join(where.state, "npm.jsonl")),
    };
}

const commands = (d: Deploy) => d.calls.map((c) => c.args.join(" "));

function expectNoLeak(d: Deploy, ...secrets: string[]) {
    for (const secret of secrets) {
        const distinctive = secret.slice(0, 24);
        expect(d.stdout + d.stderr).not.toContain(distinctive);
        for (const call of d.calls) {
            expect(call.args.join(" ")).not.toContain(distinctive);
        }
    }
}

describe("npm run deploy -- sandbox, from a fresh clone", () => {
    let where: ReturnType<typeof setup>;
    let apiKey: string;
    let run: Deploy;
    beforeAll(() => {
        where = setup();
        apiKey = makeApiKey();
        writeFileSync(join(where.project, "apikey"), `${apiKey}\n`);
        run = deploy(where, ["sandbox"]);
    });

    it("selects or creates the stack, stores the API key from ./apikey on stdin, and runs pulumi up", () => {
        expect(run.stderr).not.toMatch(/^\s+at /m);
        expect(run.status).toBe(0);
        expect(commands(run)).toEqual([
            "version",
            "stack select --create sandbox",
            "config set --stack sandbox --secret apiKey",
            "up --stack sandbox",
            "stack output --stack sandbox --json",
        ]);
        const set = run.calls[2];
        expect(set.stdin).toBe(apiKey); // trimmed, and only ever on stdin
    });

    it("uses the local file backend in the project when none is configured, and says so", () => {
        const url = `file://${join(where.project, ".pulumi-state")}`;
        for (const call of run.calls.slice(1)) {
            expect(call.backend).toBe(url);
        }
        expect(existsSync(join(where.project, ".pulumi-state"))).toBe(true);
        expect(run.stderr).toContain("no Pulumi backend is configured: using the local file backend in .pulumi-state/");
    });

    it("writes public.pem from the stack output and prints the fingerprint openssl computes, and the upload steps", () => {
        const pem = readFileSync(join(where.project, "public.pem"), "utf8");
        expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
        const der = execFileSync("openssl", ["pkey", "-pubin", "-in", join(where.project, "public.pem"), "-outform", "DER"]);
        const fingerprint = execFileSync("sha256sum", { input: der }).toString().split(" ")[0];
        expect(run.stdout).toContain(`SHA-256 fingerprint: ${fingerprint}`);
        expect(run.stdout).toContain("Settings → Partner API → Upload Public Key");
    });

    it("never puts the API key or the passphrase in an argument or in its output", () => {
        expectNoLeak(run, apiKey, "correct horse battery staple");
        expect(run.calls.slice(1).every((c) => c.passphrase === "correct horse battery staple")).toBe(true);
    });

    it("keeps the stored key on the next run when no key is given", () => {
        rmSync(join(where.project, "apikey"));
        const again = deploy(where, ["sandbox", "--yes"]);
        expect(again.status).toBe(0);
        expect(again.stderr).toContain("keeping the API key already stored in stack sandbox");
        expect(commands(again).slice(run.calls.length)).toEqual([
            "version",
            "stack select --create sandbox",
            "config --stack sandbox --json",
            "up --stack sandbox --yes",
            "stack output --stack sandbox --json",
        ]);
    });
});

describe("deploy options", () => {
    let where: ReturnType<typeof setup>;
    beforeEach(() => {
        where = setup();
    });

    it("prefers --api-key-file over ./apikey over $QREDO_API_KEY", () => {
        const [fromFlag, fromFile, fromEnv] = [makeApiKey(), makeApiKey(), makeApiKey()];
        writeFileSync(join(where.project, "flag-key"), fromFlag);
        writeFileSync(join(where.project, "apikey"), fromFile);
        const stored = (d: Deploy) => d.calls.filter((c) => c.args.includes("apiKey")).map((c) => c.stdin);

        expect(stored(deploy(where, ["sandbox", "--api-key-file", "flag-key"], { QREDO_API_KEY: fromEnv }))).toEqual([fromFlag]);
        const second = deploy(where, ["sandbox"], { QREDO_API_KEY: fromEnv });
        expect(stored(second)).toEqual([fromFlag, fromFile]);
        rmSync(join(where.project, "apikey"));
        const third = deploy(where, ["sandbox"], { QREDO_API_KEY: fromEnv });
        expect(stored(third)).toEqual([fromFlag, fromFile, fromEnv]);
        expectNoLeak(third, fromFlag, fromFile, fromEnv);
    });

    it("stops before pulumi up when no API key is given and the stack has none", () => {
        const run = deploy(where, ["sandbox"]);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("stack sandbox has no API key yet");
        expect(commands(run)).not.toContain("up --stack sandbox");
    });

    it("refuses an API key that is not Base64, without storing or printing it", () => {
        const bad = `${makeApiKey()}!`;
        const run = deploy(where, ["sandbox"], { QREDO_API_KEY: bad });
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/the API key from \$QREDO_API_KEY is not Base64/);
        expect(commands(run).some((c) => c.startsWith("config set"))).toBe(false);
        expectNoLeak(run, bad);
    });

    it("--rotate bumps keyVersion by one before up and warns that signing fails until the upload", () => {
        const apiKey = makeApiKey();
        const first = deploy(where, ["production", "--rotate", "--yes"], { QREDO_API_KEY: apiKey });
        expect(first.status).toBe(0);
        expect(commands(first)).toContain("config set --stack production keyVersion 2");
        expect(commands(first).indexOf("config set --stack production keyVersion 2")).toBeLessThan(commands(first).indexOf("up --stack production --yes"));
        expect(first.stderr).toContain("keyVersion 1 → 2");
        expect(first.stderr).toContain("FAIL until you upload the new public key");
        expect(first.stdout).toContain("(keyVersion 2)");
        const firstPem = readFileSync(join(where.project, "public.pem"), "utf8");

        const second = deploy(where, ["production", "--rotate", "--yes"]);
        expect(commands(second)).toContain("config set --stack production keyVersion 3");
        expect(readFileSync(join(where.project, "public.pem"), "utf8")).not.toBe(firstPem);
    });

    it("passes --secrets-provider to the stack it creates, and writes --public-key-out", () => {
        const run = deploy(where, ["production", "--secrets-provider", "awskms://alias/pulumi-qredo", "--public-key-out", "keys/prod.pem"], {
            QREDO_API_KEY: makeApiKey(),
        });
        expect(run.status).toBe(0);
        expect(commands(run)[1]).toBe("stack select --create production --secrets-provider awskms://alias/pulumi-qredo");
        expect(existsSync(join(where.project, "public.pem"))).toBe(false);
        expect(readFileSync(join(where.project, "keys", "prod.pem"), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    });

    it("respects a configured backend: PULUMI_BACKEND_URL, or a CLI login", () => {
        const apiKey = makeApiKey();
        const viaEnv = deploy(where, ["sandbox"], { QREDO_API_KEY: apiKey, PULUMI_BACKEND_URL: "s3://team-pulumi-state" });
        expect(viaEnv.status).toBe(0);
        expect(viaEnv.calls.every((c) => c.backend === "s3://team-pulumi-state")).toBe(true);
        expect(existsSync(join(where.project, ".pulumi-state"))).toBe(false);

        const other = setup();
        mkdirSync(join(other.home, ".pulumi"));
        writeFileSync(join(other.home, ".pulumi", "credentials.json"), JSON.stringify({ current: "https://api.pulumi.com" }));
        const viaLogin = deploy(other, ["sandbox"], { QREDO_API_KEY: apiKey });
        expect(viaLogin.status).toBe(0);
        expect(viaLogin.calls.every((c) => c.backend === null)).toBe(true);
        expect(viaLogin.stderr).toContain("using the configured Pulumi backend (logged in)");
    });

    it("asks for the passphrase on a terminal without echoing it, and hands it to pulumi in the environment", () => {
        const passphrase = "hunter2 is not a passphrase";
        const run = spawnSync("python3", [join(__dirname, "support", "pty_answer.py"), "Passphrase for the stack's secrets", passphrase, "--", process.execPath, join(where.project, "scripts", "deploy.js"), "sandbox", "--yes"], {
            cwd: where.project,
            encoding: "utf8",
            env: { PATH: fakePath, HOME: where.home, FAKE_PULUMI_DIR: where.state, INIT_CWD: where.project, QREDO_API_KEY: makeApiKey() },
        });
        expect(run.stdout).toContain("Passphrase for the stack's secrets");
        expect(run.status).toBe(0);
        expect(run.stdout).not.toContain("hunter2");
        const calls = readLines<PulumiCall>(join(where.state, "calls.jsonl"));
        expect(calls.slice(1).every((c) => c.passphrase === passphrase && !c.args.join(" ").includes("hunter2"))).toBe(true);
    });

    it("refuses the local backend on CI, where it would be lost with the runner", () => {
        const run = deploy(where, ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true" });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("on CI a local one would be lost with the runner");
        expect(commands(run)).toEqual(["version"]);
    });

    it("asks for PULUMI_CONFIG_PASSPHRASE when the stack needs one and there is no terminal to prompt on", () => {
        const run = deploy(where, ["sandbox"], { QREDO_API_KEY: makeApiKey(), PULUMI_CONFIG_PASSPHRASE: "" }).status;
        expect(run).toBe(0); // an empty passphrase is still "set": Pulumi accepts it
        const unset = spawnSync(process.execPath, [join(where.project, "scripts", "deploy.js"), "sandbox"], {
            cwd: where.project,
            encoding: "utf8",
            input: "",
            env: { PATH: fakePath, HOME: where.home, FAKE_PULUMI_DIR: where.state, QREDO_API_KEY: makeApiKey() },
        });
        expect(unset.status).toBe(2);
        expect(unset.stderr).toContain("set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE");
    });

    it("exits 1 without writing public.pem when pulumi up fails", () => {
        const run = deploy(where, ["sandbox"], { QREDO_API_KEY: makeApiKey(), FAKE_PULUMI_UP_EXIT: "255" });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("`pulumi up` failed (exit 255)");
        expect(existsSync(join(where.project, "public.pem"))).toBe(false);
    });

    it("refuses to write a public key that does not match the published fingerprint", () => {
        const run = deploy(where, ["sandbox"], { QREDO_API_KEY: makeApiKey(), FAKE_PULUMI_BAD_FINGERPRINT: "1" });
        expect(run.status).toBe(1);
        expect(existsSync(join(where.project, "public.pem"))).toBe(false);
    });
});

describe("deploy prerequisites", () => {
    it("says how to install the Pulumi CLI when it is not on PATH", () => {
        const where = setup();
        const run = deploy(where, ["sandbox"], {}, systemPath().join(":"));
        expect(run.status).toBe(3);
        expect(run.stderr).toContain("the Pulumi CLI is not on your PATH. This project needs v3.248.0 or later.");
        expect(run.stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
        expect(run.stderr).not.toMatch(/^\s+at /m);
    });

    it("refuses a Pulumi CLI older than the program needs", () => {
        const run = deploy(setup(), ["sandbox"], { FAKE_PULUMI_VERSION: "v3.200.1" });
        expect(run.status).toBe(3);
        expect(run.stderr).toContain("the Pulumi CLI is v3.200.1; this project needs v3.248.0 or later");
    });

    it("installs the dependencies itself when they are missing, then deploys", () => {
        const where = setup({ dependencies: false });
        const run = deploy(where, ["sandbox"], { QREDO_API_KEY: makeApiKey() });
        expect(run.npmCalls.map((c) => c.args[0])).toEqual(["ci"]);
        expect(run.status).toBe(0);
        const again = deploy(where, ["sandbox"]);
        expect(again.npmCalls).toHaveLength(1); // up to date now: not installed twice
    });

    it("is what `npm run deploy --` runs, with the arguments after --", () => {
        const help = execFileSync("npm", ["run", "--silent", "deploy", "--", "--help"], { cwd: setup().project, encoding: "utf8" });
        expect(help).toMatch(/^usage: npm run deploy -- <stack> \[options\]/);
    });

    it("rejects a call without a stack, with the usage", () => {
        const run = deploy(setup(), []);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain("usage: npm run deploy -- <stack> [options]");
        expect(run.calls).toEqual([]);
    });
});
