/**
 * The Model Spec's example blocks: a ~~~xml fence holding a conversation of
 * <system>/<developer>/<user>/<assistant>/<tool> messages and one or more
 * <comparison>s of <assistant> responses, each marked with a comment such as
 * `<!-- GOOD -->`, `<!-- BAD: reason -->`, `<!-- BAD[#chain_of_command] -->`,
 * `<!-- OK -->` or `<!-- GOOD, given high uncertainty -->`.
 *
 * Lines are read as the spec writes them (tags on their own lines) rather
 * than with an XML parser: message bodies are free text that is not
 * well-formed XML (`<settings>` blocks, code, "&lt;form").
 */
import { ROLES, type Example } from "../content.ts";
import type { SourceLine } from "./markdown.ts";
import { excerpt } from "./report.ts";

type Role = (typeof ROLES)[number];
type Message = Example["prompt"][number];
type Response = Example["responses"][number];

export interface Marker {
  grade: "GOOD" | "BAD" | "OK";
  /** `BAD[#chain_of_command]`: the principle the response violates. */
  ref?: string;
  reason?: string;
}

export interface XmlMessage {
  role: Role;
  content: string;
  attributes: [string, string][];
  marker: Marker | null;
  line: number;
}

export type XmlItem =
  | { kind: "message"; message: XmlMessage }
  | { kind: "comparison"; line: number; responses: XmlMessage[] }
  /** A bracketed line between messages, such as "[...]": turns left out of the conversation. */
  | { kind: "aside"; line: number; text: string };

export interface Problem {
  line: number;
  problem: string;
}

/** Something in the block that the schema cannot hold; the example is imported without it. */
export interface Loss {
  line: number;
  what: string;
  reason: string;
}

