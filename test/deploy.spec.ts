// npm run deploy (scripts/deploy.js) end to end against the stand-in pulumi
// and npm: a first deploy, API key handling across stacks, backends and
// passphrases, what each child process is given, signals, and the real
// `npm run` entry points.
import { execFileSync, spawnSync } from "node:child_process";
import {
    appendFileSync,
    cpSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemPath } from "./support/fakeCli";
import { copyProject, linkDependencies, standInTypeScript7 } from "./support/project.js";
import {
    changes,
    commands,
    DeployHarness,
    deployedStack,
    expectNoLeakIn,
    passphrase,
    readLines,
    type PulumiCall,
    type Run,
} from "./support/deployRun";
import { makeApiKey } from "./support/providers.js";
import { configCommandFrom, configCommands } from "../src/configParsers";

const h = new DeployHarness();
beforeAll(() => h.setUp());
afterAll(() => h.tearDown());

const aws = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "not-a-real-secret", GITHUB_TOKEN: "ghs_example" };

describe("npm run deploy -- sandbox from a fresh clone, with ./apikey", () => {
    const apiKey = makeApiKey();
    let run: Run;
    let cwd: string;
    beforeAll(async () => {
        const where = h.place();
        cwd = where.cwd;
        writeFileSync(join(cwd, "apikey"), `${apiKey}\n`);
        run = await h.run(where, ["sandbox", "--yes"], { PULUMI_BACKEND_URL: undefined, ...aws });
    });

    it("creates the stack, stores ./apikey on stdin, removes ./apikey and says so, then runs up", () => {
        expect(run.stderr).not.toMatch(/^\s+at /m);
        expect(run.status).toBe(0);
        expect(commands(run)).toEqual([
            "version",
            "stack ls --json",
            "stack init sandbox",
            "config set --stack sandbox --secret apiKey",
            "up --stack sandbox --yes",
            "config --stack sandbox --json",
            "stack output --stack sandbox --json",
        ]);
        expect(run.calls[3].stdin).toBe(apiKey);
        expect(existsSync(join(cwd, "apikey"))).toBe(false);
        expect(run.stderr).toContain(
            "deploy: removed ./apikey: the key now lives only in stack sandbox (encrypted), so it cannot be picked up for another stack",
        );
    });

    it("uses the project's local file backend when none is configured, for this user only, and says how to reach it", () => {
        expect(run.calls.slice(1).every((c) => c.backend === `file://${join(h.project, ".pulumi-state")}`)).toBe(true);
        expect(statSync(join(h.project, ".pulumi-state")).mode & 0o777).toBe(0o700);
        expect(run.stderr).toContain(
            "no Pulumi backend is configured: using the local file backend in .pulumi-state/ (git-ignored). Run other pulumi commands against it with: npm run pulumi -- <command>",
        );
    });

    it("writes public-sandbox.pem atomically with the fingerprint openssl computes, and names the Web App steps", () => {
        const file = join(cwd, "public-sandbox.pem");
        const der = execFileSync("openssl", ["pkey", "-pubin", "-in", file, "-outform", "DER"]);
        const fingerprint = execFileSync("sha256sum", { input: der }).toString().split(" ")[0];
        expect(run.stdout).toContain(
            `Public key for the Qredo sandbox environment (keyVersion 1, current) written to ${file}\n  SHA-256 fingerprint: ${fingerprint}`,
        );
        expect(run.stdout).toContain(
            "Qredo Web App → your name (top right) → the sandbox account → Settings → Partner API → Upload Public Key",
        );
    });

    it("gives each child only what it needs: no QREDO key anywhere, AWS credentials only to up, the passphrase not to version", () => {
        expect(run.calls.some((c) => c.qredoApiKey)).toBe(false);
        expect(run.calls.filter((c) => c.aws).map((c) => c.args[0])).toEqual(["up"]);
        expect(run.calls.filter((c) => c.passphrase === passphrase).map((c) => c.args[0])).toEqual(
            commands(run)
                .slice(1)
                .map((c) => c.split(" ")[0]),
        );
        expect(expectNoLeakIn(run, [apiKey, passphrase])).toEqual([]);
    });

    it("has the program print its configuration fixes as npm run pulumi commands, which reach this state", () => {
        // The program reads it (loadConfig); a bare `pulumi config` would not find the local .pulumi-state/.
        expect(configCommands).toContain(configCommandFrom("npm run pulumi -- config"));
        expect(configCommandFrom("npm run pulumi -- config")).not.toBe("pulumi config");
        expect(run.calls.filter((c) => c.configCommand === "npm run pulumi -- config").map((c) => c.args[0])).toEqual(
            commands(run)
                .slice(1)
                .map((c) => c.split(" ")[0]),
        );
        expect(run.calls[0]).toMatchObject({ args: ["version"], configCommand: null });
    });
});

