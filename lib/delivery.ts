/**
 * How the replicating stack delivers changes to the function: which S3 events its EventBridge
 * rule passes, and the retry bounds of the rule's target, the asynchronous invocation and the
 * stream event source mapping. Pure values: the program declares them (lib/replication-plane.ts)
 * and the local simulations deliver by them (tools/emulators), so the two cannot drift.
 */

/** Bounds on retries: EventBridge target, async invocation and stream mapping. */
export const replicationRetry = {
  eventMaximumAgeSeconds: 3600,
  eventMaximumRetryAttempts: 8,
  asyncMaximumAgeSeconds: 3600,
  asyncMaximumRetryAttempts: 2,
  streamMaximumRetryAttempts: 5,
  streamMaximumRecordAgeSeconds: 3600,
} as const;

/**
 * S3 event types that change what a replica must hold: its body and metadata (created, deleted),
 * its tags, or whether it can be copied at all (an archived object restored: "Object Restore
 * Completed"). https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html lists them;
 * a storage class change ("Object Storage Class Changed", a lifecycle transition) is not one:
 * the replica keeps the class it was written with (lib/replication/README.md, "Storage classes").
 */
export const replicatedDetailTypes = [
  "Object Created",
  "Object Deleted",
  "Object Tags Added",
  "Object Tags Deleted",
  "Object Restore Completed",
] as const;

/**
 * The EventBridge pattern: the replicated event types of the source bucket (optionally some key
 * prefixes), except lifecycle expirations. With this stack's lifecycle rule (current versions never
 * expire) a "Lifecycle Expiration" only removes noncurrent versions or expired delete markers,
 * which never changes the key's current state; the handler would skip them anyway, at the price
 * of a HEAD per target. `reason` is absent from tag events, hence the `exists: false` branch
 * (an absent field never matches `anything-but`: "the event must contain all the field names
 * listed in the event pattern", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html;
 * operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
export function replicationEventPattern(
  bucketName: string,
  keyPrefixes: readonly string[],
): Record<string, unknown> {
  return {
    source: ["aws.s3"],
    "detail-type": [...replicatedDetailTypes],
    detail: {
      bucket: { name: [bucketName] },
      ...(keyPrefixes.length > 0
        ? { object: { key: keyPrefixes.map((prefix) => ({ prefix })) } }
        : {}),
      $or: [
        { reason: [{ "anything-but": ["Lifecycle Expiration"] }] },
        { reason: [{ exists: false }] },
      ],
    },
  };
}

/**
 * The most characters an event pattern may have: "Event pattern size ... 2,048 ... Maximum size
 * of an event pattern, in characters" (the default quota, adjustable:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html).
 */
export const eventPatternMaxCharacters = 2048;

/** The rule's event pattern as the rule receives it, and its size in characters. */
export function replicationEventPatternJson(
  bucketName: string,
  keyPrefixes: readonly string[],
): { readonly json: string; readonly characters: number } {
  const json = JSON.stringify(replicationEventPattern(bucketName, keyPrefixes));
  return { json, characters: Array.from(json).length };
}
