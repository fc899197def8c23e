/**
 * The one emulator setup: a layout with a target in a second region gets two emulator sets,
 * each bucket, table and queue where the layout puts it, the function's environment (its own
 * region through AWS_ENDPOINT_URL_*, the other through REGION_ENDPOINTS; faults on its traffic
 * only), optional event sources, and a stop that stops everything.
 */
import { request } from "node:http";
import * as path from "node:path";
import { DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { HeadBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { itemKeys } from "../../tools/emulators/events";
import { configurationProblems, startLambdaHost } from "../../tools/emulators/lambda-host";
import {
  layoutProblems,
  PipelineLayoutError,
  startPipeline,
  type Pipeline,
  type PipelineLayout,
} from "../../tools/emulators/pipeline";

const layout: PipelineLayout = {
  source: { environment: "prod", bucket: "prod-bucket", table: "prod-table", region: "us-east-1" },
  targets: [
    { environment: "dev", bucket: "dev-bucket", table: "dev-table", region: "us-east-1" },
    { environment: "qa", bucket: "qa-bucket", table: "qa-table", region: "eu-west-1" },
  ],
  queues: ["replication-dlq", { name: "eu-queue", region: "eu-west-1" }],
};

const probe = path.join(__dirname, "../fixtures/lambda/pipeline-probe.mjs");

const outcome = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return "ok";
  } catch (error: unknown) {
    return error instanceof Error ? error.name : String(error);
  }
};

/** Runs the probe function with the pipeline's function setup. */
async function probeFrom(
  pipeline: Pipeline,
  targets: readonly { region: string; bucket: string; table: string }[],
): Promise<unknown[]> {
  const host = startLambdaHost({
    handlerFile: probe,
    functionName: "replication",
    timeoutSeconds: 30,
    ...pipeline.function,
    environment: {
      ...pipeline.function.environment,
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1",
    },
  });
  try {
    const results: unknown[] = [];
    for (const target of targets) {
      const result = await host.invoke(target);
      results.push(result.ok ? result.value : result.error);
    }
    return results;
  } finally {
    await host.stop();
  }
}

describe("a layout with a target in a second region", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline(layout);
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  const client = (region: string) => {
    const found = pipeline.clients[region];
    if (found === undefined) throw new Error(`no clients for ${region}`);
    return found;
  };

  it("starts one emulator set per region", () => {
    expect(Object.keys(pipeline.endpoints).sort()).toEqual(["eu-west-1", "us-east-1"]);
    const all = Object.values(pipeline.endpoints).flatMap((each) => [
      each.s3,
      each.dynamodb,
      each.sqs,
    ]);
    expect(new Set(all).size).toBe(6);
  });

  it("creates each bucket and table in its own region only", async () => {
    const east = client("us-east-1");
    const west = client("eu-west-1");
    const bucket = (c: typeof east, name: string) =>
      outcome(c.s3.send(new HeadBucketCommand({ Bucket: name })));
    const table = (c: typeof east, name: string) =>
      outcome(c.dynamodb.send(new DescribeTableCommand({ TableName: name })));
    // Bucket names are one namespace: a bucket of the other region answers "301 Moved
    // Permanently" (a HEAD carries no error code, hence the SDK's "Unknown"), never 404.
    expect(
      await Promise.all(["prod-bucket", "dev-bucket", "qa-bucket"].map((b) => bucket(east, b))),
    ).toEqual(["ok", "ok", "Unknown"]);
    expect(await Promise.all(["prod-bucket", "qa-bucket"].map((b) => bucket(west, b)))).toEqual([
      "Unknown",
      "ok",
    ]);
    expect(await bucket(east, "no-such-bucket")).toBe("NotFound");
    expect(
      await Promise.all(["prod-table", "dev-table", "qa-table"].map((t) => table(east, t))),
    ).toEqual(["ok", "ok", "ResourceNotFoundException"]);
    expect(await table(west, "qa-table")).toBe("ok");
  });

  it("creates each queue in its region (the source's by default)", async () => {
    const east = await client("us-east-1").sqs.send(
      new GetQueueUrlCommand({ QueueName: "replication-dlq" }),
    );
    const west = await client("eu-west-1").sqs.send(
      new GetQueueUrlCommand({ QueueName: "eu-queue" }),
    );
    expect(pipeline.queueUrls).toEqual({
      "replication-dlq": east.QueueUrl,
      "eu-queue": west.QueueUrl,
    });
    await expect(
      client("eu-west-1").sqs.send(new GetQueueUrlCommand({ QueueName: "replication-dlq" })),
    ).rejects.toThrow();
  });

  it("gives the function its region's endpoints and every region's, and no reserved key", () => {
    const east = pipeline.endpoints["us-east-1"];
    expect(pipeline.function).toEqual({
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      environment: {
        AWS_ENDPOINT_URL_S3: east?.s3,
        AWS_ENDPOINT_URL_DYNAMODB: east?.dynamodb,
        AWS_ENDPOINT_URL_SQS: east?.sqs,
        REGION_ENDPOINTS: JSON.stringify(pipeline.endpoints),
        S3_FORCE_PATH_STYLE: "true",
      },
    });
    expect(
      configurationProblems({
        handlerFile: probe,
        functionName: "f",
        timeoutSeconds: 1,
        ...pipeline.function,
      }),
    ).toEqual([]);
    expect(pipeline.runtimeEnvironment).toMatchObject({
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_S3: east?.s3,
    });
  });

  it("lets a function reach a target in its region and one in the other region", async () => {
    const results = await probeFrom(pipeline, [
      { region: "us-east-1", bucket: "dev-bucket", table: "dev-table" },
      { region: "eu-west-1", bucket: "qa-bucket", table: "qa-table" },
      { region: "us-east-1", bucket: "qa-bucket", table: "qa-table" },
    ]);
    expect(results).toEqual([
      { s3: "ok", dynamodb: "ok" },
      { s3: "ok", dynamodb: "ok" },
      { s3: "Unknown (301)", dynamodb: "ResourceNotFoundException (400)" },
    ]);
  });

  it("refuses setFaults without fault proxies", () => {
    expect(() => {
      pipeline.setFaults({});
    }).toThrow(/started without faults/);
  });
});

