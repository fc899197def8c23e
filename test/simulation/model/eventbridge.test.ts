// Tests of the EventBridge model: the pattern matcher as the EventBridge user guide documents it,
// and delivery (delays, duplicates, no order, retries, dead-letter queue attributes).
import {
  EventBridgeModel,
  InvalidEventPatternException,
  matches,
  type EventBridgeRule,
} from "../../../tools/simulation/model/eventbridge";
import type { DeadLetterMessage } from "../../../tools/simulation/model/lambda-types";

class TestClock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
}

/** An rng that answers the given values in turn, then `rest`. */
function sequence(values: number[], rest = 0.5): () => number {
  let index = 0;
  return () => values[index++] ?? rest;
}

function drain(model: EventBridgeModel, clock: TestClock, limit = 10_000): void {
  for (let i = 0; i < limit; i++) {
    const due = model.nextDue();
    if (due === undefined) return;
    clock.t = Math.max(clock.t, due);
    model.runDue();
  }
  throw new Error("the model did not settle");
}

const s3Event = {
  version: "0",
  id: "17793124-05d4-b198-2fde-7ededc63b103",
  "detail-type": "Object Created",
  source: "aws.s3",
  account: "111122223333",
  time: "2021-11-12T00:00:00Z",
  region: "ca-central-1",
  resources: ["arn:aws:s3:::example-bucket"],
  detail: {
    version: "0",
    bucket: { name: "example-bucket" },
    object: { key: "photos/cat.png", size: 5, etag: "b1946ac92492d2347c6235b4d2611184" },
    reason: "PutObject",
    "request-id": "N4N7GDK58NMKJ12R",
    requester: "123456789012",
  },
};

