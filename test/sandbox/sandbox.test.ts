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
  it("replicates the scenario into dev and staging and exits 0 with the final table", async () => {
    // Act
    const { code, stdout, stderr } = await npmStart([]);

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const rows = Object.fromEntries(
      stdout
        .split("\n")
        .filter((line) => /^(prod|dev|staging)\s/.test(line))
        .map((line) => {
          const [environment, bucket, objects, items, , same] = line.split(/\s{2,}/);
          return [environment ?? "", { bucket, objects, items, same }] as const;
        }),
    );
    expect(rows).toEqual({
      prod: {
        bucket: "company-data-prod-eu-west-1-123456789012",
        objects: "5",
        items: "4",
        same: "(source)",
      },
      dev: {
        bucket: "company-data-dev-eu-west-1-123456789012",
        objects: "5",
        items: "4",
        same: "yes",
      },
      staging: {
        bucket: "company-data-staging-eu-west-1-123456789012",
        objects: "5",
        items: "4",
        same: "yes",
      },
    });
    expect(stdout).toContain("DLQ messages: 0");
    expect(stdout).toContain("Converged: every environment equals prod");
    expect(stdout).toMatch(
      /Transient faults injected into the function's S3 and DynamoDB requests: [1-9]/,
    );
    // Delivered as AWS delivers: duplicates, a tag change, a lifecycle expiration filtered out.
    expect(stdout).toMatch(/\(duplicate\) "configs\/.*" -> dev (skipped|absent)/);
    expect(stdout).toMatch(/"configs\/with space.json" -> dev tagged, staging tagged/);
    expect(stdout).toMatch(/\(1 events the rule filtered out so far\)/);
    expect(stdout).toMatch(/stream batch of \d+ records -> success/);
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
