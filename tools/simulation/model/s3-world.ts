/**
 * The state of the S3 model and the helpers every operation shares: buckets and their keys, the
 * clock and rng, identifiers, the bucket lookup every call starts with (missing bucket, other
 * Region), version lookup, and the timers S3 runs by itself (restore completion and expiry).
 *
 * Silent choices (this file):
 * - Version IDs are 32 characters of [A-Za-z0-9._] (the docs' examples look so:
 *   "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"); request IDs 16 of [A-Z0-9] ("N4N7GDK58NMKJ12R"); upload
 *   IDs 64 of [A-Za-z0-9._-]; all drawn from the rng.
 * - Every call is assumed to hold every permission (s3:ListBucket included, so a missing key is a
 *   404, not a 403).
 */
import {
  noSuchBucket,
  noSuchKey,
  noSuchVersion,
  methodNotAllowed,
  permanentRedirect,
  s3Error,
} from "./s3-errors";
import type { Answer } from "./s3-errors";
import type { BucketState, KeyEntry, ObjectVersion, S3EventBridgeEvent } from "./s3-types";
import type { Clock, ModelCall, Rng } from "./types";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

export interface Timer {
  readonly due: number;
  readonly order: number;
  /** False once the state the timer acts on is gone (a replaced version, a cancelled restore). */
  readonly live: () => boolean;
  readonly run: () => void;
}

export class S3World {
  readonly buckets = new Map<string, BucketState>();
  private readonly listeners: ((event: S3EventBridgeEvent) => void)[] = [];
  private timers: Timer[] = [];
  private timerOrder = 0;

  constructor(
    readonly clock: Clock,
    readonly rng: Rng,
    readonly accountId: string,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** The current time at the whole-second resolution of Last-Modified. */
  nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000) * 1000;
  }

  /** An integer in [0, n). */
  randomInt(n: number): number {
    return Math.min(Math.floor(this.rng() * n), n - 1);
  }

  randomString(length: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet.charAt(this.randomInt(alphabet.length));
    return out;
  }

  versionId(): string {
    return this.randomString(32, `${ALNUM}._`);
  }

  requestId(): string {
    return this.randomString(16, UPPER_ALNUM);
  }

  uploadId(): string {
    return this.randomString(64, `${ALNUM}._-`);
  }

  /** A version 4 UUID drawn from the rng. */
  uuid(): string {
    const hex = this.randomString(32, "0123456789abcdef").split("");
    hex[12] = "4";
    hex[16] = "89ab".charAt(this.randomInt(4));
    const s = hex.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  // --------------------------------------------------------------------------------------------
  // Buckets, keys, versions
  // --------------------------------------------------------------------------------------------

  /**
   * The bucket a call addresses. A missing bucket: "NoSuchBucket — The specified bucket does not
   * exist. — 404". A bucket of another Region than the client's: "PermanentRedirect — The bucket
   * you are attempting to access must be addressed using the specified endpoint. — 301"
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
   */
  bucketFor(call: ModelCall, name: string, answer: Answer = "body"): BucketState {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket(name, answer);
    if (bucket.region !== call.region) throw permanentRedirect(name, bucket.region, answer);
    this.checkOwner(call.input.ExpectedBucketOwner, answer);
    return bucket;
  }

  /** A bucket addressed as a copy source: cross-Region copies are allowed. */
  sourceBucket(name: string, expectedOwner: unknown): BucketState {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket(name, "body");
    this.checkOwner(expectedOwner, "body");
    return bucket;
  }

  /**
   * ExpectedBucketOwner / ExpectedSourceBucketOwner: "If the account ID that you provide does not
   * match the actual owner of the bucket, the request fails with the HTTP status code 403 Forbidden
   * (access denied)." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). Every
   * bucket of the model belongs to its account.
   */
  private checkOwner(expected: unknown, answer: Answer): void {
    if (typeof expected === "string" && expected !== this.accountId) {
      throw s3Error("AccessDenied", 403, "Access Denied", answer);
    }
  }

  entry(bucket: BucketState, key: string): KeyEntry {
    let entry = bucket.keys.get(key);
    if (entry === undefined) {
      entry = { versions: [], generation: 0, sequencer: 0n };
      bucket.keys.set(key, entry);
    }
    return entry;
  }

  generation(bucket: BucketState, key: string): number {
    return bucket.keys.get(key)?.generation ?? 0;
  }

  /** The current version, a delete marker included; undefined when the key has none. */
  currentVersion(bucket: BucketState, key: string): ObjectVersion | undefined {
    const versions = bucket.keys.get(key)?.versions;
    return versions?.[versions.length - 1];
  }

  /** The current version unless it is a delete marker. */
  liveVersion(bucket: BucketState, key: string): ObjectVersion | undefined {
    const current = this.currentVersion(bucket, key);
    return current?.deleteMarker === false ? current : undefined;
  }

  /**
   * The version a read addresses (GetObject, HeadObject, tagging, copy sources, restore). Without a
   * version ID: the current version; "If the current version of the object is a delete marker,
   * Amazon S3 behaves as if the object was deleted and includes x-amz-delete-marker: true in the
   * response." With one naming a delete marker: 405 Method Not Allowed
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
   */
  readVersion(
    bucket: BucketState,
    key: string,
    versionId: string | undefined,
    answer: Answer,
  ): ObjectVersion {
    const versions = bucket.keys.get(key)?.versions ?? [];
    if (versionId === undefined) {
      const current = versions[versions.length - 1];
      if (current === undefined) throw noSuchKey(key, answer);
      if (current.deleteMarker)
        throw noSuchKey(key, answer, this.deleteMarkerHeaders(bucket, current));
      return current;
    }
    const version = versions.find((candidate) => candidate.versionId === versionId);
    if (version === undefined) throw noSuchVersion(key, versionId, answer);
    if (version.deleteMarker) {
      throw methodNotAllowed(answer, {
        ...this.deleteMarkerHeaders(bucket, version),
        "last-modified": new Date(version.lastModified).toUTCString(),
      });
    }
    return version;
  }

  private deleteMarkerHeaders(bucket: BucketState, marker: ObjectVersion): Record<string, string> {
    const headers: Record<string, string> = { "x-amz-delete-marker": "true" };
    if (bucket.versioning) headers["x-amz-version-id"] = marker.versionId;
    return headers;
  }

  /** The version still being held by its key (not replaced, not deleted). */
  holds(bucket: BucketState, key: string, version: ObjectVersion): boolean {
    return bucket.keys.get(key)?.versions.includes(version) ?? false;
  }

  // --------------------------------------------------------------------------------------------
  // Events and timers
  // --------------------------------------------------------------------------------------------

  onEvent(listener: (event: S3EventBridgeEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(bucket: BucketState, event: S3EventBridgeEvent): void {
    if (!bucket.eventBridge) return;
    for (const listener of this.listeners) listener(event);
  }

  schedule(due: number, live: () => boolean, run: () => void): void {
    this.timers.push({ due, order: this.timerOrder++, live, run });
  }

  nextDue(): number | undefined {
    this.timers = this.timers.filter((timer) => timer.live());
    let next: number | undefined;
    for (const timer of this.timers) if (next === undefined || timer.due < next) next = timer.due;
    return next;
  }

  runDue(): void {
    const now = this.now();
    const due = this.timers
      .filter((timer) => timer.due <= now)
      .sort((a, b) => a.due - b.due || a.order - b.order);
    this.timers = this.timers.filter((timer) => timer.due > now);
    for (const timer of due) if (timer.live()) timer.run();
  }
}
