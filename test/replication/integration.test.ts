/**
 * Integration tests: the built bundle (the bytes the program deploys), configured only through
 * the environment contract, against s3rver, dynalite and local-aws-sqs on 127.0.0.1, with a
 * fault-injecting proxy in front of S3 and DynamoDB. Then the redrive command on the DLQ.
 */
import { createClients } from "../../lib/replication/clients";
import { readContract } from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { runRedrive } from "../../tools/ops/redrive";
import { createReplicator } from "../../lib/replication/replicator";
import { ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "../../lib/replication/sequence";
import {
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  sequencerAt,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";
import { firstFaults, type Fault, type ProxiedRequest } from "../../tools/emulators/fault-proxy";
import {
  SOURCE,
  TARGETS,
  deleteSourceItem,
  deleteSourceObject,
  drainQueue,
  objectExists,
  peekQueue,
  putSourceItem,
  putSourceObject,
  readItem,
  readObject,
  startHarness,
  type Harness,
  type Item,
} from "../support/replication-harness";

let harness: Harness;
let sequence = 0;
const nextSequencer = (): string => sequencerAt(++sequence);
const nextStreamSequence = (): string => streamSequenceAt(++sequence);

beforeAll(async () => {
  logger.setLogLevel("SILENT");
  harness = await startHarness();
});
afterAll(async () => {
  await harness.stop();
});
afterEach(async () => {
  harness.s3Proxy.setDecider(() => undefined);
  harness.dynamodbProxy.setDecider(() => undefined);
  await drainQueue(harness.sqs, harness.dlqUrl);
});

const created = (key: string, sequencer: string) =>
  objectCreatedEvent({ bucket: SOURCE.bucket, key, sequencer });
const deleted = (key: string, sequencer: string) =>
  objectDeletedEvent({ bucket: SOURCE.bucket, key, sequencer });

async function targetsOf(key: string) {
  return Promise.all(TARGETS.map((target) => readObject(harness.s3, target.bucket, key)));
}

describe("objects", () => {
  it("copies a new object into every target with content type and metadata preserved", async () => {
    await putSourceObject(harness.s3, "reports/q1.csv", "a,b\n1,2\n", { owner: "ada" }, "text/csv");
    const sequencer = nextSequencer();
    const result = await harness.bundle.handler(created("reports/q1.csv", sequencer));
    expect(result).toMatchObject({
      status: "replicated",
      results: [
        { environment: "dev", action: "copied" },
        { environment: "staging", action: "copied" },
      ],
    });
    for (const replica of await targetsOf("reports/q1.csv")) {
      expect(replica).toEqual({
        body: "a,b\n1,2\n",
        contentType: "text/csv",
        metadata: { owner: "ada", "replication-sequencer": sequencer },
      });
    }
  });

  it.each([
    ["spaces", "folder with spaces/file name.txt"],
    ["plus signs", "c++/a+b.txt"],
    ["a literal percent sequence", "100%/literal%20not-a-space.txt"],
    ["unicode", "ünïcødé/日本語/ファイル 🚀.txt"],
    ["a deep path", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.txt"],
    ["reserved characters", "odd &=,:@$;?#[]!'()*~.txt"],
    ["an encoded-looking plus", "x%2By+z.txt"],
  ])("replicates and deletes a key with %s exactly as given", async (_name, key) => {
    await putSourceObject(harness.s3, key, `body of ${key}`);
    await harness.bundle.handler(created(key, nextSequencer()));
    for (const replica of await targetsOf(key)) expect(replica?.body).toBe(`body of ${key}`);

    await deleteSourceObject(harness.s3, key);
    await harness.bundle.handler(deleted(key, nextSequencer()));
    for (const target of TARGETS) {
      expect(await objectExists(harness.s3, target.bucket, key)).toBe(false);
    }
    expect(await drainQueue(harness.sqs, harness.dlqUrl)).toEqual([]);
  });

  it("never lets an older change overwrite a newer one (overwrites delivered out of order)", async () => {
    const key = "ordering/overwrite.txt";
    await putSourceObject(harness.s3, key, "v1");
    const first = nextSequencer();
    await putSourceObject(harness.s3, key, "v2");
    const second = nextSequencer();
    await harness.bundle.handler(created(key, second));
    const stale = await harness.bundle.handler(created(key, first));
    expect(stale).toMatchObject({ results: [{ action: "skipped" }, { action: "skipped" }] });
    for (const replica of await targetsOf(key)) {
      expect(replica).toMatchObject({ body: "v2", metadata: { "replication-sequencer": second } });
    }
  });

  it("does not let a stale create undo a delete", async () => {
    const key = "ordering/deleted.txt";
    await putSourceObject(harness.s3, key, "v1");
    const create = nextSequencer();
    await harness.bundle.handler(created(key, create));
    await deleteSourceObject(harness.s3, key);
    const remove = nextSequencer();
    await harness.bundle.handler(deleted(key, remove));
    // The create is delivered again, late: the source says the key is gone, so it stays gone.
    await harness.bundle.handler(created(key, create));
    for (const target of TARGETS) {
      expect(await objectExists(harness.s3, target.bucket, key)).toBe(false);
    }
  });

  it("converges when a delete arrives before the create it follows", async () => {
    const key = "ordering/delete-first.txt";
    await putSourceObject(harness.s3, key, "v1");
    const create = nextSequencer();
    await deleteSourceObject(harness.s3, key);
    const remove = nextSequencer();
    await harness.bundle.handler(deleted(key, remove));
    const late = await harness.bundle.handler(created(key, create));
    expect(late).toMatchObject({ results: [{ action: "absent" }, { action: "absent" }] });
    for (const target of TARGETS) {
      expect(await objectExists(harness.s3, target.bucket, key)).toBe(false);
    }
  });

  it("treats a replayed event as a no-op", async () => {
    const key = "ordering/replay.txt";
    await putSourceObject(harness.s3, key, "v1");
    const event = created(key, nextSequencer());
    await harness.bundle.handler(event);
    const replay = await harness.bundle.handler(event);
    expect(replay).toMatchObject({ results: [{ action: "skipped" }, { action: "skipped" }] });
  });

  it("compares sequencers of different lengths by right-padding", async () => {
    const key = "ordering/lengths.txt";
    await putSourceObject(harness.s3, key, "v1");
    // 16 hex digits "…02" padded to 18 is "…0200", newer than the 18-digit "…0100".
    await harness.bundle.handler(created(key, "0000000000000002"));
    const older = await harness.bundle.handler(created(key, "000000000000000100"));
    expect(older).toMatchObject({ results: [{ action: "skipped" }, { action: "skipped" }] });
  });
});

describe("items", () => {
  const keys = (pk: string) => itemKeys(pk, "profile");
  const record = (
    pk: string,
    eventName: "INSERT" | "MODIFY" | "REMOVE",
    sequenceNumber: string,
    image?: Item,
  ) =>
    streamRecord({
      table: SOURCE.table,
      eventName,
      keys: keys(pk),
      sequenceNumber,
      ...(image ? { newImage: image } : {}),
    });

  it("puts, modifies and removes items in every target table", async () => {
    const item = { ...keys("user#1"), name: { S: "Ada" }, visits: { N: "1" } };
    await putSourceItem(harness.dynamodb, item);
    const insert = nextStreamSequence();
    expect(
      await harness.bundle.handler(streamEvent([record("user#1", "INSERT", insert, item)])),
    ).toEqual({
      batchItemFailures: [],
    });
    for (const target of TARGETS) {
      expect(await readItem(harness.dynamodb, target.table, keys("user#1"))).toEqual({
        ...item,
        [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(insert) },
      });
    }

    const modified = { ...item, visits: { N: "2" } };
    await putSourceItem(harness.dynamodb, modified);
    await harness.bundle.handler(
      streamEvent([record("user#1", "MODIFY", nextStreamSequence(), modified)]),
    );
    for (const target of TARGETS) {
      expect((await readItem(harness.dynamodb, target.table, keys("user#1")))?.visits).toEqual({
        N: "2",
      });
    }

    await deleteSourceItem(harness.dynamodb, keys("user#1"));
    await harness.bundle.handler(streamEvent([record("user#1", "REMOVE", nextStreamSequence())]));
    for (const target of TARGETS) {
      expect(await readItem(harness.dynamodb, target.table, keys("user#1"))).toBeUndefined();
    }
  });

  it("skips stale and replayed records, and a stale INSERT does not undo a REMOVE", async () => {
    const v1 = { ...keys("user#2"), v: { N: "1" } };
    const v2 = { ...keys("user#2"), v: { N: "2" } };
    await putSourceItem(harness.dynamodb, v1);
    const s1 = nextStreamSequence();
    await putSourceItem(harness.dynamodb, v2);
    const s2 = nextStreamSequence();
    // Newest first, then the older one, then a replay.
    await harness.bundle.handler(streamEvent([record("user#2", "MODIFY", s2, v2)]));
    await harness.bundle.handler(
      streamEvent([record("user#2", "INSERT", s1, v1), record("user#2", "MODIFY", s2, v2)]),
    );
    for (const target of TARGETS) {
      expect(await readItem(harness.dynamodb, target.table, keys("user#2"))).toMatchObject({
        v: { N: "2" },
        [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(s2) },
      });
    }
    await deleteSourceItem(harness.dynamodb, keys("user#2"));
    await harness.bundle.handler(streamEvent([record("user#2", "REMOVE", nextStreamSequence())]));
    await harness.bundle.handler(streamEvent([record("user#2", "INSERT", s1, v1)]));
    for (const target of TARGETS) {
      expect(await readItem(harness.dynamodb, target.table, keys("user#2"))).toBeUndefined();
    }
  });
});

describe("rejected events", () => {
  it("dead-letters an event from another bucket with the reason, and does not throw", async () => {
    const foreign = objectCreatedEvent({ bucket: "dev-bucket", key: "loop.txt", sequencer: "01" });
    await expect(harness.bundle.handler(foreign)).resolves.toMatchObject({
      status: "dead-lettered",
    });
    expect(await drainQueue(harness.sqs, harness.dlqUrl)).toEqual([
      expect.objectContaining({
        reason: "foreign-source",
        source: "eventbridge",
        event: foreign,
        error: {
          name: "ForeignSourceError",
          message: 'event for bucket "dev-bucket", not the source bucket "prod-bucket"',
        },
      }),
    ]);
  });

  it("dead-letters a record from another table and a malformed record, reporting neither", async () => {
    const foreign = streamRecord({
      table: "dev-table",
      eventName: "INSERT",
      keys: itemKeys("a", "b"),
      sequenceNumber: nextStreamSequence(),
    });
    const malformed = { ...foreign, eventID: "bad", eventName: "TRUNCATE" };
    await expect(
      harness.bundle.handler(streamEvent([foreign, malformed as typeof foreign])),
    ).resolves.toEqual({
      batchItemFailures: [],
    });
    const letters = await drainQueue(harness.sqs, harness.dlqUrl);
    expect(letters.map((letter) => letter.reason).sort()).toEqual([
      "foreign-source",
      "malformed-event",
    ]);
  });

  it("dead-letters a malformed EventBridge event", async () => {
    const event = { ...created("k", "01"), detail: { bucket: { name: SOURCE.bucket } } };
    await expect(harness.bundle.handler(event)).resolves.toMatchObject({ status: "dead-lettered" });
    expect(await drainQueue(harness.sqs, harness.dlqUrl)).toEqual([
      expect.objectContaining({ reason: "malformed-event", event }),
    ]);
  });
});

describe("fault injection", () => {
  const toBucket = (bucket: string, fault: Fault) => (request: ProxiedRequest) =>
    request.url.startsWith(`/${bucket}/`) ? fault : undefined;
  /** Writes only (HEAD errors carry no body, so the SDK could not name them). */
  const toBucketWrites = (bucket: string, fault: Fault) => (request: ProxiedRequest) =>
    request.method !== "HEAD" ? toBucket(bucket, fault)(request) : undefined;
  const toTable = (table: string, fault: Fault) => (request: ProxiedRequest) =>
    request.table === table ? fault : undefined;

  it.each<[string, Fault]>([
    ["503 SlowDown", "s3-slow-down"],
    ["500 InternalError", "s3-internal-error"],
    ["a connection reset", "connection-reset"],
  ])("recovers from %s on S3 with the SDK's retries", async (_name, fault) => {
    const key = `faults/${fault}.txt`;
    await putSourceObject(harness.s3, key, fault);
    harness.s3Proxy.setDecider(firstFaults(2, toBucket("staging-bucket", fault)));
    await expect(harness.bundle.handler(created(key, nextSequencer()))).resolves.toMatchObject({
      status: "replicated",
    });
    expect(harness.s3Proxy.stats.injected[fault]).toBeGreaterThanOrEqual(2);
    for (const replica of await targetsOf(key)) expect(replica?.body).toBe(fault);
    expect(await drainQueue(harness.sqs, harness.dlqUrl)).toEqual([]);
  });

  it.each<[string, Fault]>([
    ["ThrottlingException", "dynamodb-throttling"],
    ["ProvisionedThroughputExceededException", "dynamodb-throughput-exceeded"],
    ["a connection reset", "connection-reset"],
  ])("recovers from %s on DynamoDB with the SDK's retries", async (_name, fault) => {
    const item = { ...itemKeys(`fault#${fault}`, "x"), n: { N: "1" } };
    await putSourceItem(harness.dynamodb, item);
    harness.dynamodbProxy.setDecider(firstFaults(2, toTable("dev-table", fault)));
    const record = streamRecord({
      table: SOURCE.table,
      eventName: "INSERT",
      keys: itemKeys(`fault#${fault}`, "x"),
      sequenceNumber: nextStreamSequence(),
    });
    await expect(harness.bundle.handler(streamEvent([record]))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(
      await readItem(harness.dynamodb, "dev-table", itemKeys(`fault#${fault}`, "x")),
    ).toMatchObject(item);
  });

  it.each<[string, Fault]>([
    ["AccessDenied", "s3-access-denied"],
    ["NoSuchBucket", "s3-no-such-bucket"],
  ])(
    "dead-letters a target failing with %s, serves the other, throws; a redrive converges",
    async (name, fault) => {
      const key = `faults/permanent-${fault}.txt`;
      await putSourceObject(harness.s3, key, "payload");
      harness.s3Proxy.setDecider(toBucketWrites("dev-bucket", fault));
      const event = created(key, nextSequencer());
      await expect(harness.bundle.handler(event)).rejects.toMatchObject({
        name: "ReplicationFailedError",
      });
      expect((await readObject(harness.s3, "staging-bucket", key))?.body).toBe("payload");
      expect(await objectExists(harness.s3, "dev-bucket", key)).toBe(false);
      // Not retried (permanent), dead-lettered with the target, the error and the attempts.
      expect(await peekQueue(harness.sqs, harness.dlqUrl)).toEqual([
        {
          reason: "target-failed",
          source: "eventbridge",
          event,
          target: TARGETS[0],
          error: expect.objectContaining({ name }) as unknown,
          attempts: 1,
          failedAt: expect.any(String) as unknown,
        },
      ]);

      harness.s3Proxy.setDecider(() => undefined);
      const dryRun = await redrive(true);
      expect(dryRun).toMatchObject({ received: 1, skipped: 1, replayed: 0, failed: 0 });
      expect(await objectExists(harness.s3, "dev-bucket", key)).toBe(false);

      const real = await redrive(false);
      expect(real).toEqual({ received: 1, replayed: 1, skipped: 0, failed: 0, failures: [] });
      expect((await readObject(harness.s3, "dev-bucket", key))?.body).toBe("payload");
      expect(await peekQueue(harness.sqs, harness.dlqUrl)).toEqual([]);
    },
  );

  it("reports stream records whose retryable failures outlast the SDK's retries", async () => {
    const item = { ...itemKeys("fault#exhausted", "x"), n: { N: "1" } };
    await putSourceItem(harness.dynamodb, item);
    harness.dynamodbProxy.setDecider(toTable("staging-table", "dynamodb-throttling"));
    const record = streamRecord({
      table: SOURCE.table,
      eventName: "INSERT",
      keys: itemKeys("fault#exhausted", "x"),
      sequenceNumber: nextStreamSequence(),
      eventID: "exhausted-1",
    });
    await expect(harness.bundle.handler(streamEvent([record]))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: "exhausted-1" }],
    });
    expect(
      await readItem(harness.dynamodb, "dev-table", itemKeys("fault#exhausted", "x")),
    ).toMatchObject(item);
    expect(await peekQueue(harness.sqs, harness.dlqUrl)).toEqual([]);
    // The event source mapping retries the record; dev skips it, staging now gets it.
    harness.dynamodbProxy.setDecider(() => undefined);
    await expect(harness.bundle.handler(streamEvent([record]))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(
      await readItem(harness.dynamodb, "staging-table", itemKeys("fault#exhausted", "x")),
    ).toMatchObject(item);
  });

  it("dead-letters a stream record that fails permanently on one target, and redrive converges", async () => {
    const item = { ...itemKeys("fault#denied", "x"), n: { N: "1" } };
    await putSourceItem(harness.dynamodb, item);
    harness.dynamodbProxy.setDecider(toTable("dev-table", "dynamodb-access-denied"));
    const record = streamRecord({
      table: SOURCE.table,
      eventName: "INSERT",
      keys: itemKeys("fault#denied", "x"),
      sequenceNumber: nextStreamSequence(),
    });
    await expect(harness.bundle.handler(streamEvent([record]))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(await peekQueue(harness.sqs, harness.dlqUrl)).toEqual([
      expect.objectContaining({
        reason: "target-failed",
        source: "dynamodb-stream",
        event: record,
        target: TARGETS[0],
        error: expect.objectContaining({ name: "AccessDeniedException" }) as unknown,
      }),
    ]);
    harness.dynamodbProxy.setDecider(() => undefined);
    await expect(redrive(false)).resolves.toMatchObject({ replayed: 1, failed: 0 });
    expect(
      await readItem(harness.dynamodb, "dev-table", itemKeys("fault#denied", "x")),
    ).toMatchObject(item);
  });
});

/** The redrive command's core, from the TypeScript source, configured by the same environment. */
async function redrive(dryRun: boolean) {
  const config = readContract(process.env);
  const clients = createClients(config);
  try {
    return await runRedrive(
      { queueUrl: harness.dlqUrl, dryRun, maxMessages: undefined },
      { sqs: clients.sqs, replicator: createReplicator(config, clients), targets: config.targets },
    );
  } finally {
    clients.s3.destroy();
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  }
}
