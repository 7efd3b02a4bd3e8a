// npm run deploy refusing what would hurt: a key generation the state holds
// but the outputs do not (a failed up), stack-file rotations without the flag
// that says they were meant, an API key carried between stacks or echoed, a
// leftover ./apikey; npm and shell pitfalls (swallowed flags, an orphaned
// script after npm is killed). Stand-in pulumi; one project copy.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOptions } from "../scripts/lib/deployOptions.js";
import { defaultPublicKeyFile } from "../scripts/lib/publicKeyFile.js";
import { systemPath } from "./support/fakeCli";
import { saveState, type State } from "./support/fakePulumiState.js";
import { changes, commands, DeployHarness, deployedStack, expectNoLeakIn, type Place, readLines, type Run } from "./support/deployRun";
import { makeApiKey } from "./support/providers.js";

const h = new DeployHarness();
beforeAll(() => {
    h.setUp();
    writeFileSync(join(h.project, "stacks", "Pulumi.local.yaml"), "config:\n  qredo-partner-keys:environment: sandbox\n");
    writeFileSync(join(h.project, "stacks", "Pulumi.weird.yaml"), "config:\n  aws:region: eu-west-2\n");
    writeFileSync(
        join(h.project, "stacks", "Pulumi.staged.yaml"),
        'config:\n  qredo-partner-keys:environment: sandbox\n  qredo-partner-keys:keyVersion: "2"\n  qredo-partner-keys:keyStage: pending\n',
    );
});
afterAll(() => h.tearDown());

const storedKey = makeApiKey();
/** A deployed stack: keyVersion/keyStage in the stack file, and what its outputs say. */
const stack = (file: [number, "current" | "pending"], deployed: [number, "current" | "pending"]) =>
    deployedStack(h.keys[0], {
        apiKey: storedKey,
        keyVersion: file[0],
        keyStage: file[1],
        deployedVersion: deployed[0],
        deployedStage: deployed[1],
    });
const later = (run: Run, before: Run) => ({ ...run, calls: run.calls.slice(before.calls.length) });

describe("a failed up that already replaced the key generation", () => {
    const runs: Record<string, Run> = {};
    let where: Place;
    beforeAll(async () => {
        where = h.place({
            production: {
                ...stack([1, "current"], [1, "current"]),
                outputs: { ...stack([1, "current"], [1, "current"]).outputs, environment: "production" },
            },
        });
        runs.rotate = await h.run(where, ["production", "--rotate", "--yes"], { FAKE_PULUMI_UP_PARTIAL: "1" });
        // `git revert` of the staging change: the stack file is back at keyVersion 1
        const state = h.stateOf(where) as unknown as State;
        delete state.stacks.production.config["qredo-partner-keys:keyVersion"];
        delete state.stacks.production.config["qredo-partner-keys:keyStage"];
        saveState(where.state, state);
        runs.reverted = await h.run(where, ["production", "--yes"]);
        runs.rotateAgain = await h.run(where, ["production", "--rotate", "--yes"]);
        const restored = h.stateOf(where) as unknown as State;
        restored.stacks.production.config["qredo-partner-keys:keyVersion"] = { value: "2", secret: false };
        restored.stacks.production.config["qredo-partner-keys:keyStage"] = { value: "pending", secret: false };
        saveState(where.state, restored);
        runs.finish = await h.run(where, ["production", "--yes"]);
    });

    it("the failed --rotate says not to revert the stack file but to run the deploy again", () => {
        expect(runs.rotate.status).toBe(1);
        expect(runs.rotate.stderr).toContain(
            "do not revert stacks/Pulumi.production.yaml: run the deploy again to finish (npm run deploy -- production).",
        );
        expect(runs.rotate.stderr).toContain(
            "If you declined at the confirmation and nothing was deployed, you can also restore the file instead: git checkout -- stacks/Pulumi.production.yaml",
        );
    });

    it("a plain deploy of the reverted file is refused from the state (outputs still say 1), before any change", () => {
        const run = later(runs.reverted, runs.rotate);
        expect(run.status).toBe(2);
        expect(commands(run)).toContain("stack export --stack production --show-secrets");
        expect(changes(run)).toEqual([]);
        expect(run.stderr).toContain(
            "deploy: error: stacks/Pulumi.production.yaml asks for keyVersion 1, but the last update of stack production stopped part way: its state already holds the new key for keyVersion 2, but its outputs still say keyVersion 1. Deploying keyVersion 1 would replace that key with yet another one that nobody has uploaded. Do not revert stacks/Pulumi.production.yaml: set keyVersion to 2 in it (keyStage: pending stages that key, as --rotate does; current makes it the signers' key at once and needs --immediate), then run npm run deploy -- production to finish.",
        );
        expect(run.stdout + run.stderr).not.toContain("ciphertext");
    });

    it("--rotate is refused until the unfinished update is finished", () => {
        const run = later(runs.rotateAgain, runs.reverted);
        expect(run.status).toBe(2);
        expect(changes(run)).toEqual([]);
        expect(run.stderr).toContain(
            "Finish that update first: npm run deploy -- production (with keyVersion 2 in stacks/Pulumi.production.yaml), then run this step.",
        );
    });

    it("with the stack file at keyVersion 2 again, a plain deploy finishes the staging", () => {
        expect(runs.finish.status).toBe(0);
        expect(runs.finish.stdout).toContain("(keyVersion 2, pending)");
        expect(h.stateOf(where).stacks.production.outputs).toMatchObject({ keyVersion: 2, keyStage: "pending" });
    });
});

describe("a stopped --rotate --replace-pending whose stack file was then edited to an immediate rotation", () => {
    const runs: Record<string, Run> = {};
    beforeAll(async () => {
        const where = h.place({ sandbox: stack([2, "pending"], [2, "pending"]) });
        runs.replace = await h.run(where, ["sandbox", "--rotate", "--replace-pending", "--yes"], { FAKE_PULUMI_UP_PARTIAL: "1" });
        const state = h.stateOf(where) as unknown as State;
        state.stacks.sandbox.config["qredo-partner-keys:keyStage"] = { value: "current", secret: false };
        saveState(where.state, state);
        runs.immediate = later(await h.run(where, ["sandbox", "--immediate", "--yes"]), runs.replace);
        runs.both = later(await h.run(where, ["sandbox", "--immediate", "--replace-pending", "--yes"]), runs.immediate);
    });

    it("needs --replace-pending as well, as when nothing stopped part way, and changes nothing without it", () => {
        expect(runs.replace.status).toBe(1);
        expect(runs.replace.stderr).toContain("key 1 is still the one they use (AWSCURRENT)"); // key 2 was only staged
        expect(runs.immediate.status).toBe(2);
        expect(changes(runs.immediate)).toEqual([]);
        expect(runs.immediate.stderr).toContain(
            "deploy: error: stacks/Pulumi.sandbox.yaml asks for keyVersion 3 as current, an immediate rotation, and the last update of stack sandbox stopped part way: its state already holds the new key for keyVersion 3, but its outputs still say keyVersion 2 (staged). --immediate while keyVersion 2 is staged would leave AWSPENDING on that discarded staged key",
        );
    });

    it("with both flags finishes, and warns about the discarded key's AWSPENDING label", () => {
        expect(runs.both.status).toBe(0);
        expect(runs.both.stderr).toContain("warning: the discarded staged key's version keeps its AWSPENDING label in Secrets Manager");
        expect(runs.both.stdout).toContain(
            "Rotated immediately, as stacks/Pulumi.sandbox.yaml asks: keyVersion 2 → 3 is the key signers use NOW.",
        );
    });
});

