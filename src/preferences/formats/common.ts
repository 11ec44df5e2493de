/**
 * What every line parser shares: the defaults an import supplies, the result
 * of parsing one line, and the checks that turn loose JSON into messages.
 *
 * Error messages name fields and line numbers but never quote the record's
 * text: imported preference data can be offensive by design (red-teaming)
 * and error lists end up in logs and API answers.
 */
import { createHash } from "node:crypto";
import { ROLES } from "../../policies/content.ts";
import { preferenceRecordSchema, type Consent, type PreferenceRecord } from "../record.ts";

export type Role = (typeof ROLES)[number];
export interface Message {
  role: Role;
  content: string;
}

/** What an import supplies for the fields its files do not carry. */
export interface ParseDefaults {
  /** Recorded on every record, with the line number added. */
  source: { name: string; licence: string | null };
  consent: Consent;
  /** Rater id for the record on a line; defaults to {@link importRaterId} of the source name. */
  raterId?: (line: number) => string;
  /** ISO 8601 date-time with offset, e.g. the time of the import. */
  createdAt: string;
}

/**
 * One parsed line. A record is validated against `preferenceRecordSchema`
 * and handed back in its parsed (output) form, which is also a valid
 * `PreferenceRecordInput`.
 */
export type ParsedLine = { ok: true; record: PreferenceRecord } | { ok: false; line: number; error: string };

export type LineParser = (text: string, line: number, defaults: ParseDefaults) => ParsedLine;

/**
 * The rater id for imported data that carries none (HH-RLHF, most TRL and
 * OpenAI files): one stable pseudonym per source, `import:<source name>`
 * (`import:sha256:<hex>` when the name is too long for a rater id). Every
 * record of a source thus counts as one rater: nothing better is known, and
 * nothing about the real raters is implied.
 */
export function importRaterId(sourceName: string): string {
  const id = `import:${sourceName}`;
  return id.length <= 200 ? id : `import:sha256:${createHash("sha256").update(sourceName).digest("hex")}`;
}

/** A problem with one line; parsers throw it and `parseWith` turns it into `{ ok: false }`. */
export class LineError extends Error {}

export function parseWith(line: number, parse: () => ParsedLine): ParsedLine {
  try {
    return parse();
  } catch (error) {
    if (error instanceof LineError) return { ok: false, line, error: error.message };
    throw error;
  }
}

/** JSON.parse without echoing the text: V8's messages quote the input. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    throw new LineError(`not valid JSON${position === undefined ? "" : ` (at character ${Number(position) + 1})`}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LineError(`expected a JSON object, found ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** "a string", "an array", "null": for messages about a value's type, never its text. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : type === "number" ? "a number" : type === "boolean" ? "a boolean" : `a ${type}`;
}

export function requireString(object: Record<string, unknown>, key: string, where = ""): string {
  const value = object[key];
  if (value === undefined) throw new LineError(`"${where}${key}" is missing`);
  if (typeof value !== "string") throw new LineError(`"${where}${key}" must be a string, found ${describe(value)}`);
  return value;
}

/**
 * Message content: a string, or a list of text parts ({"type": "text",
 * "text": …}, as OpenAI and multimodal TRL data write it), joined with a
 * blank line. Images, audio and other parts cannot be stored: an error.
 */
function readContent(value: unknown, where: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value
      .map((part, i) => {
        const p = part as Record<string, unknown> | null;
        if (typeof p === "object" && p !== null && p.type === "text" && typeof p.text === "string") return p.text;
        const type = typeof p === "object" && p !== null && typeof p.type === "string" ? `"${p.type.slice(0, 40)}" ` : "";
        throw new LineError(`${where}.content[${i}]: only text content can be imported, found a ${type}part`);
      })
      .join("\n\n");
  }
  throw new LineError(`${where}.content must be a string or a list of text parts, found ${describe(value)}`);
}

/**
 * A list of {role, content} messages. Other keys (name, weight,
 * tool_call_id) are dropped; tool calls cannot be stored, so a message
 * making them is an error rather than a silently shortened conversation.
 */
export function readMessages(value: unknown, where: string, { allowEmpty = false } = {}): Message[] {
  if (!Array.isArray(value)) throw new LineError(`"${where}" must be a list of messages, found ${describe(value)}`);
  if (value.length === 0 && !allowEmpty) throw new LineError(`"${where}" is empty`);
  return value.map((item, i) => {
    const at = `${where}[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new LineError(`${at} must be a message object, found ${describe(item)}`);
    }
    const message = item as Record<string, unknown>;
    const role = message.role;
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      const shown = typeof role === "string" ? JSON.stringify(role.slice(0, 40)) : describe(role);
      throw new LineError(`${at}.role: unknown role ${shown}; use one of ${ROLES.join(", ")}`);
    }
    if (Array.isArray(message.tool_calls) ? message.tool_calls.length > 0 : message.tool_calls != null) {
      throw new LineError(`${at} makes tool calls, which preference records cannot hold`);
    }
    return { role: role as Role, content: readContent(message.content, at) };
  });
}

/**
 * A response given as a list of assistant messages: their contents joined
 * with a blank line (a record's response is one text).
 */
export function readAssistantOutput(value: unknown, where: string): string {
  const messages = readMessages(value, where);
  const other = messages.findIndex((m) => m.role !== "assistant");
  if (other !== -1) {
    throw new LineError(`${where}[${other}] has role "${messages[other]!.role}": a response holds only assistant messages`);
  }
  return messages.map((m) => m.content).join("\n\n");
}

export function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

/**
 * Builds and validates the record for a pairwise judgement: responses[0] is
 * the preferred one. Identical responses are an error: there is nothing to
 * prefer.
 */
export function pairRecord(prompt: Message[], preferred: string, other: string, line: number, defaults: ParseDefaults): ParsedLine {
  if (prompt.length === 0) throw new LineError("the prompt is empty");
  if (preferred === other) throw new LineError("the two responses are identical: nothing to prefer");
  const parsed = preferenceRecordSchema.safeParse({
    prompt,
    responses: [{ content: preferred }, { content: other }],
    choice: 0,
    raterId: defaults.raterId ? defaults.raterId(line) : importRaterId(defaults.source.name),
    createdAt: defaults.createdAt,
    consent: defaults.consent,
    source: { name: defaults.source.name, licence: defaults.source.licence, line },
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(record)"}: ${issue.message}`);
    throw new LineError(`not a valid preference record: ${issues.join("; ")}`);
  }
  return { ok: true, record: parsed.data };
}
