/**
 * ONE emulator setup for tests, the sandbox, the benchmarks and resync: `startPipeline(layout)`
 * starts one emulator set (S3, DynamoDB, SQS: emulators.ts) per distinct region of the layout (a
 * target in another region is served by a second set standing for that region), creates every
 * bucket, table and queue where the layout puts it, optionally starts the source's event
 * sources (s3-event-source.ts, dynamodb-stream.ts) and fault proxies in front of the services the
 * FUNCTION uses (fault-proxy.ts), and returns:
 * - `endpoints` and SDK `clients` per region, for tests and tools (test credentials; through the
 *   event sources, so that their writes to the source emit events, never through the faults);
 * - `function`: what to configure on the function (its `environment`: AWS_ENDPOINT_URL_S3 /
 *   _DYNAMODB / _SQS of its own region, through the fault proxies when faults are on,
 *   AWS_ENDPOINT_URL_DYNAMODB_STREAMS with event sources, REGION_ENDPOINTS for every region,
 *   S3_FORCE_PATH_STYLE) and what Lambda's runtime gives it (`region`, `credentials`), ready for
 *   lambda-host.ts; and `runtimeEnvironment`, both merged, to load the handler in-process;
 * - `stop()`, which stops everything it started.
 * The function's region is the source's. Environment keys are never Lambda-reserved ones
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html): AWS_REGION and the
 * credentials are the runtime's, kept apart.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { regionPattern } from "../../lib/replication/contract";
import { startDynamoDBStream, type DynamoDBStream } from "./dynamodb-stream";
import {
  createBucket,
  createQueue,
  createTable,
  EMULATOR_CREDENTIALS,
  startEmulators,
  type Emulators,
} from "./emulators";
import { startFaultProxy, type FaultDecider, type FaultProxy } from "./fault-proxy";
import { startS3EventSource, type S3EventSource } from "./s3-event-source";
import { startS3RegionEndpoint } from "./s3-region";

/** One environment's data plane: its bucket and table, in its region. */
export interface EnvironmentLayout {
  readonly environment: string;
  readonly bucket: string;
  readonly table: string;
  readonly region: string;
}

export interface QueueLayout {
  readonly name: string;
  /** @default the source's region (an EventBridge DLQ must be in the rule's region) */
  readonly region?: string;
}

export interface PipelineLayout {
  readonly source: EnvironmentLayout;
  readonly targets: readonly EnvironmentLayout[];
  readonly queues?: readonly (string | QueueLayout)[];
}

/** Fault deciders for the function's traffic, per service (every region). */
export interface PipelineFaults {
  readonly s3?: FaultDecider;
  readonly dynamodb?: FaultDecider;
}

export interface PipelineOptions {
  /** Put fault proxies in front of the function's S3 and DynamoDB (all regions). */
  readonly faults?: PipelineFaults;
  /** Start the source's S3 -> EventBridge events and DynamoDB stream. @default false */
  readonly eventSources?: boolean;
  /** `source-ip-address` of the source's S3 events. */
  readonly sourceIp?: string;
}

export interface RegionEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly sqs: string;
}

export interface RegionClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

export interface FunctionSetup {
  readonly region: string;
  /** The function's configured environment variables (no reserved keys). */
  readonly environment: Readonly<Record<string, string>>;
  /** What Lambda gives the function from its execution role. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface Pipeline {
  readonly layout: PipelineLayout;
  /** Per region: the endpoints tests and tools use (the source's through its event sources). */
  readonly endpoints: Readonly<Record<string, RegionEndpoints>>;
  readonly clients: Readonly<Record<string, RegionClients>>;
  /** Queue URL by queue name. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly function: FunctionSetup;
  /** `function.environment` plus AWS_REGION and the credentials, for an in-process handler. */
  readonly runtimeEnvironment: Readonly<Record<string, string>>;
  /** Per region, when faults are on: the proxies in front of the function's S3 and DynamoDB. */
  readonly faultProxies: Readonly<
    Record<string, { readonly s3: FaultProxy; readonly dynamodb: FaultProxy }>
  >;
  /** Replaces the fault deciders of every region (faults must be on). */
  setFaults(faults: PipelineFaults): void;
  /** The source bucket's S3 events (with `eventSources`). */
  readonly s3Events?: S3EventSource;
  /** The source table's stream (with `eventSources`). */
  readonly stream?: DynamoDBStream;
  stop(): Promise<void>;
}

