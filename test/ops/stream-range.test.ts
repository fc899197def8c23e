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

it("stops at an open shard's end: empty pages in a row", async () => {
  mock
    .on(GetRecordsCommand)
    .resolvesOnce({ Records: [record(1)], NextShardIterator: "it" })
    .resolves({ NextShardIterator: "it" });

  const records = await readStreamRange(streams, batch);

  expect(records.map((r) => r.eventID)).toEqual(["e1"]);
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
