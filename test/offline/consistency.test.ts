/**
 * The consistency report: the pure parts (allow-list validation, glob, normalisation, flattening,
 * comparison, rendering) on small inputs, then the real offline plans of dev, staging and prod
 * (consistent on the committed configs) and three kinds of drift, each named by resource and
 * input. Two spawns of the real `npm run consistency` script prove its exit codes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AllowListError,
  checkDifferences,
  compareStacks,
  consistencyReport,
  flattenInputs,
  formatCell,
  globMatch,
  loadAllowList,
  normaliseGenerated,
  normalisePlan,
  normaliseString,
  parseAllowList,
  planEnvironment,
  renderReport,
  type AllowListEntry,
  type ConsistencyReport,
} from "../../tools/offline/consistency";
import type { PlannedResource, StackPlan } from "../../tools/offline";
import { CONSISTENCY_USAGE, consistencyCommand } from "../../tools/offline/commands";
import type { Planner } from "../../tools/offline/plan-report";
import { captureIo } from "../support/command-io";
import { runScript } from "../support/run-script";
import { planInJest } from "../support/pulumi-plan";
import { sharedPlan, sharedPlans } from "../support/shared-plans";

const root = path.resolve(__dirname, "..", "..");
const allowListFile = path.join(root, "consistency-allow-list.json");

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  stack = "dev",
): PlannedResource {
  return {
    urn: `urn:pulumi:${stack}::p::${type}::${name}`,
    type,
    name,
    parent: undefined,
    dependsOn: [],
    custom: true,
    taggable: false,
    inputs,
    id: undefined,
    state: {},
  };
}

function fakePlan(
  stack: string,
  resources: PlannedResource[],
  outputs: Record<string, unknown> = {},
): StackPlan {
  return { stack, project: "p", resources, calls: [], outputs };
}

describe("parseAllowList", () => {
  it("accepts entries of resource, input and reason", () => {
    const entries = parseAllowList({
      description: "free text",
      entries: [{ resource: "aws:x/y:Y::a-*", input: "@presence", reason: "because" }],
    });

    expect(entries).toEqual([
      { resource: "aws:x/y:Y::a-*", input: "@presence", reason: "because" },
    ]);
  });

  it("rejects a document without an entries list", () => {
    expect(() => parseAllowList([], "f.json")).toThrow(
      'Invalid allow-list f.json: must be an object with an "entries" list',
    );
  });

  it("names every bad entry and key at once, quoting the value", () => {
    const bad = {
      entries: [
        "text",
        { resource: "no-separator", input: "", reason: "r", extra: 1 },
        { resource: "a::b", input: "x" },
      ],
    };

    let thrown: unknown;
    try {
      parseAllowList(bad, "f.json");
    } catch (error: unknown) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(AllowListError);
    expect((thrown as AllowListError).problems).toEqual([
      'entries[0] = "text" (must be an object)',
      "entries[1].extra (unknown key; known: resource, input, reason)",
      'entries[1].input = "" (must be a non-empty string)',
      'entries[1].resource = "no-separator" (must be "<type>::<name>")',
      "entries[2].reason = undefined (must be a non-empty string)",
    ]);
  });

  it("loads the committed allow-list, every entry with a reason", () => {
    const entries = loadAllowList(allowListFile);

    expect(entries.length).toBeGreaterThan(5);
    expect(entries.every((e) => e.reason.length > 10)).toBe(true);
  });

  it("reports a file that is not JSON", () => {
    const file = path.join(os.tmpdir(), `allow-list-${process.pid}.json`);
    fs.writeFileSync(file, "{ not json");
    try {
      expect(() => loadAllowList(file)).toThrow(AllowListError);
      expect(() => loadAllowList(file)).toThrow(file);
    } finally {
      fs.rmSync(file);
    }
  });
});

describe("globMatch", () => {
  it.each([
    ["a::b", "a::b", true],
    ["a::*", "a::anything/at:all", true],
    ["policy.Statement[2].*", "policy.Statement[2].Sid", true],
    ["policy.Statement[2].*", "policy.Statement[3].Sid", false],
    ["tags.Owner", "tags.OwnerX", false],
    ["a.b", "aXb", false],
  ])("%s matches %s: %s", (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});

describe("normalisation", () => {
  it("replaces the environment where it stands as a word only", () => {
    expect(normaliseString("company-data-prod-eu-west-1", "prod")).toBe(
      "company-data-{env}-eu-west-1",
    );
    expect(normaliseString("urn:pulumi:dev::p::t::n", "dev")).toBe("urn:pulumi:{env}::p::t::n");
    expect(normaliseString("production devices prod2", "prod")).toBe("production devices prod2");
    expect(normaliseString("Encrypts the dev topics", "dev")).toBe("Encrypts the {env} topics");
  });

  it("replaces auto-name suffixes of known logical names and uuids", () => {
    const text =
      "arn:aws:sqs:r:1:pipeline-dlq-84895b9 pipeline-dlq-policy-1234567 other-1234567 " +
      "key/0a1b2c3d-0000-1111-2222-333344445555";

    expect(normaliseGenerated(text, ["pipeline-dlq-policy", "pipeline-dlq"])).toBe(
      "arn:aws:sqs:r:1:pipeline-dlq-{auto} pipeline-dlq-policy-{auto} other-1234567 key/{uuid}",
    );
  });

  it("flattens inputs into deep paths, parsing JSON documents", () => {
    const leaves = flattenInputs(
      {
        tags: { Environment: "dev" },
        policy: JSON.stringify({ Statement: [{ Resource: "arn:aws:s3:::b-dev" }] }),
        notJson: "{ nope",
        empty: [],
        none: {},
        code: { assets: { "index.mjs": { text: "x" } } },
        count: 3,
      },
      "dev",
    );

    expect(Object.fromEntries(leaves)).toEqual({
      "tags.Environment": "{env}",
      "policy.Statement[0].Resource": "arn:aws:s3:::b-{env}",
      notJson: "{ nope",
      empty: [],
      none: {},
      'code.assets["index.mjs"].text': "x",
      count: 3,
    });
  });

  it("takes the environment from the plan's output, else the stack name", () => {
    expect(planEnvironment(fakePlan("s", [], { environment: "qa" }))).toBe("qa");
    expect(planEnvironment(fakePlan("s", [], { environment: "" }))).toBe("s");
    expect(planEnvironment(fakePlan("s", []))).toBe("s");
  });

  it("normalises both the stack and the environment name when they differ", () => {
    const plan = fakePlan(
      "sandbox",
      [resource("t", "sandbox-thing", { name: "x-qa", dev: "urn:pulumi:sandbox::p" })],
      { environment: "qa" },
    );

    const normalised = normalisePlan(plan);

    const only = normalised.resources.get("t::{env}-thing");
    expect(only === undefined ? undefined : Object.fromEntries(only.inputs)).toEqual({
      name: "x-{env}",
      dev: "urn:pulumi:{env}::p",
    });
  });
});

describe("compareStacks and checkDifferences", () => {
  const dev = fakePlan("dev", [
    resource("b", "bucket", { bucket: "data-dev", tags: { Environment: "dev", Owner: "me" } }),
  ]);
  const prod = fakePlan("prod", [
    resource("b", "bucket", { bucket: "data-prod", tags: { Environment: "prod" } }),
    resource("f", "fn", { memorySize: 512 }),
  ]);

  it("finds resources some stacks lack and inputs that differ, nothing else", () => {
    const differences = compareStacks([normalisePlan(dev), normalisePlan(prod)]);

    expect(differences).toEqual([
      { resource: "b::bucket", input: "tags.Owner", values: { dev: "me", prod: undefined } },
      { resource: "f::fn", input: "@presence", values: { dev: false, prod: true } },
    ]);
  });

  it("allows what the allow-list names (first match), flags the rest and unused entries", () => {
    const entries: AllowListEntry[] = [
      { resource: "f::*", input: "@presence", reason: "prod only" },
      { resource: "f::fn", input: "@presence", reason: "shadowed" },
      { resource: "x::y", input: "z", reason: "stale" },
    ];

    const report = consistencyReport([dev, prod], entries);

    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => [f.resource, f.input, f.allowed, f.reason])).toEqual([
      ["b::bucket", "tags.Owner", false, undefined],
      ["f::fn", "@presence", true, "prod only"],
    ]);
    expect(report.unusedEntries.map((e) => e.reason)).toEqual(["shadowed", "stale"]);
  });

  it("renders every difference as a table row with its verdict and reason", () => {
    const report = consistencyReport(
      [dev, prod],
      [{ resource: "f::fn", input: "@presence", reason: "prod only" }],
    );

    const lines = renderReport(report).split("\n");

    expect(lines[0]).toMatch(/^\s+\| resource\s+\| input\s+\| dev\s+\| prod\s+\| reason$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^DRIFT\s+\| b::bucket\s+\| tags\.Owner\s+\| me\s+\| —\s+\| not on/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^allowed \| f::fn\s+\| @presence\s+\| —\s+\| present \| prod only$/),
    );
    expect(lines.at(-1)).toBe("dev, prod: 2 difference(s), 1 allowed, 1 not allowed — DRIFT");
  });

  it("renders a report without differences as one consistent line, noting stale entries", () => {
    const stale: AllowListEntry = { resource: "x::y", input: "z", reason: "gone" };

    const report: ConsistencyReport = checkDifferences(["a", "b"], [], [stale]);

    expect(renderReport(report).split("\n")).toEqual([
      "note: allow-list entry x::y z matched no difference",
      "a, b: 0 difference(s), 0 allowed, 0 not allowed — consistent",
    ]);
  });

  it("formats cells: absent, presence, strings, JSON, long values cut", () => {
    expect(formatCell(undefined, "x")).toBe("—");
    expect(formatCell(false, "@presence")).toBe("—");
    expect(formatCell(true, "@presence")).toBe("present");
    expect(formatCell("text", "x")).toBe("text");
    expect(formatCell({ a: 1 }, "x")).toBe('{"a":1}');
    expect(formatCell("y".repeat(100), "x")).toBe(`${"y".repeat(47)}…`);
  });
});

describe("the offline plans of dev, staging and prod", () => {
  let plans: Record<string, StackPlan>;
  let allowList: AllowListEntry[];

  beforeAll(() => {
    plans = { ...sharedPlans() };
    allowList = loadAllowList(allowListFile);
  });

  /** The plan of a stack (fails when it was not planned). */
  function planOf(stack: string): StackPlan {
    const plan = plans[stack];
    if (plan === undefined) throw new Error(`${stack} was not planned`);
    return plan;
  }

  const ordered = (overrides: Record<string, StackPlan> = {}): StackPlan[] =>
    ["dev", "staging", "prod"].map((s) => overrides[s] ?? planOf(s));

  /** A copy of `plan` with one resource's inputs changed. */
  function withInputs(
    plan: StackPlan,
    type: string,
    change: (inputs: Record<string, unknown>) => Record<string, unknown>,
  ): StackPlan {
    return {
      ...plan,
      resources: plan.resources.map((r) =>
        r.type === type ? { ...r, inputs: change(r.inputs) } : r,
      ),
    };
  }

  function drift(report: ConsistencyReport): [string, string][] {
    return report.findings.filter((f) => !f.allowed).map((f) => [f.resource, f.input]);
  }

  it("are consistent on the committed configs, every allow-list entry in use", () => {
    const report = consistencyReport(ordered(), allowList);

    expect(drift(report)).toEqual([]);
    expect(report.ok).toBe(true);
    // Entries about grants to another account match only in the cross-account layout
    // (test/offline/consistency-accounts.test.ts proves that they do there).
    expect(report.unusedEntries.filter((e) => !e.reason.startsWith("cross-account"))).toEqual([]);
    // Not vacuous: the replication plane and prod's table settings are real differences.
    expect(report.findings.length).toBeGreaterThan(10);
  });

  it("normalise the environment inside physical names (the compare is not vacuous)", () => {
    const dev = normalisePlan(planOf("dev"));
    const bucket = dev.resources.get("aws:s3/bucket:Bucket::pipeline-bucket");

    expect(bucket?.inputs.get("bucket")).toBe("company-data-{env}-{region}-{account}");
    expect(dev.resources.size).toBeGreaterThanOrEqual(15);
  });

  // A missing tag: through config (the `tags` key), the way an engineer would cause it: dev is
  // planned again with an extra tag that staging and prod lack.
  it("fails on a tag that some stacks lack, naming resource and input", async () => {
    const dev = await planInJest("dev", {
      config: { "data-pipeline:tags": JSON.stringify({ CostCentre: "1234" }) },
    });

    const report = consistencyReport(ordered({ dev }), allowList);

    expect(report.ok).toBe(false);
    expect(drift(report)).toContainEqual([
      "aws:s3/bucket:Bucket::pipeline-bucket",
      "tags.CostCentre",
    ]);
    expect(drift(report)).toContainEqual([
      "aws:dynamodb/table:Table::pipeline-table",
      "tags.CostCentre",
    ]);
    expect(drift(report).every(([, input]) => input === "tags.CostCentre")).toBe(true);
    expect(renderReport(report)).toMatch(
      /DRIFT\s+\| aws:s3\/bucket:Bucket::pipeline-bucket\s+\| tags\.CostCentre\s+\| 1234\s+\| —\s+\| —/,
    );
  });

  // A different table key and disabled versioning cannot come from config: the key schema and
  // versioning are fixed in lib/data-plane.ts. Such drift would come from a code change, so it is
  // injected at the comparison level, into a real plan with one input altered.
  it("fails on a different table key, naming resource and input", () => {
    const staging = withInputs(planOf("staging"), "aws:dynamodb/table:Table", (inputs) => ({
      ...inputs,
      hashKey: "id",
    }));

    const report = consistencyReport(ordered({ staging }), allowList);

    expect(drift(report)).toEqual([["aws:dynamodb/table:Table::pipeline-table", "hashKey"]]);
    expect(report.findings.find((f) => f.input === "hashKey")?.values).toEqual({
      dev: "pk",
      staging: "id",
      prod: "pk",
    });
  });

  it("fails on disabled versioning, naming resource and input", () => {
    const dev = withInputs(planOf("dev"), "aws:s3/bucketVersioning:BucketVersioning", (inputs) => ({
      ...inputs,
      versioningConfiguration: { status: "Suspended" },
    }));

    const report = consistencyReport(ordered({ dev }), allowList);

    expect(drift(report)).toEqual([
      [
        "aws:s3/bucketVersioning:BucketVersioning::pipeline-bucket-versioning",
        "versioningConfiguration.status",
      ],
    ]);
  });

  it("fails on a data-plane resource missing from one stack", () => {
    const staging: StackPlan = {
      ...planOf("staging"),
      resources: planOf("staging").resources.filter(
        (r) => r.type !== "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      ),
    };

    const report = consistencyReport(ordered({ staging }), allowList);

    expect(drift(report)).toEqual([
      [
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::pipeline-bucket-public-access",
        "@presence",
      ],
    ]);
  });
});

