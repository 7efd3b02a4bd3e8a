// Running scripts/deploy.js (and scripts/pulumi.js) against the stand-in
// `pulumi` and `npm` in one throwaway project copy per spec file. Each run
// gets its own stand-in state, home and working folder, so runs in one file
// share the copy without seeing each other.
import { spawn } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, isFresh } from "../../scripts/build.js";
import { fakeCliPath } from "./fakeCli";
import { saveState, type State, writeAnswers } from "./fakePulumiState.js";
import { copyProject } from "./project.js";
import { testKey } from "./testKeys";

export interface PulumiCall {
    readonly args: string[];
    readonly stdin: string;
    readonly backend: string | null;
    readonly passphrase: string | null;
    readonly passphraseFile: string | null;
    readonly aws: boolean;
    readonly qredoApiKey: boolean;
    /** PARTNER_KEYS_CONFIG_COMMAND, which the program's configuration fixes start with. */
    readonly configCommand: string | null;
}

export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly calls: PulumiCall[];
    readonly npmCalls: { args: string[]; envNames: string[] }[];
}

export interface Place {
    readonly project: string;
    readonly state: string;
    readonly home: string;
    /** where the user ran npm (INIT_CWD): ./apikey and the public key file live here */
    readonly cwd: string;
}

export const passphrase = "correct horse battery staple";

export class DeployHarness {
    work = "";
    project = "";
    fakePath = "";
    keyPool = "";
    keys: string[] = [];

    /** Builds if needed, copies the project once, and makes a pool of public keys for the stand-in. */
    setUp(options: { dependencies?: boolean } = {}): void {
        if (!isFresh()) {
            build();
        }
        this.work = mkdtempSync(join(tmpdir(), "qredo-keys-deploy-"));
        this.fakePath = fakeCliPath(this.work);
        this.project = copyProject({ dependencies: options.dependencies ?? true, build: true });
        const keys = [0, 1].map((i) => testKey(i).publicPem);
        this.keys = keys;
        this.keyPool = join(this.work, "keys.json");
        writeFileSync(this.keyPool, JSON.stringify(keys));
    }

    tearDown(): void {
        rmSync(this.work, { recursive: true, force: true });
        rmSync(this.project, { recursive: true, force: true });
    }

    /** A fresh stand-in state, optionally with stacks in it already. */
    place(stacks?: Record<string, unknown>, project = this.project): Place {
        const state = mkdtempSync(join(this.work, "state-"));
        const home = mkdtempSync(join(this.work, "home-"));
        const cwd = mkdtempSync(join(this.work, "cwd-"));
        if (stacks !== undefined) {
            saveState(state, { stacks } as State);
        } else {
            writeAnswers(state, { stacks: {} }); // no state file yet, as before a first stack init
        }
        return { project, state, home, cwd };
    }

    env(where: Place, env: Record<string, string | undefined>): Record<string, string> {
        const all: Record<string, string | undefined> = {
            PATH: this.fakePath,
            HOME: where.home,
            FAKE_PULUMI_DIR: where.state,
            FAKE_PULUMI_KEYS: this.keyPool,
            INIT_CWD: where.cwd,
            PULUMI_BACKEND_URL: "file:///team/state",
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            ...env,
        };
        return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
    }

    /** Runs `node scripts/<script> args` to the end. Pass `undefined` in env to drop a default. */
    run(
        where: Place,
        args: string[],
        env: Record<string, string | undefined> = {},
        options: { script?: string; command?: string[]; onStdout?: (text: string, pid: number) => void; cwd?: string } = {},
    ): Promise<Run> {
        const command = options.command ?? [process.execPath, join(where.project, "scripts", options.script ?? "deploy.js")];
        const child = spawn(command[0], [...command.slice(1), ...args], {
            cwd: options.cwd ?? where.project,
            env: this.env(where, env),
            stdio: ["pipe", "pipe", "pipe"],
        });
        child.stdin.end();
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
            stdout += text;
            options.onStdout?.(stdout, child.pid ?? 0);
        });
        child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        return new Promise((resolve) => {
            child.on("close", (status) => {
                clearTimeout(timer);
                resolve({
                    status,
                    stdout,
                    stderr,
                    calls: readLines(join(where.state, "calls.jsonl")),
                    npmCalls: readLines(join(where.state, "npm.jsonl")),
                });
            });
        });
    }

    stateOf(where: Place): {
        stacks: Record<
            string,
            {
                config: Record<string, { value: string; secret: boolean }>;
                outputs: Record<string, unknown> | null;
                secretsProvider: string | null;
            }
        >;
    } {
        const file = join(where.state, "state.json");
        return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { stacks: {} };
    }
}

export function readLines<T>(file: string): T[] {
    return existsSync(file)
        ? readFileSync(file, "utf8")
              .trim()
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l) as T)
        : [];
}

export const commands = (run: Run) => run.calls.map((c) => c.args.join(" "));

/** Calls that change something: stack creation, config, up. */
export const changes = (run: Run) => commands(run).filter((c) => /^(stack (init|select)|config set|up\b|destroy|stack rm)/.test(c));

export function expectNoLeakIn(run: Run, secrets: string[]): string[] {
    const problems: string[] = [];
    for (const secret of secrets) {
        const distinctive = secret.slice(0, 24);
        if ((run.stdout + run.stderr).includes(distinctive)) problems.push(`output contains ${distinctive}`);
        if (run.calls.some((c) => c.args.join(" ").includes(distinctive))) problems.push(`argv contains ${distinctive}`);
    }
    return problems;
}

/** A deployed stack as the stand-in keeps it, publishing `pem`. */
export function deployedStack(
    pem: string,
    options: {
        keyVersion?: number;
        keyStage?: "current" | "pending";
        deployedVersion?: number;
        deployedStage?: string;
        apiKey?: string;
        /** the API key the last up deployed (its SecretVersion in the state); default: apiKey */
        deployedApiKey?: string;
        environment?: string;
    },
) {
    const config: Record<string, { value: string; secret: boolean }> = {};
    if (options.apiKey !== undefined) config["qredo-partner-keys:apiKey"] = { value: options.apiKey, secret: true };
    if (options.keyVersion !== undefined) config["qredo-partner-keys:keyVersion"] = { value: String(options.keyVersion), secret: false };
    if (options.keyStage !== undefined) config["qredo-partner-keys:keyStage"] = { value: options.keyStage, secret: false };
    const der = createPublicKey(pem).export({ type: "spki", format: "der" });
    const deployedApiKey = options.deployedApiKey ?? options.apiKey;
    return {
        secretsProvider: null,
        config,
        ...(deployedApiKey === undefined ? {} : { deployedApiKey }),
        outputs: {
            environment: options.environment ?? "sandbox",
            keyVersion: options.deployedVersion ?? options.keyVersion ?? 1,
            keyStage: options.deployedStage ?? options.keyStage ?? "current",
            publicKeyPem: pem,
            publicKeyFingerprintSha256: createHash("sha256").update(der).digest("hex"),
        },
    };
}

export function mkdirp(dir: string): string {
    mkdirSync(dir, { recursive: true });
    return dir;
}