describe.concurrent("API keys across stacks", () => {
    it("a stack refuses the API key a stack of the other environment stores, takes its own, and says when it cannot compare", async () => {
        // A project copy of its own: its sandbox stack file holds a key (as after a first deploy), which the shared copy must not.
        const project = copyProject({ dependencies: true, build: true });
        appendFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), "  qredo-partner-keys:apiKey:\n    secure: v1:AAAA\n");
        // Encrypted with KMS: reading its key reaches AWS, although the new stack's passphrase secrets do not.
        appendFileSync(join(project, "stacks", "Pulumi.sandbox.yaml"), "secretsprovider: awskms://alias/pulumi-qredo?region=eu-west-2\n");
        try {
            const sandboxKey = makeApiKey();
            const stacks = { sandbox: deployedStack(h.keys[0], { apiKey: sandboxKey }) };
            const [same, own, unreadable] = [
                h.place(stacks, project),
                h.place(stacks, project),
                h.place({ sandbox: deployedStack(h.keys[0], {}) }, project),
            ];
            // production created by hand, never deployed: it has no key yet, and takes one the same way
            const keyless = h.place({ ...stacks, production: { secretsProvider: null, config: {}, outputs: null } }, project);
            writeFileSync(join(keyless.cwd, "apikey"), sandboxKey);
            writeFileSync(join(same.cwd, "apikey"), `${sandboxKey}\n`);
            writeFileSync(join(own.cwd, "apikey"), makeApiKey());
            writeFileSync(join(unreadable.cwd, "apikey"), makeApiKey());
            const [refused, taken, unchecked, keylessRun] = await Promise.all([
                h.run(same, ["production", "--yes"], { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }),
                h.run(own, ["production", "--yes"]),
                h.run(unreadable, ["production", "--yes"]),
                h.run(keyless, ["production", "--yes"]),
            ]);
            expect(keylessRun.status).toBe(2);
            expect(keylessRun.stderr).toContain("deploy: error: the API key from ./apikey is the one stack sandbox (sandbox) stores");
            expect(changes(keylessRun)).toEqual([]);
            expect(refused.status).toBe(2);
            expect(refused.stderr).toContain(
                "deploy: error: the API key from ./apikey is the one stack sandbox (sandbox) stores; stack production is production, and the two environments have separate keys. Nothing was changed. Generate or copy the production key in the Qredo Web App (your production account → Settings → Partner API) and give it to this stack instead.",
            );
            expect(changes(refused)).toEqual([]);
            expect(Object.keys(h.stateOf(same).stacks)).toEqual(["sandbox"]);
            expect(existsSync(join(same.cwd, "apikey"))).toBe(true);
            expect(expectNoLeakIn(refused, [sandboxKey])).toEqual([]);
            const read = refused.calls.find((c) => c.args.join(" ") === "config get --stack sandbox apiKey");
            expect(read?.stdin).toBe("");
            expect(read?.aws).toBe(true);
            expect(refused.calls.find((c) => c.args[0] === "stack" && c.args[1] === "ls")?.aws).toBe(false);
            expect(taken.status).toBe(0);
            expect(taken.stderr).not.toContain("could not compare");
            expect(Object.keys(h.stateOf(own).stacks).sort()).toEqual(["production", "sandbox"]);
            expect(unchecked.status).toBe(0);
            expect(unchecked.stderr).toContain(
                "deploy: could not compare this API key with stack sandbox's (sandbox): its secrets could not be read without asking, or in time (another passphrase, a KMS key out of reach). Make sure ./apikey holds the production key.",
            );
        } finally {
            rmSync(project, { recursive: true, force: true });
        }
    });

    it("./apikey is used for the first stack only; the next stack asks for its own key and is not created", async () => {
        const where = h.place();
        writeFileSync(join(where.cwd, "apikey"), makeApiKey());
        const sandbox = await h.run(where, ["sandbox", "--yes"]);
        expect(sandbox.status).toBe(0);
        const production = await h.run(where, ["production", "--yes"]);
        expect(production.status).toBe(2);
        expect(production.stderr).toContain("stack production has no API key yet.");
        expect(changes(production).slice(changes(sandbox).length)).toEqual([]);
        expect(Object.keys(h.stateOf(where).stacks)).toEqual(["sandbox"]);
        expect(existsSync(join(where.cwd, "public-sandbox.pem"))).toBe(true);
        expect(existsSync(join(where.cwd, "public-production.pem"))).toBe(false);

        // a new ./apikey does not replace the key of a stack that has one, nor is it left for the next stack
        writeFileSync(join(where.cwd, "apikey"), makeApiKey());
        const again = await h.run(where, ["sandbox", "--yes"]);
        expect(again.status).toBe(2);
        expect(again.stderr).toContain(
            "If it is another stack's key, deploy that stack with it (npm run deploy -- STACK), or remove it (rm apikey). Only if you regenerated sandbox's key in the Qredo Web App and ./apikey is that key, replace the stored one: npm run deploy -- sandbox --api-key-file apikey --replace-api-key",
        );
        expect(changes(again).slice(changes(production).length)).toEqual([]);
    });

    it("run from a subfolder while the project folder holds an apikey: refused before anything, for a new stack or not", async () => {
        // A project copy of its own: an apikey in the shared copy would meet every other run of this file.
        const project = copyProject({ dependencies: true, build: true });
        const rootKey = join(project, "apikey");
        const key = makeApiKey();
        writeFileSync(rootKey, key);
        const sub = (stacks?: Record<string, unknown>) => ({ ...h.place(stacks, project), cwd: mkdtempSync(join(project, "sub-")) });
        try {
            const places = [sub(), sub({ sandbox: deployedStack(h.keys[0], { apiKey: makeApiKey() }) })];
            const runs = await Promise.all(
                places.map((where) => h.run(where, ["sandbox", "--yes", "--public-key-out", "pub.pem"], { QREDO_API_KEY: undefined })),
            );
            for (const [i, run] of runs.entries()) {
                expect(run.status).toBe(2);
                expect(run.stderr).toContain(
                    `deploy: error: there is an apikey file in the project folder (${rootKey}), and npm ran in ${places[i].cwd}, where ./apikey is looked for: that file would be neither used nor checked. Run from the project folder: cd ${project} && npm run deploy -- sandbox --yes --public-key-out ${join(places[i].cwd, "pub.pem")} (or remove it, if it is a leftover).`,
                );
                expect(run.calls).toEqual([]);
                expect(expectNoLeakIn(run, [key])).toEqual([]);
            }
            // Started with node from the subfolder, without npm: the message says who ran there.
            const direct = sub();
            const plain = await h.run(direct, ["sandbox", "--yes"], { QREDO_API_KEY: undefined, INIT_CWD: undefined }, { cwd: direct.cwd });
            expect(plain.status).toBe(2);
            expect(plain.stderr).toContain(`and the deploy ran in ${direct.cwd}, where ./apikey is looked for`);
            // Named on purpose, it is the key file given: no refusal.
            const named = await h.run(sub(), ["sandbox", "--yes", "--api-key-file", rootKey], { QREDO_API_KEY: undefined });
            expect(named.status).toBe(0);
            expect(existsSync(rootKey)).toBe(false); // stored, so removed: the next new stack cannot take it
            expect(named.stderr).toContain(`deploy: removed ${rootKey}: the key now lives only in stack sandbox`); // not "./apikey": that is the subfolder's
        } finally {
            rmSync(project, { recursive: true, force: true });
        }
    });

    it("./apikey passed by name is removed once the stack holds it (also when already stored), so the next stack takes nothing", async () => {
        const where = h.place();
        const key = makeApiKey();
        writeFileSync(join(where.cwd, "apikey"), key);
        const first = await h.run(where, ["sandbox", "--yes", "--api-key-file", "./apikey"]);
        expect(first.status).toBe(0);
        expect(first.stderr).toContain("deploy: removed ./apikey: the key now lives only in stack sandbox (encrypted)");
        expect(first.stderr).not.toContain("left ");
        expect(existsSync(join(where.cwd, "apikey"))).toBe(false);

        writeFileSync(join(where.cwd, "apikey"), key);
        const same = await h.run(where, ["sandbox", "--yes", "--api-key-file", "apikey"]);
        expect(same.status).toBe(0);
        expect(same.stderr).toContain("deploy: the API key from apikey is the one stack sandbox already stores: no change");
        expect(same.stderr).toContain("deploy: removed ./apikey");
        expect(changes(same).slice(changes(first).length)).toEqual(["up --stack sandbox --yes"]);
        expect(existsSync(join(where.cwd, "apikey"))).toBe(false);

        const production = await h.run(where, ["production", "--yes"]);
        expect(production.status).toBe(2);
        expect(production.stderr).toContain("stack production has no API key yet.");
        expect(Object.keys(h.stateOf(where).stacks)).toEqual(["sandbox"]);
    });

    it("./apikey next to a key given another way: removed when it is the same key (a link too), refused when it differs", async () => {
        const where = h.place();
        const [key, other] = [makeApiKey(), makeApiKey()];
        mkdirSync(join(where.cwd, "dl"));
        writeFileSync(join(where.cwd, "dl", "apikey"), key);
        symlinkSync(join(where.cwd, "dl", "apikey"), join(where.cwd, "apikey"));
        const linked = await h.run(where, ["sandbox", "--yes", "--api-key-file", "dl/apikey"]);
        expect(linked.status).toBe(0);
        expect(linked.stderr).toContain("deploy: removed ./apikey");
        expect(existsSync(join(where.cwd, "apikey"))).toBe(false);
        expect(readFileSync(join(where.cwd, "dl", "apikey"), "utf8")).toBe(key); // the link went, not the user's file

        writeFileSync(join(where.cwd, "apikey"), other);
        const differs = await h.run(where, ["production", "--yes", "--api-key-file", "dl/apikey"], { QREDO_API_KEY: undefined });
        expect(differs.status).toBe(2);
        expect(differs.stderr).toContain(
            "deploy: error: ./apikey exists and holds a different key than the one from dl/apikey; nothing was changed.",
        );
        expect(changes(differs).slice(changes(linked).length)).toEqual([]);
        expect(existsSync(join(where.cwd, "apikey"))).toBe(true);
        expect(expectNoLeakIn(differs, [key, other])).toEqual([]);
    });

    it("a key file named with --api-key-file that holds the stored key: no change, said once, and the file is said to be left", async () => {
        const key = makeApiKey();
        const where = h.place({ sandbox: deployedStack(h.keys[0], { apiKey: key }) });
        mkdirSync(join(where.cwd, "dl"));
        writeFileSync(join(where.cwd, "dl", "apikey"), key);
        const same = await h.run(where, ["sandbox", "--yes", "--api-key-file", "dl/apikey"]);
        const replace = await h.run(where, ["sandbox", "--yes", "--api-key-file", "dl/apikey", "--replace-api-key"]);
        expect(same.status).toBe(0);
        expect(same.stderr).toContain("deploy: the API key from dl/apikey is the one stack sandbox already stores: no change\n");
        expect(same.stderr).toContain(
            "deploy: left dl/apikey where it is (--api-key-file): delete it once you no longer need it, so it is not taken for another environment's key later",
        );
        expect(same.stderr).not.toContain("keeping the API key already stored");
        expect(changes(same)).toEqual(["up --stack sandbox --yes"]);
        expect(readFileSync(join(where.cwd, "dl", "apikey"), "utf8")).toBe(key);
        expect(replace.status).toBe(2);
        expect(replace.stderr).toContain("deploy: error: --replace-api-key needs the new key");
        expect(expectNoLeakIn(same, [key])).toEqual([]);
    });

    it("QREDO_API_KEY equal to the stored key is no change; a different one is stored only with --replace-api-key, on CI", async () => {
        const [first, second] = [makeApiKey(), makeApiKey()];
        const where = h.place({ sandbox: deployedStack(h.keys[0], { apiKey: first }) });
        const created = { calls: [] as PulumiCall[] } as unknown as Run;
        const same = await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: first });
        expect(same.status).toBe(0);
        expect(same.stderr).toContain("deploy: the API key from $QREDO_API_KEY is the one stack sandbox already stores: no change");
        expect(commands(same).slice(created.calls.length)).toContain("config get --stack sandbox apiKey");
        expect(changes(same).slice(changes(created).length)).toEqual(["up --stack sandbox --yes"]);
        const replaced = await h.run(where, ["sandbox", "--yes", "--replace-api-key"], { QREDO_API_KEY: second, CI: "true" });
        expect(replaced.status).toBe(0);
        expect(h.stateOf(where).stacks.sandbox.config["qredo-partner-keys:apiKey"].value).toBe(second);
        expect(expectNoLeakIn(replaced, [first, second])).toEqual([]);
    });

    it("a stack file older than the deployed API key is refused, with a key given (CI) or not, before any change", async () => {
        const [older, newer] = [makeApiKey(), makeApiKey()];
        // The key was replaced elsewhere: the state holds the newer key, this copy of the stack file the older one.
        const stale = () => h.place({ sandbox: deployedStack(h.keys[0], { apiKey: older, deployedApiKey: newer }) });
        const [plain, onCi] = await Promise.all([
            h.run(stale(), ["sandbox", "--yes"], { QREDO_API_KEY: undefined }),
            h.run(stale(), ["sandbox", "--yes"], { QREDO_API_KEY: older, CI: "true" }),
        ]);
        for (const run of [plain, onCi]) {
            expect(run.status).toBe(2);
            expect(run.stderr).toContain(
                "deploy: error: stacks/Pulumi.sandbox.yaml holds a different API key than the one stack sandbox last deployed; nothing was changed. Usually this copy of the stack file is older than the deployment",
            );
            expect(run.stderr).toContain("finish that: npm run deploy -- sandbox --replace-api-key");
            expect(run.stderr).not.toContain("keeping the API key"); // said only once the key is known not to be behind
            expect(changes(run)).toEqual([]);
            expect(expectNoLeakIn(run, [older, newer])).toEqual([]);
        }
    });

    it("a stack export that is not JSON stops the deploy without quoting it (it holds decrypted secrets)", async () => {
        const where = h.place({ sandbox: deployedStack(h.keys[0], { apiKey: makeApiKey() }) });
        writeFileSync(
            join(where.state, "answers", "export-secrets-sandbox.json"),
            '{"deployment": {"secret": "Zq9-decrypted-secret-text"}} trailing',
        );
        const run = await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: undefined });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(
            "`pulumi stack export --stack sandbox` printed something that is not JSON (not shown: it holds the stack's secrets)",
        );
        expect(run.stdout + run.stderr).not.toContain("Zq9");
        expect(changes(run)).toEqual([]);
    });

    it("a --replace-api-key whose up failed is finished with --replace-api-key alone; a plain run refuses meanwhile", async () => {
        const [first, second] = [makeApiKey(), makeApiKey()];
        const where = h.place({ sandbox: deployedStack(h.keys[0], { apiKey: first }) });
        writeFileSync(join(where.cwd, "new-key"), second);
        const failed = await h.run(where, ["sandbox", "--yes", "--api-key-file", "new-key", "--replace-api-key"], {
            FAKE_PULUMI_UP_EXIT: "255",
        });
        expect(failed.status).toBe(1);
        expect(failed.stderr).toContain("Run npm run deploy -- sandbox --replace-api-key to try again.");
        const plain = await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: undefined });
        expect(plain.status).toBe(2);
        expect(plain.stderr).toContain("holds a different API key than the one stack sandbox last deployed");
        const finished = await h.run(where, ["sandbox", "--yes", "--replace-api-key"], { QREDO_API_KEY: undefined });
        expect(finished.status).toBe(0);
        expect(finished.stderr).toContain(
            "deploy: deploying the API key in stacks/Pulumi.sandbox.yaml in place of the one stack sandbox last deployed (--replace-api-key)",
        );
        expect(h.stateOf(where).stacks.sandbox).toMatchObject({ deployedApiKey: second });
        expect(finished.stdout).toContain("The API key was replaced: commit and push stacks/Pulumi.sandbox.yaml now.");
        // Nothing left to replace: the flag alone is refused, and a plain deploy goes through.
        const again = await h.run(where, ["sandbox", "--yes", "--replace-api-key"], { QREDO_API_KEY: undefined });
        expect(again.status).toBe(2);
        expect(again.stderr).toContain(
            "--replace-api-key needs the new key: pass --api-key-file PATH (on CI, QREDO_API_KEY). The key in stacks/Pulumi.sandbox.yaml is already the one deployed: to deploy without replacing it, run without --replace-api-key.",
        );
        expect((await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: undefined })).status).toBe(0);
        for (const run of [failed, plain, finished, again]) {
            expect(expectNoLeakIn(run, [first, second])).toEqual([]);
        }
    });

    it("decodes a UTF-16 file with a byte-order mark and removes one pair of quotes around the key", async () => {
        const where = h.place();
        const key = makeApiKey();
        writeFileSync(join(where.cwd, "win.txt"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`"${key}"\r\n`, "utf16le")]));
        const run = await h.run(where, ["sandbox", "--yes", "--api-key-file", "win.txt"], { QREDO_API_KEY: undefined });
        expect(run.status).toBe(0);
        expect(run.stderr).toContain("deploy: removed the quotes around the API key from win.txt");
        expect(run.calls.find((c) => c.args.includes("apiKey"))?.stdin).toBe(key);
        expect(existsSync(join(where.cwd, "win.txt"))).toBe(true); // only ./apikey is removed
        expect(run.stderr).toContain(
            "deploy: left win.txt where it is (--api-key-file): delete it once you no longer need it, so it is not taken for another environment's key later\n",
        );
    });
});

