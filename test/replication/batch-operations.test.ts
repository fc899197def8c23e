/**
 * S3 Batch Operations invocations (schema 2.0, and 1.0): parsing of tasks and their URL-encoded
 * keys (lib/replication/events.ts) and the documented answer (lib/replication/invocation.ts),
 * with a stub replicator whose results each test sets and a mocked DLQ.
 */
import type { Context, S3BatchResult } from "aws-lambda";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { ForeignSourceError, MalformedEventError } from "../../lib/replication/errors";
import {
  bucketNameFromArn,
  classifyEvent,
  decodeBatchOperationsKey,
  parseBatchOperationsEvent,
  rawEventId,
  type ObjectChange,
} from "../../lib/replication/events";
import { createInvocationHandler } from "../../lib/replication/invocation";
import { recorder } from "../support/metrics-recorder";
import { logger } from "../../lib/replication/logger";
import type { AppliedAction, TargetResult } from "../../lib/replication/outcome";
import type { ReplicateOptions, Replicator } from "../../lib/replication/replicator";
import { batchOperationsEvent } from "../../tools/emulators/events";
import { settings } from "../support/settings";

const sqs = new SQSClient({
  region: "us-east-1",
  credentials: { accessKeyId: "t", secretAccessKey: "t" },
});
const dlq = mockClient(sqs);
const [dev, staging] = settings.targets as [ReplicationTarget, ReplicationTarget];

beforeEach(() => {
  dlq.reset();
  dlq.on(SendMessageCommand).resolves({ MessageId: "m" });
  logger.setLogLevel("SILENT");
});

interface Call {
  readonly change: ObjectChange;
  readonly targets: readonly string[];
  readonly budget: ReplicateOptions["budget"];
}

/**
 * A replicator answering each call with `answer(target, round of this key)`: round 1 is the
 * first call for a key, round 2 the verification after a write, and so on.
 */
function stubReplicator(answer: (target: ReplicationTarget, round: number) => TargetResult) {
  const calls: Call[] = [];
  const rounds = new Map<string, number>();
  const replicator: Replicator = {
    settings,
    replicateObject: (change, options) => {
      const round = (rounds.get(change.key) ?? 0) + 1;
      rounds.set(change.key, round);
      const targets = options?.targets ?? settings.targets;
      calls.push({
        change,
        targets: targets.map((t) => t.environment),
        budget: options?.budget,
      });
      return Promise.resolve(targets.map((target) => answer(target, round)));
    },
    replicateItem: () => Promise.reject(new Error("not for Batch Operations")),
  };
  return { replicator, calls };
}

const ok = (target: ReplicationTarget, action: AppliedAction): TargetResult => ({
  ok: true,
  target,
  action,
});
const failed = (target: ReplicationTarget, retryable: boolean): TargetResult => ({
  ok: false,
  target,
  error: { name: retryable ? "SlowDown" : "AccessDenied", message: "no" },
  attempts: 3,
  retryable,
});

const handlerWith = (replicator: Replicator) =>
  createInvocationHandler({ replicator, sqs, dlqUrl: settings.dlqUrl });

const answer = async (replicator: Replicator, event: unknown, context?: Context) =>
  (await handlerWith(replicator).handle(event, context)) as S3BatchResult;

const letters = (): Record<string, unknown>[] =>
  dlq
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody ?? "{}") as Record<string, unknown>);

/** A 2.0 invocation with hand-written tasks (the fixture builder encodes keys itself). */
const invocation = (tasks: readonly Record<string, unknown>[], userArguments = {}) => ({
  invocationSchemaVersion: "2.0",
  invocationId: "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
  job: { id: "f3cc4f60-61f6-4a2b-8a21-d07600c373ce", userArguments },
  tasks,
});
const task = (s3Key: string, taskId = "dGFza2lkZ29lc2hlcmUK", s3Bucket = "prod-bucket") => ({
  taskId,
  s3Key,
  s3VersionId: null,
  s3Bucket,
});

