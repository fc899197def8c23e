/**
 * The interface between the deterministic simulation's scheduler (tools/simulation/) and its model
 * of AWS (tools/simulation/model/). The model is the oracle: it is written from AWS's
 * documentation, never from the code under test. Every behaviour a model implements carries, in a
 * comment beside it, the AWS documentation page it comes from (URL and the sentence relied on);
 * where the documentation is silent, the model takes the choice that is hardest for a client and
 * says so ("Silent: ..."), and each file's header lists those choices.
 *
 * A call is one AWS SDK v3 command as the client would send it: the command's name without the
 * `Command` suffix (`HeadObject`, `PutItem`, `ReceiveMessage`) and the command's input object,
 * exactly as typed by the SDK (`HeadObjectCommandInput`, ...). Its answer is the SDK's output
 * object without `$metadata` (the scheduler adds it), or an error thrown exactly as the SDK would
 * throw it (the service's exception class or its `ServiceException` with `name`, `$fault` and
 * `$metadata.httpStatusCode` set), so that the SDK's own retry strategy classifies it as it would
 * classify AWS's answer.
 *
 * Time is virtual: models read it from the `Clock` they are given (milliseconds since the epoch)
 * and never from `Date.now()`; randomness comes only from the `Rng` they are given (a seeded
 * generator owned by the scheduler), so a run is reproducible from its seed.
 */

export type ServiceName = "s3" | "dynamodb" | "dynamodb-streams" | "sqs";

export interface Clock {
  /** Virtual milliseconds since the epoch. */
  now(): number;
}

/** A seeded generator of numbers in [0, 1), owned by the scheduler. */
export type Rng = () => number;

export interface ModelCall {
  readonly service: ServiceName;
  /** The region of the client that sent it (a bucket or table of another region answers as AWS does). */
  readonly region: string;
  /** The SDK command's name without `Command`: `CopyObject`, `GetRecords`, ... */
  readonly command: string;
  /** The SDK command's input, as the client passed it. */
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * One call in progress at the service. `start` has run: whatever the service reads when a long
 * operation begins (a copy's source) is read then, as the model documents. The scheduler calls
 * `finish` once, at the virtual time the operation takes effect, and may let any number of other
 * operations start and finish in between.
 */
export interface ModelOperation {
  /**
   * How long, in virtual milliseconds, the service takes from the start of this call to its
   * effect (for example a copy's size over a documented or stated rate). The scheduler may take
   * longer, never less.
   */
  readonly durationMs: number;
  /**
   * Applies the call's effect atomically at the clock's current time and returns the SDK's output
   * object without `$metadata`, or throws the error the SDK would throw.
   */
  finish(): Record<string, unknown>;
}

/** An error AWS documents for a call, that the scheduler may answer instead of the model. */
export interface DocumentedFault {
  /** The error code, as AWS documents it (`SlowDown`, `ProvisionedThroughputExceededException`). */
  readonly name: string;
  readonly httpStatusCode: number;
  /** The AWS page that documents it for this call. */
  readonly source: string;
  /** The error, built as the SDK would throw it for this answer. */
  error(): Error;
}

/** One service's model. */
export interface ServiceModel {
  readonly service: ServiceName;
  /** Starts a call; never throws (errors are thrown by `finish`). */
  start(call: ModelCall): ModelOperation;
  /**
   * The transient errors AWS documents for this call (throttling, 5xx): what the scheduler may
   * inject instead of a response, with the call's effect either not applied or (for a response
   * lost on the way back) applied.
   */
  faults(call: ModelCall): readonly DocumentedFault[];
}

/**
 * A model that changes by itself as time passes (a restore that completes, a message whose
 * visibility timeout ends, a stream record past retention, a retry that comes due). The scheduler
 * advances the clock to `nextDue()` when nothing else is ready, then calls `runDue()`.
 */
export interface TimedModel {
  /** The earliest virtual time at which something will happen by itself; `undefined`: nothing. */
  nextDue(): number | undefined;
  /** Does everything due at the clock's current time. */
  runDue(): void;
}