const messageOpen = new RegExp(`^\\s*<(${ROLES.join("|")})((?:\\s+[A-Za-z_][\\w.:-]*="[^"]*")*)\\s*>(.*)$`);
const markerPattern = /^\s*(GOOD|BAD|OK)\b(?:\[#([^\]]+)\])?\s*(?:[:,]\s*([\s\S]*?))?\s*$/;

/** Whether a fence body looks like a conversation at all (and not, say, an XML sample in prose). */
export function isConversation(body: SourceLine[]): boolean {
  return body.some((line) => messageOpen.test(line.text));
}

export function parseXmlBlock(body: SourceLine[]): { items: XmlItem[]; problems: Problem[] } {
  const items: XmlItem[] = [];
  const problems: Problem[] = [];
  let comparison: { line: number; responses: XmlMessage[] } | null = null;
  let i = 0;
  while (i < body.length) {
    const line = body[i]!;
    const text = line.text.trim();
    i += 1;
    if (text === "") continue;
    if (text === "<comparison>") {
      if (comparison) problems.push({ line: line.no, problem: "<comparison> inside <comparison>" });
      comparison = { line: line.no, responses: [] };
      continue;
    }
    if (text === "</comparison>") {
      if (comparison) items.push({ kind: "comparison", ...comparison });
      else problems.push({ line: line.no, problem: "</comparison> without <comparison>" });
      comparison = null;
      continue;
    }
    const read = readMessage(body, i - 1, problems);
    if (!read && !comparison && /^\[.*\]$/.test(text)) {
      items.push({ kind: "aside", line: line.no, text });
      continue;
    }
    if (!read) {
      problems.push({ line: line.no, problem: `text outside any message: "${excerpt(text)}"` });
      continue;
    }
    i = read.next;
    if (comparison) comparison.responses.push(read.message);
    else items.push({ kind: "message", message: read.message });
  }
  if (comparison) problems.push({ line: comparison.line, problem: "<comparison> is never closed" });
  return { items, problems };
}

/** Reads one message starting at body[start]; null if that line does not open one. */
function readMessage(body: SourceLine[], start: number, problems: Problem[]): { message: XmlMessage; next: number } | null {
  const open = body[start]!.text.match(messageOpen);
  if (!open) return null;
  const role = open[1] as Role;
  const { marker, rest } = splitMarker(open[3]!, body[start]!.no, problems);
  const line = body[start]!.no;
  const message = (content: string): XmlMessage => ({ role, content, attributes: parseAttributes(open[2]!), marker, line });
  const close = `</${role}>`;
  // A one-line message: <user>Hi</user>
  if (rest.trimEnd().endsWith(close)) return { message: message(cleanContent([rest.trimEnd().slice(0, -close.length)])), next: start + 1 };
  const lines = rest.trim() === "" ? [] : [rest];
  for (let j = start + 1; j < body.length; j++) {
    if (body[j]!.text.trim() === close) return { message: message(cleanContent(lines)), next: j + 1 };
    lines.push(body[j]!.text);
  }
  problems.push({ line, problem: `<${role}> is never closed` });
  return { message: message(cleanContent(lines)), next: body.length };
}

/** The marker comment right after the opening tag, and whatever follows it on that line. */
function splitMarker(afterTag: string, line: number, problems: Problem[]): { marker: Marker | null; rest: string } {
  const comment = afterTag.match(/^\s*<!--([\s\S]*?)-->(.*)$/);
  if (!comment) return { marker: null, rest: afterTag };
  const parsed = comment[1]!.match(markerPattern);
  if (!parsed) {
    problems.push({ line, problem: `unrecognised marker <!--${comment[1]}-->` });
    return { marker: null, rest: comment[2]! };
  }
  const marker: Marker = { grade: parsed[1] as Marker["grade"] };
  if (parsed[2]) marker.ref = parsed[2];
  if (parsed[3]) marker.reason = parsed[3];
  return { marker, rest: comment[2]! };
}

function parseAttributes(source: string): [string, string][] {
  return [...source.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]);
}

/** Drops the blank lines around a message body; inner layout stays as written. */
function cleanContent(lines: string[]): string {
  return lines.join("\n").replace(/^(?:[ \t]*\n)+/, "").trimEnd();
}

/**
 * One example per comparison. A block with several comparisons is a
 * multi-turn conversation: the prompt of a later comparison is everything
 * before it, with each earlier comparison replaced by its first GOOD
 * response (the turn the conversation goes on from).
 */
export function toExamples(title: string | undefined, items: XmlItem[]): { examples: Example[]; losses: Loss[]; problems: Problem[] } {
  const examples: Example[] = [];
  const losses: Loss[] = [];
  const problems: Problem[] = [];
  const total = items.filter((item) => item.kind === "comparison").length;
  const history: Message[] = [];
  let trailing: XmlMessage[] = [];
  for (const item of items) {
    if (item.kind === "aside") {
      losses.push({
        line: item.line,
        what: `"${excerpt(item.text)}" between messages`,
        reason: "it marks turns left out of the conversation; a prompt is a list of messages, so the prompt runs on without it",
      });
      continue;
    }
    if (item.kind === "message") {
      losses.push(...messageLosses(item.message, false));
      history.push({ role: item.message.role, content: item.message.content });
      trailing.push(item.message);
      continue;
    }
    trailing = [];
    const converted = comparisonToResponses(item, problems, losses);
    if (history.length === 0) problems.push({ line: item.line, problem: "a <comparison> with no message before it has no prompt" });
    const partTitle = total > 1 && title !== undefined ? `${title} (comparison ${examples.length + 1} of ${total})` : title;
    examples.push({ ...(partTitle === undefined ? {} : { title: partTitle }), prompt: [...history], responses: converted });
    history.push({ role: "assistant", content: continuation(item) });
  }
  for (const message of trailing) {
    if (total === 0) break;
    losses.push({ line: message.line, what: `<${message.role}> message after the last comparison: "${excerpt(message.content)}"`, reason: "no comparison follows it, so it belongs to no example's prompt" });
  }
  return { examples, losses, problems };
}

function continuation(comparison: XmlItem & { kind: "comparison" }): string {
  const good = comparison.responses.find((response) => response.marker?.grade === "GOOD");
  return (good ?? comparison.responses[0])?.content ?? "";
}

function comparisonToResponses(comparison: XmlItem & { kind: "comparison" }, problems: Problem[], losses: Loss[]): Response[] {
  const responses: Response[] = [];
  for (const message of comparison.responses) {
    if (message.role !== "assistant") problems.push({ line: message.line, problem: `a <${message.role}> inside <comparison>; only <assistant> responses can be compared` });
    if (!message.marker) {
      problems.push({ line: message.line, problem: "a response without a GOOD/BAD/OK marker" });
      continue;
    }
    losses.push(...messageLosses(message, true));
    responses.push(toResponse(message.content, message.marker));
  }
  if (responses.length === 0) problems.push({ line: comparison.line, problem: "an empty <comparison>" });
  return responses;
}

/**
 * The schema has two labels. OK ("acceptable, not the best") becomes good,
 * so it still pairs against the BAD responses, and its note says OK; the
 * report lists each one because the OK-below-GOOD ordering is lost.
 */
function toResponse(content: string, marker: Marker): Response {
  const parts: string[] = [];
  if (marker.grade === "OK") parts.push("OK (acceptable, but not the preferred response)");
  if (marker.ref) parts.push(`violates #${marker.ref}`);
  if (marker.reason) parts.push(marker.reason);
  const response: Response = { content, label: marker.grade === "BAD" ? "bad" : "good" };
  if (parts.length > 0) response.note = parts.join("; ");
  return response;
}

function messageLosses(message: XmlMessage, isResponse: boolean): Loss[] {
  const losses: Loss[] = message.attributes.map(([name, value]) => ({
    line: message.line,
    what: `attribute ${name}="${value}" of an <${message.role}> message`,
    reason: "messages have only a role and content; the message is kept without the attribute",
  }));
  if (isResponse && message.marker?.grade === "OK") {
    losses.push({ line: message.line, what: "label OK of a response", reason: 'the schema has only good and bad; imported as good with a note starting "OK", so it no longer ranks below the GOOD responses' });
  }
  if (!isResponse && message.marker) {
    losses.push({ line: message.line, what: `label ${message.marker.grade} on a <${message.role}> message outside <comparison>`, reason: "only responses in a comparison carry labels; the message is kept in the prompt without it" });
  }
  return losses;
}
