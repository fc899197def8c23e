/**
 * The emulator wrapper makes s3rver as atomic per object as real S3: requests on one key are
 * serialised (s3rver otherwise fails mid-request when a key is overwritten or deleted under a
 * read), requests on other keys are not, and a copy holds its source and destination together.
 */
import crypto from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  paginateListObjectsV2,
  type CopyObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  bucketConfigsRemembered,
  createBucket,
  createTable,
  desAsTripleDes,
  dynamodbClient,
  keyedLock,
  objectsOfRequest,
  quietRequests,
  s3Client,
  startEmulators,
  unescapeXml,
  type BucketConfigStore,
  type Emulators,
} from "../../tools/emulators/emulators";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * For one describe block: an emulator set with `bucket`, started before its tests and stopped
 * after them; `use` receives the S3 client.
 */
function withEmulatorBucket(bucket: string, use: (s3: S3Client) => void): void {
  let emulators: Emulators | undefined;
  let s3: S3Client | undefined;
  beforeAll(async () => {
    emulators = await startEmulators();
    s3 = s3Client(emulators);
    await createBucket(emulators, bucket);
    use(s3);
  });
  afterAll(async () => {
    s3?.destroy();
    await emulators?.stop();
  });
}

describe("keyedLock", () => {
  it("runs holders of one key one after another, in arrival order", async () => {
    // Prepare
    const lock = keyedLock();
    const order: string[] = [];
    const first = await lock(["b/k"]);
    const second = lock(["b/k"]).then((release) => {
      order.push("second");
      release();
    });
    // Act
    await tick();
    order.push("first releases");
    first();
    await second;
    // Assess
    expect(order).toEqual(["first releases", "second"]);
  });

  it("does not make holders of other keys wait", async () => {
    const lock = keyedLock();
    await lock(["b/one"]);
    const other = await Promise.race([
      lock(["b/two"]).then(() => "acquired"),
      tick().then(() => "waited"),
    ]);
    expect(other).toBe("acquired");
  });

  it("takes several keys in one fixed order, so crossing copies cannot deadlock", async () => {
    const lock = keyedLock();
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const release = await lock(index % 2 === 0 ? ["b/x", "b/y"] : ["b/y", "b/x"]);
        await tick();
        release();
        return index;
      }),
    );
    expect(results).toHaveLength(20);
  });
});

describe("objectsOfRequest", () => {
  it.each([
    ["/bucket/a%20b/c%2Bd.txt", undefined, ["bucket/a b/c+d.txt"]],
    ["/bucket", undefined, []],
    ["/bucket/dst", "/src-bucket/k%C3%BC%3D1?versionId=3", ["bucket/dst", "src-bucket/kü=1"]],
    ["/bucket/bad%E0%A4%A", undefined, ["bucket/bad%E0%A4%A"]],
  ])("%s (copy source %s) touches %j", (pathname, copySource, expected) => {
    expect(objectsOfRequest(pathname, copySource)).toEqual(expected);
  });
});

