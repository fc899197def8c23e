/** The `npm run redrive` entry (tools/cli/redrive.ts) as an operator runs it: exit codes and output. */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  createQueue,
  emulatorEnvironment,
  sqsClient,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { runScript } from "../support/run-script";

const redrive = (args: string[], env: Record<string, string>) =>
  runScript("redrive", args, { env });

let emulators: Emulators;
let queueUrl: string;
beforeAll(async () => {
  emulators = await startEmulators();
  queueUrl = await createQueue(emulators, "cli-dlq");
});
afterAll(async () => {
  await emulators.stop();
});

const contract = {
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: "prod-bucket",
  SOURCE_TABLE: "prod-table",
  TARGETS: '[{"environment":"dev","bucket":"dev-bucket","table":"dev-table"}]',
  POWERTOOLS_LOG_LEVEL: "SILENT",
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1",
};

describe("npm run redrive", () => {
  it("exits 2 listing every bad argument, with the usage", async () => {
    const run = await redrive(["--bogus", "--max-messages", "0"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'unknown option "--bogus"; --function or --queue-url is required; --max-messages must be a positive integer: "0"',
    );
    expect(run.stderr).toContain("usage: npm run redrive -- (--function NAME | --queue-url URL)");
  });

  it("documents --function in --help and exits 0", async () => {
    const run = await redrive(["--help"], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--function NAME +the replication function: its settings/);
  });

  it("exits 2 naming the function when its configuration cannot be read", async () => {
    const run = await redrive(["--function", "company-replication-prod"], {
      AWS_ENDPOINT_URL_LAMBDA: "http://127.0.0.1:9",
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_MAX_ATTEMPTS: "1",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'cannot read the configuration of function "company-replication-prod"',
    );
  });

  it("exits 2 naming the missing environment", async () => {
    const run = await redrive(["--queue-url", "http://127.0.0.1:9/123456789012/q"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("SOURCE_BUCKET environment variable is not set");
  });

  it("prints a summary and exits 1 when a message cannot be replayed (it stays queued)", async () => {
    const sqs = sqsClient(emulators);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "not json" }));
    sqs.destroy();
    const run = await redrive(["--queue-url", queueUrl], {
      ...emulatorEnvironment(emulators),
      ...contract,
    });
    expect(run.stdout).toContain(
      `redrive of ${queueUrl}: received 1 (unknown 1), replayed 0, skipped 0, failed 1`,
    );
    expect(run.stderr).toMatch(/kept .*: unknown message: unknown shape: body is not JSON/);
    expect(run.code).toBe(1);

    const dry = await redrive(["--queue-url", queueUrl, "--dry-run"], {
      ...emulatorEnvironment(emulators),
      ...contract,
    });
    expect(dry.stdout).toContain(
      `redrive (dry run) of ${queueUrl}: received 1 (unknown 1), replayed 0, skipped 1, failed 0`,
    );
    expect(dry.code).toBe(0);
  });
});
