/**
 * The resync command's pure parts: its options (every problem at once), its counts and the
 * progress line it draws on a terminal (and only there), and the summary lines.
 */
import type { ReplicationTarget } from "../../lib/replication/contract";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  bucketProblem,
  describeError,
  describeSummary,
  selectTargets,
  sourceAsTargetProblems,
} from "../../tools/ops/resync";
import { keyOf, keyText } from "../../tools/ops/resync-items";
import {
  DEFAULT_CONCURRENCY,
  ResyncUsageError,
  parseResyncArgs,
} from "../../tools/ops/resync-args";
import { ResyncTally, countOf, progressLine, showProgress } from "../../tools/ops/resync-progress";
import { settings } from "../support/settings";

const [dev] = settings.targets as [ReplicationTarget, ReplicationTarget];

describe("parseResyncArgs", () => {
  it("defaults to a full local resync of every target", () => {
    expect(parseResyncArgs([])).toEqual({
      functionName: undefined,
      targets: undefined,
      prefix: undefined,
      objects: true,
      items: true,
      dryRun: false,
      deleteExtra: false,
      concurrency: DEFAULT_CONCURRENCY,
      json: false,
      engine: "local",
      help: false,
    });
  });

  it("reads every option", () => {
    expect(
      parseResyncArgs([
        "--function",
        "company-replication-prod",
        "--targets",
        "dev, staging",
        "--prefix",
        "reports/",
        "--objects-only",
        "--dry-run",
        "--delete-extra",
        "--concurrency",
        "64",
        "--json",
      ]),
    ).toEqual({
      functionName: "company-replication-prod",
      targets: ["dev", "staging"],
      prefix: "reports/",
      objects: true,
      items: false,
      dryRun: true,
      deleteExtra: true,
      concurrency: 64,
      json: true,
      engine: "local",
      help: false,
    });
    expect(parseResyncArgs(["--items-only"])).toMatchObject({ objects: false, items: true });
    expect(parseResyncArgs(["--help"]).help).toBe(true);
  });

  it("takes the batch-operations engine for objects only, with a function", () => {
    expect(
      parseResyncArgs([
        "--engine",
        "batch-operations",
        "--function",
        "f",
        "--dry-run",
        "--prefix",
        "p/",
      ]),
    ).toMatchObject({
      engine: "batch-operations",
      objects: true,
      items: false,
      dryRun: true,
      prefix: "p/",
    });
  });

  it("lists every problem at once, with the usage", () => {
    const parse = () =>
      parseResyncArgs([
        "--bogus",
        "--targets",
        "dev,,dev",
        "--prefix=",
        "--objects-only",
        "--items-only",
        "--concurrency",
        "1.5",
        "--engine",
        "spark",
        "stray",
      ]);

    expect(parse).toThrow(ResyncUsageError);
    expect(parse).toThrow(
      'unknown option "--bogus"; unexpected argument "stray"; ' +
        '--targets must be comma-separated environment names: "dev,,dev"; ' +
        '--targets names "dev" twice; ' +
        "--prefix must not be empty (leave it out for every key); " +
        "--objects-only and --items-only exclude each other; " +
        '--concurrency must be an integer from 1 to 256: "1.5"; ' +
        '--engine must be one of local, batch-operations: "spark"\nusage: npm run resync',
    );
  });

  it("refuses what the batch-operations engine cannot do", () => {
    expect(() =>
      parseResyncArgs([
        "--engine",
        "batch-operations",
        "--items-only",
        "--delete-extra",
        "--concurrency",
        "4",
      ]),
    ).toThrow(
      "--engine batch-operations needs --function; " +
        "--engine batch-operations resyncs objects only: run --items-only with the local engine; " +
        "--engine batch-operations lists the source only, so it cannot find extra keys: run --delete-extra with the local engine; " +
        "--concurrency applies to the local engine (Batch Operations sets its own)",
    );
    expect(() => parseResyncArgs(["--concurrency", "0"])).toThrow(
      /--concurrency must be an integer/,
    );
    expect(() => parseResyncArgs(["--concurrency", "257"])).toThrow(
      /--concurrency must be an integer/,
    );
  });
});

