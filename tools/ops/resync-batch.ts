/**
 * The batch-operations engine: one S3 Batch Operations job (S3 Control `CreateJob`) that lists
 * the source bucket itself (a generated manifest, `S3JobManifestGenerator`) and invokes the
 * replication function on every object (`LambdaInvoke`, invocation schema 2.0), which resyncs
 * the key into the targets exactly as the local engine does. The job runs as the role the
 * replicating stack declares for it and writes its manifest and completion report to the
 * stack's report bucket; both names follow from the function's own name (naming rules,
 * lib/batch-operations-names.ts), so `--function NAME` is all it needs.
 * API: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html
 */
import {
  CreateJobCommand,
  type CreateJobCommandInput,
  type S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { GetFunctionConfigurationCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  BATCH_MANIFEST_PREFIX,
  BATCH_REPORT_PREFIX,
  batchOperationsNames,
  type BatchOperationsNames,
} from "../../lib/batch-operations-names";
import { physicalNames, type NameParts } from "../../lib/naming";
import type { ReplicationClients } from "../../lib/replication/clients";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { BATCH_TARGETS_ARGUMENT } from "../../lib/replication/events";
import { ResyncSettingsError, bucketProblem, describeError, selectTargets } from "./resync";

/** The parts of a Lambda function ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`). */
export interface FunctionIdentity {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}

export function parseFunctionArn(arn: string): FunctionIdentity | undefined {
  const match = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:([^:]+)$/.exec(arn);
  if (match === null) return undefined;
  // The pattern has four groups, each of which matched.
  const [partition, region, accountId, name] = match.slice(1) as [string, string, string, string];
  return { arn, partition, region, accountId, name };
}

/**
 * The name parts a deployed replication function was named from: its name is
 * `{prefix}-replication-{env}[-{suffix}]` and the source bucket `{prefix}-data-{env}-{region}-
 * {account id or suffix}` (lib/naming.ts). Every way of splitting the name is tried and kept only
 * if it gives back both names exactly; `undefined` when none does.
 */
export function namePartsOf(
  identity: FunctionIdentity,
  settings: Pick<ReplicationSettings, "sourceEnvironment" | "region" | "sourceBucket">,
): NameParts | undefined {
  const marker = `-replication-${settings.sourceEnvironment}`;
  for (let at = identity.name.indexOf(marker); at > 0; at = identity.name.indexOf(marker, at + 1)) {
    const rest = identity.name.slice(at + marker.length);
    if (rest !== "" && !rest.startsWith("-")) continue;
    const nameSuffix = rest === "" ? undefined : rest.slice(1);
    const parts: NameParts = {
      namePrefix: identity.name.slice(0, at),
      environment: settings.sourceEnvironment,
      region: settings.region,
      uniqueness: nameSuffix ?? identity.accountId,
      nameSuffix,
    };
    const names = physicalNames(parts);
    if (names.replicationFunction === identity.name && names.bucket === settings.sourceBucket) {
      return parts;
    }
  }
  return undefined;
}

export interface BatchJobRequest {
  readonly identity: FunctionIdentity;
  readonly names: BatchOperationsNames;
  readonly sourceBucket: string;
  /** Only keys with this prefix (the manifest's filter). */
  readonly prefix: string | undefined;
  /** Target environments, when not every target (the job's user arguments). */
  readonly targets: readonly string[] | undefined;
  /** Idempotency token of the request (1-64 characters). */
  readonly token: string;
}

/** The job role's ARN (IAM ARNs name no region). */
export function roleArnOf(identity: FunctionIdentity, names: BatchOperationsNames): string {
  return `arn:${identity.partition}:iam::${identity.accountId}:role/${names.role}`;
}

/** The `CreateJob` request of a resync job. */
export function createJobInput(request: BatchJobRequest): CreateJobCommandInput {
  const { identity, names } = request;
  const arn = (bucket: string): string => `arn:${identity.partition}:s3:::${bucket}`;
  const reportBucketArn = arn(names.reportBucket);
  const scope = request.targets === undefined ? "every target" : request.targets.join(", ");
  return {
    AccountId: identity.accountId,
    // "Confirmation is required only for jobs created through the Amazon S3 console."
    ConfirmationRequired: false,
    ClientRequestToken: request.token,
    Description:
      `resync of ${request.sourceBucket}${request.prefix === undefined ? "" : ` (prefix ${request.prefix})`} into ${scope}`.slice(
        0,
        256,
      ),
    Priority: 10,
    RoleArn: roleArnOf(identity, names),
    Operation: {
      LambdaInvoke: {
        FunctionArn: identity.arn,
        // 2.0: tasks name the bucket, and the job may pass user arguments
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_LambdaInvokeOperation.html).
        InvocationSchemaVersion: "2.0",
        ...(request.targets === undefined
          ? {}
          : { UserArguments: { [BATCH_TARGETS_ARGUMENT]: request.targets.join(",") } }),
      },
    },
    // The source's current objects, listed by S3 itself ("Generating an object list
    // automatically", https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html).
    ManifestGenerator: {
      S3JobManifestGenerator: {
        ExpectedBucketOwner: identity.accountId,
        SourceBucket: arn(request.sourceBucket),
        EnableManifestOutput: true,
        ManifestOutputLocation: {
          ExpectedManifestBucketOwner: identity.accountId,
          Bucket: reportBucketArn,
          ManifestPrefix: BATCH_MANIFEST_PREFIX,
          ManifestEncryption: { SSES3: {} },
          ManifestFormat: "S3InventoryReport_CSV_20211130",
        },
        ...(request.prefix === undefined
          ? {}
          : { Filter: { KeyNameConstraint: { MatchAnyPrefix: [request.prefix] } } }),
      },
    },
    // Failed tasks only: a resync of millions of keys needs the failures, not every success.
    Report: {
      Bucket: reportBucketArn,
      Enabled: true,
      Format: "Report_CSV_20180820",
      Prefix: BATCH_REPORT_PREFIX,
      ReportScope: "FailedTasksOnly",
      ExpectedBucketOwner: identity.accountId,
    },
  };
}

