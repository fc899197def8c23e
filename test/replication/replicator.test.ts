/** The convergence core (lib/replication/replicator.ts) with mocked SDK clients per region. */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CopyObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationClients } from "../../lib/replication/clients";
import type { ItemChange, ObjectChange } from "../../lib/replication/events";
import { logger } from "../../lib/replication/logger";
import { MAX_CONFLICT_ROUNDS, readSourceObject } from "../../lib/replication/objects";
import { createReplicator } from "../../lib/replication/replicator";
import { createMasker, maskItem } from "../../lib/replication/masking";
import {
  ITEM_MASKING_ATTRIBUTE,
  ITEM_SEQUENCE_ATTRIBUTE,
  paddedStreamSequence,
} from "../../lib/replication/sequence";
import { itemKeys, streamSequenceAt } from "../../tools/emulators/events";
import { settings } from "../support/settings";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };

/** One mocked S3 and DynamoDB client per region, as createClients would give. */
function regionalClients() {
  const s3 = new Map(
    ["us-east-1", "eu-west-1"].map((region) => [region, new S3Client({ region, credentials })]),
  );
  const dynamodb = new Map(
    ["us-east-1", "eu-west-1"].map((region) => [
      region,
      new DynamoDBClient({ region, credentials }),
    ]),
  );
  const pick = <C>(map: Map<string, C>, region: string): C => {
    const found = map.get(region);
    if (found === undefined) throw new Error(`no client for ${region}`);
    return found;
  };
  const clients: ReplicationClients = {
    region: "us-east-1",
    s3: (region = "us-east-1") => pick(s3, region),
    dynamodb: (region = "us-east-1") => pick(dynamodb, region),
    sqs: new SQSClient({ region: "us-east-1", credentials }),
    destroy: () => undefined,
  };
  const home = mockClient(pick(s3, "us-east-1"));
  const away = mockClient(pick(s3, "eu-west-1"));
  // No tags anywhere unless a test says otherwise.
  home.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  away.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  return {
    clients,
    s3: { home, away },
    dynamodb: {
      home: mockClient(pick(dynamodb, "us-east-1")),
      away: mockClient(pick(dynamodb, "eu-west-1")),
    },
  };
}

/** The function region's S3 client. */
const pickS3 = (clients: ReplicationClients): S3Client => clients.s3();

const notFound = new S3ServiceException({
  name: "NotFound",
  message: "NotFound",
  $fault: "client",
  $metadata: { httpStatusCode: 404 },
});

const objectChange: ObjectChange = {
  kind: "object",
  eventId: "e-1",
  bucket: "prod-bucket",
  key: "k.txt",
  sequencer: "0A",
  time: undefined,
  description: "Object Created",
};

const itemChange: ItemChange = {
  kind: "item",
  eventId: "r-1",
  eventName: "MODIFY",
  table: "prod-table",
  keys: itemKeys("user#1", "profile"),
  sequenceNumber: streamSequenceAt(7),
  time: undefined,
};

beforeEach(() => {
  logger.setLogLevel("SILENT");
});

