/**
 * One invocation (lib/replication/invocation.ts): stream batches answered by sequence number,
 * dead letters once per change and failed target, what fails the invocation and what does not.
 * The replicator is a stub whose results each test sets; the DLQ is a mocked SQS client.
 */
import type { Context, DynamoDBRecord } from "aws-lambda";
import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationTarget } from "../../lib/replication/contract";
import type { ItemChange, ObjectChange } from "../../lib/replication/events";
import { UnreportableRecordError, createInvocationHandler } from "../../lib/replication/invocation";
import { logger } from "../../lib/replication/logger";
import type { TargetResult } from "../../lib/replication/outcome";
import type { MetricsSink } from "../../lib/replication/metrics";
import type { ReplicateOptions, Replicator } from "../../lib/replication/replicator";
import {
  IPV6_CLIENT,
  itemKeys,
  objectCreatedEvent,
  objectTagsEvent,
  sequencerAt,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";
import { recorder, type RecordedPoint } from "../support/metrics-recorder";
import { settings } from "../support/settings";

const sqs = new SQSClient({
  region: "us-east-1",
  credentials: { accessKeyId: "t", secretAccessKey: "t" },
});
const dlq = mockClient(sqs);
const [dev, staging] = settings.targets as [ReplicationTarget, ReplicationTarget];

const ok = (target: ReplicationTarget, action: "copied" | "put" = "put"): TargetResult => ({
  ok: true,
  target,
  action,
});
const failed = (
  target: ReplicationTarget,
  retryable: boolean,
  reason?: "metadata-too-large" | "time-budget",
): TargetResult => ({
  ok: false,
  target,
  error: { name: retryable ? "ThrottlingException" : "AccessDeniedException", message: "no" },
  attempts: 3,
  retryable,
  ...(reason === undefined ? {} : { reason }),
});

/** A replicator whose results come from `results(change)`; records every call. */
function stubReplicator(
  results: (change: ObjectChange | ItemChange, options?: ReplicateOptions) => TargetResult[],
) {
  const calls: (ObjectChange | ItemChange)[] = [];
  const replicator: Replicator = {
    settings,
    replicateObject: (change, options) => {
      calls.push(change);
      return Promise.resolve(results(change, options));
    },
    replicateItem: (change, options) => {
      calls.push(change);
      return Promise.resolve(results(change, options));
    },
  };
  return { replicator, calls };
}

const record = (n: number, pk = `user#${n}`): DynamoDBRecord =>
  streamRecord({
    table: "prod-table",
    eventName: "MODIFY",
    keys: itemKeys(pk, "profile"),
    sequenceNumber: streamSequenceAt(n),
  });

const letters = (): Record<string, unknown>[] =>
  dlq
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody ?? "{}") as Record<string, unknown>);

beforeEach(() => {
  dlq.reset();
  dlq.on(SendMessageCommand).resolves({ MessageId: "m" });
  logger.setLogLevel("SILENT");
});

const handlerWith = (replicator: Replicator, metrics?: MetricsSink) =>
  createInvocationHandler({
    replicator,
    sqs,
    dlqUrl: settings.dlqUrl,
    ...(metrics === undefined ? {} : { metrics }),
  });

/** The counts recorded, as [metric, target] pairs. */
const counted = (points: readonly RecordedPoint[]): [string, string][] =>
  points
    .flatMap((point) =>
      point.metrics.map(([name]): [string, string] => [
        name,
        point.dimensions.TargetEnvironment ?? "",
      ]),
    )
    .filter(([name]) => name !== "ReplicationLatency");