describe("a new stack whose committed stack file says keyStage pending, in any YAML form", () => {
    const forms: Record<string, string> = {
        staged: "", // written in beforeAll above: the plain form
        stagedquoted:
            'config:\n  qredo-partner-keys:environment: sandbox\n  "qredo-partner-keys:keyVersion": 2\n  "qredo-partner-keys:keyStage": pending\n',
        stagedflow:
            'config: {qredo-partner-keys:environment: sandbox, qredo-partner-keys:keyVersion: "2", qredo-partner-keys:keyStage: pending}\n',
        stagedspaced: "config:\n  qredo-partner-keys:environment: sandbox\n  qredo-partner-keys:keyStage : pending # staged\n",
        stagedblock:
            "config:\n  qredo-partner-keys:environment: sandbox\n  aws:defaultTags:\n    tags:\n      note: |\n        qredo-partner-keys:keyStage: current\n  qredo-partner-keys:keyStage: pending\n",
    };
    it.each(Object.keys(forms))("%s: refused before the stack is created, the key stored or ./apikey removed", async (name) => {
        if (forms[name] !== "") {
            writeFileSync(join(h.project, "stacks", `Pulumi.${name}.yaml`), forms[name]);
        }
        const where = h.place();
        writeFileSync(join(where.cwd, "apikey"), makeApiKey());
        const run = await h.run(where, [name, "--yes"]);
        expect(run.status).toBe(2);
        expect(changes(run)).toEqual([]);
        expect(existsSync(join(where.cwd, "apikey"))).toBe(true);
        expect(run.stderr).toContain(
            `deploy: error: stacks/Pulumi.${name}.yaml says keyStage pending, but stack ${name} has no deployed key: a staged key waits beside the key signers use, and there is none. Nothing was changed.`,
        );
    });
});

describe("stack files that are not what they seem, or belong to a stack deployed with another backend", () => {
    const files: [name: string, text: string, message: string][] = [
        [
            "broken",
            "config:\n  qredo-partner-keys:environment: sandbox\n   bad: [\n",
            "deploy: error: stacks/Pulumi.broken.yaml is not valid YAML (",
        ],
        [
            "twice",
            "config:\n  qredo-partner-keys:environment: sandbox\n---\nconfig:\n  qredo-partner-keys:environment: production\n",
            "deploy: error: stacks/Pulumi.twice.yaml is not valid YAML (it holds 2 documents, separated by ---; a stack file is one); fix it, then run again.",
        ],
        [
            "aliased",
            [
                "config:",
                "  x0: &a0 [x, x, x, x, x, x, x, x, x, x]",
                ...Array.from({ length: 9 }, (_, i) => `  x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(", ")}]`),
                "  qredo-partner-keys:environment: *a9",
                "",
            ].join("\n"),
            "deploy: error: stacks/Pulumi.aliased.yaml is not valid YAML (it holds more than 10000 values or 64 levels, counting what its aliases (*name) repeat, or a value that holds itself); fix it, then run again.",
        ],
        [
            // Integer keys come first in a JavaScript object: the last of 20,000 chained aliases is walked first,
            // as deep as the chain is long (a recursion without a bound overflows the stack).
            "chained",
            [
                "config:",
                '  "20000": &a0 [x]',
                ...Array.from({ length: 20_000 }, (_, i) => `  "${19_999 - i}": &a${i + 1} [*a${i}]`),
                "  qredo-partner-keys:environment: sandbox",
                "",
            ].join("\n"),
            "deploy: error: stacks/Pulumi.chained.yaml is not valid YAML (it holds more than 10000 values or 64 levels, counting what its aliases (*name) repeat, or a value that holds itself); fix it, then run again.",
        ],
        [
            "circular",
            "config:\n  qredo-partner-keys:environment: &self [*self]\n",
            "deploy: error: stacks/Pulumi.circular.yaml is not valid YAML (it holds more than 10000 values or 64 levels, counting what its aliases (*name) repeat, or a value that holds itself); fix it, then run again.",
        ],
        [
            "commented",
            "# nothing set yet\n",
            'deploy: error: stack "commented" is neither sandbox nor production, and stacks/Pulumi.commented.yaml does not say which Qredo environment it is.',
        ],
        [
            "listed",
            "config:\n  qredo-partner-keys:environment: [sandbox]\n",
            `deploy: error: stacks/Pulumi.listed.yaml sets qredo-partner-keys:environment to "["sandbox"]"; it must be sandbox or production.`,
        ],
        [
            "elsewhere",
            'encryptionsalt: v1:c2FsdA==:v1:aXY=:Y3Q=\nconfig:\n  qredo-partner-keys:environment: sandbox\n  qredo-partner-keys:apiKey:\n    secure: v1:AAAA:BBBB\n  qredo-partner-keys:keyVersion: "3"\n',
            "but stacks/Pulumi.elsewhere.yaml already holds an API key and encryptionsalt: it was deployed with another backend. Nothing was changed. Point the deploy at that backend (PULUMI_BACKEND_URL, or pulumi login), then run again.",
        ],
        [
            "merged",
            "base: &base\n  qredo-partner-keys:apiKey:\n    secure: v1:AAAA:BBBB\nconfig:\n  <<: *base\n  qredo-partner-keys:environment: sandbox\n",
            "but stacks/Pulumi.merged.yaml already holds an API key: it was deployed with another backend. Nothing was changed.",
        ],
    ];
    it.each(files)("%s: refused before anything changes", async (name, text, message) => {
        writeFileSync(join(h.project, "stacks", `Pulumi.${name}.yaml`), text);
        const where = h.place();
        writeFileSync(join(where.cwd, "apikey"), makeApiKey());
        const run = await h.run(where, [name, "--yes"]);
        expect(run.status).toBe(2);
        expect(changes(run)).toEqual([]);
        expect(existsSync(join(where.cwd, "apikey"))).toBe(true);
        expect(run.stderr).toContain(message);
        expect(run.stderr).not.toMatch(/^\s+at /m);
    });

    it.each([
        ["a tag", (key: string) => `config:\n  qredo-partner-keys:apiKey: !<${key}> x\n`],
        ["a local tag", (key: string) => `config:\n  qredo-partner-keys:apiKey: !${key} x\n`],
        ["an alias", (key: string) => `config:\n  qredo-partner-keys:apiKey: *${key}\n`],
    ])("an API key typed as %s is refused without the parser's message, which quotes it", async (_, text) => {
        const key = makeApiKey();
        writeFileSync(join(h.project, "stacks", "Pulumi.tagged.yaml"), text(key));
        const run = await h.run(h.place(), ["tagged", "--yes"]);
        expect(run.status).toBe(2);
        expect(changes(run)).toEqual([]);
        expect(run.stderr).toMatch(
            /deploy: error: stacks\/Pulumi\.tagged\.yaml is not valid YAML \(at line 2, column \d+; the parser's message quotes what looks like an API key, so it is not shown\); fix it, then run again\./,
        );
        expect(run.stdout + run.stderr).not.toContain(key.slice(0, 20));
    });

    it("a piece of an API key in a parser's message is not shown either", async () => {
        const piece = makeApiKey().slice(40, 100); // no longer decodes to the key's JSON
        writeFileSync(join(h.project, "stacks", "Pulumi.pieces.yaml"), `config:\n  qredo-partner-keys:apiKey: *${piece}\n`);
        const run = await h.run(h.place(), ["pieces", "--yes"]);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain('deploy: error: stacks/Pulumi.pieces.yaml is not valid YAML (unidentified alias "(not shown)" (2:');
        expect(run.stdout + run.stderr).not.toContain(piece.slice(0, 24));
    });
});

it("shows a backend URL without its password or query, which can carry credentials", async () => {
    writeFileSync(
        join(h.project, "stacks", "Pulumi.dbstate.yaml"),
        "config:\n  qredo-partner-keys:environment: sandbox\n  qredo-partner-keys:apiKey:\n    secure: v1:AAAA:BBBB\n",
    );
    const where = h.place();
    writeFileSync(join(where.cwd, "apikey"), makeApiKey());
    const url = "postgres://pulumi:S3cr3tDbPassw0rd@db.internal:5432/state?sslmode=require&password=Qu3ryS3cret";
    const run = await h.run(where, ["dbstate", "--yes"], { PULUMI_BACKEND_URL: url });
    const shown = "postgres://***@db.internal:5432/state (the rest hidden)";
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`deploy: using the configured Pulumi backend ${shown}\n`);
    expect(run.stderr).toContain(
        `stack dbstate does not exist in the backend ${shown}, but stacks/Pulumi.dbstate.yaml already holds an API key`,
    );
    expect(run.stdout + run.stderr).not.toMatch(/S3cr3t|Qu3ry|sslmode|pulumi:/);
    expect(run.calls.every((c) => c.backend === url)).toBe(true); // pulumi itself gets the URL as given
});

