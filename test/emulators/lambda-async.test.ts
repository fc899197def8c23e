/**
 * The EventBridge rule -> asynchronous Lambda invocation simulation: S3 events from the event
 * source that match the rule reach a stub function run by the Lambda host; failures are retried
 * as Lambda documents, then recorded to the on-failure queue; a missing permission sends the
 * event to the target's DLQ without retry; order and duplicates follow a seed.
 */
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { replicationEventPattern } from "../../lib/replication-plane";
import {
  createBucket,
  createQueue,
  EMULATOR_CREDENTIALS,
  sqsClient,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { objectCreatedEvent, sequencerAt } from "../../tools/emulators/events";
import {
  startLambdaHost,
  type InvocationResult,
  type LambdaHost,
} from "../../tools/emulators/lambda-host";
import {
  seededRandom,
  startEventBridgeRule,
  type Invoker,
} from "../../tools/emulators/lambda-service";
import { startS3EventSource, type S3EventSource } from "../../tools/emulators/s3-event-source";

const BUCKET = "prod-bucket";
const stub = path.join(__dirname, "../fixtures/lambda/s3-event-stub.mjs");

interface Received {
  readonly body: unknown;
  readonly attributes: Record<string, string | undefined>;
}

async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Received[]> {
  const received: Received[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        WaitTimeSeconds: 0,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return received;
    for (const message of messages) {
      received.push({
        body: JSON.parse(message.Body ?? "null") as unknown,
        attributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue,
          ]),
        ),
      });
    }
  }
}

