/**
 * Preference formats: the line reader, the HH-RLHF / TRL / OpenAI parsers,
 * the writers and records from policy examples.
 *
 * The HH-RLHF fixture is red-teaming data with offensive text by design, so
 * no assertion here compares its texts directly: failures show counts and
 * line numbers only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import type { PolicyContent } from "../src/policies/content.ts";
import {
  formatFromName,
  importRaterId,
  parseHhRlhfLine,
  parseOpenAiLine,
  parsePreferenceLines,
  parseTrlLine,
  preferencePairs,
  readLines,
  recordsFromPolicyExamples,
  toOpenAiLine,
  toOpenAiLines,
  toTrlLine,
  toTrlLines,
  type ParseDefaults,
  type ParsedLine,
  type SourceLine,
} from "../src/preferences/formats.ts";
import { preferenceRecordSchema, type PreferenceRecord } from "../src/preferences/record.ts";

const hhPath = fileURLToPath(new URL("./fixtures/hh-rlhf/harmless-base-test.jsonl.gz", import.meta.url));
const specPath = fileURLToPath(new URL("./fixtures/model_spec/model_spec.md", import.meta.url));

const defaults: ParseDefaults = {
  source: { name: "hh-rlhf:harmless-base-test.jsonl.gz", licence: "MIT" },
  consent: { train: true, federate: true, breakdown: false },
  createdAt: "2025-06-01T12:00:00Z",
};

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function record(parsed: ParsedLine): PreferenceRecord {
  if (!parsed.ok) throw new Error(`expected a record, got an error on line ${parsed.line}: ${parsed.error}`);
  return parsed.record;
}

function error(parsed: ParsedLine): string {
  if (parsed.ok) throw new Error("expected an error, got a record");
  return parsed.error;
}

/** Prompt, responses and choice: what a round trip through a training format must keep. */
function judgement(r: Pick<PreferenceRecord, "prompt" | "responses" | "choice">) {
  return { prompt: r.prompt, responses: r.responses, choice: r.choice };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fedalign-formats-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("readLines", () => {
  it("reads a plain file, counting blank lines and keeping a last line without newline", async () => {
    const path = file("plain.jsonl", "one\n\ntwo\n   \nthree");
    expect(await collect(readLines(path))).toEqual([
      { line: 1, text: "one" },
      { line: 3, text: "two" },
      { line: 5, text: "three" },
    ]);
  });

  it("drops the CR of CRLF line ends and a byte order mark", async () => {
    const path = file("crlf.jsonl", "\uFEFFone\r\n\r\ntwo\r\nthree\r\n");
    expect(await collect(readLines(path))).toEqual([
      { line: 1, text: "one" },
      { line: 3, text: "two" },
      { line: 4, text: "three" },
    ]);
  });

  it("gunzips by extension and by magic bytes, from a path or a stream", async () => {
    const gz = gzipSync("α\r\n\nβ\n");
    const expected = [
      { line: 1, text: "α" },
      { line: 3, text: "β" },
    ];
    expect(await collect(readLines(file("lines.jsonl.gz", gz)))).toEqual(expected);
    expect(await collect(readLines(file("lines-no-extension", gz)))).toEqual(expected);
    // One byte per chunk: the magic bytes arrive apart.
    const chunks = [...gz].map((b) => Buffer.from([b]));
    expect(await collect(readLines(Readable.from(chunks)))).toEqual(expected);
  });

  it("decodes UTF-8 characters split across chunks", async () => {
    const bytes = Buffer.from("héllo wörld\nzwei 🎉\n", "utf8");
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(await collect(readLines(Readable.from(chunks)))).toEqual([
      { line: 1, text: "héllo wörld" },
      { line: 2, text: "zwei 🎉" },
    ]);
  });

  it("reads the HH-RLHF fixture: 2,312 lines, none blank", async () => {
    const lines = await collect(readLines(hhPath));
    expect(lines.length).toBe(2312);
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 2312 }, (_, i) => i + 1));
  });

  it("reads an empty file as no lines, and names the file it cannot gunzip", async () => {
    expect(await collect(readLines(file("empty.jsonl.gz", "")))).toEqual([]);
    await expect(collect(readLines(file("not-gzip.jsonl.gz", "{}\n")))).rejects.toThrow(/^cannot gunzip .*not-gzip\.jsonl\.gz: incorrect header check$/);
  });

  it("rejects a file that does not exist", async () => {
    await expect(collect(readLines(join(dir, "missing.jsonl")))).rejects.toThrow(/ENOENT/);
  });
});

