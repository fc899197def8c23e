/**
 * The batch-operations engine (tools/ops/resync-batch.ts): the role and report bucket derived
 * from the function's name by the naming rules, the exact `CreateJob` input (aws-sdk-client-mock),
 * and every problem listed before a job is created.
 */
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateJobCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { batchOperationsNames } from "../../lib/batch-operations-names";
import { physicalNames } from "../../lib/naming";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { ResyncSettingsError } from "../../tools/ops/resync";
import {
  createJobInput,
  namePartsOf,
  parseFunctionArn,
  startBatchResync,
  type FunctionIdentity,
} from "../../tools/ops/resync-batch";
import { settings as baseSettings } from "../support/settings";

const account = "123456789012";
const region = "eu-west-1";
const credentials = { accessKeyId: "t", secretAccessKey: "t" };
const lambda = new LambdaClient({ region, credentials });
const s3 = new S3Client({ region, credentials });
const s3control = new S3ControlClient({ region, credentials });
const lambdaMock = mockClient(lambda);
const s3Mock = mockClient(s3);
const s3controlMock = mockClient(s3control);

/** What `company-replication-prod` in eu-west-1 has in its environment. */
const settings: ReplicationSettings = {
  ...baseSettings,
  region,
  sourceEnvironment: "prod",
  sourceBucket: `company-data-prod-${region}-${account}`,
  sourceTable: "company-metadata-prod",
};
const functionArn = `arn:aws:lambda:${region}:${account}:function:company-replication-prod`;
function identityOf(arn: string): FunctionIdentity {
  const parsed = parseFunctionArn(arn);
  if (parsed === undefined) throw new Error(`not a function ARN: ${arn}`);
  return parsed;
}
const identity = identityOf(functionArn);

const deps = {
  lambda,
  clients: { s3: () => s3 },
  s3control: () => s3control,
};

beforeEach(() => {
  lambdaMock.reset();
  s3Mock.reset();
  s3controlMock.reset();
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ FunctionArn: functionArn });
  s3Mock.on(HeadBucketCommand).resolves({});
  s3controlMock.on(CreateJobCommand).resolves({ JobId: "job-1" });
});

describe("the names a job needs", () => {
  it("reads a function ARN", () => {
    expect(parseFunctionArn(functionArn)).toEqual({
      arn: functionArn,
      partition: "aws",
      region,
      accountId: account,
      name: "company-replication-prod",
    });
    expect(parseFunctionArn(`${functionArn}:live`)).toBeUndefined();
    expect(parseFunctionArn("company-replication-prod")).toBeUndefined();
  });

  it("recovers the name parts of the stack's functions, with and without a suffix", () => {
    expect(namePartsOf(identity, settings)).toEqual({
      namePrefix: "company",
      environment: "prod",
      region,
      uniqueness: account,
      nameSuffix: undefined,
    });
    const suffixed = physicalNames({
      namePrefix: "acme-data",
      environment: "prod",
      region,
      uniqueness: "pr-42",
      nameSuffix: "pr-42",
    });
    expect(
      namePartsOf(
        { ...identity, name: suffixed.replicationFunction },
        { ...settings, sourceBucket: suffixed.bucket },
      ),
    ).toEqual({
      namePrefix: "acme-data",
      environment: "prod",
      region,
      uniqueness: "pr-42",
      nameSuffix: "pr-42",
    });
  });

  it("finds the right split when the prefix itself contains the marker", () => {
    const names = physicalNames({
      namePrefix: "x-replication-prod",
      environment: "prod",
      region,
      uniqueness: account,
    });
    expect(
      namePartsOf(
        { ...identity, name: names.replicationFunction },
        { ...settings, sourceBucket: names.bucket },
      ),
    ).toMatchObject({ namePrefix: "x-replication-prod", nameSuffix: undefined });
  });

  it("derives nothing from names that do not follow the rules", () => {
    expect(namePartsOf({ ...identity, name: "my-own-function" }, settings)).toBeUndefined();
    expect(
      namePartsOf(identity, { ...settings, sourceBucket: "some-other-bucket" }),
    ).toBeUndefined();
    expect(
      namePartsOf({ ...identity, name: "company-replication-prodx" }, settings),
    ).toBeUndefined();
  });

  it("names the role and the report bucket after the stack's parts", () => {
    expect(
      batchOperationsNames({
        namePrefix: "company",
        environment: "prod",
        region,
        uniqueness: account,
      }),
    ).toEqual({
      role: `company-batch-prod-${region}`,
      reportBucket: `company-batch-prod-${region}-${account}`,
    });
  });
});