describe("Batch Operations keys", () => {
  it.each([
    [
      "a plus as a space (what Batch Operations sends)",
      "folder+with+spaces/a+b.txt",
      "folder with spaces/a b.txt",
    ],
    [
      "%20 as a space (the manifest's encoding)",
      "folder%20with%20spaces/a%20b.txt",
      "folder with spaces/a b.txt",
    ],
    ["%2B as a literal plus", "c%2B%2B/x%2By.txt", "c++/x+y.txt"],
    ["unicode", "%C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%97%A5%E6%9C%AC.txt", "ünïcødé/日本.txt"],
    ["a plain key", "customerImage1.jpg", "customerImage1.jpg"],
    ["an encoded percent", "100%25/x.txt", "100%/x.txt"],
  ])("decodes %s", (_name, raw, key) => {
    expect(decodeBatchOperationsKey(raw)).toBe(key);
  });

  it("refuses an invalid escape, quoting the key", () => {
    expect(() => decodeBatchOperationsKey("100%/x.txt")).toThrow(
      new MalformedEventError('s3Key "100%/x.txt" is not URL-encoded'),
    );
  });

  it("reads a bucket name from a 1.0 task's bucket ARN", () => {
    expect(bucketNameFromArn("arn:aws:s3:::amzn-s3-demo-bucket")).toBe("amzn-s3-demo-bucket");
    expect(bucketNameFromArn("arn:aws:s3:::bucket/key")).toBeUndefined();
    expect(bucketNameFromArn("amzn-s3-demo-bucket")).toBeUndefined();
  });
});

describe("parseBatchOperationsEvent", () => {
  it("reads a 2.0 invocation built by the fixture into resync changes, keys decoded", () => {
    const event = batchOperationsEvent({
      bucket: "prod-bucket",
      keys: ["reports/q1 2026.csv", "c++/a+b.txt"],
      userArguments: { targets: "dev" },
    });

    const parsed = parseBatchOperationsEvent(event, "prod-bucket");
    const [first, second] = parsed.tasks;

    expect(parsed.tasks).toHaveLength(2);
    expect({ ...parsed, tasks: [first] }).toEqual({
      invocationSchemaVersion: "2.0",
      invocationId: event.invocationId,
      jobId: event.job.id,
      userArguments: { targets: "dev" },
      tasks: [
        {
          taskId: "task-0",
          ok: true,
          change: {
            kind: "object",
            eventId: `${event.job.id}/task-0`,
            bucket: "prod-bucket",
            key: "reports/q1 2026.csv",
            sequencer: undefined,
            time: undefined,
            description: `S3 Batch Operations task (job ${event.job.id})`,
          },
        },
      ],
    });
    expect(second).toMatchObject({ taskId: "task-1", change: { key: "c++/a+b.txt" } });
  });

  it("reads AWS's 1.0 example (bucket ARN, no user arguments)", () => {
    // https://docs.aws.amazon.com/lambda/latest/dg/services-s3-batch.html
    const event = {
      invocationSchemaVersion: "1.0",
      invocationId: "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
      job: { id: "f3cc4f60-61f6-4a2b-8a21-d07600c373ce" },
      tasks: [
        {
          taskId: "dGFza2lkZ29lc2hlcmUK",
          s3Key: "customerImage1.jpg",
          s3VersionId: "1",
          s3BucketArn: "arn:aws:s3:::prod-bucket",
        },
      ],
    };

    const parsed = parseBatchOperationsEvent(event, "prod-bucket");

    expect(parsed.invocationSchemaVersion).toBe("1.0");
    expect(parsed.userArguments).toEqual({});
    expect(parsed.tasks).toHaveLength(1);
    expect(parsed.tasks[0]).toMatchObject({
      ok: true,
      change: { key: "customerImage1.jpg", bucket: "prod-bucket" },
    });
  });

  it("answers a task of another bucket, without a bucket, without a key or badly encoded as failed, each naming its problem", () => {
    const parsed = parseBatchOperationsEvent(
      invocation([
        task("k", "t1", "other-bucket"),
        { taskId: "t2", s3Key: "k", s3VersionId: null },
        { taskId: "t3", s3Bucket: "prod-bucket" },
        task("100%", "t4"),
        { taskId: "t5", s3Key: "k", s3BucketArn: "not-an-arn" },
      ]),
      "prod-bucket",
    );

    expect(
      parsed.tasks.map((t) => (t.ok ? t.taskId : [t.taskId, t.error.name, t.error.message])),
    ).toEqual([
      [
        "t1",
        "ForeignSourceError",
        'task for bucket "other-bucket", not the source bucket "prod-bucket"',
      ],
      [
        "t2",
        "MalformedEventError",
        "task names no bucket: s3Bucket undefined, s3BucketArn undefined",
      ],
      ["t3", "MalformedEventError", expect.stringMatching(/^not a Batch Operations task: s3Key: /)],
      ["t4", "MalformedEventError", 's3Key "100%" is not URL-encoded'],
      [
        "t5",
        "MalformedEventError",
        'task names no bucket: s3Bucket undefined, s3BucketArn "not-an-arn"',
      ],
    ]);
    const [foreign] = parsed.tasks;
    expect(foreign?.ok === false && foreign.error instanceof ForeignSourceError).toBe(true);
  });

  it.each([
    ["no invocation id", { ...invocation([task("k")]), invocationId: "" }, /invocationId/],
    [
      "an unknown schema version",
      { ...invocation([task("k")]), invocationSchemaVersion: "3.0" },
      /invocationSchemaVersion/,
    ],
    [
      "a task without a task id",
      invocation([{ s3Key: "k", s3Bucket: "prod-bucket" }]),
      /tasks\.0\.taskId/,
    ],
    ["no job id", { ...invocation([task("k")]), job: {} }, /job\.id/],
  ])("refuses an invocation with %s as malformed", (_name, event, message) => {
    expect(() => parseBatchOperationsEvent(event, "prod-bucket")).toThrow(MalformedEventError);
    expect(() => parseBatchOperationsEvent(event, "prod-bucket")).toThrow(message);
  });

  it("is told apart from the other shapes, and named by its invocation id in logs", () => {
    const event = batchOperationsEvent({ bucket: "prod-bucket", keys: ["k"] });
    expect(classifyEvent(event).shape).toBe("batch-operations");
    expect(classifyEvent({ invocationSchemaVersion: "2.0", tasks: "x" }).shape).toBe("unknown");
    expect(rawEventId(event)).toBe(event.invocationId);
  });
});