describe("target selection and the source as a target", () => {
  it("selects the named targets, naming the unknown ones", () => {
    expect(selectTargets(settings, undefined).targets).toEqual(settings.targets);
    expect(selectTargets(settings, ["staging", "qa"])).toEqual({
      targets: [settings.targets[1]],
      problems: ['unknown target "qa" (known: dev, staging)'],
    });
  });

  it("compares tables within a region only (a table name is per region), buckets everywhere", () => {
    const sameNames: ReplicationTarget[] = [
      { environment: "dr", bucket: "prod-bucket", table: "prod-table", region: "eu-west-1" },
      { environment: "copy", bucket: "other", table: "prod-table" },
    ];
    expect(sourceAsTargetProblems(settings, sameNames, { objects: true, items: true })).toEqual([
      'target "dr" is the source: bucket "prod-bucket" is the source bucket',
      'target "copy" is the source: table "prod-table" is the source table',
    ]);
    expect(sourceAsTargetProblems(settings, sameNames, { objects: false, items: false })).toEqual(
      [],
    );
  });
});

describe("counts and progress", () => {
  const tally = () => new ResyncTally(["dev", "staging"], { objects: true, items: true }, false);

  it("counts each result where it belongs, failures with their key", () => {
    const counts = tally();
    counts.record("objects", "a", { ok: true, target: dev, action: "copied" });
    counts.record("objects", "b", { ok: true, target: dev, action: "skipped" });
    counts.record("objects", "c", { ok: true, target: dev, action: "absent" });
    counts.record("items", "k", { ok: true, target: dev, action: "put" });
    counts.record("items", "k", {
      ok: false,
      target: dev,
      error: { name: "AccessDenied", message: "no" },
      attempts: 1,
      retryable: false,
    });

    expect(counts.summary.targets[0]).toEqual({
      environment: "dev",
      objects: { copied: 1, deleted: 0, unchanged: 1, archived: 0, extra: 0, failed: 0 },
      items: { put: 1, deleted: 0, unchanged: 0, extra: 0, failed: 1 },
    });
    expect(counts.summary.failures).toEqual([
      { environment: "dev", kind: "item", key: "k", error: "AccessDenied: no" },
    ]);
    expect(() => {
      counts.add("qa", "objects", "copied");
    }).toThrow('no objects counts for target "qa"');
  });

  it("counts a written item as put and a written object as copied, whatever the action's name", () => {
    expect(
      ["copied", "put", "tagged", "deleted", "skipped", "absent"].map((a) =>
        countOf("items", a as "put"),
      ),
    ).toEqual(["put", "put", "put", "deleted", "unchanged", undefined]);
    expect(countOf("objects", "put")).toBe("copied");
  });

  it("shows counts, rate and, once the total is known, the time left", () => {
    const counts = tally();
    counts.done.objects = 300;
    counts.done.items = 50;
    counts.total.items = 150;
    counts.record("objects", "x", {
      ok: false,
      target: dev,
      error: { name: "E", message: "m" },
      attempts: 1,
      retryable: false,
    });

    expect(progressLine(counts, 10_000)).toBe(
      "resync: objects 300 (30/s), items 50/150 (5.0/s, ETA 20s), 1 failed",
    );
    counts.total.objects = 300_000;
    expect(progressLine(counts, 10_000)).toBe(
      "resync: objects 300/300,000 (30/s, ETA 2h46m), items 50/150 (5.0/s, ETA 20s), 1 failed",
    );
    counts.done.objects = 0;
    counts.total.objects = 9_000;
    counts.done.items = 150;
    expect(progressLine(counts, 0)).toBe(
      "resync: objects 0/9,000 (0.0/s), items 150/150 (0.0/s), 1 failed",
    );
    const dry = new ResyncTally(["dev"], { objects: false, items: true }, true);
    dry.done.items = 120;
    dry.total.items = 600;
    expect(progressLine(dry, 60_000)).toBe("resync (dry run): items 120/600 (2.0/s, ETA 4m00s)");
  });

  it("draws the line on a terminal only, and clears it when stopped", () => {
    const written: string[] = [];
    const terminal = { isTTY: true, write: (text: string) => written.push(text) > 0 };
    const pipe = { isTTY: false, write: (text: string) => written.push(text) > 0 };
    const counts = tally();

    showProgress(counts, pipe)();
    expect(written).toEqual([]);

    jest.useFakeTimers();
    try {
      let now = 0;
      const stop = showProgress(counts, terminal, () => now, 100);
      counts.done.objects = 10;
      now = 1000;
      jest.advanceTimersByTime(100);
      stop();
      jest.advanceTimersByTime(1000);
    } finally {
      jest.useRealTimers();
    }
    expect(written).toEqual([
      "\r\u001b[2Kresync: objects 0 (0.0/s), items 0 (0.0/s)",
      "\r\u001b[2Kresync: objects 10 (10/s), items 0 (0.0/s)",
      "\r\u001b[2K",
    ]);
  });
});

