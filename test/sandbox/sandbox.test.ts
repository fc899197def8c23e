/**
 * `npm start`: the sandbox runs the whole pipeline on the emulators, delivered as deployed and
 * masking dev (staging is an unmasked target), and exits 0 with a table showing dev equal to prod
 * masked and staging equal to prod, and prod's masked values beside dev's, which the test holds
 * against the masking oracle's; bad arguments exit 2 naming every problem. The pieces (argument
 * parsing, expectations, comparison and tables, the bundle on disk) are tested directly.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bundleReplication } from "../../lib/bundle";
import { ensureBundle } from "../../tools/common/bundle-file";
import { REDACTED } from "../../lib/replication/masking";
import { ITEM_MASKING_ATTRIBUTE, OBJECT_MASKING_METADATA } from "../../lib/replication/sequence";
import { parseSandboxArgs } from "../../tools/sandbox/args";
import { ABSENT, maskedValues, unmaskedValues } from "../../tools/sandbox/masked-values";
import { SANDBOX_MASKING_KEY, expectedState, sandboxMasking } from "../../tools/sandbox/masking";
import { scheduledFaults } from "../../tools/sandbox/run";
import {
  differences,
  renderTable,
  sortedJson,
  stateOf,
  type EnvironmentState,
  type ObjectSnapshot,
} from "../../tools/sandbox/state";
import { maskingOracle } from "../support/masking-oracle";

const root = path.join(__dirname, "..", "..");

const oracle = maskingOracle(Buffer.from(SANDBOX_MASKING_KEY, "utf8"));

/** The personal data the sandbox puts in prod (tools/sandbox/existing-data.ts, scenario.ts). */
const PERSONAL = [
  "Ada Lovelace",
  "ada.lovelace@example.com",
  "+44 20 7946 0958",
  "4111 1111 1111 1111",
  "Prefers email, ada@analytical.example, after 5pm",
  "Renewal questions: write to ada@analytical.example",
  "Grace Hopper",
  "grace.hopper@example.com",
  "exports.robot@example.com",
  "Alan Turing",
  "alan.turing@example.com",
  "a.turing@example.org",
  "+44 161 496 0321",
  "3782 822463 10005",
  "5500 0000 0000 0004",
];

