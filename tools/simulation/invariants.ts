/**
 * What must hold at quiescence (every delivery, retry, redrive and resync finished), as
 * lib/replication/README.md ("Guarantees") states it:
 *
 * 1. Every target holds the source's current state of every key (body, user metadata, content
 *    headers, tags) and every item (every attribute), or a dead letter names that key and target.
 *    An archived source that was never restored is the one exception (it replicates once
 *    restored); a key that does not exist in the source exists in no target.
 * 2. No invocation reports `replicated` for a target it left older: an invocation that reported
 *    `replicated` after the key's last change leaves the target equal to the source, dead letter
 *    or not.
 * 3. Redrive deletes a message only after its replay converged: when it deletes one, every key
 *    and target the message names holds the source's state, unless the source changed since the
 *    message was received.
 * 4. Each change is counted once per target and outcome: every invocation that answered counted
 *    exactly the changes it dead-lettered as `ChangesFailed`, per kind and target, and one that
 *    failed (Lambda delivers its event again) counted none.
 * 5. An archived source is never dead-lettered ("Archived sources": `archived`, counted in
 *    `ChangesArchived`, never a dead letter or an alarm): no dead letter of the function carries
 *    the InvalidObjectState of a copy from an archive.
 * 6. What a dead letter names can be replayed: once AWS answers again (calm weather, after the
 *    visibility of what the last redrive kept ran out), one more redrive empties the DLQ but for
 *    the letters the README says it keeps (metadata too large, malformed or foreign events), and
 *    deletes each message only once what it names converged (3). Checked in simulate.ts, after
 *    the others, so that this redrive repairs nothing they judge.
 *
 * Outside them, and reported as a limit rather than a violation (lib/replication/README.md,
 * "What the guarantees do not cover"): a target left differing by a write that AWS applied after
 * the invocation that sent it had ended, later than the key's last change, onto a replica that was
 * absent (deleted). Nothing that runs can see that write, and without a tombstone a key that is
 * absent cannot refuse it; a replica that exists must refuse it, and is held to the invariants.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import type { S3ObjectView } from "./model/s3";
import { decodeEventKey } from "./model/s3-events";
import { SOURCE, type World } from "./world";

export interface Violation {
  readonly invariant: 1 | 2 | 3 | 4 | 5 | 6;
  readonly text: string;
}

/** The state of an object the invariants compare (what a replica must carry). */
function objectState(view: S3ObjectView | undefined): string | undefined {
  if (view === undefined) return undefined;
  const metadata = Object.fromEntries(
    Object.entries(view.metadata)
      .filter(([name]) => !name.startsWith("replication-"))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const tags = Object.entries(view.tags).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({
    body: Buffer.from(view.body).toString("base64"),
    metadata,
    contentType: view.contentType,
    cacheControl: view.cacheControl,
    contentDisposition: view.contentDisposition,
    contentEncoding: view.contentEncoding,
    contentLanguage: view.contentLanguage,
    expires: view.expires?.toISOString(),
    websiteRedirectLocation: view.websiteRedirectLocation,
    tags,
  });
}

const sortedValue = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortedValue);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, entry]) => [name, sortedValue(entry)]),
    );
  }
  return value;
};

function itemState(item: Record<string, AttributeValue> | undefined): string | undefined {
  if (item === undefined) return undefined;
  const rest = Object.fromEntries(
    Object.entries(item).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
  );
  return JSON.stringify(sortedValue(rest));
}

/** Whether the source object can be copied (not in an archive, or restored). */
export function readable(view: S3ObjectView): boolean {
  if (view.restore !== undefined && !view.restore.ongoing) return true;
  if (view.archiveStatus !== undefined) return false;
  return view.storageClass !== "GLACIER" && view.storageClass !== "DEEP_ARCHIVE";
}