describe("errors and bucket checks", () => {
  it("describes whatever was thrown", () => {
    expect(describeError(new RangeError("too far"))).toBe("RangeError: too far");
    expect(describeError("a string")).toBe("Error: a string");
  });

  it("names a bucket that cannot be reached at all, without an HTTP status", async () => {
    const clients = {
      s3: () =>
        ({ send: () => Promise.reject(new Error("connect ECONNREFUSED")) }) as unknown as S3Client,
    };

    await expect(bucketProblem(clients, "eu-west-1", "b", "dev")).resolves.toBe(
      'bucket "b" (dev) cannot be read (Error: connect ECONNREFUSED)',
    );
  });
});

describe("item keys", () => {
  it("keep only the key attributes, and write binary ones as base64", () => {
    const item = { pk: { B: Uint8Array.from([1, 2, 255]) }, sk: { S: "x" }, other: { N: "1" } };

    expect(keyOf(item, ["pk", "sk", "missing"])).toEqual({ pk: item.pk, sk: item.sk });
    expect(keyText(keyOf(item, ["pk", "sk"]))).toBe('[["pk",{"B":"AQL/"}],["sk",{"S":"x"}]]');
  });
});

describe("the summary lines", () => {
  it("show one line per target with its counts, then each failure", () => {
    const lines = describeSummary(
      {
        dryRun: true,
        durationMs: 1234,
        targets: [
          {
            environment: "dev",
            objects: { copied: 1200, deleted: 0, unchanged: 3, archived: 0, extra: 1, failed: 1 },
          },
          {
            environment: "staging",
            items: { put: 2, deleted: 1, unchanged: 0, extra: 0, failed: 0 },
          },
        ],
        failures: [{ environment: "dev", kind: "object", key: "a b", error: "AccessDenied: no" }],
      },
      { bucket: "prod-bucket", table: "prod-table" },
    );

    expect(
      describeSummary(
        { dryRun: false, durationMs: 50, targets: [], failures: [] },
        { bucket: "p", table: "t" },
      ),
    ).toEqual(["resync of p / t in 0.1 s"]);
    expect(lines).toEqual([
      "resync (dry run: nothing changed) of prod-bucket / prod-table in 1.2 s",
      "  dev: objects: copied 1,200, deleted 0, unchanged 3, extra 1, failed 1",
      "  staging: items: put 2, deleted 1, unchanged 0, extra 0, failed 0",
      "  failed: dev object a b: AccessDenied: no",
    ]);
  });
});
