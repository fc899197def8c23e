/** lib/replication/logger.ts: the function's logs carry the contract's service name. */
import type { Logger } from "@aws-lambda-powertools/logger";
import { setEnvironment } from "../support/environment";

/** The `service` of the line the module's logger writes, loaded afresh under `environment`. */
function serviceOfLine(environment: Record<string, string | undefined>): unknown {
  const restore = setEnvironment({
    POWERTOOLS_DEV: "true",
    POWERTOOLS_LOG_LEVEL: "INFO",
    ...environment,
  });
  const written = jest.spyOn(console, "info").mockImplementation(() => undefined);
  try {
    let logger: Logger | undefined;
    jest.isolateModules(() => {
      ({ logger } = jest.requireActual<{ logger: Logger }>("../../lib/replication/logger"));
    });
    logger?.info("hello");
    const [line] = written.mock.calls.map(([text]) => JSON.parse(String(text)) as object);
    return (line as { service?: unknown } | undefined)?.service;
  } finally {
    written.mockRestore();
    restore();
  }
}

it("names the service POWERTOOLS_SERVICE_NAME gives, as the metrics do", () => {
  expect(serviceOfLine({ POWERTOOLS_SERVICE_NAME: "pipeline-replication" })).toBe(
    "pipeline-replication",
  );
});

it("falls back to the contract's default service name", () => {
  expect(serviceOfLine({ POWERTOOLS_SERVICE_NAME: undefined })).toBe("replication");
});
