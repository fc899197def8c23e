/**
 * A loopback TCP proxy to `127.0.0.1:targetPort` for the benchmark's meters (byte-counter.ts,
 * the latency proxy in resync-processes.ts): each client connection gets its own upstream
 * connection, an error on either side closes both, and `close` ends every open connection.
 * `relay` wires one connection pair (what flows, and how).
 */
import * as net from "node:net";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: use as the endpoint. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 (ephemeral port); `name` says which in an error. */
export async function startTcpProxy(
  name: string,
  targetPort: number,
  relay: (client: net.Socket, upstream: net.Socket) => void,
): Promise<TcpProxy> {
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
    relay(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error(`${name} did not get a TCP port`);
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
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
