/**
 * The network between the code under test and the model of AWS: real AWS SDK v3 clients, with
 * the SDK's own retry strategy, whose requests end at a middleware that hands each call to the
 * scheduler instead of an HTTP connection. Each call goes through three steps the scheduler
 * orders among all others:
 *
 * 1. it reaches the service (after a latency): the model starts it, or the service answers a
 *    documented transient error instead (503 SlowDown, 500, throttling), with no effect;
 * 2. it takes effect (after the model's duration, sometimes much later: a slow copy, a request
 *    held up after an SDK backoff), atomically, at a time when any other call may have gone first;
 * 3. its answer reaches the client (after a latency), or is lost on the way back (the effect
 *    stands; the client sees a timeout and the SDK retries the same request, which then meets its
 *    own effect).
 *
 * An actor is one caller (an invocation, an operator's command): when Lambda times an invocation
 * out, its calls in flight still take effect at the service, but it hears no more answers.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { retrySettings } from "../../lib/replication/clients";
import type { Rng, ModelCall, ServiceModel, ServiceName } from "./model/types";
import { below, chance, seededRng } from "./rng";
import type { Scheduler } from "./scheduler";

/** How hostile the network and the services are; probabilities per call. */
export interface Weather {
  /** A documented transient error instead of the call (no effect). */
  readonly fault: number;
  /** The answer lost after the effect (the client times out and retries). */
  readonly lostAnswer: number;
  /** The effect held back by up to `maxHoldMs` (a slow copy, a queue at the service). */
  readonly hold: number;
  readonly maxHoldMs: number;
  /** Upper bound of a one-way latency. */
  readonly latencyMs: number;
}

export const CALM: Weather = { fault: 0, lostAnswer: 0, hold: 0, maxHoldMs: 0, latencyMs: 5 };

/** An actor: who sends calls, and whether it still hears answers. */
export interface Actor {
  readonly name: string;
  alive: boolean;
}

/** What the code under test asked and what came of it, for the timeline and the invariants. */
export interface CallRecord {
  readonly actor: string;
  readonly call: ModelCall;
  readonly startedAt: number;
  /** When it took effect (undefined: a fault answered instead, or it never reached the service). */
  effectAt?: number;
  /** It took effect after its actor had ended (an invocation that timed out with it in flight). */
  afterItsActor?: boolean;
  outcome?: "ok" | "error" | "fault" | "lost";
  error?: string;
}

/**
 * A stretch of virtual time in which a service is down for the calls it names (a target's bucket
 * or table): every one of them that arrives before `until` is answered with one of the model's
 * documented server errors (5xx: S3's InternalError 500, ServiceUnavailable and SlowDown 503,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; DynamoDB's
 * InternalServerError 500, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html),
 * with no effect, however often the SDK retries.
 */
export interface Outage {
  readonly what: string;
  readonly until: number;
  readonly names: (call: ModelCall) => boolean;
}

/** The timeout a client sees when an answer is lost: the SDK classes it as transient. */
class LostAnswerError extends Error {
  override readonly name = "TimeoutError";
  readonly $metadata = {};
}

export class Network {
  readonly calls: CallRecord[] = [];
  /** Told of every call that took effect, with its output (the world's instruments). */
  onEffect: ((record: CallRecord, output: Record<string, unknown>) => void) | undefined;
  private readonly rng: Rng;
  weather: Weather;
  /** Outages under way or past (`until` tells). */
  readonly outages: Outage[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly services: Readonly<Record<ServiceName, ServiceModel>>,
    seed: number,
    weather: Weather = CALM,
  ) {
    this.rng = seededRng(seed, "network");
    this.weather = weather;
  }

  private latency(): number {
    return 1 + below(this.rng, Math.max(1, this.weather.latencyMs));
  }

