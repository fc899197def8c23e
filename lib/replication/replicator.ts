/**
 * The replication core shared by the Lambda handler and the redrive command: routes an event,
 * reads the source once per change, serves every target in parallel, dead-letters what cannot
 * be applied, and builds the invocation result.
 */
import type { DynamoDBBatchResponse } from "aws-lambda";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ReplicationClients } from "./clients";
import { sendDeadLetter, type DeadLetter, type DeadLetterSource } from "./dead-letter";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import {
  ForeignSourceError,
  MalformedEventError,
  ReplicationFailedError,
  attemptsOf,
  isRetryable,
  summarizeError,
} from "./errors";
import {
  classifyEvent,
  parseItemRecord,
  parseObjectEvent,
  rawKey,
  rawRecordId,
  type ItemChange,
  type ObjectChange,
} from "./events";
import { applyItemChange, readSourceItem, type Item } from "./items";
import { changeLogger, logger } from "./logger";
import { applyObjectChange, readSourceObject } from "./objects";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";

const isFailure = (result: TargetResult): result is TargetFailure => !result.ok;

/** Records of one stream batch processed at once. */
const RECORD_CONCURRENCY = 8;

/** Result of an EventBridge invocation in which every target succeeded. */
export interface ObjectReplicationSummary {
  readonly eventId: string;
  readonly key?: string;
  readonly status: "replicated" | "dead-lettered";
  readonly results: readonly { environment: string; action: string }[];
}

export type HandlerResult = ObjectReplicationSummary | DynamoDBBatchResponse;

/** Outcome of one change: parsed (with per-target results) or rejected before any target. */
export type ChangeOutcome<C> =
  | { readonly kind: "applied"; readonly change: C; readonly results: readonly TargetResult[] }
  | {
      readonly kind: "rejected";
      readonly reason: "malformed-event" | "foreign-source";
      readonly error: Error;
    };

function keyOfItem(change: ItemChange): string {
  return JSON.stringify(change.keys);
}

async function serveTargets(
  targets: readonly ReplicationTarget[],
  eventId: string,
  key: string,
  apply: (target: ReplicationTarget, log: Logger) => Promise<AppliedAction>,
): Promise<TargetResult[]> {
  return Promise.all(
    targets.map(async (target): Promise<TargetResult> => {
      const log = changeLogger({ eventId, key, target: target.environment });
      try {
        const action = await apply(target, log);
        log.info("target replicated", { action });
        return { ok: true, target, action };
      } catch (error: unknown) {
        const failure: TargetResult = {
          ok: false,
          target,
          error: summarizeError(error),
          attempts: attemptsOf(error),
          retryable: isRetryable(error),
        };
        log.error("target failed", {
          error: failure.error,
          attempts: failure.attempts,
          retryable: failure.retryable,
        });
        return failure;
      }
    }),
  );
}

/** Every target fails with the same error (the source read failed before any target). */
function allFailed(targets: readonly ReplicationTarget[], error: unknown): TargetResult[] {
  return targets.map((target) => ({
    ok: false,
    target,
    error: summarizeError(error),
    attempts: attemptsOf(error),
    retryable: isRetryable(error),
  }));
}

function rejection(error: unknown): ChangeOutcome<never> {
  if (error instanceof ForeignSourceError)
    return { kind: "rejected", reason: "foreign-source", error };
  if (error instanceof MalformedEventError)
    return { kind: "rejected", reason: "malformed-event", error };
  throw error;
}

export interface Replicator {
  /** The Lambda entry: EventBridge S3 events and DynamoDB stream batches. */
  handle(event: unknown): Promise<HandlerResult>;
  /** Applies one EventBridge S3 event to the given targets (no dead-lettering). */
  replicateObjectEvent(
    event: unknown,
    targets?: readonly ReplicationTarget[],
  ): Promise<ChangeOutcome<ObjectChange>>;
  /** Applies one DynamoDB stream record to the given targets (no dead-lettering). */
  replicateItemRecord(
    record: unknown,
    targets?: readonly ReplicationTarget[],
  ): Promise<ChangeOutcome<ItemChange>>;
}