describe.concurrent("backends, secrets providers and passphrases", () => {
    it("advises a KMS key for a new production stack whose passphrase is set, saying this run creates it and how to move it", async () => {
        const run = await h.run(h.place(), ["production", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true" });
        expect(run.status).toBe(0);
        expect(run.stderr).toContain(
            "deploy: warning: stack production protects its private key (in the state) with a passphrase only. For production use a KMS key: create the stack with --secrets-provider 'awskms://alias/NAME?region=REGION' (this run creates it with the passphrase set; to move it to KMS later: npm run pulumi -- stack change-secrets-provider --stack production 'awskms://alias/NAME?region=REGION')\n",
        );
        expect(run.stderr.indexOf("passphrase only")).toBeLessThan(run.stderr.indexOf("stored the API key"));
    });

    it("promises no passphrase prompt for a new production stack when there is no terminal to ask on", async () => {
        const where = h.place();
        const run = await h.run(where, ["production", "--yes"], {
            QREDO_API_KEY: makeApiKey(),
            CI: "true",
            PULUMI_CONFIG_PASSPHRASE: undefined,
        });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(
            "create the stack with --secrets-provider 'awskms://alias/NAME?region=REGION' (nothing is created yet)\n",
        );
        expect(run.stderr).not.toContain("prompt");
        expect(run.stderr).toContain("a new stack encrypts its secrets with a passphrase, and there is no terminal to ask for it on");
        expect(Object.keys(h.stateOf(where).stacks)).toEqual([]);
    });

    it("respects PULUMI_BACKEND_URL and a CLI login, and gives AWS credentials to every command of an S3 backend", async () => {
        const viaEnv = await h.run(h.place(), ["sandbox", "--yes"], {
            PULUMI_BACKEND_URL: "s3://team-state",
            QREDO_API_KEY: makeApiKey(),
            CI: "true",
            ...aws,
        });
        expect(viaEnv.status).toBe(0);
        expect(viaEnv.calls.slice(1).every((c) => c.backend === "s3://team-state" && c.aws)).toBe(true);
        const other = h.place();
        mkdirSync(join(other.home, ".pulumi"));
        writeFileSync(join(other.home, ".pulumi", "credentials.json"), JSON.stringify({ current: "https://api.pulumi.com" }));
        const viaLogin = await h.run(other, ["production", "--yes"], {
            PULUMI_BACKEND_URL: undefined,
            QREDO_API_KEY: makeApiKey(),
            CI: "true",
        });
        expect(viaLogin.status).toBe(0);
        expect(viaLogin.stderr).toContain("using the configured Pulumi backend (logged in)");
        expect(viaLogin.stderr).not.toContain("passphrase");
        expect(viaLogin.calls.every((c) => c.backend === null)).toBe(true);
    });

    it("asks a new stack's passphrase twice on a terminal, without echo, and warns production off passphrases", () => {
        const where = h.place();
        const secret = "hunter2 is not a passphrase";
        const run = spawnSync(
            "python3",
            [
                join(__dirname, "support", "pty_answer.py"),
                "choose a passphrase",
                secret,
                "Repeat the passphrase",
                secret,
                "--",
                process.execPath,
                join(h.project, "scripts", "deploy.js"),
                "production",
                "--yes",
            ],
            {
                cwd: h.project,
                encoding: "utf8",
                env: h.env(where, { PULUMI_CONFIG_PASSPHRASE: undefined, QREDO_API_KEY: makeApiKey(), CI: "true" }),
            },
        );
        expect(run.stdout).toContain("New stack: choose a passphrase for its secrets (keep it; it cannot be recovered): ");
        expect(run.stdout).toContain("Repeat the passphrase: ");
        expect(run.status).toBe(0);
        expect(run.stdout).not.toContain("hunter2");
        const advice =
            "deploy: warning: stack production protects its private key (in the state) with a passphrase only. For production use a KMS key: create the stack with --secrets-provider 'awskms://alias/NAME?region=REGION' (nothing is created yet: to do that, stop at the passphrase prompt with Ctrl-C)";
        expect(run.stdout).toContain(advice);
        // Before the prompt, while stopping there changes nothing.
        expect(run.stdout.indexOf(advice)).toBeLessThan(run.stdout.indexOf("New stack: choose a passphrase"));
        const calls = readLines<PulumiCall>(join(where.state, "calls.jsonl"));
        expect(calls.map((c) => [c.args[0], c.passphrase])).toEqual([
            ["version", null],
            ["stack", null],
            ...calls.slice(2).map((c) => [c.args[0], secret]),
        ]);

        const other = h.place();
        const mismatch = spawnSync(
            "python3",
            [
                join(__dirname, "support", "pty_answer.py"),
                "choose a passphrase",
                secret,
                "Repeat the passphrase",
                "something else",
                "--",
                process.execPath,
                join(h.project, "scripts", "deploy.js"),
                "sandbox",
                "--yes",
            ],
            {
                cwd: h.project,
                encoding: "utf8",
                env: h.env(other, { PULUMI_CONFIG_PASSPHRASE: undefined, QREDO_API_KEY: makeApiKey(), CI: "true" }),
            },
        );
        expect(mismatch.status).toBe(2);
        expect(mismatch.stdout).toContain("the two passphrases differ; nothing was created. Run again.");
        expect(changes({ calls: readLines<PulumiCall>(join(other.state, "calls.jsonl")) } as Run)).toEqual([]);
    });

    it("takes Ctrl-D or Ctrl-Z at a passphrase prompt as cancelling: exit 2, nothing changed, ./apikey kept", () => {
        for (const dialogue of [
            ["choose a passphrase", "^D"],
            ["choose a passphrase", "^Z"],
            ["choose a passphrase", "hunter2 is not a passphrase", "Repeat the passphrase", "^D"],
        ]) {
            const where = h.place();
            writeFileSync(join(where.cwd, "apikey"), `${makeApiKey()}\n`);
            const run = spawnSync(
                "python3",
                [
                    join(__dirname, "support", "pty_answer.py"),
                    ...dialogue,
                    "--",
                    process.execPath,
                    join(h.project, "scripts", "deploy.js"),
                    "sandbox",
                    "--yes",
                ],
                { cwd: where.cwd, encoding: "utf8", env: h.env(where, { PULUMI_CONFIG_PASSPHRASE: undefined }) },
            );
            expect(run.status, dialogue.join(" ")).toBe(2);
            expect(run.stdout).toContain("cancelled; nothing was changed.");
            expect(existsSync(join(where.cwd, "apikey"))).toBe(true);
            expect(changes({ calls: readLines<PulumiCall>(join(where.state, "calls.jsonl")) } as Run)).toEqual([]);
        }
    });
});

describe.concurrent("faults", () => {
    it("forwards SIGINT to the running pulumi up, waits for it to stop, and exits 130", async () => {
        const where = h.place();
        let signalled = false;
        const run = await h.run(
            where,
            ["sandbox", "--yes"],
            { QREDO_API_KEY: makeApiKey(), CI: "true", FAKE_PULUMI_UP_WAIT_SIGNAL: "1" },
            {
                onStdout: (text, pid) => {
                    if (!signalled && text.includes("waiting for a signal")) {
                        signalled = true;
                        process.kill(pid, "SIGINT");
                    }
                },
            },
        );
        expect(run.status).toBe(130);
        expect(readLines<{ signal: string }>(join(where.state, "signals.jsonl"))).toEqual([{ signal: "SIGINT" }]);
        const pulumiPid = Number(readFileSync(join(where.state, "up.pid"), "utf8"));
        expect(() => process.kill(pulumiPid, 0)).toThrow(); // not left running
        expect(run.stderr).toContain("deploy: error: `pulumi up` was interrupted (SIGINT); its output is above.");
    });

    it("exits 1 without writing a public key when up fails, or when the key does not match its fingerprint", async () => {
        const [failed, mismatched] = await Promise.all([
            h.run(h.place(), ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true", FAKE_PULUMI_UP_EXIT: "255" }),
            h.run(h.place(), ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true", FAKE_PULUMI_BAD_FINGERPRINT: "1" }),
        ]);
        expect(failed.status).toBe(1);
        expect(failed.stderr).toContain(
            "deploy: error: `pulumi up` failed or was declined (exit 255); its output is above. The API key this run stored now lives in stacks/Pulumi.sandbox.yaml (encrypted)",
        );
        expect(failed.stderr).toContain("This deploy did not change keyVersion or keyStage; the stack is as that output leaves it.");
        expect(mismatched.status).toBe(1);
        expect(mismatched.stderr).toContain(
            "has a publicKeyPem output that does not match its publicKeyFingerprintSha256 output; not writing it",
        );
        expect(readLines(join(h.work, "none"))).toEqual([]);
    });
});

describe.concurrent("prerequisites and entry points", () => {
    it("says how to install the Pulumi CLI, and refuses one that is too old", async () => {
        const noCli = { PATH: systemPath().join(":") };
        const own = copyProject({ dependencies: true, build: true }); // no other test makes a local backend in it
        const [missing, noTerminal, old, passThrough] = await Promise.all([
            h.run(h.place(), ["sandbox", "--yes"], noCli),
            h.run(h.place(), ["sandbox"], noCli), // without --yes and a terminal: the CLI is still what it names first
            h.run(h.place(), ["sandbox", "--yes"], { FAKE_PULUMI_VERSION: "v3.200.1" }),
            h.run(h.place(undefined, own), ["stack", "output", "--stack", "sandbox"], noCli, { script: "pulumi.js" }),
        ]);
        for (const run of [missing, noTerminal, passThrough]) {
            expect(run.status).toBe(3);
            expect(run.stderr).toContain("the Pulumi CLI is not on your PATH. This project needs v3.248.0 or later.");
            expect(run.stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
            expect(run.stderr).not.toMatch(/^\s+at |ENOENT/m);
        }
        expect(existsSync(join(own, ".pulumi-state"))).toBe(false); // no local backend folder made for nothing
        rmSync(own, { recursive: true, force: true });
        expect(old.status).toBe(3);
        expect(old.stderr).toContain("the Pulumi CLI is v3.200.1; this project needs v3.248.0 or later");
    });

    /** What a checkout updated over an older install has: the js-yaml 4 that @pulumi/pulumi brings, in js-yaml 5's place. */
    function putJsYaml4(dir: string): void {
        cpSync(
            join(__dirname, "..", "node_modules", "@pulumi", "pulumi", "node_modules", "js-yaml"),
            join(dir, "node_modules", "js-yaml"),
            {
                recursive: true,
            },
        );
    }

    /** This file's copy (built with the sources it holds) without its dependencies, as before a first npm ci. */
    function bareCopy(): string {
        const bare = mkdtempSync(join(h.work, "bare-"));
        cpSync(h.project, bare, { recursive: true, filter: (source) => !/node_modules|\.pulumi-state/.test(source) });
        return bare;
    }

    it("installs missing dependencies with npm ci --ignore-scripts and no credential in its environment", async () => {
        const bare = bareCopy();
        try {
            const run = await h.run(h.place(undefined, bare), ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true", ...aws });
            expect(run.status).toBe(0);
            expect(run.npmCalls.map((c) => c.args)).toEqual([["ci", "--ignore-scripts", "--no-audit", "--no-fund"]]);
            expect(run.npmCalls[0].envNames.filter((n) => /QREDO|AWS|TOKEN|PASSPHRASE/.test(n))).toEqual([]);
        } finally {
            rmSync(bare, { recursive: true, force: true });
        }
    });

    it("reads a stack file's environment from an install older than js-yaml 5 as before an install", async () => {
        const bare = bareCopy();
        try {
            putJsYaml4(bare);
            writeFileSync(join(bare, "stacks", "Pulumi.keyed.yaml"), "config:\n  qredo-partner-keys:environment: sandbox\n");
            writeFileSync(join(bare, "stacks", "Pulumi.typo.yaml"), "config:\n  qredo-partner-keys:environment: sandbx\n");
            const noCli = { PATH: systemPath().join(":") };
            const [keyed, typo] = await Promise.all([
                h.run(h.place(undefined, bare), ["keyed", "--yes"], noCli),
                h.run(h.place(undefined, bare), ["typo", "--yes"], noCli),
            ]);
            // Past the stack's environment, to the next check: the Pulumi CLI.
            expect(keyed.stderr).not.toContain("not valid YAML");
            expect(keyed.stderr).toContain("the Pulumi CLI is not on your PATH");
            expect(keyed.status).toBe(3);
            expect(typo.stderr).toContain(
                'deploy: error: stacks/Pulumi.typo.yaml sets qredo-partner-keys:environment to "sandbx"; it must be sandbox or production.',
            );
            expect(typo.status).toBe(2);
        } finally {
            rmSync(bare, { recursive: true, force: true });
        }
    });

    it("reads the stack file again as YAML once npm ci installed js-yaml 5, and stops when that reading differs", async () => {
        const stale = bareCopy();
        const fresh = bareCopy();
        try {
            // npm ci (the stand-in links this checkout's packages in place of node_modules) brings js-yaml 5,
            // which must be what reads the stack file from then on.
            putJsYaml4(stale);
            writeFileSync(
                join(stale, "stacks", "Pulumi.advnew.yaml"),
                "config:\n  aws:region: eu-west-2\n  qredo-partner-keys:environment: sandbox\n",
            );
            // A quoted key: the plain-line reading before the install misses it and goes by the stack's name.
            writeFileSync(
                join(fresh, "stacks", "Pulumi.sandbox.yaml"),
                'config:\n  aws:region: eu-west-2\n  "qredo-partner-keys:environment": production\n',
            );
            const ci = { QREDO_API_KEY: makeApiKey(), CI: "true", ...aws };
            const [advnew, quoted] = await Promise.all([
                h.run(h.place(undefined, stale), ["advnew", "--yes"], ci),
                h.run(h.place(undefined, fresh), ["sandbox", "--yes"], ci),
            ]);
            expect(advnew.stderr).not.toContain("not valid YAML");
            expect(advnew.npmCalls.map((c) => c.args[0])).toEqual(["ci"]);
            expect(advnew.status).toBe(0);
            expect(quoted.npmCalls.map((c) => c.args[0])).toEqual(["ci"]);
            expect(quoted.stderr).toContain(
                "deploy: error: stacks/Pulumi.sandbox.yaml says environment production, read as YAML now that the dependencies are installed. Before they were, it could only be read line by line, which gave sandbox (a plain `key: value` line, or the stack's name when none was found). Nothing was changed: run the same command again.",
            );
            expect(quoted.status).toBe(2);
            expect(changes(quoted)).toEqual([]);
        } finally {
            rmSync(stale, { recursive: true, force: true });
            rmSync(fresh, { recursive: true, force: true });
        }
    });

    it("stops when, after the install, node_modules still has no js-yaml 5 (an install that looks current)", async () => {
        const copy = bareCopy();
        try {
            putJsYaml4(copy); // and the rest linked, dated after package.json: npm ci is not run
            linkDependencies(copy);
            writeFileSync(
                join(copy, "stacks", "Pulumi.sandbox.yaml"),
                'config:\n  aws:region: eu-west-2\n  "qredo-partner-keys:environment": production\n',
            );
            const run = await h.run(h.place(undefined, copy), ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true", ...aws });
            expect(run.npmCalls).toEqual([]);
            expect(run.stderr).toContain(
                "deploy: error: node_modules has no js-yaml 5, which the deploy reads stack files with: the install is older than package.json or incomplete, though it looks current. Nothing was changed. Run npm ci, then run again.",
            );
            expect(run.status).toBe(4);
            expect(changes(run)).toEqual([]);
        } finally {
            rmSync(copy, { recursive: true, force: true });
        }
    });

    /** Runs a deploy in a copy without node_modules; `act` gets the stand-in npm ci's pid and the deploy's once npm ci runs. */
    async function interruptedInstall(env: Record<string, string>, act: (npm: { pid: number; ppid: number }) => void) {
        const bare = bareCopy();
        const where = h.place(undefined, bare);
        const ciFile = join(where.state, "ci.json");
        let acted = false;
        const poll = setInterval(() => {
            if (!acted && existsSync(ciFile)) {
                acted = true;
                act(JSON.parse(readFileSync(ciFile, "utf8")));
                writeFileSync(join(where.state, "ci-go"), ""); // FAKE_NPM_CI_SLOW: npm ci finishes only now
            }
        }, 50);
        try {
            const run = await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true", ...env });
            expect(acted).toBe(true);
            return { run, where };
        } finally {
            clearInterval(poll);
            rmSync(bare, { recursive: true, force: true });
        }
    }

    it("Ctrl-C on a terminal while it installs the dependencies: waits for npm ci to finish its clean-up, then exits 130", () => {
        const bare = bareCopy();
        const where = h.place(undefined, bare);
        try {
            // The terminal sends SIGINT to the whole foreground group: the deploy and npm ci alike.
            const run = spawnSync(
                "python3",
                [
                    join(__dirname, "support", "pty_answer.py"),
                    "waiting for a signal",
                    "\x03",
                    "--",
                    process.execPath,
                    "scripts/deploy.js",
                    "sandbox",
                    "--yes",
                ],
                {
                    cwd: bare,
                    encoding: "utf8",
                    env: h.env(where, { QREDO_API_KEY: makeApiKey(), CI: "true", FAKE_NPM_CI_WAIT_SIGNAL: "1" }),
                },
            );
            expect(run.status).toBe(130);
            // npm ci had finished its clean-up before the deploy exited.
            expect(JSON.parse(readFileSync(join(where.state, "ci-stopped.json"), "utf8"))).toEqual({ signal: "SIGINT" });
            expect(run.stdout).toContain(
                "deploy: error: npm ci was interrupted (SIGINT) and has stopped; nothing was deployed. The dependencies may be half installed: run the same command again, and it installs them first.",
            );
            expect(changes({ calls: readLines(join(where.state, "calls.jsonl")) } as Run)).toEqual([]);
        } finally {
            rmSync(bare, { recursive: true, force: true });
        }
    });

    it("a signal to the deploy alone while npm ci runs: npm ci is neither signalled nor left behind, and nothing is deployed", async () => {
        const { run, where } = await interruptedInstall({ FAKE_NPM_CI_SLOW: "1" }, (npm) => process.kill(npm.ppid, "SIGTERM"));
        expect(run.status).toBe(143);
        expect(readLines(join(where.state, "ci-signals.jsonl"))).toEqual([]);
        expect(run.stderr).toContain(
            "deploy: error: interrupted (SIGTERM) while npm ci ran; it was left to finish, and nothing was deployed. Run the same command again.",
        );
        expect(changes(run)).toEqual([]);
    });

    it("a signal to the deploy alone while it compiles: it stops there, and nothing is deployed", async () => {
        const bare = bareCopy();
        try {
            linkDependencies(bare);
            // Sources changed since the build, and a compiler that takes its time: TypeScript 7's binary a stand-in
            // that says who started it, then compiles (writes the entry files) a second later.
            rmSync(join(bare, "bin", ".source-hash"));
            const compiling = join(bare, "compiling");
            standInTypeScript7(bare, {
                binary: `#!/bin/sh\nif [ "$1" = --version ]; then echo "Version 7.0.0"; exit 0; fi\necho $PPID > '${compiling}'\nsleep 1\nmkdir -p bin client/dist && : > bin/index.js && : > client/dist/index.js\n`,
            });
            const where = h.place(undefined, bare);
            let signalled = false;
            const poll = setInterval(() => {
                const pid = existsSync(compiling) ? Number(readFileSync(compiling, "utf8")) : 0;
                if (!signalled && pid > 0) {
                    signalled = true;
                    process.kill(pid, "SIGTERM");
                }
            }, 20);
            try {
                const run = await h.run(where, ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true" });
                expect(signalled).toBe(true);
                expect(run.status).not.toBe(0);
                expect(changes(run)).toEqual([]);
                expect(run.calls.map((c) => c.args[0]).filter((command) => command !== "version")).toEqual([]);
            } finally {
                clearInterval(poll);
            }
        } finally {
            rmSync(bare, { recursive: true, force: true });
        }
    });

    it("through a real `npm run`: deploy and verify refuse flags npm swallowed, and `npm run pulumi --` reaches the same state", async () => {
        const where = h.place();
        const npm = (args: string[]) =>
            h.run(
                where,
                args,
                { PATH: `${systemPath()[0]}:${h.fakePath}`, PULUMI_BACKEND_URL: undefined, QREDO_API_KEY: makeApiKey() },
                { command: ["npm", "run", "--silent"] },
            );
        const [swallowed, verifyLive] = await Promise.all([npm(["deploy", "sandbox", "--rotate"]), npm(["verify", "sandbox", "--live"])]);
        // Without the refusal, verify would pass its checks without asking Qredo, exit 0.
        expect(verifyLive.status).toBe(2);
        expect(verifyLive.stderr).toContain(
            "npm kept --live for itself (it set npm_config_live), so this script never saw it. Put -- before the options:\n    npm run verify -- sandbox --live",
        );
        expect(verifyLive.calls).toEqual([]);
        expect(swallowed.status).toBe(2);
        expect(swallowed.stderr).toContain(
            "npm kept --rotate for itself (it set npm_config_rotate), so this script never saw it. Put -- before the options:\n    npm run deploy -- sandbox --rotate",
        );
        expect(swallowed.calls).toEqual([]);
        // npm run pulumi config set --secret apiKey (no --): npm keeps --secret; pulumi would store the value in plain text.
        const plainSecret = await h.run(
            where,
            ["config", "set", "apiKey"],
            { npm_lifecycle_event: "pulumi", npm_config_secret: "true" },
            { script: "pulumi.js" },
        );
        expect(plainSecret.status).toBe(2);
        expect(plainSecret.stderr).toContain("pulumi: error: npm kept --secret for itself (it set npm_config_secret)");
        expect(plainSecret.calls).toEqual([]);
        const passthrough = await npm(["pulumi", "--", "stack", "ls", "--json"]);
        expect(passthrough.status).toBe(0);
        expect(passthrough.calls.map((c) => [c.args.join(" "), c.backend, c.passphrase, c.qredoApiKey])).toEqual([
            ["stack ls --json", `file://${join(h.project, ".pulumi-state")}`, passphrase, false],
        ]);
    });
});
