/**
 * The SQS model (tools/simulation/model/sqs.ts): each documented behaviour and each Silent choice,
 * with the errors as @aws-sdk/client-sqs throws them.
 */

import { createHash } from "node:crypto";
import { QueueDoesNotExist, ReceiptHandleIsInvalid, RequestThrottled } from "@aws-sdk/client-sqs";
import {
  md5OfAttributes,
  SqsModel,
  type SqsProbabilities,
} from "../../../tools/simulation/model/sqs";
import type { ModelOperation } from "../../../tools/simulation/model/types";

const region = "eu-west-1";
const account = "123456789012";
const t0 = 1_700_000_000_000;

/** A seeded generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probabilities that make the model answer like an ideal queue, for the plain behaviours. */
const plain: SqsProbabilities = {
  shortPollEmpty: 0,
  shortPollSample: 1,
  inFlightDuplicate: 0,
  oldHandleDeletes: 0,
  deleteLeavesCopy: 0,
  batchEntryFailure: 0,
};

interface World {
  model: SqsModel;
  clock: { t: number; now(): number };
  url: string;
  start(command: string, input: Record<string, unknown>): ModelOperation;
  call(command: string, input: Record<string, unknown>): Record<string, unknown>;
  advance(ms: number): void;
}

function world(probabilities: Partial<SqsProbabilities> = plain, seed = 1): World {
  const clock = {
    t: t0,
    now(): number {
      return this.t;
    },
  };
  const model = new SqsModel({ clock, rng: seeded(seed), accountId: account, probabilities });
  const { queueUrl } = model.createQueue("jobs", { region });
  const start = (command: string, input: Record<string, unknown>): ModelOperation =>
    model.start({ service: "sqs", region, command, input: { QueueUrl: queueUrl, ...input } });
  return {
    model,
    clock,
    url: queueUrl,
    start,
    call: (command, input) => start(command, input).finish(),
    advance(ms: number): void {
      clock.t += ms;
      model.runDue();
    },
  };
}

interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
  MD5OfMessageAttributes?: string;
}

function isReceived(value: unknown): value is ReceivedMessage {
  return typeof value === "object" && value !== null && "ReceiptHandle" in value;
}

function received(output: Record<string, unknown>): ReceivedMessage[] {
  const messages = output.Messages;
  return Array.isArray(messages) ? messages.filter(isReceived) : [];
}

function receiveOne(w: World, input: Record<string, unknown> = {}): ReceivedMessage {
  const [message] = received(w.call("ReceiveMessage", input));
  if (message === undefined) throw new Error("no message received");
  return message;
}

/** A thrown error's own fields, its message, and the error itself. */
type Thrown = Record<string, unknown> & { readonly message: string; readonly instance: Error };

function thrown(fn: () => unknown): Thrown {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof Error)) throw new Error("not an Error");
    return {
      ...Object.fromEntries(Object.entries(error)),
      message: error.message,
      instance: error,
    };
  }
  throw new Error("did not throw");
}

function expectError(fn: () => unknown, name: string, status: number): Thrown {
  const error = thrown(fn);
  expect(error.instance.name).toBe(name);
  expect(error.$metadata).toEqual({ httpStatusCode: status });
  return error;
}

/** Any string, for toEqual. */
const anyString: unknown = expect.any(String);

const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

describe("queues", () => {
  it("names queues by URL and ARN, and answers QueueDoesNotExist as the SDK throws it", () => {
    const w = world();
    expect(w.url).toBe(`https://sqs.${region}.amazonaws.com/${account}/jobs`);
    const error = expectError(
      () => w.call("SendMessage", { QueueUrl: `${w.url}-other`, MessageBody: "x" }),
      "QueueDoesNotExist",
      400,
    );
    expect(error.instance).toBeInstanceOf(QueueDoesNotExist);
    expect(error.$fault).toBe("client");
    expect(error.Code).toBe("AWS.SimpleQueueService.NonExistentQueue");
    expect(error.Error).toEqual({
      Code: "AWS.SimpleQueueService.NonExistentQueue",
      Type: "Sender",
      Message: "The specified queue does not exist.",
    });
  });

  it("refuses a command it does not model", () => {
    const w = world();
    expect(() => w.call("TagQueue", {})).toThrow("does not model TagQueue");
    expect(w.model.faults({ service: "sqs", region, command: "TagQueue", input: {} })).toEqual([]);
  });
});