export function createReplicator(
  config: ReplicationSettings,
  clients: ReplicationClients,
): Replicator {
  const deadLetter = (letter: Omit<DeadLetter, "failedAt">): Promise<void> =>
    sendDeadLetter(clients.sqs, config.dlqUrl, { ...letter, failedAt: new Date().toISOString() });

  const replicateObjectEvent = async (
    event: unknown,
    targets: readonly ReplicationTarget[] = config.targets,
  ): Promise<ChangeOutcome<ObjectChange>> => {
    let change: ObjectChange;
    try {
      change = parseObjectEvent(event, config.sourceBucket);
    } catch (error: unknown) {
      return rejection(error);
    }
    // Read once per event; the targets start their own reads meanwhile and then wait for it.
    const sourceRead = readSourceObject(clients.s3, change.bucket, change.key);
    const sourceFailure = sourceRead.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const results = await serveTargets(targets, change.eventId, change.key, (target, log) =>
      applyObjectChange(clients.s3, change, target, sourceRead, log),
    );
    const failed = await sourceFailure;
    if (failed !== undefined) {
      changeLogger({ eventId: change.eventId, key: change.key }).error("source read failed", {
        error: summarizeError(failed.error),
      });
      return { kind: "applied", change, results: allFailed(targets, failed.error) };
    }
    return { kind: "applied", change, results };
  };

  const replicateItemRecord = async (
    record: unknown,
    targets: readonly ReplicationTarget[] = config.targets,
  ): Promise<ChangeOutcome<ItemChange>> => {
    let change: ItemChange;
    try {
      change = parseItemRecord(record, config.sourceTable);
    } catch (error: unknown) {
      return rejection(error);
    }
    const key = keyOfItem(change);
    let source: Item | undefined;
    try {
      source = await readSourceItem(clients.dynamodb, change.table, change.keys);
    } catch (error: unknown) {
      changeLogger({ eventId: change.eventId, key }).error("source read failed", {
        error: summarizeError(error),
      });
      return { kind: "applied", change, results: allFailed(targets, error) };
    }
    const results = await serveTargets(targets, change.eventId, key, (target) =>
      applyItemChange(clients.dynamodb, change, target, source),
    );
    return { kind: "applied", change, results };
  };

  const rejectAndDeadLetter = async (
    source: DeadLetterSource,
    event: unknown,
    outcome: Extract<ChangeOutcome<unknown>, { kind: "rejected" }>,
    eventId: string,
  ): Promise<void> => {
    logger.error("event rejected", {
      eventId,
      key: rawKey(event),
      reason: outcome.reason,
      error: summarizeError(outcome.error),
    });
    await deadLetter({
      reason: outcome.reason,
      source,
      event,
      error: summarizeError(outcome.error),
    });
  };

  const deadLetterFailures = async (
    source: DeadLetterSource,
    event: unknown,
    failures: readonly TargetFailure[],
  ): Promise<void> => {
    for (const failure of failures) {
      await deadLetter({
        reason: "target-failed",
        source,
        event,
        target: failure.target,
        error: failure.error,
        attempts: failure.attempts,
      });
    }
  };

  const handleEventBridge = async (event: unknown): Promise<ObjectReplicationSummary> => {
    const outcome = await replicateObjectEvent(event);
    const eventId = rawEventId(event);
    if (outcome.kind === "rejected") {
      await rejectAndDeadLetter("eventbridge", event, outcome, eventId);
      return { eventId, status: "dead-lettered", results: [] };
    }
    const failures = outcome.results.filter(isFailure);
    await deadLetterFailures("eventbridge", event, failures);
    if (failures.length > 0) {
      throw new ReplicationFailedError(
        `${failures.length} of ${outcome.results.length} targets failed for ${outcome.change.key} (event ${eventId}): ` +
          failures.map((failure) => failure.target.environment).join(", "),
      );
    }
    return {
      eventId,
      key: outcome.change.key,
      status: "replicated",
      results: outcome.results.map((result) => ({
        environment: result.target.environment,
        action: result.ok ? result.action : "failed",
      })),
    };
  };

  /**
   * Stream records: a record that failed on some target with a retryable error is reported in
   * batchItemFailures (the event source mapping retries it; targets that succeeded skip it);
   * permanent failures, malformed and foreign records go to the DLQ and are not reported.
   */
  const handleRecord = async (record: unknown): Promise<boolean> => {
    const outcome = await replicateItemRecord(record);
    if (outcome.kind === "rejected") {
      await rejectAndDeadLetter(
        "dynamodb-stream",
        record,
        outcome,
        rawRecordId(record) ?? "unknown",
      );
      return true;
    }
    const failures = outcome.results.filter(isFailure);
    const retryable = failures.filter((failure) => failure.retryable);
    const permanent = failures.filter((failure) => !failure.retryable);
    await deadLetterFailures("dynamodb-stream", record, permanent);
    return retryable.length === 0;
  };

  const handleStream = async (records: readonly unknown[]): Promise<DynamoDBBatchResponse> => {
    const failed: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < records.length) {
        const record = records[next++];
        let ok: boolean;
        try {
          ok = await handleRecord(record);
        } catch (error: unknown) {
          logger.error("record could not be dead-lettered", {
            eventId: rawRecordId(record),
            error: summarizeError(error),
          });
          ok = false;
        }
        const id = rawRecordId(record);
        if (!ok && id !== undefined) failed.push(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECORD_CONCURRENCY, records.length) }, worker));
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };

  const handle = async (event: unknown): Promise<HandlerResult> => {
    const shape = classifyEvent(event);
    switch (shape.shape) {
      case "dynamodb-stream":
        return handleStream(shape.records);
      case "eventbridge":
        return handleEventBridge(shape.event);
      case "unknown": {
        const error = new MalformedEventError(
          "neither an EventBridge event nor a DynamoDB stream batch",
        );
        await rejectAndDeadLetter(
          "eventbridge",
          event,
          { kind: "rejected", reason: "malformed-event", error },
          "unknown",
        );
        return { eventId: "unknown", status: "dead-lettered", results: [] };
      }
    }
  };

  return { handle, replicateObjectEvent, replicateItemRecord };
}

/** The EventBridge envelope id, or "unknown" for events without one. */
export function rawEventId(event: unknown): string {
  if (typeof event === "object" && event !== null && "id" in event) {
    const id = event.id;
    if (typeof id === "string") return id;
  }
  return "unknown";
}
