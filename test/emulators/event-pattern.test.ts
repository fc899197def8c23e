/**
 * EventBridge pattern matching, from the examples of the EventBridge user guide (each test names
 * its page) and the S3 events AWS documents, including the program's own rule.
 */
import {
  matchesPattern,
  PatternError,
  type EventPattern,
} from "../../tools/emulators/event-pattern";
import {
  objectCreatedEvent,
  objectDeletedEvent,
  objectTagsEvent,
  sequencerAt,
} from "../../tools/emulators/events";
import { replicationEventPattern } from "../../lib/replication-plane";

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html (example event)
const ec2Event = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2Event, detail });

describe("matchesPattern: values, arrays, nesting (eb-event-patterns.html, eb-create-pattern.html)", () => {
  it("matches the guide's instance-termination pattern", () => {
    const pattern = {
      source: ["aws.ec2"],
      "detail-type": ["EC2 Instance State-change Notification"],
      detail: { state: ["terminated"] },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: "running" }))).toBe(false);
  });

  it("reads a list of values as OR", () => {
    const pattern = { detail: { state: ["terminated", "stopping", "stopped", "shutting-down"] } };
    expect(matchesPattern(pattern, withDetail({ state: "stopped" }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: "pending" }))).toBe(false);
  });

  it("requires every field of the pattern, with the same nesting", () => {
    expect(matchesPattern({ detail: { state: ["terminated"] } }, { ...ec2Event, detail: {} })).toBe(
      false,
    );
    expect(matchesPattern({ state: ["terminated"] }, ec2Event)).toBe(false);
    expect(
      matchesPattern({ detail: { state: ["terminated"] } }, withDetail({ state: { x: 1 } })),
    ).toBe(false);
  });

  it("matches an event array when it intersects the pattern's (eb-event-patterns-arrays.html)", () => {
    const pattern = {
      resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    };
    expect(matchesPattern(pattern, { resources: ["other", pattern.resources[0]] })).toBe(true);
    expect(matchesPattern(pattern, { resources: ["other"] })).toBe(false);
  });

  it("tells null from the empty string (eb-event-patterns-null-values.html)", () => {
    const event = withDetail({ eventVersion: "", responseElements: null });
    expect(matchesPattern({ detail: { eventVersion: [""] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { responseElements: [""] } }, event)).toBe(false);
  });

  it("compares numbers as numbers, never as their text", () => {
    expect(matchesPattern({ detail: { count: [5] } }, withDetail({ count: 5 }))).toBe(true);
    expect(matchesPattern({ detail: { count: [5] } }, withDetail({ count: "5" }))).toBe(false);
  });
});