describe("HH-RLHF on the real fixture", () => {
  let results: ParsedLine[];
  let raw: SourceLine[];
  beforeAll(async () => {
    results = await collect(parsePreferenceLines(hhPath, "hh-rlhf", defaults));
    raw = await collect(readLines(hhPath));
  });

  it("yields exactly 2,312 valid records with their line numbers", () => {
    const errors = results.filter((r) => !r.ok);
    expect(errors.length).toBe(0);
    expect(results.length).toBe(2312);
    const records = results.map(record);
    expect(records.map((r) => r.source?.line)).toEqual(Array.from({ length: 2312 }, (_, i) => i + 1));
    for (const r of records) expect(preferenceRecordSchema.safeParse(r).success).toBe(true);
  });

  it("gives each a non-empty prompt ending with a user turn and two different responses, the chosen first", () => {
    const records = results.map(record);
    expect(records.filter((r) => r.prompt.length === 0 || r.prompt.at(-1)?.role !== "user").length).toBe(0);
    expect(records.filter((r) => r.responses.length !== 2 || r.responses[0]!.content === r.responses[1]!.content).length).toBe(0);
    expect(records.filter((r) => r.choice !== 0 || r.ratings !== null).length).toBe(0);
    // The source has no line whose two transcripts are the same.
    const identical = raw.filter(({ text }) => {
      const o = JSON.parse(text) as { chosen: string; rejected: string };
      return o.chosen === o.rejected;
    });
    expect(identical.length).toBe(0);
  });

  it("matches a plain last-'Assistant:' split on every line where the transcripts differ only in the last reply", () => {
    const records = results.map(record);
    const marker = "\n\nAssistant: ";
    let matching = 0;
    const differing: number[] = [];
    raw.forEach(({ text, line }, i) => {
      const o = JSON.parse(text) as { chosen: string; rejected: string };
      const c = o.chosen.lastIndexOf(marker);
      const r = o.rejected.lastIndexOf(marker);
      const samePrefix = o.chosen.slice(0, c) === o.rejected.slice(0, r);
      const rec = records[i]!;
      const promptText = rec.prompt.map((m) => `\n\n${m.role === "user" ? "Human" : "Assistant"}: ${m.content}`).join("");
      if (samePrefix && promptText === o.chosen.slice(0, c) && rec.responses[0]!.content === o.chosen.slice(c + marker.length) && rec.responses[1]!.content === o.rejected.slice(r + marker.length)) {
        matching += 1;
      } else {
        differing.push(line);
      }
    });
    // The five others have a reply spanning two "Assistant:" turns; the response keeps both, flattened.
    expect(matching).toBe(2307);
    expect(differing).toEqual([1255, 1689, 1951, 1953, 2037]);
    const flattened = records.filter((r) => r.responses.some((x) => x.content.includes(marker)));
    expect(flattened.map((r) => r.source?.line)).toEqual(differing);
  });

  it("keeps the four empty chosen replies (a silent reply is a harmless one)", () => {
    const records = results.map(record);
    expect(records.filter((r) => r.responses[0]!.content === "").map((r) => r.source?.line)).toEqual([87, 517, 926, 1104]);
    expect(records.filter((r) => r.responses[1]!.content === "").length).toBe(0);
  });

  it("gives every record the source's pseudonymous rater id, the consent and the source", () => {
    const records = results.map(record);
    expect(new Set(records.map((r) => r.raterId))).toEqual(new Set(["import:hh-rlhf:harmless-base-test.jsonl.gz"]));
    expect(records.every((r) => r.consent.train && r.consent.federate && !r.consent.breakdown)).toBe(true);
    expect(records.every((r) => r.source?.name === defaults.source.name && r.source.licence === "MIT" && r.groups.length === 0)).toBe(true);
  });

  it("round-trips every record through TRL and OpenAI lines", () => {
    const records = results.map(record);
    let trl = 0;
    let openai = 0;
    for (const r of records) {
      const t = toTrlLine(r)!;
      const o = toOpenAiLine(r)!;
      expect(t.endsWith("\n") && t.indexOf("\n") === t.length - 1).toBe(true);
      expect(o.endsWith("\n") && o.indexOf("\n") === o.length - 1).toBe(true);
      const back = parseTrlLine(t, 7, defaults);
      if (back.ok && JSON.stringify(judgement(back.record)) === JSON.stringify(judgement(r))) trl += 1;
      const back2 = parseOpenAiLine(o, 7, defaults);
      if (back2.ok && JSON.stringify(judgement(back2.record)) === JSON.stringify(judgement(r))) openai += 1;
      expect(t.includes(r.raterId) || o.includes(r.raterId)).toBe(false);
    }
    expect(trl).toBe(2312);
    expect(openai).toBe(2312);
  });
});

