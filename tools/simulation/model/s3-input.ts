/**
 * Reading the SDK command inputs of the S3 model: typed accessors, user metadata, tags, the
 * CopySource header, byte ranges.
 *
 * Silent choices (this file):
 * - The 2 KB user-metadata limit counts each key without its `x-amz-meta-` prefix (the docs say
 *   "each key and value"); keys the client sends differing only in case are combined into one
 *   comma-delimited value, as S3 does "when metadata is retrieved".
 * - A `Tagging` query string is parsed as application/x-www-form-urlencoded (`+` is a space).
 * - A CopySource is split at its first `?` (the query, `versionId=`), `+` is read as a space (a raw
 *   `+` in a copy source makes S3 look for a key with a space: aws-sdk-js #1821, aws-sdk-php #236),
 *   the rest percent-decoded, a leading `/` dropped, then split at the first `/`. Invalid
 *   percent-encoding answers 400 InvalidArgument.
 */
import { invalidArgument, invalidTag, metadataTooLarge } from "./s3-errors";
import type { ContentHeaders, Tag } from "./s3-types";

export type Input = Readonly<Record<string, unknown>>;

/** A required input member the SDK itself would refuse to send without. */
export function required(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== "string") throw new Error(`S3 model: input ${name} must be a string`);
  return value;
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" ? value : undefined;
}

export function optionalNumber(input: Input, name: string): number | undefined {
  const value = input[name];
  return typeof value === "number" ? value : undefined;
}

/** The SDK sends a Date as an HTTP date: whole seconds. Returns epoch milliseconds. */
export function optionalDate(input: Input, name: string): number | undefined {
  const value = input[name];
  return value instanceof Date ? wholeSeconds(value.getTime()) : undefined;
}

