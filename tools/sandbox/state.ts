/**
 * What each environment holds, for the sandbox's final table and convergence check: objects by
 * key with a content hash, content type, user metadata (without the replication markers) and
 * tags; items by key with their attributes (without the replication bookkeeping attribute).
 */
import { createHash } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, GetObjectTaggingCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  ITEM_SEQUENCE_ATTRIBUTE,
  OBJECT_SEQUENCE_METADATA,
  OBJECT_SOURCE_METADATA,
} from "../../lib/replication/sequence";
import { listAllObjects, scanAllItems } from "../emulators/inventory";

export interface EnvironmentState {
  readonly environment: string;
  readonly bucket: string;
  readonly table: string;
  /** key -> fingerprint (sha256 of the body, content type, metadata, tags). */
  readonly objects: ReadonlyMap<string, string>;
  /** `pk | sk` -> attributes as sorted JSON. */
  readonly items: ReadonlyMap<string, string>;
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

const MARKERS: readonly string[] = [OBJECT_SEQUENCE_METADATA, OBJECT_SOURCE_METADATA];

export async function readState(
  clients: { s3: S3Client; dynamodb: DynamoDBClient },
  where: { environment: string; bucket: string; table: string },
): Promise<EnvironmentState> {
  const objects = new Map<string, string>();
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
    const metadata = Object.fromEntries(
      Object.entries(out.Metadata ?? {}).filter(([name]) => !MARKERS.includes(name)),
    );
    const tagging = await clients.s3.send(
      new GetObjectTaggingCommand({ Bucket: where.bucket, Key: listed.Key }),
    );
    objects.set(
      listed.Key,
      sortedJson({
        sha256: createHash("sha256").update(body).digest("hex"),
        contentType: out.ContentType,
        metadata,
        tags: Object.fromEntries(
          (tagging.TagSet ?? []).map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""]),
        ),
      }),
    );
  }

  const items = new Map<string, string>();
  for await (const found of scanAllItems(clients.dynamodb, where.table)) {
    const attributes = Object.fromEntries(
      Object.entries(found).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
    );
    items.set(`${found.pk?.S ?? ""} | ${found.sk?.S ?? ""}`, sortedJson(attributes));
  }

  return { ...where, objects, items, lastChange };
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

/** Every way `replica` differs from `source` (empty when they are equal). */
export function differences(source: EnvironmentState, replica: EnvironmentState): string[] {
  return [
    ...mapDifferences("object", source.objects, replica.objects),
    ...mapDifferences("item", source.items, replica.items),
  ].map((problem) => `${replica.environment}: ${problem}`);
}

/** The final table: one row per environment, columns padded to fit. */
export function renderTable(states: readonly EnvironmentState[], source: string): string {
  const header = ["environment", "bucket", "objects", "items", "last change", "equal to " + source];
  const rows = states.map((state) => {
    const same =
      state.environment === source
        ? "(source)"
        : differences(states.find((s) => s.environment === source) ?? state, state).length === 0
          ? "yes"
          : "NO";
    return [
      state.environment,
      state.bucket,
      String(state.objects.size),
      String(state.items.size),
      state.lastChange?.toISOString() ?? "-",
      same,
    ];
  });
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
