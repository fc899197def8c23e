/**
 * The proof of issue 17 on the emulators: prod holds generated personal data (names, addresses,
 * phone numbers, card-like numbers, free text quoting an address) in items (an address as the
 * hash key) and in JSON, JSON Lines and CSV objects, their user metadata and tags; the stack
 * masks it (hash, email, redact, drop). Every way a change reaches dev and staging runs: live
 * changes, a redrive of dead letters (an object and an item whose key is masked), a resync of data
 * that predates replication, and S3 Batch Operations tasks. Then every byte the targets hold
 * (bodies, metadata, tags, every attribute), every line the function and the operator tools
 * printed (logs, EMF metric documents) and every DLQ message is searched for every raw value (as
 * written, JSON-escaped and URL-encoded): none is found. A second resync and a redelivered event
 * write nothing.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PutItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { logger } from "../../lib/replication/logger";
import {
  MASKED_EMAIL_DOMAIN,
  REDACTED,
  createMasker,
  maskItem,
  type MaskingRules,
  type MaskingStrategy,
} from "../../lib/replication/masking";
import { ITEM_MASKING_ATTRIBUTE } from "../../lib/replication/sequence";
import { STREAM_RETENTION_MS } from "../../tools/emulators/dynamodb-stream";
import { EMULATOR_CREDENTIALS } from "../../tools/emulators/emulators";
import { batchOperationsEvent, streamEvent, streamRecord } from "../../tools/emulators/events";
import type { ProxiedRequest } from "../../tools/emulators/fault-proxy";
import { seededRandom } from "../../tools/emulators/lambda-async";
import { listAllObjects, scanAllItems } from "../../tools/emulators/inventory";
import type { InvocationLogs } from "../../tools/emulators/lambda-host";
import {
  SOURCE,
  TARGETS,
  counting,
  listQueue,
  objectTags,
  putSourceItem,
  putSourceObject,
  readObject,
  redrive,
  resync,
  startHarness,
  type Harness,
  type Item,
} from "../support/replication-harness";

/** The masking secret's value (at least 32 bytes). */
const KEY = "issue-17-proof-masking-key-0123456789abcdef";

const PERSON_FIELDS: Readonly<Record<string, MaskingStrategy>> = {
  name: "hash",
  email: "email",
  phone: "redact",
  card: "drop",
  notes: "redact",
};
const METADATA: Readonly<Record<string, MaskingStrategy>> = {
  "owner-email": "email",
  "owner-name": "hash",
  "owner-card": "drop",
};
const TAGS: Readonly<Record<string, MaskingStrategy>> = {
  owner: "email",
  contact: "hash",
  phone: "redact",
};
const RULES: MaskingRules = {
  items: {
    // The hash key is an address: hashed, so replicas have other keys (and dead letters seal them).
    pk: "hash",
    name: "hash",
    email: "email",
    phone: "redact",
    card: "drop",
    notes: "redact",
    "contacts[*].email": "email",
    "profile.phone": "redact",
  },
  objects: [
    {
      prefix: "people/json/",
      format: "json",
      fields: Object.fromEntries(
        Object.entries(PERSON_FIELDS).map(([field, strategy]) => [`people[*].${field}`, strategy]),
      ),
      metadata: METADATA,
      tags: TAGS,
    },
    {
      prefix: "people/jsonl/",
      format: "jsonl",
      fields: PERSON_FIELDS,
      metadata: METADATA,
      tags: TAGS,
    },
    { prefix: "people/csv/", format: "csv", fields: PERSON_FIELDS, metadata: METADATA, tags: TAGS },
  ],
  unmaskedTargets: [],
};
const masker = createMasker(RULES, Buffer.from(KEY, "utf8"));

