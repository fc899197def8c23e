/**
 * Object bodies of the S3 model and their ETags.
 *
 * A body is an immutable list of byte chunks shared by reference: a multipart upload assembled from
 * copies of the same part, or a copy of a copy, costs no memory, so objects past the 5 GiB
 * CopyObject limit can exist in a test. MD5 digests are cached per body.
 *
 * ETags: "The entity tag is a hash of the object. The ETag reflects changes only to the contents of
 * an object, not its metadata. ... Objects created by the PUT Object, POST Object, or Copy
 * operation, or through the AWS Management Console, and are encrypted by SSE-S3 or plaintext, have
 * ETags that are an MD5 digest of their object data. ... If an object is created by either the
 * Multipart Upload or Part Copy operation, the ETag is not an MD5 digest, regardless of the method
 * of encryption." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, ETag)
 *
 * Silent: the multipart ETag format is not documented beyond "not an MD5 digest"; the model uses
 * the widely observed form `"<md5 of the concatenated binary part MD5s>-<number of parts>"`.
 */
import { createHash } from "node:crypto";

export class Body {
  private digest: Buffer | undefined;

  private constructor(
    private readonly chunks: readonly Uint8Array[],
    readonly size: number,
  ) {}

  static of(bytes: Uint8Array): Body {
    return new Body(bytes.length === 0 ? [] : [bytes.slice()], bytes.length);
  }

  static readonly empty: Body = new Body([], 0);

  /** The bodies one after the other, sharing their chunks. */
  static concat(bodies: readonly Body[]): Body {
    const chunks = bodies.flatMap((body) => body.chunks);
    return new Body(
      chunks,
      bodies.reduce((total, body) => total + body.size, 0),
    );
  }

  /** Bytes [start, end) as a body sharing this one's chunks. */
  slice(start: number, end: number): Body {
    if (start === 0 && end === this.size) return this;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const chunk of this.chunks) {
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, chunk.length);
      if (from < to) chunks.push(chunk.subarray(from, to));
      offset += chunk.length;
      if (offset >= end) break;
    }
    return new Body(chunks, Math.max(end - start, 0));
  }

  /** A fresh copy of the bytes. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** The binary MD5 digest of the bytes (computed once). */
  md5(): Buffer {
    if (this.digest === undefined) {
      const hash = createHash("md5");
      for (const chunk of this.chunks) hash.update(chunk);
      this.digest = hash.digest();
    }
    return this.digest;
  }

  /** The ETag of a single-part object with these bytes, with its quotes. */
  etag(): string {
    return `"${this.md5().toString("hex")}"`;
  }
}

/** The ETag of an object assembled from these parts, with its quotes (see the Silent above). */
export function multipartEtag(parts: readonly Body[]): string {
  const hash = createHash("md5");
  for (const part of parts) hash.update(part.md5());
  return `"${hash.digest("hex")}-${parts.length}"`;
}
