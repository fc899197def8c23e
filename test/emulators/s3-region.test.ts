/** One region's S3 endpoint (tools/emulators/s3-region.ts): a bucket answers only in its region. */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  EMULATOR_CREDENTIALS,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import {
  bucketOfPath,
  startS3RegionEndpoint,
  type S3RegionEndpoint,
} from "../../tools/emulators/s3-region";

let emulators: Emulators;
let east: S3RegionEndpoint;
let west: S3RegionEndpoint;
const clients: S3Client[] = [];
const client = (endpoint: string, region: string): S3Client => {
  const created = new S3Client({
    endpoint,
    region,
    credentials: EMULATOR_CREDENTIALS,
    forcePathStyle: true,
  });
  clients.push(created);
  return created;
};

beforeAll(async () => {
  emulators = await startEmulators();
  const bucketRegions = { "east-bucket": "us-east-1", "west-bucket": "us-west-2" };
  east = await startS3RegionEndpoint({
    upstream: emulators.s3.endpoint,
    region: "us-east-1",
    bucketRegions,
  });
  west = await startS3RegionEndpoint({
    upstream: emulators.s3.endpoint,
    region: "us-west-2",
    bucketRegions,
  });
  const shared = client(emulators.s3.endpoint, "us-east-1");
  await shared.send(new CreateBucketCommand({ Bucket: "east-bucket" }));
  await shared.send(new CreateBucketCommand({ Bucket: "west-bucket" }));
});
afterAll(async () => {
  for (const created of clients) created.destroy();
  await Promise.all([east.stop(), west.stop()]);
  await emulators.stop();
});

it("serves a bucket through its own region's endpoint, and redirects from another", async () => {
  const s3East = client(east.endpoint, "us-east-1");
  await s3East.send(new PutObjectCommand({ Bucket: "east-bucket", Key: "k", Body: "v" }));

  await expect(
    client(west.endpoint, "us-west-2").send(
      new GetObjectCommand({ Bucket: "east-bucket", Key: "k" }),
    ),
  ).rejects.toMatchObject({ name: "PermanentRedirect", $metadata: { httpStatusCode: 301 } });
  const got = await s3East.send(new GetObjectCommand({ Bucket: "east-bucket", Key: "k" }));
  expect(await got.Body?.transformToString()).toBe("v");
});

it("copies from a bucket of another region, as S3 allows", async () => {
  const s3West = client(west.endpoint, "us-west-2");

  await s3West.send(
    new CopyObjectCommand({ Bucket: "west-bucket", Key: "copied", CopySource: "east-bucket/k" }),
  );

  const got = await s3West.send(new GetObjectCommand({ Bucket: "west-bucket", Key: "copied" }));
  expect(await got.Body?.transformToString()).toBe("v");
});

it("reads the bucket from a path-style request", () => {
  expect(bucketOfPath("/my-bucket/a/b?tagging")).toBe("my-bucket");
  expect(bucketOfPath("/my%2Dbucket")).toBe("my-bucket");
  expect(bucketOfPath("/?list-type=2")).toBeUndefined();
});
