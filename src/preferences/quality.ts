/**
 * Records a training pipeline would trip on. Preference records can hold
 * conversations no trainer accepts; these checks find them before export:
 *
 * - "malformed": not a record at all (no list of {role, content} messages,
 *   fewer than two responses, no consent); nothing else is checked then;
 * - "empty-response": a response (so a chosen or rejected answer) is empty
 *   or only whitespace;
 * - "roles-not-alternating": leaving out system and developer messages, two
 *   user messages or two assistant messages follow each other, nothing is
 *   left (a prompt of instructions only, which chat templates reject), or the
 *   prompt ends with an assistant message (the answer would follow the
 *   assistant). Six of the Model Spec's 210 example pairs are such;
 *   `--keep-flawed` keeps them;
 * - "tool-without-call": a tool message that follows neither an assistant
 *   message (the call; records hold no structured tool calls) nor another
 *   tool message.
 */
import type { Message } from "./formats/common.ts";

export const FLAW_KINDS = ["malformed", "empty-response", "roles-not-alternating", "tool-without-call"] as const;
export type FlawKind = (typeof FLAW_KINDS)[number];

export interface CheckableRecord {
  prompt: readonly Message[];
  responses: readonly { content: string }[];
}

/** The flaws of a record, in FLAW_KINDS order; empty when it is fit for training. */
export function recordFlaws(record: CheckableRecord): FlawKind[] {
  if (!wellFormed(record)) return ["malformed"];
  const flaws: FlawKind[] = [];
  if (record.responses.some((r) => r.content.trim() === "")) flaws.push("empty-response");
  const turns = record.prompt.filter((m) => m.role !== "system" && m.role !== "developer");
  let alternating = turns.length > 0 && turns.at(-1)!.role !== "assistant";
  let toolWithoutCall = false;
  for (let i = 1; i < turns.length; i++) {
    const role = turns[i]!.role;
    const before = turns[i - 1]!.role;
    if ((role === "user" || role === "assistant") && role === before) alternating = false;
  }
  turns.forEach((m, i) => {
    if (m.role !== "tool") return;
    const before = turns[i - 1]?.role;
    if (before !== "assistant" && before !== "tool") toolWithoutCall = true;
  });
  if (!alternating) flaws.push("roles-not-alternating");
  if (toolWithoutCall) flaws.push("tool-without-call");
  return flaws;
}

function isMessage(m: unknown): boolean {
  return typeof m === "object" && m !== null && typeof (m as Message).role === "string" && typeof (m as Message).content === "string";
}

/** A cheap structural check: signed pages come from communities, not from our own schema. */
function wellFormed(record: unknown): record is CheckableRecord {
  if (typeof record !== "object" || record === null) return false;
  const r = record as { prompt?: unknown; responses?: unknown; consent?: unknown; choice?: unknown; ratings?: unknown };
  return (
    Array.isArray(r.prompt) && r.prompt.length > 0 && r.prompt.every(isMessage) &&
    Array.isArray(r.responses) && r.responses.length >= 2 && r.responses.every((x) => typeof (x as { content?: unknown })?.content === "string") &&
    typeof r.consent === "object" && r.consent !== null &&
    ((typeof r.choice === "number" && Number.isInteger(r.choice) && r.choice >= 0 && r.choice < r.responses.length) ||
      (typeof r.ratings === "object" && r.ratings !== null && Array.isArray((r.ratings as { values?: unknown }).values) && (r.ratings as { values: unknown[] }).values.length === r.responses.length))
  );
}

export const FLAW_DESCRIPTIONS: Record<FlawKind, string> = {
  malformed: "not a well-formed preference record",
  "empty-response": "a chosen or rejected answer is empty",
  "roles-not-alternating": "user and assistant turns do not alternate, the prompt has no user turn, or it ends with the assistant",
  "tool-without-call": "a tool message answers no assistant call",
};
