/**
 * A target in another region, served by a second set of emulators standing for that region (the
 * function keeps one client per region and writes each target in its own), and the function's
 * metrics as CloudWatch would receive them: EMF lines on its stdout, read from the Lambda host.
 * And its stderr, which stays empty on its runtime's Node.js: a deprecated API it used would show
 * there as Node.js's DeprecationWarning.
 */
import { replicationMetricsNamespace } from "../../lib/replication/metric-names";
import { itemKeys } from "../../tools/emulators/events";
import {
  SOURCE,
  TARGETS,
  bucketContents,
  putSourceItem,
  putSourceObject,
  readObject,
  startHarness,
  tableContents,
  type Harness,
} from "../support/replication-harness";

const AWAY = "us-west-2";
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    targets: [{ ...TARGETS[0], region: AWAY }, TARGETS[1]],
  });
});
afterAll(async () => {
  await harness.stop();
});

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/** Every EMF line the function wrote. */
function emfLines(): EmfLine[] {
  const { async, stream } = { async: harness.rule.report(), stream: harness.mapping.report() };
  return [...async.invocations, ...stream.invocations]
    .flatMap((invocation) => invocation.logs.stdout)
    .flatMap((line): EmfLine[] => {
      try {
        const parsed: unknown = JSON.parse(line);
        return typeof parsed === "object" && parsed !== null && "_aws" in parsed
          ? [parsed as EmfLine]
          : [];
      } catch {
        return [];
      }
    });
}

it("replicates into a target in another region, through that region's endpoints", async () => {
  await putSourceObject(harness, "far/away.txt", "over the sea");
  await putSourceItem(harness, { ...itemKeys("far#1", "s"), n: { N: "1" } });

  await harness.settle();

  const away = harness.clientsOf("dev");
  expect(harness.pipeline.clients[AWAY]).toBe(away);
  expect(await readObject(away.s3, "dev-bucket", "far/away.txt")).toMatchObject({
    body: "over the sea",
  });
  expect([...(await tableContents(harness, "dev", "dev-table")).keys()]).toEqual(["far#1|s"]);
  // dev's bucket answers only through its own region's endpoint, as S3 does.
  await expect(bucketContents(harness.source.s3, "dev-bucket")).rejects.toMatchObject({
    name: "PermanentRedirect",
  });
  expect((await bucketContents(harness.source.s3, SOURCE.bucket)).size).toBe(1);
});

it("counts each change per target and kind in EMF, with the latency of what it wrote", () => {
  const lines = emfLines();
  const replicated = lines.filter((line) => "ChangesReplicated" in line);

  expect(replicated.map((line) => [line.TargetEnvironment, line.Kind]).sort()).toEqual([
    ["dev", "item"],
    ["dev", "object"],
    ["staging", "item"],
    ["staging", "object"],
  ]);
  for (const line of replicated) {
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(replicationMetricsNamespace);
    expect(directive?.Dimensions).toEqual([["service", "TargetEnvironment", "Kind"]]);
    expect(line.service).toBe("replication");
    expect(directive?.Metrics).toEqual([{ Name: "ChangesReplicated", Unit: "Count" }]);
  }
  const latencies = lines.filter((line) => "ReplicationLatency" in line);
  expect(latencies.map((line) => [line.TargetEnvironment, line.Kind]).sort()).toEqual(
    replicated.map((line) => [line.TargetEnvironment, line.Kind]).sort(),
  );
  for (const line of latencies) {
    expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ["service", "TargetEnvironment", "Kind"],
    ]);
    expect(line._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: "ReplicationLatency", Unit: "Milliseconds" },
    ]);
    // From the change's time at the source (S3 gives it to the second) to the write.
    expect(line.ReplicationLatency).toEqual(expect.any(Number));
    expect(line.ReplicationLatency as number).toBeGreaterThanOrEqual(0);
    expect(line.ReplicationLatency as number).toBeLessThan(60_000);
  }
  // No data point without the target and kind: an alarm would never see it.
  expect(lines.every((line) => "TargetEnvironment" in line && "Kind" in line)).toBe(true);
});

it("writes nothing to stderr on its runtime's Node.js: no deprecation or other warning", () => {
  const invocations = [
    ...harness.rule.report().invocations,
    ...harness.mapping.report().invocations,
  ];

  expect(invocations.length).toBeGreaterThanOrEqual(2);
  expect(invocations.flatMap((invocation) => invocation.logs.stderr)).toEqual([]);
});
