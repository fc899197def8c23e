/**
 * The sandbox behind `npm start`, in five steps: plan every stack offline for the physical names,
 * regions and the replicating stack's delivery settings (what the program deploys); start the
 * replicating stack as deployed on the emulators (tools/emulators/deployment.ts: event sources,
 * the built bundle in the Lambda host, the rule and the stream mapping, transient faults in the
 * function's requests), masking as the sandbox's masking config says (masking.ts: dev masked,
 * staging not; the key in a Secrets Manager stand-in), with data already in prod before
 * replication is switched on and a drifted dev (existing-data.ts); resync the targets to prod
 * (`runResync` with the function's settings and masking, deleting what only a target has); play
 * the scripted production changes in phases, delivered as AWS would (out of order, with
 * duplicates, retries, redeliveries); compare every target with what it must hold of prod's state
 * (prod's masked for dev, prod's as it is for staging), and show prod's masked values beside
 * dev's.
 */
import * as path from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { ReplicationClients } from "../../lib/replication/clients";
import { readContract } from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { maskingOf, secretsReader } from "../../lib/replication/masking-key";
import type { PlannedResource, StackPlan } from "../offline";
import { discoverStacks, planStacks } from "../offline/plan-report";
import { ensureBundle } from "../common/bundle-file";
import { startDeployment, type Deployment, type DeploymentOptions } from "../emulators/deployment";
import { EMULATOR_CREDENTIALS } from "../emulators/emulators";
import type { EventPattern } from "../emulators/event-pattern";
import type { Fault, FaultDecider } from "../emulators/fault-proxy";
import type { AsyncInvocation, StreamInvocation } from "../emulators/lambda-service";
import { STREAM_RETENTION_MS } from "../emulators/dynamodb-stream";
import type { EnvironmentLayout, Pipeline } from "../emulators/pipeline";
import { describeSummary, runResync } from "../ops/resync";
import type { ResyncSummary } from "../ops/resync-progress";
import { EXISTING_DRIFTED, EXISTING_PROD, writeExistingData } from "./existing-data";
import {
  maskedValues,
  renderMaskedValues,
  unmaskedValues,
  type MaskedValue,
} from "./masked-values";
import { expectedState, sandboxMasking, type SandboxMasking } from "./masking";
import { SCENARIO, applyChange, describeChange } from "./scenario";
import {
  differences,
  readState,
  renderTable,
  type EnvironmentState,
  type Expectation,
} from "./state";

/** What the offline plans say the sandbox must stand up. */
export interface SandboxPlan {
  readonly source: EnvironmentLayout;
  readonly targets: readonly EnvironmentLayout[];
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly batchSize: number;
  readonly delivery: NonNullable<DeploymentOptions["delivery"]>;
}

/** The resync step: how the targets differed from prod before it, what it did, and after. */
export interface SandboxResync {
  readonly before: readonly string[];
  readonly summary: ResyncSummary;
  readonly after: readonly string[];
}

/** What masking did in one masked target: prod's masked values beside its. */
export interface SandboxMaskedTarget {
  readonly environment: string;
  readonly values: readonly MaskedValue[];
  /** The values as a table: where, rule, prod's value, the target's. */
  readonly table: string;
  /** Those of prod's values the target holds anywhere as they are (none, when masking works). */
  readonly unmasked: readonly string[];
}

export interface SandboxResult {
  readonly converged: boolean;
  readonly resync: SandboxResync;
  readonly table: string;
  readonly masking: SandboxMasking;
  /** Each masked target's masked values. */
  readonly masked: readonly SandboxMaskedTarget[];
  readonly problems: readonly string[];
  readonly dlqMessages: number;
  readonly states: readonly EnvironmentState[];
  readonly faultsInjected: number;
  readonly invocations: number;
  readonly deployment: Deployment;
  /** Stops the emulators, the function and the deliveries. */
  stop(): Promise<void>;
}

function stringOf(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new Error(`the offline plan has no ${what}: ${JSON.stringify(value)}`);
  }
  return value;
}

function numberOf(value: unknown, what: string): number {
  if (typeof value !== "number") {
    throw new Error(`the offline plan has no ${what}: ${JSON.stringify(value)}`);
  }
  return value;
}