/** The object keys and item keys (pk) a dead letter names, and for which targets. */
export interface Named {
  readonly objects: Set<string>;
  readonly items: Set<string>;
  /** undefined: every target. */
  readonly target: string | undefined;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;

/** The source key an S3 event names: its `detail.object.key` is form-URL-encoded (s3-events.ts). */
const objectKeyOf = (event: unknown): string | undefined => {
  const key = record(record(record(event)?.detail)?.object)?.key;
  return typeof key === "string" ? decodeEventKey(key) : undefined;
};

const itemKeyOf = (streamRecord: unknown): string | undefined => {
  const pk = record(record(record(record(streamRecord)?.dynamodb)?.Keys)?.pk)?.S;
  return typeof pk === "string" ? pk : undefined;
};

/** What each message left in the DLQ names. */
export function namedByDeadLetters(world: World): Named[] {
  return world.sqs.messages(world.dlqUrl).map((message) => namedBy(world, message.body));
}

export function namedBy(world: World, body: string): Named {
  const named: Named = { objects: new Set(), items: new Set(), target: undefined };
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = record(JSON.parse(body));
  } catch {
    return named;
  }
  if (parsed === undefined) return named;
  const add = (event: unknown): void => {
    const key = objectKeyOf(event);
    if (key !== undefined) named.objects.add(key);
    const item = itemKeyOf(event);
    if (item !== undefined) named.items.add(item);
  };
  if ("reason" in parsed && "event" in parsed) {
    add(parsed.event);
    const target = record(parsed.target)?.environment;
    return { ...named, target: typeof target === "string" ? target : undefined };
  }
  if ("requestPayload" in parsed) {
    add(parsed.requestPayload);
    return named;
  }
  const batch = record(parsed.DDBStreamBatchInfo);
  if (batch !== undefined) {
    const text = (value: unknown): string => (typeof value === "string" ? value : "0");
    const start = BigInt(text(batch.startSequenceNumber));
    const end = BigInt(text(batch.endSequenceNumber));
    for (const shard of world.streams.shards(world.streamArn)) {
      if (shard.shardId !== batch.shardId) continue;
      for (const each of shard.records) {
        const sequence = BigInt(each.sequenceNumber);
        if (sequence >= start && sequence <= end) add(each.record);
      }
    }
    return named;
  }
  add(parsed);
  return named;
}

/** When each source key and item last changed (virtual ms), as the world recorded it. */
export interface History {
  readonly objects: ReadonlyMap<string, number>;
  readonly items: ReadonlyMap<string, number>;
}

/** Writes that change an object or an item in a target. */
const WRITES = new Set([
  "PutObject",
  "CopyObject",
  "DeleteObject",
  "CompleteMultipartUpload",
  "PutObjectTagging",
  "DeleteObjectTagging",
  "PutItem",
  "DeleteItem",
  "UpdateItem",
]);

/**
 * Whether the last write that took effect on `key` in `container` (a bucket or a table) came after
 * its actor had ended and after the key last changed in the source, onto an absent replica.
 */
function lateWrite(world: World, container: string, key: string, changedAt: number): boolean {
  const named = (input: Record<string, unknown>): boolean => {
    if (input.Bucket === container) return input.Key === key;
    if (input.TableName !== container) return false;
    const item = (input.Key ?? input.Item) as Record<string, AttributeValue> | undefined;
    return item?.pk?.S === key;
  };
  const writes = world.network.calls.filter(
    (call) =>
      WRITES.has(call.call.command) &&
      call.effectAt !== undefined &&
      (call.outcome === "ok" || call.outcome === "lost") &&
      named(call.call.input),
  );
  const ordered = [...writes].sort((a, b) => (a.effectAt ?? 0) - (b.effectAt ?? 0));
  const last = ordered.at(-1);
  const before = ordered.at(-2);
  // Only a write onto an absent replica: one that exists can refuse an older write, and must.
  const ontoAbsent =
    before === undefined ||
    before.call.command === "DeleteItem" ||
    before.call.command === "DeleteObject";
  return last?.afterItsActor === true && (last.effectAt ?? 0) > changedAt && ontoAbsent;
}