describe("an EventBridge rule invoking the function asynchronously", () => {
  let emulators: Emulators;
  let sqs: SQSClient;
  let source: S3EventSource;
  let s3: S3Client;
  let host: LambdaHost;
  let queues = 0;

  beforeAll(async () => {
    emulators = await startEmulators();
    await createBucket(emulators, BUCKET);
    sqs = sqsClient(emulators);
    source = await startS3EventSource({ upstream: emulators.s3.endpoint, bucket: BUCKET });
    s3 = new S3Client({
      endpoint: source.endpoint,
      region: "us-east-1",
      credentials: EMULATOR_CREDENTIALS,
      forcePathStyle: true,
    });
    host = startLambdaHost({
      handlerFile: stub,
      functionName: "replication",
      region: "us-east-1",
      timeoutSeconds: 1,
    });
  });

  afterAll(async () => {
    await host.stop();
    s3.destroy();
    sqs.destroy();
    await source.stop();
    await emulators.stop();
  });

  const queue = async (): Promise<string> => {
    queues += 1;
    return createQueue(emulators, `queue-${queues}`);
  };

  const put = (key: string) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" }));

  it("invokes matching events; lifecycle expirations and other buckets do not match", async () => {
    const rule = startEventBridgeRule({
      ruleName: "replication",
      pattern: replicationEventPattern(BUCKET, []),
      host,
      functionName: "replication",
    });
    const unsubscribe = source.onEvent((event) => {
      rule.put(event);
    });
    await put("ok/one.txt");
    await source.lifecycleExpiration("ok/one.txt");
    rule.put(objectCreatedEvent({ bucket: "dev-bucket", key: "x", sequencer: sequencerAt(1) }));
    unsubscribe();
    const report = await rule.idle();
    expect(report.matched).toBe(1);
    expect(report.unmatched).toBe(2);
    expect(report.invocations).toHaveLength(1);
    expect(report.invocations[0]).toMatchObject({ ok: true, attempt: 1, duplicate: false });
    expect(report.invocations[0]?.logs.stdout).toEqual(['{"key":"ok/one.txt","delivery":1}']);
    expect(report.successRecords).toHaveLength(1);
    expect(report.successRecords[0]).toMatchObject({
      requestContext: { condition: "Success", approximateInvokeCount: 1 },
      responsePayload: { replicated: "ok/one.txt" },
    });
  });

  it("retries a failing event twice with the same request id, then records it on failure", async () => {
    const onFailure = await queue();
    const onSuccess = await queue();
    const rule = startEventBridgeRule({
      ruleName: "replication",
      pattern: replicationEventPattern(BUCKET, []),
      host,
      functionName: "replication",
      async: { onFailure: { sqs, queueUrl: onFailure }, onSuccess: { sqs, queueUrl: onSuccess } },
    });
    const unsubscribe = source.onEvent((event) => {
      rule.put(event);
    });
    await put("fail/broken.txt");
    await put("flaky/once.txt");
    unsubscribe();
    const report = await rule.idle();
    const broken = report.invocations.filter(
      (call) => !call.ok && call.error?.errorMessage.includes("broken"),
    );
    expect(broken.map((call) => call.attempt)).toEqual([1, 2, 3]);
    expect(new Set(broken.map((call) => call.requestId)).size).toBe(1);
    const [failure] = await receiveAll(sqs, onFailure);
    expect(failure?.body).toMatchObject({
      version: "1.0",
      requestContext: {
        requestId: broken[0]?.requestId,
        functionArn: "arn:aws:lambda:us-east-1:123456789012:function:replication:$LATEST",
        condition: "RetriesExhausted",
        approximateInvokeCount: 3,
      },
      requestPayload: {
        "detail-type": "Object Created",
        detail: { object: { key: "fail/broken.txt" } },
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: "cannot replicate fail/broken.txt" },
    });
    const successes = await receiveAll(sqs, onSuccess);
    expect(successes).toHaveLength(1);
    expect(successes[0]?.body).toMatchObject({
      requestContext: { condition: "Success", approximateInvokeCount: 2 },
      responsePayload: { replicated: "flaky/once.txt" },
    });
    expect(report.failureRecords).toHaveLength(1);
  });

  it("honours MaximumRetryAttempts 0 and counts a timeout as a function error", async () => {
    const onFailure = await queue();
    const rule = startEventBridgeRule({
      ruleName: "replication",
      pattern: replicationEventPattern(BUCKET, []),
      host,
      functionName: "replication",
      async: { maximumRetryAttempts: 0, onFailure: { sqs, queueUrl: onFailure } },
    });
    const unsubscribe = source.onEvent((event) => {
      rule.put(event);
    });
    await put("hang/slow.txt");
    unsubscribe();
    const report = await rule.idle();
    expect(report.invocations).toHaveLength(1);
    const [failure] = await receiveAll(sqs, onFailure);
    expect(failure?.body).toMatchObject({
      requestContext: { approximateInvokeCount: 1 },
      responsePayload: { errorType: "Sandbox.Timedout" },
    });
  });

  it("sends the event to the target DLQ, without retry, when it may not invoke the function", async () => {
    const dlq = await queue();
    const rule = startEventBridgeRule({
      ruleName: "replication-rule",
      pattern: replicationEventPattern(BUCKET, []),
      host,
      functionName: "replication",
      canInvoke: false,
      deadLetterQueue: { sqs, queueUrl: dlq },
    });
    const unsubscribe = source.onEvent((event) => {
      rule.put(event);
    });
    await put("ok/denied.txt");
    unsubscribe();
    const report = await rule.idle();
    expect(report.invocations).toEqual([]);
    const messages = await receiveAll(sqs, dlq);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.body).toEqual(source.events().at(-1));
    expect(messages[0]?.attributes).toMatchObject({
      RULE_ARN: "arn:aws:events:us-east-1:123456789012:rule/replication-rule",
      TARGET_ARN: "arn:aws:lambda:us-east-1:123456789012:function:replication",
      ERROR_CODE: "NO_PERMISSIONS",
      RETRY_ATTEMPTS: "0",
    });
    rule.setCanInvoke(true);
    rule.put(source.events().at(-1));
    expect((await rule.idle()).invocations).toHaveLength(1);
  });

  it("reports a record it could not deliver (Lambda's DestinationDeliveryFailures)", async () => {
    const missing = `${await queue()}-missing`;
    const rule = startEventBridgeRule({
      ruleName: "replication",
      pattern: {},
      host,
      functionName: "replication",
      async: { maximumRetryAttempts: 0, onFailure: { sqs, queueUrl: missing } },
    });
    rule.put(objectCreatedEvent({ bucket: BUCKET, key: "fail/x", sequencer: sequencerAt(9) }));
    const report = await rule.idle();
    expect(report.failureRecords).toHaveLength(1);
    expect(report.deliveryFailures).toEqual([expect.stringMatching(/^on-failure destination: /)]);
  });

  it("refuses a MaximumRetryAttempts Lambda does not allow", () => {
    const options = { ruleName: "r", pattern: {}, host, functionName: "f" };
    expect(() => startEventBridgeRule({ ...options, async: { maximumRetryAttempts: 3 } })).toThrow(
      /maximumRetryAttempts = 3 \(Lambda allows 0, 1 or 2\)/,
    );
    expect(() =>
      startEventBridgeRule({ ...options, async: { maximumRetryAttempts: 2 } }),
    ).not.toThrow();
  });
});

