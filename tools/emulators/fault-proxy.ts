/**
 * A loopback HTTP proxy in front of an emulator that injects faults: AWS error responses
 * (S3 503 SlowDown, 403 AccessDenied, 404 NoSuchBucket; DynamoDB throttling,
 * ProvisionedThroughputExceeded) and connection resets. A `decide` function picks the fault,
 * if any, for each request; everything else is forwarded unchanged. Used by the replication
 * integration tests and the sandbox (`npm start`).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { closeServer, listenOnLoopback, relay } from "./http-relay";

export type Fault =
  | "s3-slow-down"
  | "s3-internal-error"
  | "s3-access-denied"
  | "s3-no-such-bucket"
  | "dynamodb-throttling"
  | "dynamodb-throughput-exceeded"
  | "dynamodb-access-denied"
  | "connection-reset"
  /** The service never answers (a hung connection): the caller waits until it gives up. */
  | "stall";

/** What the decide function sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path and query as sent (path-style S3: `/bucket/key`). */
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  /** DynamoDB operation (`PutItem`, ...) from `x-amz-target`, when present. */
  readonly operation?: string;
  /** DynamoDB `TableName` from the JSON body, when present. */
  readonly table?: string;
  /** The request body as text (small: the function never sends object bytes). */
  readonly body: string;
}

function tableOf(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && "TableName" in parsed) {
      const name = parsed.TableName;
      return typeof name === "string" ? name : undefined;
    }
  } catch {
    // not JSON (S3, SQS query protocol): no table
  }
  return undefined;
}

export type FaultDecider = (request: ProxiedRequest) => Fault | undefined;

export interface FaultProxy {
  readonly endpoint: string;
  /** Replace the decide function (e.g. turn faults off before a redrive). */
  setDecider(decide: FaultDecider): void;
  /** How many times each fault was injected, and how many requests were forwarded. */
  readonly stats: { injected: Partial<Record<Fault, number>>; forwarded: number };
  stop(): Promise<void>;
}

const s3Error = (status: number, code: string, message: string) => ({
  status,
  contentType: "application/xml",
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAULT</RequestId></Error>`,
});

const dynamoError = (status: number, type: string, message: string) => ({
  status,
  contentType: "application/x-amz-json-1.0",
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
});

const RESPONSES: Record<
  Exclude<Fault, "connection-reset" | "stall">,
  { status: number; contentType: string; body: string }
> = {
  "s3-slow-down": s3Error(503, "SlowDown", "Please reduce your request rate."),
  "s3-internal-error": s3Error(500, "InternalError", "We encountered an internal error."),
  "s3-access-denied": s3Error(403, "AccessDenied", "Access Denied"),
  "s3-no-such-bucket": s3Error(404, "NoSuchBucket", "The specified bucket does not exist"),
  "dynamodb-throttling": dynamoError(
    400,
    "ThrottlingException",
    "Rate of requests exceeds the allowed throughput.",
  ),
  "dynamodb-throughput-exceeded": dynamoError(
    400,
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded.",
  ),
  "dynamodb-access-denied": dynamoError(
    400,
    "AccessDeniedException",
    "User is not authorized to perform this action",
  ),
};

export async function startFaultProxy(
  upstream: string,
  decide: FaultDecider = () => undefined,
): Promise<FaultProxy> {
  const target = new URL(upstream);
  let decider = decide;
  const stats: FaultProxy["stats"] = { injected: {}, forwarded: 0 };
  // Bodies are buffered (they are small: the function never moves object bytes) so that the
  // decider can see DynamoDB's TableName.
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers["x-amz-target"];
      const isDynamo = typeof amzTarget === "string";
      const fault = decider({
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        operation: isDynamo ? amzTarget.split(".")[1] : undefined,
        table: isDynamo ? tableOf(body) : undefined,
        body: body.toString("utf8"),
      });
      if (fault !== undefined) {
        stats.injected[fault] = (stats.injected[fault] ?? 0) + 1;
        if (fault === "connection-reset") {
          req.socket.destroy();
          return;
        }
        // Nothing is sent: the socket stays open until the caller (or the proxy's stop) ends it.
        if (fault === "stall") return;
        const response = RESPONSES[fault];
        // HEAD responses carry no body; the SDK classifies them by status code.
        const payload = req.method === "HEAD" ? "" : response.body;
        res.writeHead(response.status, {
          "content-type": response.contentType,
          "content-length": Buffer.byteLength(payload),
        });
        res.end(payload);
        return;
      }
      stats.forwarded += 1;
      relay(target, req, res, body);
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    setDecider(next) {
      decider = next;
    },
    stats,
    stop: () => closeServer(server),
  };
}

/** A decider injecting the fault `pick` chooses into the first `count` requests it applies to. */
export function firstFaults(
  count: number,
  pick: (request: ProxiedRequest) => Fault | undefined,
): FaultDecider {
  let left = count;
  return (request) => {
    const fault = pick(request);
    if (fault === undefined || left <= 0) return undefined;
    left -= 1;
    return fault;
  };
}

/** A decider injecting the fault `pick` chooses into a random `rate` of requests. */
export function randomFaults(
  rate: number,
  pick: (request: ProxiedRequest) => Fault | undefined,
  random: () => number = Math.random,
): FaultDecider {
  return (request) => {
    const fault = pick(request);
    return fault !== undefined && random() < rate ? fault : undefined;
  };
}
