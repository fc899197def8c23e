/**
 * Types of the in-memory Amazon S3 model (tools/simulation/model/s3.ts): its public options, the
 * inspection view of an object, the EventBridge events it emits, and the internal state of buckets,
 * keys, versions and multipart uploads shared by the s3-*.ts modules.
 *
 * The EventBridge shapes follow the S3 User Guide, "EventBridge event message structure"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), and, for which fields
 * each detail-type carries, the EventBridge schema registry as published in the AWS CDK's generated
 * `aws_s3.events` types (aws-cdk mixins-preview, `BucketEvents.*.ObjectType` and `*Props`): tag and
 * restore-expired events have no `size` and no `sequencer`; only Object Created and Object Deleted
 * carry a `sequencer`; restore completed/expired, storage class and access tier changes (S3 acting
 * by itself) carry no `source-ip-address`.
 */
import type { Body } from "./s3-body";
import type { Clock, Rng } from "./types";

export interface S3ModelOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly accountId: string;
}

export interface BucketOptions {
  readonly region: string;
  readonly versioning?: boolean;
  /** Amazon EventBridge notifications enabled on the bucket */
  readonly eventBridge?: boolean;
}

export type ArchiveStatus = "ARCHIVE_ACCESS" | "DEEP_ARCHIVE_ACCESS";

/** The current version of an object as the model holds it (inspection, not an AWS call). */
export interface S3ObjectView {
  readonly key: string;
  readonly versionId?: string;
  readonly body: Uint8Array;
  readonly etag: string;
  readonly lastModified: Date;
  readonly metadata: Record<string, string>;
  readonly contentType?: string;
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly expires?: Date;
  readonly websiteRedirectLocation?: string;
  readonly storageClass: string;
  readonly archiveStatus?: string;
  readonly restore?: { readonly ongoing: boolean; readonly expiry?: Date };
  readonly tags: Record<string, string>;
  readonly partsCount?: number;
}

// ---------------------------------------------------------------------------------------------
// EventBridge events (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html)
// ---------------------------------------------------------------------------------------------

interface S3EventEnvelope<Type extends string, Detail> {
  /** "version – Currently 0 (zero) for all events." */
  readonly version: "0";
  /** "id – A UUID generated for every event." */
  readonly id: string;
  readonly "detail-type": Type;
  readonly source: "aws.s3";
  /** "account – The 12-digit AWS account ID of the bucket owner." */
  readonly account: string;
  /** "time – The time the event occurred." (the docs' examples: "2021-11-12T00:00:00Z") */
  readonly time: string;
  /** "region – Identifies the AWS Region of the bucket." */
  readonly region: string;
  /** "resources – A JSON array that contains the Amazon Resource Name (ARN) of the bucket." */
  readonly resources: readonly string[];
  readonly detail: Detail;
}

interface S3EventDetailBase {
  readonly version: "0";
  /** "For event schema versioning, see the event-version field in the detail field." */
  readonly "event-version": "1.0";
  readonly bucket: { readonly name: string };
  /** "request-id — Request ID in S3 response." */
  readonly "request-id": string;
  /** "requester — AWS account ID or AWS service principal of requester." */
  readonly requester: string;
}

/** An object as an event names it; `key` is URL-encoded (see s3-events.ts). */
export interface S3EventObjectRef {
  readonly key: string;
  readonly "version-id"?: string;
}

export interface ObjectCreatedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & {
    readonly size: number;
    readonly etag: string;
    readonly sequencer: string;
  };
  readonly "source-ip-address": string;
  readonly reason: "PutObject" | "CopyObject" | "CompleteMultipartUpload";
}

export interface ObjectDeletedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly etag?: string; readonly sequencer: string };
  readonly "source-ip-address": string;
  readonly reason: "DeleteObject";
  readonly "deletion-type": "Permanently Deleted" | "Delete Marker Created";
}

export interface ObjectRestoreInitiatedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly size: number; readonly etag: string };
  readonly "source-ip-address": string;
  readonly "source-storage-class": string;
}

