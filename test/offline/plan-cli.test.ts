/**
 * `npm run plan`: argument parsing, planning with referenced stacks and the problem lists, tree
 * and JSON rendering, and the command's exit codes, in-process (tools/offline/commands.ts); then
 * two spawns of the real script (each tsx start costs seconds): the tree and the JSON document.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configDefaults } from "../../lib/config";
import type { PlannedResource, PlanOptions, StackPlan } from "../../tools/offline";
import {
  discoverStacks,
  formatValue,
  parsePlanArgs,
  PLAN_USAGE,
  planDocument,
  PlanProblemsError,
  planStacks,
  renderTree,
  UsageError,
  type PlanDocument,
  type Planner,
} from "../../tools/offline/plan-report";
import { tokenProblems } from "../../tools/common/cli-args";
import { planCommand } from "../../tools/offline/commands";
import { captureIo } from "../support/command-io";
import { runScript } from "../support/run-script";
import { sharedPlan } from "../support/shared-plans";
import { jsonInput, named, output } from "../support/pulumi-query";

const root = path.resolve(__dirname, "..", "..");

/** A temp project: Pulumi.yaml copied, stack files as given. Removed after the file's tests. */
const tempDirs: string[] = [];
function tempProject(stacks: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
  tempDirs.push(dir);
  fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const [stack, text] of Object.entries(stacks)) {
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
  }
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function problemsOf(promise: Promise<unknown>): Promise<readonly string[]> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof PlanProblemsError) return error.problems;
    throw error;
  }
  throw new Error("expected a PlanProblemsError");
}

describe("parsePlanArgs", () => {
  it("reads --stack, --json and --project-dir (both option forms)", () => {
    expect(parsePlanArgs(["--stack", "dev"])).toEqual({
      stack: "dev",
      json: false,
      projectDir: undefined,
    });
    expect(parsePlanArgs(["--stack=prod", "--json", "--project-dir", "/p"])).toEqual({
      stack: "prod",
      json: true,
      projectDir: "/p",
    });
  });

  it("reports every problem at once, with the usage", () => {
    let thrown: unknown;
    try {
      parsePlanArgs(["extra", "--bogus", "--json=yes", "--project-dir"]);
    } catch (error: unknown) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(UsageError);
    const message = (thrown as UsageError).message;
    expect(message).toContain(
      'unexpected argument "extra"; unknown option "--bogus"; --json takes no value: "yes"; ' +
        "--project-dir needs a value; --stack is required",
    );
    expect(message).toContain("usage: npm run plan -- --stack <name>");
  });

  it("rejects --stack without a value", () => {
    expect(() => parsePlanArgs(["--stack"])).toThrow("--stack needs a value");
  });

  it("tokenProblems names an option given twice", () => {
    expect(
      tokenProblems(["--a", "x", "--a=y", "--b", "--b"], {
        a: { type: "string" },
        b: { type: "boolean" },
      }).problems,
    ).toEqual(["--a given more than once", "--b given more than once"]);
  });

  it("tokenProblems returns the values when there is no problem", () => {
    expect(
      tokenProblems(["--a", "x", "--b"], { a: { type: "string" }, b: { type: "boolean" } }),
    ).toEqual({
      values: { a: "x", b: true },
      problems: [],
    });
  });
});

describe("discoverStacks", () => {
  it("lists the repository's stacks", () => {
    expect(discoverStacks()).toEqual(["dev", "prod", "staging"]);
  });

  it("finds none in a missing or empty directory", () => {
    expect(discoverStacks(path.join(os.tmpdir(), "no-such-project-dir"))).toEqual([]);
    expect(discoverStacks(tempProject({}))).toEqual([]);
  });
});