describe("faults and event sources", () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline(layout, {
      eventSources: true,
      sourceIp: "2001:db8::1",
      faults: { s3: () => "s3-access-denied", dynamodb: () => "dynamodb-access-denied" },
    });
  });

  afterAll(async () => {
    await pipeline.stop();
  });

  it("injects faults into the function's traffic in every region, not the tools'", async () => {
    const results = await probeFrom(pipeline, [
      { region: "us-east-1", bucket: "dev-bucket", table: "dev-table" },
      { region: "eu-west-1", bucket: "qa-bucket", table: "qa-table" },
    ]);
    expect(results).toEqual([
      // A HEAD answer has no body: the SDK knows the 403 by its status only.
      { s3: "Unknown (403)", dynamodb: "AccessDeniedException (400)" },
      { s3: "Unknown (403)", dynamodb: "AccessDeniedException (400)" },
    ]);
    expect(pipeline.faultProxies["eu-west-1"]?.s3.stats.injected).toEqual({
      "s3-access-denied": 1,
    });
    const tools = await outcome(
      pipeline.clients["us-east-1"]?.s3.send(new HeadBucketCommand({ Bucket: "dev-bucket" })) ??
        Promise.reject(new Error("no client")),
    );
    expect(tools).toBe("ok");
    pipeline.setFaults({});
    expect(
      await probeFrom(pipeline, [{ region: "eu-west-1", bucket: "qa-bucket", table: "qa-table" }]),
    ).toEqual([{ s3: "ok", dynamodb: "ok" }]);
  });

  it("emits the source's S3 events and stream records for writes through its endpoints", async () => {
    const east = pipeline.clients["us-east-1"];
    await east?.s3.send(new PutObjectCommand({ Bucket: "prod-bucket", Key: "a.txt", Body: "a" }));
    await east?.s3.send(new PutObjectCommand({ Bucket: "dev-bucket", Key: "b.txt", Body: "b" }));
    await east?.dynamodb.send(
      new PutItemCommand({ TableName: "prod-table", Item: itemKeys("p", "s") }),
    );
    await east?.dynamodb.send(
      new PutItemCommand({ TableName: "dev-table", Item: itemKeys("d", "s") }),
    );
    expect(pipeline.s3Events?.events().map((event) => event.detail.object.key)).toEqual(["a.txt"]);
    expect(pipeline.s3Events?.events()[0]?.detail["source-ip-address"]).toBe("2001:db8::1");
    expect(pipeline.stream?.records().map((record) => record.dynamodb?.Keys?.pk?.S)).toEqual(["p"]);
    expect(pipeline.function.environment.AWS_ENDPOINT_URL_DYNAMODB_STREAMS).toBe(
      pipeline.stream?.endpoint,
    );
  });
});

describe("layout problems", () => {
  it("lists every problem at once, naming the key and value", () => {
    const bad: PipelineLayout = {
      source: { environment: "prod", bucket: "b", table: "t", region: "mars-1" },
      targets: [
        { environment: "dev", bucket: "b", table: "t", region: "us-east-1" },
        { environment: "qa", bucket: "c", table: "t", region: "us-east-1" },
      ],
      queues: ["q", { name: "q", region: "mars-1" }, { name: "x", region: "nowhere" }],
    };
    expect(layoutProblems(bad)).toEqual([
      'environment "prod": region "mars-1" is not an AWS region name',
      'queue "q": region "mars-1" is not an AWS region name',
      'queue "x": region "nowhere" is not an AWS region name',
      'bucket "b" is used by more than one environment',
      'table "t" is used twice in region us-east-1',
      'queue "q" is declared twice in region mars-1',
    ]);
  });

  it("refuses a bad layout before starting anything", async () => {
    const bad = { ...layout, targets: [{ ...layout.source, environment: "copy" }] };
    await expect(startPipeline(bad)).rejects.toThrow(PipelineLayoutError);
    await expect(startPipeline(bad)).rejects.toThrow(/bucket "prod-bucket" is used by more/);
  });

  it("accepts a valid layout", () => {
    expect(layoutProblems(layout)).toEqual([]);
  });
});

describe("stop()", () => {
  it("stops every server it started", async () => {
    const pipeline = await startPipeline(layout, { eventSources: true, faults: {} });
    const servers = [
      ...Object.values(pipeline.endpoints).flatMap((each) => [each.s3, each.dynamodb, each.sqs]),
      ...Object.values(pipeline.faultProxies).flatMap((each) => [
        each.s3.endpoint,
        each.dynamodb.endpoint,
      ]),
    ];
    await pipeline.stop();
    const refused = await Promise.all(
      servers.map(
        (endpoint) =>
          new Promise<string>((resolve) => {
            const req = request(endpoint, { method: "GET" }, (res) => {
              res.resume();
              resolve("answered");
            });
            req.on("error", (error: NodeJS.ErrnoException) => {
              resolve(error.code ?? "error");
            });
            req.end();
          }),
      ),
    );
    expect(refused).toEqual(servers.map(() => "ECONNREFUSED"));
  });
});
