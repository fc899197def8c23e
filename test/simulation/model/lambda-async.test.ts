// Tests of the model of Lambda's asynchronous invocation: the queue, retries of function errors
// and timeouts (1 then 2 minutes apart), throttles, the maximum event age, duplicates, and the
// on-failure invocation record.
import {
  AsyncInvocationModel,
  type AsyncInvocationOptions,
} from "../../../tools/simulation/model/lambda-async";
import type { Invocation } from "../../../tools/simulation/model/lambda-types";

class TestClock {
  t = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
  now(): number {
    return this.t;
  }
}

const functionArn = "arn:aws:lambda:ca-central-1:111122223333:function:replicator";
const event = { "detail-type": "Object Created", detail: { object: { key: "a.txt" } } };

function setup(overrides: Partial<AsyncInvocationOptions> = {}) {
  const clock = new TestClock();
  const records: Record<string, unknown>[] = [];
  const model = new AsyncInvocationModel({
    clock,
    rng: () => 0.5,
    functionArn,
    timeoutMs: 3000,
    maximumRetryAttempts: 2,
    maximumEventAgeSeconds: 21600,
    onFailure: {
      send: (record) => {
        if (typeof record === "object" && record !== null) {
          records.push(Object.fromEntries(Object.entries(record)));
        }
      },
    },
    duplicateProbability: 0,
    throttleProbability: 0,
    ...overrides,
  });
  /** Advances to the model's next due time and returns what Lambda starts then. */
  const step = (): Invocation[] => {
    const due = model.nextDue();
    if (due === undefined) return [];
    clock.t = Math.max(clock.t, due);
    model.runDue();
    const started: Invocation[] = [];
    for (let invocation = model.next(); invocation; invocation = model.next()) {
      started.push(invocation);
    }
    return started;
  };
  return { clock, model, records, step };
}

const boom = { kind: "error", errorType: "Error", errorMessage: "boom" } as const;

