/**
 * Objects, end to end on the emulators: writes to the source bucket become S3 events, the rule
 * (the program's pattern) invokes the built bundle in the Lambda host, and the targets converge.
 * Redeliveries are invoked directly, as Lambda's at-least-once delivery may.
 */
import { PutObjectTaggingCommand } from "@aws-sdk/client-s3";
import { functionRuntimeEnvironment, lambdaRuntime, runtimeNodeMajor } from "../../lib/bundle";
import { OBJECT_SEQUENCE_METADATA, OBJECT_SOURCE_METADATA } from "../../lib/replication/sequence";
import { IPV6_CLIENT } from "../../tools/emulators/events";
import type { S3Event } from "../../tools/emulators/s3-event-source";
import {
  SOURCE,
  TARGETS,
  counting,
  deleteSourceObject,
  expectTargetsEqualSource,
  isCopy,
  listQueue,
  objectExists,
  objectTags,
  putSourceObject,
  readObject,
  startHarness,
  type Harness,
} from "../support/replication-harness";

let harness: Harness;
const copies = counting(isCopy);
/** The User-Agent of every S3 request the function sent. */
const userAgents = new Set<string>();

beforeAll(async () => {
  harness = await startHarness({
    faults: {
      s3: (request) => {
        userAgents.add(String(request.headers["user-agent"]));
        return copies.decider(request);
      },
    },
    sourceIp: IPV6_CLIENT,
  });
});
afterAll(async () => {
  await harness.stop();
});

const events = (): S3Event[] => harness.pipeline.s3Events?.events() ?? [];
const lastEventOf = (key: string): S3Event => {
  const found = events()
    .filter((event) => event.detail.object.key === key)
    .at(-1);
  if (found === undefined) throw new Error(`no event for ${key}`);
  return found;
};
const dev = () => harness.clientsOf("dev").s3;
const sequencerOf = (event: S3Event): string | undefined =>
  "sequencer" in event.detail.object ? event.detail.object.sequencer : undefined;