describe("matchesPattern: operators (eb-create-pattern-operators.html)", () => {
  it("prefix matches string values that start with it, and nothing else", () => {
    const pattern = { time: [{ prefix: "2017-12-22" }] };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { ...ec2Event, time: "2018-01-01T00:00:00Z" })).toBe(false);
    expect(matchesPattern({ detail: { n: [{ prefix: "1" }] } }, withDetail({ n: 12 }))).toBe(false);
  });

  it.each([
    [{ "anything-but": "initializing" }, "running", true],
    [{ "anything-but": "initializing" }, "initializing", false],
    [{ "anything-but": ["stopped", "overloaded"] }, "running", true],
    [{ "anything-but": ["stopped", "overloaded"] }, "overloaded", false],
    [{ "anything-but": { prefix: "init" } }, "running", true],
    [{ "anything-but": { prefix: "init" } }, "initializing", false],
  ])("anything-but %j on state %j matches: %s", (matcher, state, expected) => {
    expect(matchesPattern({ detail: { state: [matcher] } }, withDetail({ state }))).toBe(expected);
  });

  it("anything-but on numbers (the guide's x-limit example)", () => {
    const pattern = { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } };
    expect(matchesPattern(pattern, withDetail({ "x-limit": 150 }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ "x-limit": 200 }))).toBe(false);
  });

  it("an absent field matches neither a value, nor prefix, nor anything-but", () => {
    const event = withDetail({});
    expect(matchesPattern({ detail: { state: [{ "anything-but": "x" }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ prefix: "" }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [null] } }, event)).toBe(false);
  });

  it("exists: true matches a present leaf; exists: false matches only absence", () => {
    const present = { detail: { "c-count": [{ exists: true }] } };
    const absent = { detail: { "c-count": [{ exists: false }] } };
    expect(matchesPattern(present, withDetail({ "c-count": 5 }))).toBe(true);
    expect(matchesPattern(present, withDetail({}))).toBe(false);
    expect(matchesPattern(absent, withDetail({}))).toBe(true);
    expect(matchesPattern(absent, withDetail({ "c-count": 5 }))).toBe(false);
    expect(matchesPattern(absent, { source: "x" })).toBe(true);
  });

  it("exists works on leaf nodes only", () => {
    const pattern = { detail: [{ exists: true }] };
    expect(matchesPattern(pattern, ec2Event)).toBe(false);
  });

  it("$or: Location is New York, or Day is Monday", () => {
    const pattern = { detail: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] } };
    expect(matchesPattern(pattern, withDetail({ Location: "New York", Day: "Friday" }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ Location: "Paris", Day: "Monday" }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ Location: "Paris", Day: "Friday" }))).toBe(false);
  });

  it.each<[EventPattern, RegExp]>([
    [{ detail: { n: [{ numeric: [">", 0] }] } }, /detail\.n: operator "numeric" is not simulated/],
    [{ detail: { n: [{ prefix: 1 }] } }, /detail\.n: prefix takes a string/],
    [{ detail: { n: [{ exists: "yes" }] } }, /exists takes true or false/],
    [{ detail: { n: [{ "anything-but": ["a", 1] }] } }, /only strings or only numbers/],
    [{ detail: { n: [{ "anything-but": { suffix: "a" } }] } }, /anything-but takes a value/],
    [{ detail: { n: [{ prefix: "a", exists: true }] } }, /exactly one key/],
    [{ detail: { n: [["a"]] } }, /got an array/],
    [{ detail: { n: "a" } }, /detail\.n: a pattern field holds an object or an array/],
    [{ detail: { $or: [] } }, /detail\.\$or: \$or takes a list of patterns/],
  ])("refuses %j", (pattern, message) => {
    const event = withDetail({ n: "a" });
    expect(() => matchesPattern(pattern, event)).toThrow(PatternError);
    expect(() => matchesPattern(pattern, event)).toThrow(message);
  });
});

describe("the program's replication rule against S3's documented events", () => {
  const pattern = replicationEventPattern("prod-bucket", []);
  const input = { bucket: "prod-bucket", key: "a.txt", sequencer: sequencerAt(1) };

  it.each([
    ["Object Created", true, objectCreatedEvent(input)],
    ["Object Deleted (DeleteObject)", true, objectDeletedEvent(input)],
    ["Object Tags Added (no reason field)", true, objectTagsEvent({ ...input, change: "added" })],
    ["Object Tags Deleted", true, objectTagsEvent({ ...input, change: "deleted" })],
    [
      "Object Deleted (Lifecycle Expiration)",
      false,
      objectDeletedEvent({ ...input, reason: "Lifecycle Expiration" }),
    ],
    ["another bucket", false, objectCreatedEvent({ ...input, bucket: "dev-bucket" })],
  ])("%s matches: %s", (_, expected, event) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it("key prefixes restrict the keys", () => {
    const restricted = replicationEventPattern("prod-bucket", ["data/"]);
    expect(matchesPattern(restricted, objectCreatedEvent({ ...input, key: "data/x" }))).toBe(true);
    expect(matchesPattern(restricted, objectCreatedEvent(input))).toBe(false);
  });
});
