/**
 * What each environment holds, for the sandbox's final table and convergence check: objects by
 * key with their contents, content type, user metadata (without the replication sequence and
 * source markers; a masked replica's masking version stays, as what it must hold) and tags, and a
 * fingerprint of them; items by key with their attributes (without the replication sequence).
 * The state a target must hold (prod's, or prod's masked: masking.ts) is one of these too, so
 * the comparison is the same either way.
 */
import { createHash } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, GetObjectTaggingCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  ITEM_SEQUENCE_ATTRIBUTE,
  OBJECT_SEQUENCE_METADATA,
  OBJECT_SOURCE_METADATA,
} from "../../lib/replication/sequence";
import type { Item } from "../../lib/replication/masking";
import { listAllObjects, scanAllItems } from "../emulators/inventory";

/** One object as read: what its fingerprint is of. */
export interface ObjectSnapshot {
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface EnvironmentState {
  readonly environment: string;
  readonly bucket: string;
  readonly table: string;
  /** key -> fingerprint (sha256 of the body, content type, metadata, tags). */
  readonly objects: ReadonlyMap<string, string>;
  /** `pk | sk` -> attributes as sorted JSON. */
  readonly items: ReadonlyMap<string, string>;
  /** key -> the object the fingerprint is of. */
  readonly objectSnapshots: ReadonlyMap<string, ObjectSnapshot>;
  /** `pk | sk` -> the item. */
  readonly itemValues: ReadonlyMap<string, Item>;
  /** Newest LastModified of the bucket's objects. */
  readonly lastChange: Date | undefined;
}

/** JSON with every object's keys in order, at every depth: equal values, equal text. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, nested: unknown) =>
    typeof nested === "object" && nested !== null && !Array.isArray(nested)
      ? Object.fromEntries(
          Object.entries(nested as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : nested,
  );
}

/** An item's key as the state and the table show it: `pk | sk`. */
export const itemKeyOf = (item: Item): string => `${item.pk?.S ?? ""} | ${item.sk?.S ?? ""}`;

/** The fingerprint of an object: equal objects, equal text. */
export function objectFingerprint(object: ObjectSnapshot): string {
  return sortedJson({
    sha256: createHash("sha256").update(object.body).digest("hex"),
    contentType: object.contentType,
    metadata: object.metadata,
    tags: object.tags,
  });
}

/** The state of `where` holding `objects` and `items`. */
export function stateOf(
  where: { readonly environment: string; readonly bucket: string; readonly table: string },
  objects: ReadonlyMap<string, ObjectSnapshot>,
  items: Iterable<Item>,
  lastChange: Date | undefined,
): EnvironmentState {
  const itemValues = new Map<string, Item>();
  for (const item of items) itemValues.set(itemKeyOf(item), item);
  return {
    environment: where.environment,
    bucket: where.bucket,
    table: where.table,
    objects: new Map([...objects].map(([key, object]) => [key, objectFingerprint(object)])),
    items: new Map([...itemValues].map(([key, item]) => [key, sortedJson(item)])),
    objectSnapshots: objects,
    itemValues,
    lastChange,
  };
}

const MARKERS: readonly string[] = [OBJECT_SEQUENCE_METADATA, OBJECT_SOURCE_METADATA];

export async function readState(
  clients: { s3: S3Client; dynamodb: DynamoDBClient },
  where: { environment: string; bucket: string; table: string },
): Promise<EnvironmentState> {
  const objects = new Map<string, ObjectSnapshot>();
  let lastChange: Date | undefined;
  for await (const listed of listAllObjects(clients.s3, where.bucket)) {
    if (listed.Key === undefined) continue;
    if (listed.LastModified && (!lastChange || listed.LastModified > lastChange)) {
      lastChange = listed.LastModified;
    }
    const out = await clients.s3.send(
      new GetObjectCommand({ Bucket: where.bucket, Key: listed.Key }),
    );
    const body = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
    const tagging = await clients.s3.send(
      new GetObjectTaggingCommand({ Bucket: where.bucket, Key: listed.Key }),
    );
    objects.set(listed.Key, {
      body,
      contentType: out.ContentType,
      metadata: Object.fromEntries(
        Object.entries(out.Metadata ?? {}).filter(([name]) => !MARKERS.includes(name)),
      ),
      tags: Object.fromEntries(
        (tagging.TagSet ?? []).map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""]),
      ),
    });
  }

  const items: Item[] = [];
  for await (const found of scanAllItems(clients.dynamodb, where.table)) {
    items.push(
      Object.fromEntries(
        Object.entries(found).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
      ),
    );
  }

  return stateOf(where, objects, items, lastChange);
}

function mapDifferences(
  kind: string,
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  for (const [key, value] of expected) {
    const found = actual.get(key);
    if (found === undefined) problems.push(`${kind} "${key}" is missing`);
    else if (found !== value) problems.push(`${kind} "${key}" differs`);
  }
  for (const key of actual.keys()) {
    if (!expected.has(key)) problems.push(`${kind} "${key}" should not exist`);
  }
  return problems;
}

/**
 * Every way `replica` differs from `expected` (empty when they are equal): prod's state for an
 * unmasked target, prod's state masked for a masked one (masking.ts `expectedState`).
 */
export function differences(expected: EnvironmentState, replica: EnvironmentState): string[] {
  return [
    ...mapDifferences("object", expected.objects, replica.objects),
    ...mapDifferences("item", expected.items, replica.items),
  ].map((problem) => `${replica.environment}: ${problem}`);
}

/** What a target must hold: prod's state, as it is or masked (`masked`). */
export interface Expectation {
  readonly state: EnvironmentState;
  readonly masked: boolean;
}

/** Rows under a header, columns padded to fit and two spaces apart. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

/**
 * The final table: one row per environment, and whether it holds what it must (`expectations`,
 * by environment: a target without one must equal the source as it is): `yes`, `yes, masked`
 * or `NO`.
 */
export function renderTable(
  states: readonly EnvironmentState[],
  source: string,
  expectations: ReadonlyMap<string, Expectation> = new Map(),
): string {
  const header = ["environment", "bucket", "objects", "items", "last change", "equal to " + source];
  const sourceState = states.find((s) => s.environment === source);
  const rows = states.map((state) => {
    const expected = expectations.get(state.environment) ?? {
      state: sourceState ?? state,
      masked: false,
    };
    const same =
      state.environment === source
        ? "(source)"
        : differences(expected.state, state).length > 0
          ? "NO"
          : expected.masked
            ? "yes, masked"
            : "yes";
    return [
      state.environment,
      state.bucket,
      String(state.objects.size),
      String(state.items.size),
      state.lastChange?.toISOString() ?? "-",
      same,
    ];
  });
  return formatTable(header, rows);
}
