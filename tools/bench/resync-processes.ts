/**
 * The resync benchmark's servers, each in a child process of its own, as S3 and DynamoDB are not
 * in the process of the tool that calls them: the emulators (tools/emulators/emulators.ts) and
 * the latency proxy. In one process, every request's server-side work would run on the client's
 * event loop, so a client that keeps requests in flight could never overlap its own work with
 * the server's. Both the resync and the naive baseline run against these same processes.
 * This file is also the children's entry: `fork` runs it with a role (`emulators` | `latency`).
 */
import { fork, type ChildProcess } from "node:child_process";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy";
import { startEmulators, type Emulators } from "../emulators/emulators";

/** What a child says once it listens, and its answers. */
type Ready =
  | {
      readonly ready: "emulators";
      readonly s3: string;
      readonly dynamodb: string;
      readonly sqs: string;
    }
  | { readonly ready: "latency"; readonly endpoint: string };
type Answer = { readonly cpu: NodeJS.CpuUsage } | { readonly stopped: true };
type Order = "cpu" | "stop";

function isReady(message: unknown): message is Ready {
  return typeof message === "object" && message !== null && "ready" in message;
}

/** A child running this file with `args`; resolves with its first (ready) message. */
async function startChild(args: readonly string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(__filename, [...args], {
    // startEmulators gives s3rver's DES continuation tokens 3DES (emulators.ts): no legacy
    // OpenSSL provider needed for listings past one page.
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once("message", (message) => {
      if (isReady(message)) resolve(message);
      else reject(new Error(`unexpected first message from the child: ${JSON.stringify(message)}`));
    });
    child.once("exit", (code) => {
      reject(
        new Error(`the child (${args.join(" ")}) exited with ${String(code)} before it listened`),
      );
    });
  });
  return { child, ready };
}

/** Sends `order` to the child and waits for its answer. */
function ask(child: ChildProcess, order: Order): Promise<Answer> {
  return new Promise((resolve) => {
    child.once("message", (message) => {
      resolve(message as Answer);
    });
    child.send(order);
  });
}

/** Stops the child: it closes its servers and exits. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  await ask(child, "stop");
  await exited;
}

export interface EmulatorProcess extends Emulators {
  /** CPU time the emulators' process has used so far. */
  cpuUsage(): Promise<NodeJS.CpuUsage>;
}

/** S3, DynamoDB and SQS emulators in a child process. */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const { child, ready } = await startChild(["emulators"]);
  if (ready.ready !== "emulators") throw new Error("the emulators' child did not start them");
  return {
    s3: { endpoint: ready.s3 },
    dynamodb: { endpoint: ready.dynamodb },
    sqs: { endpoint: ready.sqs },
    async cpuUsage() {
      const answer = await ask(child, "cpu");
      if (!("cpu" in answer)) throw new Error("the emulators' child did not report its CPU");
      return answer.cpu;
    },
    stop: () => stopChild(child),
  };
}

/**
 * A loopback TCP proxy that delays everything the client sends by `delayMs` (in order, so a
 * request arrives `delayMs` late and requests on one connection keep their order); answers come
 * back at once. Models one round trip of network latency per request.
 */
export function listenWithLatency(targetPort: number, delayMs: number): Promise<TcpProxy> {
  return startTcpProxy("latency proxy", targetPort, (client, upstream) => {
    let last = 0;
    const later = (action: () => void): void => {
      last = Math.max(last, Date.now() + delayMs);
      setTimeout(action, last - Date.now());
    };
    client.on("data", (chunk: Buffer) => {
      later(() => upstream.write(chunk));
    });
    client.on("end", () => {
      later(() => upstream.end());
    });
    upstream.pipe(client);
  });
}

/** `listenWithLatency` in a child process. */
export async function startLatencyProcess(
  targetPort: number,
  delayMs: number,
): Promise<{ readonly endpoint: string; close(): Promise<void> }> {
  const { child, ready } = await startChild(["latency", String(targetPort), String(delayMs)]);
  if (ready.ready !== "latency") throw new Error("the latency child did not start its proxy");
  return { endpoint: ready.endpoint, close: () => stopChild(child) };
}

/** The child's side: start the servers of `role`, report, answer orders until "stop". */
async function serve(role: string | undefined, args: readonly string[]): Promise<void> {
  const send = (message: Ready | Answer): void => {
    process.send?.(message);
  };
  let stop: () => Promise<void>;
  if (role === "emulators") {
    const emulators = await startEmulators();
    stop = () => emulators.stop();
    send({
      ready: "emulators",
      s3: emulators.s3.endpoint,
      dynamodb: emulators.dynamodb.endpoint,
      sqs: emulators.sqs.endpoint,
    });
  } else if (role === "latency") {
    const proxy = await listenWithLatency(Number(args[0]), Number(args[1]));
    stop = () => proxy.close();
    send({ ready: "latency", endpoint: proxy.endpoint });
  } else {
    throw new Error(`unknown role ${String(role)}`);
  }
  let stopping = false;
  process.on("message", (order: Order) => {
    if (order === "cpu") {
      send({ cpu: process.cpuUsage() });
      return;
    }
    stopping = true;
    void stop().then(() => {
      process.send?.({ stopped: true }, () => process.exit(0));
    });
  });
  // The parent went away without stopping us: do not outlive it.
  process.on("disconnect", () => {
    if (!stopping) void stop().finally(() => process.exit(0));
  });
}

if (require.main === module) {
  void serve(process.argv[2], process.argv.slice(3));
}
