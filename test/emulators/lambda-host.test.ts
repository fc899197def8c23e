/**
 * The Lambda host runs stub handlers (test/fixtures/lambda) in a child process as Lambda's
 * Node.js runtime would: its own environment, the documented context, one invocation at a time,
 * function errors in the runtime's shape, timeouts and crashes that end the environment, and
 * the function's output returned per invocation.
 */
import * as path from "node:path";
import { lambdaRuntime, runtimeNodeMajor } from "../../lib/bundle";
import { LambdaNodeError, lambdaNode } from "../../tools/common/lambda-node";
import {
  configurationProblems,
  LambdaConfigError,
  startLambdaHost,
  type InvocationResult,
  type LambdaHost,
  type LambdaHostOptions,
} from "../../tools/emulators/lambda-host";

const fixture = (name: string): string => path.join(__dirname, "../fixtures/lambda", name);

const base: LambdaHostOptions = {
  handlerFile: fixture("stub-handler.mjs"),
  functionName: "replication",
  region: "eu-west-1",
  timeoutSeconds: 30,
};

interface Described {
  pid: number;
  invocations: number;
  event: unknown;
  context: Record<string, unknown> & { remaining: number };
  contextKeys: string[];
  node: { version: string; execPath: string };
  env: Record<string, string>;
}

