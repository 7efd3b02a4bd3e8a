// The GitHub Actions setup, checked as rules over every job and step (so a
// job added later is held to them too), each shown to fail on a mutated copy.
// What the rules protect: docs/pipeline.md and docs/security.md.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "js-yaml";
import { nextStep, renderSummary } from "../.github/scripts/job-summary.js";

const root = join(__dirname, "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const workflowFiles = readdirSync(join(root, ".github/workflows"))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `.github/workflows/${f}`);
const actionFiles = readdirSync(join(root, ".github/actions")).map((dir) => `.github/actions/${dir}/action.yml`);
const pipeline = ".github/workflows/pulumi.yml";

interface Step {
    name?: string;
    id?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    if?: string;
    needs?: string | string[];
    environment?: string;
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    env?: Record<string, string>;
    "timeout-minutes"?: number;
    steps: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    permissions: unknown;
    env?: Record<string, string>;
    concurrency?: unknown;
    jobs: Record<string, Job>;
}

/** A fresh parse, so a test may mutate it. */
const load = () => YAML.load(read(pipeline)) as Workflow;
const setupAction = () => YAML.load(read(".github/actions/setup/action.yml")) as { runs: { steps: Step[] } };
const entries = (w: Workflow) => Object.entries(w.jobs);
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const deployCommand = /(?:npm run deploy --|node scripts\/deploy\.js) (\w+)/;
const deploysStack = (job: Job) => deployCommand.exec(runs(job))?.[1];
const index = (job: Job, test: (s: Step) => boolean) => job.steps.findIndex(test);
const isSetup = (s: Step) => s.uses === "./.github/actions/setup";
const isAws = (s: Step) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") ?? false;

// ------------------------------------------------------------ expressions

/**
 * Evaluates an `if:` the way GitHub does for our purposes: contexts from
 * `ctx`, `==`, `!=`, `&&`, `||`, `!`, parentheses, and the status functions.
 */
function evaluate(expression: string, ctx: Record<string, unknown>, status: Record<string, boolean>): boolean {
    const source = expression.replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, "$1");
    const tokens = source.match(/'(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*(?:\(\))?|\S/g) ?? [];
    const js = tokens.map((t, at) => {
        if (t.startsWith("'")) return JSON.stringify(t.slice(1, -1).replace(/''/g, "'"));
        if (t.endsWith("()")) return JSON.stringify(status[t.slice(0, -2)] ?? fail(`unsupported function ${t}`));
        if (/^[A-Za-z_]/.test(t) && tokens[at + 1] === "(") return fail(`unsupported function ${t}`);
        if (/^[A-Za-z_]/.test(t)) return JSON.stringify(lookup(ctx, t) ?? null);
        if (["==", "!=", "&&", "||", "!", "(", ")"].includes(t)) return t;
        return fail(`unexpected token ${t} in ${expression}`);
    });
    // Only the whitelisted operators above and JSON literals reach this: no workflow text is evaluated as code.
    return Boolean(new Function(`return (${js.join(" ")});`)());
}
const fail = (message: string): never => {
    throw new Error(message);
};
const lookup = (ctx: Record<string, unknown>, path: string) =>
    path === "true" || path === "false"
        ? path === "true"
        : path
              .split(".")
              .reduce<unknown>(
                  (value, key) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined),
                  ctx,
              );

const repository = "owner/repo";
const pullRequest = {
    github: {
        event_name: "pull_request",
        ref: "refs/pull/7/merge",
        repository,
        event: { pull_request: { number: 7, head: { repo: { full_name: repository } } } },
    },
    inputs: {},
};
const pushToMain = { github: { event_name: "push", ref: "refs/heads/main", repository, event: {} }, inputs: {} };
const dispatchFrom = (ref: string) => ({
    github: { event_name: "workflow_dispatch", ref, repository, event: {} },
    inputs: { "replace-api-key": "production" },
});

/** Whether a job can run for the event: its `if` (status functions taken every way they could go) and its needs. */
function jobRuns(w: Workflow, name: string, ctx: Record<string, unknown>): boolean {
    const job = w.jobs[name];
    const needsRun = [job.needs ?? []].flat().every((need) => jobRuns(w, need, ctx));
    const expression = job.if ?? "success()";
    const hasStatus = /\b(always|success|failure|cancelled)\(\)/.test(expression);
    return [false, true].some(
        (cancelled) =>
            evaluate(expression, ctx, { always: true, success: needsRun, failure: needsRun, cancelled }) && (hasStatus || needsRun),
    );
}
const jobsRunningOn = (w: Workflow, ctx: Record<string, unknown>) => Object.keys(w.jobs).filter((name) => jobRuns(w, name, ctx));

// ------------------------------------------------------------ rules (each returns its violations)