describe("s3rver under concurrent writes, reads and deletes of one key", () => {
  let s3: S3Client;
  withEmulatorBucket("race", (client) => {
    s3 = client;
  });

  it("answers every request as S3 would: the whole object, or NoSuchKey", async () => {
    // Prepare
    const body = "x".repeat(64 * 1024);
    const key = "same key +ü.txt";
    // Act
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, async (_, index) => {
        try {
          if (index % 3 === 0) {
            await s3.send(new PutObjectCommand({ Bucket: "race", Key: key, Body: body }));
            return "put";
          }
          if (index % 3 === 1) {
            await s3.send(new DeleteObjectCommand({ Bucket: "race", Key: key }));
            return "deleted";
          }
          const got = await s3.send(new GetObjectCommand({ Bucket: "race", Key: key }));
          const text = await got.Body?.transformToString();
          return text === body ? "read whole" : "read partial";
        } catch (error: unknown) {
          return error instanceof Error ? error.name : "unknown";
        }
      }),
    );
    // Assess
    const kinds = new Set(outcomes);
    expect(
      [...kinds].filter((kind) => !["put", "deleted", "read whole", "NoSuchKey"].includes(kind)),
    ).toEqual([]);
    expect(outcomes.filter((kind) => kind === "put")).toHaveLength(50);
  });

  it("lets a put in a folder run beside deletes of the folder's other keys", async () => {
    // Prepare: s3rver on its own removes a folder that a delete leaves empty, under a running put.
    const puts = Array.from({ length: 100 }, (_, index) => `deep/${index}/a.txt`);
    const others = puts.map((key) => key.replace("a.txt", "b.txt"));
    await Promise.all(
      others.map((key) => s3.send(new PutObjectCommand({ Bucket: "race", Key: key, Body: "b" }))),
    );
    // Act
    await Promise.all(
      puts.flatMap((key, index) => [
        s3.send(new PutObjectCommand({ Bucket: "race", Key: key, Body: `a${index}` })),
        s3.send(new DeleteObjectCommand({ Bucket: "race", Key: others[index] })),
      ]),
    );
    // Assess
    const bodies = await Promise.all(
      puts.map(async (key) => {
        const got = await s3.send(new GetObjectCommand({ Bucket: "race", Key: key }));
        return got.Body?.transformToString();
      }),
    );
    expect(bodies).toEqual(puts.map((_, index) => `a${index}`));
  });
});

describe("s3rver made to keep tags as S3 does", () => {
  let s3: S3Client;
  withEmulatorBucket("tags", (client) => {
    s3 = client;
  });

  it("removes the whole tag set of an object", async () => {
    const key = "tagged +ü.txt";
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: key, Body: "x" }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: "tags",
        Key: key,
        Tagging: {
          TagSet: [
            { Key: "a", Value: "1" },
            { Key: "b", Value: "2" },
          ],
        },
      }),
    );
    const before = await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: key }));
    expect(before.TagSet).toHaveLength(2);
    const out = await s3.send(new DeleteObjectTaggingCommand({ Bucket: "tags", Key: key }));
    expect(out.$metadata.httpStatusCode).toBe(204);
    const after = await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: key }));
    expect(after.TagSet ?? []).toEqual([]);
  });

  const tagsOf = async (key: string): Promise<Record<string, string>> => {
    const out = await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: key }));
    return Object.fromEntries(
      (out.TagSet ?? []).map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""]),
    );
  };

  it("PutObject sets the tags of x-amz-tagging; an overwrite or a delete drops them", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: "tags", Key: "p", Body: "x", Tagging: "a=1&b=two%20words" }),
    );
    expect(await tagsOf("p")).toEqual({ a: "1", b: "two words" });
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: "p", Body: "y" }));
    expect(await tagsOf("p")).toEqual({});
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: "p", Body: "x", Tagging: "c=3" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "tags", Key: "p" }));
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: "p", Body: "z" }));
    expect(await tagsOf("p")).toEqual({});
  });

  it("CopyObject copies the source's tags, or replaces them with REPLACE", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: "tags", Key: "src <&>", Body: "x", Tagging: "team=data" }),
    );
    const copy = (key: string, extra: Partial<CopyObjectCommandInput> = {}) =>
      s3.send(
        new CopyObjectCommand({
          Bucket: "tags",
          Key: key,
          CopySource: `tags/${encodeURIComponent("src <&>")}`,
          ...extra,
        }),
      );
    await copy("copied");
    // Tag values allow letters, digits, spaces and + - = . _ : / @ (URL-encoded in the header).
    await copy("replaced", {
      TaggingDirective: "REPLACE",
      Tagging: "team=ops&x=a%2Bb%3Ac%2Fd%40e",
    });
    await copy("cleared", { TaggingDirective: "REPLACE" });
    expect(await tagsOf("copied")).toEqual({ team: "data" });
    expect(await tagsOf("replaced")).toEqual({ team: "ops", x: "a+b:c/d@e" });
    expect(await tagsOf("cleared")).toEqual({});
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: "untagged", Body: "u" }));
    await s3.send(
      new CopyObjectCommand({ Bucket: "tags", Key: "copied", CopySource: "tags/untagged" }),
    );
    expect(await tagsOf("copied")).toEqual({});
  });

  it("a multipart upload gets the tags of CreateMultipartUpload when it completes", async () => {
    const started = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "tags", Key: "multi", Tagging: "m=1" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "tags",
        Key: "multi",
        UploadId: started.UploadId,
        PartNumber: 1,
        Body: "part",
      }),
    );
    expect(await tagsOf("src <&>")).toEqual({ team: "data" });
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "tags",
        Key: "multi",
        UploadId: started.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await tagsOf("multi")).toEqual({ m: "1" });
  });

  it("answers NoSuchKey for a missing object", async () => {
    await expect(
      s3.send(new DeleteObjectTaggingCommand({ Bucket: "tags", Key: "missing <&>" })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
  });

  it("refuses a tag S3 refuses (400 InvalidTag), writing nothing, and takes every character S3 allows", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "tags", Key: "t", Body: "x", Tagging: "a=1" }));
    const refused = { name: "InvalidTag", $metadata: { httpStatusCode: 400 } };
    await expect(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: "tags",
          Key: "t",
          Tagging: { TagSet: [{ Key: "phone", Value: "[redacted]" }] },
        }),
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      s3.send(new PutObjectCommand({ Bucket: "tags", Key: "t", Body: "y", Tagging: "a=%3Cb%3E" })),
    ).rejects.toMatchObject(refused);
    await expect(
      s3.send(
        new PutObjectCommand({
          Bucket: "tags",
          Key: "t",
          Body: "y",
          Tagging: `${"k".repeat(129)}=v`,
        }),
      ),
    ).rejects.toMatchObject(refused);
    // Nothing of the refused requests was written.
    expect(await tagsOf("t")).toEqual({ a: "1" });
    const body = await s3.send(new GetObjectCommand({ Bucket: "tags", Key: "t" }));
    expect(await body.Body?.transformToString()).toBe("x");
    const allowed = "Ünï cödé 42 _.:/=+-@";
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: "tags",
        Key: "t",
        Tagging: {
          TagSet: [
            { Key: "ok", Value: allowed },
            { Key: "empty", Value: "" },
          ],
        },
      }),
    );
    expect(await tagsOf("t")).toEqual({ ok: allowed, empty: "" });
  });
});

