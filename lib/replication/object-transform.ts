/**
 * Masks the contents of an object under a masked format, as a stream: JSON Lines line by line
 * (node:readline), CSV row by row (csv-parse, csv-stringify: the header row names the columns),
 * so that memory stays bounded whatever the object's size. A single JSON document is parsed
 * whole (JSON has no record boundary to stream by), up to `MAX_JSON_DOCUMENT_BYTES`. Content that
 * does not parse fails with `UnparseableObjectError`, whose message names where (a line or a
 * row), never what.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { CsvError, parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";
import { UnparseableObjectError } from "./errors";
import { maskJson, type Masker, type MaskingStrategy, type ObjectFormat } from "./masking";

/** The largest single JSON document masked (it is held in memory): larger ones fail, named. */
export const MAX_JSON_DOCUMENT_BYTES = 64 * 1024 * 1024;

/** What the reason of a parse failure says: its position and the parser's kind of error. */
const describe = (where: string, error: unknown): string =>
  `${where}: ${error instanceof SyntaxError ? "not valid JSON" : error instanceof Error ? error.name : "unreadable"}`;

async function* maskJsonLines(
  body: Readable,
  masker: Masker,
  fields: Readonly<Record<string, MaskingStrategy>>,
): AsyncGenerator<string> {
  const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === "") {
      yield "\n";
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error: unknown) {
      throw new UnparseableObjectError(describe(`line ${String(number)}`, error));
    }
    yield `${JSON.stringify(maskJson(masker, record, fields))}\n`;
  }
}

async function* maskJsonDocument(
  body: Readable,
  masker: Masker,
  fields: Readonly<Record<string, MaskingStrategy>>,
): AsyncGenerator<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    bytes += buffer.length;
    if (bytes > MAX_JSON_DOCUMENT_BYTES) {
      throw new UnparseableObjectError(
        `a JSON document larger than ${String(MAX_JSON_DOCUMENT_BYTES)} bytes is not masked (use jsonl for large data)`,
      );
    }
    chunks.push(buffer);
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error: unknown) {
    throw new UnparseableObjectError(describe("the document", error));
  }
  yield JSON.stringify(maskJson(masker, document, fields));
}

async function* maskCsv(
  body: Readable,
  masker: Masker,
  fields: Readonly<Record<string, MaskingStrategy>>,
): AsyncGenerator<string> {
  const parser = parse({ bom: true });
  // `pipe` passes no read error of the object on: unhandled, it would end the process, and the
  // rows would wait for more forever. It ends the rows instead, and goes on as it is (a read
  // error is no parse error).
  body.once("error", (error: Error) => parser.destroy(error));
  const rows = body.pipe(parser);
  let header: readonly string[] | undefined;
  try {
    for await (const row of rows as AsyncIterable<string[]>) {
      if (header === undefined) {
        header = row;
        yield stringifyRow(row.filter((name) => fields[name] !== "drop"));
        continue;
      }
      const columns = header;
      yield stringifyRow(
        row.flatMap((value, index) => {
          const strategy = fields[columns[index] ?? ""];
          if (strategy === "drop") return [];
          return [strategy === undefined ? value : masker.text(value, strategy)];
        }),
      );
    }
  } catch (error: unknown) {
    if (!(error instanceof CsvError)) throw error;
    // The row by the parser's count of records before it: the rows it had parsed but not yet
    // passed on when it failed are never read, so a count of the rows read here falls short.
    throw new UnparseableObjectError(`row ${String(Number(error.records) + 1)}: ${error.code}`);
  }
}

/** One CSV row, quoted where it needs to be (csv-stringify). */
const stringifyRow = (row: readonly string[]): string => stringify([[...row]]);

/** The masked contents of `body` in `format`, as a stream. */
export function maskedContents(
  body: Readable,
  format: ObjectFormat,
  masker: Masker,
  fields: Readonly<Record<string, MaskingStrategy>>,
): Readable {
  const generator =
    format === "jsonl"
      ? maskJsonLines(body, masker, fields)
      : format === "csv"
        ? maskCsv(body, masker, fields)
        : maskJsonDocument(body, masker, fields);
  return Readable.from(generator, { objectMode: false });
}