export interface InvariantReport {
  readonly violations: Violation[];
  /** What the guarantees do not cover, seen in this run (not a failure). */
  readonly limits: string[];
}

export function checkInvariants(world: World, history: History): InvariantReport {
  const violations: Violation[] = [];
  const limits: string[] = [];
  const named = namedByDeadLetters(world);
  const excused = (kind: "objects" | "items", key: string, target: string): boolean =>
    named.some(
      (each) => each[kind].has(key) && (each.target === undefined || each.target === target),
    );
  const targets = world.settings.targets;

  // 1 and 2, objects.
  const keys = new Set([
    ...world.s3.keys(SOURCE.bucket),
    ...targets.flatMap((target) => world.s3.keys(target.bucket)),
  ]);
  const claims = objectClaims(world);
  for (const key of keys) {
    const source = world.s3.current(SOURCE.bucket, key);
    const expected = objectState(source);
    for (const target of targets) {
      const replica = objectState(world.s3.current(target.bucket, key));
      if (replica === expected) continue;
      if (source !== undefined && !readable(source)) continue;
      const claim = claims.find(
        (each) =>
          each.key === key &&
          each.target === target.environment &&
          each.at > (history.objects.get(key) ?? 0),
      );
      if (claim !== undefined) {
        violations.push({
          invariant: 2,
          text: `${claim.invocation} reported ${key} replicated into ${target.environment} at ${String(claim.at)}, after its last change, and left it older: ${replica ?? "absent"} != ${expected ?? "absent"}`,
        });
      }
      if (lateWrite(world, target.bucket, key, history.objects.get(key) ?? 0)) {
        limits.push(
          `object ${key} in ${target.environment}: a write applied after its invocation ended`,
        );
        continue;
      }
      if (!excused("objects", key, target.environment)) {
        violations.push({
          invariant: 1,
          text: `object ${key} in ${target.environment}: ${replica ?? "absent"}, source: ${expected ?? "absent"}; no dead letter names it`,
        });
      }
    }
  }

  // 1, items.
  const itemKeys = new Set<string>();
  const pk = (item: Record<string, AttributeValue>): string => item.pk?.S ?? "";
  for (const item of world.dynamodb.items(SOURCE.table)) itemKeys.add(pk(item));
  for (const target of targets)
    for (const item of world.dynamodb.items(target.table)) itemKeys.add(pk(item));
  for (const key of itemKeys) {
    const keyAttributes = { pk: { S: key }, sk: { S: "profile" } };
    const expected = itemState(world.dynamodb.item(SOURCE.table, keyAttributes));
    for (const target of targets) {
      const replica = itemState(world.dynamodb.item(target.table, keyAttributes));
      if (replica === expected || excused("items", key, target.environment)) continue;
      if (lateWrite(world, target.table, key, history.items.get(key) ?? 0)) {
        limits.push(
          `item ${key} in ${target.environment}: a write applied after its invocation ended`,
        );
        continue;
      }
      violations.push({
        invariant: 1,
        text: `item ${key} in ${target.environment}: ${shorten(replica)}, source: ${shorten(expected)}; no dead letter names it`,
      });
    }
  }

  // 3.
  violations.push(
    ...world.redriveDeletions
      .filter((each) => !each.converged)
      .map((each) => ({
        invariant: 3 as const,
        text: `redrive deleted a message naming ${each.names} while ${each.why}`,
      })),
  );

  // 4. Per invocation that ended, with its answer or with an error (which Lambda delivers
  // again: it counts no failure); a timed-out one may have been stopped between a dead letter
  // and its count.
  for (const invocation of world.invocations) {
    if (invocation.outcome !== "success" && invocation.outcome !== "error") continue;
    const actor = `${invocation.source}#${invocation.id}`;
    for (const kind of ["object", "item"] as const) {
      for (const target of targets) {
        const failed = world.metrics.filter(
          (point) =>
            point.invocation === actor &&
            point.metric === "ChangesFailed" &&
            point.dimensions.Kind === kind &&
            point.dimensions.TargetEnvironment === target.environment,
        ).length;
        // An invocation that failed counts nothing: a dead letter it sent may have been applied
        // with its answer lost, and Lambda delivers the event again.
        const letters =
          invocation.outcome === "error"
            ? 0
            : world.ownDeadLetters(kind, target.environment, actor);
        if (failed !== letters) {
          violations.push({
            invariant: 4,
            text: `${actor} counted ${String(failed)} ChangesFailed for ${kind}s into ${target.environment} and dead-lettered ${String(letters)} change(s)`,
          });
        }
      }
    }
  }
  // 5.
  for (const letter of functionDeadLetters(world)) {
    if (letter.error?.name !== "InvalidObjectState") continue;
    violations.push({
      invariant: 5,
      text: `${letter.actor} dead-lettered ${[...namedBy(world, letter.body).objects].join(", ")} for ${letter.target?.environment ?? "every target"} because its source is archived (${letter.error.message ?? ""})`,
    });
  }
  return { violations, limits };
}

