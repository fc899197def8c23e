/**
 * A loopback TCP proxy that counts the bytes passing through it in both directions. The benchmark
 * points a handler's S3 endpoint at it to measure how many bytes go through the function.
 */
import { startTcpProxy } from "./tcp-proxy";

export interface ByteCounter {
  /** `http://127.0.0.1:<port>`: use as the S3 endpoint. */
  readonly endpoint: string;
  /** Bytes sent and received through the proxy since the last reset. */
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (ephemeral port) forwarding to `127.0.0.1:targetPort`. */
export async function startByteCounter(targetPort: number): Promise<ByteCounter> {
  let bytes = 0;
  const proxy = await startTcpProxy("byte counter", targetPort, (client, upstream) => {
    client.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return {
    endpoint: proxy.endpoint,
    total: () => bytes,
    reset: () => {
      bytes = 0;
    },
    close: () => proxy.close(),
  };
}
