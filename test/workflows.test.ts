// The GitHub workflows: linted with action-validator (the schema GitHub applies), and checked
// for what the project promises: every job runs on Node.js 24 (the major of the function's
// runtime); CI runs `npm ci` + `npm test`; the PR preview runs
// every stack file's stack (prod after the stacks it replicates into) with the policy pack, OIDC
// credentials of a role in the stack's own account, in its region, narrow permissions, no secret
// value in the repo, and a settings check that names exactly the variables that are missing.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { z } from "zod";
import { lambdaRuntime, runtimeNodeMajor } from "../lib/bundle";
import { previewStacks } from "../tools/offline/preview-stacks";

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
  outputs: z.record(z.string(), z.string()).optional(),
  strategy: z
    .object({
      matrix: z.object({ include: z.union([z.string(), z.array(z.unknown())]).optional() }),
    })
    .optional(),
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

/**
 * The stacks a workflow previews, by the job that previews them: the jobs running pulumi/actions
 * take their matrix from a wave the `stacks` job lists (`fromJSON(needs.stacks.outputs.<wave>)`),
 * and that job runs `npm run preview-stacks`, whose core (previewStacks) reads the stack files.
 */
function previewedStacks(workflow: Workflow, projectDir: string): Map<string, string> {
  const waves = previewStacks(projectDir);
  const stacks = new Map<string, string>();
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (stepUsing(job, "pulumi/actions") === undefined) continue;
    const include = job.strategy?.matrix.include;
    const wave = /^\$\{\{ fromJSON\(needs\.stacks\.outputs\.(targets|replicating)\) \}\}$/.exec(
      typeof include === "string" ? include : "",
    )?.[1];
    if (wave !== "targets" && wave !== "replicating") continue;
    for (const { stack } of waves[wave]) stacks.set(stack, name);
  }
  return stacks;
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

  it("installs Node.js 24 and runs npm ci, then npm test", () => {
    expect(jobs).toHaveLength(1);
    const steps = jobs[0]?.steps ?? [];
    expect(stepUsing({ steps }, "actions/setup-node")?.with).toMatchObject({ "node-version": 24 });
    const runs = steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
    expect(runs).toEqual(["npm ci", "npm test"]);
  });
});

describe("every workflow", () => {
  it("sets up the Node.js major of the function's runtime in every job that sets one up", () => {
    const setups = fs
      .readdirSync(workflowsDir)
      .flatMap((file) => Object.values(readWorkflow(file).workflow.jobs))
      .flatMap((job) => job.steps.filter((step) => step.uses?.startsWith("actions/setup-node@")));

    expect(setups.length).toBeGreaterThanOrEqual(4);
    for (const step of setups) {
      expect(step.with?.["node-version"]).toBe(runtimeNodeMajor(lambdaRuntime));
    }
  });
});