describe("Lambda asynchronous invocation", () => {
  it("queues the event and starts it a little later, with the function's timeout", () => {
    const { clock, model, step } = setup();
    const start = clock.t;
    model.invoke(event);
    expect(model.next()).toBeUndefined();
    expect(model.nextDue()).toBe(start + 500);
    const [invocation, extra] = step();
    expect(extra).toBeUndefined();
    expect(invocation).toMatchObject({ payload: event, timeoutMs: 3000, source: "async" });
    expect(invocation?.payload).not.toBe(event);
    expect(model.pendingEvents()).toBe(1);
  });

  it("is done with an event once the function succeeds", () => {
    const { model, records, step } = setup();
    model.invoke(event);
    const [invocation] = step();
    model.finished(invocation?.id ?? "", { kind: "success", response: null });
    expect(model.pendingEvents()).toBe(0);
    expect(model.nextDue()).toBeUndefined();
    expect(records).toHaveLength(0);
  });

  it("retries a function error twice, one then two minutes later, then records the failure", () => {
    const { clock, model, records, step } = setup();
    model.invoke(event);
    const [first] = step();
    const failedAt = clock.t;
    model.finished(first?.id ?? "", boom);
    expect(model.next()).toBeUndefined();
    expect(model.nextDue()).toBe(failedAt + 60_000);
    const [second] = step();
    expect(clock.t).toBe(failedAt + 60_000);
    model.finished(second?.id ?? "", boom);
    expect(model.nextDue()).toBe(clock.t + 120_000);
    const [third] = step();
    expect(third?.payload).toStrictEqual(event);
    model.finished(third?.id ?? "", { kind: "error", errorType: "TypeError", errorMessage: "x" });
    expect(model.pendingEvents()).toBe(0);
    expect(records).toHaveLength(1);
    const record = records[0];
    const requestId = /"requestId":"([^"]+)"/.exec(JSON.stringify(record?.requestContext))?.[1];
    expect(requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(record).toStrictEqual({
      version: "1.0",
      timestamp: new Date(clock.t).toISOString(),
      requestContext: {
        requestId,
        functionArn: `${functionArn}:$LATEST`,
        condition: "RetriesExhausted",
        approximateInvokeCount: 3,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "TypeError", errorMessage: "x", trace: [] },
    });
  });

  it("retries a timeout as a function error and records the runtime's message", () => {
    const { model, records, step } = setup({ maximumRetryAttempts: 1 });
    model.invoke(event);
    for (let i = 0; i < 2; i++) {
      const [invocation] = step();
      model.finished(invocation?.id ?? "", { kind: "timeout" });
    }
    expect(records[0]?.requestContext).toMatchObject({ approximateInvokeCount: 2 });
    expect(Object.keys(records[0]?.responsePayload ?? {})).toStrictEqual(["errorMessage"]);
    expect(JSON.stringify(records[0]?.responsePayload)).toMatch(
      / Task timed out after 3\.00 seconds"}$/,
    );
  });

  it("does not retry with zero retry attempts", () => {
    const { model, records, step } = setup({ maximumRetryAttempts: 0 });
    model.invoke(event);
    const [invocation] = step();
    model.finished(invocation?.id ?? "", boom);
    expect(records[0]?.requestContext).toMatchObject({
      condition: "RetriesExhausted",
      approximateInvokeCount: 1,
    });
  });

  it("discards an event whose retry comes due past the maximum age", () => {
    const { model, records, step } = setup({ maximumEventAgeSeconds: 60 });
    model.invoke(event);
    const [invocation] = step();
    model.finished(invocation?.id ?? "", boom);
    expect(step()).toStrictEqual([]);
    expect(model.pendingEvents()).toBe(0);
    expect(records[0]?.requestContext).toMatchObject({
      condition: "EventAgeExceeded",
      approximateInvokeCount: 1,
    });
    expect(records[0]?.responsePayload).toMatchObject({ errorMessage: "boom" });
  });

  it("retries a throttled event 1 s, 2 s, 4 s ... up to 5 min apart until it is too old", () => {
    const { clock, model, records, step } = setup({
      throttleProbability: 1,
      maximumEventAgeSeconds: 3600,
    });
    const start = clock.t;
    model.invoke(event);
    const gaps: number[] = [];
    let last = clock.t;
    while (model.pendingEvents() > 0) {
      expect(step()).toStrictEqual([]);
      gaps.push(clock.t - last);
      last = clock.t;
    }
    expect(gaps.slice(1, 11)).toStrictEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
    ]);
    expect(clock.t - start).toBeGreaterThan(3_600_000);
    expect(records).toHaveLength(1);
    expect(records[0]?.requestContext).toMatchObject({
      condition: "EventAgeExceeded",
      approximateInvokeCount: 0,
    });
    expect(records[0]).not.toHaveProperty("responseContext");
    expect(records[0]).not.toHaveProperty("responsePayload");
  });

  it("may hand the same event out twice, both at once, with the same request", () => {
    const { model, records, step } = setup({ duplicateProbability: 1, maximumRetryAttempts: 0 });
    model.invoke(event);
    const started = step();
    expect(started).toHaveLength(2);
    expect(started[0]?.payload).toStrictEqual(started[1]?.payload);
    expect(started[0]?.id).not.toBe(started[1]?.id);
    for (const invocation of started) model.finished(invocation.id, boom);
    expect(records).toHaveLength(2);
    const ids = records.map((record) => JSON.stringify(record.requestContext));
    expect(ids[0]).toBe(ids[1]);
  });

  it("does not start events in the order they were invoked", () => {
    const { model, step } = setup();
    model.invoke({ n: 1 });
    model.invoke({ n: 2 });
    expect(step().map((invocation) => invocation.payload)).toStrictEqual([{ n: 2 }, { n: 1 }]);
  });

  it("names the qualifier that ran", () => {
    const { model, records, step } = setup({
      functionArn: `${functionArn}:7`,
      maximumRetryAttempts: 0,
    });
    model.invoke(event);
    const [invocation] = step();
    model.finished(invocation?.id ?? "", boom);
    expect(records[0]?.requestContext).toMatchObject({ functionArn: `${functionArn}:7` });
    expect(records[0]?.responseContext).toMatchObject({ executedVersion: "7" });
  });

  it("sends nothing when no on-failure destination is configured", () => {
    const { model, step } = setup({ onFailure: undefined, maximumRetryAttempts: 0 });
    model.invoke(event);
    const [invocation] = step();
    model.finished(invocation?.id ?? "", boom);
    expect(model.pendingEvents()).toBe(0);
  });

  it("refuses an unknown invocation and settings outside the documented ranges", () => {
    const { model } = setup();
    expect(() => {
      model.finished("nope", boom);
    }).toThrow("No asynchronous invocation nope");
    expect(() => setup({ maximumRetryAttempts: 3 })).toThrow(RangeError);
    expect(() => setup({ maximumEventAgeSeconds: 59 })).toThrow(RangeError);
    expect(() => setup({ maximumEventAgeSeconds: 21601 })).toThrow(RangeError);
  });
});
