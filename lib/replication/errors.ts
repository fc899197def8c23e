/** Named errors of the replication Lambda and the classification of AWS errors it relies on. */
import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";

/**
 * A change that retrying cannot fix as it stands: it is dead-lettered at once, with `reason`, for
 * an operator (redrive, resync) rather than retried.
 */
export abstract class PermanentChangeError extends Error {
  abstract readonly reason: "metadata-too-large" | "time-budget" | "masking-key" | "unparseable";
}

/**
 * The source's user metadata leaves no room for the replication markers within S3's 2 KB limit
 * for user-defined metadata (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html).
 */
export class MetadataTooLargeError extends PermanentChangeError {
  override readonly name = "MetadataTooLargeError";
  readonly reason = "metadata-too-large";
}

/**
 * A copy that cannot finish in the invocation's remaining time: not started (or its multipart
 * upload aborted), so that redrive or resync, which have no time limit, completes it.
 */
export class TimeBudgetError extends PermanentChangeError {
  override readonly name = "TimeBudgetError";
  readonly reason = "time-budget";
}

/**
 * The source or a replica kept changing while a change was converged: trying again later (when
 * it is quieter) settles it, so it is retryable like a throttling error.
 */
export class ChangeRaceError extends Error {}

/**
 * A source object under a masked format (json, jsonl, csv) could not be parsed as that format: it
 * is not replicated, and the dead letter names the key and the reason (a line or row number),
 * never the content.
 */
export class UnparseableObjectError extends PermanentChangeError {
  override readonly name = "UnparseableObjectError";
  readonly reason = "unparseable";
}

/** The event could not be parsed or is not one this function handles. */
export class MalformedEventError extends Error {
  override readonly name = "MalformedEventError";
}

/** The event names a bucket or table other than the configured source. */
export class ForeignSourceError extends Error {
  override readonly name = "ForeignSourceError";
}

/** What a DLQ message and a log line say about an error. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
}

export function summarizeError(error: unknown): ErrorSummary {
  if (error instanceof Error) {
    return { name: error.name, message: error.message };
  }
  return { name: "Error", message: String(error) };
}

/** How many attempts the SDK made for the failed call (1 when unknown). */
export function attemptsOf(error: unknown): number {
  if (typeof error === "object" && error !== null && "$metadata" in error) {
    const metadata = (error as { $metadata?: { attempts?: number } }).$metadata;
    return metadata?.attempts ?? 1;
  }
  return 1;
}

/** HTTP status of an SDK error, when it has one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "$metadata" in error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
  return undefined;
}

/**
 * True when the error is one the SDK's standard strategy treats as retryable (throttling,
 * transient network error, 5xx): it is worth retrying the record later, unlike AccessDenied.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof PermanentChangeError) return false;
  if (error instanceof ChangeRaceError) return true;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}
