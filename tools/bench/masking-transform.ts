/**
 * The masking benchmark's object part: a JSON Lines object of a given size, generated as a
 * stream (never held whole), masked by the function's object transform
 * (lib/replication/object-transform.ts `maskedContents`, as objects.ts streams a GetObject body
 * into the upload) and counted as it comes out, with the megabytes per second and the process's
 * peak resident set size. Each measurement runs in a child process of its own (this file is its
 * entry), so that the peak is the transform's and not what the benchmark did before.
 */
import { fork } from "node:child_process";
import { Readable } from "node:stream";
import {
  createMasker,
  type MaskingRules,
  type MaskingStrategy,
} from "../../lib/replication/masking";
import { maskedContents } from "../../lib/replication/object-transform";

/** The fields masked in each line, as an `exports/` rule of the README's example masks them. */
export const TRANSFORM_FIELDS: Readonly<Record<string, MaskingStrategy>> = {
  email: "email",
  "user.name": "hash",
  "user.phone": "drop",
  card: "redact",
};

/** Distinct lines the object repeats (a block of them, over and over). */
export const POOL_LINES = 1024;

/** Line `index` of the pool: an order export with a customer's personal data, about 330 bytes. */
export function benchLine(index: number): string {
  const n = String(index).padStart(4, "0");
  return `${JSON.stringify({
    id: 100_000 + index,
    email: `customer.${n}@example.com`,
    user: { name: `Customer ${n}`, phone: `+1 555 01${n}`, city: "London" },
    card: `4111 1111 1111 ${n}`,
    plan: index % 3 === 0 ? "pro" : "basic",
    amount: 12.5 + index,
    currency: "EUR",
    createdAt: "2026-11-28T12:00:00.000Z",
    lines: [
      { sku: `A-${n}`, quantity: 2, price: 4.25 },
      { sku: "B-7", quantity: 1, price: 4 },
    ],
    status: "shipped",
  })}\n`;
}

/**
 * A JSON Lines body of whole lines, as close to `bytes` as they come without going over
 * (`bytes` of at least one line), generated block by block.
 */
export function jsonLinesBody(bytes: number): {
  readonly stream: Readable;
  readonly bytes: number;
} {
  const lines = Array.from({ length: POOL_LINES }, (_unused, index) => benchLine(index));
  const block = Buffer.from(lines.join(""));
  const blocks = Math.floor(bytes / block.length);
  let rest = bytes - blocks * block.length;
  const tail: string[] = [];
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (size > rest) break;
    tail.push(line);
    rest -= size;
  }
  const total = bytes - rest;
  if (total === 0) throw new Error(`a JSON Lines body of ${bytes} bytes holds no line`);
  function* chunks(): Generator<Buffer> {
    for (let index = 0; index < blocks; index++) yield block;
    if (tail.length > 0) yield Buffer.from(tail.join(""));
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), bytes: total };
}

/** One measurement. */
export interface TransformSample {
  /** Bytes of the source object, and of its masked replica. */
  readonly inputBytes: number;
  readonly outputBytes: number;
  readonly seconds: number;
  /** Peak resident set size of the process over its life (`process.resourceUsage().maxRSS`). */
  readonly peakRssBytes: number;
  /** Resident set size before the transform started. */
  readonly startRssBytes: number;
  /** The replica's first line (without its line end): what the masking made of the source's. */
  readonly firstLine: string;
}

/** The transform of a `bytes` object, in this process, with `rules` masking `fields`. */
export async function transformRun(
  bytes: number,
  key: string,
  fields: Readonly<Record<string, MaskingStrategy>> = TRANSFORM_FIELDS,
): Promise<TransformSample> {
  const rules: MaskingRules = {
    items: {},
    objects: [{ prefix: "", format: "jsonl", fields }],
    unmaskedTargets: [],
  };
  const masker = createMasker(rules, Buffer.from(key, "utf8"));
  const body = jsonLinesBody(bytes);
  const startRssBytes = process.memoryUsage.rss();
  const started = process.hrtime.bigint();
  let outputBytes = 0;
  let head = "";
  for await (const chunk of maskedContents(body.stream, "jsonl", masker, fields)) {
    const piece = chunk as Buffer | string;
    outputBytes += Buffer.byteLength(piece);
    if (!head.includes("\n")) head += piece.toString();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    inputBytes: body.bytes,
    outputBytes,
    seconds,
    // Kilobytes on Linux and macOS ("maxRSS <integer> Maximum resident set size used in kilobytes").
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    startRssBytes,
    firstLine: head.slice(0, head.indexOf("\n")),
  };
}

const isSample = (message: unknown): message is TransformSample =>
  typeof message === "object" && message !== null && "peakRssBytes" in message;

/** `transformRun` in a fresh child process, so that its peak RSS is the transform's alone. */
export function transformInChild(
  bytes: number,
  key: string,
  fields: Readonly<Record<string, MaskingStrategy>> = TRANSFORM_FIELDS,
): Promise<TransformSample> {
  const child = fork(__filename, [String(bytes), key, JSON.stringify(fields)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    let sample: TransformSample | undefined;
    child.once("message", (message) => {
      if (isSample(message)) sample = message;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (sample !== undefined && code === 0) resolve(sample);
      else
        reject(new Error(`the transform's child exited with ${String(code)} before it reported`));
    });
  });
}

if (require.main === module) {
  const [bytes = "0", key = "", fields = "{}"] = process.argv.slice(2);
  void transformRun(
    Number(bytes),
    key,
    JSON.parse(fields) as Readonly<Record<string, MaskingStrategy>>,
  ).then(
    (sample) => {
      process.send?.(sample, () => process.exit(0));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