describe("EventBridge event patterns", () => {
  it("matches any of the values of a field (OR) and every field (AND), nested", () => {
    const pattern = { source: ["aws.ec2", "aws.s3"], detail: { reason: ["PutObject"] } };
    expect(matches(pattern, s3Event)).toBe(true);
    expect(matches({ source: ["aws.ec2"] }, s3Event)).toBe(false);
    expect(matches({ source: ["aws.s3"], detail: { reason: ["CopyObject"] } }, s3Event)).toBe(
      false,
    );
    expect(matches({}, s3Event)).toBe(true);
  });

  it("does not match a field the event lacks, nor a different nesting", () => {
    expect(matches({ detail: { missing: ["x"] } }, s3Event)).toBe(false);
    expect(matches({ reason: ["PutObject"] }, s3Event)).toBe(false);
    expect(matches({ detail: { bucket: ["example-bucket"] } }, s3Event)).toBe(false);
  });

  it("matches strings exactly, numbers, booleans and null, and tells null from empty", () => {
    const event = { a: "Value", n: 80, b: true, z: null, e: "" };
    expect(matches({ a: ["value"] }, event)).toBe(false);
    expect(matches({ n: [80] }, event)).toBe(true);
    expect(matches({ n: ["80"] }, event)).toBe(false);
    expect(matches({ b: [true] }, event)).toBe(true);
    expect(matches({ z: [null] }, event)).toBe(true);
    expect(matches({ z: [""] }, event)).toBe(false);
    expect(matches({ e: [""] }, event)).toBe(true);
    expect(matches({ e: [null] }, event)).toBe(false);
  });

  it("matches an event array when it shares a value with the pattern array", () => {
    const pattern = { resources: ["arn:aws:s3:::other", "arn:aws:s3:::example-bucket"] };
    expect(matches(pattern, s3Event)).toBe(true);
    expect(matches({ resources: ["arn:aws:s3:::other"] }, s3Event)).toBe(false);
  });

  it("matches a nested pattern within one element of an array of objects", () => {
    const event = {
      employees: [
        { firstName: "John", lastName: "Doe" },
        { firstName: "Anna", lastName: "Smith" },
        { firstName: "Peter", lastName: "Jones" },
      ],
    };
    expect(matches({ employees: { firstName: ["Anna"] } }, event)).toBe(true);
    expect(matches({ employees: { firstName: ["Anna"], lastName: ["Smith"] } }, event)).toBe(true);
    expect(matches({ employees: { firstName: ["Anna"], lastName: ["Jones"] } }, event)).toBe(false);
  });

  it("matches prefixes and suffixes of strings only, with or without case", () => {
    const key = (pattern: unknown[]) => ({ detail: { object: { key: pattern } } });
    expect(matches(key([{ prefix: "photos/" }]), s3Event)).toBe(true);
    expect(matches(key([{ prefix: "Photos/" }]), s3Event)).toBe(false);
    expect(matches(key([{ prefix: { "equals-ignore-case": "PHOTOS/" } }]), s3Event)).toBe(true);
    expect(matches(key([{ suffix: ".png" }]), s3Event)).toBe(true);
    expect(matches(key([{ suffix: ".PNG" }]), s3Event)).toBe(false);
    expect(matches(key([{ suffix: { "equals-ignore-case": ".PNG" } }]), s3Event)).toBe(true);
    expect(matches({ detail: { object: { size: [{ prefix: "5" }] } } }, s3Event)).toBe(false);
    expect(matches({ source: [{ prefix: "" }] }, s3Event)).toBe(true);
  });

  it("matches equals-ignore-case and wildcards", () => {
    expect(matches({ source: [{ "equals-ignore-case": "AWS.S3" }] }, s3Event)).toBe(true);
    expect(matches({ source: [{ "equals-ignore-case": "aws.s" }] }, s3Event)).toBe(false);
    const key = (wildcard: string) => ({ detail: { object: { key: [{ wildcard }] } } });
    expect(matches(key("photos/*.png"), s3Event)).toBe(true);
    expect(matches(key("*cat*"), s3Event)).toBe(true);
    expect(matches(key("photos/*.jpg"), s3Event)).toBe(false);
    expect(matches(key("photos/cat.png*"), s3Event)).toBe(true);
    expect(matches({ k: [{ wildcard: "a\\*b" }] }, { k: "a*b" })).toBe(true);
    expect(matches({ k: [{ wildcard: "a\\*b" }] }, { k: "axxb" })).toBe(false);
    expect(matches({ k: [{ wildcard: "a.c" }] }, { k: "abc" })).toBe(false);
  });

  it("matches anything-but values, lists, prefixes, suffixes, case and wildcards", () => {
    const state = (pattern: unknown) => ({ detail: { state: [{ "anything-but": pattern }] } });
    const running = { detail: { state: "running" } };
    expect(matches(state("initializing"), running)).toBe(true);
    expect(matches(state("running"), running)).toBe(false);
    expect(matches(state(["stopped", "running"]), running)).toBe(false);
    expect(matches(state({ prefix: "run" }), running)).toBe(false);
    expect(matches(state({ prefix: "init" }), running)).toBe(true);
    expect(matches(state({ suffix: "ing" }), running)).toBe(false);
    expect(matches(state({ "equals-ignore-case": "RUNNING" }), running)).toBe(false);
    expect(matches(state({ "equals-ignore-case": ["X", "Y"] }), running)).toBe(true);
    expect(matches(state({ wildcard: "r*g" }), running)).toBe(false);
    expect(matches(state({ wildcard: "s*" }), running)).toBe(true);
    expect(matches({ n: [{ "anything-but": [100, 200] }] }, { n: 150 })).toBe(true);
    expect(matches({ n: [{ "anything-but": [100, 200] }] }, { n: 200 })).toBe(false);
  });

  it("does not match anything-but on a missing field, but does on a null one", () => {
    const pattern = { detail: { foo: [{ "anything-but": ["baz"] }] } };
    expect(matches(pattern, { detail: {} })).toBe(false);
    expect(matches(pattern, {})).toBe(false);
    expect(matches(pattern, { detail: { foo: null } })).toBe(true);
  });

  it("matches exists on leaf fields only, null existing", () => {
    const exists = (value: boolean) => ({ detail: { "c-count": [{ exists: value }] } });
    expect(matches(exists(true), { detail: { "c-count": 5 } })).toBe(true);
    expect(matches(exists(false), { detail: { "c-count": 5 } })).toBe(false);
    expect(matches(exists(false), { detail: { state: "x" } })).toBe(true);
    expect(matches(exists(false), { other: 1 })).toBe(true);
    // The user guide: it "also matches the following event because c-count isn't a leaf node".
    expect(matches(exists(false), { detail: { "c-count": { c1: 100 } } })).toBe(true);
    expect(matches(exists(true), { detail: { "c-count": { c1: 100 } } })).toBe(false);
    expect(matches(exists(true), { detail: { "c-count": null } })).toBe(true);
    expect(matches(exists(true), { detail: { "c-count": [] } })).toBe(false);
  });

  it("matches numeric ranges of JSON numbers only", () => {
    const pattern = {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    };
    expect(matches(pattern, { detail: { "c-count": 5, "d-count": 3, "x-limit": 301.8 } })).toBe(
      true,
    );
    expect(matches(pattern, { detail: { "c-count": 0, "d-count": 3, "x-limit": 301.8 } })).toBe(
      false,
    );
    expect(matches(pattern, { detail: { "c-count": "5", "d-count": 3, "x-limit": 301.8 } })).toBe(
      false,
    );
    expect(matches({ n: [{ numeric: [">=", 10] }] }, { n: 10 })).toBe(true);
    expect(matches({ n: [{ numeric: [">=", 10] }] }, { n: 9.999 })).toBe(false);
  });

  it("matches $or across fields, and treats a one-branch $or as a field name", () => {
    const pattern = {
      source: ["aws.cloudwatch"],
      $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
    };
    expect(matches(pattern, { source: "aws.cloudwatch", namespace: "AWS/ES" })).toBe(true);
    expect(matches(pattern, { source: "aws.cloudwatch", metricName: "CPUUtilization" })).toBe(true);
    expect(matches(pattern, { source: "aws.cloudwatch", namespace: "AWS/S3" })).toBe(false);
    expect(matches(pattern, { source: "aws.ec2", namespace: "AWS/ES" })).toBe(false);
    expect(matches({ $or: [{ a: [1] }] }, { a: 1 })).toBe(false);
    expect(matches({ $or: ["x"] }, { $or: "x" })).toBe(true);
  });

  it("matches IPv4 CIDR blocks", () => {
    const pattern = { ip: [{ cidr: "10.0.0.0/24" }] };
    expect(matches(pattern, { ip: "10.0.0.33" })).toBe(true);
    expect(matches(pattern, { ip: "10.0.1.33" })).toBe(false);
    expect(matches(pattern, { ip: "not an ip" })).toBe(false);
  });

  it("refuses patterns PutRule refuses", () => {
    const model = new EventBridgeModel({ clock: new TestClock(), rng: () => 0.5 });
    const put = (eventPattern: Record<string, unknown>) => () => {
      model.putRule({ name: "r", eventPattern, target: { deliver: () => undefined } });
    };
    for (const bad of [
      { source: "aws.s3" },
      { source: [] },
      { source: [{ prefix: 5 }] },
      { source: [{ unknown: "x" }] },
      { source: [{ prefix: "a", suffix: "b" }] },
      { n: [{ numeric: ["~", 1] }] },
      { n: [{ numeric: ["<", 1, ">", 0] }] },
      { k: [{ wildcard: "a**b" }] },
      { k: [{ wildcard: "a\\b" }] },
      { k: [{ "anything-but": ["a", 1] }] },
      { k: [{ exists: "yes" }] },
      { ip: [{ cidr: "10.0.0.0/33" }] },
    ]) {
      expect(put(bad)).toThrow(InvalidEventPatternException);
    }
    expect(put({ source: ["aws.s3", { prefix: "aws." }] })).not.toThrow();
    expect(new InvalidEventPatternException("x").name).toBe("InvalidEventPatternException");
  });
});