describe("HH-RLHF lines", () => {
  const hh = (chosen: unknown, rejected: unknown) => JSON.stringify({ chosen, rejected });

  it("splits turns and takes the shared prompt", () => {
    const r = record(parseHhRlhfLine(hh("\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Tea?\n\nAssistant: Yes.", "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Tea?\n\nAssistant: No."), 4, defaults));
    expect(judgement(r)).toEqual({
      prompt: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: "Tea?" },
      ],
      responses: [{ content: "Yes." }, { content: "No." }],
      choice: 0,
    });
    expect(r.source).toEqual({ name: defaults.source.name, licence: "MIT", line: 4 });
  });

  it("flattens the rest of both transcripts when they part before the last reply", () => {
    const r = record(parseHhRlhfLine(hh("\n\nHuman: A\n\nAssistant: B\n\nHuman: C\n\nAssistant: D", "\n\nHuman: A\n\nAssistant: X\n\nHuman: Y\n\nAssistant: Z"), 1, defaults));
    expect(r.prompt).toEqual([{ role: "user", content: "A" }]);
    expect(r.responses).toEqual([{ content: "B\n\nHuman: C\n\nAssistant: D" }, { content: "X\n\nHuman: Y\n\nAssistant: Z" }]);
  });

  it("uses the rater id the defaults give", () => {
    const r = record(parseHhRlhfLine(hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: C"), 9, { ...defaults, raterId: (line) => `rater-${line}` }));
    expect(r.raterId).toBe("rater-9");
  });

  it("reports malformed lines with their line numbers, counting blank lines", async () => {
    const lines = [
      hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: C"),
      "",
      "{not json",
      JSON.stringify({ chosen: "\n\nHuman: A\n\nAssistant: B" }),
      JSON.stringify([1, 2]),
      hh(42, "\n\nHuman: A\n\nAssistant: C"),
      hh("\n\nHuman: A", "\n\nHuman: A\n\nAssistant: C"),
      hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: B"),
      hh("\n\nHuman: A\n\nAssistant: B\n\nHuman: more", "\n\nHuman: A\n\nAssistant: C"),
      hh("just text", "\n\nHuman: A\n\nAssistant: C"),
      hh("preamble\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: C"),
      hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: Z\n\nAssistant: C"),
      "   ",
      hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: D"),
    ];
    const path = file("malformed.jsonl", lines.join("\r\n"));
    const results = await collect(parsePreferenceLines(path, "hh-rlhf", defaults));
    expect(results.map((r) => (r.ok ? `${r.record.source?.line}: ok` : `${r.line}: ${r.error}`))).toEqual([
      "1: ok",
      "3: not valid JSON (at character 2)",
      '4: "rejected" is missing',
      "5: expected a JSON object, found an array",
      '6: "chosen" must be a string, found a number',
      '7: "chosen" has no "Assistant:" turn',
      '8: "chosen" and "rejected" are identical: nothing to prefer',
      '9: "chosen" ends with a "Human:" turn, not an Assistant reply',
      '10: "chosen" has no "Human:" or "Assistant:" turns',
      '11: "chosen" has text before its first "Human:" turn',
      '12: "chosen" and "rejected" share no opening "Human:" turn',
      "14: ok",
    ]);
  });

  it("does not quote the line in JSON errors", () => {
    const e = error(parseHhRlhfLine('{"chosen": "secret words", oops}', 1, defaults));
    expect(e).not.toContain("secret");
  });

  it("reports records the schema refuses", () => {
    const e = error(parseHhRlhfLine(hh("\n\nHuman: A\n\nAssistant: B", "\n\nHuman: A\n\nAssistant: C"), 1, { ...defaults, createdAt: "yesterday" }));
    expect(e).toMatch(/^not a valid preference record: createdAt: /);
  });
});

