/**
 * `npm start`: the sandbox runs the whole pipeline on the emulators, delivered as deployed, and
 * exits 0 with a table showing dev and staging equal to prod; bad arguments exit 2 naming every
 * problem. The pieces (argument parsing, comparison and table, the bundle on disk) are tested
 * directly.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundleReplication } from "../../lib/bundle";
import { ensureBundle } from "../../tools/common/bundle-file";
import { parseSandboxArgs } from "../../tools/sandbox/args";
import { scheduledFaults } from "../../tools/sandbox/run";
import {
  differences,
  renderTable,
  sortedJson,
  type EnvironmentState,
} from "../../tools/sandbox/state";

const root = path.join(__dirname, "..", "..");

function npmStart(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["start", "--silent", ...(args.length > 0 ? ["--", ...args] : [])],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("npm start", () => {
  it("resyncs the data that predates replication, replicates the scenario, and exits 0 with the final table", async () => {
    // Act
    const { code, stdout, stderr } = await npmStart([]);

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const [beforeLive = "", live = ""] = stdout.split(/^Phase 1: /m);
    // Before the resync: dev holds stale copies and keys only it has, staging nothing.
    const before = beforeLive.slice(beforeLive.indexOf("Before the resync"));
    expect(before).toMatch(/^Before the resync, 15 differences from prod:$/m);
    for (const problem of [
      'dev: object "history/legacy.yaml" differs',
      'dev: object "scratch/dev-only.txt" should not exist',
      'dev: object "history/Q4 report+final.txt" is missing',
      'dev: item "legacy#app | config" differs',
      'dev: item "scratch#dev | tmp" should not exist',
      'staging: object "history/owners.json" is missing',
      'staging: item "history#owners | v1" is missing',
    ]) {
      expect(before).toContain(`  ${problem}\n`);
    }
    // dev's copy of history#owners equals prod's.
    expect(before).not.toContain('dev: item "history#owners');
    // What the seed implies (tools/sandbox/existing-data.ts): prod's 4 objects have no copy in
    // dev that records their state (dev's legacy.yaml is an older one), so all 4 are copied in
    // both targets; dev's 1 extra object and 1 extra item are deleted; of prod's 3 items, dev
    // holds 1 equal (unchanged) and 1 older (put), staging none (3 put).
    expect(before).toMatch(
      /^ {4}dev: objects: copied 4, deleted 1, unchanged 0, extra 1, failed 0; items: put 2, deleted 1, unchanged 1, extra 1, failed 0$/m,
    );
    expect(before).toMatch(
      /^ {4}staging: objects: copied 4, deleted 0, unchanged 0, extra 0, failed 0; items: put 3, deleted 0, unchanged 0, extra 0, failed 0$/m,
    );
    expect(before).toMatch(/^After the resync: dev and staging equal prod$/m);
    // Nothing written before replication was switched on reaches the function: no S3 event
    // (the rule did not exist), no stream record (past the stream's retention).
    expect(live).not.toContain("history");
    expect(live).toMatch(/delivered: 6 async invocations .*, 1 stream batches\n/);
    expect(live).toContain("stream batch of 4 records -> success");
    const rows = Object.fromEntries(
      live
        .split("\n")
        .filter((line) => /^(prod|dev|staging)\s/.test(line))
        .map((line) => {
          const [environment, bucket, objects, items, , same] = line.split(/\s{2,}/);
          return [environment ?? "", { bucket, objects, items, same }] as const;
        }),
    );
    // The scenario's 5 objects and 4 items, and the 4 objects and 3 items that predate it.
    expect(rows).toEqual({
      prod: {
        bucket: "company-data-prod-eu-west-1-123456789012",
        objects: "9",
        items: "7",
        same: "(source)",
      },
      dev: {
        bucket: "company-data-dev-eu-west-1-123456789012",
        objects: "9",
        items: "7",
        same: "yes",
      },
      staging: {
        bucket: "company-data-staging-eu-west-1-123456789012",
        objects: "9",
        items: "7",
        same: "yes",
      },
    });
    expect(live).toContain("DLQ messages: 0");
    expect(live).toContain("Converged: every environment equals prod");
    expect(live).toMatch(
      /Transient faults injected into the function's S3 and DynamoDB requests: [1-9]/,
    );
    // Delivered as AWS delivers: duplicates, a tag change, a lifecycle expiration filtered out.
    expect(live).toMatch(/\(duplicate\) "configs\/.*" -> dev (skipped|absent)/);
    expect(live).toMatch(/"configs\/with space.json" -> dev tagged, staging tagged/);
    expect(live).toMatch(/\(1 events the rule filtered out so far\)/);
    expect(live).toMatch(/stream batch of \d+ records -> success/);
  });

  it("exits 2 and names every bad argument", async () => {
    const { code, stdout, stderr } = await npmStart(["--seed", "x", "--nope", "--keep=1"]);

    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('--seed must be a non-negative integer: "x"');
    expect(stderr).toContain('unknown option "--nope"');
    expect(stderr).toContain('--keep takes no value: "1"');
    expect(stderr).toContain("Usage: npm start");
  });
});

describe("parseSandboxArgs", () => {
  it("defaults, --keep and --seed in both forms", () => {
    expect(parseSandboxArgs([])).toEqual({ keep: false, seed: 1 });
    expect(parseSandboxArgs(["--keep", "--seed", "7"])).toEqual({ keep: true, seed: 7 });
    expect(parseSandboxArgs(["--seed=0"])).toEqual({ keep: false, seed: 0 });
  });

  it("rejects a missing seed, repeats and strays, all at once", () => {
    expect(() => parseSandboxArgs(["--seed", "--keep", "--keep", "extra"])).toThrow(
      /--seed needs a value, not the option "--keep"\nunexpected argument "extra"/,
    );
    expect(() => parseSandboxArgs(["--seed"])).toThrow(/--seed needs a value/);
    expect(() => parseSandboxArgs(["--keep", "--keep"])).toThrow(/--keep given more than once/);
    expect(() => parseSandboxArgs(["--seed=-1"])).toThrow(/non-negative integer: "-1"/);
    expect(() => parseSandboxArgs(["--seed=x", "--fast"])).toThrow(
      /unknown option "--fast"\n--seed must be a non-negative integer: "x"/,
    );
  });
});

describe("differences and renderTable", () => {
  const state = (
    environment: string,
    objects: Record<string, string>,
    items: Record<string, string>,
  ): EnvironmentState => ({
    environment,
    bucket: `${environment}-bucket`,
    table: `${environment}-table`,
    objects: new Map(Object.entries(objects)),
    items: new Map(Object.entries(items)),
    objectSnapshots: new Map(),
    itemValues: new Map(),
    lastChange: new Date("2026-11-28T12:00:00Z"),
  });

  it("finds missing, differing and extra keys, and the table says which environment differs", () => {
    const prod = state("prod", { a: "1", b: "2" }, { "p | s": "x" });
    const dev = state("dev", { a: "1", b: "2" }, { "p | s": "x" });
    const staging = state("staging", { a: "9", c: "3" }, {});

    expect(differences(prod, dev)).toEqual([]);
    expect(differences(prod, staging)).toEqual([
      'staging: object "a" differs',
      'staging: object "b" is missing',
      'staging: object "c" should not exist',
      'staging: item "p | s" is missing',
    ]);
    const table = renderTable([prod, dev, staging], "prod").split("\n");
    expect(table[0]).toMatch(
      /^environment\s+bucket\s+objects\s+items\s+last change\s+equal to prod$/,
    );
    expect(table[2]).toMatch(
      /^prod\s+prod-bucket\s+2\s+1\s+2026-11-28T12:00:00.000Z\s+\(source\)$/,
    );
    expect(table[3]).toMatch(/^dev\s+.*\s+yes$/);
    expect(table[4]).toMatch(/^staging\s+staging-bucket\s+2\s+0\s+.*\s+NO$/);
  });

  it("compares a target with its expectation when it has one: prod's state masked", () => {
    const prod = state("prod", { a: "1" }, { "p | s": "x" });
    const dev = state("dev", { a: "masked" }, { "p | s": "x" });
    const staging = state("staging", { a: "1" }, { "p | s": "x" });
    const expected = new Map([["dev", { state: dev, masked: true }]]);

    const table = renderTable([prod, dev, staging], "prod", expected).split("\n");
    expect(table[3]).toMatch(/^dev\s+.*\s+yes, masked$/);
    expect(table[4]).toMatch(/^staging\s+.*\s+yes$/);
    // Held against prod's raw state, the masked dev differs.
    expect(renderTable([prod, dev], "prod").split("\n")[3]).toMatch(/^dev\s+.*\s+NO$/);
  });
});

describe("sortedJson", () => {
  it("orders keys at every depth, so equal values give equal text and different ones do not", () => {
    expect(sortedJson({ b: { y: 1, x: [{ d: 1, c: 2 }] }, a: "1" })).toBe(
      '{"a":"1","b":{"x":[{"c":2,"d":1}],"y":1}}',
    );
    expect(sortedJson({ a: { S: "x" } })).not.toBe(sortedJson({ a: { S: "y" } }));
  });
});

describe("scheduledFaults", () => {
  it("injects the scheduled fault into the n-th request only", () => {
    const decide = scheduledFaults({ 2: "s3-slow-down" });
    const request = { method: "GET", url: "/", headers: {}, body: "" };

    expect([decide(request), decide(request), decide(request)]).toEqual([
      undefined,
      "s3-slow-down",
      undefined,
    ]);
  });
});

describe("ensureBundle", () => {
  it("builds a missing bundle, rebuilds a stale one, leaves a current one alone", () => {
    const file = path.join(
      mkdtempSync(path.join(tmpdir(), "sandbox-bundle-")),
      "dist",
      "index.mjs",
    );

    expect(ensureBundle(file).status).toBe("built");
    const built = readFileSync(file, "utf8");
    // The bytes `npm run build` writes are the bytes the program deploys.
    expect(built).toBe(bundleReplication());
    expect(ensureBundle(file).status).toBe("up to date");
    writeFileSync(file, "stale");
    expect(ensureBundle(file)).toMatchObject({
      status: "rebuilt",
      bytes: Buffer.byteLength(built),
    });
    expect(readFileSync(file, "utf8")).toBe(built);
  });
});