describe("s3rver made to give a copy the storage class and redirect S3 gives it", () => {
  let s3: S3Client;
  withEmulatorBucket("copies", (client) => {
    s3 = client;
  });

  beforeAll(async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: "copies",
        Key: "source",
        Body: "x",
        StorageClass: "STANDARD_IA",
        WebsiteRedirectLocation: "/elsewhere",
        Metadata: { origin: "prod" },
      }),
    );
  });

  const head = async (key: string) => {
    const out = await s3.send(new HeadObjectCommand({ Bucket: "copies", Key: key }));
    return {
      storageClass: out.StorageClass,
      redirect: out.WebsiteRedirectLocation,
      metadata: out.Metadata,
    };
  };

  it("keeps both on the source", async () => {
    expect(await head("source")).toEqual({
      storageClass: "STANDARD_IA",
      redirect: "/elsewhere",
      metadata: { origin: "prod" },
    });
  });

  it("a copy keeps the metadata, but is STANDARD without a redirect unless the request says", async () => {
    await s3.send(
      new CopyObjectCommand({ Bucket: "copies", Key: "plain", CopySource: "copies/source" }),
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket: "copies",
        Key: "explicit",
        CopySource: "copies/source",
        StorageClass: "STANDARD_IA",
        WebsiteRedirectLocation: "/elsewhere",
      }),
    );
    expect(await head("plain")).toEqual({
      storageClass: undefined,
      redirect: undefined,
      metadata: { origin: "prod" },
    });
    expect(await head("explicit")).toEqual({
      storageClass: "STANDARD_IA",
      redirect: "/elsewhere",
      metadata: { origin: "prod" },
    });
  });
});