describe("objects", () => {
  it("runs the bundle with the variables the program gives the function beyond the contract", () => {
    expect(harness.environment).toMatchObject(functionRuntimeEnvironment);
  });

  it("copies a new object into every target with what S3 Replication carries", async () => {
    await putSourceObject(harness, "reports/q1.csv", "a,b\n1,2\n", {
      ContentType: "text/csv",
      Metadata: { owner: "ada" },
      CacheControl: "max-age=60",
      Expires: new Date("2030-01-01T00:00:00Z"),
      WebsiteRedirectLocation: "/reports/latest.csv",
      StorageClass: "STANDARD_IA",
      Tagging: "team=data&tier=gold",
    });

    const { async } = await harness.settle();

    expect(async.invocations.every((invocation) => invocation.ok)).toBe(true);
    for (const target of TARGETS) {
      const s3 = harness.clientsOf(target.environment).s3;
      const replica = await readObject(s3, target.bucket, "reports/q1.csv");
      expect(replica).toMatchObject({ body: "a,b\n1,2\n", contentType: "text/csv" });
      expect(replica?.metadata).toMatchObject({
        owner: "ada",
        [OBJECT_SEQUENCE_METADATA]: sequencerOf(lastEventOf("reports/q1.csv")),
      });
      expect(replica?.metadata[OBJECT_SOURCE_METADATA]).toMatch(/^[\w-]{22}$/);
      expect(await objectTags(s3, target.bucket, "reports/q1.csv")).toEqual([
        "team=data",
        "tier=gold",
      ]);
    }
  });

  it("ran the bundle on the Node.js of the function's runtime, as its SDK's user agent says", () => {
    // The AWS SDK names the Node.js it runs on in every request: `md/nodejs#<version>`.
    const major = runtimeNodeMajor(lambdaRuntime);

    expect(userAgents.size).toBeGreaterThan(0);
    for (const agent of userAgents) {
      expect(agent).toMatch(new RegExp(` md/nodejs#${major}\\.\\d+\\.\\d+ `));
    }
  });

  it("replicates events from a client on S3's dual-stack (IPv6) endpoint", () => {
    expect(lastEventOf("reports/q1.csv").detail["source-ip-address"]).toBe(IPV6_CLIENT);
  });

  it.each([
    "with space.txt",
    "plus+sign.txt",
    "percent%20literal.txt",
    "ünïcødé/日本語/ファイル.txt",
    "special &=,:@$;?#.txt",
  ])("replicates the key %p exactly", async (key) => {
    await putSourceObject(harness, `keys/${key}`, key);
    await harness.settle();
    expect(await readObject(dev(), "dev-bucket", `keys/${key}`)).toMatchObject({ body: key });

    await deleteSourceObject(harness, `keys/${key}`);
    await harness.settle();
    expect(await objectExists(dev(), "dev-bucket", `keys/${key}`)).toBe(false);
  });

  it("replicates a tag-only change", async () => {
    await putSourceObject(harness, "tags/t.txt", "t", { Tagging: "a=1" });
    await harness.settle();
    await harness.source.s3.send(
      new PutObjectTaggingCommand({
        Bucket: SOURCE.bucket,
        Key: "tags/t.txt",
        Tagging: {
          TagSet: [
            { Key: "a", Value: "2" },
            { Key: "b", Value: "3" },
          ],
        },
      }),
    );

    await harness.settle();

    expect(lastEventOf("tags/t.txt")["detail-type"]).toBe("Object Tags Added");
    expect(await objectTags(dev(), "dev-bucket", "tags/t.txt")).toEqual(["a=2", "b=3"]);
  });

  it("ignores a redelivered or stale event: a HEAD per target, no copy", async () => {
    await putSourceObject(harness, "stale/k.txt", "v1");
    await harness.settle();
    const first = lastEventOf("stale/k.txt");
    await putSourceObject(harness, "stale/k.txt", "v2");
    await harness.settle();
    const before = copies.count();

    const stale = await harness.host.invoke(first);
    const again = await harness.host.invoke(lastEventOf("stale/k.txt"));

    expect([stale.ok && stale.value, again.ok && again.value]).toEqual([
      expect.objectContaining({
        status: "replicated",
        results: [
          { environment: "dev", action: "skipped" },
          { environment: "staging", action: "skipped" },
        ],
      }),
      expect.objectContaining({ status: "replicated" }),
    ]);
    expect(copies.count()).toBe(before);
    expect(await readObject(dev(), "dev-bucket", "stale/k.txt")).toMatchObject({ body: "v2" });
  });

  it("does not let a stale create undo a delete", async () => {
    await putSourceObject(harness, "gone/k.txt", "v1");
    await harness.settle();
    const create = lastEventOf("gone/k.txt");
    await deleteSourceObject(harness, "gone/k.txt");
    await harness.settle();

    await harness.host.invoke(create);

    expect(await objectExists(dev(), "dev-bucket", "gone/k.txt")).toBe(false);
  });

  it("filters lifecycle expirations out in the rule, and one delivered anyway costs no copy", async () => {
    await putSourceObject(harness, "old/k.txt", "v1");
    await putSourceObject(harness, "old/k.txt", "v2");
    await harness.settle();
    const invocations = harness.rule.report().invocations.length;
    const before = copies.count();

    const expiration = await harness.pipeline.s3Events?.lifecycleExpiration("old/k.txt", {
      version: "noncurrent",
    });
    await harness.settle();

    expect(expiration?.detail).toMatchObject({ reason: "Lifecycle Expiration" });
    expect(harness.rule.report().invocations.length).toBe(invocations);
    const delivered = await harness.host.invoke(expiration);
    expect(delivered.ok && delivered.value).toMatchObject({
      results: [
        { environment: "dev", action: "skipped" },
        { environment: "staging", action: "skipped" },
      ],
    });
    expect(copies.count()).toBe(before);
  });

  it("dead-letters a source whose metadata leaves no room for the markers, once per target", async () => {
    await putSourceObject(harness, "crowded.txt", "x", { Metadata: { notes: "n".repeat(2000) } });

    await harness.settle();

    const letters = (await listQueue(harness.source.sqs, harness.dlqUrl))
      .map(
        (message) =>
          message.body as { reason?: string; target?: { environment: string }; event?: S3Event },
      )
      .filter((letter) => letter.event?.detail.object.key === "crowded.txt");
    expect(letters.map((letter) => [letter.reason, letter.target?.environment]).sort()).toEqual([
      ["metadata-too-large", "dev"],
      ["metadata-too-large", "staging"],
    ]);
    expect(await objectExists(dev(), "dev-bucket", "crowded.txt")).toBe(false);
  });

  it("ends with every target equal to the source, apart from what was dead-lettered", async () => {
    await deleteSourceObject(harness, "crowded.txt");
    await harness.settle();
    await expectTargetsEqualSource(harness);
  });
});