  /** Sends `call` for `actor`; resolves with the SDK output, or rejects with the SDK error. */
  send(actor: Actor, call: ModelCall): Promise<Record<string, unknown>> {
    const record: CallRecord = { actor: actor.name, call, startedAt: this.scheduler.now() };
    this.calls.push(record);
    const label = `${actor.name} ${call.command}`;
    return new Promise((resolve, reject) => {
      const answer = (deliver: () => void): void => {
        this.scheduler.after(this.latency(), `${label} answer`, () => {
          if (actor.alive) deliver();
        });
      };
      this.scheduler.after(this.latency(), `${label} arrives`, () => {
        const model = this.services[call.service];
        const now = this.scheduler.now();
        const down = this.outages.some((outage) => outage.until > now && outage.names(call));
        const serverErrors = model.faults(call).filter((fault) => fault.httpStatusCode >= 500);
        const faults = down && serverErrors.length > 0 ? serverErrors : model.faults(call);
        if (
          faults.length > 0 &&
          ((down && serverErrors.length > 0) || chance(this.rng, this.weather.fault))
        ) {
          const fault = faults[below(this.rng, faults.length)];
          record.outcome = "fault";
          record.error = fault?.name;
          this.scheduler.note(`${label}: ${fault?.name ?? "fault"} (not applied)`);
          answer(() => {
            reject(fault?.error() ?? new Error("fault"));
          });
          return;
        }
        const operation = model.start(call);
        const held = chance(this.rng, this.weather.hold)
          ? below(this.rng, this.weather.maxHoldMs)
          : 0;
        this.scheduler.after(operation.durationMs + held, `${label} takes effect`, () => {
          record.effectAt = this.scheduler.now();
          record.afterItsActor = !actor.alive;
          let output: Record<string, unknown>;
          try {
            output = operation.finish();
          } catch (error: unknown) {
            record.outcome = "error";
            record.error = error instanceof Error ? error.name : String(error);
            this.scheduler.note(`${label}: ${record.error}${describeInput(call)}`);
            answer(() => {
              reject(error instanceof Error ? error : new Error(String(error)));
            });
            return;
          }
          this.scheduler.note(`${label}${describeInput(call)}`);
          this.onEffect?.(record, output);
          if (chance(this.rng, this.weather.lostAnswer)) {
            record.outcome = "lost";
            this.scheduler.note(`${label}: answer lost (the effect stands)`);
            answer(() => {
              reject(new LostAnswerError(`${call.command}: the answer was lost`));
            });
            return;
          }
          record.outcome = "ok";
          answer(() => {
            resolve(output);
          });
        });
      });
    });
  }

  /**
   * Real SDK clients for `actor` in `region`, whose calls go through this network; `options` are
   * the client settings the code under test gives its own (retry strategy, maxAttempts).
   */
  clients(actor: Actor, region: string) {
    const config = {
      region,
      credentials: { accessKeyId: "simulation", secretAccessKey: "simulation" },
      // Set, so that no client reads a config file or the environment for them.
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
    };
    const wire = <C extends { middlewareStack: { add: (...args: never[]) => void } }>(
      client: C,
      service: ServiceName,
    ): C => {
      attach(client, (command, input) => this.send(actor, { service, region, command, input }));
      return client;
    };
    return {
      s3: (options: ClientSettings = {}) => wire(new S3Client({ ...config, ...options }), "s3"),
      dynamodb: (options: ClientSettings = {}) =>
        wire(new DynamoDBClient({ ...config, ...options }), "dynamodb"),
      streams: (options: ClientSettings = {}) =>
        wire(new DynamoDBStreamsClient({ ...config, ...options }), "dynamodb-streams"),
      sqs: (options: ClientSettings = {}) => wire(new SQSClient({ ...config, ...options }), "sqs"),
    };
  }
}

/** Client settings the code under test passes (lib/replication/clients.ts `retrySettings`). */
export type ClientSettings = ReturnType<typeof retrySettings> | Record<string, never>;

/** A short view of what a call asked, for the timeline. */
function describeInput(call: ModelCall): string {
  const { input } = call;
  const text = (name: string): string | undefined => {
    const value = input[name];
    return typeof value === "string" ? value : undefined;
  };
  const parts = ["Bucket", "Key", "TableName", "QueueUrl"].flatMap((name) => text(name) ?? []);
  for (const name of ["CopySourceIfMatch", "IfMatch", "IfNoneMatch", "ConditionExpression"]) {
    const value = text(name);
    if (value !== undefined) parts.push(`${name}=${value}`);
  }
  return parts.length > 0 ? ` (${parts.join(" ")})` : "";
}

/**
 * Ends a client's requests at the scheduler: a middleware in the deserialize step (inside the
 * retry strategy, which is in finalizeRequest), so that every attempt is one call and the SDK
 * classifies every error as it would an answer of AWS.
 */
function attach(
  client: { middlewareStack: { add: (...args: never[]) => void } },
  send: (command: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>,
): void {
  const stack = client.middlewareStack as unknown as {
    add: (
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: string; name: string; priority: string },
    ) => void;
  };
  stack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? "").replace(/Command$/, "");
      const output = await send(command, args.input);
      return {
        output: { ...output, $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } },
        response: { statusCode: 200, headers: {}, body: undefined },
      };
    },
    { step: "deserialize", name: "simulationNetwork", priority: "high" },
  );
}
