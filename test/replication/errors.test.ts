/** Unit tests of error summaries and classification (lib/replication/errors.ts). */
import {
  MetadataTooLargeError,
  TimeBudgetError,
  attemptsOf,
  isRetryable,
  statusOf,
  summarizeError,
} from "../../lib/replication/errors";

const sdkError = (name: string, status?: number, extra: object = {}): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

describe("summarizeError", () => {
  it("keeps name and message of errors and stringifies anything else", () => {
    expect(summarizeError(sdkError("SlowDown", 503))).toEqual({
      name: "SlowDown",
      message: "SlowDown",
    });
    expect(summarizeError("plain")).toEqual({ name: "Error", message: "plain" });
  });
});

describe("attemptsOf / statusOf", () => {
  it("read the SDK metadata when present", () => {
    expect(attemptsOf(sdkError("X", 500, { $metadata: { attempts: 4 } }))).toBe(4);
    expect(attemptsOf(sdkError("X", 500))).toBe(1);
    expect(attemptsOf(new Error("x"))).toBe(1);
    expect(attemptsOf(null)).toBe(1);
    expect(statusOf(sdkError("X", 403))).toBe(403);
    expect(statusOf("x")).toBeUndefined();
  });
});

describe("isRetryable", () => {
  it.each([
    ["503 SlowDown", sdkError("SlowDown", 503), true],
    ["500 InternalError", sdkError("InternalError", 500), true],
    ["ThrottlingException", sdkError("ThrottlingException", 400), true],
    [
      "ProvisionedThroughputExceededException",
      sdkError("ProvisionedThroughputExceededException", 400),
      true,
    ],
    ["connection reset", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), true],
    ["AccessDenied", sdkError("AccessDenied", 403), false],
    ["NoSuchBucket", sdkError("NoSuchBucket", 404), false],
    ["a non-error", "oops", false],
  ])("classes %s as retryable=%s", (_name, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});

describe("changes that cannot be applied as they stand", () => {
  it("are never retryable, and carry their reason", () => {
    const tooLarge = new MetadataTooLargeError("no room");
    const late = new TimeBudgetError("no time");

    expect([tooLarge.reason, late.reason]).toEqual(["metadata-too-large", "time-budget"]);
    expect(isRetryable(tooLarge)).toBe(false);
    expect(isRetryable(late)).toBe(false);
    expect([tooLarge.name, late.name]).toEqual(["MetadataTooLargeError", "TimeBudgetError"]);
  });
});
