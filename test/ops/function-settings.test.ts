/** Settings of a deployed replication function (tools/ops/function-settings.ts), with a mocked Lambda API. */
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { FunctionSettingsError, readFunctionSettings } from "../../tools/ops/function-settings";

const lambdaMock = mockClient(LambdaClient);
const lambda = new LambdaClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const deployed = {
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: "prod-bucket",
  SOURCE_TABLE: "prod-table",
  TARGETS: '[{"environment":"dev","bucket":"dev-bucket","table":"dev-table"}]',
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
};

beforeEach(() => lambdaMock.reset());
afterAll(() => {
  lambda.destroy();
});

it("reads the deployed environment, with the client's region when it names none", async () => {
  lambdaMock
    .on(GetFunctionConfigurationCommand, { FunctionName: "company-replication-prod" })
    .resolves({ Environment: { Variables: deployed } });

  const settings = await readFunctionSettings(lambda, "company-replication-prod");

  expect(settings).toMatchObject({
    region: "eu-west-1",
    sourceBucket: "prod-bucket",
    targets: [{ environment: "dev", bucket: "dev-bucket", table: "dev-table" }],
    dlqUrl: deployed.DLQ_URL,
  });
});

it("prefers the function's REGION, and lets overrides win", async () => {
  lambdaMock
    .on(GetFunctionConfigurationCommand)
    .resolves({ Environment: { Variables: { ...deployed, REGION: "us-west-2" } } });

  const settings = await readFunctionSettings(lambda, "f", { S3_FORCE_PATH_STYLE: "true" });

  expect(settings.region).toBe("us-west-2");
  expect(settings.forcePathStyle).toBe(true);
});

it("names the function and the reason when its configuration cannot be read", async () => {
  lambdaMock.on(GetFunctionConfigurationCommand).rejects(
    Object.assign(new Error("Function not found: arn:aws:lambda:eu-west-1:1:function:nope"), {
      name: "ResourceNotFoundException",
    }),
  );

  await expect(readFunctionSettings(lambda, "nope")).rejects.toThrow(
    new FunctionSettingsError(
      'cannot read the configuration of function "nope" (ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:1:function:nope)',
    ),
  );
});

it("refuses a function whose environment is not the replication contract", async () => {
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: {} } });

  await expect(readFunctionSettings(lambda, "other")).rejects.toThrow(
    /^function "other" is not a replication function: Invalid replication environment: SOURCE_ENVIRONMENT environment variable is not set; /,
  );
});

it("takes a function without environment variables as not a replication function, and names a thrown value", async () => {
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({});
  await expect(readFunctionSettings(lambda, "bare")).rejects.toThrow(
    /^function "bare" is not a replication function/,
  );

  lambdaMock.on(GetFunctionConfigurationCommand).rejects("plain text");
  await expect(readFunctionSettings(lambda, "odd")).rejects.toThrow(
    /cannot read the configuration of function "odd" \(.*plain text\)/,
  );
});