describe("planStacks", () => {
  /** The plans the global setup made with planStacks over every stack file. */
  const planOf = sharedPlan;

  it("plans the referenced stacks first and feeds their outputs to prod's stack references", async () => {
    // The order and the outputs handed over, with a planner that serves the shared plans.
    const calls: [string, PlanOptions["stackOutputs"]][] = [];
    const planner: Planner = (stack, options) => {
      calls.push([stack, options.stackOutputs]);
      return Promise.resolve(planOf(stack));
    };
    const plans = await planStacks(["prod"], { planner });
    expect(Object.keys(plans)).toEqual(["dev", "staging", "prod"]);
    expect(calls.map(([stack]) => stack)).toEqual(["dev", "staging", "prod"]);
    expect(calls[2]?.[1]).toEqual({
      dev: planOf("dev").outputs,
      staging: planOf("staging").outputs,
    });
    // What the real planning made of them: prod names dev's and staging's resources.
    const prod = planOf("prod");
    const fn = named(prod, "aws:lambda/function:Function", "pipeline-replication");
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    const targets = JSON.parse(variables.TARGETS ?? "[]") as { bucket: string; table: string }[];

    expect(targets).toEqual([
      expect.objectContaining({
        bucket: output(planOf("dev"), "bucketName"),
        table: output(planOf("dev"), "tableName"),
      }),
      expect.objectContaining({
        bucket: output(planOf("staging"), "bucketName"),
        table: output(planOf("staging"), "tableName"),
      }),
    ]);
    const policy = jsonInput(
      named(prod, "aws:iam/rolePolicy:RolePolicy", "pipeline-replication-policy"),
      "policy",
    );
    expect(JSON.stringify(policy)).toContain(output(planOf("staging"), "tableArn"));
  });

  it("renders prod's tree with the key inputs of the replication plane", () => {
    const tree = renderTree(planOf("prod"));

    expect(tree).toMatch(/^Stack prod \(project data-pipeline\): \d+ resources$/m);
    expect(tree).toMatch(
      /aws:lambda\/function:Function {2}pipeline-replication\n.*name: company-replication-prod/,
    );
    expect(tree).toMatch(/runtime: nodejs24\.x\n.*handler: index\.handler\n.*memorySize: 512/);
    expect(tree).toContain('eventPattern: {"source":["aws.s3"]');
    expect(tree).toContain("tags: Environment=prod, ManagedBy=pulumi, Project=data-pipeline");
    expect(tree).toContain("name: organization/data-pipeline/dev");
  });

  it("passes config overrides to the planner, per stack", async () => {
    const calls: [string, unknown][] = [];
    const planner: Planner = (stack, options) => {
      calls.push([stack, options.config]);
      return Promise.resolve({ stack, project: "p", resources: [], calls: [], outputs: { stack } });
    };

    const result = await planStacks(["prod"], {
      planner,
      config: { prod: { "data-pipeline:lambdaMemoryMb": "1024" } },
    });

    expect(calls).toEqual([
      ["dev", undefined],
      ["staging", undefined],
      ["prod", { "data-pipeline:lambdaMemoryMb": "1024" }],
    ]);
    expect(Object.keys(result)).toEqual(["dev", "staging", "prod"]);
  });

  it("validates config overrides before planning anything", async () => {
    const planner = jest.fn<ReturnType<Planner>, Parameters<Planner>>();

    const problems = await problemsOf(
      planStacks(["dev"], {
        planner,
        config: { dev: { "data-pipeline:lifecycleDays": "0", "aws:region": undefined } },
      }),
    );

    expect(problems).toEqual([
      "Pulumi.dev.yaml: aws:region is not set",
      'Pulumi.dev.yaml: data-pipeline:lifecycleDays = "0" (min 1)',
    ]);
    expect(planner).not.toHaveBeenCalled();
  });

  it("lists an unknown stack with the known ones", async () => {
    const problems = await problemsOf(planStacks(["qa"]));

    expect(problems).toEqual([
      `Unknown stack "qa": no ${path.join(root, "Pulumi.qa.yaml")} (stacks: dev, prod, staging)`,
    ]);
  });

  it("lists every problem of every stack involved: invalid config, missing reference, secret, cycle", async () => {
    const dir = tempProject({
      prod: [
        "config:",
        "  aws:region: eu-west-1",
        "  data-pipeline:lambdaMemoryMb: 64",
        "  data-pipeline:logRetentionDays: 13",
        "  data-pipeline:colour: blue",
        "  data-pipeline:replicationTargets: [dev, qa, vault]",
      ].join("\n"),
      dev: "config:\n  aws:region: eu-west-1\n  data-pipeline:replicationTargets: [staging]\n",
      staging: "config:\n  aws:region: eu-west-1\n  data-pipeline:replicationTargets: [dev]\n",
      vault: "config:\n  aws:region: eu-west-1\n  data-pipeline:token:\n    secure: AAAA\n",
    });

    const problems = await problemsOf(planStacks(["prod"], { projectDir: dir }));

    expect(problems).toEqual([
      'Pulumi.prod.yaml: data-pipeline:colour = "blue" (unknown key; known: ' +
        `${Object.keys(configDefaults).join(", ")})`,
      'Pulumi.prod.yaml: data-pipeline:lambdaMemoryMb = "64" (min 128)',
      'Pulumi.prod.yaml: data-pipeline:logRetentionDays = "13" (must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)',
      "Stack reference cycle: prod -> dev -> staging -> dev",
      `Unknown stack "qa" (referenced by "prod"): no ${path.join(dir, "Pulumi.qa.yaml")} (stacks: dev, prod, staging, vault)`,
      `${path.join(dir, "Pulumi.vault.yaml")}: data-pipeline:token is a secret; offline runs cannot decrypt secrets`,
    ]);
  });

  it("ignores a replicationTargets value that is not a list of names (the program reports it)", async () => {
    const dir = tempProject({
      a: "config:\n  aws:region: eu-west-1\n  data-pipeline:environment: dev\n  data-pipeline:replicationTargets: '{oops'\n",
      b: "config:\n  aws:region: eu-west-1\n  data-pipeline:environment: dev\n  data-pipeline:replicationTargets: {x: 1}\n",
    });

    const [a, b] = await Promise.all([
      problemsOf(planStacks(["a"], { projectDir: dir })),
      problemsOf(planStacks(["b"], { projectDir: dir })),
    ]);

    expect(a).toEqual([
      'Pulumi.a.yaml: data-pipeline:replicationTargets = "{oops" (must be JSON (a YAML list or map in the stack file))',
    ]);
    expect(b).toEqual([
      'Pulumi.b.yaml: data-pipeline:replicationTargets = "{\\"x\\":1}" (must be a list of strings)',
    ]);
  });

  it("reports a program failure as a problem of that stack", async () => {
    const planner: Planner = () => Promise.reject(new Error("boom"));
    // A program may reject with something that is not an Error; its text is still reported.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const failing: Planner = () => Promise.reject("bang");

    expect(await problemsOf(planStacks(["dev"], { planner }))).toEqual([
      'Stack "dev" failed to plan: boom',
    ]);
    expect(await problemsOf(planStacks(["staging"], { planner: failing }))).toEqual([
      'Stack "staging" failed to plan: bang',
    ]);
  });
});

