// The GitHub Actions pipeline: valid against the Actions schema, and shaped
// so that nothing deploys production unreviewed or leaks a credential.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

const dir = join(__dirname, "..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const text = readFileSync(join(dir, "pulumi.yml"), "utf8");

interface Step {
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
    strategy?: { matrix: { stack: string[] } };
    steps: Step[];
}
const workflow = YAML.parse(text) as { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> };
const jobs = workflow.jobs;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

describe("GitHub Actions workflows", () => {
    it.each(files)("%s validates against the GitHub Actions workflow schema", (file) => {
        expect(validateWorkflow(readFileSync(join(dir, file), "utf8")).errors).toEqual([]);
    });

    it("the validator does reject a malformed workflow", () => {
        const broken = text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest");
        expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
    });

    it("grants nothing by default and each job only what it uses", () => {
        expect(workflow.permissions).toEqual({});
        expect(jobs.test.permissions).toEqual({ contents: "read" });
        for (const name of ["preview", "up-sandbox", "up-production"]) {
            expect(jobs[name].permissions, name).toEqual({ contents: "read", "id-token": "write" });
        }
    });

    it("previews both stacks on pull requests, and never updates anything there", () => {
        expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
        expect(jobs.preview.if).toBe("github.event_name == 'pull_request'");
        expect(jobs.preview.strategy?.matrix.stack).toEqual(["sandbox", "production"]);
        expect(runs(jobs.preview)).toMatch(/pulumi preview --stack "\$STACK"/);
        for (const [name, job] of Object.entries(jobs)) {
            if (/\bup\b|deploy/.test(runs(job))) {
                expect(job.if, name).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
            }
        }
    });

    it("updates sandbox on merge to main, and production only through the production environment, after sandbox", () => {
        expect(jobs["up-sandbox"].environment).toBe("sandbox");
        expect(runs(jobs["up-sandbox"])).toContain("npm run deploy -- sandbox --yes");
        expect(jobs["up-production"].environment).toBe("production");
        expect(jobs["up-production"].needs).toBe("up-sandbox");
        expect(runs(jobs["up-production"])).toContain("npm run deploy -- production --yes");
    });

    it("verifies each deployed stack against the public key it wrote", () => {
        for (const stack of ["sandbox", "production"]) {
            const steps = jobs[`up-${stack}`].steps.map((s) => s.run ?? "");
            const deployAt = steps.findIndex((r) => r.includes(`npm run deploy -- ${stack}`));
            expect(steps.indexOf(`npm run verify -- ${stack} --public-key-file public-${stack}.pem`)).toBe(deployAt + 1);
        }
    });

    it("keeps one concurrency group per stack, never cancelling a running update", () => {
        expect(jobs.preview.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
        expect(jobs["up-sandbox"].concurrency).toEqual({ group: "pulumi-sandbox", "cancel-in-progress": false });
        expect(jobs["up-production"].concurrency).toEqual({ group: "pulumi-production", "cancel-in-progress": false });
    });

    it("gets AWS credentials by assuming a role through OIDC, with no long-lived keys", () => {
        for (const name of ["preview", "up-sandbox", "up-production"]) {
            const aws = jobs[name].steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            expect(aws?.with, name).toEqual({ "role-to-assume": "${{ secrets.AWS_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}" });
        }
        expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    });

    it("hands the API key to steps in the environment, never interpolated into a command line", () => {
        for (const [name, job] of Object.entries(jobs)) {
            expect(runs(job), name).not.toContain("secrets.");
        }
        for (const name of ["preview", "up-sandbox", "up-production"]) {
            expect(jobs[name].steps.some((s) => s.env?.QREDO_API_KEY === "${{ secrets.QREDO_API_KEY }}"), name).toBe(true);
        }
        expect(runs(jobs.preview)).toContain(`printf '%s' "$QREDO_API_KEY" | pulumi config set --stack "$STACK" --secret apiKey`);
    });

    it("keeps each deployed public key as a build artifact", () => {
        for (const stack of ["sandbox", "production"]) {
            const upload = jobs[`up-${stack}`].steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
            expect(upload?.with).toEqual({ name: `public-key-${stack}`, path: `public-${stack}.pem` });
        }
    });
});
