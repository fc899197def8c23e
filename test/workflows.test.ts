// The GitHub workflows: linted with action-validator (the schema GitHub applies), and checked
// for what the project promises: CI runs `npm ci` + `npm test` on Node LTS; the PR preview runs
// every stack (prod after the others) with the policy pack, OIDC credentials, narrow permissions,
// no secret value in the repo, and a Pulumi.<stack>.yaml for every stack it previews.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { z } from "zod";

const root = path.resolve(__dirname, "..");
const workflowsDir = path.join(root, ".github", "workflows");

const stepSchema = z.object({
  name: z.string().optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  env: z.record(z.string(), z.string()).optional(),
});
const jobSchema = z.object({
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  permissions: z.record(z.string(), z.string()).optional(),
  strategy: z.object({ matrix: z.object({ stack: z.array(z.string()).optional() }) }).optional(),
  steps: z.array(stepSchema),
});
const workflowSchema = z.object({
  on: z.record(z.string(), z.unknown()),
  permissions: z.record(z.string(), z.string()),
  jobs: z.record(z.string(), jobSchema),
});
type Workflow = z.infer<typeof workflowSchema>;
type Job = z.infer<typeof jobSchema>;
type Step = z.infer<typeof stepSchema>;

function readWorkflow(file: string): { text: string; workflow: Workflow } {
  const text = fs.readFileSync(path.join(workflowsDir, file), "utf8");
  return { text, workflow: workflowSchema.parse(parse(text)) };
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : [job.needs].flat();
}

/** Every job `jobName` waits for, directly or through other jobs. */
function upstreamOf(workflow: Workflow, jobName: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    for (const need of needsOf(workflow.jobs[name] ?? { steps: [] })) {
      if (!seen.has(need)) {
        seen.add(need);
        visit(need);
      }
    }
  };
  visit(jobName);
  return seen;
}

function stepUsing(job: Job, action: string): Step | undefined {
  return job.steps.find((step) => step.uses?.split("@")[0] === action);
}

/** The stacks a workflow previews: the `stack` matrix of every job running pulumi/actions. */
function previewedStacks(workflow: Workflow): Map<string, string> {
  const stacks = new Map<string, string>();
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (stepUsing(job, "pulumi/actions") === undefined) continue;
    for (const stack of job.strategy?.matrix.stack ?? []) stacks.set(stack, name);
  }
  return stacks;
}

/** Stacks without their `Pulumi.<stack>.yaml` in `projectDir`. */
function missingStackFiles(stacks: Iterable<string>, projectDir: string): string[] {
  return [...stacks].filter(
    (stack) => !fs.existsSync(path.join(projectDir, `Pulumi.${stack}.yaml`)),
  );
}

describe("every workflow", () => {
  const files = fs.readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));

  it("includes ci.yml and preview.yml", () => {
    expect(files).toEqual(expect.arrayContaining(["ci.yml", "preview.yml"]));
  });

  it.each(files)("%s passes action-validator", (file) => {
    const state = validateWorkflow(fs.readFileSync(path.join(workflowsDir, file), "utf8"));
    expect(state.errors).toEqual([]);
  });

  it("action-validator rejects a broken workflow (the lint is live)", () => {
    const broken =
      "on: push\njobs:\n  a:\n    needs: nowhere\n    runs-on: ubuntu-latest\n    steps: []\n";
    expect(validateWorkflow(broken).errors).not.toEqual([]);
  });

  it.each(files)("%s holds no secret value, only secret references", (file) => {
    const { text, workflow } = readWorkflow(file);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}|pul-[0-9a-f]{40}|-----BEGIN|aws-secret-access-key/);
    const settings = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .flatMap((step) => [...Object.entries(step.with ?? {}), ...Object.entries(step.env ?? {})]);
    const secretLike = settings.filter(([key]) => /token|secret|password|private/i.test(key));
    for (const [key, value] of secretLike) {
      expect([key, value]).toEqual([key, expect.stringMatching(/^\$\{\{ [^}]+ \}\}$/)]);
    }
  });
});

describe("ci.yml", () => {
  const { workflow } = readWorkflow("ci.yml");
  const jobs = Object.values(workflow.jobs);

  it("runs on push and on pull request, reading the repo only", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("installs Node LTS (22) and runs npm ci, then npm test", () => {
    expect(jobs).toHaveLength(1);
    const steps = jobs[0]?.steps ?? [];
    expect(stepUsing({ steps }, "actions/setup-node")?.with).toMatchObject({ "node-version": 22 });
    const runs = steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
    expect(runs).toEqual(["npm ci", "npm test"]);
  });
});

describe("preview.yml", () => {
  const { workflow } = readWorkflow("preview.yml");
  const stacks = previewedStacks(workflow);

  it("runs on pull requests only, with the narrowest permissions OIDC and PR comments need", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.permissions).toEqual({
      "id-token": "write",
      contents: "read",
      "pull-requests": "write",
    });
  });

  it("previews dev, staging and prod, prod only after the others", () => {
    expect([...stacks.keys()].sort()).toEqual(["dev", "prod", "staging"]);
    const prodJob = stacks.get("prod") ?? "";
    expect(prodJob).not.toBe(stacks.get("dev"));
    const upstream = upstreamOf(workflow, prodJob);
    expect(upstream).toContain(stacks.get("dev"));
    expect(upstream).toContain(stacks.get("staging"));
  });

  it("has a Pulumi.<stack>.yaml for every stack it previews", () => {
    expect(missingStackFiles(stacks.keys(), root)).toEqual([]);
  });

  it("would name a stack whose Pulumi.<stack>.yaml is missing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
      expect(missingStackFiles(["dev", "qa"], dir)).toEqual(["qa"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(["dev", "staging", "prod"])(
    "previews %s with pulumi/actions@v7, the policy pack and a PR comment",
    (stack) => {
      const job = workflow.jobs[stacks.get(stack) ?? ""];
      const step = job === undefined ? undefined : stepUsing(job, "pulumi/actions");
      expect(step?.uses).toBe("pulumi/actions@v7");
      expect(step?.with).toMatchObject({
        command: "preview",
        "stack-name": "${{ matrix.stack }}",
        "comment-on-pr": true,
        policyPacks: "policy",
      });
      expect(step?.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
      expect(fs.existsSync(path.join(root, "policy", "PulumiPolicy.yaml"))).toBe(true);
    },
  );

  it.each(["dev", "staging", "prod"])(
    "gets %s's AWS credentials by assuming a role through OIDC, before the preview",
    (stack) => {
      const job = workflow.jobs[stacks.get(stack) ?? ""];
      const steps = job?.steps ?? [];
      const credentials = stepUsing({ steps }, "aws-actions/configure-aws-credentials");
      expect(credentials?.with).toMatchObject({
        "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
      });
      expect(Object.keys(credentials?.with ?? {})).not.toContain("aws-access-key-id");
      const order = steps.map((step) => step.uses?.split("@")[0]);
      expect(order.indexOf("aws-actions/configure-aws-credentials")).toBeLessThan(
        order.indexOf("pulumi/actions"),
      );
      expect(steps.map((step) => step.run)).toContain("npm ci");
    },
  );
});
