/**
 * The simulations wired together as the sandbox and the replication tests will use them: one
 * pipeline with event sources, a stub function in the Lambda host, the rule fed by the S3
 * events and the event source mapping reading the source table's stream. A write to the source
 * reaches the function as AWS would deliver it.
 */
import * as path from "node:path";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { replicationEventPattern } from "../../lib/replication-plane";
import { EMULATOR_CREDENTIALS } from "../../tools/emulators/emulators";
import { itemKeys } from "../../tools/emulators/events";
import { startLambdaHost } from "../../tools/emulators/lambda-host";
import {
  startEventBridgeRule,
  startStreamEventSourceMapping,
} from "../../tools/emulators/lambda-service";
import { startPipeline } from "../../tools/emulators/pipeline";

it("delivers a source object's event and a source item's record to the function", async () => {
  const pipeline = await startPipeline(
    {
      source: { environment: "prod", bucket: "prod-b", table: "prod-t", region: "us-east-1" },
      targets: [{ environment: "dev", bucket: "dev-b", table: "dev-t", region: "us-east-1" }],
      queues: ["dlq"],
    },
    { eventSources: true },
  );
  const host = startLambdaHost({
    handlerFile: path.join(__dirname, "../fixtures/lambda/stub-handler.mjs"),
    functionName: "replication",
    timeoutSeconds: 30,
    ...pipeline.function,
  });
  const streams = new DynamoDBStreamsClient({
    region: "us-east-1",
    endpoint: pipeline.function.environment.AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
    credentials: { ...EMULATOR_CREDENTIALS },
  });
  try {
    const { s3Events, stream } = pipeline;
    const clients = pipeline.clients["us-east-1"];
    const dlqUrl = pipeline.queueUrls.dlq;
    if (s3Events === undefined || stream === undefined || clients === undefined) {
      throw new Error("the pipeline has no event sources");
    }
    if (dlqUrl === undefined) throw new Error("no dlq");
    const rule = startEventBridgeRule({
      ruleName: "replication",
      pattern: replicationEventPattern("prod-b", []),
      host,
      functionName: "replication",
      async: { onFailure: { sqs: clients.sqs, queueUrl: dlqUrl } },
    });
    s3Events.onEvent((event) => {
      rule.put(event);
    });
    const mapping = startStreamEventSourceMapping({
      host,
      functionName: "replication",
      streams,
      streamArn: stream.streamArn,
      clock: stream.now,
      batchSize: 10,
      reportBatchItemFailures: true,
      maximumRetryAttempts: 2,
      onFailure: { sqs: clients.sqs, queueUrl: dlqUrl },
    });

    await clients.s3.send(new PutObjectCommand({ Bucket: "prod-b", Key: "k 1.txt", Body: "x" }));
    await clients.dynamodb.send(
      new PutItemCommand({ TableName: "prod-t", Item: itemKeys("p", "s") }),
    );
    const asyncReport = await rule.idle();
    const streamReport = await mapping.drain();

    const [eventCall] = asyncReport.successRecords as { responsePayload: { echo: unknown } }[];
    expect(eventCall?.responsePayload.echo).toEqual(s3Events.events()[0]);
    expect(streamReport.invocations).toHaveLength(1);
    expect(streamReport.invocations[0]?.outcome).toBe("success");
    expect(streamReport.checkpoint).toBe(stream.records()[0]?.dynamodb?.SequenceNumber);
    expect(host.coldStarts).toBe(1);
  } finally {
    streams.destroy();
    await host.stop();
    await pipeline.stop();
  }
});