describe("a Batch Operations invocation", () => {
  it("resyncs each task's key into every target, verifies it, and answers Succeeded (AWS's response shape)", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "copied"));
    const event = batchOperationsEvent({ bucket: "prod-bucket", keys: ["a b.txt"] });

    const response = await answer(replicator, event);

    expect(response).toEqual({
      invocationSchemaVersion: "2.0",
      treatMissingKeysAs: "PermanentFailure",
      invocationId: event.invocationId,
      results: [
        { taskId: "task-0", resultCode: "Succeeded", resultString: "dev: copied, staging: copied" },
      ],
    });
    // One change, as the live path applies it (its convergence reads the source again after a
    // write): the function's metrics count the task once per target.
    expect(calls.map((c) => [c.change.key, c.change.sequencer, c.targets])).toEqual([
      ["a b.txt", undefined, ["dev", "staging"]],
    ]);
    expect(dlq).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("answers a task whose replicas already hold the source's state after one round", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));

    const response = await answer(replicator, invocation([task("k")]));

    expect(response.results).toEqual([
      {
        taskId: "dGFza2lkZ29lc2hlcmUK",
        resultCode: "Succeeded",
        resultString: "dev: skipped, staging: skipped",
      },
    ]);
    expect(calls).toHaveLength(1);
  });

  it("answers TemporaryFailure when a target failed on a retryable error, so Batch Operations redrives the task", async () => {
    const { replicator } = stubReplicator((target) =>
      target === dev ? ok(dev, "skipped") : failed(staging, true),
    );

    const response = await answer(replicator, invocation([task("k")]));

    expect(response.results).toEqual([
      {
        taskId: "dGFza2lkZ29lc2hlcmUK",
        resultCode: "TemporaryFailure",
        resultString: "staging: SlowDown no",
      },
    ]);
    expect(dlq).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("counts a task once it settles, never a TemporaryFailure that Batch Operations runs again", async () => {
    const { sink, points } = recorder();
    let round = 0;
    const { replicator } = stubReplicator((target) =>
      round < 2 && target === staging ? failed(staging, true) : ok(target, "copied"),
    );
    const handler = createInvocationHandler({
      replicator,
      sqs,
      dlqUrl: settings.dlqUrl,
      metrics: sink,
    });

    for (round = 0; round < 3; round++) await handler.handle(invocation([task("k")]));

    expect(
      points.flatMap((p) => p.metrics.map(([name]) => [name, p.dimensions.TargetEnvironment])),
    ).toEqual([
      ["ChangesReplicated", "dev"],
      ["ChangesReplicated", "staging"],
    ]);
  });

  it("answers PermanentFailure when every failure is permanent, listing each failed target", async () => {
    const { replicator } = stubReplicator((target) => failed(target, false));

    const response = await answer(replicator, invocation([task("k")]));

    expect(response.results).toEqual([
      {
        taskId: "dGFza2lkZ29lc2hlcmUK",
        resultCode: "PermanentFailure",
        resultString: "dev: AccessDenied no; staging: AccessDenied no",
      },
    ]);
  });

  it("answers each task of an invocation with several, a foreign one as PermanentFailure without resyncing it", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));

    const response = await answer(
      replicator,
      invocation([task("a", "t1"), task("b", "t2", "other-bucket"), task("c", "t3")]),
    );

    expect(response.results.map((r) => [r.taskId, r.resultCode])).toEqual([
      ["t1", "Succeeded"],
      ["t2", "PermanentFailure"],
      ["t3", "Succeeded"],
    ]);
    expect(response.results[1]?.resultString).toBe(
      'ForeignSourceError: task for bucket "other-bucket", not the source bucket "prod-bucket"',
    );
    expect(calls.map((c) => c.change.key).sort()).toEqual(["a", "c"]);
  });

  it("resyncs only the targets the job names in its user arguments", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));

    const response = await answer(replicator, invocation([task("k")], { targets: " staging " }));

    expect(response.results[0]).toEqual({
      taskId: "dGFza2lkZ29lc2hlcmUK",
      resultCode: "Succeeded",
      resultString: "staging: skipped",
    });
    expect(calls.map((c) => c.targets)).toEqual([["staging"]]);
  });

  it("answers PermanentFailure naming the unknown targets a job asks for, resyncing nothing", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));

    const response = await answer(replicator, invocation([task("k")], { targets: "dev,qa,uat" }));

    expect(response.results[0]).toEqual({
      taskId: "dGFza2lkZ29lc2hlcmUK",
      resultCode: "PermanentFailure",
      resultString: 'user argument targets names unknown targets "qa", "uat" (known: dev, staging)',
    });
    expect(calls).toEqual([]);
  });

  it("gives the copies the invocation's remaining time", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));
    const context = { getRemainingTimeInMillis: () => 10_000 } as Partial<Context> as Context;

    await answer(replicator, invocation([task("k")]), context);

    expect(() => calls[0]?.budget?.requireTimeFor(10 * 1024 ** 3, 1, "k")).toThrow(/needs about/);
  });

  it("dead-letters an invocation it cannot answer (no task id), and resyncs nothing", async () => {
    const { replicator, calls } = stubReplicator((target) => ok(target, "skipped"));
    const event = invocation([{ s3Key: "k", s3Bucket: "prod-bucket" }]);

    await expect(handlerWith(replicator).handle(event)).resolves.toEqual({
      eventId: event.invocationId,
      status: "dead-lettered",
      results: [],
    });
    expect(letters()).toEqual([
      expect.objectContaining({ reason: "malformed-event", source: "batch-operations", event }),
    ]);
    expect(calls).toEqual([]);
  });
});
