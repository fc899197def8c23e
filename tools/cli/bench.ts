/**
 * `npm run bench [-- --runs <n>] [-- --only <part>,...]`: the benchmark (not a timed test). Parts:
 * - throughput: replication throughput of the built handler against the naive baseline
 *   (tools/bench/naive-handler.ts) on the same emulators and changes;
 * - bytes: per replicated object and target, the object bytes through the function (bodies that
 *   carry object data: none, it copies server-side) and all bytes on its sockets (headers only,
 *   constant with the object's size), 1 KB to 64 MB, with the baseline's as context;
 * - resync: tools/bench/resync.ts (5,000 small objects and 5,000 items into two targets, against
 *   a naive baseline; BENCH_RESYNC_COUNT=N for a quick check with fewer, never recorded), and the
 *   bytes through the process per object for two object sizes;
 * - masking: tools/bench/masking.ts (stream batches of customer items through the built handler
 *   with masking on and off) and masking-transform.ts (a 1 GB JSON Lines object through the
 *   object transform, MB/s and peak RSS, against a 64 MB one; BENCH_MASKING_MB=N masks an N MB
 *   object instead, never recorded);
 * - bundle: the deployed bundle's size and cold load against the SDK-only anchor (the function's
 *   AWS SDK clients, bundled the same way), what its source map costs, and what it carries
 *   beyond the anchor;
 * - plan: offline plan time per stack (the `npm run plan` CLI);
 * - test: `npm test` wall time from a fresh clone after `npm ci`.
 * Writes tools/bench/results.json and tools/bench/results.md when every part ran with >= 5 runs.
 * A part that throws becomes a failed row of the targets table, and the other parts still run.
 * Exit codes: 0 measured (targets may still fail: see the table), 1 error, 2 bad arguments.
 */