describe("npm run consistency (the real script)", () => {
  it("exits 0 on the committed configs, with the table", async () => {
    const committed = await runScript("consistency", []);

    expect(committed.stdout).toMatch(
      /dev, staging, prod: \d+ difference\(s\), (\d+) allowed, 0 not allowed — consistent/,
    );
    expect(committed.code).toBe(0);
  }, 60_000);
});

describe("consistencyCommand (what npm run consistency runs)", () => {
  const planner: Planner = (stack) => Promise.resolve(sharedPlan(stack));

  it("exits 1 on drift: a difference the allow-list does not name", async () => {
    const empty = path.join(os.tmpdir(), `empty-allow-list-${process.pid}.json`);
    fs.writeFileSync(empty, JSON.stringify({ entries: [] }));
    try {
      const captured = captureIo();
      const code = await consistencyCommand(["--allow-list", empty], captured.io, planner);

      expect(captured.stdout()).toMatch(
        /^DRIFT\s+\| aws:lambda\/function:Function::pipeline-replication\s+\| @presence/m,
      );
      expect(code).toBe(1);
    } finally {
      fs.rmSync(empty);
    }
  });

  it("exits 2 on bad arguments or an unreadable allow-list, planning nothing", async () => {
    const calls = jest.fn(planner);
    const bad = captureIo();
    const missing = captureIo();

    const codes = [
      await consistencyCommand(["--bogus", "x"], bad.io, calls),
      await consistencyCommand(
        ["--allow-list", path.join(os.tmpdir(), "no-such-list.json")],
        missing.io,
        calls,
      ),
    ];

    expect(codes).toEqual([2, 2]);
    expect(bad.stderr()).toBe(
      `unknown option "--bogus"; unexpected argument "x"\n${CONSISTENCY_USAGE}\n`,
    );
    expect(missing.stderr()).toContain("no-such-list.json");
    expect(calls).not.toHaveBeenCalled();
  });

  it("exits 1 listing every problem when the stacks cannot be planned", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "consistency-"));
    try {
      fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  aws:region: mars-1\n");
      fs.writeFileSync(path.join(dir, "consistency-allow-list.json"), '{ "entries": [] }');
      const captured = captureIo();

      const code = await consistencyCommand(["--project-dir", dir], captured.io, planner);

      expect(captured.stderr()).toMatch(
        /^Cannot plan the stacks:\n {2}- Pulumi\.dev\.yaml: aws:region = "mars-1"/,
      );
      expect(code).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
