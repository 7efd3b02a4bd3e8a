// Key rotation through npm run deploy: stage, promote, immediate, and what a
// failed, declined or interrupted `up` leaves behind. Stand-in pulumi.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changes, commands, DeployHarness, deployedStack, expectNoLeakIn, type Place, type Run } from "./support/deployRun";
import { makeApiKey } from "./support/providers.js";

const h = new DeployHarness();
beforeAll(() => h.setUp());
afterAll(() => h.tearDown());

const keyConfig = (where: Place, stack = "sandbox") => {
    const config = h.stateOf(where).stacks[stack].config;
    return { keyVersion: config["qredo-partner-keys:keyVersion"]?.value, keyStage: config["qredo-partner-keys:keyStage"]?.value };
};
const pem = (where: Place, env = "sandbox") => readFileSync(join(where.cwd, `public-${env}.pem`), "utf8");
const after = (run: Run, before: Run) => commands(run).slice(before.calls.length);

describe("stage, upload, promote", () => {
    const where = {} as { place: Place };
    const runs: Record<string, Run> = {};
    beforeAll(async () => {
        where.place = h.place();
        runs.first = await h.run(where.place, ["sandbox", "--yes"], { QREDO_API_KEY: makeApiKey(), CI: "true" });
        runs.rotate = await h.run(where.place, ["sandbox", "--rotate", "--yes"]);
        runs.plainWhilePending = await h.run(where.place, ["sandbox", "--yes"]);
        runs.promote = await h.run(where.place, ["sandbox", "--promote", "--yes"]);
    });

    it("a first plain deploy creates the stack and never sets keyVersion or keyStage", () => {
        expect(runs.first.stderr).toBe(runs.first.stderr.replace(/^\s+at /m, "")); // no stack trace
        expect(runs.first.status).toBe(0);
        expect(changes(runs.first)).toEqual([
            "stack init sandbox",
            "config set --stack sandbox --secret apiKey",
            "up --stack sandbox --yes",
        ]);
        expect(runs.first.stdout).toContain("Public key for the Qredo sandbox environment (keyVersion 1, current) written to");
    });

    it("--rotate stages keyVersion + 1 as pending before up, writes the new key and says what to do next", () => {
        const run = runs.rotate;
        expect(run.status).toBe(0);
        expect(after(run, runs.first).filter((c) => !c.startsWith("stack output") && !c.startsWith("config --stack"))).toEqual([
            "version",
            "stack ls --json",
            "stack export --stack sandbox --show-secrets",
            "config get --stack sandbox apiKey", // the stack file's API key, against the one deployed
            "config set-all --stack sandbox --plaintext keyVersion=2 --plaintext keyStage=pending",
            "up --stack sandbox --yes",
        ]);
        expect(run.stderr).toContain("deploy: set keyVersion 1 → 2, keyStage current → pending in stacks/Pulumi.sandbox.yaml");
        expect(run.stdout).toContain(
            "Staged a new RSA key: keyVersion 1 → 2, keyStage pending. Signers keep signing with key 1 until you promote.",
        );
        expect(run.stdout).toContain("  1. Commit and push stacks/Pulumi.sandbox.yaml now");
        expect(run.stdout).toContain(
            "  2. Upload public-sandbox.pem: Qredo Web App → your name (top right) → the sandbox account → Settings → Partner API → Upload Public Key.",
        );
        expect(run.stdout).toContain("  4. Promote it: npm run deploy -- sandbox --promote");
        expect(run.stdout).toContain("(keyVersion 2, pending)");
    });

    it("a plain deploy while a key is staged changes neither keyVersion nor keyStage, and reminds of the upload", () => {
        const run = runs.plainWhilePending;
        expect(run.status).toBe(0);
        expect(after(run, runs.rotate).some((c) => c.startsWith("config set"))).toBe(false);
        expect(run.stdout).toContain("A new key is staged (pending). Upload public-sandbox.pem");
    });

    it("--promote sets keyStage current on the same keyVersion, keeps the public key, and says to commit", () => {
        const run = runs.promote;
        expect(run.status).toBe(0);
        expect(after(run, runs.plainWhilePending)).toContain(
            "config set-all --stack sandbox --plaintext keyVersion=2 --plaintext keyStage=current",
        );
        expect(keyConfig(where.place)).toEqual({ keyVersion: "2", keyStage: "current" });
        expect(run.stderr).toContain(
            "deploy: promote only once Qredo has the staged key (public-sandbox.pem uploaded): from this update on, signers use it and nothing else. npm run verify -- sandbox --live says whether Qredo accepts it.\n",
        );
        expect(run.stdout).toContain(
            "Promoted keyVersion 2: it is AWSCURRENT, the key signers use; the previous key stays in Secrets Manager as AWSPREVIOUS for a rollback.",
        );
        expect(run.stdout).toContain("Commit and push stacks/Pulumi.sandbox.yaml now");
        expect(h.stateOf(where.place).stacks.sandbox.outputs?.publicKeyPem).toBe(pem(where.place));
    });
});

