/**
 * Masked contents of S3 objects, in-process (lib/replication/object-transform.ts): JSON, JSON
 * Lines and CSV, streamed in chunks that split lines, records and UTF-8 characters, and every
 * parse failure. Expected pseudonyms are computed here from the documented algorithm (HMAC-SHA-256
 * under the key of the typed input, lower-case RFC 4648 base32), not by the module.
 */
import { Readable } from "node:stream";
import { UnparseableObjectError } from "../../lib/replication/errors";
import { NO_MASKING, REDACTED, createMasker } from "../../lib/replication/masking";
import { MAX_JSON_DOCUMENT_BYTES, maskedContents } from "../../lib/replication/object-transform";

import { maskingOracle } from "../support/masking-oracle";
const key = Buffer.from("object-transform test key, 32 bytes");
const masker = createMasker(NO_MASKING, key);

const { hashed, emailed, hashedNumber } = maskingOracle(key);

/** `text` as UTF-8 bytes in chunks of `size` bytes (splitting multi-byte characters). */
const chunked = (text: string | Buffer, size: number): Readable => {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8");
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
};

const contents = async (stream: Readable): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), "utf8"));
  }
  return Buffer.concat(chunks).toString("utf8");
};

/** The failure of masking `body`, which must be an `UnparseableObjectError`. */
const failure = async (stream: Readable): Promise<UnparseableObjectError> => {
  try {
    await contents(stream);
  } catch (error: unknown) {
    if (error instanceof UnparseableObjectError) return error;
    throw error;
  }
  throw new Error("masked without a failure");
};

/** A body that yields `first` and then fails to read, as a reset connection does. */
const failingBody = (first: string, error: Error): Readable => {
  let sent = false;
  return new Readable({
    read() {
      if (sent) {
        this.destroy(error);
        return;
      }
      sent = true;
      this.push(Buffer.from(first, "utf8"));
    },
  });
};

describe("JSON Lines", () => {
  const fields = {
    email: "email",
    "user.name": "hash",
    ssn: "drop",
    "cards[*]": "redact",
  } as const;

  it("masks each line by the field paths, keeping other fields and their order", async () => {
    const input =
      '{"id":1,"email":"Ada@Example.com","user":{"name":"Ada","role":"admin"},"ssn":"123"}\n' +
      '{"id":2,"cards":["4111","5500"],"note":"kept"}\n';
    expect(await contents(maskedContents(chunked(input, 1024), "jsonl", masker, fields))).toBe(
      `{"id":1,"email":"${emailed("ada@example.com")}","user":{"name":"${hashed("Ada")}","role":"admin"}}\n` +
        `{"id":2,"cards":["${REDACTED}","${REDACTED}"],"note":"kept"}\n`,
    );
  });

  it("ends the last line with a newline whether or not the input did", async () => {
    const expected = `{"email":"${emailed("a@b.c")}"}\n{"email":"${emailed("d@e.f")}"}\n`;
    for (const input of [
      '{"email":"a@b.c"}\n{"email":"d@e.f"}',
      '{"email":"a@b.c"}\n{"email":"d@e.f"}\n',
    ]) {
      expect(await contents(maskedContents(chunked(input, 64), "jsonl", masker, fields))).toBe(
        expected,
      );
    }
  });

  it("keeps blank and whitespace-only lines as empty lines; CRLF ends a line as LF does", async () => {
    const input = '{"email":"a@b.c"}\r\n\r\n   \r\n{"id":3}\r\n';
    expect(await contents(maskedContents(chunked(input, 3), "jsonl", masker, fields))).toBe(
      `{"email":"${emailed("a@b.c")}"}\n\n\n{"id":3}\n`,
    );
  });

  it("masks nothing out of empty input", async () => {
    expect(await contents(maskedContents(chunked("", 1), "jsonl", masker, fields))).toBe("");
  });

  it("streams many lines in small chunks that split lines and UTF-8 characters", async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `Zoë 😀 Ünïcødé ${String(i)}`);
    const input = names
      .map((name, i) => JSON.stringify({ i, user: { name }, bio: name }))
      .join("\n");
    const expected = names
      .map((name, i) => `${JSON.stringify({ i, user: { name: hashed(name) }, bio: name })}\n`)
      .join("");
    // 7 bytes: most chunks end inside a line, many inside a 2- or 4-byte character.
    expect(await contents(maskedContents(chunked(input, 7), "jsonl", masker, fields))).toBe(
      expected,
    );
  });

  it("fails on a line that is not JSON, naming the line and not its content", async () => {
    const input = '{"email":"a@b.c"}\n\n{"email": "secret@example.com"\n{"id":4}\n';
    const error = await failure(maskedContents(chunked(input, 5), "jsonl", masker, fields));
    expect(error.message).toBe("line 3: not valid JSON");
    expect(error.reason).toBe("unparseable");
    expect(error.name).toBe("UnparseableObjectError");
  });

  it("names the parser's kind of error when it is not a syntax error, and an unreadable one", async () => {
    const parse = jest.spyOn(JSON, "parse");
    try {
      parse.mockImplementationOnce(() => {
        throw new RangeError("too deep: secret@example.com");
      });
      expect(
        (await failure(maskedContents(chunked('{"a":1}\n', 4), "jsonl", masker, fields))).message,
      ).toBe("line 1: RangeError");
      parse.mockImplementationOnce(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what is not an Error
        throw "secret@example.com";
      });
      expect(
        (await failure(maskedContents(chunked('{"a":1}', 4), "json", masker, fields))).message,
      ).toBe("the document: unreadable");
    } finally {
      parse.mockRestore();
    }
  });

  it("lets a read error of the object through as it is (no parse failure)", async () => {
    const reset = new Error("socket hang up");
    await expect(
      contents(maskedContents(failingBody('{"a":1}\n', reset), "jsonl", masker, fields)),
    ).rejects.toBe(reset);
  });
});

