/**
 * The benchmark's loopback TCP meters (tools/bench/tcp-proxy.ts): the byte counter counts both
 * directions exactly, the latency proxy delays what the client sends, and closing either ends
 * its open connections.
 */
import * as net from "node:net";
import { startByteCounter } from "../../tools/bench/byte-counter";
import { listenWithLatency } from "../../tools/bench/resync-processes";

/** A server on 127.0.0.1 that answers each chunk with "ok:" and the chunk. */
async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk: Buffer) => socket.write(Buffer.concat([Buffer.from("ok:"), chunk])));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Sends `text` through `endpoint` and resolves with the answer and the round trip in ms. */
function roundTrip(endpoint: string): (text: string) => Promise<{ answer: string; ms: number }> {
  const port = Number(new URL(endpoint).port);
  return (text) =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
      socket.on("data", (chunk: Buffer) => {
        resolve({ answer: chunk.toString(), ms: Date.now() - started });
        socket.destroy();
      });
      socket.on("error", reject);
    });
}

test("the byte counter counts what passes both ways, and resets", async () => {
  const server = await echoServer();
  const counter = await startByteCounter(server.port);
  try {
    const { answer } = await roundTrip(counter.endpoint)("hello");
    expect(answer).toBe("ok:hello");
    expect(counter.total()).toBe("hello".length + "ok:hello".length);
    counter.reset();
    expect(counter.total()).toBe(0);
  } finally {
    await counter.close();
    await server.close();
  }
});

test("the latency proxy delivers what the client sends that much later", async () => {
  const server = await echoServer();
  const proxy = await listenWithLatency(server.port, 150);
  try {
    const { answer, ms } = await roundTrip(proxy.endpoint)("hello");
    expect(answer).toBe("ok:hello");
    // A lower bound only (a timer never fires early); how long beyond it is the machine's.
    expect(ms).toBeGreaterThanOrEqual(140);
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("closing a proxy ends its open connections", async () => {
  const server = await echoServer();
  const counter = await startByteCounter(server.port);
  const socket = net.connect(Number(new URL(counter.endpoint).port), "127.0.0.1");
  await new Promise<void>((resolve) => socket.on("connect", resolve));
  const closed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      resolve();
    }),
  );
  await counter.close();
  await closed;
  expect(socket.destroyed).toBe(true);
  await server.close();
});