describe("SendMessage", () => {
  it("answers the body's MD5 and a message id, and keeps the message with its attributes", () => {
    const w = world();
    const out = w.call("SendMessage", {
      MessageBody: "hello",
      MessageAttributes: { k: { DataType: "String", StringValue: "v" } },
    });
    expect(out.MD5OfMessageBody).toBe(md5("hello"));
    expect(out.MessageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(out.MD5OfMessageAttributes).toBe(
      md5OfAttributes({ k: { DataType: "String", StringValue: "v" } }),
    );
    expect(w.model.messages(w.url)).toEqual([
      {
        messageId: out.MessageId,
        body: "hello",
        attributes: { k: { DataType: "String", StringValue: "v" } },
        visible: true,
        receiveCount: 0,
      },
    ]);
  });

  it("computes the attributes' MD5 as AWS does", () => {
    // The digests published with the npm package aws-md5-of-message-attributes.
    const text = { attribName1: { DataType: "String", StringValue: "attribValue 1" } };
    const number = {
      customNumberTypeAttrib: {
        DataType: "Number.float",
        StringValue: "4563442423554324324264524243.32543234",
      },
    };
    const binary = {
      binaryAttribute: { DataType: "Binary", BinaryValue: Buffer.from("Hello binary world!") },
    };
    expect(md5OfAttributes(text)).toBe("19e27d4e946b072f3f58da80d94fd778");
    expect(md5OfAttributes(number)).toBe("9fe1b90bbd9965bdf77bac517c7d2495");
    expect(md5OfAttributes(binary)).toBe("31a92b15d92f8db860eda32aceb656c3");
    expect(md5OfAttributes({ ...text, ...number, ...binary })).toBe(
      "c932db14a896c663f83c260297d594ff",
    );
  });

  it("computes the attributes' MD5 over sorted names with transport types", () => {
    const a = md5OfAttributes({
      b: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2]) },
      a: { DataType: "Number", StringValue: "1" },
    });
    const b = md5OfAttributes({
      a: { DataType: "Number", StringValue: "1" },
      b: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2]) },
    });
    expect(a).toBe(b);
    expect(a).not.toBe(md5OfAttributes({ a: { DataType: "Number", StringValue: "1" } }));
  });

  it("accepts 1 MiB and refuses one byte more, attributes included", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "x".repeat(1_048_576) });
    const error = expectError(
      () =>
        w.call("SendMessage", {
          MessageBody: "x".repeat(1_048_570),
          MessageAttributes: { abc: { DataType: "String", StringValue: "v" } },
        }),
      "InvalidParameterValue",
      400,
    );
    expect(error.message).toBe(
      "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    );
    expect(error.Code).toBe("InvalidParameterValue");
    expect(w.model.messages(w.url)).toHaveLength(1);
  });

  it("refuses characters outside the allowed set, an empty body and a bad delay or attribute", () => {
    const w = world();
    const bad = expectError(
      () => w.call("SendMessage", { MessageBody: "a\u0000b" }),
      "InvalidMessageContents",
      400,
    );
    expect(bad.message).toContain("'#x0'");
    expectError(
      () => w.call("SendMessage", { MessageBody: "lone \uD800 surrogate" }),
      "InvalidMessageContents",
      400,
    );
    w.call("SendMessage", { MessageBody: "tab\tand \u{1F600}" });
    expectError(() => w.call("SendMessage", { MessageBody: "" }), "InvalidParameterValue", 400);
    expectError(() => w.call("SendMessage", {}), "MissingParameter", 400);
    expectError(
      () => w.call("SendMessage", { MessageBody: "x", DelaySeconds: 901 }),
      "InvalidParameterValue",
      400,
    );
    expectError(
      () =>
        w.call("SendMessage", {
          MessageBody: "x",
          MessageAttributes: { k: { DataType: "Date", StringValue: "v" } },
        }),
      "InvalidParameterValue",
      400,
    );
    expectError(
      () =>
        w.call("SendMessage", {
          MessageBody: "x",
          MessageAttributes: { k: { DataType: "String" } },
        }),
      "InvalidParameterValue",
      400,
    );
    expect(w.model.messages(w.url).map((m) => m.body)).toEqual(["tab\tand \u{1F600}"]);
  });

  it("delays a message: not receivable nor counted visible until DelaySeconds pass", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "later", DelaySeconds: 10 });
    expect(w.call("ReceiveMessage", {})).toEqual({});
    expect(w.model.messages(w.url)[0]?.visible).toBe(false);
    expect(w.model.nextDue()).toBe(t0 + 10_000);
    w.advance(10_000);
    expect(receiveOne(w).Body).toBe("later");
  });
});

