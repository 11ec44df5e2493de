/**
 * Streaming line reader for JSONL preference files, plain or gzipped.
 *
 * - gzip is recognised by the path ending in `.gz` or by the gzip magic
 *   bytes (1f 8b) at the start of the data, so a gzipped stream without a
 *   name is read too.
 * - Lines end at "\n"; a "\r" before it (CRLF) is dropped, as is a UTF-8
 *   byte order mark at the very start. The last line needs no newline.
 * - Lines are split as bytes and decoded one at a time (a newline byte is
 *   never part of a multi-byte UTF-8 sequence), so a character split across
 *   chunks is decoded whole. Invalid UTF-8 becomes U+FFFD rather than
 *   stopping the import; the JSON parsers then see the replacement character.
 * - Blank (whitespace-only) lines are skipped but counted, so `line` is
 *   always the 1-based line number in the (decompressed) file.
 * - Memory is constant apart from the longest line: chunks are consumed as
 *   they arrive and only the unfinished line is kept.
 */
import { createReadStream } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";

export interface SourceLine {
  /** 1-based line number, blank lines included. */
  line: number;
  text: string;
}

const NEWLINE = 0x0a;

export async function* readLines(source: NodeJS.ReadableStream | string): AsyncIterable<SourceLine> {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  let pending: Buffer[] = [];
  let line = 0;
  const finish = (parts: Buffer[]): SourceLine | null => {
    line += 1;
    let text = decoder.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    if (line === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return text.trim() === "" ? null : { line, text };
  };
  for await (const chunk of bytes(source)) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      pending.push(chunk.subarray(start, end));
      const result = finish(pending);
      pending = [];
      if (result) yield result;
      start = end + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) {
    const result = finish(pending);
    if (result) yield result;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`readLines: expected bytes or strings from the stream, got ${typeof chunk}`);
}

/** The raw bytes of the source, gunzipped when it is gzip. */
async function* bytes(source: NodeJS.ReadableStream | string): AsyncGenerator<Buffer> {
  const input = typeof source === "string" ? createReadStream(source) : source;
  const iterator = (input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  // Look at the first two bytes (they may come in separate chunks).
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headLength += chunk.length;
  }
  const first = Buffer.concat(head);
  // An empty file has no lines, whatever its name.
  if (first.length === 0) return;
  const gzip = (typeof source === "string" && source.toLowerCase().endsWith(".gz")) || (first[0] === 0x1f && first[1] === 0x8b);
  async function* raw(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }
  try {
    if (!gzip) {
      yield* raw();
      return;
    }
    // pipeline() forwards an error on either side to the gunzip stream we read.
    const gunzip = pipeline(Readable.from(raw(), { objectMode: false }), createGunzip(), () => {});
    try {
      for await (const chunk of gunzip) yield toBuffer(chunk);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code !== "string" || !code.startsWith("Z_")) throw error;
      const name = typeof source === "string" ? source : "the stream";
      throw new Error(`cannot gunzip ${name}: ${(error as Error).message}`, { cause: error });
    }
  } finally {
    // A reader that stops early must not leave the file open.
    await iterator.return?.();
  }
}
