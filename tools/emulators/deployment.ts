/**
 * The replicating stack as deployed, simulated end to end: the emulators of every region with the
 * source's event sources (pipeline.ts), the built replication bundle in the Lambda host on the
 * Node.js of the program's runtime with the environment the program writes (the contract), the
 * EventBridge rule with the program's pattern and retry bounds feeding asynchronous invocations,
 * and the stream event source mapping with the program's batch, bisect, retry and age settings;
 * every on-failure destination is the DLQ, as
 * deployed. A write to the source bucket or table reaches the targets the way AWS would carry it.
 * Used by the replication tests, the load test and the sandbox.
 */
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { replicationEventPattern, replicationRetry } from "../../lib/delivery";
import { writeContract, type ReplicationTarget } from "../../lib/replication/contract";
import { functionRuntimeEnvironment, lambdaRuntime } from "../../lib/bundle";
import { ensureBundle } from "../common/bundle-file";
import type { EventPattern } from "./event-pattern";
import { EMULATOR_CREDENTIALS } from "./emulators";
import { startLambdaHost, type LambdaHost } from "./lambda-host";
import {
  startEventBridgeRule,
  startStreamEventSourceMapping,
  type AsyncReport,
  type DeliveryOrder,
  type EventBridgeRule,
  type StreamMapping,
  type StreamReport,
} from "./lambda-service";
import {
  startPipeline,
  type EnvironmentLayout,
  type Pipeline,
  type PipelineFaults,
  type RegionClients,
} from "./pipeline";
import { startSecretsManager, type SecretsManagerEmulator } from "./secrets-manager";
import type { MaskingRules } from "../../lib/replication/masking";

/** The DLQ's name in the simulated source account. */
export const DLQ_NAME = "replication-dlq";

export interface DeploymentOptions {
  readonly source: EnvironmentLayout;
  readonly targets: readonly EnvironmentLayout[];
  readonly functionName?: string;
  /** The function's timeout. @default 120 (prod's) */
  readonly timeoutSeconds?: number;
  /** The stream mapping's batch size. @default 10 */
  readonly batchSize?: number;
  /** Key prefixes of the rule's pattern. @default every key */
  readonly keyPrefixes?: readonly string[];
  /**
   * How the stack delivers, when it is not the program's own (the sandbox passes what the
   * offline plan deploys). @default lib/delivery.ts
   */
  readonly delivery?: {
    readonly pattern?: EventPattern;
    readonly asyncMaximumRetryAttempts?: number;
    readonly streamMaximumRetryAttempts?: number;
    readonly streamMaximumRecordAgeSeconds?: number;
  };
  /** Faults in the function's S3 and DynamoDB traffic. */
  readonly faults?: PipelineFaults;
  /** Order and duplicates of the asynchronous deliveries. */
  readonly order?: DeliveryOrder;
  /** `source-ip-address` of the source's S3 events. */
  readonly sourceIp?: string;
  /**
   * Contract values for the simulation (a low retry backoff, the log level, attempts): written
   * through the contract like the program's.
   */
  readonly contract?: {
    readonly retryBaseDelayMs?: number;
    readonly maxAttempts?: number;
    readonly logLevel?: "SILENT" | "INFO" | "DEBUG";
  };
  /**
   * Data that predates replication (the sandbox's prod before the pipeline was adopted): called
   * once the emulators, buckets, tables and event sources are up, before the function, the rule
   * and the stream mapping exist, so no S3 event it causes reaches a target. Its stream records
   * are still in the stream (TRIM_HORIZON would deliver them) unless it ages them out.
   */
  readonly beforeReplication?: (pipeline: Pipeline) => Promise<void>;
  /**
   * Masking, as a stack with `masking` deploys it: the rules in the function's environment and
   * the key in a Secrets Manager stand-in (secrets-manager.ts) the function reads it from.
   */
  readonly masking?: { readonly rules: MaskingRules; readonly key: string };
}