interface Person {
  readonly name: string;
  readonly last: string;
  readonly email: string;
  readonly phone: string;
  readonly card: string;
  readonly notes: string;
}

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Niklaus"];
const LAST = [
  "Quillfeather",
  "Brackenridge",
  "Thistlewood",
  "Marrowbone",
  "Ashcombe",
  "Pennywhistle",
  "Larkspurr",
  "Oakhollow",
  "Wintermere",
  "Fenwickley",
];
const DOMAINS = ["mail-proof.test", "Example-Corp.test", "post.proof.test"];

/** Generated people (seeded: the same every run); distinct last names, so each is findable. */
function people(count: number, seed: number): Person[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const digits = (n: number) =>
    Array.from({ length: n }, () => String(Math.floor(random() * 10))).join("");
  return Array.from({ length: count }, (_unused, index) => {
    const first = pick(FIRST);
    const last = LAST[index % LAST.length] ?? "Nobody";
    const email = `${first}.${last}${digits(2)}@${pick(DOMAINS)}`;
    const phone = `+1 555-${digits(3)}-${digits(4)}`;
    const card = `4${digits(3)}-${digits(4)}-${digits(4)}-${digits(4)}`;
    return {
      name: `${first} O'${last}`,
      last,
      email,
      phone,
      card,
      // Quotes, a comma and a backslash: the JSON-escaped and CSV-quoted forms differ from the raw.
      notes: `Call "${first}" at ${email}, or ${phone}; card ${card} \\ ok`,
    };
  });
}

const PEOPLE = people(10, 17);
const person = (index: number): Person => {
  const found = PEOPLE[index];
  if (found === undefined) throw new Error(`no person ${String(index)}`);
  return found;
};

/** Every raw value, and the parts of one a partial mask could leave. */
const RAW_VALUES: readonly string[] = PEOPLE.flatMap((p) => [
  p.name,
  p.last,
  p.email,
  p.email.toLowerCase(),
  p.email.split("@")[0] ?? p.email,
  p.phone,
  p.card,
  p.notes,
]);

/** The forms a raw value may take in a document, a log line or a URL. */
const forms = (value: string): string[] => [
  ...new Set([
    value,
    JSON.stringify(value).slice(1, -1),
    JSON.stringify(JSON.stringify(value)).slice(1, -1),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, "+"),
  ]),
];

/** The raw values found in `text` (in any form), for a message naming them. */
function leaks(where: string, text: string): string[] {
  return RAW_VALUES.flatMap((value) =>
    forms(value)
      .filter((form) => text.includes(form))
      .map((form) => `${where}: ${JSON.stringify(form)}`),
  );
}

const itemOf = (p: Person, sk: string, contact: Person): Item => ({
  pk: { S: p.email },
  sk: { S: sk },
  name: { S: p.name },
  email: { S: p.email },
  phone: { S: p.phone },
  card: { S: p.card },
  notes: { S: p.notes },
  contacts: { L: [{ M: { email: { S: contact.email }, label: { S: "friend" } } }] },
  profile: { M: { phone: { S: p.phone }, city: { S: "Springfield" } } },
  visits: { N: "3" },
});

const record = (p: Person) => ({
  name: p.name,
  email: p.email,
  phone: p.phone,
  card: p.card,
  notes: p.notes,
  city: "Springfield",
});
const jsonDocument = (list: readonly Person[]) => JSON.stringify({ people: list.map(record) });
const jsonLines = (list: readonly Person[]) =>
  list.map((p) => JSON.stringify(record(p))).join("\n") + "\n";
const csvCell = (value: string) =>
  /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
const csv = (list: readonly Person[], upperCaseEmail = false) =>
  ["name,email,phone,card,notes,city"]
    .concat(
      list.map((p) =>
        [
          p.name,
          upperCaseEmail ? p.email.toUpperCase() : p.email,
          p.phone,
          p.card,
          p.notes,
          "Springfield",
        ]
          .map(csvCell)
          .join(","),
      ),
    )
    .join("\n") + "\n";

