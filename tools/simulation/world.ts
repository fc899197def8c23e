/**
 * One simulated deployment: the model of AWS (S3 with the source bucket's EventBridge
 * notifications, DynamoDB with the source table's stream, SQS for the dead letters, the
 * EventBridge rule with the program's own pattern and retry bounds, Lambda's asynchronous
 * invocation and the stream event source mapping), and the real code under test on top: the
 * replication function's invocation handler (lib/replication/invocation.ts) run for every
 * invocation Lambda hands out, and the operator tools (tools/ops: redrive, resync), all through
 * real SDK clients whose calls the scheduler orders (network.ts).
 *
 * It records what the invariants need: every invocation and its answer, every data point of the
 * function's metrics, the last time each source key changed.
 */
import type { Context } from "aws-lambda";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { replicationEventPattern, replicationRetry } from "../../lib/delivery";
import { retrySettings, type ReplicationClients } from "../../lib/replication/clients";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { createInvocationHandler } from "../../lib/replication/invocation";
import type { MetricsSink } from "../../lib/replication/metrics";
import { createReplicator } from "../../lib/replication/replicator";
import { runRedrive, type RedriveSummary } from "../ops/redrive";
import { runResync } from "../ops/resync";
import type { ResyncSummary } from "../ops/resync-progress";
import { DynamoDbModel } from "./model/dynamodb";
import { EventBridgeModel } from "./model/eventbridge";
import { AsyncInvocationModel } from "./model/lambda-async";
import type { Invocation, InvocationOutcome } from "./model/lambda-types";
import { StreamMappingModel } from "./model/lambda-stream-mapping";
import { S3Model } from "./model/s3";
import { decodeEventKey } from "./model/s3-events";
import { SqsModel } from "./model/sqs";
import type { DynamoDbStreamsModel } from "./model/streams";
import type { ServiceModel, ServiceName, TimedModel } from "./model/types";
import { itemState, namedBy, objectState, readable } from "./invariants";
import { Network, type Actor, type CallRecord, type Weather } from "./network";
import { seededRng } from "./rng";
import { Scheduler } from "./scheduler";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
/** The second target lives in another region, as targets may. */
export const OTHER_REGION = "eu-west-1";
export const SOURCE = { bucket: "prod-bucket", table: "prod-table" } as const;
export const FUNCTION_NAME = "replication-prod";
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FUNCTION_NAME}`;

/** S3 events that do not change what a replica must hold (the storage class, a restore starting or ending). */
const NOT_CHANGES = [
  "Object Storage Class Changed",
  "Object Restore Initiated",
  "Object Restore Expired",
];

/** One invocation the function ran, and how it ended. */
export interface InvocationLog {
  readonly id: string;
  readonly source: "async" | "stream";
  readonly payload: unknown;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: InvocationOutcome["kind"];
  response?: unknown;
}

/** One data point of the function's metrics, with the invocation that emitted it. */
export interface MetricPoint {
  readonly invocation: string;
  readonly metric: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface WorldOptions {
  readonly seed: number;
  readonly weather: Weather;
  /** The function's timeout. @default 30 s */
  readonly functionTimeoutMs?: number;
}

/** A metrics sink that records each data point for `invocation`. */
function recordingSink(points: MetricPoint[], invocation: string): MetricsSink {
  const single = () => {
    const dimensions: Record<string, string> = {};
    return {
      addDimension(name: string, value: string) {
        dimensions[name] = value;
        return this;
      },
      addMetric(metric: string) {
        points.push({ invocation, metric, dimensions: { ...dimensions } });
        return this;
      },
    };
  };
  return { singleMetric: single } as unknown as MetricsSink;
}

export class World {
  readonly scheduler: Scheduler;
  readonly network: Network;
  readonly s3: S3Model;
  readonly dynamodb: DynamoDbModel;
  readonly streams: DynamoDbStreamsModel;
  readonly sqs: SqsModel;
  readonly eventBridge: EventBridgeModel;
  readonly async: AsyncInvocationModel;
  readonly mapping: StreamMappingModel;
  readonly settings: ReplicationSettings;
  readonly dlqUrl: string;
  readonly streamArn: string;
  readonly invocations: InvocationLog[] = [];
  readonly metrics: MetricPoint[] = [];
  readonly redrives: RedriveSummary[] = [];
  /** Every message redrive deleted, and whether what it names had converged then. */
  readonly redriveDeletions: { names: string; converged: boolean; why: string }[] = [];
  /** When each source key (object) and item (pk) last changed. */
  readonly history = { objects: new Map<string, number>(), items: new Map<string, number>() };
  /** Messages redrive received, by receipt handle: their body and when. */
  private readonly received = new Map<string, { body: string; at: number }>();
  readonly resyncs: ResyncSummary[] = [];
  /** Actors still running (invocations, operators). */
  private readonly running = new Set<Actor>();
  private readonly timed: TimedModel[];
  private readonly functionTimeoutMs: number;

  constructor(options: WorldOptions) {
    const { seed } = options;
    this.functionTimeoutMs = options.functionTimeoutMs ?? 30_000;
    this.scheduler = new Scheduler({ seed });
    const clock = { now: () => this.scheduler.now() };
    const rng = (label: string) => seededRng(seed, label);
    this.s3 = new S3Model({ clock, rng: rng("s3"), accountId: ACCOUNT });
    this.dynamodb = new DynamoDbModel({ clock, rng: rng("dynamodb"), accountId: ACCOUNT });
    this.streams = this.dynamodb.streams;
    this.sqs = new SqsModel({ clock, rng: rng("sqs"), accountId: ACCOUNT });
    const services: Record<ServiceName, ServiceModel> = {
      s3: this.s3,
      dynamodb: this.dynamodb,
      "dynamodb-streams": this.streams,
      sqs: this.sqs,
    };
    this.network = new Network(this.scheduler, services, seed, options.weather);

    this.s3.createBucket(SOURCE.bucket, { region: REGION, versioning: true, eventBridge: true });
    this.s3.createBucket("dev-bucket", { region: OTHER_REGION, versioning: true });
    this.s3.createBucket("staging-bucket", { region: REGION, versioning: true });
    const key = {
      partitionKey: { name: "pk", type: "S" as const },
      sortKey: { name: "sk", type: "S" as const },
    };
    const source = this.dynamodb.createTable(SOURCE.table, {
      region: REGION,
      ...key,
      stream: "KEYS_ONLY",
    });
    this.dynamodb.createTable("dev-table", { region: OTHER_REGION, ...key });
    this.dynamodb.createTable("staging-table", { region: REGION, ...key });
    if (source.streamArn === undefined) throw new Error("the source table has no stream");
    this.streamArn = source.streamArn;
    this.dlqUrl = this.sqs.createQueue("replication-dlq", { region: REGION }).queueUrl;

    this.settings = {
      region: REGION,
      sourceEnvironment: "prod",
      sourceBucket: SOURCE.bucket,
      sourceTable: SOURCE.table,
      targets: [
        { environment: "dev", bucket: "dev-bucket", table: "dev-table", region: OTHER_REGION },
        {
          environment: "staging",
          bucket: "staging-bucket",
          table: "staging-table",
          region: REGION,
        },
      ],
      dlqUrl: this.dlqUrl,
      maxAttempts: 3,
      forcePathStyle: false,
      // The SDK's own standard strategy, backoff and retry quota as deployed.
      retryBaseDelayMs: undefined,
      serviceName: "replication",
      logLevel: "SILENT",
      regionEndpoints: undefined,
      masking: undefined,
      maskingSecretArn: undefined,
    };

    const toDlq = (body: unknown, attributes?: Record<string, unknown>) => {
      this.sqs
        .start({
          service: "sqs",
          region: REGION,
          command: "SendMessage",
          input: {
            QueueUrl: this.dlqUrl,
            MessageBody: typeof body === "string" ? body : JSON.stringify(body),
            ...(attributes === undefined ? {} : { MessageAttributes: attributes }),
          },
        })
        .finish();
    };
    this.async = new AsyncInvocationModel({
      clock,
      rng: rng("lambda-async"),
      functionArn: FUNCTION_ARN,
      timeoutMs: this.functionTimeoutMs,
      maximumRetryAttempts: replicationRetry.asyncMaximumRetryAttempts,
      maximumEventAgeSeconds: replicationRetry.asyncMaximumAgeSeconds,
      onFailure: {
        send: (record) => {
          toDlq(record);
        },
      },
    });
    this.eventBridge = new EventBridgeModel({
      clock,
      rng: rng("eventbridge"),
      region: REGION,
      accountId: ACCOUNT,
    });
    this.eventBridge.putRule({
      name: "replication",
      eventPattern: replicationEventPattern(SOURCE.bucket, []),
      target: {
        arn: FUNCTION_ARN,
        deliver: (event) => {
          this.async.invoke(event);
        },
      },
      retryPolicy: {
        maximumRetryAttempts: replicationRetry.eventMaximumRetryAttempts,
        maximumEventAgeInSeconds: replicationRetry.eventMaximumAgeSeconds,
      },
      deadLetter: {
        send: (message) => {
          const { MessageBody, MessageAttributes } = message as {
            MessageBody: string;
            MessageAttributes: Record<string, unknown>;
          };
          toDlq(MessageBody, MessageAttributes);
        },
      },
    });
    this.s3.onEvent((event) => {
      const detailType = (event as { "detail-type"?: string })["detail-type"] ?? "";
      const key = (event as { detail?: { object?: { key?: string } } }).detail?.object?.key;
      if (key !== undefined && !NOT_CHANGES.includes(detailType)) {
        // The event's key is form-URL-encoded; the history is by source key.
        this.history.objects.set(decodeEventKey(key), this.scheduler.now());
      }
      this.eventBridge.putEvent(event as unknown as Record<string, unknown>);
    });
    this.network.onEffect = (call, output) => {
      this.instrument(call, output);
    };
    this.mapping = new StreamMappingModel({
      clock,
      rng: rng("lambda-stream-mapping"),
      streams: this.streams,
      region: REGION,
      streamArn: this.streamArn,
      functionArn: FUNCTION_ARN,
      timeoutMs: this.functionTimeoutMs,
      batchSize: 10,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: replicationRetry.streamMaximumRetryAttempts,
      maximumRecordAgeSeconds: replicationRetry.streamMaximumRecordAgeSeconds,
      reportBatchItemFailures: true,
      startingPosition: "TRIM_HORIZON",
      startupDelayMs: 0,
      onFailure: {
        send: (record) => {
          toDlq(record);
        },
      },
    });
    this.timed = [
      this.s3,
      this.dynamodb,
      this.streams,
      this.sqs,
      this.eventBridge,
      this.async,
      this.mapping,
    ];
  }

  /** The replication clients of one actor, as clients.ts would make them (the SDK's retry settings). */
  replicationClients(actor: Actor): ReplicationClients {
    const retry = retrySettings(this.settings);
    const cache = new Map<string, S3Client | DynamoDBClient>();
    const of = <C extends S3Client | DynamoDBClient>(name: string, make: () => C): C => {
      const found = cache.get(name) as C | undefined;
      if (found !== undefined) return found;
      const client = make();
      cache.set(name, client);
      return client;
    };
    let sqs: SQSClient | undefined;
    const network = this.network;
    return {
      region: REGION,
      s3: (region = REGION) =>
        of(`s3 ${region}`, () => this.network.clients(actor, region).s3(retry)),
      dynamodb: (region = REGION) =>
        of(`dynamodb ${region}`, () => this.network.clients(actor, region).dynamodb(retry)),
      get sqs() {
        sqs ??= network.clients(actor, REGION).sqs(retry);
        return sqs;
      },
      destroy: () => undefined,
    };
  }

  /** Starts one invocation Lambda handed out: the function's handler, as an actor. */
  private startInvocation(
    model: AsyncInvocationModel | StreamMappingModel,
    invocation: Invocation,
  ): void {
    const actor: Actor = { name: `${invocation.source}#${invocation.id}`, alive: true };
    const log: InvocationLog = {
      id: invocation.id,
      source: invocation.source,
      payload: invocation.payload,
      startedAt: this.scheduler.now(),
    };
    this.invocations.push(log);
    this.running.add(actor);
    const deadline = this.scheduler.now() + invocation.timeoutMs;
    const context = {
      awsRequestId: invocation.id,
      functionName: FUNCTION_NAME,
      functionVersion: "$LATEST",
      invokedFunctionArn: FUNCTION_ARN,
      memoryLimitInMB: "256",
      getRemainingTimeInMillis: () => Math.max(0, deadline - this.scheduler.now()),
    } as Partial<Context> as Context;
    const clients = this.replicationClients(actor);
    const handler = createInvocationHandler({
      replicator: createReplicator(this.settings, clients),
      metrics: recordingSink(this.metrics, actor.name),
      get sqs() {
        return clients.sqs;
      },
      dlqUrl: this.dlqUrl,
    });
    let ended = false;
    const end = (outcome: InvocationOutcome): void => {
      if (ended) return;
      ended = true;
      actor.alive = false;
      this.running.delete(actor);
      log.endedAt = this.scheduler.now();
      log.outcome = outcome.kind;
      if (outcome.kind === "success") log.response = outcome.response;
      this.scheduler.note(`${actor.name} ends: ${outcome.kind}`);
      model.finished(invocation.id, outcome);
    };
    this.scheduler.note(`${actor.name} starts`);
    const timeout = this.scheduler.at(deadline, `${actor.name} times out`, () => {
      end({ kind: "timeout" });
    });
    handler.handle(invocation.payload, context).then(
      (response) => {
        this.scheduler.cancel(timeout);
        end({ kind: "success", response });
      },
      (error: unknown) => {
        this.scheduler.cancel(timeout);
        const failure = error instanceof Error ? error : new Error(String(error));
        end({ kind: "error", errorType: failure.name, errorMessage: failure.message });
      },
    );
  }

  /** Hands out what Lambda starts now. */
  private poll = (): void => {
    for (const model of [this.async, this.mapping]) {
      for (let invocation = model.next(); invocation !== undefined; invocation = model.next()) {
        this.startInvocation(model, invocation);
      }
    }
  };

  private nextDue = (): number | undefined => {
    const times = this.timed.flatMap((model) => {
      const due = model.nextDue();
      return due === undefined ? [] : [due];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  };

  private runDue = (): void => {
    for (const model of this.timed) {
      const due = model.nextDue();
      if (due !== undefined && due <= this.scheduler.now()) model.runDue();
    }
  };

  /** Nothing running, nothing in flight, nothing queued in EventBridge or Lambda. */
  quiet(): boolean {
    return (
      this.running.size === 0 &&
      !this.scheduler.busy &&
      this.eventBridge.pendingDeliveries() === 0 &&
      this.async.pendingEvents() === 0 &&
      this.mapping.idle()
    );
  }

  /** Runs until everything has settled (or the horizon), for at least `forMs`. */
  async runUntilQuiet(forMs: number, horizonMs = 6 * 60 * 60 * 1000): Promise<boolean> {
    const horizon = this.scheduler.now() + horizonMs;
    const notBefore = this.scheduler.now() + forMs;
    let quietSince: number | undefined;
    return this.scheduler.run({
      horizon,
      poll: this.poll,
      nextDue: this.nextDue,
      onDue: this.runDue,
      idle: () => this.running.size === 0,
      done: () => {
        const now = this.scheduler.now();
        if (!this.quiet()) {
          quietSince = undefined;
          return false;
        }
        quietSince ??= now;
        // Quiet for a minute: a stream poll or a retry that was about to come would have come.
        return now >= notBefore && now - quietSince >= 60_000;
      },
    });
  }

  /** Runs an operator command as an actor; resolves when it ends (the scheduler keeps going). */
  operator<T>(
    name: string,
    run: (clients: ReplicationClients, actor: Actor) => Promise<T>,
    onEnd: (value: T) => void,
  ): void {
    const actor: Actor = { name, alive: true };
    this.running.add(actor);
    this.scheduler.note(`${name} starts`);
    run(this.replicationClients(actor), actor).then(
      (value) => {
        this.running.delete(actor);
        this.scheduler.note(`${name} ends`);
        onEnd(value);
      },
      (error: unknown) => {
        this.running.delete(actor);
        this.scheduler.note(
          `${name} fails: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`,
        );
      },
    );
  }

  /** `npm run redrive` of the DLQ, with the operator's clients. */
  startRedrive(): void {
    this.operator(
      "redrive",
      (clients, actor) =>
        runRedrive(
          { queueUrl: this.dlqUrl, dryRun: false, maxMessages: undefined },
          {
            sqs: clients.sqs,
            replicator: createReplicator(this.settings, clients),
            streams: (region) =>
              this.network.clients(actor, region).streams(retrySettings(this.settings)),
          },
        ),
      (summary) => this.redrives.push(summary),
    );
  }

  /** `npm run resync -- --delete-extra` (the local engine), with the operator's clients. */
  startResync(): void {
    this.operator(
      "resync",
      (clients) => runResync(this.settings, clients, { deleteExtra: true, concurrency: 2 }),
      (summary) => this.resyncs.push(summary),
    );
  }

  /** What the invariants need to know of the calls made: what redrive received and deleted. */
  private instrument(call: CallRecord, output: Record<string, unknown>): void {
    if (call.actor !== "redrive" || call.call.service !== "sqs") return;
    if (call.call.command === "ReceiveMessage") {
      const messages = Array.isArray(output.Messages)
        ? (output.Messages as { ReceiptHandle?: string; Body?: string }[])
        : [];
      for (const message of messages) {
        if (message.ReceiptHandle !== undefined) {
          this.received.set(message.ReceiptHandle, {
            body: message.Body ?? "",
            at: this.scheduler.now(),
          });
        }
      }
      return;
    }
    if (call.call.command !== "DeleteMessage") return;
    const handle = call.call.input.ReceiptHandle;
    const message = typeof handle === "string" ? this.received.get(handle) : undefined;
    if (message === undefined) return;
    const named = namedBy(this, message.body);
    const stale: string[] = [];
    for (const target of this.settings.targets) {
      if (named.target !== undefined && named.target !== target.environment) continue;
      for (const key of named.objects) {
        const source = this.s3.current(SOURCE.bucket, key);
        const converged =
          objectState(source) === objectState(this.s3.current(target.bucket, key)) ||
          (source !== undefined && !readable(source)) ||
          (this.history.objects.get(key) ?? 0) > message.at;
        if (!converged) stale.push(`object ${key} in ${target.environment}`);
      }
      for (const pk of named.items) {
        const keys = { pk: { S: pk }, sk: { S: "profile" } };
        const converged =
          itemState(this.dynamodb.item(SOURCE.table, keys)) ===
            itemState(this.dynamodb.item(target.table, keys)) ||
          (this.history.items.get(pk) ?? 0) > message.at;
        if (!converged) stale.push(`item ${pk} in ${target.environment}`);
      }
    }
    this.redriveDeletions.push({
      names: [...named.objects, ...named.items].join(", "),
      converged: stale.length === 0,
      why: stale.length === 0 ? "" : `${stale.join(", ")} still differed from the source`,
    });
  }

  /**
   * The function's own dead letters of changes (not of malformed events) of `kind` for `target`:
   * distinct messages (an SDK retry after a lost answer sends the same one again).
   */
  ownDeadLetters(kind: "object" | "item", target: string, actor: string): number {
    const bodies = new Set<string>();
    for (const call of this.network.calls) {
      if (call.call.command !== "SendMessage" || call.effectAt === undefined) continue;
      if (call.actor !== actor) continue;
      const raw = call.call.input.MessageBody;
      const body = typeof raw === "string" ? raw : "";
      try {
        const letter = JSON.parse(body) as { source?: string; target?: { environment?: string } };
        const source = kind === "object" ? "eventbridge" : "dynamodb-stream";
        if (letter.source === source && letter.target?.environment === target) bodies.add(body);
      } catch {
        // not one of the function's letters
      }
    }
    return bodies.size;
  }

  dispose(): void {
    this.scheduler.dispose();
  }
}