describe("a JSON document", () => {
  it("masks the document by the field paths, through arrays and nested objects", async () => {
    const document = {
      users: [
        { email: "Ada@Example.com", age: 36, tags: ["a", "b"] },
        { email: "grace@example.com", age: 85, tags: [] },
      ],
      owner: { name: "Zoë 😀", phone: "+44 20 7946 0000" },
      keep: true,
    };
    const fields = {
      "users[*].email": "email",
      "users[1].age": "hash",
      "users[*].tags": "drop",
      "owner.name": "hash",
      "owner.phone": "redact",
    } as const;
    const masked = await contents(
      maskedContents(chunked(JSON.stringify(document, null, 2), 3), "json", masker, fields),
    );
    expect(masked).toBe(
      JSON.stringify({
        users: [
          { email: emailed("ada@example.com"), age: 36 },
          { email: emailed("grace@example.com"), age: hashedNumber("85") },
        ],
        owner: { name: hashed("Zoë 😀"), phone: REDACTED },
        keep: true,
      }),
    );
  });

  it("reads chunks that are Uint8Arrays as well as Buffers", async () => {
    const bytes = new TextEncoder().encode('{"name":"Ada"}');
    const body = Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]);
    expect(await contents(maskedContents(body, "json", masker, { name: "hash" }))).toBe(
      `{"name":"${hashed("Ada")}"}`,
    );
  });

  it.each([
    ["empty input", ""],
    ["a truncated document", '{"email":"secret@example.com"'],
    ["two documents", '{"a":1}\n{"a":2}\n'],
    ["a byte-order mark", '\uFEFF{"a":1}'],
  ])("fails on %s, naming the document and not its content", async (_, input) => {
    const error = await failure(maskedContents(chunked(input, 4), "json", masker, {}));
    expect(error.message).toBe("the document: not valid JSON");
  });

  it(`masks a document of ${String(MAX_JSON_DOCUMENT_BYTES)} bytes and fails on one byte more`, async () => {
    const mebibyte = 1024 * 1024;
    expect(MAX_JSON_DOCUMENT_BYTES % mebibyte).toBe(0);
    const count = MAX_JSON_DOCUMENT_BYTES / mebibyte;
    const spaces = Buffer.alloc(mebibyte, " ");
    const first = Buffer.concat([Buffer.from("["), spaces.subarray(1)]);
    const last = Buffer.concat([spaces.subarray(1), Buffer.from("]")]);
    const document = (extra: Buffer[]): Readable =>
      Readable.from([first, ...Array.from({ length: count - 2 }, () => spaces), last, ...extra]);

    expect(await contents(maskedContents(document([]), "json", masker, {}))).toBe("[]");
    const error = await failure(maskedContents(document([Buffer.from(" ")]), "json", masker, {}));
    expect(error.message).toBe(
      `a JSON document larger than ${String(MAX_JSON_DOCUMENT_BYTES)} bytes is not masked (use jsonl for large data)`,
    );
  });

  it("lets a read error of the object through as it is", async () => {
    const reset = new Error("socket hang up");
    await expect(
      contents(maskedContents(failingBody('{"a":', reset), "json", masker, {})),
    ).rejects.toBe(reset);
  });
});