export interface Deployment {
  readonly pipeline: Pipeline;
  readonly host: LambdaHost;
  readonly rule: EventBridgeRule;
  readonly mapping: StreamMapping;
  readonly dlqUrl: string;
  /** The function's environment, as the program would write it (plus the emulator endpoints). */
  readonly environment: Readonly<Record<string, string>>;
  /** The Secrets Manager stand-in, when the deployment masks. */
  readonly secrets: SecretsManagerEmulator | undefined;
  /** Clients of the source's region (its S3 and DynamoDB through the event sources). */
  readonly source: RegionClients;
  /** Clients of a target's region. */
  clientsOf(environment: string): RegionClients;
  /**
   * Waits until every delivery is done: the rule's invocations (with retries) and the mapping's
   * batches, again while either still finds work.
   */
  settle(): Promise<{ readonly async: AsyncReport; readonly stream: StreamReport }>;
  stop(): Promise<void>;
}

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const functionName = options.functionName ?? "replication";
  const { source, targets } = options;
  const pipeline = await startPipeline(
    { source, targets, queues: [DLQ_NAME] },
    {
      eventSources: true,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
      ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
    },
  );
  const stops: (() => Promise<void>)[] = [() => pipeline.stop()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const { s3Events, stream } = pipeline;
    const home = pipeline.clients[source.region];
    const dlqUrl = pipeline.queueUrls[DLQ_NAME];
    if (
      s3Events === undefined ||
      stream === undefined ||
      home === undefined ||
      dlqUrl === undefined
    ) {
      throw new Error("the pipeline started without its event sources, clients or DLQ");
    }
    await options.beforeReplication?.(pipeline);
    const contract = options.contract ?? {};
    const secrets =
      options.masking === undefined ? undefined : await startSecretsManager(source.region);
    if (secrets !== undefined) stops.push(() => secrets.stop());
    const maskingSecretArn = secrets?.create("masking-key", options.masking?.key ?? "");
    const environment = {
      // As deployed: the variables the bundle runs with (source-mapped stack traces), then the
      // emulator endpoints, then the contract.
      ...functionRuntimeEnvironment,
      ...pipeline.function.environment,
      ...(secrets === undefined ? {} : { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint }),
      ...writeContract({
        region: source.region,
        sourceEnvironment: source.environment,
        sourceBucket: source.bucket,
        sourceTable: source.table,
        targets: targets.map((target): ReplicationTarget => ({
          environment: target.environment,
          bucket: target.bucket,
          table: target.table,
          region: target.region,
        })),
        dlqUrl,
        serviceName: "replication",
        logLevel: contract.logLevel ?? "SILENT",
        ...(contract.maxAttempts === undefined ? {} : { maxAttempts: contract.maxAttempts }),
        ...(contract.retryBaseDelayMs === undefined
          ? {}
          : { retryBaseDelayMs: contract.retryBaseDelayMs }),
        ...(options.masking === undefined
          ? {}
          : { masking: options.masking.rules, maskingSecretArn }),
      }),
    };
    const host = startLambdaHost({
      handlerFile: ensureBundle().file,
      // The program's runtime: the bundle runs on its Node.js (tools/common/lambda-node.ts).
      runtime: lambdaRuntime,
      functionName,
      timeoutSeconds: options.timeoutSeconds ?? 120,
      region: pipeline.function.region,
      credentials: pipeline.function.credentials,
      environment,
    });
    stops.push(() => host.stop());
    const onFailure = { sqs: home.sqs, queueUrl: dlqUrl };
    const delivery = options.delivery ?? {};
    const rule = startEventBridgeRule({
      ruleName: `${functionName}-object-changes`,
      pattern:
        delivery.pattern ?? replicationEventPattern(source.bucket, options.keyPrefixes ?? []),
      host,
      functionName,
      region: source.region,
      async: {
        maximumRetryAttempts:
          delivery.asyncMaximumRetryAttempts ?? replicationRetry.asyncMaximumRetryAttempts,
        onFailure,
      },
      deadLetterQueue: onFailure,
      ...(options.order === undefined ? {} : { order: options.order }),
    });
    const unsubscribe = s3Events.onEvent((event) => {
      rule.put(event);
    });
    stops.push(() => {
      unsubscribe();
      return Promise.resolve();
    });
    const streams = new DynamoDBStreamsClient({
      region: source.region,
      endpoint: pipeline.function.environment.AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
      credentials: { ...EMULATOR_CREDENTIALS },
    });
    stops.push(() => {
      streams.destroy();
      return Promise.resolve();
    });
    const mapping = startStreamEventSourceMapping({
      host,
      functionName,
      streams,
      streamArn: stream.streamArn,
      clock: stream.now,
      startingPosition: "TRIM_HORIZON",
      batchSize: options.batchSize ?? 10,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      maximumRetryAttempts:
        delivery.streamMaximumRetryAttempts ?? replicationRetry.streamMaximumRetryAttempts,
      maximumRecordAgeInSeconds:
        delivery.streamMaximumRecordAgeSeconds ?? replicationRetry.streamMaximumRecordAgeSeconds,
      onFailure,
    });
    const settle = async () => {
      for (;;) {
        const invocations = rule.report().invocations.length + mapping.report().invocations.length;
        const [asyncReport, streamReport] = [await rule.idle(), await mapping.drain()];
        if (asyncReport.invocations.length + streamReport.invocations.length === invocations) {
          return { async: asyncReport, stream: streamReport };
        }
      }
    };
    return {
      pipeline,
      host,
      rule,
      mapping,
      dlqUrl,
      environment,
      secrets,
      source: home,
      clientsOf(name) {
        const layout = [source, ...targets].find((entry) => entry.environment === name);
        const clients = layout === undefined ? undefined : pipeline.clients[layout.region];
        if (clients === undefined) throw new Error(`no environment "${name}" in the deployment`);
        return clients;
      },
      settle,
      stop: stopAll,
    };
  } catch (error: unknown) {
    await stopAll();
    throw error;
  }
}
