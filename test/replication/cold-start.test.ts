/**
 * What the function builds at load: the SQS client only sends dead letters, so neither
 * createClients nor loading the handler module builds it; the first dead letter does.
 */
import * as path from "node:path";
import type { SQSClient as SQSClientType } from "@aws-sdk/client-sqs";
import { createClients } from "../../lib/replication/clients";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { environmentContract, settings as sharedSettings } from "../support/settings";
import { objectCreatedEvent } from "../../tools/emulators/events";
import { setEnvironment } from "../support/environment";

/** SQS clients constructed so far (in any module registry of this file). */
const mockSqsClients = { created: 0 };

jest.mock("@aws-sdk/client-sqs", () => {
  const actual = jest.requireActual<{ SQSClient: typeof SQSClientType }>("@aws-sdk/client-sqs");
  class CountedSQSClient extends actual.SQSClient {
    constructor(...args: ConstructorParameters<typeof SQSClientType>) {
      super(...args);
      mockSqsClients.created += 1;
    }
  }
  return { ...jest.requireActual<object>("@aws-sdk/client-sqs"), SQSClient: CountedSQSClient };
});

beforeEach(() => {
  mockSqsClients.created = 0;
});

/** The shared unit-test settings, in eu-west-1 with values of their own for what is asserted here. */
const settings: ReplicationSettings = {
  ...sharedSettings,
  region: "eu-west-1",
  maxAttempts: 4,
  forcePathStyle: true,
};

describe("createClients", () => {
  it("builds the SQS client on first read, once, and again only after destroy", async () => {
    const clients = createClients(settings);
    expect(mockSqsClients.created).toBe(0);

    const sqs = clients.sqs;
    expect(clients.sqs).toBe(sqs);
    expect(mockSqsClients.created).toBe(1);
    await expect(sqs.config.region()).resolves.toBe("eu-west-1");

    clients.destroy();
    expect(clients.sqs).not.toBe(sqs);
    expect(mockSqsClients.created).toBe(2);
    clients.destroy();
  });
});

describe("handler module", () => {
  it("loads without an SQS client and builds one for its first dead letter", async () => {
    const restore = setEnvironment(environmentContract);
    try {
      let handler: ((event: unknown) => Promise<unknown>) | undefined;
      await jest.isolateModulesAsync(async () => {
        ({ handler } = (await import(path.join(__dirname, "../../lib/replication/handler"))) as {
          handler: (event: unknown) => Promise<unknown>;
        });
      });
      if (handler === undefined) throw new Error("handler did not load");
      expect(mockSqsClients.created).toBe(0);

      const foreign = objectCreatedEvent({ bucket: "other", key: "k", sequencer: "01" });
      await expect(handler(foreign)).rejects.toThrow();
      expect(mockSqsClients.created).toBe(1);
    } finally {
      restore();
    }
  });
});