describe("environment, keyVersion or keyStage set with --secret: refused, never guessed, never shown", () => {
    const runs: Record<string, Run> = {};
    const withSecret = (name: string, value: string, file: [number, "current" | "pending"]) => {
        const deployed = stack(file, file);
        return { sandbox: { ...deployed, config: { ...deployed.config, [`qredo-partner-keys:${name}`]: { value, secret: true } } } };
    };
    beforeAll(async () => {
        writeFileSync(
            join(h.project, "stacks", "Pulumi.senv.yaml"),
            "config:\n  qredo-partner-keys:environment:\n    secure: v1:AAAAciphertextXYZ:BBBBmore\n",
        );
        // config set --path --secret environment.a writes the secure value inside a map
        writeFileSync(
            join(h.project, "stacks", "Pulumi.snest.yaml"),
            "config:\n  qredo-partner-keys:environment:\n    a:\n      secure: v1:AAAAciphertextNested\n",
        );
        // a new stack whose committed file has keyVersion set with --secret
        writeFileSync(
            join(h.project, "stacks", "Pulumi.sver.yaml"),
            "config:\n  qredo-partner-keys:environment: sandbox\n  qredo-partner-keys:keyVersion:\n    secure: v1:AAAAciphertextVersion\n",
        );
        [runs.version, runs.stage, runs.environment, runs.nested, runs.newVersion] = await Promise.all([
            // pulumi config --json hides a secret's value: the deploy used to take keyVersion 1 and refuse a "step back".
            h.run(h.place(withSecret("keyVersion", "2", [2, "current"])), ["sandbox", "--yes"]),
            h.run(h.place(withSecret("keyStage", "pending", [2, "pending"])), ["sandbox", "--promote", "--yes"]),
            h.run(h.place(), ["senv", "--yes"]),
            h.run(h.place(), ["snest", "--yes"]),
            h.run(h.place(), ["sver", "--yes"], { QREDO_API_KEY: storedKey, CI: "true" }),
        ]);
    });

    it.each([
        ["version", "sandbox", "keyVersion"],
        ["stage", "sandbox", "keyStage"],
        ["environment", "senv", "environment"],
        ["nested", "snest", "environment"],
        ["newVersion", "sver", "keyVersion"],
    ])("%s", (run, stackName, setting) => {
        const purpose = setting === "environment" ? "to know which environment the stack holds" : "to check the rotation";
        expect(runs[run].status).toBe(2);
        expect(runs[run].stderr).toContain(
            `deploy: error: stack ${stackName} has ${setting} set with --secret; only apiKey is kept secret, and the deploy reads ${setting} in plain text ${purpose} (the program refuses it as well). Nothing was changed. Set it again in plain text: see it with npm run pulumi -- config get --stack ${stackName} ${setting}, then npm run pulumi -- config rm --stack ${stackName} ${setting} && npm run pulumi -- config set --stack ${stackName} ${setting} VALUE`,
        );
        expect(changes(runs[run])).toEqual([]);
        expect(runs[run].stdout + runs[run].stderr).not.toContain("ciphertext");
    });
});

describe("a plain deploy applies the stack file under the rotation rules", () => {
    const cases: {
        name: string;
        file: [number, "current" | "pending"];
        deployed: [number, "current" | "pending"];
        args?: string[];
        status: number;
        message?: string;
    }[] = [
        {
            name: "an immediate rotation without --immediate",
            file: [2, "current"],
            deployed: [1, "current"],
            status: 2,
            message:
                "deploy: error: stacks/Pulumi.sandbox.yaml asks for keyVersion 2 (keyStage current), but the stack runs keyVersion 1 (keyStage current): that is an immediate rotation, and signing FAILS from this update until the new public key is uploaded. If the key must stop working now, run again with --immediate: npm run deploy -- sandbox --immediate. Otherwise stage it: set keyStage: pending in stacks/Pulumi.sandbox.yaml.",
        },
        {
            name: "an immediate rotation with --immediate",
            file: [2, "current"],
            deployed: [1, "current"],
            args: ["--immediate"],
            status: 0,
        },
        { name: "a staged rotation", file: [2, "pending"], deployed: [1, "current"], status: 0 },
        { name: "a promotion", file: [2, "current"], deployed: [2, "pending"], status: 0 },
        {
            name: "a rotation that discards a staged key, without --replace-pending",
            file: [3, "pending"],
            deployed: [2, "pending"],
            status: 2,
            message:
                "deploy: error: stacks/Pulumi.sandbox.yaml asks for keyVersion 3 (keyStage pending), but the stack runs keyVersion 2 (keyStage pending): applying it throws the staged key away (anything uploaded for it stops working). If it was never uploaded and that is what you want, run again with --replace-pending: npm run deploy -- sandbox --replace-pending. Otherwise promote the staged key first (keyStage: current, same keyVersion).",
        },
        { name: "the same with --replace-pending", file: [3, "pending"], deployed: [2, "pending"], args: ["--replace-pending"], status: 0 },
        {
            name: "a rise by two",
            file: [3, "pending"],
            deployed: [1, "current"],
            status: 2,
            message:
                "deploy: error: stacks/Pulumi.sandbox.yaml asks for keyVersion 3 (keyStage pending), but the stack runs keyVersion 1 (keyStage current): keyVersion may rise by exactly 1 per deploy. Set keyVersion to 2 in stacks/Pulumi.sandbox.yaml, then run again.",
        },
        {
            name: "current back to pending",
            file: [2, "pending"],
            deployed: [2, "current"],
            status: 2,
            message: "This copy of the stack file is older than the deployment",
        },
        {
            name: "an immediate rotation while a key is staged, with --immediate",
            file: [3, "current"],
            deployed: [2, "pending"],
            args: ["--immediate"],
            status: 2,
            message:
                "--immediate while keyVersion 2 is staged would leave AWSPENDING on that discarded staged key: the new key's version gets only AWSCURRENT, and the staged version keeps its label (versions are retained on delete), so signers built on @qredo-partner-keys/client would fall back to the discarded key on a 401. Nothing was changed. Promote the staged key first (npm run deploy -- sandbox --promote, once it is uploaded), or replace it (npm run deploy -- sandbox --rotate --replace-pending, which moves AWSPENDING to the new key, since a staging label sits on one version only). If the staged key must stop working now (promoting it is not the way), take its label off: aws secretsmanager update-secret-version-stage --secret-id ARN --region REGION --version-stage AWSPENDING --remove-from-version-id VERSION_ID (ARN: npm run pulumi -- stack output --stack sandbox privateKeySecretArn; REGION: the one in the ARN; VERSION_ID: the version listed with AWSPENDING by aws secretsmanager describe-secret --secret-id ARN --region REGION --query VersionIdsToStages), then retry with --replace-pending as well: npm run deploy -- sandbox --immediate --replace-pending",
        },
        {
            name: "--rotate --immediate while a key is staged",
            file: [2, "pending"],
            deployed: [2, "pending"],
            args: ["--rotate", "--immediate"],
            status: 2,
            message: "deploy: error: --rotate --immediate while keyVersion 2 is staged would leave AWSPENDING on that discarded staged key",
        },
        {
            name: "--immediate with no immediate rotation in the stack file",
            file: [2, "current"],
            deployed: [2, "current"],
            args: ["--immediate"],
            status: 2,
            message:
                "deploy: error: --immediate without --rotate applies an immediate rotation that stacks/Pulumi.sandbox.yaml asks for, and it asks for none: keyVersion 2 (keyStage current); the stack runs keyVersion 2 (keyStage current). To rotate immediately: npm run deploy -- sandbox --rotate --immediate",
        },
    ];
    const runs: Run[] = [];
    beforeAll(async () => {
        runs.push(
            ...(await Promise.all(
                cases.map((c) => h.run(h.place({ sandbox: stack(c.file, c.deployed) }), ["sandbox", ...(c.args ?? []), "--yes"])),
            )),
        );
    });

    it.each(cases.map((c, i) => [c.name, i] as const))("%s", (_name, i) => {
        const [c, run] = [cases[i], runs[i]];
        expect(run.status, run.stderr).toBe(c.status);
        if (c.status === 0) {
            expect(changes(run)).toContain("up --stack sandbox --yes");
        } else {
            expect(changes(run)).toEqual([]);
            expect(run.stderr).toContain(c.message);
        }
    });
});