describe("conditional requests, as S3 enforces them", () => {
  let s3: S3Client;
  withEmulatorBucket("cond", (client) => {
    s3 = client;
  });

  const status = (promise: Promise<unknown>) =>
    promise.then(
      () => "ok",
      (error: unknown) =>
        `${(error as { name?: string }).name ?? "?"} ${String((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode)}`,
    );

  it("refuses a write over an object that exists with If-None-Match: *, and one with a stale If-Match", async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: "cond", Key: "k", Body: "1" }));

    expect(
      await status(
        s3.send(new PutObjectCommand({ Bucket: "cond", Key: "k", Body: "2", IfNoneMatch: "*" })),
      ),
    ).toBe("PreconditionFailed 412");
    expect(
      await status(
        s3.send(new PutObjectCommand({ Bucket: "cond", Key: "k", Body: "2", IfMatch: '"stale"' })),
      ),
    ).toBe("PreconditionFailed 412");
    expect(
      await status(
        s3.send(new PutObjectCommand({ Bucket: "cond", Key: "k", Body: "2", IfMatch: first.ETag })),
      ),
    ).toBe("ok");
    expect(
      await status(
        s3.send(new PutObjectCommand({ Bucket: "cond", Key: "new", Body: "n", IfNoneMatch: "*" })),
      ),
    ).toBe("ok");
    expect(
      await status(
        s3.send(
          new PutObjectCommand({ Bucket: "cond", Key: "none", Body: "n", IfMatch: first.ETag }),
        ),
      ),
    ).toBe("NoSuchKey 404");
  });

  it("refuses a copy whose source changed (x-amz-copy-source-if-match), and a delete with a stale If-Match", async () => {
    const source = await s3.send(new PutObjectCommand({ Bucket: "cond", Key: "src", Body: "s" }));

    expect(
      await status(
        s3.send(
          new CopyObjectCommand({
            Bucket: "cond",
            Key: "dst",
            CopySource: "cond/src",
            CopySourceIfMatch: '"other"',
          }),
        ),
      ),
    ).toBe("PreconditionFailed 412");
    expect(
      await status(
        s3.send(
          new CopyObjectCommand({
            Bucket: "cond",
            Key: "dst",
            CopySource: "cond/src",
            CopySourceIfMatch: source.ETag,
          }),
        ),
      ),
    ).toBe("ok");
    expect(
      await status(
        s3.send(new DeleteObjectCommand({ Bucket: "cond", Key: "dst", IfMatch: '"stale"' })),
      ),
    ).toBe("PreconditionFailed 412");
    expect(
      await status(
        s3.send(new DeleteObjectCommand({ Bucket: "cond", Key: "dst", IfMatch: source.ETag })),
      ),
    ).toBe("ok");
  });
});

describe("s3rver made to copy parts (UploadPartCopy) as S3 does", () => {
  let s3: S3Client;
  withEmulatorBucket("parts", (client) => {
    s3 = client;
  });

  it("assembles an object from byte ranges of another, guarded by the source's ETag", async () => {
    const body = Buffer.from("0123456789abcdefghij".repeat(1000));
    const source = await s3.send(
      new PutObjectCommand({ Bucket: "parts", Key: "src a+b", Body: body }),
    );
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "parts", Key: "dst" }),
    );
    const copyPart = (PartNumber: number, range: string, match = source.ETag) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: "parts",
          Key: "dst",
          UploadId,
          PartNumber,
          CopySource: "parts/src%20a%2Bb",
          CopySourceRange: range,
          CopySourceIfMatch: match,
        }),
      );
    const first = await copyPart(1, "bytes=0-9999");
    const second = await copyPart(2, "bytes=10000-19999");
    await expect(copyPart(3, "bytes=0-1", '"stale"')).rejects.toMatchObject({
      name: "PreconditionFailed",
    });
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "parts",
        Key: "dst",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
          ],
        },
      }),
    );

    const copied = await s3.send(new GetObjectCommand({ Bucket: "parts", Key: "dst" }));
    expect(Buffer.from((await copied.Body?.transformToByteArray()) ?? [])).toEqual(body);
    expect(first.CopyPartResult?.ETag).toBe(
      `"${crypto.createHash("md5").update(body.subarray(0, 10000)).digest("hex")}"`,
    );
  });

  it("answers NoSuchKey for a part copied from a missing object", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "parts", Key: "dst2" }),
    );
    await expect(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: "parts",
          Key: "dst2",
          UploadId,
          PartNumber: 1,
          CopySource: "parts/missing",
        }),
      ),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
  });
});