/** Every `uses:` is local or `owner/repo[/path]@<40 hex> # vX.Y.Z`, and one action has one pin. */
function unpinnedActions(texts: Record<string, string>): string[] {
    const problems: string[] = [];
    const pins = new Map<string, Set<string>>();
    for (const [file, text] of Object.entries(texts)) {
        for (const line of text.split("\n").filter((l) => /^\s*(-\s*)?uses:/.test(l))) {
            const ref = /uses:\s*(\S+)/.exec(line)?.[1] ?? "";
            if (ref.startsWith("./")) continue;
            const pinned = /^([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40})\s+#\s+v\d+\.\d+\.\d+\s*$/.exec(
                ref + line.slice(line.indexOf(ref) + ref.length),
            );
            if (pinned === null) {
                problems.push(`${file}: ${line.trim()}`);
                continue;
            }
            pins.set(pinned[1], (pins.get(pinned[1]) ?? new Set()).add(pinned[3]));
        }
    }
    for (const [action, shas] of pins) if (shas.size > 1) problems.push(`${action} pinned to ${[...shas].join(", ")}`);
    return problems;
}

/** Jobs a pull request can start must not touch production: environments, secrets, names. */
function pullRequestReachesProduction(w: Workflow): string[] {
    const problems = Object.keys(w.on)
        .filter((event) => ["pull_request_target", "workflow_run"].includes(event))
        .map((e) => `trigger ${e}`);
    if (JSON.stringify(w.env ?? {}).includes("secrets.")) problems.push("workflow env holds secrets");
    for (const name of jobsRunningOn(w, pullRequest)) {
        const job = w.jobs[name];
        if (/production/i.test(JSON.stringify(job))) problems.push(`${name} mentions production`);
        if (![undefined, "sandbox-preview"].includes(job.environment)) problems.push(`${name} uses environment ${job.environment}`);
        // Secrets resolve from the job's environment; without one they are repository secrets, shared with production.
        if (job.environment === undefined && JSON.stringify(job).includes("secrets.")) problems.push(`${name} reads repository secrets`);
        if (JSON.stringify(job).includes("secrets: inherit")) problems.push(`${name} inherits secrets`);
    }
    return problems;
}

/** Jobs in an environment that deploys or reads production run only on main, whatever the event. */
function deployEnvironmentsOffMain(w: Workflow): string[] {
    const deployEnvironments = ["sandbox", "production-preview", "production"];
    return [pullRequest, dispatchFrom("refs/heads/feature"), dispatchFrom("refs/tags/v1")]
        .flatMap((ctx) => jobsRunningOn(w, ctx).map((name) => [name, ctx.github.ref] as const))
        .filter(([name]) => deployEnvironments.includes(w.jobs[name].environment ?? ""))
        .map(([name, ref]) => `${name} runs on ${ref}`);
}

const missingTimeouts = (w: Workflow) =>
    entries(w)
        .filter(([, job]) => !(Number(job["timeout-minutes"]) > 0 && Number(job["timeout-minutes"]) <= 60))
        .map(([name]) => name);

