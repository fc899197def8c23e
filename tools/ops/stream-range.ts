/**
 * Reads the stream records of a failed batch back from DynamoDB Streams, as a stream event
 * source mapping's on-failure record asks ("The actual records aren't included, so you must
 * process this record and retrieve them from the stream before they expire and are lost",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html): GetShardIterator
 * AT_SEQUENCE_NUMBER the batch's first record, then GetRecords until its last one, or the end of a
 * closed shard (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
 * Empty pages do not mean the end: "GetRecords can retrieve a maximum of 1 MB of data or 1000
 * stream records, whichever comes first"; "it might take multiple calls to get to a portion of
 * the shard that contains stream records" (same page), and an open shard always returns a next
 * iterator. A read that stops before the range's end throws, so that redrive keeps the message.
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

/** The range's records could not all be read: the message is kept for a later run. */
export class StreamRangeIncompleteError extends Error {
  override readonly name = "StreamRangeIncompleteError";
}

/**
 * Empty pages in a row after which the read gives up (the message is kept): a safeguard against
 * a shard that never reaches the range's end, far above the empty pages AWS documents before a
 * shard's records.
 */
export const MAX_EMPTY_PAGES = 1000;

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
    // No next iterator: a closed shard read to its end ("If set to null, the shard has been
    // closed and the requested iterator does not return any more data", API_streams_GetRecords).
    while (iterator !== undefined) {
      if (empty >= MAX_EMPTY_PAGES) {
        throw new StreamRangeIncompleteError(
          `the records ${batch.startSequenceNumber}..${batch.endSequenceNumber} of ${batch.shardId} ` +
            `were not all read: ${MAX_EMPTY_PAGES} empty pages in a row before ${batch.endSequenceNumber}; ` +
            `the message is kept for the next run`,
        );
      }
      const page = await streams.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
      );
      const found = page.Records ?? [];
      empty = found.length === 0 ? empty + 1 : 0;
      for (const record of found) {
        const sequence = BigInt(record.dynamodb?.SequenceNumber ?? "0");
        if (sequence > end) return records;
        records.push(asLambdaRecord(record, batch.streamArn));
        if (sequence === end) return records;
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