describe("replicateObject", () => {
  it("reads the source once in the function's region and writes each target in its own region", async () => {
    const { clients, s3 } = regionalClients();
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolves({ ETag: '"s"', ContentLength: 1 });
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.away.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    s3.away.on(CopyObjectCommand).resolves({});

    const results = await createReplicator(settings, clients).replicateObject(objectChange);

    expect(results.map((r) => [r.target.environment, r.ok && r.action])).toEqual([
      ["dev", "copied"],
      ["staging", "copied"],
    ]);
    // Read once for every target, then once more, for every target, to check the source still
    // held what was written (its contents and its tags).
    expect(s3.home.commandCalls(HeadObjectCommand, { Bucket: "prod-bucket" })).toHaveLength(2);
    expect(s3.home.commandCalls(GetObjectTaggingCommand, { Bucket: "prod-bucket" })).toHaveLength(
      2,
    );
    // dev is in eu-west-1: its copy (from the us-east-1 source) goes to eu-west-1's endpoint.
    expect(s3.away).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: "dev-bucket",
      CopySource: "prod-bucket/k.txt",
    });
    expect(s3.home).toHaveReceivedCommandWith(CopyObjectCommand, { Bucket: "staging-bucket" });
    expect(s3.away).not.toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: "prod-bucket" });
  });

  it("converges the targets that wrote again when the source moved on during the writes", async () => {
    const { clients, s3 } = regionalClients();
    // The source is rewritten (same body, other metadata: another fingerprint) after the first
    // read: the check reads the new state, and both targets copy it.
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolvesOnce({ ETag: '"s"', ContentLength: 1, Metadata: { v: "1" } })
      .resolves({ ETag: '"s"', ContentLength: 1, Metadata: { v: "2" } });
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.away.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    s3.away.on(CopyObjectCommand).resolves({});

    const results = await createReplicator(settings, clients).replicateObject(objectChange);

    expect(results.map((r) => [r.target.environment, r.ok && r.action])).toEqual([
      ["dev", "copied"],
      ["staging", "copied"],
    ]);
    expect(s3.away.commandCalls(CopyObjectCommand)).toHaveLength(2);
    expect(s3.home.commandCalls(CopyObjectCommand)).toHaveLength(2);
    // First read, the check that found it moved, the check that found it settled.
    expect(s3.home.commandCalls(HeadObjectCommand, { Bucket: "prod-bucket" })).toHaveLength(3);
  });

  it("writes again after a late copy of an older state with the same ETag, though the replica records this change", async () => {
    // Issue 16, defect 1: the change's copy of state S1 lands after S2's (same body, so the same
    // ETag: CopySourceIfMatch and IfMatch both hold). The check reads S2; the replica records
    // this change's own sequencer, and must be written all the same.
    const { clients, s3 } = regionalClients();
    const s1 = { ETag: '"x"', ContentLength: 1, Metadata: { v: "1" } };
    const s2 = { ETag: '"x"', ContentLength: 1, Metadata: { v: "2" } };
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolvesOnce(s1).resolves(s2);
    const replicator = createReplicator(
      { ...settings, targets: settings.targets.slice(1) },
      clients,
    );
    const first = await readSourceObject(pickS3(clients), "prod-bucket", "k.txt");
    s3.home
      .on(HeadObjectCommand, { Bucket: "staging-bucket" })
      .rejectsOnce(notFound)
      .resolves({
        ETag: '"x"',
        Metadata: {
          v: "1",
          "replication-sequencer": objectChange.sequencer ?? "",
          "replication-source": first?.fingerprint ?? "",
        },
      });
    s3.home.on(CopyObjectCommand).resolves({});
    s3.home.resetHistory();
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolvesOnce(s1).resolves(s2);

    const results = await replicator.replicateObject(objectChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["copied"]);
    const written = s3.home.commandCalls(CopyObjectCommand).map((c) => c.args[0].input.Metadata?.v);
    expect(written).toEqual(["1", "2"]);
  });

  it("sets the tags again when they changed during the copy (the check compares tags too)", async () => {
    // Issue 16, defect 2: the copy wrote the tags read with the state; the source's tags changed
    // before the check, which sees the same contents and other tags.
    const { clients, s3 } = regionalClients();
    const head = { ETag: '"s"', ContentLength: 1 };
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves(head);
    s3.home
      .on(GetObjectTaggingCommand, { Bucket: "prod-bucket" })
      .resolvesOnce({ TagSet: [{ Key: "a", Value: "1" }] })
      .resolves({ TagSet: [{ Key: "a", Value: "2" }] });
    const current = await readSourceObject(pickS3(clients), "prod-bucket", "k.txt");
    s3.home.resetHistory();
    s3.home
      .on(GetObjectTaggingCommand, { Bucket: "prod-bucket" })
      .resolvesOnce({ TagSet: [{ Key: "a", Value: "1" }] })
      .resolves({ TagSet: [{ Key: "a", Value: "2" }] });
    s3.home
      .on(HeadObjectCommand, { Bucket: "staging-bucket" })
      .rejectsOnce(notFound)
      .resolves({ ETag: '"s"', Metadata: { "replication-source": current?.fingerprint ?? "" } });
    s3.home
      .on(GetObjectTaggingCommand, { Bucket: "staging-bucket" })
      .resolves({ TagSet: [{ Key: "a", Value: "1" }] });
    s3.home.on(CopyObjectCommand).resolves({});
    s3.home.on(PutObjectTaggingCommand).resolves({});
    const replicator = createReplicator(
      { ...settings, targets: settings.targets.slice(1) },
      clients,
    );

    const results = await replicator.replicateObject(objectChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["tagged"]);
    expect(s3.home).toHaveReceivedCommandWith(CopyObjectCommand, { Tagging: "a=1" });
    expect(s3.home).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      Bucket: "staging-bucket",
      Tagging: { TagSet: [{ Key: "a", Value: "2" }] },
    });
  });

  it("fails the writers (retryable) when the source is still moving after the bounded rounds: never replicated while a late write may stand", async () => {
    const { clients, s3 } = regionalClients();
    let version = 0;
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .callsFake(() => ({ ETag: '"s"', ContentLength: 1, Metadata: { v: String(++version) } }));
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    const replicator = createReplicator(
      { ...settings, targets: settings.targets.slice(1) },
      clients,
    );

    const results = await replicator.replicateObject(objectChange);

    expect(results).toEqual([
      expect.objectContaining({
        ok: false,
        retryable: true,
        error: expect.objectContaining({ name: "SourceKeptChangingError" }) as unknown,
      }),
    ]);
    expect(s3.home.commandCalls(CopyObjectCommand)).toHaveLength(MAX_CONFLICT_ROUNDS + 1);
  });

  it("fails the targets that wrote when the check of the source fails, and reads nothing when none wrote", async () => {
    const { clients, s3 } = regionalClients();
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolvesOnce({ ETag: '"s"', ContentLength: 1 })
      .rejects(
        Object.assign(new Error("slow down"), {
          name: "SlowDown",
          $metadata: { httpStatusCode: 503 },
        }),
      );
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.away.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    s3.away.on(CopyObjectCommand).resolves({});

    const results = await createReplicator(settings, clients).replicateObject(objectChange);

    expect(results.map((r) => [r.target.environment, !r.ok && r.error.name])).toEqual([
      ["dev", "SlowDown"],
      ["staging", "SlowDown"],
    ]);

    const quiet = regionalClients();
    quiet.s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).rejects(notFound);
    quiet.s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    quiet.s3.away.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(notFound);
    const absent = await createReplicator(settings, quiet.clients).replicateObject(objectChange);

    expect(absent.map((r) => r.ok && r.action)).toEqual(["absent", "absent"]);
    expect(quiet.s3.home.commandCalls(HeadObjectCommand, { Bucket: "prod-bucket" })).toHaveLength(
      1,
    );
  });

  it("converges an event's key as given and as its form-URL decoding: right whichever S3 sent", async () => {
    const { clients, s3 } = regionalClients();
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket", Key: "a b.txt" })
      .resolves({ ETag: '"s"' });
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket", Key: "a+b.txt" }).rejects(notFound);
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    const staging = settings.targets.slice(1);

    const results = await createReplicator(settings, clients).replicateObject(
      { ...objectChange, key: "a+b.txt", keyAsGiven: true },
      { targets: staging },
    );

    expect(results.map((r) => r.ok && r.action)).toEqual(["copied"]);
    expect(s3.home).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: "staging-bucket",
      Key: "a b.txt",
    });
    expect(s3.home).not.toHaveReceivedCommandWith(CopyObjectCommand, { Key: "a+b.txt" });
  });

  it("serves only the targets asked for", async () => {
    const { clients, s3 } = regionalClients();
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves({ ETag: '"s"' });
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.home.on(CopyObjectCommand).resolves({});
    const staging = settings.targets.slice(1);

    const results = await createReplicator(settings, clients).replicateObject(objectChange, {
      targets: staging,
    });

    expect(results.map((r) => r.target.environment)).toEqual(["staging"]);
    expect(s3.away).not.toHaveReceivedAnyCommand();
  });

  it("fails every target, retryably or not as the SDK classes it, when the source cannot be read", async () => {
    const { clients, s3 } = regionalClients();
    s3.home.on(HeadObjectCommand, { Bucket: "prod-bucket" }).rejects(
      Object.assign(new Error("slow down"), {
        name: "SlowDown",
        $metadata: { httpStatusCode: 503, attempts: 3 },
      }),
    );
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.away.on(HeadObjectCommand).rejects(notFound);

    const results = await createReplicator(settings, clients).replicateObject(objectChange);

    expect(results).toEqual([
      expect.objectContaining({
        ok: false,
        error: { name: "SlowDown", message: "slow down" },
        attempts: 3,
        retryable: true,
      }),
      expect.objectContaining({ ok: false, retryable: true }),
    ]);
    expect(s3.home).not.toHaveReceivedCommand(CopyObjectCommand);
  });

  it("marks a change that cannot be applied as it stands with its reason", async () => {
    const { clients, s3 } = regionalClients();
    s3.home
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolves({ ETag: '"s"', Metadata: { big: "x".repeat(2100) } });
    s3.home.on(HeadObjectCommand, { Bucket: "staging-bucket" }).rejects(notFound);
    s3.away.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(notFound);

    const results = await createReplicator(settings, clients).replicateObject(objectChange);

    expect(results.map((r) => !r.ok && [r.reason, r.retryable])).toEqual([
      ["metadata-too-large", false],
      ["metadata-too-large", false],
    ]);
  });
});