describe("TRL lines", () => {
  const trl = (o: unknown, line = 1) => parseTrlLine(JSON.stringify(o), line, defaults);

  it("reads the standard form with an explicit prompt", () => {
    expect(judgement(record(trl({ prompt: "The sky is", chosen: " blue.", rejected: " green." })))).toEqual({
      prompt: [{ role: "user", content: "The sky is" }],
      responses: [{ content: " blue." }, { content: " green." }],
      choice: 0,
    });
  });

  it("reads the standard form with an implicit prompt, cutting at a word boundary", () => {
    expect(judgement(record(trl({ chosen: "The sky is blue.", rejected: "The sky is green." })))).toEqual({
      prompt: [{ role: "user", content: "The sky is" }],
      responses: [{ content: " blue." }, { content: " green." }],
      choice: 0,
    });
    const r = record(trl({ chosen: "The sky is blue.", rejected: "The sky is black." }));
    expect(r.prompt).toEqual([{ role: "user", content: "The sky is" }]);
    expect(r.responses).toEqual([{ content: " blue." }, { content: " black." }]);
    expect(error(trl({ chosen: "Blue sky", rejected: "Green sky" }))).toMatch(/share no prompt text/);
  });

  it("splits implicit-prompt HH transcripts into turns", () => {
    const r = record(trl({ chosen: "\n\nHuman: Hi\n\nAssistant: Hello", rejected: "\n\nHuman: Hi\n\nAssistant: Go away" }));
    expect(judgement(r)).toEqual({ prompt: [{ role: "user", content: "Hi" }], responses: [{ content: "Hello" }, { content: "Go away" }], choice: 0 });
  });

  it("reads the conversational form with an explicit prompt", () => {
    const r = record(
      trl({
        prompt: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "What color is the sky?" },
        ],
        chosen: [{ role: "assistant", content: "It is blue." }],
        rejected: [{ role: "assistant", content: "It is green." }],
        score_chosen: 8,
      }),
    );
    expect(judgement(r)).toEqual({
      prompt: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What color is the sky?" },
      ],
      responses: [{ content: "It is blue." }, { content: "It is green." }],
      choice: 0,
    });
  });

  it("reads the conversational form with an implicit prompt", () => {
    const user = { role: "user", content: "What color is the sky?" };
    const r = record(trl({ chosen: [user, { role: "assistant", content: "It is blue." }], rejected: [user, { role: "assistant", content: "It is green." }] }));
    expect(judgement(r)).toEqual({ prompt: [user], responses: [{ content: "It is blue." }, { content: "It is green." }], choice: 0 });
    expect(error(trl({ chosen: [user, { role: "assistant", content: "A" }, { role: "user", content: "B" }, { role: "assistant", content: "C" }], rejected: [user, { role: "assistant", content: "D" }] }))).toMatch(
      /part before the final assistant reply/,
    );
  });

  it("joins several assistant messages and text parts", () => {
    const r = record(
      trl({
        prompt: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
        chosen: [
          { role: "assistant", content: "One." },
          { role: "assistant", content: "Two." },
        ],
        rejected: [{ role: "assistant", content: "Three." }],
      }),
    );
    expect(r.prompt).toEqual([{ role: "user", content: "Hi" }]);
    expect(r.responses[0]).toEqual({ content: "One.\n\nTwo." });
  });

  it("reports malformed lines", () => {
    const a = [{ role: "assistant", content: "A" }];
    const u = [{ role: "user", content: "Q" }];
    expect(error(trl({ prompt: "Q", chosen: "A" }))).toBe('"rejected" is missing');
    expect(error(trl({ prompt: "Q", chosen: "A", rejected: a }))).toBe('"chosen" and "rejected" must both be strings or both be lists of messages');
    expect(error(trl({ prompt: u, chosen: "A", rejected: "B" }))).toBe('"prompt" is a list of messages but "chosen" and "rejected" are strings');
    expect(error(trl({ prompt: 3, chosen: "A", rejected: "B" }))).toBe('"prompt" must be a string or a list of messages, found a number');
    expect(error(trl({ prompt: "Q", chosen: "A", rejected: "A" }))).toBe("the two responses are identical: nothing to prefer");
    expect(error(trl({ prompt: [{ role: "human", content: "Q" }], chosen: a, rejected: [{ role: "assistant", content: "B" }] }))).toBe(
      'prompt[0].role: unknown role "human"; use one of system, developer, user, assistant, tool',
    );
    expect(error(trl({ prompt: u, chosen: u, rejected: a }))).toBe('chosen[0] has role "user": a response holds only assistant messages');
    expect(error(trl({ prompt: u, chosen: [], rejected: a }))).toBe('"chosen" is empty');
    expect(error(trl({ prompt: [{ role: "user", content: [{ type: "image" }] }], chosen: a, rejected: [{ role: "assistant", content: "B" }] }))).toBe(
      'prompt[0].content[0]: only text content can be imported, found a "image" part',
    );
    expect(error(trl({ prompt: u, chosen: [{ role: "assistant", content: "", tool_calls: [{ id: "x" }] }], rejected: a }))).toBe(
      "chosen[0] makes tool calls, which preference records cannot hold",
    );
  });
});