describe("dynalite made to return the item a condition failed on", () => {
  let emulators: Emulators;
  let dynamodb: DynamoDBClient;
  beforeAll(async () => {
    emulators = await startEmulators();
    await createTable(emulators, "items");
    dynamodb = dynamodbClient(emulators);
  });
  afterAll(async () => {
    dynamodb.destroy();
    await emulators.stop();
  });

  it("adds the item as it was to ConditionalCheckFailedException (ReturnValuesOnConditionCheckFailure ALL_OLD)", async () => {
    const key = { pk: { S: "a" }, sk: { S: "b" } };
    await dynamodb.send(
      new PutItemCommand({ TableName: "items", Item: { ...key, v: { N: "1" } } }),
    );
    const refused = (ReturnValuesOnConditionCheckFailure?: "ALL_OLD") =>
      dynamodb
        .send(
          new PutItemCommand({
            TableName: "items",
            Item: { ...key, v: { N: "2" } },
            ConditionExpression: "attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure,
          }),
        )
        .then(
          () => undefined,
          (error: unknown) => error,
        );

    const withItem = await refused("ALL_OLD");
    expect(withItem).toBeInstanceOf(ConditionalCheckFailedException);
    expect((withItem as ConditionalCheckFailedException).Item).toEqual({ ...key, v: { N: "1" } });
    expect(((await refused()) as ConditionalCheckFailedException).Item).toBeUndefined();
    const deleted = await dynamodb
      .send(
        new DeleteItemCommand({
          TableName: "items",
          Key: key,
          ConditionExpression: "v = :two",
          ExpressionAttributeValues: { ":two": { N: "2" } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      )
      .catch((error: unknown) => error);
    expect((deleted as ConditionalCheckFailedException).Item).toEqual({ ...key, v: { N: "1" } });
  });
});

describe("s3rver made to page listings as S3 does", () => {
  let s3: S3Client;
  withEmulatorBucket("pages", (client) => {
    s3 = client;
  });

  it("lists every key page by page with continuation tokens (single DES, through 3DES)", async () => {
    const keys = ["a", "b c", "d+e"];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: "pages", Key: key, Body: key }));
    }

    const pages: string[][] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 1 },
      { Bucket: "pages" },
    )) {
      pages.push((page.Contents ?? []).map((object) => object.Key ?? ""));
    }

    expect(pages).toEqual([["a"], ["b c"], ["d+e"]]);
  });

  it("makes the bytes single DES makes, and reads them back", () => {
    desAsTripleDes();
    // A published DES test vector (FIPS 81, ECB: key 0123456789abcdef, "Now is t" ->
    // 3fa40e8a984d4815), through the patched DES-CBC with a zero IV: its first block is ECB's.
    const key = Buffer.from("0123456789abcdef", "hex");
    const cipher = crypto.createCipheriv("des", key, Buffer.alloc(8));
    const sealed = Buffer.concat([cipher.update("Now is t", "latin1"), cipher.final()]);
    const decipher = crypto.createDecipheriv("des", key, Buffer.alloc(8));

    expect(sealed.subarray(0, 8).toString("hex")).toBe("3fa40e8a984d4815");
    expect(Buffer.concat([decipher.update(sealed), decipher.final()]).toString("latin1")).toBe(
      "Now is t",
    );
  });
});