describe("a DynamoDB stream batch", () => {
  it("names a record that keeps failing by its SequenceNumber, and applies the records before it", async () => {
    const middle = record(2);
    const { replicator, calls } = stubReplicator((change) =>
      (change as ItemChange).sequenceNumber === streamSequenceAt(2)
        ? [ok(dev), failed(staging, true)]
        : [ok(dev), ok(staging)],
    );

    const response = await handlerWith(replicator).handle(
      streamEvent([record(1), middle, record(3)]),
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: middle.dynamodb?.SequenceNumber }],
    });
    expect(middle.eventID).not.toBe(middle.dynamodb?.SequenceNumber);
    expect(calls.map((c) => (c as ItemChange).sequenceNumber)).toEqual(
      [1, 2, 3].map(streamSequenceAt),
    );
    // A retryable failure is retried by Lambda, not dead-lettered.
    expect(dlq).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("dead-letters a record whose failures are all permanent, once per failed target, and does not report it", async () => {
    const { replicator } = stubReplicator(() => [
      failed(dev, false),
      failed(staging, false, "metadata-too-large"),
    ]);

    const only = record(1);
    const response = await handlerWith(replicator).handle(streamEvent([only]));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(letters()).toEqual([
      expect.objectContaining({
        reason: "target-failed",
        source: "dynamodb-stream",
        target: dev,
        attempts: 3,
      }),
      expect.objectContaining({ reason: "metadata-too-large", target: staging }),
    ]);
    expect(letters()[0]?.event).toEqual(only);
  });

  it("leaves a record's permanent failures for later while another of its targets is retried", async () => {
    const { replicator } = stubReplicator((change) =>
      (change as ItemChange).sequenceNumber === streamSequenceAt(1)
        ? [failed(dev, false), failed(staging, true)]
        : [ok(dev), ok(staging)],
    );

    const response = await handlerWith(replicator).handle(streamEvent([record(1), record(2)]));

    // Dead-lettering dev now would dead-letter it again at every redelivery.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: streamSequenceAt(1) }] });
    expect(dlq).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("settles only the records before the lowest reported one: those after are delivered again, neither dead-lettered nor counted now", async () => {
    // Issue 16, defect 8: a record Lambda delivers again must not add a failure (or anything)
    // at each attempt, and must not be dead-lettered at each attempt.
    const { sink, points } = recorder();
    const { replicator } = stubReplicator((change) => {
      switch ((change as ItemChange).sequenceNumber) {
        case streamSequenceAt(1):
          return [failed(dev, false), ok(staging)];
        case streamSequenceAt(2):
          return [ok(dev), failed(staging, true)];
        default:
          return [failed(dev, false), ok(staging)];
      }
    });

    const response = await handlerWith(replicator, sink).handle(
      streamEvent([record(1), record(2), record(3)]),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: streamSequenceAt(2) }] });
    // Record 1 settles: dev dead-lettered and counted failed, staging counted replicated.
    expect(
      letters().map((l) => [l.target, (l.event as DynamoDBRecord).dynamodb?.SequenceNumber]),
    ).toEqual([[dev, streamSequenceAt(1)]]);
    expect(counted(points)).toEqual([
      ["ChangesFailed", "dev"],
      ["ChangesReplicated", "staging"],
    ]);
  });

  it("counts a record retried N times once, on the attempt that settles it", async () => {
    const { sink, points } = recorder();
    let attempt = 0;
    const { replicator } = stubReplicator(() => {
      attempt += 1;
      return attempt < 4 ? [ok(dev), failed(staging, true)] : [ok(dev, "put"), ok(staging)];
    });
    const handler = handlerWith(replicator, sink);

    for (let n = 1; n < 4; n++) {
      await expect(handler.handle(streamEvent([record(1)]))).rejects.toThrow(FullBatchFailureError);
    }
    await handler.handle(streamEvent([record(1)]));

    expect(counted(points)).toEqual([
      ["ChangesReplicated", "dev"],
      ["ChangesReplicated", "staging"],
    ]);
  });

  it("fails the invocation when every record failed, so that Lambda bisects or retries", async () => {
    const { replicator } = stubReplicator(() => [failed(dev, true), ok(staging)]);

    await expect(
      handlerWith(replicator).handle(streamEvent([record(1), record(2)])),
    ).rejects.toThrow(FullBatchFailureError);
    expect(dlq).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("dead-letters a malformed or foreign record and does not report it", async () => {
    const { replicator, calls } = stubReplicator(() => [ok(dev), ok(staging)]);
    const foreign = {
      ...record(1),
      eventSourceARN: "arn:aws:dynamodb:us-east-1:1:table/other/stream/x",
    };
    const malformed = { ...record(2), dynamodb: { SequenceNumber: streamSequenceAt(2) } };

    const response = await handlerWith(replicator).handle(
      streamEvent([foreign, malformed, record(3)]),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(letters().map((l) => l.reason)).toEqual(["foreign-source", "malformed-event"]);
    expect(calls).toHaveLength(1);
  });

  it("reports a record it could not even dead-letter, by its SequenceNumber", async () => {
    dlq.on(SendMessageCommand).rejects(new Error("SQS is down"));
    const { replicator } = stubReplicator(() => [ok(dev), ok(staging)]);
    const malformed = { ...record(2), dynamodb: { SequenceNumber: streamSequenceAt(2) } };

    const response = await handlerWith(replicator).handle(streamEvent([record(1), malformed]));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: streamSequenceAt(2) }] });
  });

  it("fails the whole batch when a failed record has no SequenceNumber to report", async () => {
    dlq.on(SendMessageCommand).rejects(new Error("SQS is down"));
    const { replicator } = stubReplicator(() => [ok(dev), ok(staging)]);
    const anonymous = { eventID: "x", dynamodb: {} };

    await expect(
      handlerWith(replicator).handle(streamEvent([record(1), anonymous as DynamoDBRecord])),
    ).rejects.toThrow(UnreportableRecordError);
  });
});

