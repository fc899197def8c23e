/**
 * A loopback HTTP proxy in front of S3 that counts object bytes: the bodies that carry an object's
 * data, that is request bodies of PutObject and UploadPart and response bodies of GetObject. The
 * replication function copies server-side (CopyObject, UploadPartCopy: the object never passes
 * through it), so it should move none; the naive baseline moves each object twice per target.
 * Every other body (XML answers, tagging) is counted apart. Path-style requests only (the
 * emulators' clients use them): `/<bucket>/<key>?<query>`.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Query parameters of object data requests; anything else names a sub-resource (`tagging`,
 * `uploads`, `acl`, `list-type`...) whose body is not the object's.
 */
const DATA_REQUEST_PARAMETERS = new Set(["x-id", "partNumber", "uploadId", "versionId"]);

/**
 * Which body of a request carries object data: the request's (PutObject, UploadPart: a PUT of a
 * key without `x-amz-copy-source`), the response's (GetObject: a GET of a key), or neither.
 */
export function objectBodyOf(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
): "request" | "response" | undefined {
  const parsed = new URL(url, "http://s3.invalid");
  const [bucket, ...key] = parsed.pathname.split("/").slice(1);
  if (bucket === undefined || bucket === "" || key.join("/") === "") return undefined;
  for (const name of parsed.searchParams.keys()) {
    if (!DATA_REQUEST_PARAMETERS.has(name) && !name.startsWith("response-")) return undefined;
  }
  if (method === "GET") return "response";
  if (method === "PUT" && headers["x-amz-copy-source"] === undefined) return "request";
  return undefined;
}

export interface ObjectByteMeter {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Object data bytes in request and response bodies since the last reset. */
  objectBytes(): number;
  /** All other body bytes since the last reset. */
  otherBodyBytes(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Starts the meter on 127.0.0.1 (ephemeral port), forwarding to `upstream`. */
export async function startObjectByteMeter(upstream: string): Promise<ObjectByteMeter> {
  const target = new URL(upstream);
  let objectBytes = 0;
  let otherBytes = 0;
  const count = (carriesObject: boolean) => (chunk: Buffer) => {
    if (carriesObject) objectBytes += chunk.length;
    else otherBytes += chunk.length;
  };
  const server = createServer((req, res) => {
    const body = objectBodyOf(req.method ?? "", req.url ?? "/", req.headers);
    // The meter answers `Expect: 100-continue` itself (Node's server does); upstream need not.
    const headers = { ...req.headers };
    Reflect.deleteProperty(headers, "expect");
    const forward = httpRequest(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on("data", count(body === "response"));
        answer.pipe(res);
      },
    );
    forward.on("error", () => req.socket.destroy());
    req.on("data", count(body === "request"));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    objectBytes: () => objectBytes,
    otherBodyBytes: () => otherBytes,
    reset: () => {
      objectBytes = 0;
      otherBytes = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
