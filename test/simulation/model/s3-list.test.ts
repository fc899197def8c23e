// The S3 model's ListObjectsV2 (tools/simulation/model/s3-read.ts): UTF-8 binary order, prefixes,
// delimiters, StartAfter, pages of fewer keys than asked (some empty), continuation tokens.
import { S3ServiceException } from "@aws-sdk/client-s3";
import { S3Model } from "../../../tools/simulation/model/s3";

const REGION = "us-east-1";

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function world(seed = 17) {
  const now = Date.UTC(2025, 5, 1);
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(seed),
    accountId: "111122223333",
  });
  model.createBucket("b", { region: REGION, versioning: true });
  const run = (command: string, input: Record<string, unknown>) =>
    model.start({ service: "s3", region: REGION, command, input }).finish();
  const list = (input: Record<string, unknown> = {}) =>
    run("ListObjectsV2", { Bucket: "b", ...input });
  const put = (...keys: string[]) => {
    for (const key of keys) run("PutObject", { Bucket: "b", Key: key, Body: key });
  };
  return { model, run, list, put };
}

interface Page {
  readonly Contents?: { Key: string }[];
  readonly CommonPrefixes?: { Prefix: string }[];
  readonly IsTruncated: boolean;
  readonly KeyCount: number;
  readonly NextContinuationToken?: string;
}

function isPage(value: Record<string, unknown>): value is Record<string, unknown> & Page {
  return typeof value.IsTruncated === "boolean" && typeof value.KeyCount === "number";
}

/** Every page until IsTruncated is false. */
function listAll(
  list: (input: Record<string, unknown>) => Record<string, unknown>,
  input: Record<string, unknown>,
) {
  const pages: Page[] = [];
  let token: string | undefined;
  do {
    const page = list(token === undefined ? input : { ...input, ContinuationToken: token });
    if (!isPage(page)) throw new Error("not a page");
    pages.push(page);
    token = page.NextContinuationToken;
    if (page.IsTruncated) expect(token).toEqual(expect.any(String));
  } while (token !== undefined);
  return {
    pages,
    keys: pages.flatMap((page) => (page.Contents ?? []).map((entry) => entry.Key)),
    prefixes: pages.flatMap((page) => (page.CommonPrefixes ?? []).map((entry) => entry.Prefix)),
  };
}

describe("ListObjectsV2", () => {
  it("lists keys in UTF-8 binary order (not UTF-16 order), current objects only", () => {
    const w = world();
    const keys = ["b", "a", "\u{1F600}", "\uFF61", "A", "a/b", "é"];
    w.put(...keys, "gone");
    w.run("DeleteObject", { Bucket: "b", Key: "gone" });
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(expected.indexOf("\uFF61")).toBeLessThan(expected.indexOf("\u{1F600}"));
    expect(listAll(w.list, {}).keys).toEqual(expected);
    expect(w.model.keys("b")).toEqual(expected);
  });

  it("describes each object", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "abc", StorageClass: "GLACIER" });
    w.run("RestoreObject", { Bucket: "b", Key: "k", RestoreRequest: { Days: 1 } });
    const { pages } = listAll(w.list, { OptionalObjectAttributes: ["RestoreStatus"] });
    const entry = pages.flatMap((page) => page.Contents ?? [])[0];
    expect(entry).toEqual({
      Key: "k",
      LastModified: new Date(Date.UTC(2025, 5, 1)),
      ETag: '"900150983cd24fb0d6963f7d28e17f72"',
      Size: 3,
      StorageClass: "GLACIER",
      RestoreStatus: { IsRestoreInProgress: true },
    });
  });

  it("returns fewer keys than MaxKeys, some pages empty, and every key once across pages", () => {
    const w = world(23);
    const keys = Array.from({ length: 120 }, (_, i) => `key-${String(i).padStart(3, "0")}`);
    w.put(...keys);
    const { pages, keys: listed } = listAll(w.list, { MaxKeys: 5 });
    expect(listed).toEqual(keys);
    expect(
      pages.every((page) => page.KeyCount <= 5 && page.KeyCount === (page.Contents ?? []).length),
    ).toBe(true);
    expect(pages.some((page) => page.KeyCount < 5 && page.KeyCount > 0 && page.IsTruncated)).toBe(
      true,
    );
    expect(pages.some((page) => page.KeyCount === 0 && page.IsTruncated)).toBe(true);
    expect(pages[pages.length - 1]?.IsTruncated).toBe(false);
  });

  it("filters by Prefix, rolls keys up into CommonPrefixes with a Delimiter, echoes the request", () => {
    const w = world();
    w.put("notes/summer/july", "notes/summer/aug", "notes/winter/jan", "notes/top", "other");
    const { keys, prefixes } = listAll(w.list, { Prefix: "notes/", Delimiter: "/" });
    expect(keys).toEqual(["notes/top"]);
    expect(prefixes).toEqual(["notes/summer/", "notes/winter/"]);
    const first = w.list({ Prefix: "notes/", Delimiter: "/", MaxKeys: 1000 });
    expect(first).toMatchObject({ Name: "b", Prefix: "notes/", Delimiter: "/", MaxKeys: 1000 });
  });

  it("starts after StartAfter, and filters common prefixes not after it", () => {
    const w = world();
    w.put("a/1", "a/2", "b/1", "c");
    expect(listAll(w.list, { StartAfter: "a/1" }).keys).toEqual(["a/2", "b/1", "c"]);
    const rolled = listAll(w.list, { StartAfter: "a/1", Delimiter: "/" });
    expect(rolled.prefixes).toEqual(["b/"]);
    expect(rolled.keys).toEqual(["c"]);
    expect(w.list({ StartAfter: "a/1" }).StartAfter).toBe("a/1");
  });

  it("continues after keys created or deleted between pages as a position, not a snapshot", () => {
    const w = world(31);
    w.put("a", "c", "e");
    let page = w.list({ MaxKeys: 1 });
    while (page.KeyCount === 0)
      page = w.list({ MaxKeys: 1, ContinuationToken: page.NextContinuationToken });
    w.put("b");
    w.run("DeleteObject", { Bucket: "b", Key: "c" });
    const rest = listAll(w.list, { ContinuationToken: page.NextContinuationToken });
    expect(rest.keys).toEqual(["b", "e"]);
  });

  it("answers a bad continuation token with InvalidArgument, MaxKeys 0 with an empty untruncated page", () => {
    const w = world();
    w.put("a");
    let error: unknown;
    try {
      w.list({ ContinuationToken: "not-a-token" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({ name: "InvalidArgument", $metadata: { httpStatusCode: 400 } });
    expect(w.list({ MaxKeys: 0 })).toMatchObject({ KeyCount: 0, IsTruncated: false });
  });

  it("URL-encodes keys with EncodingType url", () => {
    const w = world();
    w.put("a b/(1).png");
    const { pages } = listAll(w.list, { EncodingType: "url" });
    expect(pages.flatMap((page) => page.Contents ?? []).map((entry) => entry.Key)).toEqual([
      "a%20b/%281%29.png",
    ]);
  });
});