describe("an S3 event", () => {
  const context = (remainingMs: number): Context =>
    ({ getRemainingTimeInMillis: () => remainingMs }) as Partial<Context> as Context;

  it("replicates an event from an IPv6 client", async () => {
    const { replicator, calls } = stubReplicator(() => [ok(dev, "copied"), ok(staging, "copied")]);
    const event = objectCreatedEvent({
      bucket: "prod-bucket",
      key: "a b.txt",
      sequencer: sequencerAt(1),
      sourceIp: IPV6_CLIENT,
    });

    await expect(handlerWith(replicator).handle(event)).resolves.toEqual({
      eventId: event.id,
      key: "a b.txt",
      status: "replicated",
      results: [
        { environment: "dev", action: "copied" },
        { environment: "staging", action: "copied" },
      ],
    });
    expect(calls).toEqual([
      expect.objectContaining({ key: "a b.txt", sequencer: expect.any(String) as unknown }),
    ]);
  });

  it("passes the invocation's remaining time to the copies", async () => {
    let budgetSeen: ReplicateOptions["budget"];
    const { replicator } = stubReplicator((_change, options) => {
      budgetSeen = options?.budget;
      return [ok(dev), ok(staging)];
    });
    const event = objectCreatedEvent({
      bucket: "prod-bucket",
      key: "k",
      sequencer: sequencerAt(1),
    });

    await handlerWith(replicator).handle(event, context(10_000));

    expect(() => budgetSeen?.requireTimeFor(10 * 1024 ** 3, 1, "k")).toThrow(/needs about/);
  });

  it("dead-letters each failed target once and succeeds, so Lambda does not run it again", async () => {
    const { replicator } = stubReplicator(() => [
      ok(dev, "copied"),
      failed(staging, false, "time-budget"),
    ]);
    const event = objectTagsEvent({ bucket: "prod-bucket", key: "k", change: "added" });

    const result = await handlerWith(replicator).handle(event);

    expect(result).toMatchObject({
      status: "dead-lettered",
      results: [{ action: "copied" }, { action: "failed" }],
    });
    expect(letters()).toEqual([
      expect.objectContaining({
        reason: "time-budget",
        source: "eventbridge",
        event,
        target: staging,
        error: { name: "AccessDeniedException", message: "no" },
      }),
    ]);
  });

  it("fails the invocation only when it cannot dead-letter (Lambda retries, the on-failure destination keeps it)", async () => {
    dlq.on(SendMessageCommand).rejects(new Error("SQS is down"));
    const { replicator } = stubReplicator(() => [failed(dev, false), ok(staging)]);

    await expect(
      handlerWith(replicator).handle(
        objectCreatedEvent({ bucket: "prod-bucket", key: "k", sequencer: "0A" }),
      ),
    ).rejects.toThrow("SQS is down");
  });

  it("dead-letters an event of another bucket, or one that is not an S3 event at all", async () => {
    const { replicator, calls } = stubReplicator(() => []);

    await expect(
      handlerWith(replicator).handle(
        objectCreatedEvent({ bucket: "other", key: "k", sequencer: "0A" }),
      ),
    ).resolves.toMatchObject({ status: "dead-lettered" });
    await expect(handlerWith(replicator).handle({ hello: "world" })).resolves.toEqual({
      eventId: "unknown",
      status: "dead-lettered",
      results: [],
    });

    expect(letters().map((l) => [l.reason, l.source])).toEqual([
      ["foreign-source", "eventbridge"],
      ["malformed-event", "eventbridge"],
    ]);
    expect(calls).toEqual([]);
  });
});
