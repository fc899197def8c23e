/**
 * The sandbox behind `npm start`: plans the three stacks offline for their physical names and
 * the prod function's environment, starts the emulators on 127.0.0.1, creates every
 * environment's bucket, table and DLQ, plays the scripted production changes and delivers their
 * events to the built replication bundle (out of order, with duplicates, through fault proxies
 * that inject a few transient faults), then compares every environment with prod.
 */
import * as path from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { discoverStacks, planStacks } from "../offline/plan-report";
import {
  createBucket,
  createQueue,
  createTable,
  dynamodbClient,
  emulatorEnvironment,
  s3Client,
  sqsClient,
  startEmulators,
  type Emulators,
} from "../emulators/emulators";
import {
  startFaultProxy,
  type Fault,
  type FaultDecider,
  type FaultProxy,
} from "../emulators/fault-proxy";
import { ensureBundle, importHandler } from "../common/bundle-file";
import { deliver, planDeliveries, seededRandom, type DeliveryReport } from "./delivery";
import { SCENARIO, applyChange, type ScenarioEvent } from "./scenario";
import { differences, readState, renderTable, type EnvironmentState } from "./state";

export interface SandboxEnvironment {
  readonly environment: string;
  readonly bucket: string;
  readonly table: string;
  /** The DLQ's URL in the plan (the emulator's URL differs). */
  readonly plannedDlqUrl: string;
}

export interface SandboxResult {
  readonly converged: boolean;
  readonly table: string;
  readonly problems: readonly string[];
  readonly dlqMessages: number;
  readonly states: readonly EnvironmentState[];
  readonly faultsInjected: number;
  readonly delivery: DeliveryReport;
  readonly emulators: Emulators;
  readonly queues: Readonly<Record<string, string>>;
  /** Stops the proxies and emulators and restores the environment. */
  stop(): Promise<void>;
}