describe("SendMessageBatch", () => {
  it("reports an invalid entry in Failed and sends the others", () => {
    const w = world();
    const out = w.call("SendMessageBatch", {
      Entries: [
        { Id: "a", MessageBody: "one" },
        { Id: "b", MessageBody: "bad\u0001" },
        { Id: "c", MessageBody: "three", DelaySeconds: 5 },
      ],
    });
    expect(out.Successful).toEqual([
      { Id: "a", MessageId: anyString, MD5OfMessageBody: md5("one") },
      { Id: "c", MessageId: anyString, MD5OfMessageBody: md5("three") },
    ]);
    expect(out.Failed).toEqual([
      { Id: "b", SenderFault: true, Code: "InvalidMessageContents", Message: anyString },
    ]);
    expect(w.model.messages(w.url).map((m) => m.body)).toEqual(["one", "three"]);
  });

  it("fails entries transiently without their effect, and leaves out an empty list", () => {
    const w = world({ ...plain, batchEntryFailure: 1 });
    const out = w.call("SendMessageBatch", { Entries: [{ Id: "a", MessageBody: "one" }] });
    expect(out).toEqual({
      Failed: [{ Id: "a", SenderFault: false, Code: "InternalError", Message: anyString }],
    });
    expect(w.model.messages(w.url)).toEqual([]);
  });

  it("refuses empty, oversized, duplicate-id, bad-id and too-long batches", () => {
    const w = world();
    const entry = (id: string, body = "x"): Record<string, unknown> => ({
      Id: id,
      MessageBody: body,
    });
    expectError(() => w.call("SendMessageBatch", { Entries: [] }), "EmptyBatchRequest", 400);
    const eleven = Array.from({ length: 11 }, (_, i) => entry(`e${String(i)}`));
    expectError(
      () => w.call("SendMessageBatch", { Entries: eleven }),
      "TooManyEntriesInBatchRequest",
      400,
    );
    expectError(
      () => w.call("SendMessageBatch", { Entries: [entry("a"), entry("a")] }),
      "BatchEntryIdsNotDistinct",
      400,
    );
    expectError(
      () => w.call("SendMessageBatch", { Entries: [entry("a b")] }),
      "InvalidBatchEntryId",
      400,
    );
    const half = "x".repeat(600_000);
    expectError(
      () => w.call("SendMessageBatch", { Entries: [entry("a", half), entry("b", half)] }),
      "BatchRequestTooLong",
      400,
    );
    expect(w.model.messages(w.url)).toEqual([]);
  });
});