describe("CSV", () => {
  const fields = { email: "email", name: "hash", phone: "redact", ssn: "drop" } as const;

  it("masks the named columns, drops dropped ones from the header and every row, keeps the others", async () => {
    const input =
      "id,name,email,ssn,phone,city\n" +
      "1,Ada,Ada@Example.com,123-45-6789,+44 20 7946 0000,London\n" +
      "2,Grace,grace@example.com,987-65-4321,,New York\n";
    expect(await contents(maskedContents(chunked(input, 1024), "csv", masker, fields))).toBe(
      "id,name,email,phone,city\n" +
        `1,${hashed("Ada")},${emailed("ada@example.com")},${REDACTED},London\n` +
        `2,${hashed("Grace")},${emailed("grace@example.com")},${REDACTED},New York\n`,
    );
  });

  it("masks the value of a quoted field (commas, quotes, newlines) and quotes what needs it", async () => {
    const input =
      'name,note,ssn\n"Lovelace, Ada","she said ""hi""\nand left","1,2"\n"O\'Brien ""Pat""",plain,x\n';
    expect(await contents(maskedContents(chunked(input, 1024), "csv", masker, fields))).toBe(
      "name,note\n" +
        `${hashed("Lovelace, Ada")},"she said ""hi""\nand left"\n` +
        `${hashed('O\'Brien "Pat"')},plain\n`,
    );
  });

  it("reads CRLF, a byte-order mark and no trailing newline; writes LF", async () => {
    const input = '\uFEFFname,city\r\nAda,London\r\n"Zoë 😀","a\r\nb"';
    expect(await contents(maskedContents(chunked(input, 1024), "csv", masker, fields))).toBe(
      `name,city\n${hashed("Ada")},London\n${hashed("Zoë 😀")},"a\r\nb"\n`,
    );
  });

  it("streams many rows in small chunks that split rows, quoted fields, the BOM and UTF-8 characters", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [
      String(i),
      `Zoë 😀, "Ünïcødé"\n${String(i)}`,
      `user${String(i)}@example.com`,
    ]);
    const quote = (cell: string): string => `"${cell.replace(/"/g, '""')}"`;
    const input =
      "\uFEFFid,name,email\r\n" + rows.map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
    const expected =
      "id,name,email\n" +
      rows
        .map(([id = "", name = "", email = ""]) => `${id},${hashed(name)},${emailed(email)}\n`)
        .join("");
    expect(await contents(maskedContents(chunked(input, 5), "csv", masker, fields))).toBe(expected);
  });

  it("writes the header alone for a header alone, without its dropped columns", async () => {
    expect(await contents(maskedContents(chunked("ssn,name", 2), "csv", masker, fields))).toBe(
      "name\n",
    );
    expect(await contents(maskedContents(chunked("ssn\n", 2), "csv", masker, fields))).toBe("\n");
  });

  it("masks nothing out of empty input", async () => {
    expect(await contents(maskedContents(chunked("", 1), "csv", masker, fields))).toBe("");
  });

  it.each([
    [
      "a row longer than the header",
      "name,city\nAda,London\nGrace,New York,secret@example.com\nx,y\n",
      "row 3: CSV_RECORD_INCONSISTENT_FIELDS_LENGTH",
    ],
    [
      "a row shorter than the header",
      "name,city\nAda,London\nsecret@example.com\n",
      "row 3: CSV_RECORD_INCONSISTENT_FIELDS_LENGTH",
    ],
    [
      "a quote never closed",
      'name,city\nAda,London\n"secret@example.com,x\n',
      "row 3: CSV_QUOTE_NOT_CLOSED",
    ],
    [
      "text after a closing quote, after a row spanning lines",
      'name,city\n"Ada\nL",London\n"secret"@example.com,x\n',
      "row 3: CSV_INVALID_CLOSING_QUOTE",
    ],
  ])("fails on %s, naming the row and not its content", async (_, input, message) => {
    // In one chunk (the parser reads every row of it before the failure) and in small ones.
    for (const size of [input.length, 3]) {
      const error = await failure(maskedContents(chunked(input, size), "csv", masker, fields));
      expect(error.message).toBe(message);
    }
  });

  it("lets a read error of the object through as it is, at once", async () => {
    const reset = new Error("socket hang up");
    const masked = contents(
      maskedContents(failingBody("name\nAda\n", reset), "csv", masker, fields),
    );
    const late = new Promise<string>((resolve) => {
      setTimeout(() => {
        resolve("still waiting");
      }, 1000).unref();
    });
    await expect(Promise.race([masked, late])).rejects.toBe(reset);
  });
});