function stringOutput(
  outputs: Readonly<Record<string, unknown>>,
  name: string,
  stack: string,
): string {
  const value = outputs[name];
  if (typeof value !== "string" || value === "") {
    throw new Error(
      `offline plan of "${stack}" has no string output ${name}: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Transient faults on a fixed schedule (the n-th request through each proxy). */
export function scheduledFaults(schedule: Readonly<Record<number, Fault>>): FaultDecider {
  let count = 0;
  return (): Fault | undefined => {
    count += 1;
    return schedule[count];
  };
}

const S3_FAULTS: Readonly<Record<number, Fault>> = {
  2: "s3-slow-down",
  7: "connection-reset",
  13: "s3-internal-error",
};
const DYNAMODB_FAULTS: Readonly<Record<number, Fault>> = {
  2: "dynamodb-throttling",
  6: "connection-reset",
  11: "dynamodb-throughput-exceeded",
};

/** Faults injected by the proxies, summed by kind. */
function injectedFaults(proxies: readonly FaultProxy[]): Partial<Record<Fault, number>> {
  const total: Partial<Record<Fault, number>> = {};
  for (const proxy of proxies) {
    for (const [fault, count] of Object.entries(proxy.stats.injected) as [Fault, number][]) {
      total[fault] = (total[fault] ?? 0) + count;
    }
  }
  return total;
}

export async function runSandbox(options: {
  seed: number;
  print: (line: string) => void;
}): Promise<SandboxResult> {
  const { print } = options;
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  const stacks = discoverStacks();
  print(`Planning ${stacks.join(", ")} offline (Pulumi mocks) for their physical names...`);
  const plans = await planStacks(stacks);
  const environments = stacks.map((stack): SandboxEnvironment => {
    const outputs = plans[stack]?.outputs ?? {};
    return {
      environment: stack,
      bucket: stringOutput(outputs, "bucketName", stack),
      table: stringOutput(outputs, "tableName", stack),
      plannedDlqUrl: stringOutput(outputs, "dlqUrl", stack),
    };
  });
  const functions = Object.values(plans)
    .flatMap((plan) => plan.resources)
    .filter((resource) => resource.type === "aws:lambda/function:Function");
  const [replicationFunction] = functions;
  if (functions.length !== 1 || replicationFunction === undefined) {
    throw new Error(`expected one replication function in the plans, found ${functions.length}`);
  }
  const functionEnv = (
    replicationFunction.inputs as { environment?: { variables?: Record<string, string> } }
  ).environment?.variables;
  if (functionEnv?.SOURCE_ENVIRONMENT === undefined) {
    throw new Error("the replication function's plan has no SOURCE_ENVIRONMENT variable");
  }
  const sourceName = functionEnv.SOURCE_ENVIRONMENT;
  const source = environments.find((env) => env.environment === sourceName);
  if (source === undefined) throw new Error(`source environment "${sourceName}" was not planned`);
  for (const env of environments)
    print(`  ${env.environment.padEnd(8)} bucket ${env.bucket}, table ${env.table}`);
  const targets = environments.filter((env) => env !== source).map((env) => env.environment);
  print(`  ${sourceName} replicates into ${targets.join(", ")}`);

  const bundle = ensureBundle();
  print(
    `Replication bundle ${path.relative(process.cwd(), bundle.file)}: ${bundle.status} (${bundle.bytes} bytes)`,
  );

  const emulators = await startEmulators();
  const s3Proxy = await startFaultProxy(emulators.s3.endpoint, scheduledFaults(S3_FAULTS));
  const dynamodbProxy = await startFaultProxy(
    emulators.dynamodb.endpoint,
    scheduledFaults(DYNAMODB_FAULTS),
  );
  print(
    `Emulators on 127.0.0.1: S3 ${emulators.s3.endpoint}, DynamoDB ${emulators.dynamodb.endpoint}, SQS ${emulators.sqs.endpoint} (${elapsed()})`,
  );
  const s3 = s3Client(emulators);
  const dynamodb = dynamodbClient(emulators);
  const sqs = sqsClient(emulators);
  let restore = (): void => undefined;
  const stop = async (): Promise<void> => {
    restore();
    s3.destroy();
    dynamodb.destroy();
    sqs.destroy();
    await Promise.all([s3Proxy.stop(), dynamodbProxy.stop()]);
    await emulators.stop();
  };

  try {
    const queues: Record<string, string> = {};
    for (const env of environments) {
      await createBucket(emulators, env.bucket);
      await createTable(emulators, env.table);
      // One emulated account holds every environment's queue: prefix the planned name.
      queues[env.environment] = await createQueue(
        emulators,
        `${env.environment}-${env.plannedDlqUrl.split("/").at(-1) ?? "dlq"}`,
      );
    }
    print(`Created ${environments.length} buckets, tables and DLQs`);

    const dlqUrl = queues[sourceName] ?? "";
    const loaded = await importHandler({
      ...functionEnv,
      ...emulatorEnvironment({
        s3: { endpoint: s3Proxy.endpoint },
        dynamodb: { endpoint: dynamodbProxy.endpoint },
        sqs: emulators.sqs,
      }),
      DLQ_URL: dlqUrl,
      RETRY_BASE_DELAY_MS: "5",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1",
    });
    restore = loaded.restore;
    const { handler } = loaded;

    const random = seededRandom(options.seed);
    const prod = { s3, dynamodb, bucket: source.bucket, table: source.table };
    let step = 0;
    let previous: ScenarioEvent[] = [];
    const totals = { invocations: 0, redeliveries: 0, undelivered: [] as string[] };
    for (const [phase, changes] of SCENARIO.entries()) {
      const events: ScenarioEvent[] = [];
      for (const change of changes) events.push(await applyChange(prod, change, (step += 1)));
      // Phase 1 gets a plain duplicate; later phases get stale redeliveries of earlier events.
      const pool = phase === 0 ? events : previous;
      const duplicates = [
        pool.find((event) => event.source === "eventbridge"),
        pool.find((event) => event.source === "dynamodb-stream"),
      ].filter((event): event is ScenarioEvent => event !== undefined);
      const deliveries = planDeliveries(events, random, duplicates);
      print(
        `Phase ${phase + 1}: ${changes.length} production changes written to ${sourceName}; ` +
          `delivering ${events.length + duplicates.length} events in ${deliveries.length} invocations ` +
          `(shuffled; ${phase === 0 ? "duplicates" : "stale redeliveries"}: ${duplicates.map((d) => d.label).join(", ")})`,
      );
      const report = await deliver(handler, deliveries, print);
      totals.invocations += report.invocations;
      totals.redeliveries += report.redeliveries;
      totals.undelivered.push(...report.undelivered);
      previous = [...previous, ...events];
    }
    const faults = injectedFaults([s3Proxy, dynamodbProxy]);
    const injected = Object.values(faults).reduce((sum, count) => sum + count, 0);
    print(
      `Delivered in ${totals.invocations} invocations (${totals.redeliveries} redeliveries); ` +
        `transient faults injected into the function's S3/DynamoDB requests: ${injected} (` +
        Object.entries(faults)
          .map(([fault, count]) => `${fault} x${count}`)
          .join(", ") +
        "), retried by the SDK",
    );

    const states: EnvironmentState[] = [];
    for (const env of [source, ...environments.filter((other) => other !== source)]) {
      states.push(await readState({ s3, dynamodb }, env));
    }
    const sourceState = states.find((state) => state.environment === sourceName);
    if (sourceState === undefined) throw new Error("no state read for the source");
    const problems = states
      .filter((state) => state !== sourceState)
      .flatMap((state) => differences(sourceState, state));
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: dlqUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const dlqMessages =
      Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (dlqMessages > 0)
      problems.push(`${sourceName} replication DLQ holds ${dlqMessages} messages`);
    for (const label of totals.undelivered) problems.push(`not delivered: ${label}`);
    return {
      converged: problems.length === 0,
      table: renderTable(states, sourceName),
      problems,
      dlqMessages,
      states,
      faultsInjected: injected,
      delivery: totals,
      emulators,
      queues,
      stop,
    };
  } catch (error: unknown) {
    await stop();
    throw error;
  }
}