describe("API key sources", () => {
    const runs: Record<string, Run> = {};
    const places: Record<string, Place> = {};
    beforeAll(async () => {
        places.envNew = h.place();
        places.ci = h.place();
        places.leftover = h.place({ sandbox: stack([1, "current"], [1, "current"]) });
        writeFileSync(join(places.leftover.cwd, "apikey"), makeApiKey());
        places.leftoverSame = h.place({ sandbox: stack([1, "current"], [1, "current"]) });
        writeFileSync(join(places.leftoverSame.cwd, "apikey"), `"${storedKey}"\r\n`);
        places.noTerminal = h.place();
        writeFileSync(join(places.noTerminal.cwd, "my key"), storedKey);
        [runs.envNew, runs.ci, runs.leftover, runs.leftoverSame, runs.pasted, runs.noTerminal] = await Promise.all([
            h.run(places.envNew, ["production", "--yes"], { QREDO_API_KEY: storedKey }),
            h.run(places.ci, ["production", "--yes"], { QREDO_API_KEY: storedKey, CI: "true" }),
            h.run(places.leftover, ["sandbox", "--yes"]),
            h.run(places.leftoverSame, ["sandbox", "--yes"]),
            h.run(h.place(), ["sandbox", "--yes", "--api-key-file", storedKey]),
            h.run(places.noTerminal, ["sandbox", "--api-key-file", "my key", "--public-key-out", "my keys/pub.pem"]),
        ]);
    });

    it("QREDO_API_KEY is not taken for a stack with no key outside CI", () => {
        expect(runs.envNew.status).toBe(2);
        expect(changes(runs.envNew)).toEqual([]);
        expect(runs.envNew.stderr).toContain(
            "deploy: error: stack production has no API key yet, and QREDO_API_KEY is set: outside CI it is not taken for a stack that has no key, since it may be another stack's key left over in this shell. Save production's key from the Qredo Web App in a file and pass it: npm run deploy -- production --api-key-file PATH (or unset QREDO_API_KEY and save it as ./apikey).",
        );
    });

    it("on CI (the pipeline) QREDO_API_KEY is stored in a new stack", () => {
        expect(runs.ci.status).toBe(0);
        expect(h.stateOf(places.ci).stacks.production.config["qredo-partner-keys:apiKey"].value).toBe(storedKey);
    });

    it("a leftover ./apikey with another key than the stack stores is refused and left alone", () => {
        expect(runs.leftover.status).toBe(2);
        expect(changes(runs.leftover)).toEqual([]);
        expect(existsSync(join(places.leftover.cwd, "apikey"))).toBe(true);
        expect(runs.leftover.stderr).toContain(
            "deploy: error: ./apikey holds a different API key than the one stack sandbox stores, and ./apikey is only taken for a stack that has none; nothing was changed. If it is another stack's key, deploy that stack with it (npm run deploy -- STACK), or remove it (rm apikey). Only if you regenerated sandbox's key in the Qredo Web App and ./apikey is that key, replace the stored one: npm run deploy -- sandbox --api-key-file apikey --replace-api-key",
        );
    });

    it("a leftover ./apikey with the key the stack stores (quoted, CRLF) is removed, nothing stored, and the deploy goes on", () => {
        expect(runs.leftoverSame.status).toBe(0);
        expect(changes(runs.leftoverSame)).toEqual(["up --stack sandbox --yes"]);
        expect(existsSync(join(places.leftoverSame.cwd, "apikey"))).toBe(false);
        expect(runs.leftoverSame.stderr).toContain("deploy: the API key in ./apikey is the one stack sandbox already stores: no change");
        expect(runs.leftoverSame.stderr).toContain("deploy: removed ./apikey");
        expect(h.stateOf(places.leftoverSame).stacks.sandbox.config["qredo-partner-keys:apiKey"].value).toBe(storedKey);
        expect(expectNoLeakIn(runs.leftoverSame, [storedKey])).toEqual([]);
    });

    it("the key itself passed as --api-key-file is refused without being repeated", () => {
        expect(runs.pasted.status).toBe(2);
        expect(runs.pasted.calls).toEqual([]);
        expect(runs.pasted.stderr).not.toContain(storedKey.slice(0, 24));
        expect(runs.pasted.stderr).toContain(
            "deploy: error: the value of --api-key-file is not a file and looks like the API key itself; it is not repeated here. Save the key in a file and pass that file's path: --api-key-file PATH.",
        );
    });

    it("the no-terminal suggestion is built from the options, quoted", () => {
        expect(runs.noTerminal.status).toBe(2);
        expect(runs.noTerminal.stderr).toContain(
            "(pipelines): npm run deploy -- sandbox --api-key-file 'my key' --public-key-out 'my keys/pub.pem' --yes\n",
        );
        expect(changes(runs.noTerminal)).toEqual([]);
    });
});