/** User metadata and tags naming `p`, as the rules name them. */
const labels = (p: Person) => ({
  Metadata: { "owner-email": p.email, "owner-name": p.name, "owner-card": p.card, batch: "b1" },
  Tagging: new URLSearchParams({
    owner: p.email,
    contact: p.name.replace("'", " "),
    phone: p.phone,
    tier: "gold",
  }).toString(),
});

/** Objects that predate replication (reach the targets by the resync), then the live ones. */
const EXISTING_OBJECTS = [
  {
    key: "people/json/existing.json",
    body: jsonDocument([person(6), person(7)]),
    type: "application/json",
    owner: person(6),
  },
  { key: "people/csv/existing.csv", body: csv([person(8)]), type: "text/csv", owner: person(8) },
];
const LIVE_OBJECTS = [
  {
    key: "people/json/batch-1.json",
    body: jsonDocument([person(0), person(1)]),
    type: "application/json",
    owner: person(0),
  },
  {
    key: "people/jsonl/batch-1.jsonl",
    body: jsonLines([person(0), person(2), person(3)]),
    type: "application/x-ndjson",
    owner: person(2),
  },
  // Person 0's address in upper case: masked as the same pseudonym.
  {
    key: "people/csv/batch-1.csv",
    body: csv([person(0), person(4)], true),
    type: "text/csv",
    owner: person(4),
  },
];
/** Dead-lettered for staging (access denied), then redriven. */
const DEAD_OBJECT = {
  key: "people/jsonl/dead.jsonl",
  body: jsonLines([person(5)]),
  type: "application/x-ndjson",
  owner: person(5),
};
const EXISTING_ITEMS = [
  itemOf(person(6), "profile", person(7)),
  itemOf(person(8), "profile", person(6)),
];
const LIVE_ITEMS = [0, 1, 2, 3, 4].map((n) => itemOf(person(n), "profile", person((n + 1) % 5)));
const DEAD_ITEM = itemOf(person(5), "dead-letter", person(0));

let harness: Harness;
/** Writes the function (and the in-process operator tools) send to a target. */
const TARGET_BUCKETS = TARGETS.map((target) => `/${target.bucket}/`);
const TARGET_TABLES: readonly string[] = TARGETS.map((target) => target.table);
const isTargetWrite = (request: ProxiedRequest): boolean =>
  (["PUT", "POST", "DELETE"].includes(request.method) &&
    TARGET_BUCKETS.some((prefix) => request.url.startsWith(prefix))) ||
  (request.table !== undefined &&
    TARGET_TABLES.includes(request.table) &&
    /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)$/.test(
      request.operation ?? "",
    ));
const s3Writes = counting(isTargetWrite, (request) =>
  request.method === "PUT" && request.url.startsWith(`/staging-bucket/${DEAD_OBJECT.key}`) && faulty
    ? "s3-access-denied"
    : undefined,
);
const dynamodbWrites = counting(isTargetWrite, (request) =>
  faulty && request.table === "staging-table" && request.body.includes('"dead-letter"')
    ? "dynamodb-access-denied"
    : undefined,
);
const writes = () => s3Writes.count() + dynamodbWrites.count();
let faulty = false;

/** Every line the function printed (host invocations) and the in-process tools logged. */
const printed: string[] = [];
const collect = (logs: InvocationLogs): void => {
  printed.push(...logs.stdout, ...logs.stderr);
};
/** Every DLQ message body and attribute seen (before the redrive consumed them). */
const letters: string[] = [];
/** EventBridge events the rule received (to deliver one again). */
const events: unknown[] = [];

/** Runs `work` with the in-process logger at DEBUG, keeping what it writes. */
async function capturing<T>(work: () => Promise<T>): Promise<T> {
  const writes = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    const keep = (chunk: string | Uint8Array): boolean => {
      printed.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    };
    stream.write = keep;
    return () => {
      stream.write = original;
    };
  });
  logger.setLogLevel("DEBUG");
  try {
    return await work();
  } finally {
    logger.setLogLevel("SILENT");
    for (const restore of writes) restore();
  }
}