/** The dead letters the function's invocations sent (SendMessage that took effect). */
function functionDeadLetters(world: World) {
  return world.network.calls.flatMap((call) => {
    if (call.call.command !== "SendMessage" || call.effectAt === undefined) return [];
    if (!/^(async|stream)#/.test(call.actor)) return [];
    const body = typeof call.call.input.MessageBody === "string" ? call.call.input.MessageBody : "";
    try {
      const letter = JSON.parse(body) as {
        error?: { name?: string; message?: string };
        target?: { environment?: string };
      };
      return [{ actor: call.actor, body, error: letter.error, target: letter.target }];
    } catch {
      return [];
    }
  });
}

/** Reasons of the function's letters that redrive keeps by design (lib/replication/README.md). */
const KEPT_REASONS: readonly string[] = ["metadata-too-large", "malformed-event", "foreign-source"];

/** 6: what is still in the DLQ after the calm redrive (simulate.ts), but the letters kept by design. */
export function undrained(world: World): Violation[] {
  return world.sqs.messages(world.dlqUrl).flatMap((message) => {
    let reason: unknown;
    try {
      reason = record(JSON.parse(message.body))?.reason;
    } catch {
      reason = undefined;
    }
    if (typeof reason === "string" && KEPT_REASONS.includes(reason)) return [];
    const named = namedBy(world, message.body);
    const names = [...named.objects, ...named.items].join(", ") || "no key or item";
    return [
      {
        invariant: 6 as const,
        text: `after a redrive in calm weather the DLQ still holds a message naming ${names} for ${named.target ?? "every target"}${typeof reason === "string" ? ` (${reason})` : ""}`,
      },
    ];
  });
}

const shorten = (state: string | undefined): string =>
  state === undefined ? "absent" : state.length > 120 ? `${state.slice(0, 117)}...` : state;

/**
 * Each `replicated` answer of an object invocation: key, target, invocation, time. The answer's
 * key is the event's, form-URL-encoded: the source key is its decoding.
 */
function objectClaims(world: World) {
  return world.invocations.flatMap((invocation) => {
    const response = record(invocation.response);
    if (invocation.outcome !== "success" || response?.status !== "replicated") return [];
    const key = typeof response.key === "string" ? decodeEventKey(response.key) : undefined;
    const results = Array.isArray(response.results) ? response.results : [];
    return results.flatMap((result: unknown) => {
      const environment = record(result)?.environment;
      return typeof key === "string" && typeof environment === "string"
        ? [{ key, target: environment, invocation: invocation.id, at: invocation.endedAt ?? 0 }]
        : [];
    });
  });
}

export { objectState, itemState };
