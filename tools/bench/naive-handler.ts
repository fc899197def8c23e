/**
 * The naive baseline the benchmark compares against: a replication handler written the way such
 * handlers commonly are. For each target, one after another, it creates new clients, downloads
 * the object body with GetObject and uploads it again with PutObject (a delete is a DeleteObject).
 * No ordering guard. It is a yardstick, never deployed.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { EventBridgeEvent } from "aws-lambda";

/** The parts of an EventBridge S3 event the baseline reads. */
interface S3EventDetail {
  readonly bucket: { readonly name: string };
  readonly object: { readonly key: string };
}

/** Where the baseline copies to: the same TARGETS contract as the real handler. */
export interface NaiveTarget {
  readonly bucket: string;
}

function newClient(): S3Client {
  return new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === "true" });
}

/** Replicates one S3 change into every target, sequentially, through the function's memory. */
export async function naiveHandler(
  event: EventBridgeEvent<string, S3EventDetail>,
  targets: readonly NaiveTarget[],
): Promise<void> {
  const { bucket, object } = event.detail;
  for (const target of targets) {
    if (event["detail-type"] === "Object Deleted") {
      await newClient().send(new DeleteObjectCommand({ Bucket: target.bucket, Key: object.key }));
      continue;
    }
    const source = await newClient().send(
      new GetObjectCommand({ Bucket: bucket.name, Key: object.key }),
    );
    if (source.Body === undefined) {
      throw new Error(`GetObject returned no body for ${bucket.name}/${object.key}`);
    }
    const body = await source.Body.transformToByteArray();
    await newClient().send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: object.key,
        Body: body,
        ContentType: source.ContentType,
        Metadata: source.Metadata,
      }),
    );
  }
}
