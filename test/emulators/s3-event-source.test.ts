/**
 * The S3 -> EventBridge simulation: requests through the proxy to the watched bucket emit the
 * events S3 documents (ev-events.html), with keys as stored, the object's size and etag,
 * sequencers in the order s3rver applied the changes, nothing for failed requests, and the
 * lifecycle expirations s3rver cannot produce.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  createBucket,
  EMULATOR_CREDENTIALS,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { IPV6_CLIENT } from "../../tools/emulators/events";
import {
  classifyRequest,
  keysInside,
  startS3EventSource,
  type S3Event,
  type S3EventSource,
} from "../../tools/emulators/s3-event-source";

const WATCHED = "watched-bucket";
const OTHER = "other-bucket";

const clientAt = (endpoint: string): S3Client =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    credentials: EMULATOR_CREDENTIALS,
    forcePathStyle: true,
  });

let emulators: Emulators;

beforeAll(async () => {
  emulators = await startEmulators();
  await createBucket(emulators, WATCHED);
  await createBucket(emulators, OTHER);
});

afterAll(async () => {
  await emulators.stop();
});

describe("events of requests to the watched bucket", () => {
  let source: S3EventSource;
  let s3: S3Client;

  beforeEach(async () => {
    source = await startS3EventSource({ upstream: emulators.s3.endpoint, bucket: WATCHED });
    s3 = clientAt(source.endpoint);
  });

  afterEach(async () => {
    s3.destroy();
    await source.stop();
  });

  const put = (key: string, body = "hello", bucket = WATCHED) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  it("PutObject: Object Created with the key as stored, size, etag and the request id", async () => {
    const key = "dir/a b+c%d ü.txt";
    const out = await put(key, "hello world");
    const [event] = source.events();
    expect(event).toMatchObject({
      version: "0",
      "detail-type": "Object Created",
      source: "aws.s3",
      region: "us-east-1",
      resources: [`arn:aws:s3:::${WATCHED}`],
      detail: {
        version: "0",
        bucket: { name: WATCHED },
        object: { key, size: 11, etag: out.ETag?.replace(/"/g, "") },
        "request-id": out.$metadata.requestId,
        "source-ip-address": "1.2.3.4",
        reason: "PutObject",
      },
    });
    expect(event?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(source.events()).toHaveLength(1);
  });

  it("CopyObject into the bucket: reason CopyObject, the copy's size; a copy out emits nothing", async () => {
    await put("src.txt", "twelve bytes");
    await s3.send(
      new CopyObjectCommand({ Bucket: WATCHED, Key: "copy.txt", CopySource: `${WATCHED}/src.txt` }),
    );
    await s3.send(
      new CopyObjectCommand({ Bucket: OTHER, Key: "out.txt", CopySource: `${WATCHED}/src.txt` }),
    );
    expect(
      source.events().map((event) => [event.detail.object.key, detailOf(event).reason]),
    ).toEqual([
      ["src.txt", "PutObject"],
      ["copy.txt", "CopyObject"],
    ]);
    expect(source.events()[1]?.detail.object).toMatchObject({ size: 12 });
  });

  it("CompleteMultipartUpload: one Object Created for the whole object, none per part", async () => {
    const started = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: WATCHED, Key: "multi.bin" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: WATCHED,
        Key: "multi.bin",
        UploadId: started.UploadId,
        PartNumber: 1,
        Body: "x".repeat(1000),
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: WATCHED,
        Key: "multi.bin",
        UploadId: started.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: WATCHED, Key: "multi.bin" }));
    expect(source.events()).toHaveLength(1);
    expect(source.events()[0]?.detail).toMatchObject({
      object: { key: "multi.bin", size: 1000, etag: head.ETag?.replace(/"/g, "") },
      reason: "CompleteMultipartUpload",
    });
  });

  it("DeleteObject: Object Deleted, DeleteObject, Permanently Deleted, even for a missing key", async () => {
    await put("gone.txt");
    await s3.send(new DeleteObjectCommand({ Bucket: WATCHED, Key: "gone.txt" }));
    await s3.send(new DeleteObjectCommand({ Bucket: WATCHED, Key: "never.txt" }));
    const deleted = source.events().slice(1);
    expect(deleted.map((event) => event.detail.object.key)).toEqual(["gone.txt", "never.txt"]);
    expect(deleted[0]).toMatchObject({
      "detail-type": "Object Deleted",
      detail: {
        reason: "DeleteObject",
        "deletion-type": "Permanently Deleted",
        "source-ip-address": "1.2.3.4",
      },
    });
    expect(deleted[0]?.detail.object).not.toHaveProperty("etag");
  });

  it("DeleteObjects: one Object Deleted per key deleted, also in quiet mode", async () => {
    await put("x/1 &.txt");
    await put("x/2.txt");
    await put("x/3.txt");
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: WATCHED,
        Delete: { Objects: [{ Key: "x/1 &.txt" }, { Key: "x/2.txt" }] },
      }),
    );
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: WATCHED,
        Delete: { Objects: [{ Key: "x/3.txt" }], Quiet: true },
      }),
    );
    const deleted = source.events().filter((event) => event["detail-type"] === "Object Deleted");
    expect(deleted.map((event) => event.detail.object.key)).toEqual([
      "x/1 &.txt",
      "x/2.txt",
      "x/3.txt",
    ]);
  });

  it("Put/DeleteObjectTagging: Object Tags Added / Deleted with the etag, no sequencer", async () => {
    const out = await put("tagged.txt");
    const tagging = { TagSet: [{ Key: "team", Value: "data" }] };
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: WATCHED, Key: "tagged.txt", Tagging: tagging }),
    );
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: WATCHED, Key: "tagged.txt" }));
    const [, added, removed] = source.events();
    expect(added).toMatchObject({
      "detail-type": "Object Tags Added",
      detail: { object: { key: "tagged.txt", etag: out.ETag?.replace(/"/g, "") } },
    });
    expect(removed?.["detail-type"]).toBe("Object Tags Deleted");
    expect(added?.detail.object).not.toHaveProperty("sequencer");
    expect(added?.detail).not.toHaveProperty("reason");
  });

  it("emits nothing for failed requests, reads, or other buckets", async () => {
    await expect(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: WATCHED,
          Key: "missing.txt",
          Tagging: { TagSet: [] },
        }),
      ),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
    await expect(
      s3.send(
        new CopyObjectCommand({ Bucket: WATCHED, Key: "c.txt", CopySource: `${WATCHED}/nope` }),
      ),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
    await put("elsewhere.txt", "x", OTHER);
    await put("read.txt");
    const got = await s3.send(new GetObjectCommand({ Bucket: WATCHED, Key: "read.txt" }));
    expect(await got.Body?.transformToString()).toBe("hello");
    expect(source.events().map((event) => event.detail.object.key)).toEqual(["read.txt"]);
  });

  it("gives sequencers in the order s3rver applied concurrent writes of a key", async () => {
    const bodies = Array.from({ length: 15 }, (_, index) => `body ${index}`);
    await Promise.all(bodies.map((body) => put("hot.txt", body)));
    const events = source.events();
    const sequencers = events.map((event) => String(detailOf(event).object.sequencer));
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(15);
    const head = await s3.send(new HeadObjectCommand({ Bucket: WATCHED, Key: "hot.txt" }));
    expect(events.at(-1)?.detail.object.etag).toBe(head.ETag?.replace(/"/g, ""));
  });

  it("tells subscribers before the request is answered; unsubscribing stops them", async () => {
    const seen: S3Event[] = [];
    const unsubscribe = source.onEvent((event) => seen.push(event));
    await put("one.txt");
    expect(seen.map((event) => event.detail.object.key)).toEqual(["one.txt"]);
    unsubscribe();
    await put("two.txt");
    expect(seen).toHaveLength(1);
    expect(source.events()).toHaveLength(2);
  });

  it("uses the configured source address, IPv6 included", async () => {
    source.setSourceIp(IPV6_CLIENT);
    await put("v6.txt");
    expect(source.events()[0]?.detail["source-ip-address"]).toBe(IPV6_CLIENT);
  });

  it("lifecycle expiration of a noncurrent version: Permanently Deleted, object kept", async () => {
    await put("life.txt");
    const event = await source.lifecycleExpiration("life.txt");
    expect(event).toMatchObject({
      "detail-type": "Object Deleted",
      detail: {
        object: { key: "life.txt" },
        requester: "s3.amazonaws.com",
        reason: "Lifecycle Expiration",
        "deletion-type": "Permanently Deleted",
      },
    });
    expect(event.detail).not.toHaveProperty("source-ip-address");
    expect(event.detail.object["version-id"]).toMatch(/^expired-/);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: WATCHED, Key: "life.txt" })),
    ).resolves.toBeDefined();
    expect(source.events().at(-1)).toEqual(event);
  });

  it("lifecycle expiration of the current version: Delete Marker Created, object gone", async () => {
    await put("current.txt");
    const event = await source.lifecycleExpiration("current.txt", { version: "current" });
    expect(event.detail).toMatchObject({
      reason: "Lifecycle Expiration",
      "deletion-type": "Delete Marker Created",
      object: { key: "current.txt" },
    });
    expect(event.detail.object.etag).toBe("d41d8cd98f00b204e9800998ecf8427e");
    const [created, expired] = source.events().map((each) => detailOf(each).object.sequencer ?? "");
    expect(expired).toBe(detailOf(event).object.sequencer);
    expect((expired ?? "") > (created ?? "")).toBe(true);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: WATCHED, Key: "current.txt" })),
    ).rejects.toMatchObject({ name: "NotFound" });
  });
});

/** Created and deleted events carry `sequencer` and `reason`; tag events do not. */
function detailOf(event: S3Event | undefined): {
  object: { sequencer?: string };
  reason?: string;
} {
  return (event?.detail ?? { object: {} }) as { object: { sequencer?: string }; reason?: string };
}

