/**
 * What one invocation of the function does with what it was given: an S3 event (asynchronous
 * invocation by EventBridge) or a batch of DynamoDB stream records (event source mapping).
 * Failures that retrying will not fix, and events it does not replicate, become dead letters
 * (one per change and failed target, never one per attempt); stream records that failed on a
 * retryable error are reported by sequence number so that Lambda retries them.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sendDeadLetter, type DeadLetter, type DeadLetterSource } from "./dead-letter";
import { ForeignSourceError, MalformedEventError, summarizeError } from "./errors";
import {
  classifyEvent,
  parseItemRecord,
  parseObjectEvent,
  rawEventId,
  rawKey,
  rawSequenceNumber,
} from "./events";
import { logger } from "./logger";
import type { TargetFailure, TargetResult } from "./outcome";
import { isFailure, type Replicator } from "./replicator";
import { invocationBudget, UNLIMITED } from "./time-budget";

/** What an S3 event invocation returns (the async destination record's `responsePayload`). */
export interface ObjectReplicationSummary {
  readonly eventId: string;
  readonly key?: string;
  /** replicated: every target converged; dead-lettered: the event or some target was. */
  readonly status: "replicated" | "dead-lettered";
  readonly results: readonly { environment: string; action: string }[];
}

export type InvocationResult = ObjectReplicationSummary | DynamoDBBatchResponse;

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
    const budget =
      context === undefined
        ? UNLIMITED
        : invocationBudget(() => context.getRemainingTimeInMillis());
    const results = await replicator.replicateObject(change, { budget });
    const failures = results.filter(isFailure);
    await deadLetterFailures("eventbridge", event, failures);
    return {
      eventId,
      key: change.key,
      status: failures.length > 0 ? "dead-lettered" : "replicated",
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
    const failures = (await replicator.replicateItem(change)).filter(isFailure);
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

  const handle = async (event: unknown, context?: Context): Promise<InvocationResult> => {
    const shape = classifyEvent(event);
    switch (shape.shape) {
      case "dynamodb-stream":
        // Each record is checked by handleRecord; Powertools only needs the array.
        return handleStream({ Records: [...shape.records] as DynamoDBRecord[] }, context);
      case "eventbridge":
        return handleObjectEvent(shape.event, context);
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