describe("rendering", () => {
  const stackUrn = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev";
  const componentUrn = "urn:pulumi:dev::p::c:index:C::pipeline";
  const node = (
    urn: string,
    type: string,
    name: string,
    parent: string | undefined,
    inputs: Record<string, unknown> = {},
  ): PlannedResource => ({
    urn,
    type,
    name,
    parent,
    dependsOn: [],
    custom: true,
    taggable: false,
    inputs,
    id: undefined,
    state: {},
  });
  const plan: StackPlan = {
    stack: "dev",
    project: "p",
    calls: [],
    resources: [
      node(stackUrn, "pulumi:pulumi:Stack", "p-dev", undefined),
      node(componentUrn, "c:index:C", "pipeline", stackUrn),
      node("urn:b", "aws:s3/bucket:Bucket", "pipeline-bucket", componentUrn, {
        bucket: "data-dev",
        tags: { Environment: "dev", Project: "p" },
        forceDestroy: false,
      }),
      node("urn:f", "aws:lambda/function:Function", "pipeline-fn", componentUrn, {
        runtime: "nodejs24.x",
        memorySize: 256,
      }),
      node("urn:orphan", "x:y:Z", "orphan", "urn:not-in-plan", { name: "o" }),
    ],
    outputs: { bucketName: "data-dev", count: 2 },
  };

  it("draws the tree with key inputs under each resource, then the outputs", () => {
    expect(renderTree(plan).split("\n")).toEqual([
      "Stack dev (project p): 5 resources",
      "pulumi:pulumi:Stack  p-dev",
      "└─ c:index:C  pipeline",
      "   ├─ aws:s3/bucket:Bucket  pipeline-bucket",
      "   │       bucket: data-dev",
      "   │       tags: Environment=dev, Project=p",
      "   └─ aws:lambda/function:Function  pipeline-fn",
      "           runtime: nodejs24.x",
      "           memorySize: 256",
      "x:y:Z  orphan",
      "     name: o",
      "Outputs:",
      "    bucketName: data-dev",
      "    count: 2",
    ]);
  });

  it("formats values: strings, tags, JSON, long values cut", () => {
    expect(formatValue("eventPattern", { source: ["aws.s3"] })).toBe('{"source":["aws.s3"]}');
    expect(formatValue("tags", ["not", "a", "map"])).toBe('["not","a","map"]');
    expect(formatValue("description", "d".repeat(200))).toBe(`${"d".repeat(159)}…`);
  });

  it("makes the JSON document: every resource with urn, type, name, parent, inputs", () => {
    const document = planDocument(plan);

    expect(Object.keys(document)).toEqual(["stack", "resources", "outputs"]);
    expect(document.resources[0]).toEqual({
      urn: stackUrn,
      type: "pulumi:pulumi:Stack",
      name: "p-dev",
      parent: null,
      inputs: {},
    });
    expect(document.resources[2]?.parent).toBe(componentUrn);
    expect(document.resources[2]?.inputs.forceDestroy).toBe(false);
    expect(document.outputs).toEqual(plan.outputs);
  });
});