/** The layout cannot be emulated as given; lists every problem. */
export class PipelineLayoutError extends Error {
  override readonly name = "PipelineLayoutError";
}

const queueOf = (queue: string | QueueLayout, sourceRegion: string): Required<QueueLayout> =>
  typeof queue === "string"
    ? { name: queue, region: sourceRegion }
    : { name: queue.name, region: queue.region ?? sourceRegion };

/** Every problem of the layout: bad regions, bucket names used twice, tables twice in a region. */
export function layoutProblems(layout: PipelineLayout): string[] {
  const problems: string[] = [];
  const environments = [layout.source, ...layout.targets];
  const queues = (layout.queues ?? []).map((queue) => queueOf(queue, layout.source.region));
  for (const { environment, region } of environments) {
    if (!regionPattern.test(region)) {
      problems.push(`environment "${environment}": region "${region}" is not an AWS region name`);
    }
  }
  for (const queue of layout.queues ?? []) {
    // A queue without a region is in the source's, reported above if bad.
    if (
      typeof queue !== "string" &&
      queue.region !== undefined &&
      !regionPattern.test(queue.region)
    ) {
      problems.push(`queue "${queue.name}": region "${queue.region}" is not an AWS region name`);
    }
  }
  const repeated = (values: readonly string[]): string[] => [
    ...new Set(values.filter((value, index) => values.indexOf(value) !== index)),
  ];
  // Bucket names are global; table and queue names are per region (and account).
  for (const bucket of repeated(environments.map((env) => env.bucket))) {
    problems.push(`bucket "${bucket}" is used by more than one environment`);
  }
  for (const key of repeated(environments.map((env) => `${env.region}/${env.table}`))) {
    problems.push(
      `table "${key.split("/")[1] ?? ""}" is used twice in region ${key.split("/")[0] ?? ""}`,
    );
  }
  for (const key of repeated(queues.map((queue) => `${queue.region}/${queue.name}`))) {
    problems.push(
      `queue "${key.split("/")[1] ?? ""}" is declared twice in region ${key.split("/")[0] ?? ""}`,
    );
  }
  return problems;
}

/** Runs every stop, even when one fails; then throws the first failure. */
async function stopAll(stops: readonly (() => Promise<void>)[]): Promise<void> {
  const results = await Promise.allSettled([...stops].reverse().map((stop) => stop()));
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** A fresh copy of the test credentials (the SDK marks the credential objects it is given). */
const testCredentials = () => ({
  accessKeyId: EMULATOR_CREDENTIALS.accessKeyId,
  secretAccessKey: EMULATOR_CREDENTIALS.secretAccessKey,
});

function clientsFor(region: string, endpoints: RegionEndpoints): RegionClients {
  const base = { region, credentials: testCredentials() };
  return {
    s3: new S3Client({ ...base, endpoint: endpoints.s3, forcePathStyle: true }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb }),
    sqs: new SQSClient({ ...base, endpoint: endpoints.sqs }),
  };
}