describe("a copy answered 200 with an error inside, as S3 may", () => {
  let upstream: Server;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      upstream.close(() => {
        resolve();
      });
    });
  });

  it("emits nothing", async () => {
    const { port } = upstream.address() as AddressInfo;
    const source = await startS3EventSource({
      upstream: `http://127.0.0.1:${port}`,
      bucket: WATCHED,
    });
    const s3 = clientAt(source.endpoint);
    try {
      await expect(
        s3.send(new CopyObjectCommand({ Bucket: WATCHED, Key: "k", CopySource: `${WATCHED}/s` })),
      ).rejects.toMatchObject({ name: "InternalError" });
      expect(source.events()).toEqual([]);
    } finally {
      s3.destroy();
      await source.stop();
    }
  });
});

describe("classifyRequest", () => {
  it.each([
    ["PUT", "/watched-bucket/k", {}, { kind: "PutObject", key: "k" }],
    ["PUT", "/watched-bucket/k", { "x-amz-copy-source": "/a/b" }, { kind: "CopyObject", key: "k" }],
    ["PUT", "/watched-bucket/k?partNumber=1&uploadId=u", {}, undefined],
    ["PUT", "/watched-bucket/k?acl", {}, undefined],
    ["PUT", "/watched-bucket/k?tagging", {}, { kind: "PutObjectTagging", key: "k" }],
    ["POST", "/watched-bucket/k?uploads", {}, undefined],
    ["POST", "/watched-bucket/k?uploadId=u", {}, { kind: "CompleteMultipartUpload", key: "k" }],
    ["POST", "/watched-bucket?delete", {}, { kind: "DeleteObjects" }],
    ["POST", "/watched-bucket/?delete=", {}, { kind: "DeleteObjects" }],
    ["PUT", "/watched-bucket/dir/", {}, { kind: "PutObject", key: "dir/" }],
    ["DELETE", "/watched-bucket/k?uploadId=u", {}, undefined],
    ["DELETE", "/watched-bucket/k?tagging", {}, { kind: "DeleteObjectTagging", key: "k" }],
    ["DELETE", "/watched-bucket/a%2Fb%20c", {}, { kind: "DeleteObject", key: "a/b c" }],
    ["GET", "/watched-bucket/k", {}, undefined],
    ["PUT", "/watched-bucket", {}, undefined],
    ["PUT", "/other-bucket/k", {}, undefined],
  ])("%s %s %j -> %j", (method, url, headers, expected) => {
    expect(classifyRequest(method, url, headers, WATCHED)).toEqual(expected);
  });
});

describe("keysInside", () => {
  it("reads the keys of the named elements, XML entities decoded", () => {
    const xml =
      "<DeleteResult><Deleted><Key>a &amp; b&#233;&#x41;&lt;</Key></Deleted><Error><Key>c</Key></Error><Deleted><Key>&bogus;</Key></Deleted></DeleteResult>";
    expect(keysInside(xml, "Deleted")).toEqual(["a & béA<", "&bogus;"]);
    expect(keysInside(xml, "Error")).toEqual(["c"]);
  });
});
