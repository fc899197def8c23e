/**
 * Starts the AWS emulators in-process on 127.0.0.1 with ephemeral ports: dynalite (DynamoDB,
 * in memory), s3rver (S3, temp dir, `test`/`test` key pair) and local-aws-sqs (SQS). Used by
 * the replication integration tests, and reusable by the local sandbox and benchmarks.
 *
 * s3rver decodes `x-amz-copy-source` with `decodeURI`, which leaves %2B %26 %3D %2C %3A %40
 * %24 %3B %3F %23 encoded; real S3 decodes the header fully. A middleware placed before
 * s3rver's routes rewrites the header so that s3rver ends up with the fully decoded value, as
 * S3 would: the emulator is made faithful, the code under test is not weakened. Likewise for
 * tags: s3rver answers DeleteObjectTagging with NotImplemented, ignores `x-amz-tagging` on
 * PutObject, CopyObject and CreateMultipartUpload, never copies a source's tags, and keeps an
 * object's tags after the object is overwritten or deleted; and a copy that keeps the source's
 * metadata also keeps its storage class and website redirect, which S3 does not: middlewares
 * do what S3 does.
 *
 * s3rver makes a truncated listing's continuation token with single DES, which Node 20's OpenSSL 3
 * only has in its legacy provider: every listing past one page answered 500 InternalError.
 * `desAsTripleDes` gives s3rver the same cipher through 3DES, which the default provider keeps.
 */
import crypto from "node:crypto";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  type AttributeDefinition,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import dynalite from "dynalite";
import { createSqsServer } from "local-aws-sqs";
import S3rver from "s3rver";
import { DUMMY_ACCOUNT } from "s3rver/lib/models/account";
import S3Error from "s3rver/lib/models/error";
import { startDynaliteFront } from "./dynalite-front";
import { closeServer } from "./http-relay";

export const EMULATOR_REGION = "us-east-1";
/** Credentials every emulator accepts (registered on s3rver's dummy account). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface Emulators {
  readonly s3: { readonly endpoint: string };
  readonly dynamodb: { readonly endpoint: string };
  readonly sqs: { readonly endpoint: string };
  /** Stops all three and removes s3rver's temp directory. */
  stop(): Promise<void>;
}

function endpointOf(address: AddressInfo | string | null): string {
  if (address === null || typeof address === "string") {
    throw new Error(`emulator is not listening on TCP: ${String(address)}`);
  }
  return `http://127.0.0.1:${address.port}`;
}

/** Real S3 fully percent-decodes x-amz-copy-source; make s3rver (decodeURI) do the same. */
export function faithfulCopySource(raw: string): string {
  return encodeURI(decodeURIComponent(raw));
}

/**
 * Keyed mutex for s3rver requests. Real S3 applies each request to a key atomically, while s3rver
 * reads an object's metadata and body in separate steps, so a concurrent overwrite or delete of
 * the same key makes it fail mid-request (ENOENT, thrown outside any handler). Serialising the
 * requests per object, until each response is closed, restores S3's atomicity.
 */
export function keyedLock(): (keys: readonly string[]) => Promise<() => void> {
  const tails = new Map<string, Promise<void>>();
  const acquireOne = async (key: string): Promise<() => void> => {
    const previous = tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    };
  };
  return async (keys) => {
    const releases: (() => void)[] = [];
    // One fixed order (sorted, distinct) so two requests holding two keys never deadlock.
    for (const key of [...new Set(keys)].sort()) releases.push(await acquireOne(key));
    return () => {
      for (const release of releases) release();
    };
  };
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // malformed escapes: s3rver answers those itself
  }
}

