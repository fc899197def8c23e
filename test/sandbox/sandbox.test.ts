/**
 * `npm start`: the sandbox runs the whole pipeline on the emulators and exits 0 with a table
 * showing dev and staging equal to prod; bad arguments exit 2 naming every problem. The pieces
 * (argument parsing, delivery planning and retries, comparison and table) are tested directly.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { DynamoDBRecord } from "aws-lambda";
import { bundleReplication } from "../../lib/bundle";
import { ensureBundle, loadHandler } from "../../tools/common/bundle-file";
import { parseSandboxArgs } from "../../tools/sandbox/args";
import {
  ASYNC_RETRIES,
  STREAM_BATCH_SIZE,
  STREAM_MAX_DELIVERIES,
  deliver,
  planDeliveries,
  seededRandom,
  type Delivery,
} from "../../tools/sandbox/delivery";
import type { ScenarioEvent } from "../../tools/sandbox/scenario";
import { differences, renderTable, type EnvironmentState } from "../../tools/sandbox/state";
import { objectCreatedEvent, streamRecord, itemKeys } from "../../tools/emulators/events";

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
      /transient faults injected into the function's S3\/DynamoDB requests: [1-9]/,
    );
    expect(stdout).toContain("stale redeliveries");
  });

  it("exits 2 and names every bad argument", async () => {
    const { code, stdout, stderr } = await npmStart(["--seed", "x", "--nope", "--keep=1"]);

    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('--seed must be a non-negative integer: "x"');
    expect(stderr).toContain('unknown argument: "--nope"');
    expect(stderr).toContain('--keep takes no value: "--keep=1"');
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
      /--seed needs a value\n--keep given more than once\nunexpected argument "extra"/,
    );
    expect(() => parseSandboxArgs(["--seed"])).toThrow(/--seed needs a value/);
    expect(() => parseSandboxArgs(["--seed=-1"])).toThrow(/non-negative integer: "-1"/);
    expect(() => parseSandboxArgs(["--seed=x", "--fast"])).toThrow(
      /unknown option "--fast"\n--seed must be a non-negative integer: "x"/,
    );
  });
});

const objectEvent = (key: string, n: number): ScenarioEvent => ({
  source: "eventbridge",
  label: key,
  event: objectCreatedEvent({ bucket: "b", key, sequencer: n.toString(16).padStart(18, "0") }),
});

const itemEvent = (pk: string, n: number): ScenarioEvent => ({
  source: "dynamodb-stream",
  label: pk,
  record: streamRecord({
    table: "t",
    eventName: "INSERT",
    keys: itemKeys(pk, "s"),
    sequenceNumber: String(100 + n),
    eventID: `record-${pk}`,
  }),
});

function delivered(deliveries: readonly Delivery[]): string[] {
  return deliveries.flatMap((delivery) =>
    delivery.kind === "eventbridge"
      ? [delivery.event.label]
      : delivery.records.map((record) => record.label),
  );
}

describe("planDeliveries", () => {
  const events: ScenarioEvent[] = [
    ...["a", "b", "c", "d"].map((key, n) => objectEvent(key, n)),
    ...["p", "q", "r", "s", "t"].map((pk, n) => itemEvent(pk, n)),
  ];

  it("delivers every event and each duplicate, in batches, in a seed-determined shuffled order", () => {
    const first = planDeliveries(events, seededRandom(3), events.slice(0, 1));
    const again = planDeliveries(events, seededRandom(3), events.slice(0, 1));
    const other = planDeliveries(events, seededRandom(4), events.slice(0, 1));

    expect(delivered(first).sort()).toEqual(["a", "a", "b", "c", "d", "p", "q", "r", "s", "t"]);
    expect(delivered(again)).toEqual(delivered(first));
    expect(delivered(other)).not.toEqual(delivered(first));
    expect(delivered(first)).not.toEqual(delivered(planDeliveries(events, () => 0.999999)));
    for (const delivery of first) {
      if (delivery.kind === "stream")
        expect(delivery.records.length).toBeLessThanOrEqual(STREAM_BATCH_SIZE);
    }
  });
});

describe("deliver", () => {
  const lines: string[] = [];
  const print = (line: string): void => {
    lines.push(line);
  };
  beforeEach(() => {
    lines.length = 0;
  });

  it("retries a failed S3 invocation as Lambda does, then gives up", async () => {
    let calls = 0;
    const flaky = (failures: number) => (): Promise<unknown> => {
      calls += 1;
      if (calls <= failures) return Promise.reject(new Error(`boom ${calls}`));
      return Promise.resolve({ results: [{ environment: "dev", action: "copied" }] });
    };
    const delivery: Delivery = {
      kind: "eventbridge",
      event: objectEvent("k", 1) as Extract<ScenarioEvent, { source: "eventbridge" }>,
    };

    const recovered = await deliver(flaky(ASYNC_RETRIES), [delivery], print);
    expect(recovered).toEqual({
      invocations: ASYNC_RETRIES + 1,
      redeliveries: ASYNC_RETRIES,
      undelivered: [],
    });
    expect(lines.at(-1)).toBe("  [1/1] k -> dev copied");

    calls = 0;
    const lost = await deliver(flaky(ASYNC_RETRIES + 1), [delivery], print);
    expect(lost.undelivered).toEqual(["k"]);
    expect(lines.at(-1)).toMatch(/FAILED after 3 invocations: boom 3/);
  });

  it("delivers reported batch item failures again, up to a bound", async () => {
    const records = ["p", "q"].map((pk, n) => itemEvent(pk, n)) as (ScenarioEvent & {
      source: "dynamodb-stream";
    })[];
    const seen: string[][] = [];
    const failQ =
      (rounds: number) =>
      (event: unknown): Promise<unknown> => {
        const batch = (event as { Records: DynamoDBRecord[] }).Records;
        seen.push(batch.map((record) => record.eventID ?? ""));
        const failing = seen.length <= rounds ? ["record-q"] : [];
        return Promise.resolve({
          batchItemFailures: batch
            .filter((record) => failing.includes(record.eventID ?? ""))
            .map((record) => ({ itemIdentifier: record.eventID })),
        });
      };

    const report = await deliver(failQ(1), [{ kind: "stream", records }], print);
    expect(seen).toEqual([["record-p", "record-q"], ["record-q"]]);
    expect(report).toEqual({ invocations: 2, redeliveries: 1, undelivered: [] });

    seen.length = 0;
    const stuck = await deliver(failQ(99), [{ kind: "stream", records }], print);
    expect(seen).toHaveLength(STREAM_MAX_DELIVERIES);
    expect(stuck.undelivered).toEqual(["q"]);
  });

  it("refuses a stream result without batchItemFailures", async () => {
    const records = [itemEvent("p", 1)] as (ScenarioEvent & { source: "dynamodb-stream" })[];
    await expect(
      deliver(() => Promise.resolve({}), [{ kind: "stream", records }], print),
    ).rejects.toThrow(/returned no batchItemFailures/);
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

describe("ensureBundle and loadHandler", () => {
  it("builds a missing bundle, rebuilds a stale one, leaves a current one alone", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sandbox-bundle-")), "dist", "index.js");

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

  it("loads a fresh handler with the given environment and restores the previous one", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sandbox-handler-"));
    const file = path.join(dir, "index.js");
    writeFileSync(file, "exports.handler = async () => process.env.SANDBOX_PROBE;");
    process.env.SANDBOX_PROBE = "before";

    const { handler, restore } = loadHandler({ SANDBOX_PROBE: "during" }, file);
    expect(process.env.SANDBOX_PROBE).toBe("during");
    restore();

    expect(process.env.SANDBOX_PROBE).toBe("before");
    expect(typeof handler).toBe("function");
    writeFileSync(path.join(dir, "none.js"), "exports.other = 1;");
    expect(() => loadHandler({}, path.join(dir, "none.js"))).toThrow(/exports no handler function/);
    Reflect.deleteProperty(process.env, "SANDBOX_PROBE");
  });
});