/** What the oracle says `strategy` makes of `value` (as the table shows it). */
function masked(strategy: string, value: string): string {
  switch (strategy) {
    case "hash":
      return oracle.hashed(value);
    case "email":
      return oracle.emailed(value);
    case "redact":
      return REDACTED;
    case "drop":
      return ABSENT;
    default:
      throw new Error(`unknown strategy ${strategy}`);
  }
}

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
    expect(beforeLive).toMatch(
      /^Masking \(data-pipeline:masking of tools\/sandbox\/masking.ts\): dev masked, staging not;/m,
    );
    expect(before).toMatch(/^Before the resync, 19 differences from prod \(masked, for dev\):$/m);
    for (const problem of [
      'dev: object "history/legacy.yaml" differs',
      'dev: object "scratch/dev-only.txt" should not exist',
      'dev: object "history/Q4 report+final.txt" is missing',
      'dev: object "exports/customers.jsonl" is missing',
      'dev: item "legacy#app | config" differs',
      'dev: item "scratch#dev | tmp" should not exist',
      'dev: item "customer#1001 | profile" is missing',
      'staging: object "history/owners.json" is missing',
      'staging: item "history#owners | v1" is missing',
    ]) {
      expect(before).toContain(`  ${problem}\n`);
    }
    // dev's replica of history#owners is what masked replication writes of prod's.
    expect(before).not.toContain('dev: item "history#owners');
    // What the seed implies (tools/sandbox/existing-data.ts): prod's 5 objects have no copy in
    // dev that records their state (dev's legacy.yaml is an older one), so all 5 are copied in
    // both targets; dev's 1 extra object and 1 extra item are deleted; of prod's 4 items, dev
    // holds 1 replica as masking writes it (unchanged) and 1 older (put), staging none (4 put).
    expect(before).toMatch(
      /^ {4}dev: objects: copied 5, deleted 1, unchanged 0, extra 1, failed 0; items: put 3, deleted 1, unchanged 1, extra 1, failed 0$/m,
    );
    expect(before).toMatch(
      /^ {4}staging: objects: copied 5, deleted 0, unchanged 0, extra 0, failed 0; items: put 4, deleted 0, unchanged 0, extra 0, failed 0$/m,
    );
    expect(before).toMatch(/^After the resync: dev and staging equal prod \(masked, for dev\)$/m);
    // Nothing written before replication was switched on reaches the function: no S3 event
    // (the rule did not exist), no stream record (past the stream's retention).
    expect(live).not.toContain("history");
    expect(live).toMatch(/delivered: 8 async invocations .*, 1 stream batches\n/);
    expect(live).toContain("stream batch of 5 records -> success");
    const rows = Object.fromEntries(
      live
        .split("\n")
        .filter((line) => /^(prod|dev|staging)\s{2,}/.test(line))
        .map((line) => {
          const [environment, bucket, objects, items, , same] = line.split(/\s{2,}/);
          return [environment ?? "", { bucket, objects, items, same }] as const;
        }),
    );
    // The scenario's 6 objects and 5 items, and the 5 objects and 4 items that predate it.
    expect(rows).toEqual({
      prod: {
        bucket: "company-data-prod-eu-west-1-123456789012",
        objects: "11",
        items: "9",
        same: "(source)",
      },
      dev: {
        bucket: "company-data-dev-eu-west-1-123456789012",
        objects: "11",
        items: "9",
        same: "yes, masked",
      },
      staging: {
        bucket: "company-data-staging-eu-west-1-123456789012",
        objects: "11",
        items: "9",
        same: "yes",
      },
    });
    // Every value the rules mask in prod, beside dev's: what the oracle makes of prod's.
    const [, maskedPart = ""] = live.split(/^Masked in dev: .*\n/m);
    const [, , ...valueLines] = maskedPart.slice(0, maskedPart.indexOf("\ndev holds")).split("\n");
    const values = valueLines.map((line) => {
      const [where = "", strategy = "", prod = "", dev = ""] = line.split(/\s{2,}/);
      return { where, strategy, prod, dev };
    });
    expect(values.map((value) => value.prod).sort()).toEqual(
      [...PERSONAL, "Ada Lovelace", "ada.lovelace@example.com", "Alan Turing"].sort(),
    );
    for (const { strategy, prod, dev } of values) {
      expect({ prod, dev }).toEqual({ prod, dev: masked(strategy, prod) });
      expect(dev).not.toBe(prod);
      for (const raw of [...PERSONAL, "ada@analytical.example"]) expect(dev).not.toContain(raw);
    }
    expect(values.map(({ where, strategy }) => `${where} ${strategy}`)).toEqual(
      expect.arrayContaining([
        "item customer#1001 | profile: contact.phone hash",
        "item customer#1001 | profile: notes redact",
        "exports/customers.jsonl line 1: note drop",
        "exports/customers.jsonl metadata uploaded-by email",
        "customers/signups-2026-11.csv row 1: Email email",
        "item customer#1002 | profile: email email",
      ]),
    );
    // One person, one pseudonym: in the item, the export and the CSV alike.
    const devOf = (where: string) => values.find((value) => value.where === where)?.dev;
    expect(devOf("exports/customers.jsonl line 1: name")).toBe(
      devOf("item customer#1001 | profile: name"),
    );
    expect(devOf("customers/signups-2026-11.csv row 1: Name")).toBe(
      devOf("item customer#1002 | profile: name"),
    );
    // The sandbox searched all of dev (items, contents, metadata, tags) for prod's values.
    expect(live).toMatch(
      /^dev holds none of these 18 prod values as they are \(items, object contents, metadata, tags\)$/m,
    );
    expect(live).toMatch(
      /^Not masked \(unmaskedTargets\): staging, written as prod holds them\.$/m,
    );
    expect(live).toContain("DLQ messages: 0");
    expect(live).toContain(
      "Converged: every environment equals prod (dev masked by the rules, staging as it is)",
    );
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

