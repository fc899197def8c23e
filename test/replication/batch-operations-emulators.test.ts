/**
 * The function's S3 Batch Operations side on the emulators: invocations shaped as Batch
 * Operations sends them (schema 2.0, keys URL-encoded) go through the invocation handler with
 * the real replicator, in-process; the targets converge, a second job copies nothing, a key gone
 * from the source is deleted, and S3 errors become TemporaryFailure (throttling) or
 * PermanentFailure (access denied) as the documented response says.
 */
import type { S3BatchResult } from "aws-lambda";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createInvocationHandler } from "../../lib/replication/invocation";
import { logger } from "../../lib/replication/logger";
import { createReplicator } from "../../lib/replication/replicator";
import { createQueue, sqsClient } from "../../tools/emulators/emulators";
import { batchOperationsEvent } from "../../tools/emulators/events";
import {
  bucketState,
  putObject,
  startWorld,
  worldClients,
  type CountingClients,
  type Environments,
  type World,
} from "../support/resync-world";

let world: World;
let sqs: SQSClient;
let dlqUrl: string;
const opened: CountingClients[] = [];

beforeAll(async () => {
  logger.setLogLevel("SILENT");
  world = await startWorld();
  sqs = sqsClient(world.emulators);
  dlqUrl = await createQueue(world.emulators, "batch-dlq");
});
afterEach(() => {
  world.s3Proxy.setDecider(() => undefined);
});
afterAll(async () => {
  for (const clients of opened) clients.destroy();
  sqs.destroy();
  await world.stop();
});

function handlerFor(envs: Environments) {
  const clients = worldClients(world);
  opened.push(clients);
  const handler = createInvocationHandler({
    replicator: createReplicator(envs.settings, clients),
    sqs,
    dlqUrl,
  });
  return {
    clients,
    invoke: async (event: unknown) => (await handler.handle(event)) as S3BatchResult,
  };
}

const KEYS = ["plain.txt", "with spaces/a b.txt", "c++/x+y.txt", "ünï/日本 🚀.txt", "100%/p.txt"];

describe("S3 Batch Operations tasks on the emulators", () => {
  it("resyncs every task's key into the targets, decoding keys as Batch Operations encodes them", async () => {
    const envs = await world.environments();
    for (const key of KEYS) {
      await putObject(world.s3, envs.source.bucket, key, `body of ${key}`, { owner: "ada" });
    }
    const { invoke } = handlerFor(envs);
    const event = batchOperationsEvent({ bucket: envs.source.bucket, keys: KEYS });
    // What Batch Operations is seen to send in practice: '+' for a space.
    const plus = {
      ...event,
      tasks: [{ ...event.tasks[1], taskId: "plus", s3Key: "with+spaces/a+b.txt" }],
    };

    const response = await invoke(event);
    const again = await invoke(plus);

    expect(response).toEqual({
      invocationSchemaVersion: "2.0",
      treatMissingKeysAs: "PermanentFailure",
      invocationId: event.invocationId,
      results: KEYS.map((_key, index) => ({
        taskId: `task-${index}`,
        resultCode: "Succeeded",
        resultString: "dev: copied, staging: copied",
      })),
    });
    expect(again.results).toEqual([
      { taskId: "plus", resultCode: "Succeeded", resultString: "dev: skipped, staging: skipped" },
    ]);
    const source = await bucketState(world.s3, envs.source.bucket);
    expect(Object.keys(source).sort()).toEqual([...KEYS].sort());
    expect(await bucketState(world.s3, envs.dev.bucket)).toEqual(source);
    expect(await bucketState(world.s3, envs.staging.bucket)).toEqual(source);
  });

  it("copies nothing when a second job runs over converged targets", async () => {
    const envs = await world.environments();
    await putObject(world.s3, envs.source.bucket, "k.txt", "v1");
    const event = batchOperationsEvent({ bucket: envs.source.bucket, keys: ["k.txt"] });
    await handlerFor(envs).invoke(event);
    const second = handlerFor(envs);

    const response = await second.invoke(event);

    expect(response.results[0]?.resultString).toBe("dev: skipped, staging: skipped");
    expect(second.clients.count("CopyObjectCommand")).toBe(0);
  });

  it("deletes a replica whose key the source no longer has (deleted since the manifest)", async () => {
    const envs = await world.environments();
    await putObject(world.s3, envs.dev.bucket, "gone.txt", "old");

    const response = await handlerFor(envs).invoke(
      batchOperationsEvent({ bucket: envs.source.bucket, keys: ["gone.txt"] }),
    );

    expect(response.results[0]).toMatchObject({
      resultCode: "Succeeded",
      resultString: "dev: deleted, staging: absent",
    });
    expect(await bucketState(world.s3, envs.dev.bucket)).toEqual({});
  });

  it("answers TemporaryFailure on throttling and PermanentFailure on access denied, converging the other target", async () => {
    const envs = await world.environments();
    await putObject(world.s3, envs.source.bucket, "slow.txt", "s");
    await putObject(world.s3, envs.source.bucket, "denied.txt", "d");
    world.s3Proxy.setDecider((request) => {
      if (request.method !== "PUT" || request.headers["x-amz-copy-source"] === undefined) {
        return undefined;
      }
      if (request.url.startsWith(`/${envs.staging.bucket}/slow.txt`)) return "s3-slow-down";
      if (request.url.startsWith(`/${envs.staging.bucket}/denied.txt`)) return "s3-access-denied";
      return undefined;
    });

    const response = await handlerFor(envs).invoke(
      batchOperationsEvent({ bucket: envs.source.bucket, keys: ["slow.txt", "denied.txt"] }),
    );

    expect(response.results).toEqual([
      {
        taskId: "task-0",
        resultCode: "TemporaryFailure",
        resultString: "staging: SlowDown Please reduce your request rate.",
      },
      {
        taskId: "task-1",
        resultCode: "PermanentFailure",
        resultString: "staging: AccessDenied Access Denied",
      },
    ]);
    expect(Object.keys(await bucketState(world.s3, envs.dev.bucket)).sort()).toEqual([
      "denied.txt",
      "slow.txt",
    ]);
  });
});
