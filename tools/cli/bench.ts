/**
 * `npm run bench [-- --runs <n>] [-- --only <part>,...]`: the benchmark (not a timed test).
 * Measures, over at least 5 runs each: replication throughput of the built handler against the
 * naive baseline (tools/bench/naive-handler.ts) on the same emulators and changes; bytes through the
 * function per replicated object and target; bundle size and cold `require` against the
 * unbundled tsc output; offline plan time per stack (the `npm run plan` CLI); `npm test` wall
 * time; resync throughput (tools/bench/resync.ts: 5,000 small objects and 5,000 items into two
 * targets, against a naive baseline; BENCH_RESYNC_COUNT=N for a quick check with fewer, which is
 * never recorded) and bytes through the process per object for two object sizes.
 * Writes tools/bench/results.json and tools/bench/results.md when every part ran with >= 5 runs.
 * Exit codes: 0 measured (targets may still fail: see the table), 1 error, 2 bad arguments.
 */
import "../common/sdk-quiet";
import { statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleWithModuleFields, coldRequireMs, compileUnbundled } from "../bench/cold-require";
import { root, timeCommand, tsxCli } from "../bench/commands";
import {
  KB,
  MB,
  benchBody,
  bytesThroughFunction,
  startReplicationBench,
  throughputRun,
  type ThroughputRun,
} from "../bench/replication";
import {
  renderMarkdown,
  formatNumber,
  type BenchResults,
  type Metric,
  type Target,
} from "../bench/report";
import {
  BENCH_PARTS,
  BenchUsageError,
  MIN_RUNS,
  parseBenchArgs,
  summarize,
  type BenchArgs,
} from "../bench/stats";
import {
  BENCH_LATENCY_MS,
  RESYNC_TARGET_COUNT,
  resyncBytes,
  resyncThroughputRun,
  startLatencyProxy,
  startResyncBench,
} from "../bench/resync";
import { ensureBundle } from "../common/bundle-file";
import { runMain } from "../common/cli-args";
import { discoverStacks } from "../offline/plan-report";

const THROUGHPUT_CASES = [
  { label: "1 KB", size: KB, count: 200, minRatio: 1 },
  { label: "64 MB", size: 64 * MB, count: 3, minRatio: 2 },
] as const;
const BYTE_SIZES = [
  { label: "1 KB", size: KB },
  { label: "1 MB", size: MB },
  { label: "16 MB", size: 16 * MB },
  { label: "64 MB", size: 64 * MB },
] as const;
const MAX_BYTES_PER_TARGET = 2 * KB;
const MAX_COLD_REQUIRE_RATIO = 1 / 3;
/** Resync: keys and items (each) of the throughput measurement, and the goal against the baseline. */
const RESYNC_COUNT = 5_000;
const RESYNC_MIN_RATIO = 3;
/** Objects of the latency measurement (the baseline takes 4 round trips per object). */
const RESYNC_LATENCY_COUNT = 500;
/** Resync bytes: objects per size, and how far apart the per-object bytes of the sizes may be. */
const RESYNC_BYTE_SIZES = [
  { label: "1 KB", size: KB },
  { label: "1 MB", size: MB },
] as const;
const RESYNC_BYTE_COUNT = 50;
const MAX_RESYNC_BYTES_SPREAD = 1.1;

