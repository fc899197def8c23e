/**
 * Reads the stream records of a failed batch back from DynamoDB Streams, as a stream event
 * source mapping's on-failure record asks ("The actual records aren't included, so you must
 * process this record and retrieve them from the stream before they expire and are lost",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html): GetShardIterator
 * AT_SEQUENCE_NUMBER the batch's first record, then GetRecords until past its last one
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import type { StreamBatchInfo } from "./dead-letters";

/** The batch is older than the stream keeps records (24 hours on DynamoDB Streams). */
export class StreamRetentionError extends Error {
  override readonly name = "StreamRetentionError";
}

/** Empty pages in a row after which an open shard is taken as read to its end. */
export const MAX_EMPTY_PAGES = 3;

/**
 * A record as GetRecords returns it, in the shape Lambda delivers (Lambda adds
 * `eventSourceARN`; the SDK gives `ApproximateCreationDateTime` as a Date, Lambda as seconds).
 */
export function asLambdaRecord(record: _Record, streamArn: string): Record<string, unknown> {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    ...record,
    eventSourceARN: streamArn,
    dynamodb: {
      ...record.dynamodb,
      ApproximateCreationDateTime:
        created === undefined ? undefined : Math.floor(created.getTime() / 1000),
    },
  };
}

function isTrimmed(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "TrimmedDataAccessException" || error.name === "ResourceNotFoundException")
  );
}

/** Every record of the batch, in stream order, in Lambda's shape. */
export async function readStreamRange(
  streams: DynamoDBStreamsClient,
  batch: StreamBatchInfo,
): Promise<Record<string, unknown>[]> {
  const end = BigInt(batch.endSequenceNumber);
  const records: Record<string, unknown>[] = [];
  try {
    const start = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        SequenceNumber: batch.startSequenceNumber,
      }),
    );
    let iterator = start.ShardIterator;
    let empty = 0;
    while (iterator !== undefined && empty < MAX_EMPTY_PAGES) {
      const page = await streams.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      const found = page.Records ?? [];
      empty = found.length === 0 ? empty + 1 : 0;
      for (const record of found) {
        if (BigInt(record.dynamodb?.SequenceNumber ?? "0") > end) return records;
        records.push(asLambdaRecord(record, batch.streamArn));
      }
      iterator = page.NextShardIterator;
    }
    return records;
  } catch (error: unknown) {
    if (isTrimmed(error)) {
      throw new StreamRetentionError(
        `the records ${batch.startSequenceNumber}..${batch.endSequenceNumber} of ${batch.shardId} ` +
          `are no longer in the stream (past its 24-hour retention, or the stream is gone): ` +
          `run \`npm run resync -- --items-only\` to bring the targets back to the source`,
      );
    }
    throw error;
  }
}