describe("OpenAI preference lines", () => {
  const line = {
    input: {
      messages: [{ role: "user", content: "Hello, can you tell me how cold San Francisco is today?" }],
      tools: [],
      parallel_tool_calls: true,
    },
    preferred_output: [{ role: "assistant", content: "Today in San Francisco, it is not quite cold as expected." }],
    non_preferred_output: [{ role: "assistant", content: "It is not particularly cold in San Francisco today." }],
  };

  it("reads the documented example", () => {
    expect(judgement(record(parseOpenAiLine(JSON.stringify(line), 1, defaults)))).toEqual({
      prompt: line.input.messages,
      responses: [{ content: line.preferred_output[0]!.content }, { content: line.non_preferred_output[0]!.content }],
      choice: 0,
    });
  });

  it("joins several output messages", () => {
    const r = record(parseOpenAiLine(JSON.stringify({ ...line, preferred_output: [{ role: "assistant", content: "A" }, { role: "assistant", content: "B" }] }), 1, defaults));
    expect(r.responses[0]).toEqual({ content: "A\n\nB" });
  });

  it("reports malformed lines", () => {
    const bad = (o: unknown) => error(parseOpenAiLine(JSON.stringify(o), 1, defaults));
    expect(bad({ preferred_output: [], non_preferred_output: [] })).toBe('"input" is missing');
    expect(bad({ ...line, input: [] })).toBe('"input" must be an object with "messages", found an array');
    expect(bad({ ...line, input: {} })).toBe('"input.messages" is missing');
    expect(bad({ ...line, input: { messages: [] } })).toBe('"input.messages" is empty');
    expect(bad({ ...line, input: { ...line.input, tools: [{ type: "function" }] } })).toBe('"input.tools" is not supported: preference records carry no tool definitions');
    expect(bad({ input: line.input, preferred_output: line.preferred_output })).toBe('"non_preferred_output" is missing');
    expect(bad({ ...line, non_preferred_output: [{ role: "user", content: "x" }] })).toBe('non_preferred_output[0] has role "user": a response holds only assistant messages');
    expect(bad({ ...line, non_preferred_output: line.preferred_output })).toBe("the two responses are identical: nothing to prefer");
  });
});