beforeAll(async () => {
  logger.setLogLevel("SILENT");
  harness = await startHarness({
    masking: { rules: RULES, key: KEY },
    contract: { retryBaseDelayMs: 2, maxAttempts: 2, logLevel: "DEBUG" },
    faults: { s3: s3Writes.decider, dynamodb: dynamodbWrites.decider },
    beforeReplication: async (pipeline) => {
      const clients = pipeline.clients[SOURCE.region];
      if (clients === undefined) throw new Error("no source clients");
      for (const object of EXISTING_OBJECTS) {
        await clients.s3.send(
          new PutObjectCommand({
            Bucket: SOURCE.bucket,
            Key: object.key,
            Body: object.body,
            ContentType: object.type,
            ...labels(object.owner),
          }),
        );
      }
      for (const item of EXISTING_ITEMS) {
        await clients.dynamodb.send(new PutItemCommand({ TableName: SOURCE.table, Item: item }));
      }
      // Written over a day ago: no stream record of them is left.
      pipeline.stream?.ageRecords(STREAM_RETENTION_MS + 60_000);
    },
  });
  harness.pipeline.s3Events?.onEvent((event) => {
    events.push(event);
  });
});
afterAll(async () => {
  await harness.stop();
});

const allReports = (): InvocationLogs[] => [
  ...harness.rule.report().invocations.map((invocation) => invocation.logs),
  ...harness.mapping.report().invocations.map((invocation) => invocation.logs),
];

const streams = () =>
  new DynamoDBStreamsClient({
    region: SOURCE.region,
    endpoint: harness.environment.AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
    credentials: { ...EMULATOR_CREDENTIALS },
  });

/** Every target's contents as text: object bodies, metadata, tags, content types; every item. */
async function targetTexts(): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const target of TARGETS) {
    const { s3, dynamodb } = harness.clientsOf(target.environment);
    for await (const object of listAllObjects(s3, target.bucket)) {
      const key = object.Key ?? "";
      const state = await readObject(s3, target.bucket, key);
      const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
      texts.set(`${target.environment} object ${key}`, state?.body ?? "");
      texts.set(
        `${target.environment} object ${key} (head)`,
        JSON.stringify({
          metadata: head.Metadata,
          type: head.ContentType,
          tags: await objectTags(s3, target.bucket, key),
        }),
      );
    }
    for await (const item of scanAllItems(dynamodb, target.table)) {
      texts.set(
        `${target.environment} item ${JSON.stringify(item.pk)}|${JSON.stringify(item.sk)}`,
        JSON.stringify(item),
      );
    }
  }
  return texts;
}

/** Every target item, bookkeeping included, as text. */
const tableTexts = async (): Promise<string[]> => {
  const texts: string[] = [];
  for (const target of TARGETS) {
    for (const item of await itemsOf(target.environment, target.table)) {
      texts.push(`${target.environment} ${JSON.stringify(item)}`);
    }
  }
  return texts.sort();
};

const itemsOf = async (environment: string, table: string): Promise<Item[]> => {
  const items: Item[] = [];
  for await (const item of scanAllItems(harness.clientsOf(environment).dynamodb, table)) {
    items.push(item);
  }
  return items;
};

/** The target's item as the masked view of a source item must be. */
const expectedItem = (item: Item): Item => ({
  ...maskItem(masker, item),
  [ITEM_MASKING_ATTRIBUTE]: { S: masker.version },
});
const withoutBookkeeping = (item: Item): Item =>
  Object.fromEntries(
    Object.entries(item).filter(
      ([name]) => !name.startsWith("_") || name === ITEM_MASKING_ATTRIBUTE,
    ),
  );

const stringOf = (value: AttributeValue | undefined): string => value?.S ?? "";