describe("a deployed stack whose stack file lost its apiKey, or changed its environment", () => {
    const runs: Record<string, Run> = {};
    const places: Record<string, Place> = {};
    const otherKey = makeApiKey();
    // Deployed with storedKey; this copy of the stack file has no apiKey (older than the first deploy, or the line removed).
    const lost = () => ({ sandbox: deployedStack(h.keys[0], { deployedApiKey: storedKey, keyVersion: 1 }) });
    beforeAll(async () => {
        writeFileSync(join(h.project, "stacks", "Pulumi.moved.yaml"), "config:\n  qredo-partner-keys:environment: production\n");
        places.leftover = h.place(lost());
        writeFileSync(join(places.leftover.cwd, "apikey"), otherKey);
        places.ci = h.place(lost());
        places.same = h.place(lost());
        writeFileSync(join(places.same.cwd, "apikey"), storedKey);
        places.none = h.place(lost());
        places.replaceSame = h.place(lost());
        writeFileSync(join(places.replaceSame.cwd, "deployed-key"), storedKey);
        places.replaceNone = h.place(lost());
        places.moved = h.place({ moved: deployedStack(h.keys[0], { apiKey: storedKey, environment: "sandbox" }) });
        places.passphrase = h.place();
        writeFileSync(join(places.passphrase.cwd, "apikey"), storedKey);
        [runs.leftover, runs.ci, runs.same, runs.none, runs.moved, runs.passphrase, runs.replaceSame, runs.replaceNone] = await Promise.all(
            [
                h.run(places.leftover, ["sandbox", "--yes"]),
                h.run(places.ci, ["sandbox", "--yes"], { QREDO_API_KEY: otherKey, CI: "true" }),
                h.run(places.same, ["sandbox", "--yes"]),
                h.run(places.none, ["sandbox", "--yes"]),
                h.run(places.moved, ["moved", "--yes"]),
                h.run(places.passphrase, ["sandbox", "--yes"], {
                    PULUMI_CONFIG_PASSPHRASE: undefined,
                    PULUMI_CONFIG_PASSPHRASE_FILE: join(places.passphrase.cwd, "apikey"),
                }),
                h.run(places.replaceSame, ["sandbox", "--yes", "--api-key-file", "deployed-key", "--replace-api-key"]),
                h.run(places.replaceNone, ["sandbox", "--yes", "--replace-api-key"]),
            ],
        );
    });

    it("another key in ./apikey, or in QREDO_API_KEY on CI, is refused: the stack still has the key it deployed", () => {
        for (const [run, where] of [
            [runs.leftover, places.leftover],
            [runs.ci, places.ci],
        ] as const) {
            expect(run.status).toBe(2);
            expect(changes(run)).toEqual([]);
            expect(h.stateOf(where).stacks.sandbox.config["qredo-partner-keys:apiKey"]).toBeUndefined();
            expect(expectNoLeakIn(run, [storedKey, otherKey])).toEqual([]);
        }
        expect(existsSync(join(places.leftover.cwd, "apikey"))).toBe(true);
        expect(runs.leftover.stderr).toContain("deploy: error: ./apikey holds a different API key than the one stack sandbox stores");
        expect(runs.ci.stderr).toContain(
            "deploy: error: stack sandbox already stores a different API key than the one from $QREDO_API_KEY; nothing was changed.",
        );
    });

    it("the deployed key itself is stored again, and ./apikey removed", () => {
        expect(runs.same.status).toBe(0);
        expect(changes(runs.same)).toEqual(["config set --stack sandbox --secret apiKey", "up --stack sandbox --yes"]);
        expect(runs.same.calls.find((c) => c.args.join(" ") === "config set --stack sandbox --secret apiKey")?.stdin).toBe(storedKey);
        expect(runs.same.stderr).toContain(
            "deploy: stacks/Pulumi.sandbox.yaml has no apiKey, but stack sandbox deployed one (commit the file after this deploy): storing the same key again, from ./apikey",
        );
        expect(existsSync(join(places.same.cwd, "apikey"))).toBe(false);
        expect(expectNoLeakIn(runs.same, [storedKey])).toEqual([]);
    });

    it("with no key given, says the stack file is behind, and changes nothing", () => {
        expect(runs.none.status).toBe(2);
        expect(changes(runs.none)).toEqual([]);
        expect(runs.none.stderr).toContain(
            "deploy: error: stacks/Pulumi.sandbox.yaml has no apiKey, but stack sandbox has deployed one; nothing was changed. Usually this copy of the stack file is older than the stack's first deploy, or the line was removed: get the current stack file (git pull), then run again.",
        );
    });

    it("--replace-api-key with the deployed key, or with no key, is refused, saying what to run instead", () => {
        for (const run of [runs.replaceSame, runs.replaceNone]) {
            expect(run.status).toBe(2);
            expect(changes(run)).toEqual([]);
            expect(expectNoLeakIn(run, [storedKey])).toEqual([]);
        }
        expect(runs.replaceSame.stderr).toContain(
            "deploy: error: the key from deployed-key is the one stack sandbox deployed: there is nothing to replace; nothing was changed. Run again without --replace-api-key, which stores that key in stacks/Pulumi.sandbox.yaml again.",
        );
        expect(runs.replaceNone.stderr).toContain("--replace-api-key needs the new key: pass --api-key-file PATH (on CI, QREDO_API_KEY).");
        expect(runs.replaceNone.stderr).not.toContain("a different key only with --replace-api-key");
    });

    it("a stack file that changes a deployed stack's environment is refused before any change", () => {
        expect(runs.moved.status).toBe(2);
        expect(changes(runs.moved)).toEqual([]);
        expect(runs.moved.stderr).toContain(
            "deploy: error: stack moved was deployed as environment sandbox, and stacks/Pulumi.moved.yaml now says production; nothing was changed.",
        );
        // Refused: no advice to move the (sandbox) stack to KMS, which the production stack file would otherwise prompt.
        expect(runs.moved.stderr).not.toContain("passphrase only");
    });

    it("PULUMI_CONFIG_PASSPHRASE_FILE naming ./apikey is refused: the deploy would delete the passphrase's only copy", () => {
        expect(runs.passphrase.status).toBe(2);
        expect(runs.passphrase.calls.filter((c) => !["version", "stack ls --json"].includes(c.args.join(" ")))).toEqual([]);
        expect(existsSync(join(places.passphrase.cwd, "apikey"))).toBe(true);
        expect(runs.passphrase.stderr).toContain(
            "deploy: error: PULUMI_CONFIG_PASSPHRASE_FILE names ./apikey, the API key file, which the deploy removes",
        );
        expect(expectNoLeakIn(runs.passphrase, [storedKey])).toEqual([]);
    });
});

