/** Unit tests of the redrive command's core (tools/ops/redrive.ts) with a mocked SQS. */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { DeadLetter } from "../../lib/replication/dead-letter";
import { MalformedEventError } from "../../lib/replication/errors";
import type { TargetResult } from "../../lib/replication/outcome";
import {
  REDRIVE_USAGE,
  REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
  UsageError,
  parseRedriveArgs,
  runRedrive,
} from "../../tools/ops/redrive";
import type { Replicator } from "../../lib/replication/replicator";

const queueUrl = "http://127.0.0.1:9324/123456789012/dlq";
const dev = { environment: "dev", bucket: "dev-bucket", table: "dev-table" };
const staging = { environment: "staging", bucket: "staging-bucket", table: "staging-table" };

describe("parseRedriveArgs", () => {
  it("parses the options", () => {
    expect(parseRedriveArgs(["--queue-url", queueUrl])).toEqual({
      queueUrl,
      dryRun: false,
      maxMessages: undefined,
    });
    expect(
      parseRedriveArgs([`--queue-url=${queueUrl}`, "--dry-run", "--max-messages", "5"]),
    ).toEqual({ queueUrl, dryRun: true, maxMessages: 5 });
  });

  it("lists every problem at once, with the usage", () => {
    const run = () => parseRedriveArgs(["--bogus", "extra", "--max-messages", "0"]);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      `unknown option "--bogus"; unexpected argument "extra"; --queue-url is required; ` +
        `--max-messages must be a positive integer: "0"\n${REDRIVE_USAGE}`,
    );
  });

  it.each([
    [["--queue-url", "not-a-url"], /--queue-url must be an http\(s\) queue URL: "not-a-url"/],
    [["--queue-url"], /--queue-url needs a value/],
    [
      ["--queue-url", queueUrl, "--max-messages", "x"],
      /--max-messages must be a positive integer: "x"/,
    ],
    [["--queue-url", queueUrl, "--max-messages"], /--max-messages needs a value/],
    [["--queue-url", queueUrl, "--dry-run=yes"], /--dry-run takes no value: "yes"/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseRedriveArgs(argv)).toThrow(message);
  });
});