import "../common/sdk-quiet";
import { statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { replicationEntry } from "../../lib/bundle";
import {
  BENCH_PARTS,
  BENCH_USAGE,
  BenchUsageError,
  MIN_RUNS,
  parseBenchArgs,
  type BenchArgs,
  type BenchPart,
} from "../bench/args";
import {
  ANCHOR_CLIENTS,
  alternateColdLoads,
  buildColdStartBundles,
  bundleInputs,
  bytesBeyond,
  bytesByPackage,
  deployedNodeOptions,
  sdkClientPackages,
  type ColdLoad,
  type ColdLoadCase,
} from "../bench/cold-start";
import { root, timeCommand, tsxCli } from "../bench/commands";
import { timeGateFromFreshClone } from "../bench/gate";
import { BenchRecorder } from "../bench/recorder";
import {
  KB,
  MB,
  benchBody,
  bytesThroughFunction,
  startReplicationBench,
  throughputRun,
  type ReplicationBench,
  type ThroughputRun,
} from "../bench/replication";
import { BENCH_MASKING_KEY, startMaskingItemsBench, type ItemsRun } from "../bench/masking";
import { benchLine, transformInChild, type TransformSample } from "../bench/masking-transform";
import { formatNumber, renderMarkdown, type BenchResults } from "../bench/report";
import {
  BENCH_LATENCY_MS,
  RESYNC_TARGET_COUNT,
  resyncBytes,
  resyncThroughputRun,
  startLatencyProxy,
  startResyncBench,
  type ResyncBench,
} from "../bench/resync";
import { pairwiseDifferences, pairwiseRatios } from "../bench/stats";
import { atLeast, atMost, exactly, spread, unmeasured } from "../bench/targets";
import { TRANSFORM_BYTES_PER_MS } from "../../lib/replication/objects";
import { ensureBundle } from "../common/bundle-file";
import { runMain } from "../common/cli-args";
import { lambdaNode } from "../common/lambda-node";
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
/** Headers only: bytes on the function's sockets per target, at most, and how far they may vary. */
const MAX_SOCKET_BYTES_PER_TARGET = 4 * KB;
const MAX_SOCKET_BYTES_SPREAD = 1.05;
/** Cold load of the deployed bundle against the SDK-only anchor, and rounds per run. */
const MAX_COLD_LOAD_RATIO = 1.25;
const COLD_ROUNDS_PER_RUN = 5;
/** Packages beyond the anchor listed one by one (the rest are summed). */
const BEYOND_ANCHOR_LISTED = 8;
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
/** Masking, items: customer items per run (each side twice), and the goal against unmasked. */
const MASKING_ITEM_COUNT = 300;
const MASKING_MIN_RATIO = 0.8;
/**
 * Masking, objects: the large object's size in MB (BENCH_MASKING_MB), its runs at most (each
 * takes minutes: median of 3, as the gate), the small object it is held against for memory, and
 * how far apart their peak RSS may be (streamed: flat, not 16 times).
 */
const MASKING_OBJECT_MB = 1024;
const MASKING_OBJECT_RUNS = 3;
const MASKING_SMALL_OBJECT_MB = 64;
const MAX_MASKING_RSS_SPREAD = 1.25;

/** The gate: `npm test` runs from one fresh clone, and its wall time at most. */
const GATE_RUNS = 3;
const MAX_GATE_SECONDS = 90;

const log = (line: string): void => {
  console.error(line);
};

/** What every part gets: the runs per measurement and where results go. */
interface BenchContext {
  readonly runs: number;
  readonly record: BenchRecorder;
}

async function measureThroughput(
  { runs, record }: BenchContext,
  bench: ReplicationBench,
  body: Uint8Array,
): Promise<void> {
  await bench.withEndpoint(bench.emulators.s3.endpoint, async (handler) => {
    for (const { label, size, count, minRatio } of THROUGHPUT_CASES) {
      log(`Throughput, ${label} objects, ${count} changes per run, ${runs} runs (+1 warm-up)`);
      await throughputRun(bench, handler, size, Math.min(count, 20), -1, body);
      const samples: ThroughputRun[] = [];
      for (let run = 0; run < runs; run++) {
        samples.push(await throughputRun(bench, handler, size, count, run, body));
      }
      const part = `throughput ${label}`;
      const handlerRates = samples.map((s) => s.handler);
      const naiveRates = samples.map((s) => s.naive);
      record.metric(part, "handler", "changes/s", handlerRates);
      record.metric(part, "naive baseline", "changes/s", naiveRates);
      const ratio = record.metric(
        part,
        "handler / baseline",
        "x",
        pairwiseRatios(handlerRates, naiveRates),
      );
      record.target(
        atLeast(`Throughput, ${label} objects, handler vs naive baseline`, ratio, minRatio, "x"),
      );
    }
  });
}

async function measureBytes(
  { runs, record }: BenchContext,
  bench: ReplicationBench,
  body: Uint8Array,
): Promise<void> {
  log(`Bytes through the function per replicated object and target, ${runs} runs per size`);
  const samples = await bytesThroughFunction(
    bench,
    BYTE_SIZES.map((s) => s.size),
    runs,
    body,
  );
  let worstObject = 0;
  let worstSocket = 0;
  let meterMissed = false;
  const socketMedians: number[] = [];
  for (const { label, size } of BYTE_SIZES) {
    const list = samples.get(size) ?? [];
    const part = `bytes ${label}`;
    const socket = list.map((s) => s.handler.socket);
    socketMedians.push(record.metric(part, "handler, on its sockets, per target", "bytes", socket));
    const object = list.map((s) => s.handler.object);
    record.metric(part, "handler, object bytes, per target", "bytes", object);
    const naiveSocket = list.map((s) => s.naive.socket);
    record.metric(part, "naive baseline, on its sockets, per target", "bytes", naiveSocket);
    const naiveObject = list.map((s) => s.naive.object);
    const naivePerSize = naiveObject.map((bytes) => bytes / size);
    record.metric(
      part,
      "naive baseline, object bytes / object size, per target",
      "x",
      naivePerSize,
    );
    worstObject = Math.max(worstObject, ...object);
    worstSocket = Math.max(worstSocket, ...socket);
    // The baseline downloads and uploads each object once per target: a meter that saw less
    // missed object bytes, and could miss the function's too.
    if (naiveObject.some((bytes) => bytes < 2 * size)) meterMissed = true;
  }
  const range = `${BYTE_SIZES[0].label} to ${BYTE_SIZES[3].label}`;
  const objectTarget = `Object bytes through the function per target, ${range} objects (worst run)`;
  record.target(
    meterMissed
      ? unmeasured(objectTarget, "= 0 bytes", "the meter saw less than the baseline moved")
      : exactly(objectTarget, worstObject, 0, "bytes"),
  );
  record.target(
    atMost(
      `Bytes on the function's sockets per target, ${range} objects (worst run)`,
      worstSocket,
      MAX_SOCKET_BYTES_PER_TARGET,
      "bytes",
    ),
  );
  record.target(
    atMost(
      `Bytes on the function's sockets per target, constant with object size (largest / smallest median, ${range})`,
      spread(socketMedians),
      MAX_SOCKET_BYTES_SPREAD,
      "x",
    ),
  );
}

/** Throughput and bytes share one set of emulators and one built bundle. */
async function measureReplication(
  context: BenchContext,
  parts: readonly BenchPart[],
): Promise<void> {
  const bundle = ensureBundle();
  log(`Bundle ${path.relative(root, bundle.file)}: ${bundle.status}`);
  const bench = await startReplicationBench();
  const body = benchBody(64 * MB);
  try {
    if (parts.includes("throughput")) await measureThroughput(context, bench, body);
    if (parts.includes("bytes")) await measureBytes(context, bench, body);
  } finally {
    await bench.stop();
  }
}

async function measureResyncThroughput(
  { runs, record }: BenchContext,
  bench: ResyncBench,
  count: number,
): Promise<void> {
  log(
    `Resync, ${count} objects of 1 KB and ${count} items into ${RESYNC_TARGET_COUNT} targets, ${runs} runs`,
  );
  await bench.seed("throughput/", count, KB, count);
  const samples = [];
  for (let run = 0; run < runs; run++) {
    samples.push(await resyncThroughputRun(bench, "throughput/", count, count, run));
  }
  const objects = samples.map((s) => s.resyncObjects);
  const naiveObjects = samples.map((s) => s.naiveObjects);
  record.metric("resync", "resync, objects", "objects/s", objects);
  record.metric("resync", "naive baseline, objects", "objects/s", naiveObjects);
  const ratio = record.metric(
    "resync",
    "resync / baseline, objects",
    "x",
    pairwiseRatios(objects, naiveObjects),
  );
  record.metric(
    "resync",
    "resync, items",
    "items/s",
    samples.map((s) => s.resyncItems),
  );
  record.metric(
    "resync",
    "naive baseline, items",
    "items/s",
    samples.map((s) => s.naiveItems),
  );
  record.target(
    atLeast(
      `Resync throughput, ${formatNumber(count)} 1 KB objects into ${RESYNC_TARGET_COUNT} targets, vs naive baseline (emulators as they are)`,
      ratio,
      RESYNC_MIN_RATIO,
      "x",
    ),
  );
}

async function measureResyncLatency(
  { runs, record }: BenchContext,
  bench: ResyncBench,
  count: number,
): Promise<void> {
  log(
    `Resync with ${BENCH_LATENCY_MS} ms of network latency per S3 request, ${count} objects, ${runs} runs`,
  );
  await bench.seed("latency/", count, KB, 0);
  const proxy = await startLatencyProxy(
    Number(new URL(bench.emulators.s3.endpoint).port),
    BENCH_LATENCY_MS,
  );
  try {
    const samples = [];
    for (let run = 0; run < runs; run++) {
      samples.push(await resyncThroughputRun(bench, "latency/", count, 0, run, proxy.endpoint));
    }
    const part = `resync ${BENCH_LATENCY_MS} ms`;
    const objects = samples.map((s) => s.resyncObjects);
    const naiveObjects = samples.map((s) => s.naiveObjects);
    record.metric(part, "resync, objects", "objects/s", objects);
    record.metric(part, "naive baseline, objects", "objects/s", naiveObjects);
    const ratio = record.metric(
      part,
      "resync / baseline, objects",
      "x",
      pairwiseRatios(objects, naiveObjects),
    );
    record.target(
      atLeast(
        `Resync throughput, ${formatNumber(count)} 1 KB objects into ${RESYNC_TARGET_COUNT} targets, vs naive baseline, ${BENCH_LATENCY_MS} ms per S3 request`,
        ratio,
        RESYNC_MIN_RATIO,
        "x",
      ),
    );
  } finally {
    await proxy.close();
  }
}

async function measureResyncBytes(
  { runs, record }: BenchContext,
  bench: ResyncBench,
): Promise<void> {
  log(`Resync bytes through the process per object and target, ${runs} runs per size`);
  const perSize: number[] = [];
  for (const { label, size } of RESYNC_BYTE_SIZES) {
    await bench.seed(`bytes/${size}/`, RESYNC_BYTE_COUNT, size, 0);
    const samples = [];
    for (let run = 0; run < runs; run++) {
      samples.push(await resyncBytes(bench, `bytes/${size}/`, RESYNC_BYTE_COUNT, `${size}-${run}`));
    }
    const part = `resync bytes ${label}`;
    perSize.push(
      record.metric(
        part,
        "resync, per object and target",
        "bytes",
        samples.map((s) => s.resync),
      ),
    );
    record.metric(
      part,
      "naive baseline, per object and target",
      "bytes",
      samples.map((s) => s.naive),
    );
  }
  record.target(
    atMost(
      "Resync bytes through the process per object, 1 KB vs 1 MB objects (largest / smallest)",
      spread(perSize),
      MAX_RESYNC_BYTES_SPREAD,
      "x",
    ),
  );
}

async function measureResync(context: BenchContext, count: number): Promise<void> {
  if (count !== RESYNC_COUNT) {
    context.record.note(`resync measured with ${count} objects and items (BENCH_RESYNC_COUNT)`);
  }
  const bench = await startResyncBench();
  try {
    await measureResyncThroughput(context, bench, count);
    await measureResyncLatency(context, bench, Math.min(count, RESYNC_LATENCY_COUNT));
    await measureResyncBytes(context, bench);
  } finally {
    await bench.stop();
  }
}

async function measureMaskingItems({ runs, record }: BenchContext): Promise<void> {
  log(
    `Masking, items: ${MASKING_ITEM_COUNT} customer items into 2 targets, unmasked and masked, ` +
      `twice each per run (A B B A), ${runs} runs (+1 warm-up)`,
  );
  const bench = await startMaskingItemsBench(MASKING_ITEM_COUNT);
  try {
    const samples: ItemsRun[] = [];
    for (let run = 0; run < runs; run++) samples.push(await bench.run(run));
    const part = "masking items";
    const unmasked = samples.map((s) => s.unmasked.rate);
    const masked = samples.map((s) => s.masked.rate);
    record.metric(part, "unmasked", "items/s", unmasked);
    record.metric(part, "masked", "items/s", masked);
    const ratio = record.metric(part, "masked / unmasked", "x", pairwiseRatios(masked, unmasked));
    const cpuUnmasked = samples.map((s) => s.unmasked.cpuMicrosPerItem);
    const cpuMasked = samples.map((s) => s.masked.cpuMicrosPerItem);
    record.metric(part, "function's process CPU per item, unmasked", "µs", cpuUnmasked);
    record.metric(part, "function's process CPU per item, masked", "µs", cpuMasked);
    record.metric(
      part,
      "function's process CPU per item, masked / unmasked",
      "x",
      pairwiseRatios(cpuMasked, cpuUnmasked),
    );
    record.target(
      atLeast(
        `Masking, ${MASKING_ITEM_COUNT} customer items into 2 targets through the built handler (stream batches of 10), items/s masked vs unmasked`,
        ratio,
        MASKING_MIN_RATIO,
        "x",
      ),
    );
  } finally {
    await bench.stop();
  }
}

const sizeLabel = (mb: number): string => (mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`);

async function measureMaskingObjects({ runs, record }: BenchContext, mb: number): Promise<void> {
  const mbPerSecond = (sample: TransformSample): number => sample.inputBytes / MB / sample.seconds;
  const peak = (sample: TransformSample): number => sample.peakRssBytes / MB;
  const large: TransformSample[] = [];
  const largeRuns = Math.min(runs, MASKING_OBJECT_RUNS);
  const label = sizeLabel(mb);
  log(
    `Masking, objects: a ${label} JSON Lines object through the object transform, ${largeRuns} runs`,
  );
  // The first line's address, as the source holds it: a replica that shows it was not masked.
  const raw = (JSON.parse(benchLine(0)) as { email: string }).email;
  const masked = async (bytes: number): Promise<TransformSample> => {
    const sample = await transformInChild(bytes, BENCH_MASKING_KEY);
    if (sample.firstLine.includes(raw)) {
      throw new Error(`the transform did not mask the first line: ${sample.firstLine}`);
    }
    return sample;
  };
  for (let run = 0; run < largeRuns; run++) large.push(await masked(mb * MB));
  log(
    `Masking, objects: a ${MASKING_SMALL_OBJECT_MB} MB one, masked and with no field masked, ${runs} runs`,
  );
  const small: TransformSample[] = [];
  const unmasked: TransformSample[] = [];
  for (let run = 0; run < runs; run++) {
    small.push(await masked(MASKING_SMALL_OBJECT_MB * MB));
    unmasked.push(await transformInChild(MASKING_SMALL_OBJECT_MB * MB, BENCH_MASKING_KEY, {}));
  }
  const part = "masking objects";
  const rate = record.metric(part, `${label} object, masked`, "MB/s", large.map(mbPerSecond));
  const largePeak = record.metric(part, `${label} object, peak RSS`, "MB", large.map(peak));
  record.metric(
    part,
    `${label} object, RSS before the transform`,
    "MB",
    large.map((sample) => sample.startRssBytes / MB),
  );
  record.metric(
    part,
    `${label} object, masked size / source size`,
    "x",
    large.map((sample) => sample.outputBytes / sample.inputBytes),
  );
  record.metric(
    part,
    `${MASKING_SMALL_OBJECT_MB} MB object, masked`,
    "MB/s",
    small.map(mbPerSecond),
  );
  const smallPeak = record.metric(
    part,
    `${MASKING_SMALL_OBJECT_MB} MB object, peak RSS`,
    "MB",
    small.map(peak),
  );
  record.metric(
    part,
    `${MASKING_SMALL_OBJECT_MB} MB object, no field masked (JSON Lines parsed and written only)`,
    "MB/s",
    unmasked.map(mbPerSecond),
  );
  const planned = (TRANSFORM_BYTES_PER_MS * 1000) / MB;
  record.target(
    atLeast(
      `Masked JSON Lines through the object transform, ${label} object (median of ${largeRuns}), vs the ${formatNumber(planned)} MB/s the function plans for (TRANSFORM_BYTES_PER_MS)`,
      rate,
      planned,
      "MB/s",
    ),
  );
  record.target(
    atMost(
      `Peak RSS masking a ${label} JSON Lines object vs a ${MASKING_SMALL_OBJECT_MB} MB one (streamed: flat)`,
      largePeak / smallPeak,
      MAX_MASKING_RSS_SPREAD,
      "x",
    ),
  );
}

async function measureMasking(context: BenchContext, mb: number): Promise<void> {
  if (mb !== MASKING_OBJECT_MB) {
    context.record.note(`masking measured with a ${mb} MB object (BENCH_MASKING_MB)`);
  }
  const bundle = ensureBundle();
  log(`Bundle ${path.relative(root, bundle.file)}: ${bundle.status}`);
  await measureMaskingItems(context);
  await measureMaskingObjects(context, mb);
}

/**
 * Sizes of the bundles, and what the deployed one carries beyond the anchor (by package, from
 * esbuild's metafile). Throws if the anchor's clients are not the function's.
 */
function compareBundles(
  { record }: BenchContext,
  deployed: string,
  bundles: ReturnType<typeof buildColdStartBundles>,
): void {
  const functionInputs = bundleInputs(replicationEntry);
  const clients = sdkClientPackages(Object.keys(functionInputs));
  const anchorClients = ANCHOR_CLIENTS.map((client) => client.module).sort();
  if (clients.join() !== anchorClients.join()) {
    throw new Error(
      `the anchor's clients (${anchorClients.join(", ")}) are not the function's (${clients.join(", ")}): update ANCHOR_CLIENTS in tools/bench/cold-start.ts`,
    );
  }
  const size = (file: string): number => statSync(file).size;
  const withMap = size(deployed);
  const withoutMap = size(bundles.bundleWithoutMap);
  record.metric("bundle", "deployed bundle size (with its inline source map)", "bytes", [withMap]);
  record.metric("bundle", "its inline source map (lib/replication only)", "bytes", [
    withMap - withoutMap,
  ]);
  record.metric("bundle", "anchor size (with its inline source map)", "bytes", [
    size(bundles.anchor),
  ]);
  record.metric("bundle", "experiment: bundle with every dependency's map inline, size", "bytes", [
    size(bundles.bundleWithWholeMap),
  ]);
  const beyond = bytesBeyond(
    bytesByPackage(functionInputs),
    bytesByPackage(bundleInputs(bundles.anchorEntry)),
  );
  for (const { name, bytes } of beyond.slice(0, BEYOND_ANCHOR_LISTED)) {
    record.metric("bundle beyond the anchor", name, "bytes", [bytes]);
  }
  const rest = beyond.slice(BEYOND_ANCHOR_LISTED);
  record.metric("bundle beyond the anchor", `${rest.length} other packages`, "bytes", [
    rest.reduce((sum, entry) => sum + entry.bytes, 0),
  ]);
}

/** Cold loads, alternating: the deployed bundle against the anchor, and the source map's cost. */
function timeColdLoads(
  { runs, record }: BenchContext,
  deployed: string,
  bundles: ReturnType<typeof buildColdStartBundles>,
): void {
  const rounds = runs * COLD_ROUNDS_PER_RUN;
  const flags = `NODE_OPTIONS=${deployedNodeOptions ?? ""}`;
  const cases: ColdLoadCase[] = [
    {
      name: `anchor, as deployed (${flags})`,
      file: bundles.anchor,
      nodeOptions: deployedNodeOptions,
    },
    { name: `bundle, as deployed (${flags})`, file: deployed, nodeOptions: deployedNodeOptions },
    { name: "anchor without source map or flags", file: bundles.anchorWithoutMap },
    { name: "bundle without source map or flags", file: bundles.bundleWithoutMap },
    {
      name: `experiment: bundle with every dependency's map (${flags})`,
      file: bundles.bundleWithWholeMap,
      nodeOptions: deployedNodeOptions,
    },
  ];
  const node = lambdaNode();
  log(
    `Cold load (fresh process of the function runtime's Node ${node.version}, import() of the .mjs), ${rounds} alternating rounds`,
  );
  const samples = alternateColdLoads(cases, rounds);
  const of = (index: number, pick: (load: ColdLoad) => number): number[] =>
    (samples.get(cases[index]?.name ?? "") ?? []).map(pick);
  const wall = (index: number) => of(index, (load) => load.wallMs);
  const cpu = (index: number) => of(index, (load) => load.cpuMs);
  cases.forEach((entry, index) => {
    record.metric("cold load", `${entry.name}, wall`, "ms", wall(index));
    record.metric("cold load", `${entry.name}, CPU`, "ms", cpu(index));
  });
  const ratio = record.metric(
    "cold load",
    "bundle / anchor, as deployed, wall",
    "x",
    pairwiseRatios(wall(1), wall(0)),
  );
  record.metric(
    "cold load",
    "bundle / anchor, as deployed, CPU",
    "x",
    pairwiseRatios(cpu(1), cpu(0)),
  );
  record.metric(
    "cold load",
    "bundle / anchor, both without source map or flags, wall",
    "x",
    pairwiseRatios(wall(3), wall(2)),
  );
  record.metric(
    "cold load",
    "bundle as deployed / anchor without source map or flags, wall",
    "x",
    pairwiseRatios(wall(1), wall(2)),
  );
  record.metric(
    "cold load",
    "source map cost: bundle as deployed - bundle without source map or flags, wall",
    "ms",
    pairwiseDifferences(wall(1), wall(3)),
  );
  record.metric(
    "cold load",
    "experiment: every dependency's map - bundle without source map or flags, wall",
    "ms",
    pairwiseDifferences(wall(4), wall(3)),
  );
  record.target(
    atMost(
      `Cold load of the deployed bundle vs the SDK-only anchor (${ANCHOR_CLIENTS.map((c) => c.className).join(", ")}; same esbuild options and ${flags}), wall`,
      ratio,
      MAX_COLD_LOAD_RATIO,
      "x",
    ),
  );
}