describe("EventBridge delivery", () => {
  interface Harness {
    clock: TestClock;
    model: EventBridgeModel;
    received: unknown[];
    dead: DeadLetterMessage[];
    rule: (overrides?: Partial<EventBridgeRule>) => void;
  }

  function harness(options: { rng?: () => number; duplicateProbability?: number } = {}): Harness {
    const clock = new TestClock();
    const model = new EventBridgeModel({
      clock,
      rng: options.rng ?? (() => 0.5),
      region: "ca-central-1",
      accountId: "111122223333",
      duplicateProbability: options.duplicateProbability ?? 0,
    });
    const received: unknown[] = [];
    const dead: DeadLetterMessage[] = [];
    const rule = (overrides: Partial<EventBridgeRule> = {}) => {
      model.putRule({
        name: "replicate",
        eventPattern: { source: ["aws.s3"], "detail-type": ["Object Created"] },
        target: {
          arn: "arn:aws:lambda:ca-central-1:111122223333:function:replicator",
          deliver: (event) => received.push(event),
        },
        deadLetter: {
          send: (record) => {
            if (isDeadLetter(record)) dead.push(record);
          },
        },
        ...overrides,
      });
    };
    return { clock, model, received, dead, rule };
  }

  function isDeadLetter(record: unknown): record is DeadLetterMessage {
    return typeof record === "object" && record !== null && "MessageBody" in record;
  }

  function attributes(message: DeadLetterMessage | undefined): Record<string, string> {
    return Object.fromEntries(
      Object.entries(message?.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue,
      ]),
    );
  }

  it("delivers a matching event to the rule's target, later, as a copy", () => {
    const { clock, model, received, rule } = harness();
    rule();
    model.putRule({
      name: "other",
      eventPattern: { source: ["aws.ec2"] },
      target: { deliver: () => received.push("wrong target") },
    });
    const event = structuredClone(s3Event);
    const start = clock.t;
    model.putEvent(event);
    expect(received).toHaveLength(0);
    expect(model.nextDue()).toBe(start + 0.5 * 3000);
    drain(model, clock);
    expect(received).toStrictEqual([s3Event]);
    expect(received[0]).not.toBe(event);
    expect(model.pendingDeliveries()).toBe(0);
  });

  it("delivers the same event twice when it duplicates", () => {
    const { clock, model, received, rule } = harness({ duplicateProbability: 1 });
    rule();
    model.putEvent(s3Event);
    drain(model, clock);
    expect(received).toStrictEqual([s3Event, s3Event]);
  });

  it("does not keep the order in which events were put", () => {
    // Delays: the first event draws 0.9, the second 0.1 (of 3 s).
    const { clock, model, received, rule } = harness({ rng: sequence([0.9, 0.1]) });
    rule();
    model.putEvent({ ...s3Event, id: "first" });
    model.putEvent({ ...s3Event, id: "second" });
    drain(model, clock);
    const ids = received.map((event) =>
      typeof event === "object" && event !== null && "id" in event ? event.id : undefined,
    );
    expect(ids).toStrictEqual(["second", "first"]);
  });

  it("retries a target that fails to receive, then dead-letters with the attributes", () => {
    const { clock, model, dead, rule } = harness();
    let attempts = 0;
    rule({
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
      target: {
        arn: "arn:aws:lambda:ca-central-1:111122223333:function:replicator",
        deliver: () => {
          attempts += 1;
          throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    expect(attempts).toBe(3);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]?.MessageBody ?? "")).toStrictEqual(s3Event);
    expect(attributes(dead[0])).toStrictEqual({
      RULE_ARN: "arn:aws:events:ca-central-1:111122223333:rule/replicate",
      TARGET_ARN: "arn:aws:lambda:ca-central-1:111122223333:function:replicator",
      ERROR_CODE: "THROTTLING",
      ERROR_MESSAGE: "Rate exceeded",
      EXHAUSTED_RETRY_CONDITION: "MaximumRetryAttempts",
      RETRY_ATTEMPTS: "2",
    });
  });

  it("delivers on a retry once the target recovers", () => {
    const { clock, model, received, dead, rule } = harness();
    let attempts = 0;
    rule({
      target: {
        deliver: (event) => {
          attempts += 1;
          if (attempts < 3) throw new Error("busy");
          received.push(event);
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    expect(received).toStrictEqual([s3Event]);
    expect(dead).toHaveLength(0);
  });

  it("stops retrying at the maximum event age", () => {
    const { clock, model, dead, rule } = harness({ rng: () => 0.99 });
    let attempts = 0;
    const start = clock.t;
    rule({
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 60 },
      target: {
        deliver: () => {
          attempts += 1;
          throw Object.assign(new Error("slow down"), { name: "THROTTLING" });
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    const attrs = attributes(dead[0]);
    expect(attrs.EXHAUSTED_RETRY_CONDITION).toBe("MaximumEventAgeInSeconds");
    expect(attrs.ERROR_CODE).toBe("THROTTLING");
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(10);
    expect(attrs.RETRY_ATTEMPTS).toBe(String(attempts - 1));
    expect(clock.t - start).toBeGreaterThanOrEqual(60_000);
  });

  it("dead-letters a permission error at once, without retrying", () => {
    const { clock, model, dead, rule } = harness();
    let attempts = 0;
    rule({
      target: {
        deliver: () => {
          attempts += 1;
          throw Object.assign(new Error("not allowed"), { name: "AccessDeniedException" });
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    expect(attempts).toBe(1);
    const attrs = attributes(dead[0]);
    expect(attrs.ERROR_CODE).toBe("NO_PERMISSIONS");
    expect(attrs.RETRY_ATTEMPTS).toBe("0");
    expect(attrs).not.toHaveProperty("EXHAUSTED_RETRY_CONDITION");
  });

  it("drops an event that exhausted its retries when there is no dead-letter queue", () => {
    const { clock, model, rule } = harness();
    let attempts = 0;
    rule({
      deadLetter: undefined,
      retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      target: {
        deliver: () => {
          attempts += 1;
          throw new Error("down");
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    expect(attempts).toBe(1);
    expect(model.pendingDeliveries()).toBe(0);
  });

  it("retries up to 185 times by default", () => {
    const { clock, model, dead, rule } = harness({ rng: () => 0 });
    let attempts = 0;
    rule({
      target: {
        deliver: () => {
          attempts += 1;
          throw new Error("down");
        },
      },
    });
    model.putEvent(s3Event);
    drain(model, clock);
    expect(attempts).toBe(186);
    expect(attributes(dead[0]).RETRY_ATTEMPTS).toBe("185");
  });

  it("refuses a retry policy outside the documented ranges", () => {
    const { rule } = harness();
    expect(() => {
      rule({ retryPolicy: { maximumRetryAttempts: 186, maximumEventAgeInSeconds: 60 } });
    }).toThrow(RangeError);
    expect(() => {
      rule({ retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: 59 } });
    }).toThrow(RangeError);
  });
});