/** The one resource of `type` in `plan`. */
function onlyOf(plan: StackPlan, type: string): PlannedResource {
  const found = plan.resources.filter((resource) => resource.type === type);
  const [first] = found;
  if (found.length !== 1 || first === undefined) {
    throw new Error(`expected one ${type} in the plan of ${plan.stack}, found ${found.length}`);
  }
  return first;
}

const layoutOf = (plan: StackPlan): EnvironmentLayout => ({
  environment: stringOf(plan.outputs.environment, `environment of ${plan.stack}`),
  bucket: stringOf(plan.outputs.bucketName, `bucketName of ${plan.stack}`),
  table: stringOf(plan.outputs.tableName, `tableName of ${plan.stack}`),
  region: stringOf(plan.outputs.region, `region of ${plan.stack}`),
});

/** Step 1: every stack planned offline; the replicating one's settings as it deploys them. */
export async function planSandbox(print: (line: string) => void): Promise<SandboxPlan> {
  const stacks = discoverStacks();
  print(`Planning ${stacks.join(", ")} offline (Pulumi mocks) for their names and settings...`);
  const plans = Object.values(await planStacks(stacks));
  const replicating = plans.filter((plan) =>
    plan.resources.some((resource) => resource.type === "aws:lambda/function:Function"),
  );
  const [sourcePlan] = replicating;
  if (replicating.length !== 1 || sourcePlan === undefined) {
    throw new Error(`expected one replicating stack in the plans, found ${replicating.length}`);
  }
  const fn = onlyOf(sourcePlan, "aws:lambda/function:Function").inputs;
  const mapping = onlyOf(sourcePlan, "aws:lambda/eventSourceMapping:EventSourceMapping").inputs;
  const invokeConfig = onlyOf(
    sourcePlan,
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  ).inputs;
  const rule = onlyOf(sourcePlan, "aws:cloudwatch/eventRule:EventRule").inputs;
  const plan: SandboxPlan = {
    source: layoutOf(sourcePlan),
    targets: plans.filter((stack) => stack !== sourcePlan).map(layoutOf),
    functionName: stringOf(fn.name, "function name"),
    timeoutSeconds: numberOf(fn.timeout, "function timeout"),
    batchSize: numberOf(mapping.batchSize, "stream batch size"),
    delivery: {
      pattern: JSON.parse(stringOf(rule.eventPattern, "event pattern")) as EventPattern,
      asyncMaximumRetryAttempts: numberOf(invokeConfig.maximumRetryAttempts, "async retries"),
      streamMaximumRetryAttempts: numberOf(mapping.maximumRetryAttempts, "stream retries"),
      streamMaximumRecordAgeSeconds: numberOf(
        mapping.maximumRecordAgeInSeconds,
        "stream record age",
      ),
    },
  };
  for (const env of [plan.source, ...plan.targets]) {
    print(`  ${env.environment.padEnd(8)} ${env.region}  bucket ${env.bucket}, table ${env.table}`);
  }
  print(
    `  ${plan.source.environment} replicates into ${plan.targets.map((t) => t.environment).join(", ")} ` +
      `(function ${plan.functionName}, timeout ${plan.timeoutSeconds} s, stream batches of ${plan.batchSize})`,
  );
  return plan;
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

/**
 * Before replication is switched on (step 2's `beforeReplication`): prod's existing data, written
 * more than a day earlier (the stream's records of it are past its 24-hour retention, so the
 * stream mapping, starting at TRIM_HORIZON, never sees them), and a drifted first target.
 */
export async function writeExistingEnvironments(
  pipeline: Pipeline,
  plan: SandboxPlan,
  masking: SandboxMasking,
  print: (line: string) => void,
): Promise<void> {
  const [drifted] = plan.targets;
  if (drifted === undefined) throw new Error("the plans have no replication target");
  const clientsOf = (env: EnvironmentLayout) => {
    const clients = pipeline.clients[env.region];
    if (clients === undefined) throw new Error(`no clients for region ${env.region}`);
    return clients;
  };
  await writeExistingData(clientsOf(plan.source), plan.source, EXISTING_PROD);
  await writeExistingData(
    clientsOf(drifted),
    drifted,
    EXISTING_DRIFTED,
    masking.itemView(drifted.environment),
  );
  pipeline.stream?.ageRecords(STREAM_RETENTION_MS + 60_000);
  const counts = ({ objects, items, replicas = [] }: typeof EXISTING_PROD): string =>
    `${objects.length} objects, ${items.length + replicas.length} items`;
  print("Data written before replication is switched on (over 24 h ago: no stream records left):");
  print(`  ${plan.source.environment}: ${counts(EXISTING_PROD)}`);
  print(
    `  ${drifted.environment}: ${counts(EXISTING_DRIFTED)} (older versions of prod's, a replica ` +
      `of one of prod's items as replication wrote it, keys only ${drifted.environment} has)`,
  );
}

/** Step 2: the replicating stack as deployed, on emulators, with a few transient faults. */
export async function startSandboxDeployment(
  plan: SandboxPlan,
  masking: SandboxMasking,
  seed: number,
  print: (line: string) => void,
): Promise<Deployment> {
  const bundle = ensureBundle();
  print(
    `Replication bundle ${path.relative(process.cwd(), bundle.file)}: ${bundle.status} (${bundle.bytes} bytes)`,
  );
  const deployment = await startDeployment({
    source: plan.source,
    targets: plan.targets,
    functionName: plan.functionName,
    timeoutSeconds: plan.timeoutSeconds,
    batchSize: plan.batchSize,
    delivery: plan.delivery,
    faults: { s3: scheduledFaults(S3_FAULTS), dynamodb: scheduledFaults(DYNAMODB_FAULTS) },
    order: { seed, duplicateRate: 0.25 },
    contract: { retryBaseDelayMs: 5, logLevel: "SILENT" },
    masking: { rules: masking.rules, key: masking.key },
    beforeReplication: (pipeline) => writeExistingEnvironments(pipeline, plan, masking, print),
  });
  const regions = Object.entries(deployment.pipeline.endpoints)
    .map(([region, endpoints]) => `${region}: S3 ${endpoints.s3}, DynamoDB ${endpoints.dynamodb}`)
    .join("; ");
  print(
    `Emulators on 127.0.0.1 (${regions}); function in the Lambda host, rule and stream mapping`,
  );
  return deployment;
}

/** What each target must hold of the source's state: masked or as it is (masking.ts). */
async function expectations(
  source: EnvironmentState,
  plan: SandboxPlan,
  masking: SandboxMasking,
): Promise<Map<string, Expectation>> {
  const expected = new Map<string, Expectation>();
  for (const target of plan.targets) {
    expected.set(target.environment, await expectedState(source, target, masking));
  }
  return expected;
}

/** Every target's differences from what it must hold of the source's state. */
async function targetDifferences(
  deployment: Deployment,
  plan: SandboxPlan,
  masking: SandboxMasking,
): Promise<string[]> {
  const read = (env: EnvironmentLayout) => readState(deployment.clientsOf(env.environment), env);
  const expected = await expectations(await read(plan.source), plan, masking);
  const problems: string[] = [];
  for (const target of plan.targets) {
    const wanted = expected.get(target.environment);
    if (wanted === undefined) throw new Error(`no expectation for ${target.environment}`);
    problems.push(...differences(wanted.state, await read(target)));
  }
  return problems;
}

/** The deployment's own clients, per region, as the resync's clients. */
function deploymentClients(deployment: Deployment, region: string): ReplicationClients {
  const of = (at: string = region) => {
    const clients = deployment.pipeline.clients[at];
    if (clients === undefined) throw new Error(`no clients for region ${at}`);
    return clients;
  };
  return {
    region,
    s3: (at) => of(at).s3,
    dynamodb: (at) => of(at).dynamodb,
    sqs: of().sqs,
    // The deployment destroys them when it stops.
    destroy: () => undefined,
  };
}

/**
 * Step 3: the targets brought to prod's state by the resync (`npm run resync -- --delete-extra`
 * with the settings read from the function's environment), printed before and after.
 */
export async function resyncExistingData(
  deployment: Deployment,
  plan: SandboxPlan,
  masking: SandboxMasking,
  print: (line: string) => void,
): Promise<SandboxResync> {
  const before = await targetDifferences(deployment, plan, masking);
  print(
    `Before the resync, ${before.length} differences from ${plan.source.environment}` +
      `${maskedNote(plan, masking)}:`,
  );
  for (const problem of before) print(`  ${problem}`);
  // As `npm run resync` does: the per-key log lines of the convergence code are not for a person.
  logger.setLogLevel("SILENT");
  const settings = readContract({ AWS_REGION: plan.source.region, ...deployment.environment });
  print(
    "Resync (npm run resync -- --delete-extra, settings and masking from the function's environment):",
  );
  const summary = await runResync(settings, deploymentClients(deployment, settings.region), {
    deleteExtra: true,
    // As `npm run resync` does: the function's rules, and its key read from the secret.
    masking: maskingOf(
      settings,
      secretsReader(settings, {
        endpoint: deployment.secrets?.endpoint,
        credentials: { ...EMULATOR_CREDENTIALS },
      }),
    ),
  });
  for (const line of describeSummary(summary, plan.source)) print(`  ${line}`);
  const after = await targetDifferences(deployment, plan, masking);
  print(
    after.length === 0
      ? `After the resync: ${plan.targets.map((t) => t.environment).join(" and ")} equal ${plan.source.environment}${maskedNote(plan, masking)}`
      : `After the resync, ${after.length} differences remain`,
  );
  for (const problem of after) print(`  ${problem}`);
  return { before, summary, after };
}

function describeAsync(invocation: AsyncInvocation): string {
  const what = `event ${invocation.eventId.slice(-6)}${invocation.duplicate ? " (duplicate)" : ""}`;
  if (!invocation.ok) {
    return `${what} -> ${invocation.error?.errorType ?? "error"}; Lambda retries it (attempt ${invocation.attempt})`;
  }
  const value = invocation.value as
    { key?: string; results?: readonly { environment: string; action: string }[] } | undefined;
  const results = (value?.results ?? []).map((r) => `${r.environment} ${r.action}`).join(", ");
  return `${what} "${value?.key ?? "?"}" -> ${results}`;
}

function describeStream(invocation: StreamInvocation): string {
  const size = invocation.sequenceNumbers.length;
  const outcome =
    invocation.outcome === "partial"
      ? `${String(invocation.reported?.length ?? 0)} to retry from its sequence number`
      : invocation.outcome;
  return `stream batch of ${size} record${size === 1 ? "" : "s"} -> ${outcome}`;
}

/** Step 4: the scripted production changes, phase by phase, delivered as AWS would. */
export async function playScenario(
  deployment: Deployment,
  plan: SandboxPlan,
  print: (line: string) => void,
): Promise<number> {
  const prod = {
    s3: deployment.source.s3,
    dynamodb: deployment.source.dynamodb,
    bucket: plan.source.bucket,
    table: plan.source.table,
  };
  const expire = (key: string) =>
    deployment.pipeline.s3Events?.lifecycleExpiration(key, { version: "noncurrent" }) ??
    Promise.resolve(undefined);
  let asyncSeen = 0;
  let streamSeen = 0;
  for (const [phase, changes] of SCENARIO.entries()) {
    print(`Phase ${phase + 1}: ${changes.length} changes written to ${plan.source.environment}`);
    for (const change of changes) {
      await applyChange(prod, change, expire);
      print(`  ${describeChange(change)}`);
    }
    const { async, stream } = await deployment.settle();
    print(
      `  delivered: ${async.invocations.length - asyncSeen} async invocations ` +
        `(${async.unmatched} events the rule filtered out so far), ` +
        `${stream.invocations.length - streamSeen} stream batches`,
    );
    for (const invocation of async.invocations.slice(asyncSeen)) {
      print(`    ${describeAsync(invocation)}`);
    }
    for (const invocation of stream.invocations.slice(streamSeen)) {
      print(`    ${describeStream(invocation)}`);
    }
    asyncSeen = async.invocations.length;
    streamSeen = stream.invocations.length;
  }
  return asyncSeen + streamSeen;
}

/**
 * Step 5: every environment read, and every target compared with what it must hold of the
 * source's state (masked or as it is); in each masked target, prod's masked values beside its own
 * and a check that it holds none of them as they are; the DLQ counted.
 */
export async function compareEnvironments(
  deployment: Deployment,
  plan: SandboxPlan,
  masking: SandboxMasking,
): Promise<{
  states: EnvironmentState[];
  expected: Map<string, Expectation>;
  masked: SandboxMaskedTarget[];
  problems: string[];
  dlqMessages: number;
}> {
  const states: EnvironmentState[] = [];
  for (const env of [plan.source, ...plan.targets]) {
    states.push(await readState(deployment.clientsOf(env.environment), env));
  }
  const [sourceState, ...targetStates] = states;
  if (sourceState === undefined) throw new Error("no state read for the source");
  const expected = await expectations(sourceState, plan, masking);
  const problems: string[] = [];
  const masked: SandboxMaskedTarget[] = [];
  for (const state of targetStates) {
    const wanted = expected.get(state.environment);
    if (wanted === undefined) throw new Error(`no expectation for ${state.environment}`);
    problems.push(...differences(wanted.state, state));
    if (!wanted.masked) continue;
    const values = maskedValues(sourceState, state, masking);
    const unmasked = unmaskedValues(values, state);
    problems.push(...unmasked);
    masked.push({
      environment: state.environment,
      values,
      table: renderMaskedValues(values, sourceState.environment, state.environment),
      unmasked,
    });
  }
  const attributes = await deployment.source.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: deployment.dlqUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const dlqMessages =
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  if (dlqMessages > 0) {
    problems.push(`${plan.source.environment} replication DLQ holds ${dlqMessages} messages`);
  }
  return { states, expected, masked, problems, dlqMessages };
}

/** ` (masked, for dev)`: which targets compare with prod's state masked, if any. */
function maskedNote(plan: SandboxPlan, masking: SandboxMasking): string {
  const masked = plan.targets.filter((target) => masking.masks(target.environment));
  return masked.length === 0 ? "" : ` (masked, for ${masked.map((t) => t.environment).join(", ")})`;
}

/** What the sandbox masks, in one line. */
export function describeMasking(plan: SandboxPlan, masking: SandboxMasking): string {
  const kinds = plan.targets.map(
    (target) => `${target.environment} ${masking.masks(target.environment) ? "masked" : "not"}`,
  );
  const objects = masking.rules.objects.map((rule) => rule.prefix).join(", ");
  return (
    `Masking (data-pipeline:masking of tools/sandbox/masking.ts): ${kinds.join(", ")}; ` +
    `${Object.keys(masking.rules.items).length} item paths, objects under ${objects}; ` +
    "the key in a Secrets Manager stand-in"
  );
}

export async function runSandbox(options: {
  seed: number;
  print: (line: string) => void;
}): Promise<SandboxResult> {
  const { print } = options;
  const plan = await planSandbox(print);
  const masking = sandboxMasking(plan.targets.map((target) => target.environment));
  print(describeMasking(plan, masking));
  const deployment = await startSandboxDeployment(plan, masking, options.seed, print);
  try {
    const resync = await resyncExistingData(deployment, plan, masking, print);
    const invocations = await playScenario(deployment, plan, print);
    const faultsInjected = Object.values(deployment.pipeline.faultProxies)
      .flatMap((proxies) => [proxies.s3, proxies.dynamodb])
      .flatMap((proxy) => Object.values(proxy.stats.injected))
      .reduce((sum, count) => sum + count, 0);
    print(
      `Transient faults injected into the function's S3 and DynamoDB requests: ${faultsInjected}, ` +
        "retried by the SDK",
    );
    const { states, expected, masked, problems, dlqMessages } = await compareEnvironments(
      deployment,
      plan,
      masking,
    );
    problems.push(
      ...resync.summary.failures.map((f) => `resync: ${f.environment} ${f.key}: ${f.error}`),
    );
    return {
      converged: problems.length === 0,
      resync,
      table: renderTable(states, plan.source.environment, expected),
      masking,
      masked,
      problems,
      dlqMessages,
      states,
      faultsInjected,
      invocations,
      deployment,
      stop: () => deployment.stop(),
    };
  } catch (error: unknown) {
    await deployment.stop();
    throw error;
  }
}
