// The child side of lambda-host.ts: a small stand-in for Lambda's Node.js runtime (the Node.js 24
// one, run on that Node.js by the host). It imports the handler named by `_HANDLER` from
// `LAMBDA_TASK_ROOT` (the Init phase), then runs one invocation per IPC message, with a
// `context` as documented in https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
// (no `callbackWaitsForEmptyEventLoop`: it concerns callback handlers, which Node.js 24 runtimes
// no longer run), and answers over IPC. The
// handler's own stdout and stderr are left alone (the host reads them as the function's logs);
// this file only counts the bytes written to them, so that the host can tell when it has
// received all of an invocation's output before it reports the invocation.
import { pathToFileURL } from "node:url";
import { existsSync } from "node:fs";
import * as path from "node:path";

/** Bytes written to each stream so far (the host waits until it has read as many). */
const written = { stdout: 0, stderr: 0 };
for (const name of /** @type {const} */ (["stdout", "stderr"])) {
  const stream = process[name];
  const write = stream.write.bind(stream);
  stream.write = (chunk, encoding, callback) => {
    written[name] +=
      typeof chunk === "string"
        ? Buffer.byteLength(chunk, typeof encoding === "string" ? encoding : "utf8")
        : chunk.byteLength;
    return write(chunk, encoding, callback);
  };
}

const send = (message) => process.send({ ...message, written: { ...written } });

/**
 * The error response of the Node.js runtime
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html):
 * `{ errorType, errorMessage, trace }`; a thrown non-Error is reported by its type.
 */
function errorResponse(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? "").split("\n"),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

/** The Init phase: `_HANDLER` is `<module>.<export>`, the module a file of LAMBDA_TASK_ROOT. */
async function loadHandler() {
  const spec = process.env._HANDLER ?? "";
  const dot = spec.lastIndexOf(".");
  const moduleName = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const file = [".mjs", ".js", ".cjs"]
    .map((extension) => path.join(root, moduleName + extension))
    .find((candidate) => existsSync(candidate));
  if (dot <= 0 || file === undefined) {
    throw new RuntimeError(
      "Runtime.ImportModuleError",
      `Error: Cannot find module '${moduleName}'`,
    );
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName];
  if (typeof handler !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${spec} is undefined or not exported`);
  }
  // Node.js 24 runtimes refuse a callback-based handler (one declaring a third parameter) at Init:
  // `errorOnDeprecatedCallback` and its message in
  // https://github.com/aws/aws-lambda-nodejs-runtime-interface-client (src/function/,
  // src/context/constants.ts); https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.
  if (handler.length >= 3) {
    throw new RuntimeError(
      "Runtime.CallbackHandlerDeprecated",
      "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.",
    );
  }
  return handler;
}

let handler;

process.on("message", async (message) => {
  if (message.type !== "invoke" || handler === undefined) return;
  const settings = message.context;
  const context = {
    functionName: settings.functionName,
    functionVersion: settings.functionVersion,
    invokedFunctionArn: settings.invokedFunctionArn,
    memoryLimitInMB: settings.memoryLimitInMB,
    awsRequestId: message.requestId,
    logGroupName: settings.logGroupName,
    logStreamName: settings.logStreamName,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(message.deadlineMs - Date.now(), 0),
  };
  try {
    const value = await handler(JSON.parse(message.event), context);
    // Lambda returns the JSON of the value; `undefined` becomes null.
    send({ type: "result", ok: true, payload: JSON.stringify(value ?? null) });
  } catch (error) {
    send({ type: "result", ok: false, error: errorResponse(error) });
  }
});

// After the listener: it keeps the process alive while Init runs, as the real runtime's
// polling of the Runtime API does (an Init that never ends must time out, not exit).
try {
  handler = await loadHandler();
  send({ type: "ready" });
} catch (error) {
  send({ type: "init-error", error: errorResponse(error) });
}
