/**
 * "S3 sends events to EventBridge" for s3rver, which sends none: a loopback proxy in front of
 * s3rver that, for ONE watched bucket, emits after each successful request the EventBridge event
 * S3 documents (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html, shapes
 * from https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html, built by events.ts):
 * - PutObject, CopyObject, CompleteMultipartUpload: "Object Created", `reason` the API used,
 *   with the object's `size` and `etag` (read back from s3rver while the key is still locked);
 *   a copy or completion answered 200 with an error inside (as S3 may) emits nothing;
 * - DeleteObject and each key DeleteObjects reports deleted: "Object Deleted", `reason`
 *   "DeleteObject", `deletion-type` "Permanently Deleted" (the emulator has no versioning). S3
 *   answers a delete of a missing key with success, and on the stack's versioned bucket that
 *   delete creates a delete marker (and an event), so every successful delete emits one;
 * - PutObjectTagging / DeleteObjectTagging: "Object Tags Added" / "Object Tags Deleted";
 * - `lifecycleExpiration(key)`: the "Lifecycle Expiration" deletion s3rver cannot produce.
 * Keys are as stored (decoded), sequencers grow in the order s3rver applied the requests
 * (requests on one key are serialised here and in s3rver), and failed requests emit nothing.
 * Events go to subscribers (`onEvent`), e.g. the simulated rule of lambda-service.ts, and are
 * kept in `events()`. Path-style requests only (S3_FORCE_PATH_STYLE); POST Object (browser
 * form uploads) and the other event types (restore, ACL, storage class) are not simulated.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { randomBytes } from "node:crypto";
import { DeleteObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { keyedLock, s3Client, unescapeXml } from "./emulators";
import { closeServer, exchange, listenOnLoopback, readAll, relay, type Answer } from "./http-relay";
import {
  IPV4_CLIENT,
  REGION,
  objectCreatedEvent,
  objectDeletedEvent,
  objectTagsEvent,
  sequencerAt,
  type ObjectCreatedDetail,
  type ObjectCreatedEvent,
  type ObjectDeletedEvent,
  type ObjectTagsEvent,
} from "./events";

export type S3Event = ObjectCreatedEvent | ObjectDeletedEvent | ObjectTagsEvent;
export type S3EventListener = (event: S3Event) => void;

export interface S3EventSourceOptions {
  /** s3rver's endpoint. */
  readonly upstream: string;
  /** The bucket whose changes emit events. */
  readonly bucket: string;
  /** @default REGION of events.ts */
  readonly region?: string;
  /** `source-ip-address` of the requests (IPv4 or IPv6). @default IPV4_CLIENT */
  readonly sourceIp?: string;
}

export interface LifecycleExpirationOptions {
  /**
   * "noncurrent" (default): a noncurrent version expires; it is deleted for good ("Permanently
   * Deleted") and the key's current object stays. "current": the current version expires, a
   * delete marker is created ("Delete Marker Created"): the object disappears.
   */
  readonly version?: "noncurrent" | "current";
  /** The expired version's id (noncurrent versions have one). */
  readonly versionId?: string;
}

export interface S3EventSource {
  /** The S3 endpoint to use instead of s3rver's (path-style). */
  readonly endpoint: string;
  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  onEvent(listener: S3EventListener): () => void;
  /** Every event emitted so far, in order. */
  events(): S3Event[];
  /** The `source-ip-address` of events from now on. */
  setSourceIp(ip: string): void;
  /** Emits the "Lifecycle Expiration" event S3 would for `key` (and applies it). */
  lifecycleExpiration(key: string, options?: LifecycleExpirationOptions): Promise<S3Event>;
  stop(): Promise<void>;
}

type Operation =
  | { readonly kind: ObjectCreatedDetail["reason"]; readonly key: string }
  | { readonly kind: "DeleteObject"; readonly key: string }
  | { readonly kind: "DeleteObjects" }
  | { readonly kind: "PutObjectTagging" | "DeleteObjectTagging"; readonly key: string };

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** The event-producing S3 operation of a path-style request to `bucket`, if it is one. */
export function classifyRequest(
  method: string,
  url: string,
  headers: IncomingMessage["headers"],
  bucket: string,
): Operation | undefined {
  const parsed = new URL(url, "http://s3.local");
  // `/bucket`, `/bucket/` (bucket requests such as DeleteObjects) or `/bucket/key`.
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(parsed.pathname);
  if (match === null || decode(match[1] ?? "") !== bucket) return undefined;
  const query = parsed.searchParams;
  const key = match[2] === undefined || match[2] === "" ? undefined : decode(match[2]);
  if (key === undefined) {
    return method === "POST" && query.has("delete") ? { kind: "DeleteObjects" } : undefined;
  }
  if (method === "PUT") {
    if (query.has("tagging")) return { kind: "PutObjectTagging", key };
    if (query.has("uploadId") || query.has("acl")) return undefined; // UploadPart, PutObjectAcl
    return { kind: "x-amz-copy-source" in headers ? "CopyObject" : "PutObject", key };
  }
  if (method === "POST" && query.has("uploadId")) return { kind: "CompleteMultipartUpload", key };
  if (method === "DELETE") {
    if (query.has("tagging")) return { kind: "DeleteObjectTagging", key };
    if (query.has("uploadId")) return undefined; // AbortMultipartUpload
    return { kind: "DeleteObject", key };
  }
  return undefined;
}

