/**
 * `npm run simulate -- [--runs N] [--seed S] [--path P] [--max-operations M] [--shrink-seconds T]`:
 * explores the deterministic simulation of AWS (tools/simulation/) beyond the test suite's fixed
 * corpus: N generated workloads and schedules from fast-check's seed S (a random one when not
 * given, printed so that it can be replayed). A run that breaks an invariant is shrunk to a
 * minimal case (for at most T seconds, then the smallest so far) and printed as a timeline, with
 * the command that replays it (`--path`). Exit codes: 0 every run held, 1 an invariant broke, 2
 * bad arguments.
 */
import { runMain } from "../common/cli-args";
import { SIMULATE_USAGE, parseSimulateArgs } from "../simulation/args";
import { explore } from "../simulation/explore";

async function main(): Promise<number> {
  let options: ReturnType<typeof parseSimulateArgs>;
  try {
    options = parseSimulateArgs(process.argv.slice(2));
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const started = Date.now();
  console.log(`simulate: ${String(options.runs)} run(s) from seed ${String(options.seed)}`);
  const outcome = await explore(options);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (outcome.ok) {
    console.log(`simulate: every invariant held in ${String(outcome.runs)} run(s) (${seconds} s)`);
    return 0;
  }
  console.log(outcome.report);
  console.log(`simulate: an invariant broke after ${String(outcome.runs)} run(s) (${seconds} s)`);
  return 1;
}

void runMain(main, SIMULATE_USAGE);
