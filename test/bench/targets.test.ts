/** The benchmark's targets (tools/bench/targets.ts) and how a run records them (recorder.ts). */
import { BenchRecorder } from "../../tools/bench/recorder";
import {
  atLeast,
  atMost,
  exactly,
  formatMeasured,
  spread,
  unmeasured,
} from "../../tools/bench/targets";

describe("targets", () => {
  it("atMost passes at and below the limit, and shows both with their unit", () => {
    expect(atMost("Cold load", 1.2, 1.25, "x")).toEqual({
      name: "Cold load",
      target: "<= 1.25x",
      measured: "1.2x",
      pass: true,
    });
    expect(atMost("Sockets", 4096, 4096, "bytes").pass).toBe(true);
    expect(atMost("Sockets", 4228, 4096, "bytes")).toEqual({
      name: "Sockets",
      target: "<= 4,096 bytes",
      measured: "4,228 bytes",
      pass: false,
    });
  });

  it("atLeast passes at and above the limit", () => {
    expect(atLeast("Throughput", 2, 2, "x").pass).toBe(true);
    expect(atLeast("Throughput", 1.99, 2, "x")).toMatchObject({ target: ">= 2x", pass: false });
  });

  it("exactly passes only on the value", () => {
    expect(exactly("Object bytes", 0, 0, "bytes")).toEqual({
      name: "Object bytes",
      target: "= 0 bytes",
      measured: "0 bytes",
      pass: true,
    });
    expect(exactly("Object bytes", 1, 0, "bytes").pass).toBe(false);
  });

  it("unmeasured fails and says why", () => {
    expect(unmeasured("Gate", "<= 90 s", "npm ci failed")).toEqual({
      name: "Gate",
      target: "<= 90 s",
      measured: "not measured: npm ci failed",
      pass: false,
    });
  });

  it("spread is largest over smallest", () => {
    expect(spread([4204, 4228, 4222])).toBeCloseTo(4228 / 4204, 10);
    expect(spread([7])).toBe(1);
    expect(() => spread([])).toThrow(/at least one value/);
  });

  it("formats ratios with x and other units after a space", () => {
    expect([formatMeasured(1.234, "x"), formatMeasured(84.61, "s")]).toEqual(["1.23x", "84.6 s"]);
  });
});

describe("BenchRecorder", () => {
  it("keeps metrics with their summary, targets and notes, and logs each", () => {
    const lines: string[] = [];
    const record = new BenchRecorder((line) => lines.push(line));

    expect(record.metric("cold load", "bundle, wall", "ms", [60, 50, 70])).toBe(60);
    record.target(atMost("Cold load", 1.3, 1.25, "x"));
    record.note("machine busy");

    expect(record.metrics).toEqual([
      {
        part: "cold load",
        name: "bundle, wall",
        unit: "ms",
        summary: { median: 60, min: 50, max: 70, runs: 3, values: [60, 50, 70] },
      },
    ]);
    expect(record.targets.map((target) => target.pass)).toEqual([false]);
    expect(record.notes).toEqual(["machine busy"]);
    expect(lines).toEqual([
      "  bundle, wall: median 60 ms (min 50, max 70)",
      "  target MISSED: Cold load: 1.3x (wanted <= 1.25x)",
      "  note: machine busy",
    ]);
  });
});

describe("BenchRecorder.part", () => {
  it("runs a part; one that throws becomes a failed row and the run goes on", async () => {
    const lines: string[] = [];
    const record = new BenchRecorder((line) => lines.push(line));

    await expect(
      record.part("bundle", () => {
        record.metric("bundle", "size", "bytes", [10]);
      }),
    ).resolves.toBe(true);
    await expect(
      record.part("resync", async () => {
        await Promise.resolve();
        throw new Error("InternalError: We encountered an internal error");
      }),
    ).resolves.toBe(false);

    expect(record.metrics).toHaveLength(1);
    expect(record.targets).toEqual([
      {
        name: "The resync part ran to its end",
        target: "no error",
        measured: "not measured: InternalError: We encountered an internal error",
        pass: false,
      },
    ]);
    expect(lines.some((line) => line.startsWith("Error: InternalError"))).toBe(true);
  });
});