describe("ReceiveMessage", () => {
  it("validates MaxNumberOfMessages, WaitTimeSeconds and VisibilityTimeout", () => {
    const w = world();
    for (const input of [
      { MaxNumberOfMessages: 0 },
      { MaxNumberOfMessages: 11 },
      { WaitTimeSeconds: 21 },
      { VisibilityTimeout: 43_201 },
    ]) {
      expectError(() => w.call("ReceiveMessage", input), "InvalidParameterValue", 400);
    }
  });

  it("returns no message list when nothing is available", () => {
    const w = world();
    expect(w.call("ReceiveMessage", { MaxNumberOfMessages: 10 })).toEqual({});
  });

  it("short polling: sometimes nothing, often fewer than available, never more than asked", () => {
    let empty = 0;
    let fewer = 0;
    for (let seed = 1; seed <= 100; seed += 1) {
      const w = world({}, seed);
      for (let i = 0; i < 5; i += 1) w.call("SendMessage", { MessageBody: `m${String(i)}` });
      const n = received(w.call("ReceiveMessage", { MaxNumberOfMessages: 4 })).length;
      expect(n).toBeLessThanOrEqual(4);
      if (n === 0) empty += 1;
      else if (n < 4) fewer += 1;
    }
    expect(empty).toBeGreaterThan(10);
    expect(fewer).toBeGreaterThan(10);
  });

  it("short polling can answer empty while messages are visible", () => {
    const w = world({ ...plain, shortPollEmpty: 1 });
    w.call("SendMessage", { MessageBody: "m" });
    expect(w.call("ReceiveMessage", {})).toEqual({});
    expect(w.model.messages(w.url)[0]?.visible).toBe(true);
  });

  it("long polling never answers a false empty, and returns at least one of the visible", () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      const w = world({}, seed);
      for (let i = 0; i < 3; i += 1) w.call("SendMessage", { MessageBody: `m${String(i)}` });
      const op = w.start("ReceiveMessage", { WaitTimeSeconds: 20, MaxNumberOfMessages: 10 });
      expect(op.durationMs).toBe(0);
      const n = received(op.finish()).length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(3);
    }
  });

  it("long polling waits when nothing is visible and answers what arrived meanwhile", () => {
    const w = world();
    const op = w.start("ReceiveMessage", { WaitTimeSeconds: 20 });
    expect(op.durationMs).toBe(20_000);
    w.advance(5_000);
    w.call("SendMessage", { MessageBody: "arrived" });
    w.advance(15_000);
    expect(received(op.finish()).map((m) => m.Body)).toEqual(["arrived"]);
    const empty = w.start("ReceiveMessage", { WaitTimeSeconds: 3 });
    expect(empty.durationMs).toBe(3_000);
    w.advance(3_000);
    expect(empty.finish()).toEqual({});
  });

  it("hides a received message for the queue's visibility timeout, then shows it again", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const first = receiveOne(w);
    expect(first.MD5OfBody).toBe(md5("m"));
    expect(w.call("ReceiveMessage", {})).toEqual({});
    expect(w.model.nextDue()).toBe(t0 + 30_000);
    w.advance(29_999);
    expect(w.model.messages(w.url)[0]?.visible).toBe(false);
    w.advance(1);
    expect(w.model.messages(w.url)[0]?.visible).toBe(true);
    const second = receiveOne(w, { MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.Attributes).toEqual({ ApproximateReceiveCount: "2" });
    expect(w.model.messages(w.url)[0]?.receiveCount).toBe(2);
  });

  it("lets the request's VisibilityTimeout override the queue's", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    receiveOne(w, { VisibilityTimeout: 5 });
    expect(w.model.nextDue()).toBe(t0 + 5_000);
    w.advance(5_000);
    expect(receiveOne(w).Body).toBe("m");
  });

  it("returns system attributes (All, deprecated AttributeNames) and message attributes", () => {
    const w = world();
    w.call("SendMessage", {
      MessageBody: "m",
      MessageAttributes: {
        "trace.id": { DataType: "String", StringValue: "t" },
        kind: { DataType: "String", StringValue: "k" },
      },
    });
    const all = receiveOne(w, { AttributeNames: ["All"], MessageAttributeNames: ["All"] });
    expect(all.Attributes).toEqual({
      SenderId: account,
      SentTimestamp: String(t0),
      ApproximateReceiveCount: "1",
      ApproximateFirstReceiveTimestamp: String(t0),
    });
    expect(all.MessageAttributes).toEqual({
      "trace.id": { DataType: "String", StringValue: "t" },
      kind: { DataType: "String", StringValue: "k" },
    });
    w.call("ChangeMessageVisibility", { ReceiptHandle: all.ReceiptHandle, VisibilityTimeout: 0 });
    const some = receiveOne(w, { MessageAttributeNames: ["trace.*"] });
    expect(some.Attributes).toBeUndefined();
    expect(some.MessageAttributes).toEqual({
      "trace.id": { DataType: "String", StringValue: "t" },
    });
    expect(some.MD5OfMessageAttributes).toBe(
      md5OfAttributes({ "trace.id": { DataType: "String", StringValue: "t" } }),
    );
    w.call("ChangeMessageVisibility", { ReceiptHandle: some.ReceiptHandle, VisibilityTimeout: 0 });
    const none = receiveOne(w);
    expect(none.MessageAttributes).toBeUndefined();
    expect(none.MD5OfMessageAttributes).toBeUndefined();
  });

  it("promises no order: messages come back out of send order", () => {
    const w = world();
    const sent = Array.from({ length: 10 }, (_, i) => `m${String(i)}`);
    for (const body of sent) w.call("SendMessage", { MessageBody: body });
    const bodies = received(w.call("ReceiveMessage", { MaxNumberOfMessages: 10 })).map(
      (m) => m.Body,
    );
    expect([...bodies].sort()).toEqual(sent);
    expect(bodies).not.toEqual(sent);
  });

  it("delivers a copy of a message still in flight (at-least-once)", () => {
    const w = world({ ...plain, inFlightDuplicate: 1 });
    w.call("SendMessage", { MessageBody: "m" });
    const first = receiveOne(w);
    const copy = receiveOne(w);
    expect(copy.MessageId).toBe(first.MessageId);
    expect(copy.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(w.model.messages(w.url)[0]?.receiveCount).toBe(2);
  });
});

