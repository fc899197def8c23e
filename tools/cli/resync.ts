/**
 * `npm run resync -- [--function NAME] [--targets dev,staging] [--prefix P] [--objects-only |
 * --items-only] [--dry-run] [--delete-extra] [--concurrency N] [--json] [--engine local |
 * batch-operations]`: brings the targets to the source's current state (tools/ops/resync.ts), or
 * creates an S3 Batch Operations job that does it for the objects (tools/ops/resync-batch.ts).
 * With --function the settings come from the deployed function's configuration; without, from
 * the environment contract. Exit codes: 0 every target converged (or the dry run finished, or
 * the job was created), 1 something failed (each failure listed), 2 bad arguments or settings
 * (every problem listed, nothing changed).
 */
import { randomUUID } from "node:crypto";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import { createClients } from "../../lib/replication/clients";
import {
  ContractError,
  readContract,
  type ReplicationSettings,
} from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { runMain } from "../common/cli-args";
import { FunctionSettingsError, readFunctionSettings } from "../ops/function-settings";
import { ResyncSettingsError, describeSummary, runResync } from "../ops/resync";
import {
  RESYNC_USAGE,
  ResyncUsageError,
  parseResyncArgs,
  type ResyncArgs,
} from "../ops/resync-args";
import { startBatchResync } from "../ops/resync-batch";
import { showProgress } from "../ops/resync-progress";
import { maskingOf, secretsReader } from "../../lib/replication/masking-key";

async function settingsFor(args: ResyncArgs, lambda: LambdaClient): Promise<ReplicationSettings> {
  if (args.functionName === undefined) return readContract(process.env);
  return readFunctionSettings(lambda, args.functionName, {
    S3_FORCE_PATH_STYLE: process.env.S3_FORCE_PATH_STYLE,
    REGION_ENDPOINTS: process.env.REGION_ENDPOINTS,
  });
}

/** Bad settings end with exit code 2 and every problem listed; anything else is rethrown. */
function settingsProblem(error: unknown): number {
  if (
    error instanceof ResyncSettingsError ||
    error instanceof ContractError ||
    error instanceof FunctionSettingsError
  ) {
    console.error(error.message);
    return 2;
  }
  throw error;
}

async function main(): Promise<number> {
  let args: ResyncArgs;
  try {
    args = parseResyncArgs(process.argv.slice(2));
  } catch (error: unknown) {
    if (error instanceof ResyncUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    console.log(RESYNC_USAGE);
    return 0;
  }
  // The function's logs would mix with the summary on stdout; POWERTOOLS_LOG_LEVEL turns them on.
  if (process.env.POWERTOOLS_LOG_LEVEL === undefined) logger.setLogLevel("SILENT");
  const lambda = new LambdaClient({});
  let settings: ReplicationSettings;
  try {
    settings = await settingsFor(args, lambda);
  } catch (error: unknown) {
    lambda.destroy();
    return settingsProblem(error);
  }
  const clients = createClients(settings);
  const s3control = new Map<string, S3ControlClient>();
  try {
    if (args.engine === "batch-operations" && args.functionName !== undefined) {
      const job = await startBatchResync(
        settings,
        args.functionName,
        { targets: args.targets, prefix: args.prefix, dryRun: args.dryRun, token: randomUUID() },
        {
          lambda,
          clients,
          s3control: (region) => {
            const client = s3control.get(region) ?? new S3ControlClient({ region });
            s3control.set(region, client);
            return client;
          },
        },
      );
      if (args.json) console.log(JSON.stringify(job, null, 2));
      else if (job.dryRun) {
        console.log("Batch Operations job (dry run: not created). CreateJob input:");
        console.log(JSON.stringify(job.request, null, 2));
      } else {
        console.log(`Batch Operations job ${job.jobId ?? ""} created in ${job.region}.`);
        console.log(`Follow it:     ${job.follow}`);
        console.log(`Failed tasks:  ${job.reportLocation} (completion report)`);
      }
      return 0;
    }
    let stop = (): void => undefined;
    const summary = await runResync(
      settings,
      clients,
      {
        targets: args.targets,
        prefix: args.prefix,
        objects: args.objects,
        items: args.items,
        dryRun: args.dryRun,
        deleteExtra: args.deleteExtra,
        concurrency: args.concurrency,
        // The function's rules and key, read with the operator's credentials.
        masking: maskingOf(settings, secretsReader(settings)),
      },
      {
        onStart: (tally) => {
          stop = showProgress(tally, process.stderr);
        },
      },
    ).finally(() => {
      stop();
    });
    if (args.json) console.log(JSON.stringify(summary, null, 2));
    else {
      const lines = describeSummary(summary, {
        bucket: settings.sourceBucket,
        table: settings.sourceTable,
      });
      for (const line of lines) {
        if (line.startsWith("  failed:")) console.error(line);
        else console.log(line);
      }
    }
    return summary.failures.length > 0 ? 1 : 0;
  } catch (error: unknown) {
    return settingsProblem(error);
  } finally {
    clients.destroy();
    lambda.destroy();
    for (const client of s3control.values()) client.destroy();
  }
}

void runMain(main);