describe("replicateItem", () => {
  it("reads the source item once (consistent) and writes each target table in its region", async () => {
    const { clients, dynamodb } = regionalClients();
    const item = { ...itemKeys("user#1", "profile"), name: { S: "Ada" } };
    dynamodb.home.on(GetItemCommand).resolves({ Item: item });
    dynamodb.home.on(PutItemCommand).resolves({});
    dynamodb.away.on(PutItemCommand).resolves({});

    const results = await createReplicator(settings, clients).replicateItem(itemChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["put", "put"]);
    expect(dynamodb.home).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(dynamodb.home).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: "prod-table",
      ConsistentRead: true,
    });
    expect(dynamodb.away).toHaveReceivedCommandWith(PutItemCommand, { TableName: "dev-table" });
    expect(dynamodb.home).toHaveReceivedCommandWith(PutItemCommand, { TableName: "staging-table" });
  });

  it("deletes from every target when the source no longer has the item", async () => {
    const { clients, dynamodb } = regionalClients();
    dynamodb.home.on(GetItemCommand).resolves({});
    dynamodb.home.on(DeleteItemCommand).resolves({});
    dynamodb.away.on(DeleteItemCommand).resolves({});

    const results = await createReplicator(settings, clients).replicateItem(itemChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["deleted", "deleted"]);
  });

  describe("a replay (redrive), outside the stream's order", () => {
    const item = { ...itemKeys("user#1", "profile"), name: { S: "Ada" } };
    const ours = { S: paddedStreamSequence(itemChange.sequenceNumber) };

    it("reads the source again after its puts, and keeps them while the item is there", async () => {
      const { clients, dynamodb } = regionalClients();
      dynamodb.home.on(GetItemCommand).resolves({ Item: item });
      dynamodb.home.on(PutItemCommand).resolves({});
      dynamodb.away.on(PutItemCommand).resolves({});

      const results = await createReplicator(settings, clients).replicateItem(itemChange, {
        replay: true,
      });

      expect(results.map((r) => r.ok && r.action)).toEqual(["put", "put"]);
      expect(dynamodb.home).toHaveReceivedCommandTimes(GetItemCommand, 2);
      expect(dynamodb.home).not.toHaveReceivedCommand(DeleteItemCommand);
      expect(dynamodb.away).not.toHaveReceivedCommand(DeleteItemCommand);
    });

    it("takes back each put whose key is gone, only where the replica still holds it", async () => {
      const { clients, dynamodb } = regionalClients();
      dynamodb.home.on(GetItemCommand).resolvesOnce({ Item: item }).resolves({});
      dynamodb.home.on(PutItemCommand).resolves({});
      dynamodb.away.on(PutItemCommand).resolves({});
      dynamodb.away.on(DeleteItemCommand).resolves({});
      // staging holds a newer change by now: the condition fails and it is kept.
      dynamodb.home
        .on(DeleteItemCommand)
        .rejects(new ConditionalCheckFailedException({ message: "newer", $metadata: {} }));

      const results = await createReplicator(settings, clients).replicateItem(itemChange, {
        replay: true,
      });

      expect(results.map((r) => r.ok && [r.target.environment, r.action])).toEqual([
        ["dev", "deleted"],
        ["staging", "skipped"],
      ]);
      const withdrawal = {
        Key: itemChange.keys,
        ConditionExpression: "#seq = :seen",
        ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
        ExpressionAttributeValues: { ":seen": ours },
      };
      expect(dynamodb.away).toHaveReceivedCommandWith(DeleteItemCommand, {
        TableName: "dev-table",
        ...withdrawal,
      });
      expect(dynamodb.home).toHaveReceivedCommandWith(DeleteItemCommand, {
        TableName: "staging-table",
        ...withdrawal,
      });
    });

    it("fails the targets it put when the source cannot be read again (the message stays)", async () => {
      const { clients, dynamodb } = regionalClients();
      dynamodb.home
        .on(GetItemCommand)
        .resolvesOnce({ Item: item })
        .rejects(
          Object.assign(new Error("slow down"), {
            name: "ThrottlingException",
            $metadata: { httpStatusCode: 400 },
          }),
        );
      dynamodb.home.on(PutItemCommand).resolves({});
      dynamodb.away.on(PutItemCommand).resolves({});

      const results = await createReplicator(settings, clients).replicateItem(itemChange, {
        replay: true,
      });

      expect(results.map((r) => !r.ok && [r.target.environment, r.error.name])).toEqual([
        ["dev", "ThrottlingException"],
        ["staging", "ThrottlingException"],
      ]);
    });

    it("writes what the source holds now when it changed between the replay's read and its put", async () => {
      const { clients, dynamodb } = regionalClients();
      const newer = { ...item, name: { S: "Grace" } };
      dynamodb.home.on(GetItemCommand).resolvesOnce({ Item: item }).resolves({ Item: newer });
      dynamodb.home.on(PutItemCommand).resolves({});
      dynamodb.away.on(PutItemCommand).resolves({});
      const replicator = createReplicator(
        { ...settings, targets: settings.targets.slice(1) },
        clients,
      );

      const results = await replicator.replicateItem(itemChange, { replay: true });

      expect(results.map((r) => r.ok && r.action)).toEqual(["put"]);
      const puts = dynamodb.home.commandCalls(PutItemCommand).map((c) => c.args[0].input);
      expect(puts.map((put) => put.Item?.name)).toEqual([{ S: "Ada" }, { S: "Grace" }]);
      expect(puts[1]).toMatchObject({
        ConditionExpression: "#seq = :seen",
        ExpressionAttributeValues: { ":seen": ours },
      });
    });

    it("reads nothing more on the live path, or when the replay wrote nothing", async () => {
      const { clients, dynamodb } = regionalClients();
      dynamodb.home.on(GetItemCommand).resolves({ Item: item });
      dynamodb.home.on(PutItemCommand).resolves({});
      dynamodb.away.on(PutItemCommand).resolves({});
      await createReplicator(settings, clients).replicateItem(itemChange);
      expect(dynamodb.home).toHaveReceivedCommandTimes(GetItemCommand, 1);

      dynamodb.home.reset();
      dynamodb.away.reset();
      dynamodb.home.on(GetItemCommand).resolves({});
      // Both replicas record a newer change and are gone already: nothing to write.
      dynamodb.home
        .on(DeleteItemCommand)
        .rejects(new ConditionalCheckFailedException({ message: "newer", $metadata: {} }));
      dynamodb.away
        .on(DeleteItemCommand)
        .rejects(new ConditionalCheckFailedException({ message: "newer", $metadata: {} }));
      const results = await createReplicator(settings, clients).replicateItem(itemChange, {
        replay: true,
      });
      expect(results.map((r) => r.ok && r.action)).toEqual(["skipped", "skipped"]);
      expect(dynamodb.home).toHaveReceivedCommandTimes(GetItemCommand, 1);
    });
  });

  it("fails every target when the source cannot be read", async () => {
    const { clients, dynamodb } = regionalClients();
    dynamodb.home.on(GetItemCommand).rejects(
      Object.assign(new Error("denied"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const results = await createReplicator(settings, clients).replicateItem(itemChange);

    expect(results.map((r) => !r.ok && r.error.name)).toEqual([
      "AccessDeniedException",
      "AccessDeniedException",
    ]);
    expect(dynamodb.away).not.toHaveReceivedAnyCommand();
  });
});

describe("replicateItem with masking", () => {
  const rules = {
    items: { pk: "hash", email: "email" },
    objects: [],
    unmaskedTargets: ["staging"],
  } as const;
  const masker = createMasker(
    { items: { ...rules.items }, objects: [], unmaskedTargets: [...rules.unmaskedTargets] },
    new TextEncoder().encode("k".repeat(32)),
  );
  const masking = {
    rules: masker.rules,
    masks: (target: { environment: string }) => target.environment !== "staging",
    masker: () => Promise.resolve(masker),
  };
  const item = { ...itemKeys("user#1", "profile"), email: { S: "ada@example.com" } };

  it("writes a masked target the masked item, under its masked key, with the masking version; an unmasked one the item", async () => {
    const { clients, dynamodb } = regionalClients();
    dynamodb.home.on(GetItemCommand).resolves({ Item: item });
    dynamodb.home.on(PutItemCommand).resolves({});
    dynamodb.away.on(PutItemCommand).resolves({});

    const results = await createReplicator(settings, clients, masking).replicateItem(itemChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["put", "put"]);
    const dev = dynamodb.away.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    expect(dev).toEqual({
      pk: { S: masker.text("user#1", "hash") },
      sk: { S: "profile" },
      email: { S: masker.text("ada@example.com", "email") },
      [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(itemChange.sequenceNumber) },
      [ITEM_MASKING_ATTRIBUTE]: { S: masker.version },
    });
    expect(JSON.stringify(dev)).not.toContain("ada@example.com");
    expect(JSON.stringify(dev)).not.toContain("user#1");
    const staging = dynamodb.home.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    expect(staging?.email).toEqual({ S: "ada@example.com" });
  });

  it("deletes the replica under its masked key", async () => {
    const { clients, dynamodb } = regionalClients();
    dynamodb.home.on(GetItemCommand).resolves({});
    dynamodb.home.on(DeleteItemCommand).resolves({});
    dynamodb.away.on(DeleteItemCommand).resolves({});

    await createReplicator(settings, clients, masking).replicateItem(itemChange);

    expect(dynamodb.away).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: { pk: { S: masker.text("user#1", "hash") }, sk: { S: "profile" } },
    });
  });

  it("costs no write for a redelivered change: the masked item is what the replica holds", async () => {
    const { clients, dynamodb } = regionalClients();
    dynamodb.home.on(GetItemCommand).resolves({ Item: item });
    dynamodb.home.on(PutItemCommand).resolves({});
    const held = {
      ...maskItem(masker, item),
      [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(itemChange.sequenceNumber) },
      [ITEM_MASKING_ATTRIBUTE]: { S: masker.version },
    };
    dynamodb.away
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: "no", $metadata: {}, Item: held }));

    const results = await createReplicator(settings, clients, masking).replicateItem(itemChange);

    expect(results.map((r) => r.ok && r.action)).toEqual(["skipped", "put"]);
    expect(dynamodb.away).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });
});