describe("parsePreferenceLines", () => {
  it("parses lines already read, with the format given as a parser", async () => {
    async function* lines(): AsyncIterable<SourceLine> {
      yield { line: 3, text: JSON.stringify({ prompt: "Q", chosen: "A", rejected: "B" }) };
      yield { line: 8, text: "nope" };
    }
    const results = await collect(parsePreferenceLines(lines(), parseTrlLine, defaults));
    expect(results.map((r) => (r.ok ? r.record.source?.line : r.line))).toEqual([3, 8]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
  });
});

describe("formatFromName", () => {
  it("knows the three formats and some aliases", () => {
    expect(formatFromName("hh-rlhf")).toBe("hh-rlhf");
    expect(formatFromName(" HH ")).toBe("hh-rlhf");
    expect(formatFromName("TRL")).toBe("trl");
    expect(formatFromName("openai")).toBe("openai");
    expect(formatFromName("openai-dpo")).toBe("openai");
    expect(formatFromName("csv")).toBeUndefined();
    expect(formatFromName("constructor")).toBeUndefined();
  });
});

describe("writers", () => {
  const base = {
    prompt: [{ role: "user" as const, content: "Pick one" }],
    responses: [{ content: "a" }, { content: "b" }, { content: "c" }],
    raterId: "rater-secret",
    groups: ["group-secret"],
    createdAt: defaults.createdAt,
    consent: defaults.consent,
  };
  const parse = (line: string) => JSON.parse(line) as Record<string, unknown>;

  it("writes exactly the keys each format specifies, in order, one line each", () => {
    const t = toTrlLine({ ...base, choice: 1 })!.split("\n").filter(Boolean).map(parse);
    for (const o of t) {
      expect(Object.keys(o)).toEqual(["prompt", "chosen", "rejected"]);
      for (const m of [...(o.prompt as object[]), ...(o.chosen as object[]), ...(o.rejected as object[])]) expect(Object.keys(m)).toEqual(["role", "content"]);
    }
    const o = toOpenAiLine({ ...base, choice: 1 })!.split("\n").filter(Boolean).map(parse);
    for (const x of o) {
      expect(Object.keys(x)).toEqual(["input", "preferred_output", "non_preferred_output"]);
      expect(Object.keys(x.input as object)).toEqual(["messages"]);
    }
    const all = toTrlLine({ ...base, choice: 1 })! + toOpenAiLine({ ...base, choice: 1 })!;
    expect(all).not.toMatch(/secret|consent|groups|raterId/);
  });

  it("pairs the chosen response with each other response", () => {
    expect(preferencePairs({ ...base, choice: 1 })).toEqual([
      { preferred: 1, other: 0 },
      { preferred: 1, other: 2 },
    ]);
    const lines = toTrlLines({ ...base, choice: 1 }).map(parse);
    expect(lines.map((l) => [(l.chosen as { content: string }[])[0]!.content, (l.rejected as { content: string }[])[0]!.content])).toEqual([
      ["b", "a"],
      ["b", "c"],
    ]);
    expect(toTrlLine({ ...base, choice: 1 })).toBe(toTrlLines({ ...base, choice: 1 }).join(""));
    expect(toOpenAiLines({ ...base, choice: 2 }).length).toBe(2);
  });

  it("pairs the highest rated with every lower rated and skips ties", () => {
    const ratings = (values: number[]) => ({ ...base, ratings: { scale: { min: 1, max: 5 }, values } });
    expect(preferencePairs(ratings([2, 5, 1]))).toEqual([
      { preferred: 1, other: 0 },
      { preferred: 1, other: 2 },
    ]);
    expect(preferencePairs(ratings([5, 5, 1]))).toEqual([
      { preferred: 0, other: 2 },
      { preferred: 1, other: 2 },
    ]);
    expect(toTrlLine(ratings([3, 3, 3]))).toBeNull();
    expect(toOpenAiLine(ratings([3, 3, 3]))).toBeNull();
    expect(() => preferencePairs({ ...base, choice: 3 })).toThrow(RangeError);
  });

  it("round-trips a record whose choice is not the first response", () => {
    const two = { ...base, responses: [{ content: "worse" }, { content: "better" }], choice: 1 };
    for (const [line, parser] of [
      [toTrlLine(two)!, parseTrlLine],
      [toOpenAiLine(two)!, parseOpenAiLine],
    ] as const) {
      const back = record(parser(line, 1, defaults));
      expect(back.prompt).toEqual(two.prompt);
      expect(back.responses[back.choice!]).toEqual({ content: "better" });
      expect(back.responses[1 - back.choice!]).toEqual({ content: "worse" });
    }
  });
});

describe("recordsFromPolicyExamples", () => {
  const versionIri = "https://policies.example/c/spec/versions/1";

  it("makes one record per good/bad pair of the Model Spec's examples", () => {
    const { content } = importModelSpec(readFileSync(specPath, "utf8"));
    const records = recordsFromPolicyExamples(content, versionIri, { createdAt: defaults.createdAt });
    let expected = 0;
    for (const clause of content.clauses) {
      for (const example of clause.examples) {
        expected += example.responses.filter((r) => r.label === "good").length * example.responses.filter((r) => r.label === "bad").length;
      }
    }
    expect(records.length).toBe(expected);
    expect(records.length).toBeGreaterThanOrEqual(160);
    const clauseIds = new Set(content.clauses.map((c) => c.id));
    for (const r of records) {
      expect(r.choice).toBe(0);
      expect(r.clauseIds.length === 1 && clauseIds.has(r.clauseIds[0]!)).toBe(true);
      expect(r.policyVersion).toBe(versionIri);
      expect(r.source).toEqual({ name: `policy:${versionIri}`, licence: "CC0-1.0" });
      expect(r.raterId).toBe(importRaterId(`policy:${versionIri}`));
    }
    // CC0 allows training and federation.
    expect(records.every((r) => r.consent.train && r.consent.federate && !r.consent.breakdown)).toBe(true);
    expect(records.filter((r) => r.rationale !== "").length).toBeGreaterThan(0);
    // Every record exports.
    expect(records.every((r) => toTrlLines(r).length === 1 && toOpenAiLines(r).length === 1)).toBe(true);
  });

  it("pairs each good with each bad response and builds the rationale from the notes and why", () => {
    const content: PolicyContent = {
      title: "T",
      summary: "",
      licence: "LicenseRef-Private",
      contexts: [],
      sections: [],
      clauses: [
        {
          id: "be_kind",
          title: "",
          section: null,
          authority: "user",
          text: "Be kind.",
          rationale: "",
          context: {},
          tags: [],
          examples: [
            {
              prompt: [{ role: "user", content: "Hi" }],
              responses: [
                { content: "g1", label: "good", note: "warm" },
                { content: "b1", label: "bad", note: "rude" },
                { content: "g2", label: "good" },
                { content: "b2", label: "bad" },
              ],
              why: "Kindness matters.",
            },
            { prompt: [{ role: "user", content: "Only good" }], responses: [{ content: "g", label: "good" }] },
            { prompt: [{ role: "user", content: "Scenario" }], responses: [] },
          ],
        },
      ],
    };
    const records = recordsFromPolicyExamples(content, versionIri, { createdAt: defaults.createdAt, raterId: "steward" });
    expect(records.map((r) => r.responses.map((x) => x.content))).toEqual([
      ["g1", "b1"],
      ["g1", "b2"],
      ["g2", "b1"],
      ["g2", "b2"],
    ]);
    expect(records.map((r) => r.rationale)).toEqual([
      "Good: warm\n\nBad: rude\n\nKindness matters.",
      "Good: warm\n\nKindness matters.",
      "Bad: rude\n\nKindness matters.",
      "Kindness matters.",
    ]);
    expect(records.every((r) => r.raterId === "steward" && r.clauseIds[0] === "be_kind")).toBe(true);
    // A licence not known to allow reuse: no consent.
    expect(records[0]!.consent).toEqual({ train: false, federate: false, breakdown: false });
  });
});
