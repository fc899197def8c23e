/** Unit tests of the Lambda entry module (lib/replication/handler.ts): config read at load. */
import * as path from "node:path";
import { ContractError } from "../../lib/replication/contract";
import { setEnvironment } from "../support/environment";
import { objectCreatedEvent } from "../../tools/emulators/events";
import { environmentContract } from "../support/settings";

interface HandlerModule {
  handler: (event: unknown, context?: unknown) => Promise<unknown>;
}

async function loadHandler(): Promise<HandlerModule> {
  let loaded: HandlerModule | undefined;
  await jest.isolateModulesAsync(async () => {
    loaded = (await import(path.join(__dirname, "../../lib/replication/handler"))) as HandlerModule;
  });
  if (loaded === undefined) throw new Error("handler did not load");
  return loaded;
}

describe("handler module", () => {
  it("fails at load with a message naming the missing variables", async () => {
    const restore = setEnvironment({
      ...environmentContract,
      SOURCE_BUCKET: undefined,
      TARGETS: "nope",
    });
    try {
      // A fresh module registry has its own ContractError class: compare by name.
      await expect(loadHandler()).rejects.toMatchObject({ name: new ContractError([]).name });
      await expect(loadHandler()).rejects.toThrow(
        /SOURCE_BUCKET environment variable is not set; TARGETS = "nope" \(not valid JSON\)/,
      );
    } finally {
      restore();
    }
  });

  it("loads with the contract and dead-letters a foreign event (no AWS call but SQS)", async () => {
    const restore = setEnvironment(environmentContract);
    try {
      const { handler } = await loadHandler();
      // The DLQ endpoint is closed: sending fails, so the handler throws (Lambda would retry).
      const context = { functionName: "replication", awsRequestId: "req-1" };
      const foreign = objectCreatedEvent({ bucket: "other", key: "k", sequencer: "01" });
      await expect(handler(foreign, context)).rejects.toThrow();
      await expect(handler(foreign)).rejects.toThrow();
    } finally {
      restore();
    }
  });
});
