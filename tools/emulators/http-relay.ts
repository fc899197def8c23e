/**
 * The HTTP plumbing every in-process emulator front (fault proxy, region router, S3 event source,
 * DynamoDB stream) shares: listen on loopback, relay a request to the emulator behind it (streamed,
 * or read whole when the front must see the answer), read a body, and stop.
 */
import {
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";

/** The whole body of a request or response. */
export function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    stream.on("error", reject);
  });
}

/** An answer read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

function upstreamRequest(
  upstream: URL,
  req: IncomingMessage,
  onAnswer: (answer: IncomingMessage) => void,
) {
  return httpRequest(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    onAnswer,
  );
}

/** Sends `req` upstream (its body piped, or `body` when already read) and reads the answer. */
export function exchange(upstream: URL, req: IncomingMessage, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const out = upstreamRequest(upstream, req, (answer) => {
      readAll(answer).then(
        (payload) => {
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: payload });
        },
        (error: unknown) => {
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
    out.on("error", reject);
    if (body === undefined) req.pipe(out);
    else out.end(body);
  });
}

/**
 * Relays `req` upstream and the answer back, streaming both ways (`body` when the request's was
 * already read). An upstream that cannot be reached drops the caller's connection, as a network
 * failure would.
 */
export function relay(
  upstream: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer,
): void {
  const out = upstreamRequest(upstream, req, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on("error", () => req.socket.destroy());
  if (body === undefined) req.pipe(out);
  else out.end(body);
}

/** Starts `server` on 127.0.0.1 on an ephemeral port; returns its endpoint URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error(`server is not listening on TCP: ${String(address)}`);
  }
  return `http://127.0.0.1:${address.port}`;
}

/** Stops `server`, closing the connections it still holds. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error) reject(error);
      else resolve();
    });
    server.closeAllConnections();
  });
}
