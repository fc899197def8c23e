/**
 * What one invocation of the function does with what it was given: an S3 event (asynchronous
 * invocation by EventBridge), a batch of DynamoDB stream records (event source mapping), or an
 * S3 Batch Operations task (synchronous invocation by a resync job).
 * Failures that retrying will not fix, and events it does not replicate, become dead letters
 * (one per change and failed target, never one per attempt); stream records that failed on a
 * retryable error are reported by sequence number so that Lambda retries them. A change is
 * counted in the metrics once, by the attempt that settles it: a stream record that Lambda
 * delivers again (it, or a record before it, was reported) and a Batch Operations task answered
 * TemporaryFailure are neither dead-lettered nor counted on that attempt.
 */
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  S3BatchResult,
  S3BatchResultResult,
} from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendDeadLetter, type DeadLetter, type DeadLetterSource } from "./dead-letter";
import { ForeignSourceError, MalformedEventError, summarizeError } from "./errors";
import {
  BATCH_TARGETS_ARGUMENT,
  classifyEvent,
  parseBatchOperationsEvent,
  parseItemRecord,
  parseObjectEvent,
  rawEventId,
  rawKey,
  rawKeys,
  rawSequenceNumber,
  type ItemChange,
  type ObjectChange,
} from "./events";
import { logger } from "./logger";
import type { TargetFailure, TargetResult } from "./outcome";
import { recordResults, type MetricsSink } from "./metrics";
import { loggedKeys, sealRecord, type Masking } from "./masking-key";
import { isFailure, type Replicator } from "./replicator";
import { resyncObject } from "./resync";
import { invocationBudget, UNLIMITED, type TimeBudget } from "./time-budget";

/** What an S3 event invocation returns (the async destination record's `responsePayload`). */
export interface ObjectReplicationSummary {
  readonly eventId: string;
  readonly key?: string;
  /**
   * replicated: every target converged; archived: none failed, and some wait for the source to be
   * restored; dead-lettered: the event or some target was.
   */
  readonly status: "replicated" | "archived" | "dead-lettered";
  readonly results: readonly { environment: string; action: string }[];
}

export type InvocationResult = ObjectReplicationSummary | DynamoDBBatchResponse | S3BatchResult;

/** What processing one stream record came to, before anything is sent for it. */
type RecordOutcome =
  | { readonly rejected: MalformedEventError | ForeignSourceError }
  | { readonly change: ItemChange; readonly results: readonly TargetResult[] };

/** Stream order of two records (by sequence number; a record without one sorts first). */
const compareSequence = (a: DynamoDBRecord, b: DynamoDBRecord): number => {
  const left = BigInt(rawSequenceNumber(a) ?? "0");
  const right = BigInt(rawSequenceNumber(b) ?? "0");
  return left < right ? -1 : left > right ? 1 : 0;
};

/** A stream record failed on a target with a retryable error: Lambda should deliver it again. */
export class RetryableRecordError extends Error {
  override readonly name = "RetryableRecordError";
}

/** A failed stream record without a sequence number cannot be reported: fail the whole batch. */
export class UnreportableRecordError extends Error {
  override readonly name = "UnreportableRecordError";
}

export interface InvocationDependencies {
  readonly replicator: Replicator;
  /** The masking the replicator applies: dead letters seal what it masks. @default none */
  readonly masking?: Masking;
  /** Where the settled changes are counted (Powertools Metrics). @default not counted */
  readonly metrics?: MetricsSink;
  /** Read only when a dead letter is sent (it may be a getter that creates the client then). */
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
}

export interface InvocationHandler {
  handle(event: unknown, context?: Context): Promise<InvocationResult>;
}

function describeResults(results: readonly TargetResult[]) {
  return results.map((result) => ({
    environment: result.target.environment,
    action: result.ok ? result.action : "failed",
  }));
}