describe("createJobInput", () => {
  const names = {
    role: "company-batch-prod-eu-west-1",
    reportBucket: "company-batch-prod-eu-west-1-123456789012",
  };

  it("asks for a generated manifest of the source, LambdaInvoke 2.0 on the function, a report of failed tasks, the stack's role", () => {
    expect(
      createJobInput({
        identity,
        names,
        sourceBucket: settings.sourceBucket,
        prefix: undefined,
        targets: undefined,
        token: "token-1",
      }),
    ).toEqual({
      AccountId: account,
      ConfirmationRequired: false,
      ClientRequestToken: "token-1",
      Description: `resync of ${settings.sourceBucket} into every target`,
      Priority: 10,
      RoleArn: `arn:aws:iam::${account}:role/company-batch-prod-eu-west-1`,
      Operation: {
        LambdaInvoke: { FunctionArn: functionArn, InvocationSchemaVersion: "2.0" },
      },
      ManifestGenerator: {
        S3JobManifestGenerator: {
          ExpectedBucketOwner: account,
          SourceBucket: `arn:aws:s3:::${settings.sourceBucket}`,
          EnableManifestOutput: true,
          ManifestOutputLocation: {
            ExpectedManifestBucketOwner: account,
            Bucket: "arn:aws:s3:::company-batch-prod-eu-west-1-123456789012",
            ManifestPrefix: "manifests",
            ManifestEncryption: { SSES3: {} },
            ManifestFormat: "S3InventoryReport_CSV_20211130",
          },
        },
      },
      Report: {
        Bucket: "arn:aws:s3:::company-batch-prod-eu-west-1-123456789012",
        Enabled: true,
        Format: "Report_CSV_20180820",
        Prefix: "reports",
        ReportScope: "FailedTasksOnly",
        ExpectedBucketOwner: account,
      },
    });
  });

  it("filters the manifest by prefix and passes the targets as a user argument", () => {
    const input = createJobInput({
      identity: identityOf(
        `arn:aws-us-gov:lambda:us-gov-west-1:${account}:function:company-replication-prod`,
      ),
      names,
      sourceBucket: "src",
      prefix: "reports/",
      targets: ["staging"],
      token: "token-2",
    });

    expect(input.Description).toBe("resync of src (prefix reports/) into staging");
    expect(input.Operation?.LambdaInvoke?.UserArguments).toEqual({ targets: "staging" });
    expect(input.ManifestGenerator?.S3JobManifestGenerator?.Filter).toEqual({
      KeyNameConstraint: { MatchAnyPrefix: ["reports/"] },
    });
    expect(input.ManifestGenerator?.S3JobManifestGenerator?.SourceBucket).toBe(
      "arn:aws-us-gov:s3:::src",
    );
    expect(input.RoleArn).toBe(`arn:aws-us-gov:iam::${account}:role/${names.role}`);
  });
});

describe("startBatchResync", () => {
  const options = { targets: undefined, prefix: undefined, dryRun: false, token: "token-3" };

  it("creates the job in the function's region and says how to follow it", async () => {
    const summary = await startBatchResync(settings, "company-replication-prod", options, deps);

    expect(s3controlMock).toHaveReceivedCommandTimes(CreateJobCommand, 1);
    const sent = s3controlMock.commandCalls(CreateJobCommand)[0]?.args[0].input;
    expect(sent).toEqual(summary.request);
    expect(sent?.ClientRequestToken).toBe("token-3");
    expect(summary).toMatchObject({
      engine: "batch-operations",
      dryRun: false,
      jobId: "job-1",
      accountId: account,
      region,
      roleArn: `arn:aws:iam::${account}:role/company-batch-prod-${region}`,
      reportLocation: `s3://company-batch-prod-${region}-${account}/reports/job-job-1/`,
      follow: `aws s3control describe-job --account-id ${account} --job-id job-1 --region ${region}`,
    });
    expect(
      s3Mock
        .commandCalls(HeadBucketCommand)
        .map((c) => c.args[0].input.Bucket)
        .sort(),
    ).toEqual([`company-batch-prod-${region}-${account}`, settings.sourceBucket]);
  });

  it("creates nothing in a dry run, and shows the request it would send", async () => {
    const summary = await startBatchResync(
      settings,
      "company-replication-prod",
      { ...options, dryRun: true, targets: ["dev"] },
      deps,
    );

    expect(s3controlMock).not.toHaveReceivedCommand(CreateJobCommand);
    expect(summary.jobId).toBeUndefined();
    expect(summary.follow).toContain("--job-id <job id>");
    expect(summary.request.Operation?.LambdaInvoke?.UserArguments).toEqual({ targets: "dev" });
  });

  it("lists every problem and creates nothing: unknown targets, a report bucket that does not exist", async () => {
    s3Mock.on(HeadBucketCommand, { Bucket: `company-batch-prod-${region}-${account}` }).rejects(
      Object.assign(new Error("Not Found"), {
        name: "NotFound",
        $metadata: { httpStatusCode: 404 },
      }),
    );

    const run = startBatchResync(
      settings,
      "company-replication-prod",
      { ...options, targets: ["qa"] },
      deps,
    );

    await expect(run).rejects.toThrow(ResyncSettingsError);
    await expect(run).rejects.toMatchObject({
      problems: [
        'unknown target "qa" (known: dev, staging)',
        `bucket "company-batch-prod-${region}-${account}" (Batch Operations reports) does not exist`,
      ],
    });
    expect(s3controlMock).not.toHaveReceivedCommand(CreateJobCommand);
  });

  it("says when the function cannot be read, or does not follow the naming rules", async () => {
    lambdaMock
      .on(GetFunctionConfigurationCommand)
      .rejects(
        Object.assign(new Error("Function not found"), { name: "ResourceNotFoundException" }),
      );
    await expect(startBatchResync(settings, "nope", options, deps)).rejects.toMatchObject({
      problems: [
        'cannot read the configuration of function "nope" (ResourceNotFoundException: Function not found)',
      ],
    });

    lambdaMock
      .on(GetFunctionConfigurationCommand)
      .resolves({ FunctionArn: `arn:aws:lambda:${region}:${account}:function:my-own-function` });
    await expect(
      startBatchResync(settings, "my-own-function", options, deps),
    ).rejects.toMatchObject({
      problems: [
        `function "my-own-function" and source bucket "${settings.sourceBucket}" do not follow the stack's naming rules, so the Batch Operations role and report bucket cannot be derived`,
      ],
    });

    lambdaMock.on(GetFunctionConfigurationCommand).resolves({});
    await expect(startBatchResync(settings, "odd", options, deps)).rejects.toMatchObject({
      problems: ['function "odd" has no usable ARN: ""'],
    });
    expect(s3controlMock).not.toHaveReceivedCommand(CreateJobCommand);
  });
});
