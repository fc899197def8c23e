/**
 * `npm run redrive -- --queue-url URL [--dry-run] [--max-messages N]`: replays dead-letter
 * messages through the replication code and deletes each only after it succeeded. Targets and
 * source come from the replication environment contract (DLQ_URL defaults to --queue-url).
 * Exit codes: 0 all replayed, 1 some failed (left in the queue), 2 bad arguments/environment.
 */
import { createClients } from "../../lib/replication/clients";
import { ContractError, readContract } from "../../lib/replication/contract";
import {
  REDRIVE_USAGE,
  UsageError,
  parseRedriveArgs,
  runRedrive,
  type RedriveOptions,
} from "../ops/redrive";
import { createReplicator } from "../../lib/replication/replicator";
import { runMain } from "../common/cli-args";

async function main(): Promise<number> {
  let options: RedriveOptions;
  let config: ReturnType<typeof readContract>;
  try {
    options = parseRedriveArgs(process.argv.slice(2));
    config = readContract({ DLQ_URL: options.queueUrl, ...process.env });
  } catch (error: unknown) {
    if (error instanceof UsageError || error instanceof ContractError) {
      console.error(error.message);
      if (error instanceof ContractError) console.error(REDRIVE_USAGE);
      return 2;
    }
    throw error;
  }
  const clients = createClients(config);
  const summary = await runRedrive(options, {
    sqs: clients.sqs,
    replicator: createReplicator(config, clients),
    targets: config.targets,
  });
  for (const failure of summary.failures) console.error(`failed ${failure}`);
  console.log(
    `redrive${options.dryRun ? " (dry run)" : ""}: received ${summary.received}, replayed ${summary.replayed}, ` +
      `skipped ${summary.skipped}, failed ${summary.failed}`,
  );
  return summary.failed > 0 ? 1 : 0;
}

void runMain(main);