export function createInvocationHandler(deps: InvocationDependencies): InvocationHandler {
  const { replicator } = deps;
  const { sourceBucket, sourceTable } = replicator.settings;
  const count = (
    kind: "object" | "item",
    change: Pick<ObjectChange, "time">,
    results: readonly TargetResult[],
  ): void => {
    if (deps.metrics !== undefined) recordResults(deps.metrics, kind, change, results);
  };

  /** A dead letter never carries a value the rules mask: a stream record's keys are sealed. */
  const deadLetter = async (letter: Omit<DeadLetter, "failedAt">): Promise<void> => {
    const event =
      letter.source === "dynamodb-stream"
        ? await sealRecord(deps.masking, letter.event)
        : letter.event;
    await sendDeadLetter(deps.sqs, deps.dlqUrl, {
      ...letter,
      event,
      failedAt: new Date().toISOString(),
    });
  };

  /** The invocation's time budget for copies (none outside Lambda). */
  const budgetOf = (context: Context | undefined): TimeBudget =>
    context === undefined ? UNLIMITED : invocationBudget(() => context.getRemainingTimeInMillis());

  /** Malformed and foreign events are dead-lettered once, for a person to look at. */
  const reject = async (source: DeadLetterSource, event: unknown, error: unknown) => {
    if (!(error instanceof MalformedEventError || error instanceof ForeignSourceError)) {
      throw error;
    }
    const reason = error instanceof ForeignSourceError ? "foreign-source" : "malformed-event";
    const keys = rawKeys(event);
    logger.error("event rejected", {
      eventId: rawEventId(event),
      key: keys === undefined ? rawKey(event) : await loggedKeys(deps.masking, keys),
      reason,
      error: summarizeError(error),
    });
    await deadLetter({ reason, source, event, error: summarizeError(error) });
  };

  const deadLetterFailures = async (
    source: DeadLetterSource,
    event: unknown,
    failures: readonly TargetFailure[],
  ): Promise<void> => {
    for (const failed of failures) {
      await deadLetter({
        reason: failed.reason ?? "target-failed",
        source,
        event,
        target: failed.target,
        error: failed.error,
        attempts: failed.attempts,
      });
    }
  };

  /**
   * One S3 event. A target that still fails after the SDK's retries is dead-lettered and the
   * invocation succeeds: failing it would make Lambda run it twice more and dead-letter it again
   * each time. Only a failure to dead-letter fails the invocation (Lambda then retries it, and
   * the async on-failure destination keeps the event).
   */
  const handleObjectEvent = async (
    event: unknown,
    context: Context | undefined,
  ): Promise<ObjectReplicationSummary> => {
    const eventId = rawEventId(event);
    let change;
    try {
      change = parseObjectEvent(event, sourceBucket);
    } catch (error: unknown) {
      await reject("eventbridge", event, error);
      return { eventId, status: "dead-lettered", results: [] };
    }
    const results = await replicator.replicateObject(change, { budget: budgetOf(context) });
    const failures = results.filter(isFailure);
    await deadLetterFailures("eventbridge", event, failures);
    count("object", change, results);
    const archived = results.some((result) => result.ok && result.action === "archived");
    return {
      eventId,
      key: change.key,
      status: failures.length > 0 ? "dead-lettered" : archived ? "archived" : "replicated",
      results: describeResults(results),
    };
  };

  /**
   * One stream record: replicated (or found malformed or foreign), nothing sent yet. Retryable
   * failures throw, so that the batch processor reports the record by its sequence number and
   * Lambda delivers it again (targets that succeeded skip it then).
   */
  const processRecord = async (
    record: DynamoDBRecord,
    outcomes: Map<DynamoDBRecord, RecordOutcome>,
  ): Promise<void> => {
    let change;
    try {
      change = parseItemRecord(record, sourceTable);
    } catch (error: unknown) {
      if (!(error instanceof MalformedEventError || error instanceof ForeignSourceError)) {
        throw error;
      }
      outcomes.set(record, { rejected: error });
      return;
    }
    const results = await replicator.replicateItem(change);
    outcomes.set(record, { change, results });
    const retryable = results.filter(isFailure).filter((failed) => failed.retryable);
    if (retryable.length > 0) {
      throw new RetryableRecordError(
        `${retryable.map((failed) => failed.target.environment).join(", ")}: ` +
          retryable.map((failed) => `${failed.error.name} ${failed.error.message}`).join("; "),
      );
    }
  };

  /**
   * A record Lambda will not deliver again: its permanent failures are dead-lettered (once per
   * failed target), it is counted, and a malformed or foreign record is dead-lettered. Throws when
   * a dead letter cannot be sent (the record is then reported, and delivered again).
   */
  const settleRecord = async (record: DynamoDBRecord, outcome: RecordOutcome): Promise<void> => {
    if ("rejected" in outcome) {
      await reject("dynamodb-stream", record, outcome.rejected);
      return;
    }
    await deadLetterFailures("dynamodb-stream", record, outcome.results.filter(isFailure));
    count("item", outcome.change, outcome.results);
  };

  /**
   * A stream batch through Powertools' batch processor: failed records are reported as
   * `batchItemFailures[].itemIdentifier` = `dynamodb.SequenceNumber`, on which Lambda checkpoints
   * ("Configuring partial batch response with DynamoDB and Lambda",
   * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html: "Lambda
   * checkpoints ... the lowest sequence number" and retries the batch from there). So a record
   * at or after the lowest reported one is delivered again, and only the records before it are
   * settled now, in stream order. When every record failed it throws, so the invocation fails and
   * Lambda bisects or retries.
   */
  const handleStream = async (
    event: { Records: DynamoDBRecord[] },
    context: Context | undefined,
  ): Promise<DynamoDBBatchResponse> => {
    const outcomes = new Map<DynamoDBRecord, RecordOutcome>();
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const response = await processPartialResponse(
      event,
      (record: DynamoDBRecord) => processRecord(record, outcomes),
      processor,
      { ...(context === undefined ? {} : { context }) },
    );
    // Powertools leaves out a failed record without a sequence number: reporting nothing for
    // it would tell Lambda it succeeded.
    const unreportable = processor.failureMessages.filter(
      (record) => rawSequenceNumber(record) === undefined,
    );
    if (unreportable.length > 0) {
      throw new UnreportableRecordError(
        `${unreportable.length} failed stream record(s) have no SequenceNumber to report`,
      );
    }
    // The lowest reported record, by the sequence number as Lambda gave it.
    let lowest = response.batchItemFailures.reduce<{ at: bigint; id: string } | undefined>(
      (low, { itemIdentifier: id }) =>
        low === undefined || BigInt(id) < low.at ? { at: BigInt(id), id } : low,
      undefined,
    );
    const ordered = [...outcomes].sort(([a], [b]) => compareSequence(a, b));
    for (const [record, outcome] of ordered) {
      const id = rawSequenceNumber(record) ?? "0";
      if (lowest !== undefined && BigInt(id) >= lowest.at) break;
      try {
        await settleRecord(record, outcome);
      } catch (error: unknown) {
        if (rawSequenceNumber(record) === undefined) {
          throw new UnreportableRecordError(
            `a stream record without a SequenceNumber could not be dead-lettered: ${summarizeError(error).message}`,
          );
        }
        // Not even dead-lettered: reported, so that Lambda delivers it (and what follows) again.
        logger.error("dead letter failed; the record is reported", {
          eventId: rawEventId(record),
          error: summarizeError(error),
        });
        lowest = { at: BigInt(id), id };
      }
    }
    const { batchItemFailures } = response;
    if (lowest === undefined || batchItemFailures.some((f) => f.itemIdentifier === lowest.id)) {
      return response;
    }
    return { batchItemFailures: [...batchItemFailures, { itemIdentifier: lowest.id }] };
  };

  /** The targets the job names in its user arguments (all when it names none), or a problem. */
  const jobTargets = (userArguments: Readonly<Record<string, string>>) => {
    const all = replicator.settings.targets;
    const named = userArguments[BATCH_TARGETS_ARGUMENT];
    if (named === undefined) return all;
    const names = named.split(",").map((name) => name.trim());
    const unknown = names.filter((name) => !all.some((target) => target.environment === name));
    if (unknown.length > 0) {
      return `user argument ${BATCH_TARGETS_ARGUMENT} names unknown targets ${unknown.map((name) => `"${name}"`).join(", ")} (known: ${all.map((target) => target.environment).join(", ")})`;
    }
    return all.filter((target) => names.includes(target.environment));
  };

  /**
   * One S3 Batch Operations invocation: each task's key is resynced into the targets, and each
   * task is answered with a result code (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html):
   * `Succeeded` when every target converged, `TemporaryFailure` when a target failed on a
   * retryable error (throttling, 5xx, network: Batch Operations redrives the task), and
   * `PermanentFailure` otherwise (the job's completion report lists it). Nothing is
   * dead-lettered per task: the completion report is the record of what failed.
   */
  const handleBatchOperations = async (
    event: unknown,
    context: Context | undefined,
  ): Promise<S3BatchResult | ObjectReplicationSummary> => {
    let invocation;
    try {
      invocation = parseBatchOperationsEvent(event, sourceBucket);
    } catch (error: unknown) {
      await reject("batch-operations", event, error);
      return { eventId: rawEventId(event), status: "dead-lettered", results: [] };
    }
    const targets = jobTargets(invocation.userArguments);
    const budget = budgetOf(context);
    const results = await Promise.all(
      invocation.tasks.map(async (task): Promise<S3BatchResultResult> => {
        const { taskId } = task;
        if (!task.ok) {
          logger.error("batch task rejected", { taskId, error: summarizeError(task.error) });
          return {
            taskId,
            resultCode: "PermanentFailure",
            resultString: `${task.error.name}: ${task.error.message}`,
          };
        }
        if (typeof targets === "string") {
          return { taskId, resultCode: "PermanentFailure", resultString: targets };
        }
        const outcome = await resyncObject(replicator, task.change.key, {
          targets,
          eventId: task.change.eventId,
          description: task.change.description,
          budget,
        });
        const failures = outcome.filter(isFailure);
        const temporary = failures.some((failed) => failed.retryable);
        // A task Batch Operations runs again (TemporaryFailure) is counted when it settles.
        if (!temporary) count("object", task.change, outcome);
        if (failures.length === 0) {
          return {
            taskId,
            resultCode: "Succeeded",
            resultString: describeResults(outcome)
              .map((result) => `${result.environment}: ${result.action}`)
              .join(", "),
          };
        }
        return {
          taskId,
          resultCode: temporary ? "TemporaryFailure" : "PermanentFailure",
          resultString: failures
            .map((f) => `${f.target.environment}: ${f.error.name} ${f.error.message}`)
            .join("; "),
        };
      }),
    );
    return {
      invocationSchemaVersion: invocation.invocationSchemaVersion,
      treatMissingKeysAs: "PermanentFailure",
      invocationId: invocation.invocationId,
      results,
    };
  };

  const handle = async (event: unknown, context?: Context): Promise<InvocationResult> => {
    const shape = classifyEvent(event);
    switch (shape.shape) {
      case "dynamodb-stream":
        // Each record is checked by handleRecord; Powertools only needs the array.
        return handleStream({ Records: [...shape.records] as DynamoDBRecord[] }, context);
      case "eventbridge":
        return handleObjectEvent(shape.event, context);
      case "batch-operations":
        return handleBatchOperations(shape.event, context);
      case "unknown":
        await reject(
          "eventbridge",
          event,
          new MalformedEventError("neither an EventBridge event nor a DynamoDB stream batch"),
        );
        return { eventId: rawEventId(event), status: "dead-lettered", results: [] };
    }
  };

  return { handle };
}