function value(result: InvocationResult): unknown {
  if (!result.ok) throw new Error(`invocation failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

const describedBy = (result: InvocationResult): Described => value(result) as Described;

function failure(result: InvocationResult) {
  if (result.ok) throw new Error(`invocation succeeded: ${JSON.stringify(result.value)}`);
  return result.error;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("a warm execution environment", () => {
  let host: LambdaHost;

  beforeAll(() => {
    process.env.STUB_PARENT_ONLY = "parent";
    host = startLambdaHost({
      ...base,
      memorySizeMb: 256,
      environment: { STUB_SETTING: "configured", REGION: "eu-west-1" },
      credentials: { accessKeyId: "test", secretAccessKey: "secret", sessionToken: "token" },
    });
  });

  afterAll(async () => {
    delete process.env.STUB_PARENT_ONLY;
    await host.stop();
  });

  it("gives the handler the documented context and Lambda's own variables", async () => {
    const result = await host.invoke({ action: "describe" }, { requestId: "req-1" });
    const seen = describedBy(result);
    expect(result.coldStart).toBe(true);
    expect(seen.event).toEqual({ action: "describe" });
    expect(seen.context).toMatchObject({
      functionName: "replication",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:replication",
      memoryLimitInMB: "256",
      awsRequestId: "req-1",
      logGroupName: "/aws/lambda/replication",
    });
    // Node.js 24 runtimes run no callback handlers, and their context has no setting for them.
    expect(seen.contextKeys).not.toContain("callbackWaitsForEmptyEventLoop");
    expect(seen.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(seen.context.remaining).toBeGreaterThan(0);
    expect(seen.context.remaining).toBeLessThanOrEqual(30_000);
    expect(seen.env).toMatchObject({
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_LAMBDA_FUNCTION_NAME: "replication",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      STUB_SETTING: "configured",
      _HANDLER: "stub-handler.handler",
      LAMBDA_TASK_ROOT: path.dirname(fixture("stub-handler.mjs")),
      TZ: ":UTC",
    });
  });

  it("runs the handler on the Node.js of the function's runtime, not on this process's", async () => {
    const seen = describedBy(await host.invoke({ action: "describe" }));

    expect(seen.node.version.split(".")[0]).toBe(`v${runtimeNodeMajor(lambdaRuntime)}`);
    expect(seen.node).toEqual({
      version: lambdaNode().version,
      execPath: lambdaNode().executable,
    });
  });

  it("keeps the function's environment and the parent's apart", async () => {
    const seen = describedBy(await host.invoke({ action: "describe" }));
    expect(seen.env.STUB_PARENT_ONLY).toBeUndefined();
    expect(process.env.STUB_SETTING).toBeUndefined();
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
  });

  it("reuses one process across invocations (warm starts)", async () => {
    const first = await host.invoke({ action: "describe" });
    const second = await host.invoke({ action: "describe" });
    expect(second.coldStart).toBe(false);
    expect(describedBy(second).pid).toBe(describedBy(first).pid);
    expect(describedBy(second).invocations).toBe(describedBy(first).invocations + 1);
    expect(host.coldStarts).toBe(1);
  });

  it("runs one invocation at a time, however many are asked for at once", async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => host.invoke({ action: "concurrency" })),
    );
    expect(results.map((result) => value(result))).toEqual([1, 1, 1, 1]);
  });

  it("returns the invocation's output lines, apart from the protocol", async () => {
    const result = await host.invoke({ action: "log", lines: ['{"level":"INFO"}', "second"] });
    expect(value(result)).toBe("logged");
    expect(result.logs.stdout).toEqual(['{"level":"INFO"}', "second", "no newline at the end"]);
    expect(result.logs.stderr).toEqual(["to stderr"]);
    const next = await host.invoke({ action: "echo" });
    expect(next.logs).toEqual({ stdout: [], stderr: [] });
  });

  it("reports a thrown error as the runtime does and keeps the environment", async () => {
    const before = describedBy(await host.invoke({ action: "describe" }));
    const result = await host.invoke({ action: "throw", message: "it broke" });
    expect(failure(result)).toMatchObject({ errorType: "StubError", errorMessage: "it broke" });
    expect(failure(result).trace?.[0]).toBe("StubError: it broke");
    const after = await host.invoke({ action: "describe" });
    expect(after.coldStart).toBe(false);
    expect(describedBy(after).pid).toBe(before.pid);
  });

  it("reports a thrown non-Error by its type", async () => {
    const result = await host.invoke({ action: "throw-string" });
    expect(failure(result)).toEqual({
      errorType: "string",
      errorMessage: "plain string",
      trace: [],
    });
  });

  it("returns null for an undefined result, as Lambda's JSON does", async () => {
    expect(value(await host.invoke({ action: "undefined" }))).toBeNull();
  });

  it("counts down getRemainingTimeInMillis while the handler runs", async () => {
    const remaining = value(await host.invoke({ action: "wait", ms: 200 }));
    // At least ~200 ms went by (timers may round by a millisecond or so).
    expect(remaining).toBeLessThanOrEqual(30_000 - 150);
  });
});

describe("the end of an execution environment", () => {
  it("times out a handler that does not settle, kills it, and cold-starts the next one", async () => {
    const host = startLambdaHost({ ...base, timeoutSeconds: 1 });
    try {
      const warm = describedBy(await host.invoke({ action: "describe" }));
      const result = await host.invoke({ action: "hang" }, { requestId: "req-t" });
      expect(failure(result)).toEqual({
        errorType: "Sandbox.Timedout",
        errorMessage: "RequestId: req-t Error: Task timed out after 1.00 seconds",
      });
      expect(result.logs.stdout).toEqual(["hanging"]);
      expect(isAlive(warm.pid)).toBe(false);
      const next = await host.invoke({ action: "describe" });
      expect(next.coldStart).toBe(true);
      expect(describedBy(next).pid).not.toBe(warm.pid);
      expect(host.coldStarts).toBe(2);
    } finally {
      await host.stop();
    }
  });

  it("reports a process that exits as Runtime.ExitError and cold-starts the next one", async () => {
    const host = startLambdaHost(base);
    try {
      await host.invoke({ action: "describe" });
      const result = await host.invoke({ action: "exit" }, { requestId: "req-x" });
      expect(failure(result)).toEqual({
        errorType: "Runtime.ExitError",
        errorMessage: "RequestId: req-x Error: Runtime exited with error: exit status 3",
      });
      expect(result.logs.stdout).toEqual(["exiting"]);
      expect((await host.invoke({ action: "describe" })).coldStart).toBe(true);
    } finally {
      await host.stop();
    }
  });

  it("includes the Init phase's output in the first invocation only", async () => {
    const host = startLambdaHost(base);
    try {
      const first = await host.invoke({ action: "echo" });
      const pid = describedBy(await host.invoke({ action: "describe" })).pid;
      expect(first.logs.stdout).toEqual([`init ${pid}`]);
    } finally {
      await host.stop();
    }
  });

  it("stop() kills the process", async () => {
    const host = startLambdaHost(base);
    const pid = describedBy(await host.invoke({ action: "describe" })).pid;
    await host.stop();
    expect(isAlive(pid)).toBe(false);
  });
});

describe("the Init phase", () => {
  it("reports an error thrown at import, after Lambda's retry of Init in the invocation", async () => {
    const host = startLambdaHost({ ...base, handlerFile: fixture("init-error-handler.mjs") });
    try {
      const result = await host.invoke({});
      expect(failure(result)).toMatchObject({
        errorType: "TypeError",
        errorMessage: "bad configuration at init",
      });
      expect(result.logs.stdout).toEqual(["initialising", "initialising"]);
      expect(host.coldStarts).toBe(2);
    } finally {
      await host.stop();
    }
  });

  it("retries an Init that outlives its limit within the invocation, under its timeout", async () => {
    const host = startLambdaHost({
      ...base,
      handlerFile: fixture("init-hang-handler.mjs"),
      initTimeoutSeconds: 0.2,
      timeoutSeconds: 0.3,
    });
    try {
      const result = await host.invoke({}, { requestId: "req-i" });
      expect(failure(result)).toEqual({
        errorType: "Sandbox.Timedout",
        errorMessage: "RequestId: req-i Error: Task timed out after 0.30 seconds",
      });
      expect(host.coldStarts).toBe(2);
    } finally {
      await host.stop();
    }
  });

  it("reports a handler that is not exported", async () => {
    const host = startLambdaHost({ ...base, handlerFile: fixture("no-export-handler.mjs") });
    try {
      expect(failure(await host.invoke({}))).toMatchObject({
        errorType: "Runtime.HandlerNotFound",
        errorMessage: "no-export-handler.handler is undefined or not exported",
      });
    } finally {
      await host.stop();
    }
  });

  it("reports a module that does not exist", async () => {
    const host = startLambdaHost({ ...base, handlerFile: fixture("missing.mjs") });
    try {
      expect(failure(await host.invoke({}))).toMatchObject({
        errorType: "Runtime.ImportModuleError",
        errorMessage: "Error: Cannot find module 'missing'",
      });
    } finally {
      await host.stop();
    }
  });

  it("refuses a callback-based handler, as Node.js 24 runtimes do", async () => {
    const host = startLambdaHost({ ...base, handlerFile: fixture("callback-handler.mjs") });
    try {
      expect(failure(await host.invoke({ n: 1 }))).toMatchObject({
        errorType: "Runtime.CallbackHandlerDeprecated",
        errorMessage: expect.stringMatching(
          /^ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node\.js 24\./,
        ) as unknown,
      });
      // A failed Init, retried within the invocation as any other.
      expect(host.coldStarts).toBe(2);
    } finally {
      await host.stop();
    }
  });
});

describe("the runtime's Node.js", () => {
  it("is required: a host for a runtime of another major than the Node.js here does not start", () => {
    const older = `nodejs${runtimeNodeMajor(lambdaRuntime) - 2}.x`;

    expect(() => startLambdaHost({ ...base, runtime: older })).toThrow(LambdaNodeError);
    expect(() => startLambdaHost({ ...base, runtime: older })).toThrow(
      new RegExp(
        `^runtime ${older.replace(".", "\\.")} runs Node\\.js ${runtimeNodeMajor(older)}, but .*bin/node is v${runtimeNodeMajor(lambdaRuntime)}\\.`,
      ),
    );
  });

  it("names the runtime in AWS_EXECUTION_ENV, as Lambda does", async () => {
    const host = startLambdaHost({ ...base, runtime: lambdaRuntime });
    try {
      const seen = describedBy(await host.invoke({ action: "describe" }));
      expect(seen.env.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_${lambdaRuntime}`);
    } finally {
      await host.stop();
    }
  });
});

describe("configuration Lambda would refuse", () => {
  it("names every reserved key, malformed key, oversized environment and bad timeout", () => {
    const options: LambdaHostOptions = {
      ...base,
      timeoutSeconds: 0,
      environment: {
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "x",
        "1X": "y",
        BIG: "z".repeat(4096),
      },
    };
    expect(configurationProblems(options)).toEqual([
      "environment variable AWS_REGION is reserved by Lambda and cannot be set",
      "environment variable AWS_ACCESS_KEY_ID is reserved by Lambda and cannot be set",
      'environment variable "1X": keys start with a letter, are at least two characters and use letters, digits and _',
      "environment variables take 4139 bytes, over Lambda's 4 KB",
      "timeoutSeconds = 0 (0 < timeout <= 900)",
    ]);
    expect(() => startLambdaHost(options)).toThrow(LambdaConfigError);
    expect(() => startLambdaHost(options)).toThrow(/AWS_REGION is reserved.*timeoutSeconds = 0/);
  });

  it("accepts a configuration within Lambda's rules", () => {
    expect(() => startLambdaHost({ ...base, environment: { REGION: "eu-west-1" } })).not.toThrow();
  });
});
