/**
 * The redrive command's core (tools/ops/redrive.ts): each of the four shapes the DLQ receives is
 * replayed (or kept, saying why), with a mocked SQS, a mocked DynamoDB Streams API (no emulator
 * has one) and a stub replicator.
 */
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationTarget } from "../../lib/replication/contract";
import type { DeadLetter } from "../../lib/replication/dead-letter";
import type { ItemChange, ObjectChange } from "../../lib/replication/events";
import type { TargetResult } from "../../lib/replication/outcome";
import type { ReplicateOptions, Replicator } from "../../lib/replication/replicator";
import {
  REDRIVE_USAGE,
  REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
  REDRIVE_WAIT_SECONDS,
  MAX_STALE_RECEIVES,
  UsageError,
  parseRedriveArgs,
  runRedrive,
} from "../../tools/ops/redrive";
import {
  SHARD_ID,
  asyncFailureRecord,
  eventBridgeDeadLetter,
  itemKeys,
  objectCreatedEvent,
  streamArn,
  streamFailureRecord,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";
import { settings } from "../support/settings";

const queueUrl = "http://127.0.0.1:9324/123456789012/dlq";
const [dev, staging] = settings.targets as [ReplicationTarget, ReplicationTarget];
const credentials = { accessKeyId: "t", secretAccessKey: "t" };

describe("parseRedriveArgs", () => {
  it("takes the function, or a queue URL with the environment contract", () => {
    expect(parseRedriveArgs(["--function", "company-replication-prod"])).toEqual({
      functionName: "company-replication-prod",
      queueUrl: undefined,
      dryRun: false,
      maxMessages: undefined,
      help: false,
    });
    expect(
      parseRedriveArgs([`--queue-url=${queueUrl}`, "--dry-run", "--max-messages", "5"]),
    ).toMatchObject({ functionName: undefined, queueUrl, dryRun: true, maxMessages: 5 });
    expect(parseRedriveArgs(["--help"]).help).toBe(true);
  });

  it("lists every problem at once, with the usage", () => {
    const run = () => parseRedriveArgs(["--bogus", "extra", "--max-messages", "0"]);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      `unknown option "--bogus"; unexpected argument "extra"; --function or --queue-url is required; ` +
        `--max-messages must be a positive integer: "0"\n${REDRIVE_USAGE}`,
    );
  });

  it.each([
    [["--queue-url", "not-a-url"], /--queue-url must be an http\(s\) queue URL: "not-a-url"/],
    [["--queue-url"], /--queue-url needs a value/],
    [["--function"], /--function needs a value/],
    [["--function", "f", "--max-messages", "x"], /--max-messages must be a positive integer: "x"/],
    [["--function", "f", "--dry-run=yes"], /--dry-run takes no value: "yes"/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseRedriveArgs(argv)).toThrow(message);
  });

  it("documents --function in its usage", () => {
    expect(REDRIVE_USAGE).toMatch(/--function NAME {5}the replication function: its settings/);
  });
});