/** What the command prints about a job (created, or only planned in a dry run). */
export interface BatchJobSummary {
  readonly engine: "batch-operations";
  readonly dryRun: boolean;
  /** Absent in a dry run. */
  readonly jobId?: string;
  readonly accountId: string;
  readonly region: string;
  readonly roleArn: string;
  /** Where the completion report appears: `<prefix>/job-<job id>/` of the report bucket. */
  readonly reportLocation: string;
  /** The command that shows the job's status and progress. */
  readonly follow: string;
  /** The exact `CreateJob` input (in a dry run: what would be sent). */
  readonly request: CreateJobCommandInput;
}

export interface BatchResyncDependencies {
  readonly lambda: LambdaClient;
  /** An S3 Control client in the function's region (jobs are regional). */
  readonly s3control: (region: string) => S3ControlClient;
  readonly clients: Pick<ReplicationClients, "s3">;
}

/**
 * Checks (targets, the function's name parts, the source and report buckets) and then creates
 * the job, or in a dry run only returns what it would send. Throws `ResyncSettingsError` listing
 * every problem before anything is created.
 */
export async function startBatchResync(
  settings: ReplicationSettings,
  functionName: string,
  options: {
    readonly targets: readonly string[] | undefined;
    readonly prefix: string | undefined;
    readonly dryRun: boolean;
    readonly token: string;
  },
  deps: BatchResyncDependencies,
): Promise<BatchJobSummary> {
  const { problems } = selectTargets(settings, options.targets);
  let identity: FunctionIdentity | undefined;
  try {
    const out = await deps.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    identity = parseFunctionArn(out.FunctionArn ?? "");
    if (identity === undefined) {
      problems.push(`function "${functionName}" has no usable ARN: "${out.FunctionArn ?? ""}"`);
    }
  } catch (error: unknown) {
    problems.push(
      `cannot read the configuration of function "${functionName}" (${describeError(error)})`,
    );
  }
  const parts = identity === undefined ? undefined : namePartsOf(identity, settings);
  if (identity !== undefined && parts === undefined) {
    problems.push(
      `function "${identity.name}" and source bucket "${settings.sourceBucket}" do not follow the ` +
        "stack's naming rules, so the Batch Operations role and report bucket cannot be derived",
    );
  }
  const names = parts === undefined ? undefined : batchOperationsNames(parts);
  const checks = await Promise.all([
    bucketProblem(deps.clients, settings.region, settings.sourceBucket, "source"),
    names === undefined
      ? undefined
      : bucketProblem(
          deps.clients,
          settings.region,
          names.reportBucket,
          "Batch Operations reports",
        ),
  ]);
  for (const problem of checks) if (problem !== undefined) problems.push(problem);
  if (problems.length > 0 || identity === undefined || names === undefined) {
    throw new ResyncSettingsError(problems);
  }
  const request = createJobInput({
    identity,
    names,
    sourceBucket: settings.sourceBucket,
    prefix: options.prefix,
    targets: options.targets,
    token: options.token,
  });
  let jobId: string | undefined;
  if (!options.dryRun) {
    const out = await deps.s3control(identity.region).send(new CreateJobCommand(request));
    jobId = out.JobId;
  }
  const shownId = jobId ?? "<job id>";
  return {
    engine: "batch-operations",
    dryRun: options.dryRun,
    ...(jobId === undefined ? {} : { jobId }),
    accountId: identity.accountId,
    region: identity.region,
    roleArn: roleArnOf(identity, names),
    reportLocation: `s3://${names.reportBucket}/${BATCH_REPORT_PREFIX}/job-${shownId}/`,
    follow: `aws s3control describe-job --account-id ${identity.accountId} --job-id ${shownId} --region ${identity.region}`,
    request,
  };
}
