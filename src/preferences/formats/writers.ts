/**
 * Writers for training formats: one JSONL line per preference pair, keys in
 * the order the format documents, ending in "\n".
 *
 * - Pairs: with a choice, the chosen response against each other response
 *   in order (two responses: one line; n responses: n - 1 lines). With
 *   ratings, every response rated highest against every response rated
 *   lower, in response order; responses tied with the highest are not
 *   paired, and a record whose ratings all tie yields no line at all.
 * - Only the prompt and the two responses are written. Rater ids, groups,
 *   consent, rationale, clause ids and source never are: the training
 *   formats have no place for them, and the rater fields must not leave the
 *   instance this way. Choosing records whose consent allows training is
 *   the caller's job; these functions do not look at consent.
 * - Messages are written as {role, content} exactly; prompts with "tool"
 *   messages are written as they are, although OpenAI expects tool messages
 *   to answer tool calls that records cannot hold.
 */
import type { Message } from "./common.ts";

/** The fields a writer reads; `PreferenceRecord` and `PreferenceRecordInput` both fit. */
export interface ExportableRecord {
  prompt: readonly Message[];
  responses: readonly { content: string }[];
  choice?: number | null;
  ratings?: { values: readonly number[] } | null;
}

export interface PreferencePair {
  /** Index of the preferred response. */
  preferred: number;
  /** Index of the response it is preferred to. */
  other: number;
}

export function preferencePairs(record: ExportableRecord): PreferencePair[] {
  const count = record.responses.length;
  if (record.choice !== undefined && record.choice !== null) {
    const choice = record.choice;
    if (!Number.isInteger(choice) || choice < 0 || choice >= count) throw new RangeError(`choice ${choice} is not the index of one of the ${count} responses`);
    return record.responses.flatMap((_, other) => (other === choice ? [] : [{ preferred: choice, other }]));
  }
  if (record.ratings) {
    const values = record.ratings.values;
    if (values.length !== count) throw new RangeError(`${values.length} ratings for ${count} responses`);
    const top = Math.max(...values);
    const best = values.flatMap((v, i) => (v === top ? [i] : []));
    const lower = values.flatMap((v, i) => (v < top ? [i] : []));
    return best.flatMap((preferred) => lower.map((other) => ({ preferred, other })));
  }
  throw new RangeError("the record has neither a choice nor ratings");
}

function messages(list: readonly Message[]): Message[] {
  return list.map((m) => ({ role: m.role, content: m.content }));
}

function assistant(content: string): Message[] {
  return [{ role: "assistant", content }];
}

/** TRL conversational preference lines: {"prompt": [...], "chosen": [assistant], "rejected": [assistant]}. */
export function toTrlLines(record: ExportableRecord): string[] {
  const prompt = messages(record.prompt);
  return preferencePairs(record).map(
    ({ preferred, other }) =>
      `${JSON.stringify({ prompt, chosen: assistant(record.responses[preferred]!.content), rejected: assistant(record.responses[other]!.content) })}\n`,
  );
}

/** As {@link toTrlLines}, joined: one line for a pair, several for more responses, null when there is no pair (tied ratings). */
export function toTrlLine(record: ExportableRecord): string | null {
  const lines = toTrlLines(record);
  return lines.length === 0 ? null : lines.join("");
}

/** OpenAI preference fine-tuning lines: {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}. */
export function toOpenAiLines(record: ExportableRecord): string[] {
  const input = { messages: messages(record.prompt) };
  return preferencePairs(record).map(
    ({ preferred, other }) =>
      `${JSON.stringify({ input, preferred_output: assistant(record.responses[preferred]!.content), non_preferred_output: assistant(record.responses[other]!.content) })}\n`,
  );
}

/** As {@link toOpenAiLines}, joined; null when there is no pair. */
export function toOpenAiLine(record: ExportableRecord): string | null {
  const lines = toOpenAiLines(record);
  return lines.length === 0 ? null : lines.join("");
}