describe("runRedrive", () => {
  const sqs = new SQSClient({ region: "us-east-1", credentials });
  const queue = mockClient(sqs);
  const streams = new DynamoDBStreamsClient({ region: "us-east-1", credentials });
  const stream = mockClient(streams);

  /** A replicator that records what it is asked and answers with `results`. */
  function stubReplicator(
    results: (change: ObjectChange | ItemChange) => TargetResult[] = () => [],
  ) {
    const calls: { change: ObjectChange | ItemChange; targets: string[] }[] = [];
    const record = (change: ObjectChange | ItemChange, options?: ReplicateOptions) => {
      const targets = options?.targets ?? settings.targets;
      calls.push({ change, targets: targets.map((t) => t.environment) });
      const answer = results(change);
      return Promise.resolve(
        answer.length > 0
          ? answer
          : targets.map((target): TargetResult => ({ ok: true, target, action: "copied" })),
      );
    };
    const replicator: Replicator = {
      settings,
      replicateObject: record,
      replicateItem: record,
    };
    return { replicator, calls };
  }

  let n = 0;
  const message = (body: unknown, attributes: Record<string, string> = {}): Message => {
    n += 1;
    return {
      MessageId: `m-${n}`,
      ReceiptHandle: `rh-${n}`,
      Body: typeof body === "string" ? body : JSON.stringify(body),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [
          name,
          { DataType: "String", StringValue: value },
        ]),
      ),
    };
  };
  const deliver = (...messages: Message[]): void => {
    queue.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
  };
  const run = (replicator: Replicator, dryRun = false) =>
    runRedrive(
      { queueUrl, dryRun, maxMessages: undefined },
      { sqs, replicator, streams: () => streams },
    );

  const event = objectCreatedEvent({ bucket: "prod-bucket", key: "k.txt", sequencer: "0A" });
  const own = (overrides: Partial<DeadLetter>): DeadLetter => ({
    reason: "target-failed",
    source: "eventbridge",
    event,
    target: staging,
    error: { name: "AccessDenied", message: "denied" },
    attempts: 1,
    failedAt: "2026-11-28T12:00:00.000Z",
    ...overrides,
  });

  beforeEach(() => {
    queue.reset();
    stream.reset();
    queue.on(DeleteMessageCommand).resolves({});
    queue.on(ChangeMessageVisibilityBatchCommand).resolves({});
  });

  it("replays the function's own dead letter to the one target it names, then deletes it", async () => {
    const { replicator, calls } = stubReplicator();
    deliver(message(own({})), message(own({ reason: "time-budget", target: dev })));

    const summary = await run(replicator);

    expect(summary).toMatchObject({
      received: 2,
      replayed: 2,
      failed: 0,
      shapes: { replication: 2 },
    });
    expect(calls.map((c) => [c.change.kind, c.targets])).toEqual([
      ["object", ["staging"]],
      ["object", ["dev"]],
    ]);
    expect(queue).toHaveReceivedCommandTimes(DeleteMessageCommand, 2);
    expect(queue).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      VisibilityTimeout: REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
      // Long polling: an empty answer means the queue has nothing visible, not a sampled miss.
      WaitTimeSeconds: REDRIVE_WAIT_SECONDS,
      MessageAttributeNames: ["All"],
    });
  });

  it("replays a stream record's dead letter through the item path", async () => {
    const { replicator, calls } = stubReplicator();
    const record = streamRecord({
      table: "prod-table",
      eventName: "REMOVE",
      keys: itemKeys("a", "b"),
      sequenceNumber: streamSequenceAt(4),
    });
    deliver(message(own({ source: "dynamodb-stream", event: record })));

    await expect(run(replicator)).resolves.toMatchObject({ replayed: 1 });
    expect(calls[0]?.change).toMatchObject({ kind: "item", sequenceNumber: streamSequenceAt(4) });
  });

  it("replays an EventBridge target dead letter (the event, with ERROR_* attributes) to every target", async () => {
    const { replicator, calls } = stubReplicator();
    const dead = eventBridgeDeadLetter({ event, ruleName: "object-changes", functionName: "f" });
    deliver(message(dead.body, dead.attributes));

    const summary = await run(replicator);

    expect(summary).toMatchObject({ replayed: 1, shapes: { "eventbridge-target": 1 } });
    expect(calls).toEqual([
      { change: expect.objectContaining({ key: "k.txt" }) as unknown, targets: ["dev", "staging"] },
    ]);
  });

  it("replays an asynchronous invocation record's requestPayload to every target", async () => {
    const { replicator, calls } = stubReplicator();
    deliver(message(asyncFailureRecord({ event, functionName: "f" })));

    const summary = await run(replicator);

    expect(summary).toMatchObject({ replayed: 1, shapes: { "async-invocation": 1 } });
    expect(calls[0]?.targets).toEqual(["dev", "staging"]);
  });

  it("reads a failed stream batch back from the stream and replays each of its records", async () => {
    const { replicator, calls } = stubReplicator();
    const arn = streamArn("prod-table");
    const failure = streamFailureRecord({
      table: "prod-table",
      functionName: "f",
      startSequenceNumber: streamSequenceAt(10),
      endSequenceNumber: streamSequenceAt(12),
      batchSize: 3,
    });
    const got = (n: number) => ({
      eventID: `e${n}`,
      eventName: "MODIFY" as const,
      dynamodb: {
        Keys: itemKeys(`k${n}`, "s"),
        SequenceNumber: streamSequenceAt(n),
        ApproximateCreationDateTime: new Date(1795000000000),
      },
    });
    stream
      .on(GetShardIteratorCommand, {
        StreamArn: arn,
        ShardId: SHARD_ID,
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        SequenceNumber: streamSequenceAt(10),
      })
      .resolves({ ShardIterator: "it-1" });
    stream
      .on(GetRecordsCommand, { ShardIterator: "it-1" })
      .resolves({ Records: [got(10), got(11)], NextShardIterator: "it-2" });
    stream
      .on(GetRecordsCommand, { ShardIterator: "it-2" })
      .resolves({ Records: [got(12), got(13)], NextShardIterator: "it-3" });
    deliver(message(failure));

    const summary = await run(replicator);

    expect(summary).toMatchObject({ replayed: 1, failed: 0, shapes: { "stream-batch": 1 } });
    expect(calls.map((c) => (c.change as ItemChange).sequenceNumber)).toEqual(
      [10, 11, 12].map(streamSequenceAt),
    );
    expect(calls[0]?.change).toMatchObject({ time: new Date(1795000000000).toISOString() });
  });

  it("keeps a stream batch that is past the stream's retention, naming resync as the way back", async () => {
    const { replicator, calls } = stubReplicator();
    stream
      .on(GetShardIteratorCommand)
      .rejects(new TrimmedDataAccessException({ message: "trimmed", $metadata: {} }));
    deliver(
      message(
        streamFailureRecord({
          table: "prod-table",
          functionName: "f",
          startSequenceNumber: streamSequenceAt(1),
          endSequenceNumber: streamSequenceAt(2),
          batchSize: 2,
        }),
      ),
    );

    const summary = await run(replicator);

    expect(summary.failed).toBe(1);
    expect(summary.failures[0]).toMatch(
      /stream batch record \(RetryAttemptsExhausted: .*\): StreamRetentionError: .* \(past its 24-hour retention.*run `npm run resync -- --items-only`/,
    );
    expect(calls).toEqual([]);
    expect(queue).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it("keeps what it cannot replay, listing each message and why, and releases it", async () => {
    const { replicator } = stubReplicator((change) =>
      change.kind === "object"
        ? [
            {
              ok: false,
              target: staging,
              error: { name: "AccessDenied", message: "still denied" },
              attempts: 1,
              retryable: false,
            },
          ]
        : [],
    );
    deliver(
      message("not json"),
      message({ hello: "world" }),
      message(
        own({ reason: "malformed-event", error: { name: "MalformedEventError", message: "bad" } }),
      ),
      message(own({ target: { ...staging, bucket: "gone" } })),
      message(own({})),
      message(own({ event: { not: "an event" } })),
    );

    const summary = await run(replicator);

    expect(summary).toMatchObject({ received: 6, replayed: 0, failed: 6 });
    expect(summary.failures).toEqual([
      "m-" + String(n - 5) + ": unknown message: unknown shape: body is not JSON",
      expect.stringMatching(/: unknown message: unknown shape: neither a replication dead letter/),
      expect.stringMatching(
        /: replication dead letter \(malformed-event, eventbridge, target staging\): not replayable \(malformed-event\): bad/,
      ),
      expect.stringMatching(
        /: target \{"environment":"staging","bucket":"gone".*\} is not configured/,
      ),
      expect.stringMatching(/: staging: AccessDenied still denied$/),
      expect.stringMatching(/: MalformedEventError: not an S3 EventBridge event/),
    ]);
    expect(queue).not.toHaveReceivedCommand(DeleteMessageCommand);
    // Released together at the end, 10 entries at most per call.
    expect(queue).toHaveReceivedCommandTimes(ChangeMessageVisibilityBatchCommand, 1);
    const released = queue.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input;
    expect(released?.Entries?.map((entry) => entry.VisibilityTimeout)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("only describes the messages in a dry run, and changes nothing", async () => {
    const { replicator, calls } = stubReplicator();
    deliver(message(own({})), message(asyncFailureRecord({ event, functionName: "f" })));

    const summary = await run(replicator, true);

    expect(summary).toMatchObject({ received: 2, replayed: 0, skipped: 2, failed: 0 });
    expect(summary.failures).toEqual([
      expect.stringMatching(
        /replication dead letter \(target-failed, eventbridge, target staging\) \(dry run, kept\)/,
      ),
      expect.stringMatching(
        /asynchronous invocation record \(RetriesExhausted: Task timed out after 120.00 seconds\) \(dry run, kept\)/,
      ),
    ]);
    expect(calls).toEqual([]);
    expect(queue).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it("replays a dead letter that names no target to every target, and copes with messages missing ids", async () => {
    const { replicator, calls } = stubReplicator();
    const untargeted = Object.fromEntries(
      Object.entries(own({})).filter(([name]) => name !== "target"),
    );
    queue
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ Body: JSON.stringify(untargeted) }] })
      .resolves({ Messages: [] });

    const summary = await run(replicator);

    expect(summary).toMatchObject({ replayed: 1 });
    expect(calls[0]?.targets).toEqual(["dev", "staging"]);
  });

  it("keeps a stream batch whose replay fails, and lists messages without ids and handles", async () => {
    const { replicator } = stubReplicator((change) =>
      change.kind === "item"
        ? [
            {
              ok: false,
              target: staging,
              error: { name: "E", message: "still failing" },
              attempts: 1,
              retryable: true,
            },
          ]
        : [],
    );
    stream.on(GetShardIteratorCommand).resolves({ ShardIterator: "it" });
    stream.on(GetRecordsCommand).resolves({
      Records: [
        {
          eventID: "e",
          eventName: "MODIFY",
          dynamodb: { Keys: itemKeys("k", "s"), SequenceNumber: streamSequenceAt(1) },
        },
      ],
    });
    const failure = streamFailureRecord({
      table: "prod-table",
      functionName: "f",
      startSequenceNumber: streamSequenceAt(1),
      endSequenceNumber: streamSequenceAt(1),
      batchSize: 1,
    });
    queue
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ Body: JSON.stringify(failure) }] })
      .resolves({ Messages: [] });
    queue.on(ChangeMessageVisibilityBatchCommand).rejects(new Error("gone"));

    const summary = await run(replicator);

    expect(summary.failures).toEqual([
      expect.stringMatching(/^\(no id\): stream batch record .*: staging: E still failing$/),
    ]);
    expect(queue).not.toHaveReceivedCommand(ChangeMessageVisibilityBatchCommand);
  });

  it("describes a malformed dead letter without an error, and an async record without one", async () => {
    const { replicator } = stubReplicator();
    const bare = Object.fromEntries(
      Object.entries(own({ reason: "malformed-event" })).filter(([name]) => name !== "error"),
    );
    const record = { ...asyncFailureRecord({ event, functionName: "f" }), responsePayload: "text" };
    deliver(message(bare), message(record));

    const dry = await run(replicator, true);
    queue.reset();
    queue.on(ChangeMessageVisibilityBatchCommand).resolves({});
    deliver(message(bare));
    const real = await run(replicator);

    expect(dry.failures).toEqual([
      expect.stringMatching(
        /replication dead letter \(malformed-event, eventbridge, target staging\) \(dry run, kept\)$/,
      ),
      expect.stringMatching(
        /asynchronous invocation record \(RetriesExhausted\) \(dry run, kept\)$/,
      ),
    ]);
    expect(real.failures[0]).toMatch(/not replayable \(malformed-event\): $/);
  });

  it("extends the visibility of the messages it holds before it lapses, while a long replay runs", async () => {
    let clock = 0;
    // Each replay takes 200 s of the run's clock: the second message of the batch would become
    // visible again (300 s) before its turn without the heartbeat.
    const slow: Replicator = {
      settings,
      replicateObject: (_change, options) => {
        clock += 200_000;
        return Promise.resolve(
          (options?.targets ?? settings.targets).map((target): TargetResult => ({
            ok: true,
            target,
            action: "copied",
          })),
        );
      },
      replicateItem: () => Promise.resolve([]),
    };
    deliver(message(own({})), message(own({})), message(own({})));

    const summary = await runRedrive(
      { queueUrl, dryRun: false, maxMessages: undefined, now: () => clock },
      { sqs, replicator: slow, streams: () => streams },
    );

    expect(summary).toMatchObject({ received: 3, replayed: 3 });
    const renewals = queue
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((call) => call.args[0].input.Entries?.map((entry) => entry.ReceiptHandle));
    // Before the second replay: the two still held; before the third: the last one.
    expect(renewals[0]).toEqual([`rh-${n - 1}`, `rh-${n}`]);
    expect(renewals.flat()).toContain(`rh-${n}`);
    expect(
      queue
        .commandCalls(ChangeMessageVisibilityBatchCommand)
        .every((call) =>
          call.args[0].input.Entries?.every(
            (entry) => entry.VisibilityTimeout === REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
          ),
        ),
    ).toBe(true);
  });

  it("replays a message SQS delivers twice once, and deletes it by its newest receipt handle", async () => {
    const { replicator, calls } = stubReplicator();
    const first = message(own({}));
    const again = { ...first, ReceiptHandle: "rh-again" };
    queue
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [first] })
      .resolvesOnce({ Messages: [again] })
      .resolves({ Messages: [] });

    const summary = await run(replicator);

    expect(summary).toMatchObject({ received: 1, replayed: 1, failed: 0 });
    expect(calls).toHaveLength(1);
    expect(
      queue.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle),
    ).toEqual([first.ReceiptHandle, "rh-again"]);
  });

  it("keeps holding a kept message SQS hands out again, and stops (saying so) if only settled messages keep coming", async () => {
    const { replicator } = stubReplicator((change) => [
      {
        ok: false,
        target: staging,
        error: { name: "E", message: `still failing ${change.kind}` },
        attempts: 1,
        retryable: true,
      },
    ]);
    const kept = message(own({}));
    queue.on(ReceiveMessageCommand).resolves({ Messages: [kept] });

    const summary = await run(replicator);

    expect(summary.received).toBe(1);
    expect(summary.failed).toBe(2);
    expect(summary.failures.at(-1)).toBe(
      `stopped after ${MAX_STALE_RECEIVES} receives in a row brought only messages this run had settled; run redrive again`,
    );
    expect(queue).toHaveReceivedCommandTimes(ReceiveMessageCommand, 1 + MAX_STALE_RECEIVES);
  });

  it("stops after --max-messages", async () => {
    const { replicator } = stubReplicator();
    queue.on(ReceiveMessageCommand).callsFake(() => ({ Messages: [message(own({}))] }));

    const summary = await runRedrive(
      { queueUrl, dryRun: false, maxMessages: 3 },
      { sqs, replicator, streams: () => streams },
    );

    expect(summary.received).toBe(3);
    expect(queue).toHaveReceivedCommandWith(ReceiveMessageCommand, { MaxNumberOfMessages: 1 });
  });
});
