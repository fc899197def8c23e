/** Telling the DLQ's shapes apart (tools/ops/dead-letters.ts), from AWS's documented shapes. */
import { classifyLetter } from "../../tools/ops/dead-letters";
import {
  asyncFailureRecord,
  eventBridgeDeadLetter,
  objectCreatedEvent,
  streamFailureRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";

const event = objectCreatedEvent({ bucket: "b", key: "k", sequencer: "0A" });
const attributes = (values: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      { DataType: "String", StringValue: value },
    ]),
  );

it("tells an EventBridge target dead letter by its ERROR_CODE attribute", () => {
  const letter = eventBridgeDeadLetter({ event, ruleName: "r", functionName: "f" });
  expect(
    classifyLetter({ Body: letter.body, MessageAttributes: attributes(letter.attributes) }),
  ).toMatchObject({ shape: "eventbridge-target", errorCode: "NO_PERMISSIONS", event });
  // Without ERROR_MESSAGE, the message is empty rather than missing.
  expect(
    classifyLetter({
      Body: letter.body,
      MessageAttributes: attributes({ ERROR_CODE: "THROTTLING" }),
    }),
  ).toMatchObject({ errorCode: "THROTTLING", errorMessage: "" });
});

it("tells an asynchronous invocation record, with or without an error payload", () => {
  const record = asyncFailureRecord({ event, functionName: "f" });
  expect(classifyLetter({ Body: JSON.stringify(record) })).toMatchObject({
    shape: "async-invocation",
    condition: "RetriesExhausted",
    error: "Task timed out after 120.00 seconds",
    event,
  });
  const withoutPayload: Partial<typeof record> = { ...record };
  delete withoutPayload.responsePayload;
  expect(classifyLetter({ Body: JSON.stringify(withoutPayload) })).toMatchObject({ error: "" });
});

it("tells a stream batch record by its DDBStreamBatchInfo", () => {
  const record = streamFailureRecord({
    table: "t",
    functionName: "f",
    startSequenceNumber: streamSequenceAt(1),
    endSequenceNumber: streamSequenceAt(2),
    batchSize: 2,
  });
  expect(classifyLetter({ Body: JSON.stringify(record) })).toMatchObject({
    shape: "stream-batch",
    batch: { startSequenceNumber: streamSequenceAt(1), endSequenceNumber: streamSequenceAt(2) },
  });
});

it("calls anything else unknown, saying why", () => {
  expect(classifyLetter({})).toEqual({ shape: "unknown", why: "body is not JSON" });
  expect(classifyLetter({ Body: "[1]" })).toMatchObject({ shape: "unknown" });
});
