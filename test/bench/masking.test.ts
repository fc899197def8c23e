/**
 * The masking benchmark's pieces that can be wrong without failing the measurement: the JSON
 * Lines object it masks (whole lines, the size it says, every line different within a block),
 * that the transform it times really masks, and how two passes of a side make one rate.
 */
import { combined } from "../../tools/bench/masking";
import {
  POOL_LINES,
  TRANSFORM_FIELDS,
  benchLine,
  jsonLinesBody,
  transformRun,
} from "../../tools/bench/masking-transform";
import { maskingOracle } from "../support/masking-oracle";

const KEY = "test-key-not-a-secret-0123456789";

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

describe("jsonLinesBody", () => {
  it("holds whole lines up to the size asked, and says how many bytes it holds", async () => {
    const size = (index: number): number => Buffer.byteLength(benchLine(index));
    const block = Array.from({ length: POOL_LINES }, (_unused, index) => size(index)).reduce(
      (sum, bytes) => sum + bytes,
    );
    // Three blocks, two lines and half of the third.
    const asked = 3 * block + size(0) + size(1) + Math.floor(size(2) / 2);

    const body = jsonLinesBody(asked);
    const content = await text(body.stream);

    expect(Buffer.byteLength(content)).toBe(body.bytes);
    expect(body.bytes).toBe(3 * block + size(0) + size(1));
    const lines = content.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(3 * POOL_LINES + 2);
    expect(new Set(lines.slice(0, POOL_LINES)).size).toBe(POOL_LINES);
    for (const line of lines.slice(-3)) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("refuses a size below one line", () => {
    expect(() => jsonLinesBody(10)).toThrow(/a JSON Lines body of 10 bytes holds no line/);
  });
});

describe("transformRun", () => {
  it("masks the lines as the rules say, and reports sizes, time and memory", async () => {
    const oracle = maskingOracle(Buffer.from(KEY, "utf8"));
    const bytes = 2 * Buffer.byteLength(benchLine(0)) + 5;

    const sample = await transformRun(bytes, KEY);

    expect(sample.inputBytes).toBe(Buffer.byteLength(benchLine(0) + benchLine(1)));
    expect(JSON.parse(sample.firstLine)).toEqual({
      id: 100_000,
      email: oracle.emailed("customer.0000@example.com"),
      user: { name: oracle.hashed("Customer 0000"), city: "London" },
      card: "[redacted]",
      plan: "pro",
      amount: 12.5,
      currency: "EUR",
      createdAt: "2026-11-28T12:00:00.000Z",
      lines: [
        { sku: "A-0000", quantity: 2, price: 4.25 },
        { sku: "B-7", quantity: 1, price: 4 },
      ],
      status: "shipped",
    });
    expect(Object.keys(TRANSFORM_FIELDS).sort()).toEqual([
      "card",
      "email",
      "user.name",
      "user.phone",
    ]);
    expect(sample.outputBytes).toBeGreaterThan(0);
    expect(sample.seconds).toBeGreaterThan(0);
    expect(sample.peakRssBytes).toBeGreaterThanOrEqual(sample.startRssBytes);
  });

  it("with no field to mask, writes each line as it was", async () => {
    const sample = await transformRun(Buffer.byteLength(benchLine(0)), KEY, {});

    expect(sample.firstLine).toBe(benchLine(0).trimEnd());
    expect(sample.outputBytes).toBe(sample.inputBytes);
  });
});

describe("combined", () => {
  it("takes the rate over both passes' time, and the mean CPU", () => {
    // 100 items at 100/s (1 s) and at 50/s (2 s): 200 items in 3 s.
    expect(
      combined([
        { rate: 100, cpuMicrosPerItem: 10 },
        { rate: 50, cpuMicrosPerItem: 30 },
      ]),
    ).toEqual({ rate: 200 / 3, cpuMicrosPerItem: 20 });
    expect(() => combined([])).toThrow(/at least one pass/);
  });
});
