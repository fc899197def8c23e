/**
 * The `npm run resync` entry (tools/cli/resync.ts) as an operator runs it, against the emulators
 * through the environment contract: exit codes 0 / 1 / 2, the --json document, the failure list,
 * and settings problems reported before anything changes.
 */
import { emulatorEnvironment } from "../../tools/emulators/emulators";
import {
  bucketState,
  putItem,
  putObject,
  itemOf,
  startWorld,
  type Environments,
  type World,
} from "../support/resync-world";
import { runScript } from "../support/run-script";

const resync = (args: string[], env: Record<string, string>) => runScript("resync", args, { env });

let world: World;
let envs: Environments;
beforeAll(async () => {
  world = await startWorld();
  envs = await world.environments();
  await putObject(world.s3, envs.source.bucket, "a.txt", "a");
  await putObject(world.s3, envs.source.bucket, "b c.txt", "b");
  await putObject(world.s3, envs.dev.bucket, "extra.txt", "x");
  await putItem(world.dynamodb, envs.source.table, itemOf("user#1", "profile"));
});
afterAll(async () => {
  await world.stop();
});

/** The environment contract of the emulated prod function, S3 through the fault proxy. */
const contract = (targets = envs.settings.targets): Record<string, string> => ({
  ...emulatorEnvironment({
    s3: { endpoint: world.s3Proxy.endpoint },
    dynamodb: world.emulators.dynamodb,
    sqs: world.emulators.sqs,
  }),
  REGION: "us-east-1",
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: envs.source.bucket,
  SOURCE_TABLE: envs.source.table,
  TARGETS: JSON.stringify(targets),
  DLQ_URL: "http://127.0.0.1:9/123456789012/unused",
  MAX_ATTEMPTS: "1",
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1",
});

describe("npm run resync", () => {
  it("exits 2 listing every bad argument, with the usage", async () => {
    const run = await resync(["--bogus", "--objects-only", "--items-only"], {});

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'unknown option "--bogus"; --objects-only and --items-only exclude each other',
    );
    expect(run.stderr).toContain("usage: npm run resync --");
  });

  it("prints the usage for --help and exits 0", async () => {
    const run = await resync(["--help"], {});

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--engine E +local \(default\)/);
  });

  it("exits 2 naming the missing environment, or the function whose configuration cannot be read", async () => {
    const missing = await resync([], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("SOURCE_BUCKET environment variable is not set");

    const unreadable = await resync(
      ["--function", "company-replication-prod", "--engine", "batch-operations"],
      {
        AWS_ENDPOINT_URL_LAMBDA: "http://127.0.0.1:9",
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_MAX_ATTEMPTS: "1",
      },
    );
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain(
      'cannot read the configuration of function "company-replication-prod"',
    );
  });

  it("exits 2 before changing anything when a bucket or table does not exist or a target is unknown", async () => {
    const run = await resync(["--targets", "dev,qa"], {
      ...contract([{ environment: "dev", bucket: "no-such-bucket", table: envs.dev.table }]),
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'cannot resync: unknown target "qa" (known: dev); bucket "no-such-bucket" (dev) does not exist',
    );
  });

  it("exits 1 listing each failure, and 0 with one JSON document once every target converged", async () => {
    world.s3Proxy.setDecider((request) =>
      request.method === "PUT" &&
      request.url.startsWith(`/${envs.staging.bucket}/a.txt`) &&
      request.headers["x-amz-copy-source"] !== undefined
        ? "s3-access-denied"
        : undefined,
    );
    const failing = await resync([], contract());
    world.s3Proxy.setDecider(() => undefined);

    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain(
      "  dev: objects: copied 2, deleted 0, unchanged 0, extra 1, failed 0",
    );
    expect(failing.stderr).toContain("  failed: staging object a.txt: AccessDenied: Access Denied");

    const json = await resync(["--json"], contract());
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      dryRun: false,
      targets: [
        {
          environment: "dev",
          objects: { copied: 0, deleted: 0, unchanged: 2, archived: 0, extra: 1, failed: 0 },
          items: { put: 0, deleted: 0, unchanged: 1, extra: 0, failed: 0 },
        },
        {
          environment: "staging",
          objects: { copied: 1, deleted: 0, unchanged: 1, archived: 0, extra: 0, failed: 0 },
          items: { put: 0, deleted: 0, unchanged: 1, extra: 0, failed: 0 },
        },
      ],
      failures: [],
      durationMs: expect.any(Number) as number,
    });
    // Not a terminal: no progress line.
    expect(json.stderr).not.toContain("resync:");
    expect(Object.keys(await bucketState(world.s3, envs.staging.bucket))).toEqual([
      "a.txt",
      "b c.txt",
    ]);
  });
});