describe("runRedrive", () => {
  const sqs = new SQSClient({ region: "us-east-1" });
  const mock = mockClient(sqs);
  const objectEvent = { id: "evt" };
  const itemRecord = { eventID: "rec" };

  const letter = (overrides: Partial<DeadLetter>): Message => ({
    MessageId: `m-${JSON.stringify(overrides).length}`,
    ReceiptHandle: `rh-${JSON.stringify(overrides)}`,
    Body: JSON.stringify({
      reason: "target-failed",
      source: "eventbridge",
      event: objectEvent,
      target: dev,
      error: { name: "AccessDenied", message: "denied" },
      attempts: 1,
      failedAt: "2026-11-28T12:00:00.000Z",
      ...overrides,
    }),
  });

  const ok = (target: typeof dev): TargetResult => ({ ok: true, target, action: "copied" });
  const failed = (target: typeof dev): TargetResult => ({
    ok: false,
    target,
    error: { name: "SlowDown", message: "slow" },
    attempts: 5,
    retryable: true,
  });

  let replicator: jest.Mocked<Pick<Replicator, "replicateObjectEvent" | "replicateItemRecord">>;
  const deps = () => ({
    sqs,
    replicator: replicator as unknown as Replicator,
    targets: [dev, staging],
  });

  beforeEach(() => {
    mock.reset();
    mock.on(DeleteMessageCommand).resolves({});
    mock.on(ChangeMessageVisibilityCommand).resolves({});
    replicator = {
      replicateObjectEvent: jest.fn((_event: unknown, targets = [dev, staging]) =>
        Promise.resolve({
          kind: "applied" as const,
          change: {} as never,
          results: targets.map(ok),
        }),
      ),
      replicateItemRecord: jest.fn((_record: unknown, targets = [dev, staging]) =>
        Promise.resolve({
          kind: "applied" as const,
          change: {} as never,
          results: targets.map(ok),
        }),
      ),
    };
  });

  it("replays each message to its target and deletes it after success", async () => {
    const first = letter({});
    const second = letter({ source: "dynamodb-stream", event: itemRecord, target: undefined });
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [first, second] })
      .resolves({});
    const summary = await runRedrive({ queueUrl, dryRun: false, maxMessages: undefined }, deps());
    expect(summary).toEqual({ received: 2, replayed: 2, skipped: 0, failed: 0, failures: [] });
    expect(replicator.replicateObjectEvent).toHaveBeenCalledWith(objectEvent, [dev]);
    expect(replicator.replicateItemRecord).toHaveBeenCalledWith(itemRecord, [dev, staging]);
    expect(mock).toHaveReceivedCommandWith(DeleteMessageCommand, {
      QueueUrl: queueUrl,
      ReceiptHandle: first.ReceiptHandle,
    });
    expect(mock).toHaveReceivedCommandTimes(DeleteMessageCommand, 2);
    expect(mock).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
    });
  });

  it("keeps a message whose replay failed, and says why", async () => {
    replicator.replicateObjectEvent.mockResolvedValue({
      kind: "applied",
      change: {} as never,
      results: [failed(dev)],
    });
    const message = letter({});
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message] })
      .resolves({});
    const summary = await runRedrive({ queueUrl, dryRun: false, maxMessages: undefined }, deps());
    expect(summary).toMatchObject({ received: 1, replayed: 0, failed: 1 });
    expect(summary.failures).toEqual([`${message.MessageId ?? ""}: dev: SlowDown slow`]);
    expect(mock).not.toHaveReceivedCommand(DeleteMessageCommand);
    // Released at the end, so a later run can retry it at once.
    expect(mock).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: queueUrl,
      ReceiptHandle: message.ReceiptHandle,
      VisibilityTimeout: 0,
    });
  });

  it("keeps messages it cannot replay", async () => {
    replicator.replicateObjectEvent.mockResolvedValueOnce({
      kind: "rejected",
      reason: "malformed-event",
      error: new MalformedEventError("bad"),
    });
    replicator.replicateObjectEvent.mockRejectedValueOnce(new Error("boom"));
    const messages: Message[] = [
      { MessageId: "not-json", Body: "{" },
      { MessageId: "no-body" },
      { MessageId: "not-a-letter", Body: '{"hello":1}' },
      { ...letter({ reason: "foreign-source", target: undefined }), MessageId: "foreign" },
      { ...letter({ target: { ...dev, bucket: "elsewhere" } }), MessageId: "unknown-target" },
      { ...letter({}), MessageId: "rejected" },
      { ...letter({}), MessageId: "throws" },
    ];
    mock.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
    const summary = await runRedrive({ queueUrl, dryRun: false, maxMessages: undefined }, deps());
    expect(summary).toMatchObject({ received: 7, replayed: 0, failed: 7 });
    expect(summary.failures).toEqual([
      "not-json: body is not JSON",
      "no-body: body is not JSON",
      "not-a-letter: body is not a dead-letter message",
      "foreign: not replayable (foreign-source): denied",
      'unknown-target: target {"environment":"dev","bucket":"elsewhere","table":"dev-table"} is not configured',
      "rejected: malformed-event: bad",
      "throws: Error: boom",
    ]);
    expect(mock).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it("only counts messages in a dry run", async () => {
    mock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [letter({}), {}] })
      .resolves({});
    const summary = await runRedrive({ queueUrl, dryRun: true, maxMessages: undefined }, deps());
    expect(summary).toEqual({ received: 2, replayed: 0, skipped: 2, failed: 0, failures: [] });
    expect(replicator.replicateObjectEvent).not.toHaveBeenCalled();
    expect(mock).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(mock).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 1);
  });

  it("stops at --max-messages", async () => {
    mock.on(ReceiveMessageCommand).resolves({ Messages: [letter({}), letter({ attempts: 2 })] });
    const summary = await runRedrive({ queueUrl, dryRun: false, maxMessages: 3 }, deps());
    expect(summary.received).toBe(4);
    const asked = mock
      .commandCalls(ReceiveMessageCommand)
      .map((call) => call.args[0].input.MaxNumberOfMessages);
    expect(asked).toEqual([3, 1]);
  });
});
