/**
 * `npm run redrive -- --function NAME [--queue-url URL] [--dry-run] [--max-messages N]`: replays
 * the replication DLQ through the replication code, deleting each message only after it
 * succeeded. With --function, the settings come from the deployed function's configuration;
 * without, from the environment contract (DLQ_URL defaulting to --queue-url). Exit codes: 0 all
 * replayed (or the dry run finished), 1 some kept in the queue (each listed with its reason),
 * 2 bad arguments or settings (all listed).
 */
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { createClients } from "../../lib/replication/clients";
import {
  ContractError,
  readContract,
  type ReplicationSettings,
} from "../../lib/replication/contract";
import { maskingOf, secretsReader } from "../../lib/replication/masking-key";
import { createReplicator } from "../../lib/replication/replicator";
import { runMain } from "../common/cli-args";
import { FunctionSettingsError, readFunctionSettings } from "../ops/function-settings";
import {
  REDRIVE_USAGE,
  UsageError,
  parseRedriveArgs,
  runRedrive,
  type RedriveOptions,
} from "../ops/redrive";

async function settingsFor(options: RedriveOptions): Promise<ReplicationSettings> {
  if (options.functionName === undefined) {
    return readContract({ DLQ_URL: options.queueUrl, ...process.env });
  }
  const lambda = new LambdaClient({});
  try {
    return await readFunctionSettings(lambda, options.functionName, {
      S3_FORCE_PATH_STYLE: process.env.S3_FORCE_PATH_STYLE,
      REGION_ENDPOINTS: process.env.REGION_ENDPOINTS,
    });
  } finally {
    lambda.destroy();
  }
}

async function main(): Promise<number> {
  let options: RedriveOptions;
  let settings: ReplicationSettings;
  try {
    options = parseRedriveArgs(process.argv.slice(2));
    if (options.help) {
      console.log(REDRIVE_USAGE);
      return 0;
    }
    settings = await settingsFor(options);
  } catch (error: unknown) {
    if (
      error instanceof UsageError ||
      error instanceof ContractError ||
      error instanceof FunctionSettingsError
    ) {
      console.error(error.message);
      if (!(error instanceof UsageError)) console.error(REDRIVE_USAGE);
      return 2;
    }
    throw error;
  }
  const clients = createClients(settings);
  // The masking key is read with the operator's credentials (README "Masking").
  const masking = maskingOf(settings, secretsReader(settings));
  const streams = new Map<string, DynamoDBStreamsClient>();
  try {
    const queueUrl = options.queueUrl ?? settings.dlqUrl;
    const summary = await runRedrive(
      { queueUrl, dryRun: options.dryRun, maxMessages: options.maxMessages },
      {
        sqs: clients.sqs,
        replicator: createReplicator(settings, clients, masking),
        ...(masking === undefined ? {} : { masking }),
        streams: (region) => {
          const client = streams.get(region) ?? new DynamoDBStreamsClient({ region });
          streams.set(region, client);
          return client;
        },
      },
    );
    for (const line of summary.failures) console.error(`kept ${line}`);
    const shapes = Object.entries(summary.shapes)
      .map(([shape, count]) => `${shape} ${count}`)
      .join(", ");
    console.log(
      `redrive${options.dryRun ? " (dry run)" : ""} of ${queueUrl}: received ${summary.received}` +
        `${shapes === "" ? "" : ` (${shapes})`}, replayed ${summary.replayed}, ` +
        `skipped ${summary.skipped}, failed ${summary.failed}`,
    );
    return summary.failed > 0 ? 1 : 0;
  } finally {
    clients.destroy();
    for (const client of streams.values()) client.destroy();
  }
}

void runMain(main);
