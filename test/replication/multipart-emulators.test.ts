/**
 * The multipart server-side copy (lib/replication/objects.ts) on the emulators, which copy parts
 * (UploadPartCopy) as S3 does since tools/emulators/emulators.ts added it: an object that one
 * CopyObject would not copy in the time left is copied in parallel parts, and the replica holds
 * the source's bytes, metadata, headers and tags. The budget is a stub that lets only a parallel
 * copy fit, so that the test does not depend on this machine's speed.
 */
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { logger } from "../../lib/replication/logger";
import { convergeObject, readSourceObject } from "../../lib/replication/objects";
import { resyncChange } from "../../lib/replication/resync";
import type { TimeBudget } from "../../lib/replication/time-budget";
import {
  createBucket,
  s3Client,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";

let emulators: Emulators;
let s3: S3Client;
const commands: string[] = [];
beforeAll(async () => {
  emulators = await startEmulators();
  s3 = s3Client(emulators);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const started = Date.now();
      try {
        return await next(args);
      } finally {
        commands.push(`${String(context.commandName)} ${Date.now() - started}`);
      }
    },
    { step: "initialize", name: "recordCommands" },
  );
  await createBucket(emulators, "prod-bucket");
  await createBucket(emulators, "dev-bucket");
  logger.setLogLevel("SILENT");
});
afterAll(async () => {
  s3.destroy();
  await emulators.stop();
});

/** A budget in which only a copy over several streams fits. */
const onlyParallel: TimeBudget = {
  fits: (_bytes, streams) => streams > 1,
  requireTimeFor: () => undefined,
  onLow: () => ({ cancel: () => undefined }),
};

it("copies in parallel parts when one CopyObject would not fit, carrying metadata, headers and tags", async () => {
  const body = Buffer.alloc(12 * 1024 * 1024, 7);
  body.write("first", 0);
  body.write("last", body.length - 4);
  await s3.send(
    new PutObjectCommand({
      Bucket: "prod-bucket",
      Key: "big file+1.bin",
      Body: body,
      ContentType: "application/octet-stream",
      Metadata: { owner: "ada" },
      Tagging: "team=data%20eng&tier=gold",
    }),
  );
  const source = await readSourceObject(s3, "prod-bucket", "big file+1.bin");

  const action = await convergeObject({
    route: {
      source: s3,
      target: s3,
      sourceBucket: "prod-bucket",
      targetBucket: "dev-bucket",
      key: "big file+1.bin",
    },
    change: resyncChange("prod-bucket", "big file+1.bin", "test"),
    source,
    budget: onlyParallel,
    log: logger,
  });

  expect(action).toBe("copied");
  const copied = await s3.send(
    new GetObjectCommand({ Bucket: "dev-bucket", Key: "big file+1.bin" }),
  );
  // Compared whole, not element by element (jest's toEqual on 12 MB takes half a minute).
  expect(Buffer.from((await copied.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: "dev-bucket", Key: "big file+1.bin" }),
  );
  expect(head.ContentType).toBe("application/octet-stream");
  expect(head.Metadata).toMatchObject({ owner: "ada", "replication-source": source?.fingerprint });
  const tags = await s3.send(
    new GetObjectTaggingCommand({ Bucket: "dev-bucket", Key: "big file+1.bin" }),
  );
  expect(tags.TagSet).toEqual([
    { Key: "team", Value: "data eng" },
    { Key: "tier", Value: "gold" },
  ]);
  // Three parts (5 MiB, 5 MiB, 2 MiB), no whole-object CopyObject.
  expect(commands.filter((command) => command.startsWith("UploadPartCopyCommand "))).toHaveLength(
    3,
  );
  expect(commands.some((command) => command.startsWith("CopyObjectCommand "))).toBe(false);
});