function measureColdStart(context: BenchContext): void {
  const deployed = ensureBundle();
  log(`Bundle ${path.relative(root, deployed.file)}: ${deployed.status}; building the anchor`);
  const bundles = buildColdStartBundles();
  compareBundles(context, deployed.file, bundles);
  timeColdLoads(context, deployed.file, bundles);
}

function measurePlans({ runs, record }: BenchContext): void {
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
        record.note(
          `plan ${stack} run ${run + 1} exited ${String(timed.status)}: ${timed.failure ?? ""}`,
        );
      }
      times.push(timed.ms);
    }
    record.metric("plan", `offline plan ${stack}`, "ms", times);
  }
}

function measureGate({ record }: BenchContext): void {
  log(`npm test wall time from a fresh clone after npm ci, ${GATE_RUNS} runs`);
  const gate = timeGateFromFreshClone(GATE_RUNS, log);
  const name = `npm test wall time from a fresh clone after npm ci (median of ${GATE_RUNS})`;
  if (gate.uncommittedChanges) {
    record.note(
      `the gate was timed at HEAD ${gate.commit.slice(0, 12)}, without uncommitted changes`,
    );
  }
  record.metric("test", "npm ci in the fresh clone", "s", [gate.npmCi.ms / 1000]);
  if (gate.npmCi.status !== 0) {
    record.note(`npm ci exited ${String(gate.npmCi.status)}: ${gate.npmCi.failure ?? ""}`);
    record.target(unmeasured(name, `<= ${MAX_GATE_SECONDS} s`, "npm ci failed"));
    return;
  }
  const seconds = record.metric(
    "test",
    "npm test wall time",
    "s",
    gate.tests.map((timed) => timed.ms / 1000),
  );
  const failed = gate.tests.filter((timed) => timed.status !== 0);
  for (const timed of failed) {
    record.note(`npm test exited ${String(timed.status)}: ${(timed.failure ?? "").slice(-600)}`);
  }
  record.target(
    failed.length > 0
      ? unmeasured(name, `<= ${MAX_GATE_SECONDS} s`, `npm test failed in ${failed.length} run(s)`)
      : atMost(name, seconds, MAX_GATE_SECONDS, "s"),
  );
}

