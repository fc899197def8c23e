/**
 * Applies a workload to the source in a world: each operation at its virtual time, as the user's
 * own request to the model (not through the code under test), or as what S3 does by itself (a
 * lifecycle transition). A request that the model refuses (a rewrite of a key that was deleted,
 * a restore of an object that is not archived) is a user's failed request: noted, nothing else.
 */
import type { ModelCall } from "./model/types";
import { describeOperation, type Operation, type Workload } from "./workload";
import { REGION, SOURCE, type World } from "./world";

/** Bytes of the attribute that makes an item large: DynamoDB's 400 KB less a few bytes. */
const LARGE_ITEM_FILL = 400 * 1024 - 60;

const tagging = (tags: Readonly<Record<string, string>>): string =>
  Object.entries(tags)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join("&");

const copySource = (key: string): string =>
  `${SOURCE.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;

/** The model calls a user's operation makes (empty for what S3 does by itself). */
export function callsOf(op: Operation): ModelCall[] {
  const s3 = (command: string, input: Record<string, unknown>): ModelCall => ({
    service: "s3",
    region: REGION,
    command,
    input: { Bucket: SOURCE.bucket, ...input },
  });
  const dynamodb = (command: string, input: Record<string, unknown>): ModelCall => ({
    service: "dynamodb",
    region: REGION,
    command,
    input: { TableName: SOURCE.table, ...input },
  });
  const itemKey = (pk: string) => ({ pk: { S: pk }, sk: { S: "profile" } });
  switch (op.kind) {
    case "put":
      return [
        s3("PutObject", {
          Key: op.key,
          Body: new TextEncoder().encode(op.body),
          ContentType: "text/plain",
          Metadata: op.metadata,
          ...(Object.keys(op.tags).length > 0 ? { Tagging: tagging(op.tags) } : {}),
          ...(op.archived ? { StorageClass: "GLACIER" } : {}),
        }),
      ];
    case "rewrite":
      return [
        s3("CopyObject", {
          Key: op.key,
          CopySource: copySource(op.key),
          MetadataDirective: "REPLACE",
          Metadata: op.metadata,
          ContentType: "text/plain",
        }),
      ];
    case "tag":
      return [
        s3("PutObjectTagging", {
          Key: op.key,
          Tagging: { TagSet: Object.entries(op.tags).map(([Key, Value]) => ({ Key, Value })) },
        }),
      ];
    case "untag":
      return [s3("DeleteObjectTagging", { Key: op.key })];
    case "delete":
      return [s3("DeleteObject", { Key: op.key })];
    case "restore":
      return [
        s3("RestoreObject", {
          Key: op.key,
          RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Expedited" } },
        }),
      ];
    case "putItem":
      return [
        dynamodb("PutItem", {
          Item: {
            ...itemKey(op.key),
            value: { S: op.value },
            ...(op.large ? { blob: { S: "x".repeat(LARGE_ITEM_FILL) } } : {}),
          },
        }),
      ];
    case "deleteItem":
      return [dynamodb("DeleteItem", { Key: itemKey(op.key) })];
    case "archive":
    case "split":
    case "outage":
      return [];
  }
}

/** What S3 or DynamoDB does by itself for an operation. */
function worldAction(world: World, op: Operation): void {
  if (op.kind === "archive") {
    world.s3.transition(
      SOURCE.bucket,
      op.key,
      op.to === "INTELLIGENT_TIERING_ARCHIVE"
        ? { storageClass: "INTELLIGENT_TIERING", archiveStatus: "ARCHIVE_ACCESS" }
        : { storageClass: op.to },
    );
  } else if (op.kind === "split") {
    world.streams.splitShard(world.streamArn);
  } else if (op.kind === "outage") {
    const target = world.settings.targets.find((each) => each.environment === op.target);
    if (target === undefined) throw new Error(`no target ${op.target}`);
    world.network.outages.push({
      what: op.target,
      until: world.scheduler.now() + op.forMs,
      names: (call) => call.input.Bucket === target.bucket || call.input.TableName === target.table,
    });
  }
}

/** Schedules the workload's operations and operators in the world. */
export function schedule(world: World, workload: Workload): void {
  const start = world.scheduler.now();
  for (const { at, op } of workload.operations) {
    world.scheduler.at(start + at, `workload: ${describeOperation(op)}`, () => {
      world.scheduler.note(`workload: ${describeOperation(op)}`);
      try {
        worldAction(world, op);
        for (const call of callsOf(op)) {
          const model = call.service === "s3" ? world.s3 : world.dynamodb;
          model.start(call).finish();
        }
        if (op.kind === "putItem" || op.kind === "deleteItem") {
          world.history.items.set(op.key, world.scheduler.now());
        }
      } catch (error: unknown) {
        world.scheduler.note(
          `workload: refused: ${error instanceof Error ? error.name : String(error)}`,
        );
      }
    });
  }
  const { resyncAt, redriveAt } = workload.operators;
  if (resyncAt !== undefined) {
    world.scheduler.at(start + resyncAt, "operator: resync", () => {
      world.startResync();
    });
  }
  if (redriveAt !== undefined) {
    world.scheduler.at(start + redriveAt, "operator: redrive", () => {
      world.startRedrive();
    });
  }
}