export interface ObjectRestoreCompletedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly size: number; readonly etag: string };
  readonly "restore-expiry-time"?: string;
  readonly "source-storage-class": string;
}

export interface ObjectRestoreExpiredDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly etag: string };
}

export interface ObjectStorageClassChangedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly size: number; readonly etag: string };
  readonly "destination-storage-class": string;
}

export interface ObjectAccessTierChangedDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly size: number; readonly etag: string };
  readonly "destination-access-tier": ArchiveStatus;
}

export interface ObjectTagsDetail extends S3EventDetailBase {
  readonly object: S3EventObjectRef & { readonly etag: string };
  readonly "source-ip-address": string;
}

export type S3EventBridgeEvent =
  | S3EventEnvelope<"Object Created", ObjectCreatedDetail>
  | S3EventEnvelope<"Object Deleted", ObjectDeletedDetail>
  | S3EventEnvelope<"Object Restore Initiated", ObjectRestoreInitiatedDetail>
  | S3EventEnvelope<"Object Restore Completed", ObjectRestoreCompletedDetail>
  | S3EventEnvelope<"Object Restore Expired", ObjectRestoreExpiredDetail>
  | S3EventEnvelope<"Object Storage Class Changed", ObjectStorageClassChangedDetail>
  | S3EventEnvelope<"Object Access Tier Changed", ObjectAccessTierChangedDetail>
  | S3EventEnvelope<"Object Tags Added", ObjectTagsDetail>
  | S3EventEnvelope<"Object Tags Deleted", ObjectTagsDetail>;

export type S3EventDetailType = S3EventBridgeEvent["detail-type"];

// ---------------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------------

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** System metadata the requester controls (Content-* headers, Expires). */
export interface ContentHeaders {
  readonly contentType?: string;
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  /** Epoch milliseconds, whole seconds (an HTTP date). */
  readonly expires?: number;
}

export interface RestoreState {
  ongoing: boolean;
  /** Epoch milliseconds of the restored copy's expiry (GLACIER / DEEP_ARCHIVE only). */
  expiry?: number;
}

/** What a write stores besides the body: everything a version carries that a request sets. */
export interface ObjectAttributes {
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: ContentHeaders;
  readonly websiteRedirectLocation?: string;
  readonly storageClass: string;
  readonly tags: readonly Tag[];
}

export interface ObjectVersion extends ObjectAttributes {
  /** "null" in a bucket without versioning. */
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly body: Body;
  /** With its quotes, as S3 sends it. */
  readonly etag: string;
  /** Epoch milliseconds, whole seconds. */
  readonly lastModified: number;
  /** Sizes of the parts of an object created by CompleteMultipartUpload. */
  readonly partSizes?: readonly number[];
  // Changed in place by sub-resource operations and S3 itself (no new version):
  storageClass: string;
  archiveStatus?: ArchiveStatus;
  restore?: RestoreState;
  tags: readonly Tag[];
}

export interface KeyEntry {
  /** Oldest first; the last one is the current version (possibly a delete marker). */
  versions: ObjectVersion[];
  /** Increments with every create or delete that takes effect on the key (409 detection). */
  generation: number;
  /** The last sequencer value emitted for the key (see s3-events.ts). */
  sequencer: bigint;
}

export interface Part {
  readonly body: Body;
  readonly etag: string;
  readonly lastModified: number;
}

export interface Upload {
  readonly id: string;
  readonly key: string;
  /** When CreateMultipartUpload took effect (epoch milliseconds, whole seconds). */
  readonly initiated: number;
  readonly attributes: ObjectAttributes;
  readonly parts: Map<number, Part>;
}

export interface BucketState {
  readonly name: string;
  readonly region: string;
  readonly versioning: boolean;
  readonly eventBridge: boolean;
  readonly keys: Map<string, KeyEntry>;
  readonly uploads: Map<string, Upload>;
}