// Secrets Manager makes a new secret's first version AWSCURRENT: a move during a staged rotation would put the
// key Qredo does not have yet in front of signers, and delete the old secrets with the key it accepts.
describe("a deployed stack whose settings would move its secrets (another name or region)", () => {
    const runs: Record<string, Run> = {};
    const arn = (name: string, region: string, partition: string) =>
        `arn:${partition}:secretsmanager:${region}:123456789012:secret:${name}-AbC123`;
    /** Key 2 staged, as the program named its secrets (prefix `deployedPrefix`, in `region`); `config` in the stack's settings. */
    const staged = (
        config: Record<string, string | { value: string; secret: true }> = {},
        deployedPrefix = "qredo/partner-api",
        { region, partition } = { region: "eu-west-2", partition: "aws" },
    ) => {
        const stack = deployedStack(h.keys[1], { apiKey: storedKey, keyVersion: 2, keyStage: "pending" });
        Object.assign(stack.outputs, {
            privateKeySecretName: `${deployedPrefix}/sandbox/private-key`,
            privateKeySecretArn: arn(`${deployedPrefix}/sandbox/private-key`, region, partition),
            apiKeySecretName: `${deployedPrefix}/sandbox/api-key`,
            apiKeySecretArn: arn(`${deployedPrefix}/sandbox/api-key`, region, partition),
        });
        for (const [name, value] of Object.entries(config)) {
            stack.config[name] = typeof value === "string" ? { value, secret: false } : value;
        }
        return h.place({ sandbox: stack });
    };
    beforeAll(async () => {
        const runsOf = {
            prefix: h.run(staged({ "qredo-partner-keys:secretNamePrefix": "team-a/qredo" }), ["sandbox", "--yes"]),
            prefixRemoved: h.run(staged({}, "team-a/qredo"), ["sandbox", "--yes"]),
            // As pulumi reads `qredo-partner-keys:config:environment: production`, which the deploy's own reading missed.
            olderSpelling: h.run(staged({ "qredo-partner-keys:environment": "production" }), ["sandbox", "--yes"]),
            regionSetting: h.run(staged({ "aws:region": "us-east-1" }), ["sandbox", "--yes"]),
            regionEnv: h.run(staged(), ["sandbox", "--yes"], { AWS_REGION: "us-east-1" }),
            regionDefaultEnv: h.run(staged(), ["sandbox", "--yes"], { AWS_DEFAULT_REGION: "us-east-1" }),
            regionSecret: h.run(staged({ "aws:region": { value: "us-east-1", secret: true } }), ["sandbox", "--yes"]),
            regionChina: h.run(staged({}, undefined, { region: "cn-north-1", partition: "aws-cn" }), ["sandbox", "--yes"], {
                AWS_REGION: "cn-northwest-1",
            }),
            chinaKept: h.run(staged({}, undefined, { region: "cn-north-1", partition: "aws-cn" }), ["sandbox", "--yes"], {
                AWS_REGION: "cn-north-1",
            }),
            // The same names, and aws:region (which pulumi prefers to AWS_REGION) the deployed one: no move.
            kept: h.run(
                staged({ "qredo-partner-keys:secretNamePrefix": "qredo/partner-api", "aws:region": "eu-west-2" }),
                ["sandbox", "--yes"],
                {
                    AWS_REGION: "us-east-1",
                },
            ),
        };
        const done = await Promise.all(Object.values(runsOf));
        Object.keys(runsOf).forEach((name, i) => (runs[name] = done[i]));
    });

    it("refuses another secretNamePrefix, or none where one was deployed, before any change, naming the one to set back", () => {
        for (const run of [runs.prefix, runs.prefixRemoved]) {
            expect(run.status).toBe(2);
            expect(changes(run)).toEqual([]);
            expect(expectNoLeakIn(run, [storedKey])).toEqual([]);
        }
        expect(runs.prefix.stderr).toContain(
            "deploy: error: stack sandbox keeps its keys in the secrets qredo/partner-api/sandbox/private-key and qredo/partner-api/sandbox/api-key, and stacks/Pulumi.sandbox.yaml now gives them other names (another secretNamePrefix, or none); nothing was changed.",
        );
        expect(runs.prefix.stderr).toContain("npm run pulumi -- config set --stack sandbox secretNamePrefix qredo/partner-api\n");
        expect(runs.prefix.stderr).not.toContain("team-a"); // the new value is not quoted: a pasted key would be
        expect(runs.prefixRemoved.stderr).toContain(
            "deploy: error: stack sandbox keeps its keys in the secrets team-a/qredo/sandbox/private-key and team-a/qredo/sandbox/api-key, and stacks/Pulumi.sandbox.yaml now gives them other names (another secretNamePrefix, or none); nothing was changed.",
        );
        expect(runs.prefixRemoved.stderr).toContain("npm run pulumi -- config set --stack sandbox secretNamePrefix team-a/qredo\n");
    });

    it("refuses an environment that pulumi reads and the deploy did not (the older config: spelling)", () => {
        expect(runs.olderSpelling.status).toBe(2);
        expect(changes(runs.olderSpelling)).toEqual([]);
        expect(runs.olderSpelling.stderr).toContain(
            "deploy: error: pulumi reads another environment than sandbox from stacks/Pulumi.sandbox.yaml, where the deploy found sandbox; nothing was changed.",
        );
    });

    it("refuses another region, set in the stack (with --secret too), by AWS_REGION or AWS_DEFAULT_REGION, in any partition; deploys when the stack's own region wins", () => {
        for (const run of [runs.regionSetting, runs.regionEnv, runs.regionDefaultEnv, runs.regionSecret, runs.regionChina]) {
            expect(run.status).toBe(2);
            expect(changes(run)).toEqual([]);
            expect(run.stderr).not.toMatch(/us-east-1|cn-northwest-1/);
        }
        expect(runs.regionSetting.stderr).toContain(
            "deploy: error: stack sandbox keeps its keys in eu-west-2, and stacks/Pulumi.sandbox.yaml sets another aws:region; nothing was changed.",
        );
        expect(runs.regionSecret.stderr).toContain("and stacks/Pulumi.sandbox.yaml sets another aws:region; nothing was changed.");
        for (const [run, variable] of [
            [runs.regionEnv, "AWS_REGION"],
            [runs.regionDefaultEnv, "AWS_DEFAULT_REGION"],
        ] as const) {
            expect(run.stderr).toContain(
                `deploy: error: stack sandbox keeps its keys in eu-west-2, and ${variable} names another region; nothing was changed.`,
            );
            expect(run.stderr).toContain(
                `(it wins over ${variable}), then run again:\n    npm run pulumi -- config set --stack sandbox aws:region eu-west-2\n`,
            );
        }
        expect(runs.regionChina.stderr).toContain("npm run pulumi -- config set --stack sandbox aws:region cn-north-1\n");
        for (const run of [runs.kept, runs.chinaKept]) {
            expect(run.status).toBe(0);
            expect(changes(run)).toEqual(["up --stack sandbox --yes"]);
        }
    });
});

