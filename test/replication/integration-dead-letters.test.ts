/**
 * Every shape the DLQ receives, produced the way AWS produces it in the deployed pipeline, and
 * replayed by redrive: the function's own dead letter, an EventBridge target dead letter, an
 * asynchronous invocation record (a timed-out invocation after Lambda's retries), a stream batch
 * record (a batch out of retries, read back from the stream), a batch past the stream's
 * retention (kept, naming resync).
 */
import { itemKeys } from "../../tools/emulators/events";
import type { Fault, ProxiedRequest } from "../../tools/emulators/fault-proxy";
import {
  TARGETS,
  bucketContents,
  drainQueue,
  listQueue,
  objectExists,
  putSourceItem,
  putSourceObject,
  redrive,
  startHarness,
  tableContents,
  type Harness,
  type QueuedMessage,
} from "../support/replication-harness";

let harness: Harness;
/** What to inject into the function's S3 / DynamoDB requests, set by each test. */
let s3Fault: ((request: ProxiedRequest) => Fault | undefined) | undefined;
let dynamodbFault: ((request: ProxiedRequest) => Fault | undefined) | undefined;

beforeAll(async () => {
  harness = await startHarness({
    // Short, so that a hung request times the invocation out quickly; copies of a few MB fit.
    timeoutSeconds: 2,
    faults: {
      s3: (request) => s3Fault?.(request),
      dynamodb: (request) => dynamodbFault?.(request),
    },
  });
});
afterEach(async () => {
  s3Fault = undefined;
  dynamodbFault = undefined;
  await drainQueue(harness.source.sqs, harness.dlqUrl);
});
afterAll(async () => {
  await harness.stop();
});

const dlq = (): Promise<QueuedMessage[]> => listQueue(harness.source.sqs, harness.dlqUrl);
const onStaging = (key: string) => (request: ProxiedRequest) =>
  request.url.startsWith("/staging-bucket/") && decodeURIComponent(request.url).includes(key);
const dev = () => harness.clientsOf("dev").s3;
const staging = () => harness.clientsOf("staging").s3;

it("replays the function's own dead letter to the one target that failed", async () => {
  s3Fault = (request) =>
    onStaging("own.txt")(request) && request.method === "PUT" ? "s3-access-denied" : undefined;
  await putSourceObject(harness, "own.txt", "v1");
  await harness.settle();
  const letters = await dlq();
  expect(letters.map((m) => m.body)).toEqual([
    expect.objectContaining({ reason: "target-failed", source: "eventbridge", target: TARGETS[1] }),
  ]);
  s3Fault = undefined;

  const summary = await redrive(harness);

  expect(summary).toMatchObject({
    received: 1,
    replayed: 1,
    failed: 0,
    shapes: { replication: 1 },
  });
  expect(await objectExists(staging(), "staging-bucket", "own.txt")).toBe(true);
});

it("replays an event EventBridge could not deliver (no invoke permission): the event, with ERROR_* attributes", async () => {
  harness.rule.setCanInvoke(false);
  await putSourceObject(harness, "undelivered.txt", "u");
  await harness.settle();
  harness.rule.setCanInvoke(true);
  const [letter] = await dlq();
  expect(letter?.attributes).toMatchObject({ ERROR_CODE: "NO_PERMISSIONS" });
  expect(letter?.body).toMatchObject({ "detail-type": "Object Created", source: "aws.s3" });
  expect(await objectExists(dev(), "dev-bucket", "undelivered.txt")).toBe(false);

  const summary = await redrive(harness);

  expect(summary).toMatchObject({ replayed: 1, failed: 0, shapes: { "eventbridge-target": 1 } });
  expect(await objectExists(dev(), "dev-bucket", "undelivered.txt")).toBe(true);
});

it("replays the record of an invocation that timed out three times (requestPayload)", async () => {
  // The target's S3 never answers for this key: the invocation runs into its timeout.
  s3Fault = (request) => (onStaging("hung.txt")(request) ? "stall" : undefined);
  await putSourceObject(harness, "hung.txt", "h");
  const { async } = await harness.settle();
  const failed = async.invocations.filter((invocation) => !invocation.ok);
  expect(failed.map((invocation) => invocation.error?.errorType)).toEqual([
    "Sandbox.Timedout",
    "Sandbox.Timedout",
    "Sandbox.Timedout",
  ]);
  const [record] = await dlq();
  expect(record?.body).toMatchObject({
    requestContext: { condition: "RetriesExhausted", approximateInvokeCount: 3 },
    requestPayload: { detail: { object: { key: "hung.txt" } } },
  });
  s3Fault = undefined;

  const summary = await redrive(harness);

  expect(summary).toMatchObject({ replayed: 1, failed: 0, shapes: { "async-invocation": 1 } });
  expect(await objectExists(staging(), "staging-bucket", "hung.txt")).toBe(true);
});

it("reads a failed stream batch back from the stream and replays it", async () => {
  dynamodbFault = (request) =>
    request.table === "staging-table" && request.body.includes('"batch#1"')
      ? "dynamodb-throttling"
      : undefined;
  await putSourceItem(harness, { ...itemKeys("batch#1", "s"), v: { N: "1" } });
  await putSourceItem(harness, { ...itemKeys("batch#2", "s"), v: { N: "1" } });
  const { stream } = await harness.settle();
  expect(stream.discarded).toHaveLength(1);
  const [record] = await dlq();
  expect(record?.body).toMatchObject({
    requestContext: { condition: "RetryAttemptsExhausted" },
    DDBStreamBatchInfo: { shardId: harness.pipeline.stream?.shardId },
  });
  dynamodbFault = undefined;

  const summary = await redrive(harness);

  expect(summary).toMatchObject({ replayed: 1, failed: 0, shapes: { "stream-batch": 1 } });
  expect([...(await tableContents(harness, "staging", "staging-table")).keys()]).toEqual(
    expect.arrayContaining(["batch#1|s", "batch#2|s"]),
  );
});

it("keeps a stream batch past the stream's 24 hours, and names resync", async () => {
  dynamodbFault = (request) =>
    request.table === "staging-table" && request.body.includes('"aged#1"')
      ? "dynamodb-throttling"
      : undefined;
  await putSourceItem(harness, { ...itemKeys("aged#1", "s"), v: { N: "1" } });
  await harness.settle();
  dynamodbFault = undefined;
  harness.pipeline.stream?.ageRecords(25 * 60 * 60 * 1000);

  const summary = await redrive(harness);

  expect(summary).toMatchObject({ replayed: 0, failed: 1, shapes: { "stream-batch": 1 } });
  expect(summary.failures[0]).toMatch(/past its 24-hour retention.*npm run resync -- --items-only/);
  expect(await dlq()).toHaveLength(1);
});

it("ends with every target equal to the source, but for the item past the stream's retention", async () => {
  const source = await tableContents(harness, "prod", "prod-table");
  const staging = await tableContents(harness, "staging", "staging-table");
  expect(source.has("aged#1|s")).toBe(true);
  source.delete("aged#1|s");
  expect(staging).toEqual(source);
  expect(await tableContents(harness, "dev", "dev-table")).toEqual(
    await tableContents(harness, "prod", "prod-table"),
  );
  for (const target of TARGETS) {
    expect(await bucketContents(harness.clientsOf(target.environment).s3, target.bucket)).toEqual(
      await bucketContents(harness.source.s3, "prod-bucket"),
    );
  }
});
