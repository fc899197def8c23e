/** Reading a failed batch back from DynamoDB Streams (tools/ops/stream-range.ts), mocked API. */
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb-streams";
import { mockClient } from "aws-sdk-client-mock";
import { itemKeys, streamArn, streamSequenceAt } from "../../tools/emulators/events";
import {
  MAX_EMPTY_PAGES,
  StreamRangeIncompleteError,
  StreamRetentionError,
  asLambdaRecord,
  readStreamRange,
} from "../../tools/ops/stream-range";

const streams = new DynamoDBStreamsClient({
  region: "us-east-1",
  credentials: { accessKeyId: "t", secretAccessKey: "t" },
});
const mock = mockClient(streams);
const batch = {
  shardId: "shard-1",
  startSequenceNumber: streamSequenceAt(1),
  endSequenceNumber: streamSequenceAt(3),
  streamArn: streamArn("prod-table"),
};
const record = (n: number) => ({
  eventID: `e${n}`,
  dynamodb: { Keys: itemKeys(`k${n}`, "s"), SequenceNumber: streamSequenceAt(n) },
});

beforeEach(() => {
  mock.reset();
  mock.on(GetShardIteratorCommand).resolves({ ShardIterator: "it" });
});

it("reads on through empty pages until the range's last record, and stops there", async () => {
  // "it might take multiple calls to get to a portion of the shard that contains stream records"
  mock
    .on(GetRecordsCommand)
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ Records: [record(1)], NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ NextShardIterator: "it" })
    .resolvesOnce({ Records: [record(2), record(3)], NextShardIterator: "it" })
    .resolves({ Records: [record(4)], NextShardIterator: "it" });

  const records = await readStreamRange(streams, batch);

  expect(records.map((r) => r.eventID)).toEqual(["e1", "e2", "e3"]);
  expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(9);
});

it("stops before a record past the range's end", async () => {
  mock
    .on(GetRecordsCommand)
    .resolvesOnce({ Records: [record(1), record(2)], NextShardIterator: "it" })
    .resolves({ Records: [record(5)], NextShardIterator: "it" });

  await expect(readStreamRange(streams, batch)).resolves.toHaveLength(2);
});

it("fails (so that the message is kept) when an open shard never reaches the range's end", async () => {
  mock
    .on(GetRecordsCommand)
    .resolvesOnce({ Records: [record(1)], NextShardIterator: "it" })
    .resolves({ NextShardIterator: "it" });

  await expect(readStreamRange(streams, batch)).rejects.toThrow(StreamRangeIncompleteError);
  expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(1 + MAX_EMPTY_PAGES);
});

it("stops at a closed shard (no next iterator)", async () => {
  mock.on(GetRecordsCommand).resolves({ Records: [record(1), record(2)] });

  await expect(readStreamRange(streams, batch)).resolves.toHaveLength(2);
});

it("takes a stream that is gone as past its retention, and rethrows anything else", async () => {
  mock
    .on(GetShardIteratorCommand)
    .rejects(new ResourceNotFoundException({ message: "gone", $metadata: {} }));
  await expect(readStreamRange(streams, batch)).rejects.toThrow(StreamRetentionError);

  mock.on(GetShardIteratorCommand).rejects(new Error("network down"));
  await expect(readStreamRange(streams, batch)).rejects.toThrow("network down");
});

it("gives a record Lambda's shape: the stream ARN, seconds for the creation time", () => {
  expect(asLambdaRecord({ eventID: "e", dynamodb: {} }, "arn:s")).toEqual({
    eventID: "e",
    eventSourceARN: "arn:s",
    dynamodb: { ApproximateCreationDateTime: undefined },
  });
  expect(
    asLambdaRecord({ dynamodb: { ApproximateCreationDateTime: new Date(1500) } }, "arn:s"),
  ).toMatchObject({ dynamodb: { ApproximateCreationDateTime: 1 } });
});