describe("refusals that change nothing (exit 2)", () => {
    const cases: [string, Record<string, unknown>, string[], string][] = [
        [
            "--promote when nothing is pending",
            { sandbox: { keyVersion: 2 } },
            ["--promote"],
            "nothing to promote: stack sandbox has no staged key (keyVersion 2 is current). Stage one with: npm run deploy -- sandbox --rotate",
        ],
        [
            "--rotate while a key is pending",
            { sandbox: { keyVersion: 2, keyStage: "pending" } },
            ["--rotate"],
            "To throw the staged key away and stage a new one instead (only if it was never uploaded): npm run deploy -- sandbox --rotate --replace-pending",
        ],
        [
            "--rotate --immediate while a key is pending",
            { sandbox: { keyVersion: 2, keyStage: "pending" } },
            ["--rotate", "--immediate"],
            "--rotate --immediate while keyVersion 2 is staged would leave AWSPENDING on that discarded staged key",
        ],
        [
            "a stack file whose keyVersion is behind the deployment",
            { sandbox: { keyVersion: 2, deployedVersion: 3 } },
            [],
            "stacks/Pulumi.sandbox.yaml says keyVersion 2 (keyStage current), but the stack last deployed keyVersion 3 (keyStage current). This copy of the stack file is older than the deployment",
        ],
        [
            "--rotate from a stack file behind the deployment",
            { sandbox: { keyVersion: 2, deployedVersion: 3 } },
            ["--rotate"],
            "never committed and pushed",
        ],
        [
            "a stack file back at pending after a promotion",
            { sandbox: { keyVersion: 2, keyStage: "pending", deployedStage: "current" } },
            [],
            "would move the key backwards",
        ],
        [
            "--rotate --replace-pending when nothing is staged",
            { sandbox: { keyVersion: 2 } },
            ["--rotate", "--replace-pending"],
            "--replace-pending discards a staged key, and stack sandbox has none (keyVersion 2 is current); nothing was changed. Run without it: npm run deploy -- sandbox --rotate",
        ],
        [
            "--rotate --immediate --replace-pending when nothing is staged",
            { sandbox: { keyVersion: 2 } },
            ["--rotate", "--immediate", "--replace-pending"],
            "--replace-pending discards a staged key, and stack sandbox has none (keyVersion 2 is current); nothing was changed. Run without it: npm run deploy -- sandbox --rotate --immediate",
        ],
        ["--rotate on a stack never deployed", {}, ["--rotate"], "stack sandbox has no deployed key to rotate yet"],
        [
            "--promote of a staging that was never deployed (a declined --rotate)",
            { sandbox: { keyVersion: 2, keyStage: "pending", deployedVersion: 1, deployedStage: "current" } },
            ["--promote"],
            "nothing to promote yet: stacks/Pulumi.sandbox.yaml stages keyVersion 2, but the stack runs keyVersion 1 (keyStage current): the staging was never deployed. Finish it first (npm run deploy -- sandbox), upload the public key it writes, then promote.",
        ],
    ];
    const results: Run[] = [];
    beforeAll(async () => {
        results.push(
            ...(await Promise.all(
                cases.map(([, stacks, args]) => {
                    const seeded = Object.fromEntries(
                        Object.entries(stacks).map(([name, o]) => [
                            name,
                            deployedStack(h.keys[1], { apiKey: makeApiKey(), ...(o as object) }),
                        ]),
                    );
                    return h.run(h.place(seeded), ["sandbox", ...args, "--yes"], { QREDO_API_KEY: undefined });
                }),
            )),
        );
    });
    it.each(cases.map((c, i) => [c[0], i] as const))("%s", (_name, i) => {
        const run = results[i];
        expect(run.stderr).toContain(cases[i][3]);
        expect(run.status).toBe(2);
        expect(changes(run)).toEqual([]);
    });
});