describe("npm, the shell and the terminal", () => {
    it("npm_config_<flag> counts as swallowed only when it is exactly true, and only under npm run deploy; yes names the way out", () => {
        // run directly, with npm_config_yes exported in the shell: nothing to refuse (the way out must work)
        expect(parseOptions(["sandbox"], { npm_config_yes: "true" })?.yes).toBe(false);
        expect(parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_yes: "" })?.yes).toBe(false);
        expect(parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_rotate: "false" })?.rotate).toBe(false);
        expect(() => parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_yes: "true" })).toThrow(
            "npm kept --yes for itself (it set npm_config_yes), so this script never saw it. Put -- before the options:\n    npm run deploy -- sandbox --yes\nIf your .npmrc sets yes=true, or your shell exports npm_config_yes, run node scripts/deploy.js sandbox … directly (from the project folder), or remove that setting.",
        );
        let message = "";
        try {
            parseOptions(["sandbox"], { npm_lifecycle_event: "deploy", npm_config_rotate: "true" });
        } catch (error) {
            message = (error as Error).message;
        }
        expect(message).toBe(
            "npm kept --rotate for itself (it set npm_config_rotate), so this script never saw it. Put -- before the options:\n    npm run deploy -- sandbox --rotate",
        );
    });

    it("SIGTERM to `npm run deploy` reaches pulumi up although sh drops it, and the script exits", async () => {
        const where = h.place({ sandbox: stack([1, "current"], [1, "current"]) });
        let signalled = false;
        const started = Date.now();
        const run = await h.run(
            where,
            ["deploy", "--", "sandbox", "--yes"],
            { PATH: `${systemPath()[0]}:${h.fakePath}`, FAKE_PULUMI_UP_WAIT_SIGNAL: "1" },
            {
                command: ["npm", "run", "--silent"],
                onStdout: (text, pid) => {
                    if (!signalled && text.includes("waiting for a signal")) {
                        signalled = true;
                        process.kill(pid, "SIGTERM");
                    }
                },
            },
        );
        expect(signalled).toBe(true);
        expect(readLines<{ signal: string }>(join(where.state, "signals.jsonl"))).toEqual([{ signal: "SIGTERM" }]);
        expect(run.stderr).toContain("deploy: error: `pulumi up` was interrupted (SIGTERM); its output is above.");
        expect(Date.now() - started).toBeLessThan(10_000); // not the stand-in's own 20 s limit
        const pulumiPid = Number(readFileSync(join(where.state, "up.pid"), "utf8"));
        expect(() => process.kill(pulumiPid, 0)).toThrow();
    }, 30_000);

    it("stdout piped: says so before suggesting --yes", () => {
        const where = h.place({ sandbox: stack([1, "current"], [1, "current"]) });
        let output = "";
        try {
            execFileSync(
                "python3",
                [
                    join(__dirname, "support", "pty_answer.py"),
                    "--",
                    "sh",
                    "-c",
                    `"${process.execPath}" scripts/deploy.js sandbox > "${join(where.cwd, "out.txt")}"`,
                ],
                { cwd: h.project, env: h.env(where, {}), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
            );
        } catch (error) {
            output = String((error as { stdout: string }).stdout);
            expect((error as { status: number }).status).toBe(2);
        }
        expect(output).toContain(
            "deploy: error: stdout is not a terminal (is the output piped, e.g. into tee?), and pulumi needs one to ask for confirmation. Run it without the pipe, or pass --yes to update without asking: npm run deploy -- sandbox --yes",
        );
    });
});

