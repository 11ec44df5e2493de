/**
 * Hugging Face TRL preference lines, all four shapes of the "preference"
 * type (https://huggingface.co/docs/trl/dataset_formats). Other keys (ids,
 * scores, images) are ignored.
 *
 * - Standard, explicit prompt: {"prompt": str, "chosen": str, "rejected": str}.
 *   The prompt becomes one user message; the responses are kept verbatim
 *   (TRL's standard form is text continuation, so " blue." keeps its space).
 * - Standard, implicit prompt: {"chosen": str, "rejected": str}, the prompt
 *   being their common start. HH-style transcripts ("Human: …" and
 *   "\n\nAssistant:") are split into turns as the HH-RLHF parser does.
 *   Other text is cut at the last whitespace before the first difference
 *   (TRL's own extract_prompt cuts mid-word), the whitespace going with the
 *   responses: "The sky is blue." / "The sky is green." gives the prompt
 *   "The sky is" and " blue." / " green.". No shared start is an error.
 * - Conversational, explicit prompt: "prompt" a list of messages; "chosen"
 *   and "rejected" lists of assistant messages (contents joined with a blank
 *   line if several). A string prompt with message lists is read as one
 *   user message.
 * - Conversational, implicit prompt: "chosen"/"rejected" whole conversations;
 *   the prompt is their shared leading messages, cut back to end before an
 *   assistant message, and each response the assistant messages after it.
 *   Conversations that part before the final assistant reply are an error.
 * - responses = [chosen, rejected], choice = 0; identical responses are an error.
 */
import { splitHhPair } from "./hh-rlhf.ts";
import {
  LineError,
  describe,
  pairRecord,
  parseJsonObject,
  parseWith,
  readAssistantOutput,
  readMessages,
  sameMessage,
  type Message,
  type ParseDefaults,
  type ParsedLine,
} from "./common.ts";

const HH_START = /^(?:\n\n)?Human:/;

function looksLikeHh(text: string): boolean {
  return HH_START.test(text) && text.includes("\n\nAssistant:");
}

/** Prompt and responses from two texts sharing a start (standard implicit prompt). */
function splitSharedText(chosen: string, rejected: string): { prompt: Message[]; responses: [string, string] } {
  if (chosen === rejected) throw new LineError(`"chosen" and "rejected" are identical: nothing to prefer`);
  if (looksLikeHh(chosen) && looksLikeHh(rejected)) return splitHhPair(chosen, rejected);
  let diff = 0;
  while (diff < chosen.length && diff < rejected.length && chosen[diff] === rejected[diff]) diff++;
  let cut = diff;
  while (cut > 0 && !/\s/.test(chosen[cut - 1]!)) cut--;
  // The whitespace before the first differing word goes with the responses.
  if (cut > 0) cut--;
  const prompt = chosen.slice(0, cut);
  if (prompt.trim() === "") throw new LineError(`"chosen" and "rejected" share no prompt text (no "prompt" field and no common start)`);
  return { prompt: [{ role: "user", content: prompt }], responses: [chosen.slice(cut), rejected.slice(cut)] };
}

/** Prompt and responses from two whole conversations (conversational implicit prompt). */
function splitSharedMessages(chosen: Message[], rejected: Message[]): { prompt: Message[]; responses: [string, string] } {
  let shared = 0;
  while (shared < chosen.length && shared < rejected.length && sameMessage(chosen[shared]!, rejected[shared]!)) shared++;
  let cut = shared;
  while (cut > 0 && chosen[cut - 1]!.role === "assistant") cut--;
  if (cut === 0) throw new LineError(`"chosen" and "rejected" share no leading messages to use as the prompt`);
  const responses = [chosen, rejected].map((messages, i) => {
    const rest = messages.slice(cut);
    const name = i === 0 ? "chosen" : "rejected";
    if (rest.length === 0) throw new LineError(`"${name}" has no assistant reply after the shared prompt`);
    const other = rest.findIndex((m) => m.role !== "assistant");
    if (other !== -1) {
      throw new LineError(`"chosen" and "rejected" part before the final assistant reply ("${name}"[${cut + other}] is a ${rest[other]!.role} message)`);
    }
    return rest.map((m) => m.content).join("\n\n");
  });
  return { prompt: chosen.slice(0, cut), responses: [responses[0]!, responses[1]!] };
}

export function parseTrlLine(text: string, line: number, defaults: ParseDefaults): ParsedLine {
  return parseWith(line, () => {
    const object = parseJsonObject(text);
    const { prompt, chosen, rejected } = object;
    for (const [key, value] of [["chosen", chosen], ["rejected", rejected]] as const) {
      if (value === undefined) throw new LineError(`"${key}" is missing`);
      if (typeof value !== "string" && !Array.isArray(value)) {
        throw new LineError(`"${key}" must be a string or a list of messages, found ${describe(value)}`);
      }
    }
    const conversational = Array.isArray(chosen);
    if (conversational !== Array.isArray(rejected)) throw new LineError(`"chosen" and "rejected" must both be strings or both be lists of messages`);
    let split: { prompt: Message[]; responses: [string, string] };
    if (prompt === undefined || prompt === null) {
      split = conversational
        ? splitSharedMessages(readMessages(chosen, "chosen"), readMessages(rejected, "rejected"))
        : splitSharedText(chosen as string, rejected as string);
    } else {
      let messages: Message[];
      if (typeof prompt === "string") {
        if (prompt.trim() === "") throw new LineError(`"prompt" is empty`);
        messages = [{ role: "user", content: prompt }];
      } else if (Array.isArray(prompt)) {
        if (!conversational) throw new LineError(`"prompt" is a list of messages but "chosen" and "rejected" are strings`);
        messages = readMessages(prompt, "prompt");
      } else {
        throw new LineError(`"prompt" must be a string or a list of messages, found ${describe(prompt)}`);
      }
      split = {
        prompt: messages,
        responses: conversational
          ? [readAssistantOutput(chosen, "chosen"), readAssistantOutput(rejected, "rejected")]
          : [chosen as string, rejected as string],
      };
    }
    return pairRecord(split.prompt, split.responses[0], split.responses[1], line, defaults);
  });
}
