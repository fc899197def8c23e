/**
 * `npm start [-- --keep] [-- --seed <n>]`: the whole pipeline on embedded emulators, no AWS
 * account and no Pulumi CLI (see tools/sandbox/run.ts). Prints progress (the data that predates
 * replication, the resync that brings the targets to prod, the live scenario), a per-environment
 * table, each masked target's masked values beside prod's, and the DLQ count. Exit codes: 0 dev
 * and staging converged to what they must hold of prod (dev masked, staging as it is), 1 they did
 * not (or the run failed), 2 bad arguments. `--keep` leaves the emulators running until Ctrl-C;
 * `--help` prints the usage.
 */
import "../common/sdk-quiet";
import {
  parseSandboxArgs,
  SANDBOX_USAGE,
  SandboxUsageError,
  type SandboxArgs,
} from "../sandbox/args";
import { runSandbox } from "../sandbox/run";
import { runMain } from "../common/cli-args";

async function main(): Promise<number> {
  let args: SandboxArgs;
  try {
    args = parseSandboxArgs(process.argv.slice(2));
  } catch (error: unknown) {
    if (error instanceof SandboxUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const print = (line: string): void => {
    console.log(line);
  };
  const result = await runSandbox({ seed: args.seed, print });
  print("");
  print(result.table);
  const prod = result.deployment.pipeline.layout.source.environment;
  for (const target of result.masked) {
    print("");
    print(
      `Masked in ${target.environment}: every value the rules mask in ${prod}, beside ${target.environment}'s`,
    );
    print(target.table);
    print(
      target.unmasked.length === 0
        ? `${target.environment} holds none of these ${target.values.length} ${prod} values as they are (items, object contents, metadata, tags)`
        : `${target.environment} holds ${target.unmasked.length} of these ${target.values.length} ${prod} values as they are`,
    );
  }
  const unmasked = result.states
    .map((state) => state.environment)
    .filter((environment) => environment !== prod && !result.masking.masks(environment));
  if (unmasked.length > 0) {
    print(`Not masked (unmaskedTargets): ${unmasked.join(", ")}, written as ${prod} holds them.`);
  }
  print("");
  print(`DLQ messages: ${result.dlqMessages}`);
  if (result.converged) {
    const held = result.states
      .filter((state) => state.environment !== prod)
      .map(
        (state) =>
          `${state.environment} ${result.masking.masks(state.environment) ? "masked by the rules" : "as it is"}`,
      );
    print(
      `Converged: every environment equals ${prod} (${held.join(", ")}) (${process.uptime().toFixed(1)} s).`,
    );
  } else {
    print("NOT converged:");
    for (const problem of result.problems) print(`  - ${problem}`);
  }
  if (!args.keep) {
    await result.stop();
    return result.converged ? 0 : 1;
  }
  const [source] = result.states;
  const region = result.deployment.pipeline.layout.source.region;
  const endpoints = result.deployment.pipeline.endpoints[region];
  print("");
  print("Emulators left running (Ctrl-C stops them):");
  for (const [name, regional] of Object.entries(result.deployment.pipeline.endpoints)) {
    print(`  ${name}: S3 ${regional.s3}, DynamoDB ${regional.dynamodb}, SQS ${regional.sqs}`);
  }
  print(`  DLQ ${result.deployment.dlqUrl}`);
  print("Try (credentials test/test):");
  print(
    `  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region} ` +
      `aws --endpoint-url ${endpoints?.s3 ?? ""} s3 ls s3://${source?.bucket ?? ""}/ --recursive`,
  );
  print(
    `  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region} ` +
      `aws --endpoint-url ${endpoints?.dynamodb ?? ""} dynamodb scan --table-name ${source?.table ?? ""}`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => {
      resolve();
    });
    process.once("SIGTERM", () => {
      resolve();
    });
  });
  print("Stopping the emulators...");
  await result.stop();
  print("Stopped.");
  return result.converged ? 0 : 1;
}

void runMain(main, SANDBOX_USAGE);