describe("DeleteMessage", () => {
  it("deletes with the latest receipt handle, even while the message is in flight", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    expect(w.call("DeleteMessage", { ReceiptHandle: m.ReceiptHandle })).toEqual({});
    expect(w.model.messages(w.url)).toEqual([]);
    // A deleted message's handle is an old handle: success, no effect.
    expect(w.call("DeleteMessage", { ReceiptHandle: m.ReceiptHandle })).toEqual({});
  });

  it("succeeds with an old receipt handle but may not delete", () => {
    for (const [oldHandleDeletes, remaining] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const w = world({ ...plain, oldHandleDeletes });
      w.call("SendMessage", { MessageBody: "m" });
      const first = receiveOne(w, { VisibilityTimeout: 0 });
      receiveOne(w);
      expect(w.call("DeleteMessage", { ReceiptHandle: first.ReceiptHandle })).toEqual({});
      expect(w.model.messages(w.url)).toHaveLength(remaining);
    }
  });

  it("may leave a copy that is received again after the delete", () => {
    const w = world({ ...plain, deleteLeavesCopy: 1 });
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    w.call("DeleteMessage", { ReceiptHandle: m.ReceiptHandle });
    w.advance(30_000);
    expect(receiveOne(w).MessageId).toBe(m.MessageId);
  });

  it("refuses a receipt handle the queue never issued", () => {
    const w = world();
    const error = expectError(
      () => w.call("DeleteMessage", { ReceiptHandle: "nonsense" }),
      "ReceiptHandleIsInvalid",
      404,
    );
    expect(error.instance).toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it("DeleteMessageBatch reports each entry", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    const out = w.call("DeleteMessageBatch", {
      Entries: [
        { Id: "ok", ReceiptHandle: m.ReceiptHandle },
        { Id: "bad", ReceiptHandle: "nonsense" },
      ],
    });
    expect(out).toEqual({
      Successful: [{ Id: "ok" }],
      Failed: [
        {
          Id: "bad",
          SenderFault: true,
          Code: "ReceiptHandleIsInvalid",
          Message: anyString,
        },
      ],
    });
    expect(w.model.messages(w.url)).toEqual([]);
    expectError(() => w.call("DeleteMessageBatch", { Entries: [] }), "EmptyBatchRequest", 400);
  });
});