describe("an up that fails or is declined during a rotation step", () => {
    // The CLI exits 255 both when the update fails and when the confirmation
    // is declined (it only prints "confirmation declined"), so both must
    // leave the stack file moved forward, never back, and say what signers see.
    const scenarios = [
        {
            name: "--rotate, up fails",
            seed: { keyVersion: 1 },
            args: ["--rotate"],
            env: { FAKE_PULUMI_UP_EXIT: "255" },
            config: { keyVersion: "2", keyStage: "pending" },
        },
        {
            name: "--rotate, up declined",
            seed: { keyVersion: 1 },
            args: ["--rotate"],
            env: { FAKE_PULUMI_UP_DECLINE: "1" },
            config: { keyVersion: "2", keyStage: "pending" },
        },
        {
            name: "--promote, up fails",
            seed: { keyVersion: 2, keyStage: "pending" as const },
            args: ["--promote"],
            env: { FAKE_PULUMI_UP_EXIT: "255" },
            config: { keyVersion: "2", keyStage: "current" },
        },
        {
            name: "--promote, up declined",
            seed: { keyVersion: 2, keyStage: "pending" as const },
            args: ["--promote"],
            env: { FAKE_PULUMI_UP_DECLINE: "1" },
            config: { keyVersion: "2", keyStage: "current" },
        },
        {
            name: "--rotate --immediate, up fails",
            seed: { keyVersion: 1 },
            args: ["--rotate", "--immediate"],
            env: { FAKE_PULUMI_UP_EXIT: "255" },
            config: { keyVersion: "2", keyStage: "current" },
        },
    ];
    const runs: { where: Place; run: Run }[] = [];
    beforeAll(async () => {
        runs.push(
            ...(await Promise.all(
                scenarios.map(async (s) => {
                    const where = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), ...s.seed }) });
                    return { where, run: await h.run(where, ["sandbox", ...s.args, "--yes"], { QREDO_API_KEY: undefined, ...s.env }) };
                }),
            )),
        );
    });

    it.each(scenarios.map((s, i) => [s.name, i] as const))("%s: exit 1, the stack file moved forward and is not set back", (_name, i) => {
        const { where, run } = runs[i];
        expect(run.status).toBe(1);
        expect(keyConfig(where)).toEqual(scenarios[i].config);
        expect(commands(run).filter((c) => c.startsWith("config set"))).toHaveLength(1);
        expect(run.stderr).toContain(
            `deploy: error: \`pulumi up\` failed or was declined (exit 255); its output is above. The stack file keeps keyVersion ${scenarios[i].config.keyVersion}, keyStage ${scenarios[i].config.keyStage}: the update may have applied part of it, so nothing is set back (a lower keyVersion would generate yet another key).`,
        );
        expect(existsSync(join(where.cwd, "public-sandbox.pem"))).toBe(false);
    });

    it("after a failed or declined staging, says signers are unaffected and how to finish", () => {
        for (const { run } of runs.slice(0, 2)) {
            expect(run.stderr).toContain(
                "Signers are not affected: a staged key is invisible to them, and key 1 is still the one they use (AWSCURRENT). The update may already have generated the new key, so do not revert stacks/Pulumi.sandbox.yaml: run the deploy again to finish (npm run deploy -- sandbox). Then upload the public key and promote as it says",
            );
        }
    });

    it("after a failed or declined promotion, says which two states signers can be in", () => {
        for (const { run } of runs.slice(2, 4)) {
            expect(run.stderr).toContain(
                "Signers are in one of two states: if the update did not reach the key's labels, key 1 is still AWSCURRENT and key 2 AWSPENDING, as before; if it did, key 2 is AWSCURRENT.",
            );
            expect(run.stderr).toContain("Run npm run deploy -- sandbox to finish the promotion, then commit stacks/Pulumi.sandbox.yaml.");
        }
    });

    it("after a declined step that also stored a new API key, says to keep the stack file, never to restore it", async () => {
        const where = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 1 }) });
        const fresh = makeApiKey();
        writeFileSync(join(where.cwd, "apikey"), fresh);
        const run = await h.run(where, ["sandbox", "--rotate", "--api-key-file", "apikey", "--replace-api-key", "--yes"], {
            QREDO_API_KEY: undefined,
            FAKE_PULUMI_UP_DECLINE: "1",
        });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(
            "The API key this run stored now lives in stacks/Pulumi.sandbox.yaml (encrypted): keep that file as it is (do not git checkout or revert it), or the key is lost",
        );
        expect(run.stderr).not.toContain("git checkout -- stacks/Pulumi.sandbox.yaml");
        expect(runs[1].run.stderr).toContain("you can also restore the file instead: git checkout -- stacks/Pulumi.sandbox.yaml"); // without a new key
        expect(expectNoLeakIn(run, [fresh])).toEqual([]);
    });

    it("after a failed immediate rotation, warns that signing may already fail", () => {
        expect(runs[4].run.stderr).toContain(
            "The update may already have made the new key AWSCURRENT: if it did, requests signed with it FAIL until you upload it.",
        );
    });
});