/** The `<Key>`s inside each `<element>` of an S3 XML document (DeleteObjects request/result). */
export function keysInside(xml: string, element: string): string[] {
  const keys: string[] = [];
  for (const block of xml.matchAll(new RegExp(`<${element}>([\\s\\S]*?)</${element}>`, "g"))) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(block[1] ?? "");
    if (key !== null) keys.push(unescapeXml(key[1] ?? ""));
  }
  return keys;
}

/**
 * The keys a DeleteObjects request deleted: the result's `<Deleted>` entries, or in quiet mode
 * ("the response includes only keys where the delete action encountered an error",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html) every requested key
 * without an `<Error>`.
 */
function deletedKeys(request: string, answer: { readonly body: Buffer }): string[] {
  const result = answer.body.toString("utf8");
  if (!/<Quiet>\s*true\s*<\/Quiet>/i.test(request)) return keysInside(result, "Deleted");
  const failed = new Set(keysInside(result, "Error"));
  return keysInside(request, "Object").filter((key) => !failed.has(key));
}

/** S3 event times have whole seconds ("2021-11-12T00:00:00Z"). */
const eventTime = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export async function startS3EventSource(options: S3EventSourceOptions): Promise<S3EventSource> {
  const upstream = new URL(options.upstream);
  const { bucket } = options;
  const region = options.region ?? REGION;
  let sourceIp = options.sourceIp ?? IPV4_CLIENT;
  const s3 = s3Client({ s3: { endpoint: options.upstream } });
  const lock = keyedLock();
  const listeners = new Set<S3EventListener>();
  const emitted: S3Event[] = [];
  let counter = 0;

  const emit = (event: S3Event): S3Event => {
    emitted.push(event);
    for (const listener of listeners) listener(event);
    return event;
  };

  const about = (key: string) => ({ bucket, key, region, sourceIp, time: eventTime() });
  /** Created and deleted events carry a sequencer, growing in the order S3 applied changes. */
  const sequenced = (key: string) => {
    counter += 1;
    return { ...about(key), sequencer: sequencerAt(counter) };
  };

  /** The event with the request's id: S3's `x-amz-request-id`, given when s3rver gave none. */
  const withRequestId = <E extends S3Event>(event: E, answer: Answer): E => ({
    ...event,
    detail: { ...event.detail, "request-id": String(answer.headers["x-amz-request-id"]) },
  });

  const head = async (key: string): Promise<{ size: number; etag: string }> => {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: out.ContentLength ?? 0, etag: (out.ETag ?? "").replace(/"/g, "") };
  };

  /** Forwards one event-producing request, holding its keys, and emits what S3 would. */
  const handle = async (req: IncomingMessage, operation: Operation): Promise<Answer> => {
    const requestBody = operation.kind === "DeleteObjects" ? await readAll(req) : undefined;
    const keys =
      operation.kind === "DeleteObjects"
        ? keysInside(requestBody?.toString("utf8") ?? "", "Object")
        : [operation.key];
    const release = await lock(keys.map((key) => `${bucket}/${key}`));
    try {
      const answer = await exchange(upstream, req, requestBody);
      answer.headers["x-amz-request-id"] ??= randomBytes(8).toString("hex").toUpperCase();
      // "If the error occurs during the copy operation, the error response is embedded in the
      // 200 OK response" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
      const failed =
        answer.status < 200 ||
        answer.status >= 300 ||
        /^(<\?xml[^>]*\?>)?\s*<Error>/.test(answer.body.toString("utf8"));
      if (failed) return answer;
      switch (operation.kind) {
        case "PutObject":
        case "CopyObject":
        case "CompleteMultipartUpload":
        case "POST Object": {
          const { size, etag } = await head(operation.key);
          const event = objectCreatedEvent({
            ...sequenced(operation.key),
            size,
            etag,
            reason: operation.kind,
          });
          emit(withRequestId(event, answer));
          break;
        }
        case "DeleteObject":
          emit(withRequestId(objectDeletedEvent(sequenced(operation.key)), answer));
          break;
        case "DeleteObjects":
          for (const key of deletedKeys(requestBody?.toString("utf8") ?? "", answer)) {
            emit(withRequestId(objectDeletedEvent(sequenced(key)), answer));
          }
          break;
        default: {
          const { etag } = await head(operation.key);
          const change = operation.kind === "PutObjectTagging" ? "added" : "deleted";
          emit(withRequestId(objectTagsEvent({ ...about(operation.key), etag, change }), answer));
        }
      }
      return answer;
    } finally {
      release();
    }
  };

  const server: Server = createServer((req, res) => {
    const operation = classifyRequest(req.method ?? "GET", req.url ?? "/", req.headers, bucket);
    if (operation === undefined) {
      relay(upstream, req, res);
      return;
    }
    handle(req, operation).then(
      (answer) => {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      },
      () => {
        req.socket.destroy();
      },
    );
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    events: () => [...emitted],
    setSourceIp(ip) {
      sourceIp = ip;
    },
    async lifecycleExpiration(key, expiration = {}) {
      const release = await lock([`${bucket}/${key}`]);
      try {
        const current = expiration.version === "current";
        if (current) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        return emit(
          objectDeletedEvent({
            ...sequenced(key),
            reason: "Lifecycle Expiration",
            deletionType: current ? "Delete Marker Created" : "Permanently Deleted",
            // A versioned bucket's events name the version: the expired one, or the marker.
            versionId: expiration.versionId ?? `${current ? "marker" : "expired"}-${counter}`,
          }),
        );
      } finally {
        release();
      }
    },
    stop: async () => {
      s3.destroy();
      await closeServer(server);
    },
  };
}
