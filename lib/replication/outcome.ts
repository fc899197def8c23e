/** What applying one change to one target came to. */
import type { ErrorSummary } from "./errors";
import type { ReplicationTarget } from "./contract";

/** copied/put: written; deleted: removed; skipped: the replica already has this change or a newer one; absent: nothing to delete. */
export type AppliedAction = "copied" | "put" | "deleted" | "skipped" | "absent";

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
}

export type TargetResult = TargetSuccess | TargetFailure;