describe("messages and files", () => {
    const runs: Record<string, Run> = {};
    const places: Record<string, Place> = {};
    beforeAll(async () => {
        places.local = h.place();
        places.output = h.place();
        [runs.local, runs.passphrase, runs.weird, runs.deployed] = await Promise.all([
            h.run(places.local, ["local", "--yes"], { QREDO_API_KEY: storedKey, CI: "true" }),
            h.run(h.place({ sandbox: stack([1, "current"], [1, "current"]) }), ["sandbox", "--yes"], {
                PULUMI_CONFIG_PASSPHRASE: undefined,
            }),
            h.run(h.place(), ["weird", "--yes"]),
            h.run(places.output, ["sandbox", "--yes"], { QREDO_API_KEY: storedKey, CI: "true" }),
        ]);
        writeFileSync(join(places.output.cwd, "passphrase.txt"), "correct horse battery staple\n");
        const pulumiCli = (args: string[], env: Record<string, string | undefined>, stacks?: Record<string, unknown>) =>
            h.run(h.place(stacks), args, env, { script: "pulumi.js" });
        const created = { sandbox: { secretsProvider: null, config: {}, outputs: null } }; // stack init, never deployed
        const deployed = { sandbox: stack([1, "current"], [1, "current"]) };
        const setEnvironment = (name: string) => ["config", "set", "--stack", name, "qredo-partner-keys:environment", "sandbox"];
        const neverDeployed = { sandbox: { secretsProvider: null, config: {}, outputs: null } };
        const toKms = ["stack", "change-secrets-provider", "--stack", "sandbox", "awskms://alias/x"];
        [runs.offerToCreate, runs.existingEmpty, runs.previewNeverDeployed, runs.kmsNeverDeployed] = await Promise.all([
            pulumiCli(setEnvironment("brandnew"), { PULUMI_CONFIG_PASSPHRASE: "" }, deployed),
            pulumiCli(setEnvironment("sandbox"), { PULUMI_CONFIG_PASSPHRASE: "" }, deployed),
            pulumiCli(["preview", "--stack", "sandbox"], { PULUMI_CONFIG_PASSPHRASE: "" }, neverDeployed),
            pulumiCli(toKms, { PULUMI_CONFIG_PASSPHRASE: "" }, neverDeployed),
        ]);
        [runs.pulumiUp, runs.pulumiUpdate, runs.pulumiFlagFirst, runs.pulumiRemote] = await Promise.all([
            pulumiCli(["up", "--stack", "production", "--yes"], {}, deployed),
            pulumiCli(["-v", "9", "update", "-s", "sandbox", "-c", "qredo-partner-keys:keyVersion=1"], {}, deployed),
            pulumiCli(["--stack", "sandbox", "up", "--yes"], {}, deployed),
            pulumiCli(["deployment", "run", "update", "--stack", "sandbox"], {}, deployed),
        ]);
        runs.pulumiDrift = await pulumiCli(["deployment", "run", "remediate-drift", "--stack", "sandbox"], {}, deployed);
        [runs.keyInArgv, runs.plainApiKey, runs.initEmpty, runs.initKms, runs.neverDeployed, runs.stdinFile] = await Promise.all([
            pulumiCli(["config", "set", "--stack", "sandbox", "--path", "tags.Team", storedKey], {}),
            pulumiCli(["config", "set", "--stack", "sandbox", "apiKey"], {}, deployed),
            pulumiCli(["stack", "init", "sandbox"], { PULUMI_CONFIG_PASSPHRASE: "" }),
            pulumiCli(["stack", "init", "sandbox", "--secrets-provider", "awskms://alias/x"], { PULUMI_CONFIG_PASSPHRASE: "" }),
            h.run(h.place(created), ["sandbox", "--yes"], { PULUMI_CONFIG_PASSPHRASE: "", QREDO_API_KEY: storedKey, CI: "true" }),
            h.run(h.place(), ["sandbox", "--yes"], {
                PULUMI_CONFIG_PASSPHRASE: undefined,
                PULUMI_CONFIG_PASSPHRASE_FILE: "/dev/stdin",
                QREDO_API_KEY: storedKey,
                CI: "true",
            }),
        ]);
        runs.output = await h.run(
            places.output,
            ["stack", "output", "--stack", "sandbox", "publicKeyFingerprintSha256"],
            { PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: "passphrase.txt" },
            { script: "pulumi.js" },
        );
    });

    it("a stack not named like its environment writes public-<stack>-<environment>.pem", () => {
        expect(defaultPublicKeyFile("sandbox", "sandbox")).toBe("public-sandbox.pem");
        expect(defaultPublicKeyFile("local", "sandbox")).toBe("public-local-sandbox.pem");
        expect(runs.local.status, runs.local.stderr).toBe(0);
        expect(existsSync(join(places.local.cwd, "public-local-sandbox.pem"))).toBe(true);
        expect(existsSync(join(places.local.cwd, "public-sandbox.pem"))).toBe(false);
    });

    it("no passphrase and no terminal for an existing stack: says change-secrets-provider, not create", () => {
        expect(runs.passphrase.status).toBe(2);
        expect(runs.passphrase.stderr).toContain(
            "deploy: error: stack sandbox encrypts its secrets with a passphrase, and there is no terminal to ask for it on: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, or move the stack to a KMS key (it then needs no passphrase): npm run pulumi -- stack change-secrets-provider --stack sandbox 'awskms://alias/NAME?region=REGION'.",
        );
    });

    it("an unknown stack whose file exists: the lines to add under config: (secret names of its own too), no printf", () => {
        expect(runs.weird.status).toBe(2);
        expect(runs.weird.stderr).toContain(
            'If "weird" is meant to be a stack of its own, add these lines to stacks/Pulumi.weird.yaml under its config: block, indented like the other settings, then run again:\n    qredo-partner-keys:environment: sandbox    # or production\n    qredo-partner-keys:secretNamePrefix: qredo/partner-api-weird\n',
        );
        expect(runs.weird.stderr).not.toContain("printf");
    });

    it("npm run pulumi refuses an argument that looks like an API key, before running pulumi, without repeating it", () => {
        expect(runs.keyInArgv.status).toBe(2);
        expect(runs.keyInArgv.stderr).toContain("an argument looks like an API key; it is neither passed to pulumi nor repeated here");
        expect(runs.keyInArgv.calls).toEqual([]);
        expect(runs.keyInArgv.stdout + runs.keyInArgv.stderr).not.toContain(storedKey.slice(0, 16));
    });

    it("an empty passphrase never protects a stack: npm run pulumi -- stack init refuses it, unless the stack uses KMS; deploy refuses it for a stack never deployed", () => {
        expect(runs.initEmpty.status).toBe(2);
        expect(runs.initEmpty.stderr).toContain("PULUMI_CONFIG_PASSPHRASE is set but empty: the new stack's secrets");
        expect(runs.initEmpty.calls).toEqual([]);
        expect(runs.initKms.status, runs.initKms.stderr).toBe(0);
        expect(runs.neverDeployed.status).toBe(2);
        expect(runs.neverDeployed.stderr).toContain("PULUMI_CONFIG_PASSPHRASE is set but empty: stack sandbox has never been deployed");
        expect(changes(runs.neverDeployed)).toEqual([]);
    });

    it("with an empty passphrase, npm run pulumi refuses a command on a stack that does not exist (pulumi would offer to create it) or was never deployed, not on a deployed one nor a move to KMS", () => {
        expect(runs.offerToCreate.status).toBe(2);
        expect(runs.offerToCreate.stderr).toContain(
            "the passphrase is empty and stack brandnew does not exist: on a terminal pulumi would offer to create one",
        );
        expect(commands(runs.offerToCreate)).toEqual(["stack ls --json"]);
        expect(runs.existingEmpty.status, runs.existingEmpty.stderr).toBe(0);
        expect(commands(runs.existingEmpty)).toEqual([
            "stack ls --json",
            "config set --stack sandbox qredo-partner-keys:environment sandbox",
        ]);
        // a stack created but never deployed: refused as deploy refuses it; moving it to KMS stays possible
        expect(runs.previewNeverDeployed.status).toBe(2);
        expect(runs.previewNeverDeployed.stderr).toContain(
            "PULUMI_CONFIG_PASSPHRASE is set but empty: stack sandbox has never been deployed",
        );
        expect(commands(runs.previewNeverDeployed)).toEqual(["stack ls --json"]);
        expect(commands(runs.kmsNeverDeployed)).toEqual(["stack change-secrets-provider --stack sandbox awskms://alias/x"]);
    });

    it("npm run pulumi runs no update (up, update): it would skip the deploy's checks; it names the deploy instead", () => {
        expect(runs.pulumiUp.status).toBe(2);
        expect(runs.pulumiUp.stderr).toBe(
            "pulumi: error: npm run pulumi does not run `pulumi up`; nothing was run. It would apply stacks/Pulumi.production.yaml without the deploy's checks (a keyVersion set back or skipped, an API key older than the one deployed, an immediate rotation while a key is staged), and could put a key Qredo does not accept in front of the signers. Deploy with:\n    npm run deploy -- production\nTo only see the changes: npm run pulumi -- preview --stack production\n",
        );
        expect(runs.pulumiUp.calls).toEqual([]);
        expect(runs.pulumiUpdate.status).toBe(2);
        expect(runs.pulumiUpdate.stderr).toContain("npm run pulumi does not run `pulumi update`; nothing was run.");
        expect(runs.pulumiUpdate.stderr).toContain("npm run deploy -- sandbox\n");
        expect(runs.pulumiUpdate.calls).toEqual([]);
        // A flag before the command takes the next word, as pulumi's parser reads it: this is `up`.
        expect(runs.pulumiFlagFirst.status).toBe(2);
        expect(runs.pulumiFlagFirst.stderr).toContain("npm run pulumi does not run `pulumi up`; nothing was run.");
        expect(runs.pulumiFlagFirst.calls).toEqual([]);
        expect(runs.pulumiRemote.status).toBe(2);
        expect(runs.pulumiRemote.stderr).toContain("npm run pulumi does not run `pulumi deployment run update`; nothing was run.");
        expect(runs.pulumiRemote.calls).toEqual([]);
        expect(runs.pulumiDrift.stderr).toContain("npm run pulumi does not run `pulumi deployment run remediate-drift`; nothing was run.");
        expect(runs.pulumiDrift.calls).toEqual([]);
    });

    it("npm run pulumi refuses to set apiKey without --secret: the committed stack file would hold it in plain text", () => {
        expect(runs.plainApiKey.status).toBe(2);
        expect(runs.plainApiKey.stderr).toBe(
            "pulumi: error: config set apiKey without --secret would write the API key in plain text into stacks/Pulumi.sandbox.yaml, which is committed; nothing was run. Set it encrypted, from stdin:\n    npm run pulumi -- config set --stack sandbox --secret apiKey < apikey\nIf the word apiKey is only part of another setting's value (a tag, a URL), set that entry with config set-all:\n    npm run pulumi -- config set-all --stack sandbox --path --plaintext 'KEY=VALUE'\nor edit its line in stacks/Pulumi.sandbox.yaml.\n",
        );
        expect(runs.plainApiKey.calls).toEqual([]);
    });

    it("refuses /dev/stdin as the passphrase file: each pulumi command would read its own stdin, the API key for config set", () => {
        expect(runs.stdinFile.status).toBe(2);
        expect(runs.stdinFile.stderr).toContain(
            "PULUMI_CONFIG_PASSPHRASE_FILE names /dev/stdin, which cannot be read (stdin or a file descriptor",
        );
        expect(changes(runs.stdinFile)).toEqual([]);
    });

    it("npm run pulumi hands pulumi (which runs in the project) a relative passphrase file from the user's folder", () => {
        expect(runs.output.calls.at(-1)?.passphraseFile).toBe(join(places.output.cwd, "passphrase.txt"));
    });

    it("the stand-in answers `stack output --stack S NAME` with the plain value, and has every output", () => {
        expect(runs.deployed.status).toBe(0);
        const outputs = h.stateOf(places.output).stacks.sandbox.outputs ?? {};
        expect(runs.output.stdout).toBe(`${outputs.publicKeyFingerprintSha256}\n`);
        expect(Object.keys(outputs).sort()).toEqual(
            [
                "apiKeySecretArn",
                "apiKeySecretName",
                "environment",
                "keyId",
                "keyStage",
                "keyVersion",
                "partnerApiBaseUrl",
                "privateKeySecretArn",
                "privateKeySecretName",
                "publicKeyFingerprintSha256",
                "publicKeyPem",
                "readPolicyArn",
            ].sort(),
        );
    });
});