describe("issue 17 on the emulators: no raw personal value reaches dev or staging", () => {
  it("masks live changes of items and JSON, JSON Lines and CSV objects (bodies, metadata, tags)", async () => {
    faulty = true;
    for (const object of [...LIVE_OBJECTS, DEAD_OBJECT]) {
      await putSourceObject(harness, object.key, object.body, {
        ContentType: object.type,
        ...labels(object.owner),
      });
    }
    for (const item of [...LIVE_ITEMS, DEAD_ITEM]) await putSourceItem(harness, item);
    await harness.settle();
    faulty = false;

    const emailOf = (p: Person) => masker.text(p.email, "email");
    for (const target of TARGETS) {
      const { s3 } = harness.clientsOf(target.environment);
      const json = await readObject(s3, target.bucket, "people/json/batch-1.json");
      expect(JSON.parse(json?.body ?? "null")).toEqual({
        people: [person(0), person(1)].map((p) => ({
          name: masker.text(p.name, "hash"),
          email: emailOf(p),
          phone: REDACTED,
          notes: REDACTED,
          city: "Springfield",
        })),
      });
      const lines = await readObject(s3, target.bucket, "people/jsonl/batch-1.jsonl");
      expect(
        lines?.body
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as unknown),
      ).toEqual(
        [person(0), person(2), person(3)].map((p) => ({
          name: masker.text(p.name, "hash"),
          email: emailOf(p),
          phone: REDACTED,
          notes: REDACTED,
          city: "Springfield",
        })),
      );
      const table = await readObject(s3, target.bucket, "people/csv/batch-1.csv");
      expect(table?.body.trim().split("\n")).toEqual([
        "name,email,phone,notes,city",
        ...[person(0), person(4)].map(
          (p) => `${masker.text(p.name, "hash")},${emailOf(p)},${REDACTED},${REDACTED},Springfield`,
        ),
      ]);
      expect(json?.metadata).toMatchObject({
        "owner-email": emailOf(person(0)),
        "owner-name": masker.text(person(0).name, "hash"),
        batch: "b1",
      });
      expect(json?.metadata).not.toHaveProperty("owner-card");
      expect(await objectTags(s3, target.bucket, "people/json/batch-1.json")).toEqual(
        [
          `contact=${masker.text(person(0).name.replace("'", " "), "hash")}`,
          `owner=${emailOf(person(0))}`,
          // S3 refuses brackets in a tag: redact writes "redacted" there.
          "phone=redacted",
          "tier=gold",
        ].sort(),
      );
    }
    const dev = await itemsOf("dev", "dev-table");
    for (const item of LIVE_ITEMS) {
      const expected = expectedItem(item);
      const found = dev.find((each) => stringOf(each.pk) === stringOf(expected.pk));
      expect(found === undefined ? undefined : withoutBookkeeping(found)).toEqual(expected);
    }
    // One address, one pseudonym: in an item, its key, a contact, a JSON object, a CSV cell
    // (upper-cased there), a tag and user metadata; in the reserved domain.
    const address = emailOf(person(0));
    expect(address).toMatch(
      new RegExp(`^u[a-z2-7]{26}@${MASKED_EMAIL_DOMAIN.replace(".", "\\.")}$`),
    );
    const zero = dev.find((each) => stringOf(each.pk) === masker.text(person(0).email, "hash"));
    expect(stringOf(zero?.email)).toBe(address);
    const friend = dev.find((each) => stringOf(each.pk) === masker.text(person(4).email, "hash"));
    expect(friend?.contacts?.L?.[0]?.M?.email?.S).toBe(address);
    expect(masker.text(person(0).email.toUpperCase(), "email")).toBe(address);
  });

  it("dead-letters an object and an item whose key is masked without a raw value, and redrives them masked", async () => {
    const queued = await listQueue(harness.source.sqs, harness.dlqUrl);
    letters.push(...queued.map((message) => JSON.stringify(message)));
    expect(queued.map((message) => message.body)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: "target-failed",
          source: "eventbridge",
          target: expect.objectContaining({ environment: "staging" }) as unknown,
        }),
        expect.objectContaining({
          reason: "target-failed",
          source: "dynamodb-stream",
          event: expect.objectContaining({
            dynamodb: expect.objectContaining({
              Keys: { _sealedKeys: { S: expect.any(String) as unknown } },
            }) as unknown,
          }) as unknown,
        }),
      ]),
    );
    expect(queued).toHaveLength(2);

    const summary = await capturing(() => redrive(harness));

    expect(summary).toMatchObject({ received: 2, replayed: 2, failed: 0 });
    const { s3 } = harness.clientsOf("staging");
    const replayed = await readObject(s3, "staging-bucket", DEAD_OBJECT.key);
    expect(JSON.parse(replayed?.body ?? "null")).toMatchObject({
      email: masker.text(person(5).email, "email"),
      phone: REDACTED,
    });
    expect(replayed?.metadata["owner-email"]).toBe(masker.text(person(5).email, "email"));
    const staging = await itemsOf("staging", "staging-table");
    const dead = staging.find((each) => stringOf(each.sk) === "dead-letter");
    expect(dead === undefined ? undefined : withoutBookkeeping(dead)).toEqual(
      expectedItem(DEAD_ITEM),
    );
  });

  it("resyncs data that predates replication masked, and a second resync writes nothing", async () => {
    const before = writes();
    const first = await capturing(() => resync(harness));
    expect(first.failures).toEqual([]);
    for (const target of first.targets) {
      expect(target.objects).toMatchObject({ copied: EXISTING_OBJECTS.length, failed: 0 });
      expect(target.items).toMatchObject({ put: EXISTING_ITEMS.length, failed: 0 });
    }
    expect(writes()).toBeGreaterThan(before);
    for (const target of TARGETS) {
      const { s3 } = harness.clientsOf(target.environment);
      const existing = await readObject(s3, target.bucket, "people/csv/existing.csv");
      expect(existing?.body).toContain(masker.text(person(8).email, "email"));
      const items = await itemsOf(target.environment, target.table);
      for (const item of EXISTING_ITEMS) {
        const expected = expectedItem(item);
        const found = items.find((each) => stringOf(each.pk) === stringOf(expected.pk));
        expect(found === undefined ? undefined : withoutBookkeeping(found)).toEqual(expected);
      }
    }

    const settled = writes();
    const second = await capturing(() => resync(harness));

    expect(second.failures).toEqual([]);
    for (const target of second.targets) {
      expect(target.objects).toMatchObject({ copied: 0, deleted: 0, failed: 0 });
      expect(target.items).toMatchObject({ put: 0, deleted: 0, failed: 0 });
    }
    expect(writes()).toBe(settled);
  });

  it("costs no write when an S3 event or a stream record is delivered again", async () => {
    const before = writes();
    const again = events.filter((event) =>
      JSON.stringify(event).includes("people/csv/batch-1.csv"),
    );
    expect(again.length).toBeGreaterThan(0);
    for (const event of again) harness.rule.put(event);
    await harness.settle();
    // The masked objects are the same: not a request that writes.
    expect(writes()).toBe(before);

    const client = streams();
    try {
      const streamArn = harness.pipeline.stream?.streamArn ?? "";
      const shard = (await client.send(new DescribeStreamCommand({ StreamArn: streamArn })))
        .StreamDescription?.Shards?.[0]?.ShardId;
      const iterator = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard,
          ShardIteratorType: "TRIM_HORIZON",
        }),
      );
      const out = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }),
      );
      const records = (out.Records ?? []).map((each) => ({
        ...streamRecord({
          table: SOURCE.table,
          eventName:
            each.eventName === "REMOVE"
              ? "REMOVE"
              : each.eventName === "MODIFY"
                ? "MODIFY"
                : "INSERT",
          keys: each.dynamodb?.Keys as Item,
          sequenceNumber: each.dynamodb?.SequenceNumber ?? "",
        }),
        eventSourceARN: streamArn,
      }));
      expect(records.length).toBeGreaterThanOrEqual(LIVE_ITEMS.length);
      const replicas = await tableTexts();

      const result = await harness.host.invoke(streamEvent(records));

      collect(result.logs);
      expect(result.ok && result.value).toEqual({ batchItemFailures: [] });
      // Each record: one guarded put per target, refused (the replica records the change and
      // holds its masked view), so nothing is written and every target reports it skipped.
      const actions = result.logs.stdout
        .filter((line) => line.includes('"target replicated"'))
        .map((line) => (JSON.parse(line) as { action?: string }).action);
      expect(actions).toEqual(records.flatMap(() => TARGETS.map(() => "skipped")));
      expect(await tableTexts()).toEqual(replicas);
    } finally {
      client.destroy();
    }
  });

  it("masks what S3 Batch Operations tasks copy, and skips what is masked already", async () => {
    const dev = harness.clientsOf("dev").s3;
    await dev.send(
      new DeleteObjectCommand({ Bucket: "dev-bucket", Key: "people/csv/batch-1.csv" }),
    );

    const result = await harness.host.invoke(
      batchOperationsEvent({
        bucket: SOURCE.bucket,
        keys: ["people/csv/batch-1.csv", "people/json/batch-1.json"],
      }),
    );
    collect(result.logs);

    expect(result.ok && result.value).toMatchObject({
      results: [
        { resultCode: "Succeeded", resultString: "dev: copied, staging: skipped" },
        { resultCode: "Succeeded", resultString: "dev: skipped, staging: skipped" },
      ],
    });
    const copied = await readObject(dev, "dev-bucket", "people/csv/batch-1.csv");
    expect(copied?.body).toContain(masker.text(person(4).email, "email"));
    expect(copied?.metadata["owner-email"]).toBe(masker.text(person(4).email, "email"));
  });

  it("leaves no raw value in any target byte, log line, metric document or dead letter", async () => {
    for (const logs of allReports()) collect(logs);
    letters.push(
      ...(await listQueue(harness.source.sqs, harness.dlqUrl)).map((m) => JSON.stringify(m)),
    );
    const targets = await targetTexts();

    // Everything arrived (the search is over all of it) ...
    const sourceKeys = [...EXISTING_OBJECTS, ...LIVE_OBJECTS, DEAD_OBJECT].map((o) => o.key).sort();
    for (const target of TARGETS) {
      const keys = [...targets.keys()]
        .filter(
          (name) => name.startsWith(`${target.environment} object `) && !name.endsWith("(head)"),
        )
        .map((name) => name.slice(`${target.environment} object `.length))
        .sort();
      expect(keys).toEqual(sourceKeys);
      expect(
        [...targets.keys()].filter((name) => name.startsWith(`${target.environment} item `)),
      ).toHaveLength(EXISTING_ITEMS.length + LIVE_ITEMS.length + 1);
    }
    // ... the function logged about the changes and sent its metrics ...
    const lines = printed
      .join("\n")
      .split("\n")
      .filter((line) => line.trim() !== "");
    expect(lines.filter((line) => line.includes('"_aws"')).length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes(masker.text(person(0).email, "hash")))).toBe(true);
    expect(letters.length).toBeGreaterThanOrEqual(2);

    // ... and no raw value is anywhere.
    const found = [
      ...[...targets.entries()].flatMap(([where, text]) => leaks(where, text)),
      ...lines.flatMap((line, index) => leaks(`log line ${String(index)}`, line)),
      ...letters.flatMap((letter, index) => leaks(`dead letter ${String(index)}`, letter)),
    ];
    expect(found).toEqual([]);
  });
});