describe("npm run plan (the real script)", () => {
  it("prints the tree and the JSON document, and exits 0", async () => {
    const [tree, json] = await Promise.all([
      runScript("plan", ["--stack", "dev"]),
      runScript("plan", ["--stack", "staging", "--json"]),
    ]);

    expect(tree.stdout).toMatch(/^Stack dev \(project data-pipeline\): \d+ resources$/m);
    expect(tree.stdout).toMatch(
      /aws:dynamodb\/table:Table {2}pipeline-table\n.*name: company-metadata-dev\n.*hashKey: pk/,
    );
    expect(tree.stdout).toMatch(/^Outputs:\n {4}environment: dev$/m);
    expect(tree.code).toBe(0);

    const document = JSON.parse(json.stdout) as PlanDocument;
    expect(Object.keys(document)).toEqual(["stack", "resources", "outputs"]);
    expect(document.stack).toBe("staging");
    for (const r of document.resources) {
      expect(Object.keys(r)).toEqual(["urn", "type", "name", "parent", "inputs"]);
    }
    const bucket = document.resources.find((r) => r.type === "aws:s3/bucket:Bucket");
    expect(bucket?.inputs.bucket).toBe(document.outputs.bucketName);
    expect(json.code).toBe(0);
  }, 60_000);
});

describe("planCommand (what npm run plan runs)", () => {
  const command = async (argv: string[]) => {
    const captured = captureIo();
    const planner = jest.fn<ReturnType<Planner>, Parameters<Planner>>();
    const code = await planCommand(argv, captured.io, planner);
    return { code, stdout: captured.stdout(), stderr: captured.stderr(), planner };
  };

  it("exits 1 naming every problem of the stack, before planning anything", async () => {
    const invalid = tempProject({
      dev: "config:\n  aws:region: mars-1\n  data-pipeline:lambdaTimeoutSeconds: 900\n",
    });
    const [unknown, bad] = await Promise.all([
      command(["--stack", "qa"]),
      command(["--stack", "dev", "--project-dir", invalid]),
    ]);

    expect(unknown.stderr).toContain('Cannot plan stack "qa":\n  - Unknown stack "qa"');
    expect(unknown.stdout).toBe("");
    expect(unknown.code).toBe(1);
    expect(bad.stderr).toContain('Cannot plan stack "dev":');
    expect(bad.stderr).toContain(
      '  - Pulumi.dev.yaml: aws:region = "mars-1" (not an AWS region name',
    );
    expect(bad.stderr).toContain(
      '  - Pulumi.dev.yaml: data-pipeline:lambdaTimeoutSeconds = "900" (max 300)',
    );
    expect(bad.code).toBe(1);
    expect(unknown.planner).not.toHaveBeenCalled();
    expect(bad.planner).not.toHaveBeenCalled();
  });

  it("exits 2 on bad arguments, listing every problem with the usage", async () => {
    const usage = await command(["--stak", "dev"]);

    expect(usage.stderr).toBe(
      'unknown option "--stak"; unexpected argument "dev"; --stack is required\n' +
        `${PLAN_USAGE}\n`,
    );
    expect(usage.code).toBe(2);
  });

  it("prints the plan its planner makes", async () => {
    const captured = captureIo();
    const code = await planCommand(["--stack", "dev", "--json"], captured.io, () =>
      Promise.resolve(sharedPlan("dev")),
    );

    expect(code).toBe(0);
    expect(JSON.parse(captured.stdout())).toEqual(planDocument(sharedPlan("dev")));
  });
});