describe("an update that raised keyVersion but kept the key", () => {
    it("is not reported as a rotation: exit 1, no key file written, and the command that generates the key", async () => {
        const staged = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 2 }) });
        const immediate = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 2 }) });
        const sameKey = { QREDO_API_KEY: undefined, FAKE_PULUMI_UP_SAME_KEY: "1" };
        const [stagedRun, immediateRun] = await Promise.all([
            h.run(staged, ["sandbox", "--rotate", "--yes"], sameKey),
            h.run(immediate, ["sandbox", "--rotate", "--immediate", "--yes"], sameKey),
        ]);
        for (const run of [stagedRun, immediateRun]) {
            expect(run.status).toBe(1);
            expect(run.stderr).toContain(
                "deploy: error: stack sandbox now says keyVersion 3, but its private key is still keyVersion 2's (the same fingerprint): this update did not replace it, which happens when an earlier update of it stopped part way. Nothing changed for signers or Qredo, and public-sandbox.pem was not written. Generate the new key now: npm run deploy -- sandbox --rotate",
            );
            expect(run.stdout).not.toMatch(/Staged a new RSA key|Rotated immediately/);
        }
        expect(stagedRun.stderr).toContain("Generate the new key now: npm run deploy -- sandbox --rotate --replace-pending\n");
        expect(immediateRun.stderr).toContain(
            "Generate the new key now: npm run deploy -- sandbox --rotate (or, if the key must stop working now, npm run deploy -- sandbox --rotate --immediate)\n",
        );
        expect(existsSync(join(staged.cwd, "public-sandbox.pem"))).toBe(false);
        expect(existsSync(join(immediate.cwd, "public-sandbox.pem"))).toBe(false);
    });
});

describe("immediate rotation, replacing a staged key, and rotations committed to the stack file", () => {
    const runs: Record<string, Run> = {};
    const places: Record<string, Place> = {};
    beforeAll(async () => {
        places.immediate = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 4 }) });
        places.replace = h.place({ sandbox: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 2, keyStage: "pending" }) });
        places.committed = h.place({
            production: deployedStack(h.keys[1], { apiKey: makeApiKey(), keyVersion: 3, deployedVersion: 2, environment: "production" }),
        });
        [runs.immediate, runs.replace, runs.committed] = await Promise.all([
            h.run(places.immediate, ["sandbox", "--rotate", "--immediate", "--yes"], { QREDO_API_KEY: undefined }),
            h.run(places.replace, ["sandbox", "--rotate", "--replace-pending", "--yes"], { QREDO_API_KEY: undefined }),
            h.run(places.committed, ["production", "--immediate", "--yes"], { QREDO_API_KEY: undefined }),
        ]);
    });

    it("--rotate --immediate makes keyVersion + 1 current, warns loudly before up, and says to upload NOW after", () => {
        const run = runs.immediate;
        expect(run.status).toBe(0);
        expect(keyConfig(places.immediate)).toEqual({ keyVersion: "5", keyStage: "current" });
        const warning =
            "WARNING: --immediate makes the new key the one signers use as soon as this update applies. Qredo REJECTS every request they sign from then until you upload public-sandbox.pem in the Qredo Web App.";
        expect(run.stderr.split(warning)).toHaveLength(2);
        expect(run.stderr.indexOf(warning)).toBeLessThan(run.stderr.indexOf("deploy: set keyVersion 4 → 5"));
        expect(run.stderr).toContain("deploy: set keyVersion 4 → 5 in stacks/Pulumi.sandbox.yaml\n");
        expect(run.stdout).toContain("Rotated immediately: keyVersion 4 → 5 is the key signers use NOW.");
        expect(run.stdout).toContain("Upload public-sandbox.pem NOW: Qredo Web App");
        expect(run.stdout).toContain("Commit and push stacks/Pulumi.sandbox.yaml now");
    });

    it("--rotate --replace-pending stages yet another key over an unpromoted one", () => {
        expect(runs.replace.status).toBe(0);
        expect(keyConfig(places.replace)).toEqual({ keyVersion: "3", keyStage: "pending" });
    });

    it("a plain deploy with --immediate applies an immediate rotation committed to the stack file, without changing it, and warns", () => {
        const run = runs.committed;
        expect(run.status).toBe(0);
        expect(commands(run).some((c) => c.startsWith("config set"))).toBe(false);
        expect(run.stderr).toContain(
            "deploy: stacks/Pulumi.production.yaml asks for keyVersion 3 (current); the stack runs keyVersion 2: this update generates a new key.",
        );
        expect(run.stderr).toContain("WARNING: --immediate makes the new key");
        expect(run.stdout).toContain(
            "Rotated immediately, as stacks/Pulumi.production.yaml asks: keyVersion 2 → 3 is the key signers use NOW.",
        );
        expect(run.stdout).toContain("Upload public-production.pem NOW: Qredo Web App");
        expect(run.stdout).not.toContain("Commit and push");
    });
});