/** The version of the function runtime's Node.js, or "none" (the bundle part then failed, saying why). */
function lambdaNodeVersion(): string {
  try {
    return lambdaNode().version;
  } catch {
    return "none";
  }
}

function describeMachine(): BenchResults["machine"] {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    lambdaNode: lambdaNodeVersion(),
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Prints the results; writes them to tools/bench when the run was complete. */
function publish(results: BenchResults, complete: boolean): void {
  const markdown = renderMarkdown(results);
  process.stdout.write(markdown);
  if (!complete) {
    log(
      `Not writing tools/bench/results.*: only a full run with --runs >= ${MIN_RUNS} is recorded`,
    );
    return;
  }
  writeFileSync(
    path.join(root, "tools", "bench", "results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  writeFileSync(path.join(root, "tools", "bench", "results.md"), markdown);
  log("Wrote tools/bench/results.json and tools/bench/results.md");
}

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
  const context: BenchContext = { runs, record: new BenchRecorder(log) };
  const loadAtStart = os.loadavg()[0] ?? 0;
  const resyncCount = Number(process.env.BENCH_RESYNC_COUNT ?? RESYNC_COUNT);
  const maskingMb = Number(process.env.BENCH_MASKING_MB ?? MASKING_OBJECT_MB);
  if (!Number.isSafeInteger(maskingMb) || maskingMb < 1) {
    console.error(
      `BENCH_MASKING_MB must be a positive integer (megabytes): "${process.env.BENCH_MASKING_MB ?? ""}"`,
    );
    return 2;
  }

  const { record } = context;
  if (parts.includes("throughput") || parts.includes("bytes")) {
    await record.part("throughput and bytes", () => measureReplication(context, parts));
  }
  if (parts.includes("resync")) {
    await record.part("resync", () => measureResync(context, resyncCount));
  }
  if (parts.includes("masking")) {
    await record.part("masking", () => measureMasking(context, maskingMb));
  }
  if (parts.includes("bundle")) {
    await record.part("bundle", () => {
      measureColdStart(context);
    });
  }
  if (parts.includes("plan")) {
    await record.part("plan", () => {
      measurePlans(context);
    });
  }
  if (parts.includes("test")) {
    await record.part("test", () => {
      measureGate(context);
    });
  }

  const { metrics, targets, notes } = record;
  publish(
    {
      date: new Date().toISOString(),
      machine: describeMachine(),
      runs,
      conditions:
        `1-minute load average ${loadAtStart.toFixed(2)} at start, ${(os.loadavg()[0] ?? 0).toFixed(2)} at end; ` +
        "emulators in-process on loopback (s3rver on disk in the temp dir, dynalite in memory); " +
        "one invocation at a time for throughput." +
        (process.env.BENCH_CONDITIONS ? ` ${process.env.BENCH_CONDITIONS}` : ""),
      notes,
      metrics,
      targets,
    },
    BENCH_PARTS.every((part) => parts.includes(part)) &&
      runs >= MIN_RUNS &&
      resyncCount === RESYNC_COUNT &&
      maskingMb === MASKING_OBJECT_MB,
  );
  return 0;
}

void runMain(main, BENCH_USAGE);