describe("s3rver's per-request work the emulators leave out", () => {
  it("drops koa-logger's middleware (it logs nothing while silent) and keeps the rest in order", () => {
    const middleware = [{ name: "faithful" }, { name: "logger" }, { name: "router" }];
    quietRequests(middleware);
    expect(middleware.map((each) => each.name)).toEqual(["faithful", "router"]);
    // An s3rver without it (a renamed middleware) is said, not silently left as it is.
    expect(() => {
      quietRequests(middleware);
    }).toThrow(/request logger .* not in its middleware: faithful, router/);
  });

  it("does not remember an absence it read while a configuration was being put", async () => {
    const stored = new Map<string, unknown>();
    let release = (): void => undefined;
    const store: BucketConfigStore = {
      getSubresource: async (_bucket, _key, type) => {
        const found = stored.get(type) ?? null;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return found;
      },
      putSubresource: (_bucket, _key, resource) => {
        stored.set(resource.type, resource);
        return Promise.resolve();
      },
      deleteSubresource: (_bucket, _key, type) => {
        stored.delete(type);
        return Promise.resolve();
      },
    };
    bucketConfigsRemembered(store);

    const slow = store.getSubresource("b", undefined, "cors");
    await store.putSubresource("b", undefined, { type: "cors" });
    release();
    const slowFound = await slow;
    const later = store.getSubresource("b", undefined, "cors");
    release();

    expect(slowFound).toBeNull();
    expect(await later).toEqual({ type: "cors" });
  });

  it("remembers a bucket without a CORS or website configuration until one is put or deleted", async () => {
    const stored = new Map<string, unknown>();
    const reads: string[] = [];
    const store: BucketConfigStore = {
      getSubresource: (bucket, key, type) => {
        reads.push(`${bucket}/${key ?? ""}/${type}`);
        return Promise.resolve(stored.get(`${bucket}/${key ?? ""}/${type}`) ?? null);
      },
      putSubresource: (bucket, key, resource) => {
        stored.set(`${bucket}/${key ?? ""}/${resource.type}`, resource);
        return Promise.resolve();
      },
      deleteSubresource: (bucket, key, type) => {
        stored.delete(`${bucket}/${key ?? ""}/${type}`);
        return Promise.resolve();
      },
    };
    bucketConfigsRemembered(store);

    const cors = { type: "cors" };
    const seen = [
      await store.getSubresource("b", undefined, "cors"),
      await store.getSubresource("b", undefined, "cors"),
      await store.getSubresource("b", undefined, "website"),
      await store.getSubresource("b", "k", "tagging"),
      await store.getSubresource("b", "k", "tagging"),
    ];
    await store.putSubresource("b", undefined, cors);
    seen.push(
      await store.getSubresource("b", undefined, "cors"),
      await store.getSubresource("b", undefined, "cors"),
    );
    await store.deleteSubresource("b", undefined, "cors");
    seen.push(await store.getSubresource("b", undefined, "cors"));

    expect(seen).toEqual([null, null, null, null, null, cors, cors, null]);
    // Absence read once per bucket and kind; an object's subresources and a present
    // configuration every time.
    expect(reads).toEqual([
      "b//cors",
      "b//website",
      "b/k/tagging",
      "b/k/tagging",
      "b//cors",
      "b//cors",
      "b//cors",
    ]);
  });

  describe("on the emulators", () => {
    let s3: S3Client;
    withEmulatorBucket("configs", (client) => {
      s3 = client;
    });

    it("still answers a bucket's CORS configuration as it is put and deleted", async () => {
      const missing = () =>
        s3.send(new GetBucketCorsCommand({ Bucket: "configs" })).then(
          () => "present",
          (error: unknown) => (error instanceof Error ? error.name : String(error)),
        );
      expect(await missing()).toBe("NoSuchCORSConfiguration");

      await s3.send(
        new PutBucketCorsCommand({
          Bucket: "configs",
          CORSConfiguration: {
            CORSRules: [{ AllowedMethods: ["GET"], AllowedOrigins: ["https://example.com"] }],
          },
        }),
      );
      const cors = await s3.send(new GetBucketCorsCommand({ Bucket: "configs" }));
      expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual(["https://example.com"]);

      await s3.send(new DeleteBucketCorsCommand({ Bucket: "configs" }));
      expect(await missing()).toBe("NoSuchCORSConfiguration");
    });
  });
});

describe("unescapeXml", () => {
  it("resolves XML's five entities and character references, and leaves anything else as written", () => {
    expect(unescapeXml("a&amp;b &lt;&gt;&quot;&apos; &#x41;&#66;&#x1F600;")).toBe(
      "a&b <>\"' AB\u{1F600}",
    );
    // Names are case-sensitive, HTML's are not XML's, and nothing is past U+10FFFF.
    expect(unescapeXml("&AMP; &nbsp; &#x110000; &#1114112;")).toBe(
      "&AMP; &nbsp; &#x110000; &#1114112;",
    );
  });
});