/** The objects a path-style S3 request touches: `bucket/key` of the path and of a copy source. */
export function objectsOfRequest(pathname: string, copySource: string | undefined): string[] {
  const objects: string[] = [];
  const target = decoded(pathname).replace(/^\//, "");
  if (target.includes("/")) objects.push(target);
  if (copySource !== undefined) {
    objects.push(decoded(copySource.split("?")[0] ?? "").replace(/^\//, ""));
  }
  return objects;
}

/** The parts of s3rver's Koa context and store that the tagging middlewares need. */
interface TaggingContext {
  readonly method: string;
  readonly path: string;
  readonly querystring: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  status: number;
  type: string;
  body: unknown;
}
/** The parts of s3rver's store that UploadPartCopy needs. */
type FilesystemStoreParts = S3rver["store"];

interface TaggingStore {
  existsObject(bucket: string, key: string): Promise<boolean>;
  getSubresource(
    bucket: string,
    key: string,
    resource: string,
  ): Promise<{ toXML(): string } | null>;
  putSubresource(
    bucket: string,
    key: string,
    resource: { readonly type: string; toXML(): string },
  ): Promise<void>;
  deleteSubresource(bucket: string, key: string, resource: string): Promise<void>;
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The tag set of an `x-amz-tagging` header: "The tag-set must be encoded as URL Query
 * parameters" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html).
 */
export function taggingXml(header: string): string {
  const tags = [...new URLSearchParams(header)]
    .map(
      ([key, value]) => `<Tag><Key>${escapeXml(key)}</Key><Value>${escapeXml(value)}</Value></Tag>`,
    )
    .join("");
  return `<Tagging><TagSet>${tags}</TagSet></Tagging>`;
}

const headerOf = (ctx: TaggingContext, name: string): string | undefined => {
  const value = ctx.headers[name];
  return typeof value === "string" ? value : undefined;
};

/** Gives the object the tags of `header`, or none. */
async function setTags(
  store: TaggingStore,
  bucket: string,
  key: string,
  header: string | undefined,
): Promise<void> {
  if (header === undefined || header === "") {
    await store.deleteSubresource(bucket, key, "tagging");
    return;
  }
  await store.putSubresource(bucket, key, { type: "tagging", toXML: () => taggingXml(header) });
}

/**
 * A tag S3 refuses, or undefined: "Pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", a key of 1 to
 * 128 characters and a value of up to 256
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html; object tags follow
 * the same restrictions, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html).
 * s3rver stores any tag; S3 answers 400 InvalidTag.
 */
export function invalidTag(tags: Iterable<readonly [string, string]>): string | undefined {
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  for (const [key, value] of tags) {
    const keyLength = Array.from(key).length;
    if (keyLength < 1 || keyLength > 128 || !allowed.test(key)) return `tag key "${key}"`;
    if (Array.from(value).length > 256 || !allowed.test(value))
      return `tag value "${value}" of "${key}"`;
  }
  return undefined;
}

/** XML's five predefined entities (XML 1.0, section 4.6); names are case-sensitive. */
const XML_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** Text of an XML element as written: entities and character references resolved. */
export const unescapeXml = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith("#")) {
      const hex = entity.startsWith("#x") || entity.startsWith("#X");
      const point = parseInt(entity.slice(hex ? 2 : 1), hex ? 16 : 10);
      // Beyond Unicode (0x10FFFF) no character: the reference stays as written.
      return point <= 0x10ffff ? String.fromCodePoint(point) : whole;
    }
    return XML_ENTITIES[entity] ?? whole;
  });

/** The tags of a `<Tagging>` document, in order. */
export function tagsOfXml(xml: string): [string, string][] {
  return [...xml.matchAll(/<Tag>\s*<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>\s*<\/Tag>/g)].map(
    (match) => [unescapeXml(match[1] ?? ""), unescapeXml(match[2] ?? "")],
  );
}

/** S3's answer to a tag it refuses. */
function invalidTagError(problem: string): S3Error {
  const error = new S3Error("InvalidTag", `The TagValue you have provided is invalid: ${problem}`);
  error.status = 400;
  return error;
}

/**
 * After a successful request, the tags S3 would leave: PutObject and CompleteMultipartUpload
 * give the object the tags of the request (of CreateMultipartUpload for a multipart upload),
 * or none, as a new object has; CopyObject copies the source's tags unless
 * `x-amz-tagging-directive` is REPLACE ("Specifies whether the object tag-set is copied from the
 * source object or replaced with the tag-set that's provided in the request. The default value
 * is COPY", https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
 * `uploads` remembers the tags of each multipart upload by UploadId.
 */
export async function applyRequestTags(
  ctx: TaggingContext,
  store: TaggingStore,
  uploads: Map<string, string | undefined>,
): Promise<void> {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (match === null || ctx.status < 200 || ctx.status >= 300) return;
  const bucket = decoded(match[1] ?? "");
  const key = decoded(match[2] ?? "");
  const query = new URLSearchParams(ctx.querystring);
  if (ctx.method === "POST" && query.has("uploads")) {
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(String(ctx.body))?.[1];
    if (uploadId !== undefined) uploads.set(uploadId, headerOf(ctx, "x-amz-tagging"));
    return;
  }
  if (ctx.method === "POST" && query.has("uploadId")) {
    const uploadId = query.get("uploadId") ?? "";
    const tags = uploads.get(uploadId);
    uploads.delete(uploadId);
    await setTags(store, bucket, key, tags);
    return;
  }
  if (ctx.method !== "PUT" || ["tagging", "uploadId", "acl"].some((name) => query.has(name))) {
    return;
  }
  const copySource = headerOf(ctx, "x-amz-copy-source");
  if (copySource === undefined || headerOf(ctx, "x-amz-tagging-directive") === "REPLACE") {
    await setTags(store, bucket, key, headerOf(ctx, "x-amz-tagging"));
    return;
  }
  const [source = ""] = objectsOfRequest("/", copySource);
  const slash = source.indexOf("/");
  const tags = await store.getSubresource(
    source.slice(0, slash),
    source.slice(slash + 1),
    "tagging",
  );
  if (tags === null) await store.deleteSubresource(bucket, key, "tagging");
  else await store.putSubresource(bucket, key, { type: "tagging", toXML: () => tags.toXML() });
}

/**
 * DeleteObjectTagging: "Removes the entire tag set from the specified object", answering 204
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html); NoSuchKey for
 * a missing object. s3rver keeps tags in a `tagging` subresource, which this removes. Returns
 * false for any other request.
 */
export async function deleteObjectTagging(
  ctx: TaggingContext,
  store: TaggingStore,
): Promise<boolean> {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  const query = new URLSearchParams(ctx.querystring);
  if (ctx.method !== "DELETE" || !query.has("tagging") || match === null) return false;
  const bucket = decoded(match[1] ?? "");
  const key = decoded(match[2] ?? "");
  if (!(await store.existsObject(bucket, key))) {
    ctx.status = 404;
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${key.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`)}</Key></Error>`;
    return true;
  }
  await store.deleteSubresource(bucket, key, "tagging");
  ctx.status = 204;
  ctx.body = null;
  return true;
}

/**
 * After a successful CopyObject whose metadata directive is COPY (the default), the storage
 * class and website redirect S3 gives the copy: "If the x-amz-storage-class header is not used,
 * the copied object will be stored in the STANDARD Storage Class by default", and
 * "x-amz-website-redirect-location is unique to each object and is not copied when using the
 * x-amz-metadata-directive header. To copy the value, you must specify
 * x-amz-website-redirect-location in the request header"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). s3rver copies both
 * from the source. STANDARD is stored as no class, since S3 "returns this header for all objects
 * except for S3 Standard storage class objects" (API_HeadObject.html).
 */
export async function applyCopyMetadata(
  ctx: TaggingContext,
  metadataPath: (bucket: string, key: string) => string,
): Promise<void> {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  const copy = headerOf(ctx, "x-amz-copy-source") !== undefined;
  const query = new URLSearchParams(ctx.querystring);
  const replace = headerOf(ctx, "x-amz-metadata-directive") === "REPLACE";
  if (match === null || ctx.method !== "PUT" || !copy || replace || query.has("uploadId")) return;
  if (ctx.status < 200 || ctx.status >= 300) return;
  const file = metadataPath(decoded(match[1] ?? ""), decoded(match[2] ?? ""));
  const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
  const carried = ["x-amz-storage-class", "x-amz-website-redirect-location"];
  const requested = (name: string): [string, string][] => {
    const value = headerOf(ctx, name);
    return value === undefined || value === "STANDARD" ? [] : [[name, value]];
  };
  const metadata = Object.fromEntries([
    ...Object.entries(stored).filter(([name]) => !carried.includes(name)),
    ...carried.flatMap(requested),
  ]);
  await writeFile(file, JSON.stringify(metadata, null, 2));
}

/** An object's ETag as S3 gives it (quoted), or undefined when the key does not exist. */
async function etagOf(
  store: { getMetadata(bucket: string, key: string): Promise<{ etag?: string }> },
  bucket: string,
  key: string,
): Promise<string | undefined> {
  try {
    return (await store.getMetadata(bucket, key)).etag;
  } catch {
    return undefined;
  }
}

const unquote = (etag: string): string => etag.trim().replace(/^"(.*)"$/, "$1");

/**
 * Conditional requests, which s3rver ignores and S3 enforces: a write or delete with `If-Match`
 * (the object's ETag must match; a missing object is 404 NoSuchKey) or `If-None-Match: *` (no
 * object may exist), and a copy with `x-amz-copy-source-if-match` (the source's ETag must
 * match) fail with 412 PreconditionFailed
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). Answers and returns true
 * when a condition does not hold; runs under the request's object lock, so the check and the
 * write are one step as in S3. `copySource` is the `x-amz-copy-source` header as the client sent
 * it.
 */
export async function failedPrecondition(
  ctx: TaggingContext,
  copySource: string | undefined,
  etagAt: (bucket: string, key: string) => Promise<string | undefined>,
): Promise<boolean> {
  if (!["PUT", "POST", "DELETE"].includes(ctx.method)) return false;
  const [bucket, ...rest] = decodeURIComponent(ctx.path).replace(/^\//, "").split("/");
  const key = rest.join("/");
  const header = (name: string): string | undefined => headerOf(ctx, name);
  const fail = (status: number, code: string, message: string): true => {
    ctx.status = status;
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    return true;
  };
  // `copySource` as the client sent it (URL-encoded): a `?` in it starts the version id.
  const sourceMatch = header("x-amz-copy-source-if-match");
  if (copySource !== undefined && sourceMatch !== undefined) {
    const [sourceBucket, ...sourceKey] = decodeURIComponent(copySource.split("?")[0] ?? "")
      .replace(/^\//, "")
      .split("/");
    const etag = await etagAt(sourceBucket ?? "", sourceKey.join("/"));
    if (etag === undefined) return fail(404, "NoSuchKey", "The specified key does not exist.");
    if (unquote(etag) !== unquote(sourceMatch)) {
      return fail(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
      );
    }
  }
  if (bucket === undefined || key === "") return false;
  const ifMatch = header("if-match");
  const ifNoneMatch = header("if-none-match");
  if (ifMatch === undefined && ifNoneMatch === undefined) return false;
  const current = await etagAt(bucket, key);
  if (ifNoneMatch?.trim() === "*" && current !== undefined) {
    return fail(
      412,
      "PreconditionFailed",
      "At least one of the pre-conditions you specified did not hold",
    );
  }
  if (ifMatch !== undefined) {
    if (current === undefined) return fail(404, "NoSuchKey", "The specified key does not exist.");
    if (unquote(current) !== unquote(ifMatch)) {
      return fail(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
      );
    }
  }
  return false;
}

/**
 * UploadPartCopy, which s3rver lacks: "Uploads a part by copying data from an existing object as
 * data source. To specify the data source, you add the request header x-amz-copy-source in your
 * request. To specify a byte range, you add the request header x-amz-copy-source-range"; the
 * answer is a `CopyPartResult` with the part's `ETag` and `LastModified`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html). The part is stored
 * through s3rver's own UploadPart store, so CompleteMultipartUpload assembles it as any part.
 * `x-amz-copy-source-if-match` was checked before (`failedPrecondition`). Returns whether it
 * answered.
 */
export async function uploadPartCopy(
  ctx: TaggingContext,
  store: Pick<FilesystemStoreParts, "getObject" | "putPart">,
): Promise<boolean> {
  const query = new URLSearchParams(ctx.querystring);
  const uploadId = query.get("uploadId");
  const partNumber = Number(query.get("partNumber"));
  const source = headerOf(ctx, "x-amz-copy-source");
  if (ctx.method !== "PUT" || uploadId === null || !(partNumber > 0) || source === undefined) {
    return false;
  }
  const [destination] = decoded(ctx.path).replace(/^\//, "").split("/");
  const [sourceBucket, ...sourceKey] = decodeURI(source.split("?")[0] ?? "")
    .replace(/^\//, "")
    .split("/");
  const range = /^bytes=(\d+)-(\d+)$/.exec(headerOf(ctx, "x-amz-copy-source-range") ?? "");
  const object = await store.getObject(
    sourceBucket ?? "",
    sourceKey.join("/"),
    range === null ? undefined : { start: Number(range[1]), end: Number(range[2]) },
  );
  if (object?.content == null) {
    ctx.status = 404;
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`;
    return true;
  }
  const { md5 } = await store.putPart(destination ?? "", uploadId, partNumber, object.content);
  ctx.status = 200;
  ctx.type = "application/xml";
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5}"</ETag></CopyPartResult>`;
  return true;
}

/**
 * Single DES (`des`, DES-CBC) through 3DES: EDE with one key three times is single DES (the
 * encryption, decryption and encryption with one key cancel out to one encryption), so
 * `des-ede3-cbc` with the key repeated gives the very bytes `des` would. Only `des` is changed;
 * s3rver is its one user here. Idempotent.
 */
export function desAsTripleDes(): void {
  if (Reflect.get(crypto.createCipheriv, desPatched) === true) return;
  const tripled = (key: crypto.CipherKey): Buffer => {
    const bytes = Buffer.from(key as Uint8Array);
    return Buffer.concat([bytes, bytes, bytes]);
  };
  const cipher = crypto.createCipheriv.bind(crypto);
  const decipher = crypto.createDecipheriv.bind(crypto);
  const createCipheriv = ((algorithm: string, key: crypto.CipherKey, iv: Uint8Array | null) =>
    algorithm === "des"
      ? cipher("des-ede3-cbc", tripled(key), iv)
      : cipher(algorithm, key, iv)) as typeof crypto.createCipheriv;
  const createDecipheriv = ((algorithm: string, key: crypto.CipherKey, iv: Uint8Array | null) =>
    algorithm === "des"
      ? decipher("des-ede3-cbc", tripled(key), iv)
      : decipher(algorithm, key, iv)) as typeof crypto.createDecipheriv;
  Reflect.set(createCipheriv, desPatched, true);
  crypto.createCipheriv = createCipheriv;
  crypto.createDecipheriv = createDecipheriv;
}
const desPatched = Symbol("desAsTripleDes");

/**
 * s3rver logs every response through koa-logger, which colours a line and counts each body
 * through an extra stream even when the server is silent: about 2 % of the CPU of a load on it.
 * The emulators start silent, so the middleware goes (nothing it did reached a client).
 */
export function quietRequests(middleware: { readonly name: string }[]): void {
  const logger = middleware.findIndex((each) => each.name === "logger");
  if (logger < 0) {
    throw new Error(
      `s3rver's request logger (koa-logger's middleware "logger") is not in its middleware: ${middleware.map((each) => each.name || "(anonymous)").join(", ")}`,
    );
  }
  middleware.splice(logger, 1);
}

/** The bucket-level subresource calls of s3rver's store (`key` undefined: the bucket's own). */
export interface BucketConfigStore {
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(
    bucket: string,
    key: string | undefined,
    resource: { readonly type: string },
  ): Promise<void>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void>;
}

/**
 * s3rver reads the bucket's CORS and website configuration from disk on every request (two
 * failed opens when, as here, a bucket has none). The store remembers that a bucket has none of
 * a kind until one is put or deleted through it, which is the only way they change; a bucket that
 * has one is read every time, as before.
 */
export function bucketConfigsRemembered(store: BucketConfigStore): void {
  const absent = new Set<string>();
  // Bumped before and after every put and delete: a read that overlapped one of them and found
  // nothing does not mark the configuration absent (bucket-level requests take no lock).
  const writes = new Map<string, number>();
  const [get, put, remove] = [
    store.getSubresource.bind(store),
    store.putSubresource.bind(store),
    store.deleteSubresource.bind(store),
  ];
  const remembered = (bucket: string, key: string | undefined, type: string) =>
    key === undefined && (type === "cors" || type === "website") ? `${bucket}/${type}` : undefined;
  const bump = (name: string) => {
    absent.delete(name);
    writes.set(name, (writes.get(name) ?? 0) + 1);
  };
  const writing = async (name: string | undefined, write: () => Promise<void>) => {
    if (name === undefined) return write();
    bump(name);
    await write().finally(() => {
      bump(name);
    });
  };
  store.getSubresource = async (bucket, key, type) => {
    const name = remembered(bucket, key, type);
    if (name === undefined) return get(bucket, key, type);
    if (absent.has(name)) return null;
    const before = writes.get(name) ?? 0;
    const config = await get(bucket, key, type);
    if (config === null && (writes.get(name) ?? 0) === before) absent.add(name);
    return config;
  };
  store.putSubresource = (bucket, key, resource) =>
    writing(remembered(bucket, key, resource.type), () => put(bucket, key, resource));
  store.deleteSubresource = (bucket, key, type) =>
    writing(remembered(bucket, key, type), () => remove(bucket, key, type));
}

export async function startEmulators(): Promise<Emulators> {
  desAsTripleDes();
  DUMMY_ACCOUNT.createKeyPair(
    EMULATOR_CREDENTIALS.accessKeyId,
    EMULATOR_CREDENTIALS.secretAccessKey,
  );
  const directory = await mkdtemp(path.join(tmpdir(), "s3rver-"));
  const s3 = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory });
  // s3rver's delete also removes the key's parent folders once they look empty, which races with
  // a put of another key in the same folder (its write stream then fails with ENOENT, outside any
  // handler). S3 has no folders: delete just the object's files (its tags with it).
  s3.store.deleteObject = async (bucket, key) => {
    await Promise.all(
      (["object", "object.md5", "metadata.json", "tagging.xml"] as const).map((kind) =>
        unlink(s3.store.getResourcePath(bucket, key, kind)).catch((error: unknown) => {
          // Not `instanceof Error`: under jest, fs errors come from another realm.
          const missing = typeof error === "object" && error !== null && "code" in error;
          if (!(missing && error.code === "ENOENT")) throw error;
        }),
      ),
    );
  };
  // The store with its tagging subresources; PutObjectTagging's tags checked as S3 checks them
  // (invalidTag).
  const taggingStore = s3.store as typeof s3.store & TaggingStore;
  const putSubresource = taggingStore.putSubresource.bind(taggingStore);
  taggingStore.putSubresource = async (bucket, key, resource) => {
    const refused =
      resource.type === "tagging" ? invalidTag(tagsOfXml(resource.toXML())) : undefined;
    if (refused !== undefined) throw invalidTagError(refused);
    await putSubresource(bucket, key, resource);
  };
  quietRequests(s3.middleware);
  bucketConfigsRemembered(taggingStore);
  const lock = keyedLock();
  const uploads = new Map<string, string | undefined>();
  s3.middleware.unshift(async (ctx, next) => {
    const raw = ctx.headers["x-amz-copy-source"];
    const source = typeof raw === "string" ? raw : undefined;
    if (source !== undefined) ctx.headers["x-amz-copy-source"] = faithfulCopySource(source);
    const release = await lock(objectsOfRequest(ctx.path, source));
    ctx.res.once("close", release);
    try {
      const context = ctx as typeof ctx & TaggingContext;
      // The tags of PutObject, CopyObject and CreateMultipartUpload, before anything is written.
      const tagging = headerOf(context, "x-amz-tagging");
      const refused = tagging === undefined ? undefined : invalidTag(new URLSearchParams(tagging));
      if (refused !== undefined) throw invalidTagError(refused);
      if (await deleteObjectTagging(context, taggingStore)) return;
      const etagAt = (bucket: string, key: string) => etagOf(s3.store, bucket, key);
      if (await failedPrecondition(context, source, etagAt)) return;
      if (await uploadPartCopy(context, s3.store)) return;
      await next();
      await applyRequestTags(context, taggingStore, uploads);
      await applyCopyMetadata(context, (bucket, key) =>
        s3.store.getResourcePath(bucket, key, "metadata.json"),
      );
    } catch (error: unknown) {
      release();
      throw error;
    }
  });
  const s3Address = await s3.run();

  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, "127.0.0.1", resolve));
  // ReturnValuesOnConditionCheckFailure, which dynalite ignores (dynalite-front.ts).
  const dynamoFront = await startDynaliteFront(endpointOf(dynamo.address()));

  const sqs = await createSqsServer({
    port: 0,
    hostname: "127.0.0.1",
    emulateQueueCreationLifecycle: false,
  });

  return {
    s3: { endpoint: endpointOf(s3Address) },
    dynamodb: { endpoint: dynamoFront.endpoint },
    sqs: { endpoint: endpointOf(sqs.address()) },
    async stop() {
      await dynamoFront.stop();
      await Promise.all([s3.close(), closeServer(dynamo), closeServer(sqs)]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Environment variables that point the AWS SDK (and so the Lambda bundle) at the emulators. */
export function emulatorEnvironment(endpoints: {
  s3: { endpoint: string };
  dynamodb: { endpoint: string };
  sqs: { endpoint: string };
}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoints.s3.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
  };
}

const clientConfig = (endpoint: string) => ({
  endpoint,
  region: EMULATOR_REGION,
  credentials: EMULATOR_CREDENTIALS,
});

export function s3Client(emulators: Pick<Emulators, "s3">): S3Client {
  return new S3Client({ ...clientConfig(emulators.s3.endpoint), forcePathStyle: true });
}

export function dynamodbClient(emulators: Pick<Emulators, "dynamodb">): DynamoDBClient {
  return new DynamoDBClient(clientConfig(emulators.dynamodb.endpoint));
}

export function sqsClient(emulators: Pick<Emulators, "sqs">): SQSClient {
  return new SQSClient(clientConfig(emulators.sqs.endpoint));
}

export async function createBucket(emulators: Pick<Emulators, "s3">, name: string): Promise<void> {
  const client = s3Client(emulators);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
}

/** Creates a table with the stack's key schema: hash `pk` (S) + range `sk` (S). */
export async function createTable(
  emulators: Pick<Emulators, "dynamodb">,
  name: string,
): Promise<void> {
  const client = dynamodbClient(emulators);
  const keys: [KeySchemaElement, AttributeDefinition][] = [
    [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "pk", AttributeType: "S" },
    ],
    [
      { AttributeName: "sk", KeyType: "RANGE" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
  ];
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: keys.map(([key]) => key),
      AttributeDefinitions: keys.map(([, definition]) => definition),
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  client.destroy();
}

/** Creates a standard queue and returns its URL. */
export async function createQueue(
  emulators: Pick<Emulators, "sqs">,
  name: string,
): Promise<string> {
  const client = sqsClient(emulators);
  const out = await client.send(new CreateQueueCommand({ QueueName: name }));
  client.destroy();
  if (out.QueueUrl === undefined) throw new Error(`CreateQueue returned no QueueUrl for ${name}`);
  return out.QueueUrl;
}
