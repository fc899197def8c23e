/**
 * Runs a Lambda handler file (ESM `.mjs`, e.g. the deployed bundle dist/replication/index.mjs)
 * the way Lambda's Node.js runtime does, in a CHILD node process (lambda-runtime.mjs):
 * - on the Node.js of the runtime (`runtime`, the function's `lambdaRuntime` by default): the
 *   child is the binary tools/common/lambda-node.ts resolves, checked to be of the runtime's
 *   major, never the Node.js running this process (starting the host throws otherwise);
 * - as the Node.js 24 runtime does: a callback-based handler (one that takes a third argument)
 *   fails the Init phase with `Runtime.CallbackHandlerDeprecated`, and the context has no
 *   `callbackWaitsForEmptyEventLoop` (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html,
 *   https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html);
 * - one execution environment, reused across invocations (warm starts), one invocation at a
 *   time; the environment variables are given at start and never touch the parent's;
 * - configured variables may not use the keys Lambda reserves ("The keys for these environment
 *   variables are reserved and cannot be set in your function configuration",
 *   https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); the runtime sets
 *   those itself (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, credentials, ...);
 * - `context` as in https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html;
 * - a function error is the runtime's `{ errorType, errorMessage, trace }`
 *   (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html); a process that exits
 *   is `Runtime.ExitError` "RequestId: <id> Error: Runtime exited with error: exit status <n>";
 * - a timeout kills the environment and reports `Sandbox.Timedout` "RequestId: <id> Error: Task
 *   timed out after <n> seconds" (the shape of the Lambda Runtime Interface Emulator,
 *   https://github.com/aws/aws-lambda-runtime-interface-emulator); the next invocation starts
 *   a new environment (a cold start), as after any failure that ends the process.
 * Each result carries the lines the function wrote to stdout and stderr since the previous
 * invocation (the first one includes the Init phase's), e.g. Powertools logs and EMF metrics.
 *
 * Differences from Lambda, kept small on purpose: the environment is not frozen between
 * invocations (background work keeps running), the first invocation's timeout also covers the
 * Init phase (Lambda gives Init its own 10 s), and timeouts may be fractions of a second.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import {
  environmentBytes,
  lambdaEnvironmentMaxBytes,
  lambdaVariableNamePattern,
  reservedLambdaEnvironmentKeys,
} from "../../lib/lambda-environment";
import { lambdaRuntime } from "../../lib/bundle";
import { lambdaNode } from "../common/lambda-node";
import { functionArn } from "./events";

/** What a function error looks like in Lambda's response. */
export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/** Lines the function wrote during an invocation. */
export interface InvocationLogs {
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

interface ResultBase {
  readonly requestId: string;
  /** The invocation started a new execution environment. */
  readonly coldStart: boolean;
  readonly logs: InvocationLogs;
}

export type InvocationResult =
  | (ResultBase & { readonly ok: true; readonly value: unknown })
  | (ResultBase & { readonly ok: false; readonly error: FunctionError });

export interface LambdaHostOptions {
  /** The handler file (`.mjs`, `.js` or `.cjs`); its directory is LAMBDA_TASK_ROOT. */
  readonly handlerFile: string;
  /**
   * The Lambda runtime (`nodejs<major>.x`): the child runs on its Node.js major, and
   * AWS_EXECUTION_ENV names it. @default lambdaRuntime (lib/bundle.ts), the function's
   */
  readonly runtime?: string;
  /** @default "handler" */
  readonly handlerExport?: string;
  readonly functionName: string;
  /** The function's region (AWS_REGION, AWS_DEFAULT_REGION). */
  readonly region: string;
  /** The function's timeout; fractions allowed for tests (Lambda takes 1-900 whole seconds). */
  readonly timeoutSeconds: number;
  /** @default 128 */
  readonly memorySizeMb?: number;
  /** Limit of the Init phase before Lambda retries it within the invocation. @default 10 */
  readonly initTimeoutSeconds?: number;
  /** The function's configured environment variables (no reserved keys). */
  readonly environment?: Readonly<Record<string, string>>;
  /** What Lambda sets from the execution role (AWS_ACCESS_KEY_ID, ...). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

export interface LambdaHost {
  /** Invokes the function with `event` (sent as JSON), after any invocation still running. */
  invoke(event: unknown, options?: { readonly requestId?: string }): Promise<InvocationResult>;
  /** Execution environments started so far. */
  readonly coldStarts: number;
  /** Kills the execution environment, if any. */
  stop(): Promise<void>;
}

/** The configuration is one Lambda would refuse; lists every problem. */
export class LambdaConfigError extends Error {
  override readonly name = "LambdaConfigError";
}

/** Every reason Lambda would refuse this configuration (an empty list: none). */
export function configurationProblems(options: LambdaHostOptions): string[] {
  const problems: string[] = [];
  const environment = options.environment ?? {};
  const reserved: readonly string[] = reservedLambdaEnvironmentKeys;
  for (const key of Object.keys(environment)) {
    if (reserved.includes(key)) {
      problems.push(`environment variable ${key} is reserved by Lambda and cannot be set`);
    } else if (!lambdaVariableNamePattern.test(key)) {
      problems.push(
        `environment variable "${key}": keys start with a letter, are at least two characters and use letters, digits and _`,
      );
    }
  }
  const size = environmentBytes(environment);
  if (size > lambdaEnvironmentMaxBytes) {
    problems.push(`environment variables take ${size} bytes, over Lambda's 4 KB`);
  }
  if (!(options.timeoutSeconds > 0 && options.timeoutSeconds <= 900)) {
    problems.push(`timeoutSeconds = ${options.timeoutSeconds} (0 < timeout <= 900)`);
  }
  return problems;
}

/** Output of one stream of the child: bytes received, decoded text not yet reported. */
class StreamCapture {
  received = 0;
  private text = "";
  private readonly decoder = new StringDecoder("utf8");
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(stream: Readable | null) {
    stream?.on("data", (chunk: Buffer) => {
      this.received += chunk.byteLength;
      this.text += this.decoder.write(chunk);
      this.wake?.();
    });
    stream?.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** Resolves once `bytes` have arrived (or the stream closed). */
  async receivedAtLeast(bytes: number): Promise<void> {
    while (this.received < bytes && !this.closed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Every line received so far (a last unterminated one included), then forgets them. */
  take(): string[] {
    const text = this.text + this.decoder.end();
    this.text = "";
    if (text === "") return [];
    return text.replace(/\n$/, "").split("\n");
  }
}

interface Written {
  readonly stdout: number;
  readonly stderr: number;
}

type ChildMessage =
  | { readonly type: "ready"; readonly written: Written }
  | { readonly type: "init-error"; readonly error: FunctionError; readonly written: Written }
  | {
      readonly type: "result";
      readonly ok: true;
      readonly payload: string;
      readonly written: Written;
    }
  | {
      readonly type: "result";
      readonly ok: false;
      readonly error: FunctionError;
      readonly written: Written;
    };

type Outcome =
  | ChildMessage
  | { readonly type: "exit"; readonly code: number | null; readonly signal: string | null }
  | { readonly type: "timeout" };

/** One execution environment: the child process and what it sent. */
class Environment {
  readonly stdout: StreamCapture;
  readonly stderr: StreamCapture;
  private readonly messages: ChildMessage[] = [];
  private exit: Outcome | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly logStreamName: string,
  ) {
    this.stdout = new StreamCapture(child.stdout);
    this.stderr = new StreamCapture(child.stderr);
    child.on("message", (message: ChildMessage) => {
      this.messages.push(message);
      this.wake?.();
    });
    // "close": the process ended and its stdio streams are drained.
    child.on("close", (code, signal) => {
      this.exit = { type: "exit", code, signal };
      this.wake?.();
    });
  }

  /** The next message from the child, its exit, or the deadline, whichever comes first. */
  async next(deadline: number): Promise<Outcome> {
    for (;;) {
      const message = this.messages.shift();
      if (message !== undefined) return message;
      if (this.exit !== undefined) return this.exit;
      const left = deadline - Date.now();
      if (left <= 0) return { type: "timeout" };
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits until every byte the child reported writing has arrived. */
  async drain(written: Written): Promise<void> {
    await Promise.all([
      this.stdout.receivedAtLeast(written.stdout),
      this.stderr.receivedAtLeast(written.stderr),
    ]);
  }

  logs(): InvocationLogs {
    return { stdout: this.stdout.take(), stderr: this.stderr.take() };
  }

  async kill(): Promise<void> {
    if (this.exit !== undefined) return;
    const closed = new Promise<void>((resolve) => {
      this.child.once("close", () => {
        resolve();
      });
    });
    this.child.kill("SIGKILL");
    await closed;
  }
}

const RUNTIME = path.join(__dirname, "lambda-runtime.mjs");

function runtimeEnvironment(
  options: LambdaHostOptions,
  runtime: string,
  logStreamName: string,
): NodeJS.ProcessEnv {
  const file = path.resolve(options.handlerFile);
  const moduleName = path.basename(file).replace(/\.(mjs|cjs|js)$/, "");
  const credentials = options.credentials;
  return {
    ...options.environment,
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    _HANDLER: `${moduleName}.${options.handlerExport ?? "handler"}`,
    LAMBDA_TASK_ROOT: path.dirname(file),
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memorySizeMb ?? 128),
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
    ...(credentials === undefined
      ? {}
      : {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          ...(credentials.sessionToken === undefined
            ? {}
            : { AWS_SESSION_TOKEN: credentials.sessionToken }),
        }),
  };
}

const exitError = (requestId: string, outcome: Outcome & { type: "exit" }): FunctionError => ({
  errorType: "Runtime.ExitError",
  errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${
    outcome.signal === null ? `exit status ${outcome.code ?? 0}` : `signal: ${outcome.signal}`
  }`,
});

/**
 * Starts the host; the first invocation starts the execution environment (a cold start). Throws
 * a `LambdaConfigError` for a configuration Lambda would refuse, and a `LambdaNodeError` when the
 * runtime's Node.js is not here (tools/common/lambda-node.ts).
 */
export function startLambdaHost(options: LambdaHostOptions): LambdaHost {
  const problems = configurationProblems(options);
  if (problems.length > 0) {
    throw new LambdaConfigError(`Invalid function configuration: ${problems.join("; ")}`);
  }
  const runtime = options.runtime ?? lambdaRuntime;
  const node = lambdaNode(runtime);
  let environment: Environment | undefined;
  let coldStarts = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const initTimeoutMs = (options.initTimeoutSeconds ?? 10) * 1000;

  const start = (): Environment => {
    // One log stream per execution environment: `YYYY/MM/DD/[$LATEST]<id>`.
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, "/");
    const logStreamName = `${day}/[$LATEST]${randomBytes(16).toString("hex")}`;
    const child = fork(RUNTIME, [], {
      env: runtimeEnvironment(options, runtime, logStreamName),
      execPath: node.executable,
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      cwd: path.dirname(path.resolve(options.handlerFile)),
    });
    coldStarts += 1;
    return new Environment(child, logStreamName);
  };

  const timeoutMs = options.timeoutSeconds * 1000;
  const errorOf = (outcome: Outcome, requestId: string): FunctionError => {
    switch (outcome.type) {
      case "timeout":
        return {
          errorType: "Sandbox.Timedout",
          errorMessage: `RequestId: ${requestId} Error: Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
        };
      case "exit":
        return exitError(requestId, outcome);
      case "init-error":
        return outcome.error;
      default:
        return { errorType: "Runtime.Unknown", errorMessage: `unexpected ${outcome.type}` };
    }
  };

  /** The Init phase: undefined once the handler is loaded; otherwise why not (env killed). */
  const initialise = async (env: Environment, deadline: number): Promise<Outcome | undefined> => {
    const init = await env.next(deadline);
    if (init.type === "ready") return undefined;
    if (init.type === "init-error") await env.drain(init.written);
    await env.kill();
    return init;
  };

  /**
   * A new execution environment. "The Init phase is limited to 10 seconds. If all three tasks do
   * not complete within 10 seconds, Lambda retries the Init phase at the time of the first
   * function invocation with the configured function timeout"
   * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); a failed
   * Init is retried the same way (logs show `INIT_REPORT ... Phase: invoke`).
   */
  const coldStart = async (
    requestId: string,
    logs: InvocationLogs[],
  ): Promise<{ env: Environment; deadline?: number } | FunctionError> => {
    const first = start();
    const failed = await initialise(first, Date.now() + initTimeoutMs);
    if (failed === undefined) return { env: first };
    logs.push(first.logs());
    const retry = start();
    const deadline = Date.now() + timeoutMs;
    const again = await initialise(retry, deadline);
    if (again === undefined) return { env: retry, deadline };
    logs.push(retry.logs());
    return errorOf(again, requestId);
  };

  const run = async (event: unknown, requestId: string): Promise<InvocationResult> => {
    const cold = environment === undefined;
    const logs: InvocationLogs[] = [];
    const joined = (): InvocationLogs => ({
      stdout: logs.flatMap((entry) => entry.stdout),
      stderr: logs.flatMap((entry) => entry.stderr),
    });
    const base = { requestId, coldStart: cold };
    let env = environment;
    let deadline: number | undefined;
    if (env === undefined) {
      const started = await coldStart(requestId, logs);
      if (!("env" in started)) return { ...base, ok: false, error: started, logs: joined() };
      ({ env, deadline } = started);
      environment = env;
    }
    deadline ??= Date.now() + timeoutMs;
    env.child.send({
      type: "invoke",
      requestId,
      event: JSON.stringify(event),
      deadlineMs: deadline,
      context: {
        functionName: options.functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: functionArn(options.functionName, options.region),
        memoryLimitInMB: String(options.memorySizeMb ?? 128),
        logGroupName: `/aws/lambda/${options.functionName}`,
        logStreamName: env.logStreamName,
      },
    });
    const outcome = await env.next(deadline);
    if (outcome.type === "result") {
      await env.drain(outcome.written);
      logs.push(env.logs());
      return outcome.ok
        ? { ...base, ok: true, value: JSON.parse(outcome.payload) as unknown, logs: joined() }
        : { ...base, ok: false, error: outcome.error, logs: joined() };
    }
    // A timeout or a crash ends the execution environment; the next invocation starts anew.
    await env.kill();
    environment = undefined;
    logs.push(env.logs());
    return { ...base, ok: false, error: errorOf(outcome, requestId), logs: joined() };
  };

  return {
    invoke(event, invokeOptions) {
      const requestId = invokeOptions?.requestId ?? randomUUID();
      const result = queue.then(() => run(event, requestId));
      queue = result.catch(() => undefined);
      return result;
    },
    get coldStarts() {
      return coldStarts;
    },
    async stop() {
      const env = environment;
      environment = undefined;
      await env?.kill();
    },
  };
}