describe("preview.yml", () => {
  const { workflow } = readWorkflow("preview.yml");
  const stacks = previewedStacks(workflow, root);

  it("runs on pull requests only, with the narrowest permissions OIDC and PR comments need", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.permissions).toEqual({
      "id-token": "write",
      contents: "read",
      "pull-requests": "write",
    });
  });

  it("lists the stacks from the stack files with the npm script it defines", () => {
    const list = workflow.jobs.stacks;
    const step = list?.steps.find((s) => s.run?.includes("preview-stacks") === true);
    const scripts = (
      JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;

    expect(step?.run).toBe('npm run --silent preview-stacks >> "$GITHUB_OUTPUT"');
    expect(scripts["preview-stacks"]).toBe("tsx tools/cli/preview-stacks.ts");
    expect(list?.steps.map((s) => s.run)).toContain("npm ci");
    expect(list?.permissions).toEqual({ contents: "read" });
    for (const wave of ["stacks", "targets", "replicating"]) {
      expect(list?.outputs?.[wave]).toBe(`\${{ steps.list.outputs.${wave} }}`);
    }
  });

  it("previews dev, staging and prod, prod only after the others", () => {
    expect([...stacks.keys()].sort()).toEqual(["dev", "prod", "staging"]);
    const prodJob = stacks.get("prod") ?? "";
    expect(prodJob).not.toBe(stacks.get("dev"));
    const upstream = upstreamOf(workflow, prodJob);
    expect(upstream).toContain(stacks.get("dev"));
    expect(upstream).toContain(stacks.get("staging"));
  });

  it("previews a fourth stack file with no change to the workflow", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-"));
    try {
      for (const file of fs.readdirSync(root).filter((f) => /^Pulumi\.(.+\.)?yaml$/.test(f))) {
        fs.copyFileSync(path.join(root, file), path.join(dir, file));
      }
      fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config:\n  aws:region: us-east-2\n");
      const prod = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
      fs.writeFileSync(
        path.join(dir, "Pulumi.prod.yaml"),
        prod.replace("    - staging\n", "    - staging\n    - qa\n"),
      );

      const withQa = previewedStacks(workflow, dir);

      expect(withQa.get("qa")).toBe(stacks.get("dev"));
      expect(previewStacks(dir).targets).toContainEqual({
        stack: "qa",
        region: "us-east-2",
        roleVariable: "AWS_ROLE_ARN_QA",
      });
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
    "gets %s's AWS credentials by assuming its own account's role through OIDC, in its region",
    (stack) => {
      const job = workflow.jobs[stacks.get(stack) ?? ""];
      const steps = job?.steps ?? [];
      const credentials = stepUsing({ steps }, "aws-actions/configure-aws-credentials");
      expect(credentials?.with).toMatchObject({
        "role-to-assume": "${{ vars[matrix.roleVariable] || vars.AWS_ROLE_ARN }}",
        "aws-region": "${{ matrix.region }}",
      });
      expect(Object.keys(credentials?.with ?? {})).not.toContain("aws-access-key-id");
      const order = steps.map((step) => step.uses?.split("@")[0]);
      expect(order.indexOf("aws-actions/configure-aws-credentials")).toBeLessThan(
        order.indexOf("pulumi/actions"),
      );
      expect(steps.map((step) => step.run)).toContain("npm ci");
      expect(needsOf(job ?? { steps: [] })).toEqual(expect.arrayContaining(["stacks", "settings"]));
    },
  );

  it("gives each stack its region and role variable from its stack file", () => {
    expect(previewStacks(root).stacks).toEqual([
      { stack: "dev", region: "eu-west-1", roleVariable: "AWS_ROLE_ARN_DEV" },
      { stack: "staging", region: "eu-west-1", roleVariable: "AWS_ROLE_ARN_STAGING" },
      { stack: "prod", region: "eu-west-1", roleVariable: "AWS_ROLE_ARN_PROD" },
    ]);
  });

  describe("the settings check", () => {
    const settings = workflow.jobs.settings;
    const script = settings?.steps[0]?.run ?? "";
    const stacksJson = JSON.stringify(previewStacks(root).stacks);

    function check(
      variables: Record<string, string>,
      token = "true",
    ): { code: number; out: string } {
      // As GitHub runs a `run` step on Linux: bash --noprofile --norc -eo pipefail.
      const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH ?? "",
          VARIABLES: JSON.stringify(variables),
          STACKS: stacksJson,
          HAS_PULUMI_TOKEN: token,
        },
      });
      return { code: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
    }

    it("reads the variables, the stack list and the token presence, never a secret's value", () => {
      expect(settings?.permissions).toEqual({});
      expect(needsOf(settings ?? { steps: [] })).toEqual(["stacks"]);
      expect(settings?.steps[0]?.env).toEqual({
        VARIABLES: "${{ toJSON(vars) }}",
        STACKS: "${{ needs.stacks.outputs.stacks }}",
        HAS_PULUMI_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN != '' }}",
      });
    });

    it("names exactly what is missing", () => {
      const none = check({}, "false");
      expect(none.code).toBe(1);
      expect(none.out).toContain(
        "::error::Repository settings missing: vars.AWS_ROLE_ARN_DEV vars.AWS_ROLE_ARN_STAGING " +
          "vars.AWS_ROLE_ARN_PROD secrets.PULUMI_ACCESS_TOKEN (",
      );
      const onlyDev = check({ AWS_ROLE_ARN_DEV: "arn:aws:iam::111111111111:role/preview" });
      expect(onlyDev.out).toContain("missing: vars.AWS_ROLE_ARN_STAGING vars.AWS_ROLE_ARN_PROD (");
      expect(
        check({ AWS_ROLE_ARN_PROD: "", AWS_ROLE_ARN_DEV: "r", AWS_ROLE_ARN_STAGING: "r" }).out,
      ).toContain("missing: vars.AWS_ROLE_ARN_PROD (");
    });

    it("passes with a role per stack, or the shared role for the stacks without one", () => {
      expect(check({ AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/preview" })).toEqual({
        code: 0,
        out: "",
      });
      expect(
        check({
          AWS_ROLE_ARN_DEV: "arn:aws:iam::111111111111:role/preview",
          AWS_ROLE_ARN_STAGING: "arn:aws:iam::222222222222:role/preview",
          AWS_ROLE_ARN_PROD: "arn:aws:iam::333333333333:role/preview",
        }).code,
      ).toBe(0);
      expect(
        check({ AWS_ROLE_ARN_PROD: "arn:aws:iam::333333333333:role/preview", AWS_ROLE_ARN: "r" })
          .code,
      ).toBe(0);
    });
  });
});
