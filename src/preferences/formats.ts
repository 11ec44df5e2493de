/**
 * Preference data in and out of the formats other tools use: Anthropic
 * HH-RLHF, Hugging Face TRL and OpenAI preference fine-tuning JSONL. Pure
 * functions and async iterators, no database: importers stream a file
 * through `parsePreferenceLines`, exporters write `toTrlLine` /
 * `toOpenAiLine` per record. Each format's decisions are documented in its
 * module under ./formats/.
 */
import { readLines, type SourceLine } from "./formats/lines.ts";
import { parseHhRlhfLine } from "./formats/hh-rlhf.ts";
import { parseOpenAiLine } from "./formats/openai.ts";
import { parseTrlLine } from "./formats/trl.ts";
import type { LineParser, ParseDefaults, ParsedLine } from "./formats/common.ts";

export { readLines, type SourceLine } from "./formats/lines.ts";
export { importRaterId, type LineParser, type Message, type ParseDefaults, type ParsedLine } from "./formats/common.ts";
export { flattenHhTurns, parseHhRlhfLine, splitHhPair, splitHhTranscript, type HhTurn } from "./formats/hh-rlhf.ts";
export { parseTrlLine } from "./formats/trl.ts";
export { parseOpenAiLine } from "./formats/openai.ts";
export {
  preferencePairs,
  toOpenAiLine,
  toOpenAiLines,
  toTrlLine,
  toTrlLines,
  type ExportableRecord,
  type PreferencePair,
} from "./formats/writers.ts";
export { recordsFromPolicyExamples, type PolicyExampleDefaults } from "./formats/policy.ts";

export const PREFERENCE_FORMATS = ["hh-rlhf", "trl", "openai"] as const;
export type PreferenceFormat = (typeof PREFERENCE_FORMATS)[number];

const FORMAT_NAMES: Record<string, PreferenceFormat> = {
  "hh-rlhf": "hh-rlhf",
  hhrlhf: "hh-rlhf",
  hh: "hh-rlhf",
  anthropic: "hh-rlhf",
  trl: "trl",
  openai: "openai",
  "openai-preference": "openai",
  "openai-dpo": "openai",
};

/**
 * A format from a user-given name, case and surrounding space ignored:
 * "hh-rlhf" (also "hh", "hhrlhf", "anthropic"), "trl", "openai" (also
 * "openai-preference", "openai-dpo"); undefined for anything else.
 */
export function formatFromName(name: string): PreferenceFormat | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(FORMAT_NAMES, key) ? FORMAT_NAMES[key] : undefined;
}

const PARSERS: Record<PreferenceFormat, LineParser> = {
  "hh-rlhf": parseHhRlhfLine,
  trl: parseTrlLine,
  openai: parseOpenAiLine,
};

export function parserFor(format: PreferenceFormat): LineParser {
  return PARSERS[format];
}

/**
 * Every non-blank line of a file or stream (gzipped or not), or of lines
 * already read, parsed: a record or an error with its line number, in file
 * order. Constant memory.
 */
export async function* parsePreferenceLines(
  source: NodeJS.ReadableStream | string | AsyncIterable<SourceLine>,
  format: PreferenceFormat | LineParser,
  defaults: ParseDefaults,
): AsyncIterable<ParsedLine> {
  const parse = typeof format === "function" ? format : parserFor(format);
  // A stream has pipe(); anything else async-iterable is already lines.
  const lines = typeof source === "string" || "pipe" in source ? readLines(source) : source;
  for await (const { line, text } of lines) yield parse(text, line, defaults);
}