export function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function optionalRecord(input: Input, name: string): Record<string, unknown> | undefined {
  const value = input[name];
  return isRecord(value) ? value : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** PutObject / UploadPart `Body`: a Uint8Array (Buffer) or a string (UTF-8). */
export function bodyBytes(input: Input): Uint8Array {
  const body = input.Body;
  if (body === undefined) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return new TextEncoder().encode(body);
  throw new Error("S3 model: Body must be a Uint8Array or a string");
}

/** The Content-* headers and Expires a PutObject / CopyObject / CreateMultipartUpload sets. */
export function contentHeaders(input: Input, defaultType: string | undefined): ContentHeaders {
  return {
    contentType: optionalString(input, "ContentType") ?? defaultType,
    cacheControl: optionalString(input, "CacheControl"),
    contentDisposition: optionalString(input, "ContentDisposition"),
    contentEncoding: optionalString(input, "ContentEncoding"),
    contentLanguage: optionalString(input, "ContentLanguage"),
    expires: optionalDate(input, "Expires"),
  };
}

// ------------------------------------------------------------------------------------------------
// User-defined metadata
// ------------------------------------------------------------------------------------------------

/**
 * "User-defined metadata is a set of key-value pairs. Amazon S3 stores user-defined metadata keys
 * in lowercase." "Within the PUT request header, the user-defined metadata is limited to 2 KB in
 * size. The size of user-defined metadata is measured by taking the sum of the number of bytes in
 * the UTF-8 encoding of each key and value."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html)
 */
export const METADATA_LIMIT_BYTES = 2048;

export function userMetadata(input: Input): Record<string, string> {
  const given = optionalRecord(input, "Metadata") ?? {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (typeof value !== "string") continue;
    const key = name.toLowerCase();
    const previous = out[key];
    out[key] = previous === undefined ? value : `${previous},${value}`;
  }
  let size = 0;
  for (const [key, value] of Object.entries(out)) size += utf8Length(key) + utf8Length(value);
  if (size > METADATA_LIMIT_BYTES) throw metadataTooLarge();
  return out;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

// ------------------------------------------------------------------------------------------------
// Tags
// ------------------------------------------------------------------------------------------------

/**
 * "You can associate up to 10 tags with an object. Tags that are associated with an object must
 * have unique tag keys. A tag key can be up to 128 Unicode characters in length, and tag values can
 * be up to 256 Unicode characters in length. The key and values are case sensitive."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html) Error code:
 * "InvalidTag — You have passed bad tag input - duplicate keys, key/values are too long, system
 * tags were sent." (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); messages
 * as S3 words them.
 */
export function validateTags(tags: readonly Tag[]): readonly Tag[] {
  if (tags.length > 10) throw invalidTag("Object tags cannot be greater than 10");
  const seen = new Set<string>();
  for (const { Key, Value } of tags) {
    if (Key.length === 0) throw invalidTag("The TagKey you have provided is invalid");
    if (codePoints(Key) > 128)
      throw invalidTag("The TagKey you have provided is too long, max 128");
    if (codePoints(Value) > 256) {
      throw invalidTag("The TagValue you have provided is too long, max 256");
    }
    if (seen.has(Key)) throw invalidTag("Cannot provide multiple Tags with the same key");
    seen.add(Key);
  }
  return tags;
}

/** The number of Unicode code points ("Unicode characters") of `text`. */
function codePoints(text: string): number {
  return Array.from(text).length;
}

/** PutObject / CopyObject / CreateMultipartUpload `Tagging`: "a URL-query string" (key1=value1). */
export function taggingQuery(input: Input): readonly Tag[] {
  const query = optionalString(input, "Tagging");
  if (query === undefined || query === "") return [];
  const tags: Tag[] = [];
  for (const [Key, Value] of new URLSearchParams(query)) tags.push({ Key, Value });
  return validateTags(tags);
}

/** PutObjectTagging `Tagging: { TagSet: [{ Key, Value }] }`. */
export function tagSet(input: Input): readonly Tag[] {
  const tagging = optionalRecord(input, "Tagging");
  const set = tagging?.TagSet;
  if (!Array.isArray(set)) throw new Error("S3 model: Tagging.TagSet must be an array");
  const tags: Tag[] = [];
  for (const item of set) {
    if (isRecord(item) && typeof item.Key === "string" && typeof item.Value === "string") {
      tags.push({ Key: item.Key, Value: item.Value });
    } else {
      throw new Error("S3 model: each tag needs a string Key and Value");
    }
  }
  return validateTags(tags);
}

// ------------------------------------------------------------------------------------------------
// CopySource
// ------------------------------------------------------------------------------------------------

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/**
 * "specify the name of the source bucket and the key of the source object, separated by a slash
 * (/). ... The value must be URL-encoded." "To copy a different version, use the versionId query
 * parameter. Specifically, append ?versionId=<version-id> to the value"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html, x-amz-copy-source)
 */
export function parseCopySource(raw: string): CopySource {
  const query = raw.indexOf("?");
  const path = query === -1 ? raw : raw.slice(0, query);
  const versionId =
    query === -1
      ? undefined
      : (new URLSearchParams(raw.slice(query + 1)).get("versionId") ?? undefined);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/\+/g, " "));
  } catch {
    throw invalidArgument("Invalid copy source encoding", { ArgumentName: "x-amz-copy-source" });
  }
  const unrooted = decoded.startsWith("/") ? decoded.slice(1) : decoded;
  const slash = unrooted.indexOf("/");
  if (slash <= 0 || slash === unrooted.length - 1) {
    throw invalidArgument(
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
      {
        ArgumentName: "x-amz-copy-source",
      },
    );
  }
  return { bucket: unrooted.slice(0, slash), key: unrooted.slice(slash + 1), versionId };
}

// ------------------------------------------------------------------------------------------------
// Byte ranges
// ------------------------------------------------------------------------------------------------

/**
 * [start, end) of a `bytes=` range; undefined when the header does not parse (S3 then ignores it).
 */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(size - suffix, 0), end: size };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size : Math.min(Number(last) + 1, size);
  return { start, end };
}

/** Percent-encodes the UTF-8 bytes of a key except A-Za-z0-9 - _ . ~ and / (a URL path). */
export function encodeKeyForLocation(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~/]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