describe("ChangeMessageVisibility", () => {
  it("extends the timeout from now, and 0 makes the message visible", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    w.advance(20_000);
    w.call("ChangeMessageVisibility", { ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60 });
    expect(w.model.nextDue()).toBe(t0 + 80_000);
    w.advance(59_000);
    expect(w.call("ReceiveMessage", {})).toEqual({});
    w.call("ChangeMessageVisibility", { ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 });
    expect(w.model.messages(w.url)[0]?.visible).toBe(true);
  });

  it("refuses a total beyond 12 hours from the receive", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w, { VisibilityTimeout: 43_200 });
    w.advance(1_000);
    w.call("ChangeMessageVisibility", {
      ReceiptHandle: m.ReceiptHandle,
      VisibilityTimeout: 43_199,
    });
    expectError(
      () =>
        w.call("ChangeMessageVisibility", {
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 43_200,
        }),
      "InvalidParameterValue",
      400,
    );
    expectError(
      () =>
        w.call("ChangeMessageVisibility", {
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: -1,
        }),
      "InvalidParameterValue",
      400,
    );
  });

  it("refuses an old receipt handle and a deleted message's, and a foreign one", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const first = receiveOne(w, { VisibilityTimeout: 0 });
    const second = receiveOne(w);
    const error = expectError(
      () =>
        w.call("ChangeMessageVisibility", {
          ReceiptHandle: first.ReceiptHandle,
          VisibilityTimeout: 10,
        }),
      "InvalidParameterValue",
      400,
    );
    expect(error.message).toContain("Message does not exist or is not available");
    w.call("DeleteMessage", { ReceiptHandle: second.ReceiptHandle });
    expectError(
      () =>
        w.call("ChangeMessageVisibility", {
          ReceiptHandle: second.ReceiptHandle,
          VisibilityTimeout: 10,
        }),
      "InvalidParameterValue",
      400,
    );
    expectError(
      () => w.call("ChangeMessageVisibility", { ReceiptHandle: "nonsense", VisibilityTimeout: 10 }),
      "ReceiptHandleIsInvalid",
      404,
    );
  });

  it("after the timeout lapsed, answers OK and does not hide the message again", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    w.advance(30_000);
    expect(
      w.call("ChangeMessageVisibility", { ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 300 }),
    ).toEqual({});
    expect(w.model.messages(w.url)[0]?.visible).toBe(true);
  });

  it("ChangeMessageVisibilityBatch reports each entry", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    const m = receiveOne(w);
    const out = w.call("ChangeMessageVisibilityBatch", {
      Entries: [
        { Id: "ok", ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 100 },
        { Id: "bad", ReceiptHandle: "nonsense", VisibilityTimeout: 100 },
      ],
    });
    expect(out).toEqual({
      Successful: [{ Id: "ok" }],
      Failed: [
        {
          Id: "bad",
          SenderFault: true,
          Code: "ReceiptHandleIsInvalid",
          Message: anyString,
        },
      ],
    });
    expect(w.model.nextDue()).toBe(t0 + 100_000);
  });
});