export async function startPipeline(
  layout: PipelineLayout,
  options: PipelineOptions = {},
): Promise<Pipeline> {
  const problems = layoutProblems(layout);
  if (problems.length > 0) {
    throw new PipelineLayoutError(`Invalid pipeline layout: ${problems.join("; ")}`);
  }
  const { source } = layout;
  const environments = [source, ...layout.targets];
  const queues = (layout.queues ?? []).map((queue) => queueOf(queue, source.region));
  const regions = [...new Set([...environments, ...queues].map((entry) => entry.region))];
  const stops: (() => Promise<void>)[] = [];
  try {
    const emulators: Record<string, Emulators> = {};
    for (const region of regions) {
      const started = await startEmulators();
      stops.push(() => started.stop());
      emulators[region] = started;
    }
    const emulatorOf = (region: string): Emulators => {
      const found = emulators[region];
      if (found === undefined) throw new Error(`no emulators for region ${region}`);
      return found;
    };
    // S3 is one namespace of buckets: one emulator (the source region's) holds every bucket, and
    // each region's endpoint serves only its own buckets (s3-region.ts). Tables and queues are
    // regional: each region's emulators hold their own.
    const sharedS3 = emulatorOf(source.region);
    const bucketRegions = Object.fromEntries(environments.map((env) => [env.bucket, env.region]));
    await Promise.all(
      environments.flatMap((env) => [
        createBucket(sharedS3, env.bucket),
        createTable(emulatorOf(env.region), env.table),
      ]),
    );
    const queueUrls: Record<string, string> = {};
    for (const queue of queues) {
      queueUrls[queue.name] = await createQueue(emulatorOf(queue.region), queue.name);
    }

    let s3Events: S3EventSource | undefined;
    let stream: DynamoDBStream | undefined;
    if (options.eventSources === true) {
      const home = emulatorOf(source.region);
      const events = await startS3EventSource({
        upstream: home.s3.endpoint,
        bucket: source.bucket,
        region: source.region,
        ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
      });
      stops.push(() => events.stop());
      const records = await startDynamoDBStream({
        upstream: home.dynamodb.endpoint,
        table: source.table,
        region: source.region,
      });
      stops.push(() => records.stop());
      s3Events = events;
      stream = records;
    }

    const endpoints: Record<string, RegionEndpoints> = {};
    const clients: Record<string, RegionClients> = {};
    const functionEndpoints: Record<string, RegionEndpoints> = {};
    const faultProxies: Record<string, { s3: FaultProxy; dynamodb: FaultProxy }> = {};
    for (const region of regions) {
      const emu = emulatorOf(region);
      const home = region === source.region;
      const regionalS3 = await startS3RegionEndpoint({
        upstream: home && s3Events !== undefined ? s3Events.endpoint : sharedS3.s3.endpoint,
        region,
        bucketRegions,
      });
      stops.push(() => regionalS3.stop());
      const serving: RegionEndpoints = {
        s3: regionalS3.endpoint,
        dynamodb: home && stream !== undefined ? stream.endpoint : emu.dynamodb.endpoint,
        sqs: emu.sqs.endpoint,
      };
      endpoints[region] = serving;
      const regionClients = clientsFor(region, serving);
      clients[region] = regionClients;
      stops.push(() => {
        regionClients.s3.destroy();
        regionClients.dynamodb.destroy();
        regionClients.sqs.destroy();
        return Promise.resolve();
      });
      if (options.faults === undefined) {
        functionEndpoints[region] = serving;
        continue;
      }
      const s3Proxy = await startFaultProxy(serving.s3, options.faults.s3);
      stops.push(() => s3Proxy.stop());
      const dynamodbProxy = await startFaultProxy(serving.dynamodb, options.faults.dynamodb);
      stops.push(() => dynamodbProxy.stop());
      faultProxies[region] = { s3: s3Proxy, dynamodb: dynamodbProxy };
      functionEndpoints[region] = {
        s3: s3Proxy.endpoint,
        dynamodb: dynamodbProxy.endpoint,
        sqs: serving.sqs,
      };
    }

    const own = functionEndpoints[source.region];
    if (own === undefined) throw new Error(`no endpoints for region ${source.region}`);
    const environment: Record<string, string> = {
      AWS_ENDPOINT_URL_S3: own.s3,
      AWS_ENDPOINT_URL_DYNAMODB: own.dynamodb,
      AWS_ENDPOINT_URL_SQS: own.sqs,
      ...(stream === undefined ? {} : { AWS_ENDPOINT_URL_DYNAMODB_STREAMS: stream.endpoint }),
      REGION_ENDPOINTS: JSON.stringify(functionEndpoints),
      S3_FORCE_PATH_STYLE: "true",
    };
    const credentials = testCredentials();
    return {
      layout,
      endpoints,
      clients,
      queueUrls,
      function: { region: source.region, environment, credentials },
      runtimeEnvironment: {
        ...environment,
        AWS_REGION: source.region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      faultProxies,
      setFaults(faults) {
        if (options.faults === undefined) {
          throw new Error("setFaults: the pipeline was started without faults");
        }
        for (const proxies of Object.values(faultProxies)) {
          proxies.s3.setDecider(faults.s3 ?? (() => undefined));
          proxies.dynamodb.setDecider(faults.dynamodb ?? (() => undefined));
        }
      },
      ...(s3Events === undefined ? {} : { s3Events }),
      ...(stream === undefined ? {} : { stream }),
      stop: () => stopAll(stops.splice(0)),
    };
  } catch (error: unknown) {
    await stopAll(stops);
    throw error;
  }
}