const persistedCheckouts = (w: Workflow) =>
    entries(w).flatMap(([name, job]) =>
        job.steps.filter((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["persist-credentials"] !== false).map(() => name),
    );

/** Installs run in steps with no secret in their environment, before any AWS credentials exist in the job. */
function installsWithSecrets(w: Workflow, action: { runs: { steps: Step[] } }): string[] {
    const problems: string[] = [];
    const installs = (s: Step) => isSetup(s) || /\bnpm (ci|install|i)\b/.test(s.run ?? "");
    for (const [name, job] of entries(w)) {
        if (JSON.stringify(job.env ?? {}).includes("secrets.")) problems.push(`${name}: job env holds secrets`);
        job.steps.forEach((step, at) => {
            if (!installs(step)) return;
            if (JSON.stringify(step.env ?? {}).includes("secrets.") || JSON.stringify(step.with ?? {}).includes("secrets."))
                problems.push(`${name}: install step ${at} gets secrets`);
            if (job.steps.slice(0, at).some(isAws)) problems.push(`${name}: install step ${at} runs after AWS credentials`);
        });
    }
    for (const step of action.runs.steps.filter((s) => /\bnpm (ci|install|i)\b/.test(s.run ?? ""))) {
        if (step.env !== undefined) problems.push("setup action: install step has an env");
        if (!/npm ci --ignore-scripts\b/.test(step.run ?? "")) problems.push("setup action: install runs install scripts");
    }
    if (JSON.stringify(action).includes("secrets.")) problems.push("setup action reads secrets");
    return problems;
}

/** Deploys: literal `deploy-*` groups, never cancelled; previews: `preview-*` groups; no workflow-wide group. */
function concurrencyProblems(w: Workflow): string[] {
    const problems = w.concurrency === undefined ? [] : ["workflow-level concurrency would hold deploys"];
    for (const [name, job] of entries(w)) {
        const group = job.concurrency?.group;
        if (deploysStack(job) !== undefined) {
            if (group !== `deploy-${deploysStack(job)}`) problems.push(`${name}: deploy group ${group}`);
            if (job.concurrency?.["cancel-in-progress"] !== false) problems.push(`${name}: deploy may be cancelled`);
        } else if (/preview/.test(JSON.stringify(job.steps)) && !group?.startsWith("preview-")) {
            problems.push(`${name}: preview group ${group}`);
        }
    }
    return problems;
}

const previewsProduction = (job: Job) => /npm run pulumi -- preview --stack production\b/.test(runs(job));
/** Every job `name` waits for, directly or through other jobs. */
const upstream = (w: Workflow, name: string): string[] => [w.jobs[name].needs ?? []].flat().flatMap((need) => [need, ...upstream(w, need)]);

/**
 * The production diff exists before anyone approves the deploy: one job, not a deploy, in
 * `production-preview`, on main only, that the production deploy needs, outside every deploy's
 * concurrency group and never cancelled (that would drop the deploy waiting for it).
 */
function productionPreviewProblems(w: Workflow): string[] {
    const previews = entries(w).filter(([, job]) => previewsProduction(job));
    const problems = previews.length === 1 ? [] : [`${previews.length} jobs preview production`];
    const deployGroups = entries(w)
        .filter(([, job]) => deploysStack(job) !== undefined)
        .map(([, job]) => job.concurrency?.group);
    for (const [name, job] of previews) {
        if (deploysStack(job) !== undefined) problems.push(`${name} previews production inside a deploy job`);
        if (job.environment !== "production-preview") problems.push(`${name}: environment ${job.environment}`);
        for (const ctx of [pullRequest, dispatchFrom("refs/heads/feature"), dispatchFrom("refs/tags/v1")])
            if (jobRuns(w, name, ctx)) problems.push(`${name} runs on ${ctx.github.ref}`);
        for (const ctx of [pushToMain, dispatchFrom("refs/heads/main")])
            if (!jobRuns(w, name, ctx)) problems.push(`${name} does not run for ${ctx.github.event_name} on main`);
        const group = job.concurrency?.group;
        if (group === undefined || deployGroups.includes(group)) problems.push(`${name}: concurrency group ${group}`);
        if (job.concurrency?.["cancel-in-progress"] !== false) problems.push(`${name}: may be cancelled`);
        if (!/>> "\$GITHUB_STEP_SUMMARY"/.test(runs(job))) problems.push(`${name}: no job summary`);
    }
    for (const [name, job] of entries(w).filter(([, j]) => deploysStack(j) === "production")) {
        const needed = previews.filter(([preview]) => upstream(w, name).includes(preview) && deploysStack(w.jobs[preview]) === undefined);
        if (needed.length === 0) problems.push(`${name} does not wait for a production preview`);
        if (previewsProduction(job)) problems.push(`${name} has a preview step`);
    }
    return problems;
}

// ------------------------------------------------------------ tests

describe("the workflows and actions are valid", () => {
    it.each(workflowFiles)("%s validates against the GitHub Actions workflow schema", (file) => {
        expect(validateWorkflow(read(file)).errors).toEqual([]);
    });
    it.each(actionFiles)("%s validates against the action schema", (file) => {
        expect(validateAction(read(file)).errors).toEqual([]);
    });
    it("the validators do reject malformed files", () => {
        expect(validateWorkflow(read(pipeline).replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")).errors.length).toBeGreaterThan(
            0,
        );
        expect(validateAction(read(actionFiles[0]).replace("using: composite", "using: compost")).errors.length).toBeGreaterThan(0);
    });
});

describe("the expression model these rules rest on", () => {
    it("reads conditions as GitHub would", () => {
        expect(
            evaluate(
                "github.ref == 'refs/heads/main' && (github.event_name == 'push' || github.event_name == 'workflow_dispatch')",
                pushToMain,
                {},
            ),
        ).toBe(true);
        expect(evaluate("${{ github.event_name != 'pull_request' }}", pullRequest, {})).toBe(false);
        expect(
            evaluate("!cancelled() && inputs.replace-api-key == 'production'", dispatchFrom("refs/heads/main"), { cancelled: false }),
        ).toBe(true);
        expect(() => evaluate("contains(github.ref, 'main')", pushToMain, {})).toThrow("unsupported function contains");
    });
    it("runs tests and the sandbox preview on a pull request; tests, both deploys and the production preview on main", () => {
        const w = load();
        expect(jobsRunningOn(w, pullRequest)).toEqual(["test", "preview-sandbox"]);
        const onMain = ["test", "deploy-sandbox", "preview-production", "deploy-production"];
        expect(jobsRunningOn(w, pushToMain)).toEqual(onMain);
        expect(jobsRunningOn(w, dispatchFrom("refs/heads/main"))).toEqual(onMain);
    });
});

describe("a pull request never reaches production credentials", () => {
    it("holds for the workflow", () => {
        expect(pullRequestReachesProduction(load())).toEqual([]);
    });
    it("catches a pull-request job moved to a production environment", () => {
        const w = load();
        w.jobs["preview-sandbox"].environment = "production-preview";
        expect(pullRequestReachesProduction(w)).toEqual([
            "preview-sandbox mentions production",
            "preview-sandbox uses environment production-preview",
        ]);
    });
    it("catches a production job made to run on pull requests", () => {
        const w = load();
        w.jobs["deploy-production"].if = "always()";
        expect(pullRequestReachesProduction(w)).toEqual([
            "deploy-production mentions production",
            "deploy-production uses environment production",
        ]);
    });
    it("catches repository secrets in a pull-request job and a pull_request_target trigger", () => {
        const w = load();
        w.jobs.test.steps[2].env = { TOKEN: "${{ secrets.SOME_TOKEN }}" };
        w.on.pull_request_target = {};
        expect(pullRequestReachesProduction(w)).toEqual(["trigger pull_request_target", "test reads repository secrets"]);
    });
    it("runs deploying environments on main only, for every event", () => {
        expect(deployEnvironmentsOffMain(load())).toEqual([]);
        const w = load();
        w.jobs["deploy-sandbox"].if = "github.event_name == 'push' || github.event_name == 'workflow_dispatch'";
        expect(deployEnvironmentsOffMain(w)).toEqual(["deploy-sandbox runs on refs/heads/feature", "deploy-sandbox runs on refs/tags/v1"]);
        const v = load();
        v.jobs["preview-production"].if = "github.event_name != 'pull_request'";
        v.jobs["preview-production"].needs = "test";
        expect(deployEnvironmentsOffMain(v)).toEqual([
            "preview-production runs on refs/heads/feature",
            "preview-production runs on refs/tags/v1",
        ]);
    });
    it("uses exactly the four documented environments", () => {
        expect(
            entries(load())
                .map(([, job]) => job.environment)
                .filter(Boolean),
        ).toEqual(["sandbox-preview", "sandbox", "production-preview", "production"]);
    });
});

describe("supply chain and hygiene", () => {
    const texts = () => Object.fromEntries([...workflowFiles, ...actionFiles].map((f) => [f, read(f)]));

    it("pins every action by full commit SHA with its version in a comment", () => {
        expect(unpinnedActions(texts())).toEqual([]);
        const all = texts();
        all[pipeline] = all[pipeline].replace(/actions\/checkout@[0-9a-f]{40} # v[\d.]+/, "actions/checkout@v6");
        all[actionFiles[0]] = all[actionFiles[0]].replace(/(pulumi\/actions@[0-9a-f]{40}) # v[\d.]+/, "$1");
        expect(unpinnedActions(all)).toHaveLength(2);
        expect(
            unpinnedActions({
                a: "- uses: o/r@0123456789012345678901234567890123456789 # v1.0.0\n- uses: o/r@1123456789012345678901234567890123456789 # v1.0.1",
            }),
        ).toEqual(["o/r pinned to 0123456789012345678901234567890123456789, 1123456789012345678901234567890123456789"]);
    });
    it("never installs anything with curl | sh", () => {
        for (const [file, text] of Object.entries(texts())) expect(text, file).not.toMatch(/curl|wget|get\.pulumi\.com/);
    });
    it("gives every job a timeout", () => {
        expect(missingTimeouts(load())).toEqual([]);
        const w = load();
        delete w.jobs["deploy-production"]["timeout-minutes"];
        expect(missingTimeouts(w)).toEqual(["deploy-production"]);
    });
    it("checks out without persisting the token", () => {
        expect(persistedCheckouts(load())).toEqual([]);
        const w = load();
        delete w.jobs.test.steps[0].with;
        expect(persistedCheckouts(w)).toEqual(["test"]);
    });
    it("installs dependencies with no secret in the environment and no install scripts", () => {
        expect(installsWithSecrets(load(), setupAction())).toEqual([]);
        const w = load();
        const job = w.jobs["deploy-sandbox"];
        job.steps[index(job, isSetup)].env = { QREDO_API_KEY: "${{ secrets.QREDO_API_KEY }}" };
        [job.steps[1], job.steps[2]] = [job.steps[2], job.steps[1]];
        const action = setupAction();
        action.runs.steps[1].run = "npm ci";
        expect(installsWithSecrets(w, action)).toEqual([
            "deploy-sandbox: install step 2 gets secrets",
            "deploy-sandbox: install step 2 runs after AWS credentials",
            "setup action: install runs install scripts",
        ]);
    });
    it("keeps previews out of the deploys' concurrency groups and never cancels a deploy", () => {
        expect(concurrencyProblems(load())).toEqual([]);
        const w = load();
        w.jobs["preview-sandbox"].concurrency = { group: "deploy-sandbox", "cancel-in-progress": true };
        w.jobs["deploy-production"].concurrency = { group: "deploy-production", "cancel-in-progress": true };
        expect(concurrencyProblems(w)).toEqual([
            "preview-sandbox: preview group deploy-sandbox",
            "deploy-production: deploy may be cancelled",
        ]);
    });
    it("grants nothing by default, and each job only what it uses", () => {
        const w = load();
        expect(w.permissions).toEqual({});
        for (const [name, job] of entries(w)) {
            const expected: Record<string, string> = { contents: "read" };
            if (job.steps.some(isAws)) expected["id-token"] = "write";
            if (job.steps.some((s) => s.with?.["comment-on-pr"] === true)) expected["pull-requests"] = "write";
            expect(job.permissions, name).toEqual(expected);
        }
    });
    it("assumes AWS roles through OIDC only, and interpolates nothing into shell scripts", () => {
        for (const [name, job] of entries(load())) {
            for (const step of job.steps.filter(isAws)) {
                expect(step.with, name).toEqual({
                    "role-to-assume": "${{ secrets.AWS_ROLE_ARN }}",
                    "aws-region": "${{ vars.AWS_REGION }}",
                });
            }
            // Values reach scripts through env only: no ${{ }} (secrets, inputs, event text) inside run:.
            expect(runs(job), name).not.toContain("${{");
        }
        expect(read(pipeline)).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    });
    it("installs one pinned Pulumi CLI version, set once, that Pulumi.yaml accepts", () => {
        const w = load();
        const required = /requiredPulumiVersion:\s*">=([\d.]+)"/.exec(read("Pulumi.yaml"))?.[1] ?? "";
        const version = w.env?.PULUMI_VERSION ?? "";
        expect(version).toMatch(/^\d+\.\d+\.\d+$/);
        const [have, need] = [version, required].map((v) => v.split(".").reduce((n, part) => n * 10_000 + Number(part), 0));
        expect(have).toBeGreaterThanOrEqual(need);
        for (const [name, job] of entries(w)) {
            for (const step of job.steps.filter(
                (s) => (isSetup(s) && s.with?.["install-pulumi"] !== "false") || s.uses?.startsWith("pulumi/actions@"),
            )) {
                expect(step.with?.["pulumi-version"], name).toBe("${{ env.PULUMI_VERSION }}");
            }
        }
        const install = setupAction().runs.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        expect(install?.with).toEqual({ "pulumi-version": "${{ inputs.pulumi-version }}" });
    });
    it("sets up Node.js 22 with the npm cache in the shared action, used by every job", () => {
        const node = setupAction().runs.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
        expect(node?.with).toEqual({ "node-version": 22, cache: "npm" });
        for (const [name, job] of entries(load())) {
            expect(job.steps.filter(isSetup), name).toHaveLength(1);
            expect(
                job.steps.some((s) => s.uses?.startsWith("actions/setup-node@")),
                name,
            ).toBe(false);
        }
    });
});

describe("deploys", () => {
    const deployJobs = () => entries(load()).filter(([, job]) => deploysStack(job) !== undefined);

    it("deploy sandbox, then production, each in its own environment", () => {
        const jobs = Object.fromEntries(deployJobs());
        expect(Object.entries(jobs).map(([name, job]) => [name, job.environment, deploysStack(job)])).toEqual([
            ["deploy-sandbox", "sandbox", "sandbox"],
            ["deploy-production", "production", "production"],
        ]);
        expect(upstream(load(), "deploy-production")).toContain("deploy-sandbox");
    });
    it("run the deploy script exec'd, so that a cancelled run's signal reaches it rather than npm's shell", () => {
        const direct = (job: Job) =>
            job.steps
                .flatMap((s) => (s.run ?? "").split("\n"))
                .filter((line) => deployCommand.test(line))
                .map((line) => /^\s*exec node scripts\/deploy\.js /.test(line));
        for (const [, job] of deployJobs()) {
            expect(direct(job).length).toBeGreaterThan(0);
            expect(direct(job).every(Boolean)).toBe(true);
        }
        const w = load();
        const step = w.jobs["deploy-production"].steps.find((s) => s.id === "deploy")!;
        step.run = step.run!.replace(/exec node scripts\/deploy\.js/g, "npm run deploy --");
        expect(direct(w.jobs["deploy-production"]).every(Boolean)).toBe(false);
    });
    it("hand the API key to a deploy or a preview in the step's env only", () => {
        for (const [name, job] of entries(load())) {
            const withKey = job.steps.filter((s) => s.env?.QREDO_API_KEY !== undefined);
            expect(
                withKey.map((s) => s.env?.QREDO_API_KEY),
                name,
            ).toEqual(withKey.map(() => "${{ secrets.QREDO_API_KEY }}"));
            expect(
                withKey.every((s) => deployCommand.test(s.run ?? "") || /stack-api-key\.sh/.test(s.run ?? "")),
                name,
            ).toBe(true);
        }
    });
    it("replace a stored API key only when the run-by-hand input names that stack", () => {
        const w = load();
        expect((w.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs["replace-api-key"]).toMatchObject({
            type: "choice",
            options: ["none", "sandbox", "production"],
            default: "none",
        });
        for (const [name, job] of deployJobs()) {
            const deploy = job.steps.find((s) => s.id === "deploy");
            expect(deploy?.env?.REPLACE_API_KEY, name).toBe(`\${{ inputs.replace-api-key == '${deploysStack(job)}' }}`);
            expect(deploy?.run, name).toMatch(
                /if \[ "\$REPLACE_API_KEY" = true \]; then\n\s+exec node scripts\/deploy\.js \w+ --yes --replace-api-key /,
            );
            expect(runs(job).match(/--replace-api-key/g), name).toHaveLength(1);
            // The new ciphertext must reach the repository, or the next deploy refuses the new key.
            const stackFile = job.steps.find((s) => s.with?.path === `stacks/Pulumi.${deploysStack(job)}.yaml`);
            expect(stackFile?.uses, name).toMatch(/^actions\/upload-artifact@/);
            expect(stackFile?.if, name).toBe(
                `\${{ !cancelled() && steps.deploy.outcome == 'success' && inputs.replace-api-key == '${deploysStack(job)}' }}`,
            );
        }
    });
    it("verify live, keep public-<environment>.pem and write the summary even when verify fails", () => {
        for (const [name, job] of deployJobs()) {
            const stack = deploysStack(job);
            const at = index(job, (s) => s.id === "deploy");
            expect(job.steps[at].run, name).toContain(`--public-key-out public-${stack}.pem`);
            expect(job.steps[at + 1].run, name).toBe(`npm run verify -- ${stack} --live --public-key-file public-${stack}.pem`);
            const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@") && s.with?.name === `public-key-${stack}`);
            expect(upload?.with, name).toEqual({ name: `public-key-${stack}`, path: `public-${stack}.pem`, "if-no-files-found": "error" });
            const summary = job.steps.find((s) => s.run?.includes("$GITHUB_STEP_SUMMARY"));
            expect(summary?.run, name).toBe(`node .github/scripts/job-summary.js ${stack} >> "$GITHUB_STEP_SUMMARY"`);
            expect(summary?.env, name).toEqual({ VERIFY_OUTCOME: "${{ steps.verify.outcome }}" });
            for (const step of [upload, summary]) expect(step?.if, name).toBe("${{ !cancelled() && steps.deploy.outcome == 'success' }}");
        }
    });
});

describe("the production preview runs in its own job, on main, before the gated deploy", () => {
    it("holds for the workflow", () => {
        const w = load();
        expect(productionPreviewProblems(w)).toEqual([]);
        expect(w.jobs["deploy-production"].needs).toBe("preview-production");
        const steps = w.jobs["preview-production"].steps;
        const preview = index(w.jobs["preview-production"], (s) => s.name === "Preview production");
        expect(preview).toBeGreaterThan(index(w.jobs["preview-production"], isAws));
        expect(steps[preview].run).toBe(
            ".github/scripts/stack-api-key.sh production\nnpm run pulumi -- preview --stack production --diff --non-interactive\n",
        );
    });
    it("catches the preview moved back into the deploy job", () => {
        const w = load();
        const preview = w.jobs["preview-production"].steps.find((s) => s.name === "Preview production");
        const deploy = w.jobs["deploy-production"];
        deploy.steps.splice(
            index(deploy, (s) => s.id === "deploy"),
            0,
            preview as Step,
        );
        delete w.jobs["preview-production"];
        deploy.needs = "deploy-sandbox";
        expect(productionPreviewProblems(w)).toEqual([
            "deploy-production previews production inside a deploy job",
            "deploy-production: environment production",
            "deploy-production: concurrency group deploy-production",
            "deploy-production does not wait for a production preview",
            "deploy-production has a preview step",
        ]);
    });
    it("catches a deploy that no longer waits for the preview, and a missing preview", () => {
        const w = load();
        w.jobs["deploy-production"].needs = "deploy-sandbox";
        expect(productionPreviewProblems(w)).toEqual(["deploy-production does not wait for a production preview"]);
        delete w.jobs["preview-production"];
        expect(productionPreviewProblems(w)).toEqual([
            "0 jobs preview production",
            "deploy-production does not wait for a production preview",
        ]);
    });
    it("catches the preview off main, in another environment, or in a deploy's concurrency group", () => {
        const w = load();
        const job = w.jobs["preview-production"];
        job.if = "always()";
        job.environment = "production";
        job.concurrency = { group: "deploy-production", "cancel-in-progress": true };
        job.steps = job.steps.filter((s) => !s.run?.includes("$GITHUB_STEP_SUMMARY"));
        expect(productionPreviewProblems(w)).toEqual([
            "preview-production: environment production",
            "preview-production runs on refs/pull/7/merge",
            "preview-production runs on refs/heads/feature",
            "preview-production runs on refs/tags/v1",
            "preview-production: concurrency group deploy-production",
            "preview-production: may be cancelled",
            "preview-production: no job summary",
        ]);
        job.if = "github.event_name == 'pull_request'";
        job.concurrency = undefined;
        // Its needs (deploy-sandbox, main only) still keep it off the pull request.
        expect(productionPreviewProblems(w)).toEqual([
            "preview-production: environment production",
            "preview-production does not run for push on main",
            "preview-production does not run for workflow_dispatch on main",
            "preview-production: concurrency group undefined",
            "preview-production: may be cancelled",
            "preview-production: no job summary",
        ]);
    });
    it("says in the job summary where the diff is", () => {
        const summary = load().jobs["preview-production"].steps.find((s) => s.run?.includes("$GITHUB_STEP_SUMMARY"));
        expect(summary?.env).toBeUndefined();
        expect(summary?.run).toContain("is in this job's log, step **Preview production**");
    });
});

describe("committed build output is refused in every job", () => {
    const refuses = (steps: Step[]) => steps.some((s) => s.run === ".github/scripts/refuse-committed-build.sh");
    it("the shared setup, used by every job, runs the refusal; a setup without it is caught", () => {
        expect(refuses(setupAction().runs.steps)).toBe(true);
        const action = setupAction();
        action.runs.steps = action.runs.steps.filter((s) => s.run === undefined || !s.run.includes("refuse-committed-build"));
        expect(refuses(action.runs.steps)).toBe(false);
    });

    const repo = mkdtempSync(join(tmpdir(), "qredo-keys-committed-build-"));
    afterAll(() => rmSync(repo, { recursive: true, force: true }));
    const git = (...args: string[]) => {
        const result = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" });
        expect(result.status, result.stderr).toBe(0);
    };
    const refusal = () =>
        spawnSync("bash", [join(root, ".github/scripts/refuse-committed-build.sh")], { cwd: repo, encoding: "utf8", timeout: 20_000 });

    it("passes a checkout whose bin/ and client/dist/ exist but are not committed, and refuses each once committed", () => {
        git("init", "-q");
        writeFileSync(join(repo, ".gitignore"), "bin/\ndist/\n");
        mkdirSync(join(repo, "bin"));
        mkdirSync(join(repo, "client", "dist"), { recursive: true });
        writeFileSync(join(repo, "bin", "index.js"), "// built\n");
        writeFileSync(join(repo, "client", "dist", "index.js"), "// built\n");
        git("add", ".");
        git("commit", "-qm", "sources only");
        expect(refusal()).toMatchObject({ status: 0, stderr: "" });

        git("add", "-f", "client/dist/index.js");
        const one = refusal();
        expect(one.status).toBe(1);
        expect(one.stderr).toBe(
            "error: 1 file(s) under bin/ or client/dist/ are committed. They are build output: a deploy would run them instead of the reviewed sources. Remove them from git (git rm -r --cached bin client/dist) and commit; the build makes them.\n",
        );
        git("add", "-f", "bin/index.js");
        expect(refusal().stderr).toMatch(/^error: 2 file\(s\) under bin\/ or client\/dist\/ are committed/);
    });
});

describe("stack-api-key.sh, with a stand-in npm", () => {
    const dir = mkdtempSync(join(tmpdir(), "stack-api-key-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // Answers `npm run --silent pulumi -- config --json` with FAKE_CONFIG (fails when empty) and
    // records what `config set` read on stdin.
    writeFileSync(
        join(dir, "npm"),
        [
            "#!/bin/sh",
            'echo "$*" >> "$FAKE_DIR/calls"',
            'case "$*" in',
            '  *"config set"*) cat > "$FAKE_DIR/stdin" ;;',
            '  *--json*) [ -n "$FAKE_CONFIG" ] || { echo "error: no stack" >&2; exit 255; }; printf "%s" "$FAKE_CONFIG" ;;',
            "esac",
            "",
        ].join("\n"),
    );
    chmodSync(join(dir, "npm"), 0o755);
    const run = (config: string, apiKey?: string) => {
        rmSync(join(dir, "calls"), { force: true });
        const result = spawnSync("bash", [join(root, ".github/scripts/stack-api-key.sh"), "sandbox"], {
            encoding: "utf8",
            env: {
                PATH: `${dir}:${process.env.PATH ?? ""}`,
                FAKE_DIR: dir,
                FAKE_CONFIG: config,
                ...(apiKey === undefined ? {} : { QREDO_API_KEY: apiKey }),
            },
            timeout: 20_000,
        });
        const calls = spawnSync("cat", [join(dir, "calls")], { encoding: "utf8" })
            .stdout.trim()
            .split("\n");
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
    };
    const holdsKey = JSON.stringify({ "qredo-partner-keys:apiKey": { value: "[secret]", secret: true } });
    const noKey = JSON.stringify({ "aws:region": { value: "eu-west-1", secret: false } });

    it("needs no QREDO_API_KEY when the stack file holds the key, and keeps that key", () => {
        const result = run(holdsKey);
        expect(result).toMatchObject({ status: 0, stderr: "" });
        expect(result.stdout).toBe("stack sandbox already holds an API key: the preview uses it (QREDO_API_KEY is not read)\n");
        expect(result.calls).toEqual(["run --silent pulumi -- config --stack sandbox --json"]);
        expect(run(holdsKey, "other-key").calls).toHaveLength(1);
    });
    it("fails clearly, changing nothing, when neither the stack file nor the environment has a key", () => {
        for (const apiKey of [undefined, ""]) {
            const result = run(noKey, apiKey);
            expect(result.status).toBe(2);
            expect(result.stderr).toBe(
                "stack sandbox holds no API key and QREDO_API_KEY is empty: commit the encrypted apiKey in stacks/Pulumi.sandbox.yaml (docs/pipeline.md, Setting it up), or add the QREDO_API_KEY secret to this job's environment\n",
            );
            expect(result.calls).toHaveLength(1);
        }
    });
    it("stores QREDO_API_KEY, trimmed, through stdin when the stack has none", () => {
        const result = run(noKey, "  stand-in-key\n");
        expect(result.status).toBe(0);
        expect(result.calls[1]).toBe("run --silent pulumi -- config set --stack sandbox --secret apiKey");
        expect(readFileSync(join(dir, "stdin"), "utf8")).toBe("stand-in-key");
        expect(result.stdout + result.stderr).not.toContain("stand-in-key");
    });
    it("reports a stack it cannot read as that, not as a missing key", () => {
        const result = run("", "stand-in-key");
        expect(result.status).toBe(1);
        expect(result.stderr).toBe(
            "error: no stack\ncould not read the configuration of stack sandbox (see the error above): check PULUMI_BACKEND_URL and this job's AWS role\n",
        );
        expect(result.calls).toHaveLength(1);
    });
});

describe("the job summary", () => {
    const outputs = {
        environment: "production",
        keyVersion: 3,
        keyStage: "pending",
        publicKeyFingerprintSha256: "ab".repeat(32),
        publicKeyPem: "-----BEGIN PUBLIC KEY-----",
    };

    it("names the next step for every stage and verify outcome", () => {
        const step = (stage: string | undefined, outcome: string) =>
            nextStep(stage, outcome, "stacks/Pulumi.production.yaml", "public-production.pem").action;
        expect([
            step("pending", "success"),
            step("pending", "failure"),
            step("current", "success"),
            step("current", "failure"),
            step("current", "skipped"),
            step(undefined, "success"),
        ]).toEqual(["upload", "check", "nothing", "upload", "check", "check"]);
        expect(nextStep("pending", "success", "stacks/Pulumi.production.yaml", "public-production.pem").detail).toContain(
            "`qredo-partner-keys:keyStage: current` in `stacks/Pulumi.production.yaml`",
        );
    });
    it("shows the checked outputs and nothing else", () => {
        const text = renderSummary("production", outputs, "success");
        expect(text).toContain(`| public key SHA-256 fingerprint | \`${"ab".repeat(32)}\` |`);
        expect(text).toContain("| key stage | `pending` |");
        expect(text).toContain("artifact `public-key-production` → `public-production.pem`");
        expect(text).toContain("**Next step: upload.** ");
        expect(text).not.toContain("BEGIN");
        const odd = renderSummary(
            "production",
            { ...outputs, keyStage: "pending`<script>", publicKeyFingerprintSha256: "not-a-hash" },
            "failure",
        );
        expect(odd).toContain("| key stage | (missing) |");
        expect(odd).toContain("| public key SHA-256 fingerprint | (missing) |");
        expect(odd).not.toContain("<script>");
    });
});

describe("Dependabot", () => {
    const config = YAML.load(read(".github/dependabot.yml")) as {
        version: number;
        updates: { "package-ecosystem": string; directory?: string; directories?: string[] }[];
    };
    const update = (ecosystem: string) => config.updates.filter((u) => u["package-ecosystem"] === ecosystem);

    it("updates the actions of the workflows and of every composite action", () => {
        expect(config.version).toBe(2);
        expect(update("github-actions")).toHaveLength(1);
        const directories = update("github-actions")[0].directories ?? [];
        expect(directories).toContain("/");
        for (const file of actionFiles) {
            const dir = `/${file.replace(/\/action\.yml$/, "")}`;
            expect(
                directories.some(
                    (d) => d === dir || (d.endsWith("/*") && dir.startsWith(d.slice(0, -1)) && !dir.slice(d.length - 1).includes("/")),
                ),
                dir,
            ).toBe(true);
        }
    });
    it("updates npm from the root, which covers the client workspace", () => {
        expect(JSON.parse(read("package.json")).workspaces).toEqual(["client"]);
        expect(update("npm").map((u) => u.directory ?? u.directories)).toEqual(["/"]);
    });
});
