/**
 * Everything a bucket or table holds, page after page: the one listing the sandbox's convergence
 * check and the replication tests both read environments through.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListObjectsV2Command, type S3Client, type _Object } from "@aws-sdk/client-s3";

/** Every object listed in the bucket (ListObjectsV2, following continuation tokens). */
export async function* listAllObjects(s3: S3Client, bucket: string): AsyncGenerator<_Object> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    yield* page.Contents ?? [];
    token = page.NextContinuationToken;
  } while (token !== undefined);
}

/** Every item of the table (consistent Scan, following LastEvaluatedKey). */
export async function* scanAllItems(
  dynamodb: DynamoDBClient,
  table: string,
): AsyncGenerator<Record<string, AttributeValue>> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}