describe("delivery order, duplicates and retry waits (a recording invoker)", () => {
  /** An invoker that records the keys it is given and fails those `failFirst` names once. */
  function recorder(failFirst: readonly string[] = []): Invoker & { keys: string[] } {
    const failed = new Set<string>();
    const keys: string[] = [];
    return {
      keys,
      invoke(event) {
        const key = (event as { id: string }).id;
        keys.push(key);
        const fail = failFirst.includes(key) && !failed.has(key);
        if (fail) failed.add(key);
        const base = { requestId: "r", coldStart: false, logs: { stdout: [], stderr: [] } };
        const result: InvocationResult = fail
          ? { ...base, ok: false, error: { errorType: "Error", errorMessage: "once" } }
          : { ...base, ok: true, value: null };
        return Promise.resolve(result);
      },
    };
  }

  const events = Array.from({ length: 12 }, (_, index) => ({ id: `e${index}` }));
  const run = async (invoker: Invoker, order?: { seed: number; duplicateRate?: number }) => {
    const rule = startEventBridgeRule({
      ruleName: "r",
      pattern: {},
      host: invoker,
      functionName: "f",
      ...(order === undefined ? {} : { order }),
    });
    for (const event of events) rule.put(event);
    return rule.idle();
  };

  it("keeps arrival order without a seed", async () => {
    const invoker = recorder();
    await run(invoker);
    expect(invoker.keys).toEqual(events.map((event) => event.id));
  });

  it("shuffles with a seed, the same way for the same seed", async () => {
    const first = recorder();
    const second = recorder();
    await run(first, { seed: 7 });
    await run(second, { seed: 7 });
    expect(first.keys).not.toEqual(events.map((event) => event.id));
    expect([...first.keys].sort()).toEqual(events.map((event) => event.id).sort());
    expect(second.keys).toEqual(first.keys);
  });

  it("delivers duplicates at the configured rate, as new invocations", async () => {
    const invoker = recorder();
    const report = await run(invoker, { seed: 3, duplicateRate: 1 });
    expect(invoker.keys).toHaveLength(24);
    expect(report.invocations.filter((call) => call.duplicate)).toHaveLength(12);
  });

  it("lets other events go ahead while a failed one waits for its retry, and is idle only after it", async () => {
    const invoker = recorder(["e0"]);
    const rule = startEventBridgeRule({
      ruleName: "r",
      pattern: {},
      host: invoker,
      functionName: "f",
      async: { retryDelayMs: 20 },
    });
    rule.put({ id: "e0" });
    rule.put({ id: "e1" });
    const report = await rule.idle();
    expect(invoker.keys).toEqual(["e0", "e1", "e0"]);
    expect(report.invocations.map((call) => call.attempt)).toEqual([1, 1, 2]);
  });

  it("seededRandom is deterministic and within [0, 1)", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 100 }, () => a());
    expect(values).toEqual(Array.from({ length: 100 }, () => b()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});