const log = (line: string): void => {
  console.error(line);
};

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error: unknown) {
    if (error instanceof BenchUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const { runs, parts } = args;
  const metrics: Metric[] = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const loadAtStart = os.loadavg()[0] ?? 0;
  const metric = (part: string, name: string, unit: string, values: readonly number[]): number => {
    const summary = summarize(values);
    metrics.push({ part, name, unit, summary });
    log(
      `  ${name}: median ${formatNumber(summary.median)} ${unit} (min ${formatNumber(summary.min)}, max ${formatNumber(summary.max)})`,
    );
    return summary.median;
  };

  if (parts.includes("throughput") || parts.includes("bytes")) {
    const bundle = ensureBundle();
    log(`Bundle ${path.relative(root, bundle.file)}: ${bundle.status}`);
    const bench = await startReplicationBench();
    const body = benchBody(64 * MB);
    try {
      if (parts.includes("throughput")) {
        await bench.withEndpoint(bench.emulators.s3.endpoint, async (handler) => {
          for (const { label, size, count, minRatio } of THROUGHPUT_CASES) {
            log(
              `Throughput, ${label} objects, ${count} changes per run, ${runs} runs (+1 warm-up)`,
            );
            await throughputRun(bench, handler, size, Math.min(count, 20), -1, body);
            const samples: ThroughputRun[] = [];
            for (let run = 0; run < runs; run++) {
              samples.push(await throughputRun(bench, handler, size, count, run, body));
            }
            const part = `throughput ${label}`;
            metric(
              part,
              "handler",
              "changes/s",
              samples.map((s) => s.handler),
            );
            metric(
              part,
              "naive baseline",
              "changes/s",
              samples.map((s) => s.naive),
            );
            const ratio = metric(
              part,
              "handler / baseline",
              "x",
              samples.map((s) => s.handler / s.naive),
            );
            targets.push({
              name: `Throughput, ${label} objects, handler vs naive baseline`,
              target: `>= ${minRatio}x`,
              measured: `${formatNumber(ratio)}x`,
              pass: ratio >= minRatio,
            });
          }
        });
      }
      if (parts.includes("bytes")) {
        log(`Bytes through the function per replicated object and target, ${runs} runs per size`);
        const samples = await bytesThroughFunction(
          bench,
          BYTE_SIZES.map((s) => s.size),
          runs,
          body,
        );
        let worst = 0;
        for (const { label, size } of BYTE_SIZES) {
          const list = samples.get(size) ?? [];
          const part = `bytes ${label}`;
          metric(
            part,
            "handler, per target",
            "bytes",
            list.map((s) => s.handler),
          );
          metric(
            part,
            "naive baseline, per target",
            "bytes",
            list.map((s) => s.naive),
          );
          metric(
            part,
            "naive baseline / object size, per target",
            "x",
            list.map((s) => s.naive / size),
          );
          worst = Math.max(worst, ...list.map((s) => s.handler));
        }
        targets.push({
          name: "Bytes through the function per target, 1 KB to 64 MB objects (worst run)",
          target: `< ${formatNumber(MAX_BYTES_PER_TARGET)} bytes`,
          measured: `${formatNumber(worst)} bytes`,
          pass: worst < MAX_BYTES_PER_TARGET,
        });
      }
    } finally {
      await bench.stop();
    }
  }

  const resyncCount = Number(process.env.BENCH_RESYNC_COUNT ?? RESYNC_COUNT);
  if (parts.includes("resync")) {
    if (resyncCount !== RESYNC_COUNT) {
      notes.push(`resync measured with ${resyncCount} objects and items (BENCH_RESYNC_COUNT)`);
    }
    log(
      `Resync, ${resyncCount} objects of 1 KB and ${resyncCount} items into ${RESYNC_TARGET_COUNT} targets, ${runs} runs`,
    );
    const bench = await startResyncBench();
    try {
      await bench.seed("throughput/", resyncCount, KB, resyncCount);
      const samples = [];
      for (let run = 0; run < runs; run++) {
        samples.push(
          await resyncThroughputRun(bench, "throughput/", resyncCount, resyncCount, run),
        );
      }
      metric(
        "resync",
        "resync, objects",
        "objects/s",
        samples.map((s) => s.resyncObjects),
      );
      metric(
        "resync",
        "naive baseline, objects",
        "objects/s",
        samples.map((s) => s.naiveObjects),
      );
      const ratio = metric(
        "resync",
        "resync / baseline, objects",
        "x",
        samples.map((s) => s.resyncObjects / s.naiveObjects),
      );
      metric(
        "resync",
        "resync, items",
        "items/s",
        samples.map((s) => s.resyncItems),
      );
      metric(
        "resync",
        "naive baseline, items",
        "items/s",
        samples.map((s) => s.naiveItems),
      );
      targets.push({
        name: `Resync throughput, ${formatNumber(resyncCount)} 1 KB objects into ${RESYNC_TARGET_COUNT} targets, vs naive baseline (emulators as they are)`,
        target: `>= ${RESYNC_MIN_RATIO}x`,
        measured: `${formatNumber(ratio)}x`,
        pass: ratio >= RESYNC_MIN_RATIO,
      });
      const latencyCount = Math.min(resyncCount, RESYNC_LATENCY_COUNT);
      log(
        `Resync with ${BENCH_LATENCY_MS} ms of network latency per S3 request, ${latencyCount} objects, ${runs} runs`,
      );
      await bench.seed("latency/", latencyCount, KB, 0);
      const proxy = await startLatencyProxy(
        Number(new URL(bench.emulators.s3.endpoint).port),
        BENCH_LATENCY_MS,
      );
      try {
        const latency = [];
        for (let run = 0; run < runs; run++) {
          latency.push(
            await resyncThroughputRun(bench, "latency/", latencyCount, 0, run, proxy.endpoint),
          );
        }
        const part = `resync ${BENCH_LATENCY_MS} ms`;
        metric(
          part,
          "resync, objects",
          "objects/s",
          latency.map((s) => s.resyncObjects),
        );
        metric(
          part,
          "naive baseline, objects",
          "objects/s",
          latency.map((s) => s.naiveObjects),
        );
        const latencyRatio = metric(
          part,
          "resync / baseline, objects",
          "x",
          latency.map((s) => s.resyncObjects / s.naiveObjects),
        );
        targets.push({
          name: `Resync throughput, ${formatNumber(latencyCount)} 1 KB objects into ${RESYNC_TARGET_COUNT} targets, vs naive baseline, ${BENCH_LATENCY_MS} ms per S3 request`,
          target: `>= ${RESYNC_MIN_RATIO}x`,
          measured: `${formatNumber(latencyRatio)}x`,
          pass: latencyRatio >= RESYNC_MIN_RATIO,
        });
      } finally {
        await proxy.close();
      }
      log(`Resync bytes through the process per object and target, ${runs} runs per size`);
      const perSize: number[] = [];
      for (const { label, size } of RESYNC_BYTE_SIZES) {
        await bench.seed(`bytes/${size}/`, RESYNC_BYTE_COUNT, size, 0);
        const list = [];
        for (let run = 0; run < runs; run++) {
          list.push(
            await resyncBytes(bench, `bytes/${size}/`, RESYNC_BYTE_COUNT, `${size}-${run}`),
          );
        }
        perSize.push(
          metric(
            `resync bytes ${label}`,
            "resync, per object and target",
            "bytes",
            list.map((s) => s.resync),
          ),
        );
        metric(
          `resync bytes ${label}`,
          "naive baseline, per object and target",
          "bytes",
          list.map((s) => s.naive),
        );
      }
      const spread = Math.max(...perSize) / Math.min(...perSize);
      targets.push({
        name: "Resync bytes through the process per object, 1 KB vs 1 MB objects (largest / smallest)",
        target: `<= ${formatNumber(MAX_RESYNC_BYTES_SPREAD)}x (constant)`,
        measured: `${formatNumber(spread)}x`,
        pass: spread <= MAX_RESYNC_BYTES_SPREAD,
      });
    } finally {
      await bench.stop();
    }
  }

  if (parts.includes("bundle")) {
    const bundle = ensureBundle();
    log(`Bundle size and cold require (fresh node process per run), ${runs} runs`);
    metric("bundle", "dist/replication/index.js size", "bytes", [statSync(bundle.file).size]);
    const unbundled = compileUnbundled();
    const variant = bundleWithModuleFields();
    const bundled: number[] = [];
    const plain: number[] = [];
    const shaken: number[] = [];
    for (const file of [bundle.file, unbundled, variant]) coldRequireMs(file); // warm the file cache
    for (let run = 0; run < runs; run++) {
      bundled.push(coldRequireMs(bundle.file));
      plain.push(coldRequireMs(unbundled));
      shaken.push(coldRequireMs(variant));
    }
    metric("bundle", "cold require, bundle", "ms", bundled);
    metric("bundle", "cold require, unbundled tsc output", "ms", plain);
    const ratio = metric(
      "bundle",
      "cold require, bundle / unbundled",
      "x",
      bundled.map((ms, run) => ms / (plain[run] ?? Number.NaN)),
    );
    metric("bundle", "experiment: bundle with mainFields module,main, size", "bytes", [
      statSync(variant).size,
    ]);
    metric("bundle", "experiment: cold require, mainFields module,main bundle", "ms", shaken);
    metric(
      "bundle",
      "experiment: cold require, mainFields module,main bundle / unbundled",
      "x",
      shaken.map((ms, run) => ms / (plain[run] ?? Number.NaN)),
    );
    targets.push({
      name: "Cold require of the bundle vs the unbundled tsc output",
      target: "<= 0.333x",
      measured: `${formatNumber(ratio)}x`,
      pass: ratio <= MAX_COLD_REQUIRE_RATIO,
    });
  }

  if (parts.includes("plan")) {
    log(`Offline plan per stack (npm run plan -- --stack <s> --json, via tsx), ${runs} runs`);
    for (const stack of discoverStacks()) {
      const times: number[] = [];
      for (let run = 0; run < runs; run++) {
        const timed = timeCommand(process.execPath, [
          tsxCli,
          "tools/cli/plan.ts",
          "--stack",
          stack,
          "--json",
        ]);
        if (timed.status !== 0) {
          notes.push(
            `plan ${stack} run ${run + 1} exited ${String(timed.status)}: ${timed.failure ?? ""}`,
          );
        }
        times.push(timed.ms);
      }
      metric("plan", `offline plan ${stack}`, "ms", times);
    }
  }

  if (parts.includes("test")) {
    log(`npm test wall time, ${runs} runs`);
    const times: number[] = [];
    let failed = 0;
    for (let run = 0; run < runs; run++) {
      const timed = timeCommand("npm", ["test"]);
      log(`  run ${run + 1}: ${formatNumber(timed.ms / 1000)} s, exit ${String(timed.status)}`);
      if (timed.status !== 0) {
        failed += 1;
        notes.push(
          `npm test run ${run + 1} exited ${String(timed.status)}: ${(timed.failure ?? "").slice(-600)}`,
        );
      }
      times.push(timed.ms / 1000);
    }
    metric("test", "npm test wall time", "s", times);
    if (failed > 0) notes.push(`npm test failed in ${failed} of ${runs} runs (timed anyway)`);
  }

  const cpus = os.cpus();
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: {
      cores: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    runs,
    conditions:
      `1-minute load average ${loadAtStart.toFixed(2)} at start, ${(os.loadavg()[0] ?? 0).toFixed(2)} at end; ` +
      "emulators in-process on loopback (s3rver on disk in the temp dir, dynalite in memory); " +
      "one invocation at a time for throughput." +
      (process.env.BENCH_CONDITIONS ? ` ${process.env.BENCH_CONDITIONS}` : ""),
    notes,
    metrics,
    targets,
  };
  const markdown = renderMarkdown(results);
  process.stdout.write(markdown);
  const complete =
    BENCH_PARTS.every((part) => parts.includes(part)) &&
    runs >= MIN_RUNS &&
    resyncCount === RESYNC_COUNT;
  if (complete) {
    writeFileSync(
      path.join(root, "tools", "bench", "results.json"),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    writeFileSync(path.join(root, "tools", "bench", "results.md"), markdown);
    log("Wrote tools/bench/results.json and tools/bench/results.md");
  } else {
    log(
      `Not writing tools/bench/results.*: only a full run with --runs >= ${MIN_RUNS} is recorded`,
    );
  }
  return 0;
}

void runMain(main);