describe("the sandbox's masking: expectations and masked values", () => {
  const where = (environment: string) => ({
    environment,
    bucket: `${environment}-bucket`,
    table: `${environment}-table`,
  });
  const masking = sandboxMasking(["dev", "staging"]);
  const customer = {
    pk: { S: "customer#1" },
    sk: { S: "profile" },
    name: { S: "Ada Lovelace" },
    contact: { M: { phone: { S: "+44 20 7946 0958" }, city: { S: "London" } } },
    plan: { S: "pro" },
  };
  const exportLine = '{"name":"Ada Lovelace","email":"Ada@Example.com","note":"call me","id":7}\n';
  const prod = stateOf(
    where("prod"),
    new Map<string, ObjectSnapshot>([
      [
        "exports/a.jsonl",
        {
          body: Buffer.from(exportLine),
          contentType: "application/x-ndjson",
          metadata: { "uploaded-by": "ops@example.com", source: "crm" },
          tags: {},
        },
      ],
      [
        "notes.txt",
        { body: Buffer.from("Ada"), contentType: "text/plain", metadata: {}, tags: {} },
      ],
    ]),
    [customer],
    undefined,
  );

  it("expects prod's state masked in dev, with the masking version, and as it is in staging", async () => {
    const dev = await expectedState(prod, where("dev"), masking);
    const staging = await expectedState(prod, where("staging"), masking);

    expect(staging).toMatchObject({ masked: false, state: { objects: prod.objects } });
    expect(staging.state.items).toEqual(prod.items);
    expect(dev.masked).toBe(true);
    expect(dev.state.itemValues.get("customer#1 | profile")).toEqual({
      ...customer,
      name: { S: oracle.hashed("Ada Lovelace") },
      contact: { M: { phone: { S: oracle.hashed("+44 20 7946 0958") }, city: { S: "London" } } },
      [ITEM_MASKING_ATTRIBUTE]: { S: masking.masker.version },
    });
    const exported = dev.state.objectSnapshots.get("exports/a.jsonl");
    expect(Buffer.from(exported?.body ?? new Uint8Array()).toString("utf8")).toBe(
      `${JSON.stringify({ name: oracle.hashed("Ada Lovelace"), email: oracle.emailed("ada@example.com"), id: 7 })}\n`,
    );
    expect(exported?.metadata).toEqual({
      "uploaded-by": oracle.emailed("ops@example.com"),
      source: "crm",
      [OBJECT_MASKING_METADATA]: masking.masker.version,
    });
    // Under no rule: the same contents, the version recorded.
    expect(dev.state.objectSnapshots.get("notes.txt")).toMatchObject({
      body: Buffer.from("Ada"),
      metadata: { [OBJECT_MASKING_METADATA]: masking.masker.version },
    });
  });

  it("lists each masked value beside the replica's, and finds one the replica holds as it is", async () => {
    const dev = (await expectedState(prod, where("dev"), masking)).state;

    const values = maskedValues(prod, dev, masking);
    expect(values).toEqual([
      {
        where: "item customer#1 | profile: name",
        strategy: "hash",
        source: "Ada Lovelace",
        replica: oracle.hashed("Ada Lovelace"),
      },
      {
        where: "item customer#1 | profile: contact.phone",
        strategy: "hash",
        source: "+44 20 7946 0958",
        replica: oracle.hashed("+44 20 7946 0958"),
      },
      {
        where: "exports/a.jsonl line 1: name",
        strategy: "hash",
        source: "Ada Lovelace",
        replica: oracle.hashed("Ada Lovelace"),
      },
      {
        where: "exports/a.jsonl line 1: email",
        strategy: "email",
        source: "Ada@Example.com",
        replica: oracle.emailed("ada@example.com"),
      },
      {
        where: "exports/a.jsonl line 1: note",
        strategy: "drop",
        source: "call me",
        replica: undefined,
      },
      {
        where: "exports/a.jsonl metadata uploaded-by",
        strategy: "email",
        source: "ops@example.com",
        replica: oracle.emailed("ops@example.com"),
      },
    ]);
    expect(unmaskedValues(values, dev)).toEqual([]);
    // A replica that kept a raw value anywhere (here: in an object no rule names) is caught.
    const leaky = stateOf(
      where("dev"),
      new Map([
        ...dev.objectSnapshots,
        [
          "copy.txt",
          {
            body: Buffer.from("to: ops@example.com"),
            contentType: undefined,
            metadata: {},
            tags: {},
          },
        ],
      ]),
      dev.itemValues.values(),
      undefined,
    );
    expect(unmaskedValues(values, leaky)).toEqual([
      "dev: holds prod's exports/a.jsonl metadata uploaded-by unmasked",
    ]);
    // Held against prod itself, every value is there as it is.
    expect(unmaskedValues(values, prod)).toHaveLength(values.length);
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
