/**
 * Anthropic HH-RLHF lines: {"chosen": transcript, "rejected": transcript},
 * each transcript "\n\nHuman: …\n\nAssistant: …" ending in the Assistant
 * reply being judged. Other keys are ignored.
 *
 * Decisions:
 * - Turns start at "\n\nHuman:" / "\n\nAssistant:" (or at "Human:" at the
 *   very start), one optional space after the colon. Turn text is kept
 *   verbatim, leading spaces included. Text before the first turn that is
 *   not blank is an error.
 * - The prompt is the longest run of turns both transcripts share, cut back
 *   so that it ends with a Human turn; the responses are what follows it.
 *   Normally that is everything but the final Assistant reply, and each
 *   response is that reply's text.
 * - When the transcripts part earlier, or a reply spans several turns (HH
 *   has replies split by a stray "\n\nAssistant:"), each response is the
 *   rest of its transcript flattened back into HH text: the first Assistant
 *   turn's text, then "\n\nHuman: …" / "\n\nAssistant: …" for later turns,
 *   exactly as the source wrote them. Nothing is dropped.
 * - responses = [chosen, rejected], choice = 0.
 * - Errors: not JSON, "chosen"/"rejected" missing or not strings, a
 *   transcript with no turns or no Assistant turn, one ending with a Human
 *   turn (no reply to judge), transcripts sharing no opening Human turn, and
 *   identical transcripts (nothing to prefer).
 * - HH-RLHF has no rater ids: unless the defaults give one, every record
 *   gets `importRaterId(source name)`.
 */
import { LineError, pairRecord, parseJsonObject, parseWith, requireString, type Message, type ParseDefaults, type ParsedLine } from "./common.ts";

export interface HhTurn {
  role: "user" | "assistant";
  text: string;
}

const TURN_MARKER = /(?:^|\n\n)(Human|Assistant):[ ]?/g;

/** Splits an HH transcript into turns; throws LineError (naming `field`) when it has none. */
export function splitHhTranscript(transcript: string, field = "transcript"): HhTurn[] {
  const turns: HhTurn[] = [];
  let previous: { role: HhTurn["role"]; end: number } | null = null;
  for (const match of transcript.matchAll(TURN_MARKER)) {
    if (previous) turns.push({ role: previous.role, text: transcript.slice(previous.end, match.index) });
    else if (transcript.slice(0, match.index).trim() !== "") {
      throw new LineError(`"${field}" has text before its first "Human:" turn`);
    }
    previous = { role: match[1] === "Human" ? "user" : "assistant", end: match.index + match[0].length };
  }
  if (!previous) throw new LineError(`"${field}" has no "Human:" or "Assistant:" turns`);
  turns.push({ role: previous.role, text: transcript.slice(previous.end) });
  return turns;
}

/** The turns after the prompt as one response text (see the module comment). */
export function flattenHhTurns(turns: HhTurn[]): string {
  return turns
    .map((turn, i) => (i === 0 && turn.role === "assistant" ? turn.text : `${turn.role === "user" ? "Human" : "Assistant"}: ${turn.text}`))
    .join("\n\n");
}

/**
 * Prompt and the two responses from a pair of HH transcripts. Shared with
 * the TRL parser's implicit-prompt form, whose transcripts are often HH text.
 */
export function splitHhPair(chosen: string, rejected: string, names: [string, string] = ["chosen", "rejected"]): { prompt: Message[]; responses: [string, string] } {
  if (chosen === rejected) throw new LineError(`"${names[0]}" and "${names[1]}" are identical: nothing to prefer`);
  const a = splitHhTranscript(chosen, names[0]);
  const b = splitHhTranscript(rejected, names[1]);
  for (const [turns, name] of [[a, names[0]], [b, names[1]]] as const) {
    if (!turns.some((t) => t.role === "assistant")) throw new LineError(`"${name}" has no "Assistant:" turn`);
    if (turns.at(-1)!.role !== "assistant") throw new LineError(`"${name}" ends with a "Human:" turn, not an Assistant reply`);
  }
  let shared = 0;
  while (shared < a.length && shared < b.length && a[shared]!.role === b[shared]!.role && a[shared]!.text === b[shared]!.text) shared++;
  let cut = shared;
  while (cut > 0 && a[cut - 1]!.role !== "user") cut--;
  if (cut === 0) throw new LineError(`"${names[0]}" and "${names[1]}" share no opening "Human:" turn`);
  return {
    prompt: a.slice(0, cut).map((t) => ({ role: t.role, content: t.text })),
    responses: [flattenHhTurns(a.slice(cut)), flattenHhTurns(b.slice(cut))],
  };
}

export function parseHhRlhfLine(text: string, line: number, defaults: ParseDefaults): ParsedLine {
  return parseWith(line, () => {
    const object = parseJsonObject(text);
    const chosen = requireString(object, "chosen");
    const rejected = requireString(object, "rejected");
    const { prompt, responses } = splitHhPair(chosen, rejected);
    return pairRecord(prompt, responses[0], responses[1], line, defaults);
  });
}
