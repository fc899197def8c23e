/**
 * What one invocation of the function does with what it was given: an S3 event (asynchronous
 * invocation by EventBridge), a batch of DynamoDB stream records (event source mapping), or an
 * S3 Batch Operations task (synchronous invocation by a resync job).
 * Failures that retrying will not fix, and events it does not replicate, become dead letters
 * (one per change and failed target, never one per attempt); stream records that failed on a
 * retryable error are reported by sequence number so that Lambda retries them.
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
  rawSequenceNumber,
} from "./events";
import { logger } from "./logger";
import type { TargetFailure, TargetResult } from "./outcome";
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

  const deadLetter = (letter: Omit<DeadLetter, "failedAt">): Promise<void> =>
    sendDeadLetter(deps.sqs, deps.dlqUrl, { ...letter, failedAt: new Date().toISOString() });

  /** The invocation's time budget for copies (none outside Lambda). */
  const budgetOf = (context: Context | undefined): TimeBudget =>
    context === undefined ? UNLIMITED : invocationBudget(() => context.getRemainingTimeInMillis());

  /** Malformed and foreign events are dead-lettered once, for a person to look at. */
  const reject = async (source: DeadLetterSource, event: unknown, error: unknown) => {
    if (!(error instanceof MalformedEventError || error instanceof ForeignSourceError)) {
      throw error;
    }
    const reason = error instanceof ForeignSourceError ? "foreign-source" : "malformed-event";
    logger.error("event rejected", {
      eventId: rawEventId(event),
      key: rawKey(event),
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
    const archived = results.some((result) => result.ok && result.action === "archived");
    return {
      eventId,
      key: change.key,
      status: failures.length > 0 ? "dead-lettered" : archived ? "archived" : "replicated",
      results: describeResults(results),
    };
  };

  /**
   * One stream record. Retryable failures throw, so that the batch processor reports the record
   * by its sequence number and Lambda delivers it again (targets that succeeded skip it then). A
   * record whose failures are all permanent is dead-lettered per failed target and not reported.
   */
  const handleRecord = async (record: DynamoDBRecord): Promise<void> => {
    let change;
    try {
      change = parseItemRecord(record, sourceTable);
    } catch (error: unknown) {
      await reject("dynamodb-stream", record, error);
      return;
    }
    // A retryable failure throws below, so Lambda delivers the record again.
    const failures = (await replicator.replicateItem(change, { retried: true })).filter(isFailure);
    const retryable = failures.filter((failed) => failed.retryable);
    if (retryable.length > 0) {
      throw new RetryableRecordError(
        `${retryable.map((failed) => failed.target.environment).join(", ")}: ` +
          retryable.map((failed) => `${failed.error.name} ${failed.error.message}`).join("; "),
      );
    }
    await deadLetterFailures("dynamodb-stream", record, failures);
  };

  /**
   * A stream batch through Powertools' batch processor: failed records are reported as
   * `batchItemFailures[].itemIdentifier` = `dynamodb.SequenceNumber`, on which Lambda checkpoints
   * ("Configuring partial batch response with DynamoDB and Lambda",
   * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html). When
   * every record failed it throws, so the invocation fails and Lambda bisects or retries.
   */
  const handleStream = async (
    event: { Records: DynamoDBRecord[] },
    context: Context | undefined,
  ): Promise<DynamoDBBatchResponse> => {
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const response = await processPartialResponse(event, handleRecord, processor, {
      ...(context === undefined ? {} : { context }),
    });
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
    return response;
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
          // A retryable failure answers TemporaryFailure: Batch Operations runs the task again.
          retried: true,
        });
        const failures = outcome.filter(isFailure);
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
          resultCode: failures.some((failed) => failed.retryable)
            ? "TemporaryFailure"
            : "PermanentFailure",
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
