/**
 * A loopback TCP proxy that counts the bytes passing through it in both directions. The benchmark
 * points a handler's S3 endpoint at it to measure how many bytes go through the function.
 */
import * as net from "node:net";

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
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    upstream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("byte counter did not get a TCP port");
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    total: () => bytes,
    reset: () => {
      bytes = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
