/** What applying one change to one target came to. */
import type { ErrorSummary, PermanentChangeError } from "./errors";
import type { ReplicationTarget } from "./contract";

/**
 * copied/put: written; tagged: the replica's tags set; deleted: removed; skipped: the replica
 * already has this change, a newer one, or the source's current state; absent: nothing to delete;
 * archived: the source object is archived (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering archive
 * tier) and cannot be copied until it is restored, when its `Object Restore Completed` event
 * copies it (a counted outcome, not a failure: S3 Replication does not replicate such objects
 * either); excluded: the key is under a prefix the masking rules exclude (never replicated).
 */
export type AppliedAction =
  "copied" | "put" | "tagged" | "deleted" | "skipped" | "absent" | "archived" | "excluded";

export interface TargetSuccess {
  readonly ok: true;
  readonly target: ReplicationTarget;
  readonly action: AppliedAction;
}

export interface TargetFailure {
  readonly ok: false;
  readonly target: ReplicationTarget;
  readonly error: ErrorSummary;
  readonly attempts: number;
  /** The SDK classes the error as retryable (throttling, 5xx, network): worth retrying later. */
  readonly retryable: boolean;
  /** Set when the change cannot be applied as it stands (see `PermanentChangeError`). */
  readonly reason?: PermanentChangeError["reason"];
}

export type TargetResult = TargetSuccess | TargetFailure;