describe("retention, attributes, purge", () => {
  it("deletes a message after the retention period (default 4 days)", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "m" });
    expect(w.model.nextDue()).toBe(t0 + 345_600_000);
    w.advance(345_600_000);
    expect(w.model.messages(w.url)).toEqual([]);
    expect(w.model.nextDue()).toBeUndefined();
    const short = new SqsModel({ clock: w.clock, rng: seeded(2), accountId: account });
    const q = short.createQueue("short", { region, messageRetentionSeconds: 60 });
    short
      .start({
        service: "sqs",
        region,
        command: "SendMessage",
        input: { QueueUrl: q.queueUrl, MessageBody: "m" },
      })
      .finish();
    expect(short.nextDue()).toBe(w.clock.t + 60_000);
  });

  it("counts visible, in-flight and delayed messages, exactly once a minute has passed", () => {
    const w = world();
    w.call("SendMessage", { MessageBody: "a" });
    w.call("SendMessage", { MessageBody: "b" });
    w.call("SendMessage", { MessageBody: "c", DelaySeconds: 900 });
    receiveOne(w, { VisibilityTimeout: 900 });
    w.advance(60_000);
    const out = w.call("GetQueueAttributes", {
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "QueueArn",
        "Policy",
      ],
    });
    expect(out).toEqual({
      Attributes: {
        ApproximateNumberOfMessages: "1",
        ApproximateNumberOfMessagesNotVisible: "1",
        ApproximateNumberOfMessagesDelayed: "1",
        QueueArn: `arn:aws:sqs:${region}:${account}:jobs`,
      },
    });
    expect(w.call("GetQueueAttributes", {})).toEqual({});
    expectError(
      () => w.call("GetQueueAttributes", { AttributeNames: ["Nonsense"] }),
      "InvalidAttributeName",
      400,
    );
  });

  it("may answer counts up to a minute old", () => {
    const clock = { t: t0, now: (): number => clock.t };
    const model = new SqsModel({
      clock,
      rng: () => 0.99,
      accountId: account,
      probabilities: plain,
    });
    const { queueUrl } = model.createQueue("jobs", { region });
    const run = (command: string, input: Record<string, unknown>): Record<string, unknown> =>
      model
        .start({ service: "sqs", region, command, input: { QueueUrl: queueUrl, ...input } })
        .finish();
    clock.t += 10_000;
    run("SendMessage", { MessageBody: "m" });
    clock.t += 1_000;
    expect(run("GetQueueAttributes", { AttributeNames: ["ApproximateNumberOfMessages"] })).toEqual({
      Attributes: { ApproximateNumberOfMessages: "0" },
    });
    clock.t += 60_000;
    expect(run("GetQueueAttributes", { AttributeNames: ["All"] })).toMatchObject({
      Attributes: { ApproximateNumberOfMessages: "1", VisibilityTimeout: "30" },
    });
  });

  it("purges within 60 seconds, refuses a second purge meanwhile", () => {
    const w = world();
    for (let i = 0; i < 5; i += 1) w.call("SendMessage", { MessageBody: `m${String(i)}` });
    receiveOne(w);
    expect(w.call("PurgeQueue", {})).toEqual({});
    expectError(() => w.call("PurgeQueue", {}), "PurgeQueueInProgress", 403);
    w.advance(60_000);
    expect(w.model.messages(w.url)).toEqual([]);
    expect(w.call("PurgeQueue", {})).toEqual({});
  });
});

describe("faults", () => {
  it("offers throttling and 5xx as the SDK throws them", () => {
    const w = world();
    const faults = w.model.faults({ service: "sqs", region, command: "ReceiveMessage", input: {} });
    expect(faults.map((f) => [f.name, f.httpStatusCode])).toEqual([
      ["RequestThrottled", 403],
      ["ThrottlingException", 400],
      ["InternalFailure", 500],
      ["ServiceUnavailable", 503],
    ]);
    for (const fault of faults) {
      const error = fault.error();
      expect(error.name).toBe(fault.name);
      expect(error).toMatchObject({
        $metadata: { httpStatusCode: fault.httpStatusCode },
        $fault: fault.httpStatusCode >= 500 ? "server" : "client",
      });
    }
    expect(faults[0]?.error()).toBeInstanceOf(RequestThrottled);
    expect(faults[0]?.source).toBe(
      "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html",
    );
  });
});

describe("determinism", () => {
  it("answers the same for the same seed", () => {
    const runOnce = (): unknown[] => {
      const w = world({}, 42);
      const answers: unknown[] = [];
      for (let i = 0; i < 8; i += 1)
        answers.push(w.call("SendMessage", { MessageBody: `m${String(i)}` }));
      for (let i = 0; i < 5; i += 1) {
        answers.push(w.call("ReceiveMessage", { MaxNumberOfMessages: 3 }));
        w.advance(7_000);
      }
      return answers;
    };
    expect(runOnce()).toEqual(runOnce());
  });
});
