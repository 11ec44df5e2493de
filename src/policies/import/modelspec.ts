/**
 * Imports the OpenAI Model Spec (model_spec.md) into policy content.
 *
 * Mapping, as the file is written:
 * - A heading `{#id authority=LEVEL}` is a clause with that id and level. Its
 *   text runs to the next heading at the same or a higher level; untagged
 *   sub-headings inside it stay in its text (heading line included), while a
 *   nested tagged heading starts a clause of its own. `tags=a,b` become tags.
 * - A heading `{#id}` without authority (outside any clause) is a section;
 *   nesting is kept through `parent`, and a clause's section is the nearest
 *   enclosing one. Its prose is the section text.
 * - "**Example**: title" plus a ~~~xml conversation inside a clause becomes
 *   the clause's examples (one per <comparison>) and leaves the text.
 *   Examples that cannot be (under a section, no comparison, unreadable) stay
 *   verbatim where they are and are listed in the report.
 * - Everything else (commentary boxes, footnote references, code) stays in
 *   the text as written.
 */
import { clauseIdSchema, AUTHORITY_LEVELS, type AuthorityLevel, type Example, type PolicyContentInput } from "../content.ts";
import { blockLines, firstLine, isBlank, toLines, tokenize, type Block } from "./markdown.ts";
import { isConversation, parseXmlBlock, toExamples } from "./modelspec-examples.ts";
import { excerpt, finishImport, type ImportResult, type NotMapped } from "./report.ts";

export interface ModelSpecOptions {
  title?: string;
  /** SPDX id; defaults to the Model Spec's own licence. */
  licence?: string;
}

export const MODEL_SPEC_DEFAULT_TITLE = "OpenAI Model Spec";
/** The Model Spec is dedicated to the public domain (CC0 1.0 Universal). */
export const MODEL_SPEC_DEFAULT_LICENCE = "CC0-1.0";

/** Earlier Model Spec releases called the top level "platform"; it was renamed "root". */
const LEGACY_LEVELS: Record<string, AuthorityLevel> = { platform: "root" };

interface SectionDraft {
  id: string;
  title: string;
  parent: string | null;
  parts: string[];
}

interface ClauseDraft {
  id: string;
  title: string;
  section: string | null;
  authority: AuthorityLevel;
  tags: string[];
  parts: string[];
  examples: Example[];
  line: number;
}

type Frame =
  | { level: number; kind: "section"; section: SectionDraft }
  | { level: number; kind: "clause"; clause: ClauseDraft }
  /** An untagged heading inside a clause: its content belongs to the clause. */
  | { level: number; kind: "sub"; clause: ClauseDraft };

interface State {
  sections: SectionDraft[];
  clauses: ClauseDraft[];
  preamble: string[];
  documentTitle: string | null;
  stack: Frame[];
  seenHeading: boolean;
  ids: { section: Set<string>; clause: Set<string> };
  notMapped: NotMapped[];
  notes: string[];
  stats: { blocks: number; split: number };
}

export function importModelSpec(markdown: string, options: ModelSpecOptions = {}): ImportResult {
  const state = newState();
  const blocks = tokenize(toLines(markdown));
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.kind === "heading") {
      openHeading(state, block);
      continue;
    }
    if (block.kind === "fence" && !block.close) {
      state.notes.push(`The fence opened on line ${block.open.no} is never closed; it runs to the end of the file and is kept as text.`);
    }
    const example = exampleAt(blocks, i);
    if (example) {
      addExample(state, example);
      i = example.end;
      continue;
    }
    ownerParts(state).push(asPart(block));
  }
  return finishImport("modelspec", buildContent(state, options), state.notMapped, state.notes);
}

function newState(): State {
  return {
    sections: [],
    clauses: [],
    preamble: [],
    documentTitle: null,
    stack: [],
    seenHeading: false,
    ids: { section: new Set(), clause: new Set() },
    notMapped: [],
    notes: [],
    stats: { blocks: 0, split: 0 },
  };
}

// ---------------------------------------------------------------------------
// Headings

function openHeading(state: State, heading: Block & { kind: "heading" }): void {
  if (isTitleHeading(state, heading)) {
    state.documentTitle = heading.title;
    state.seenHeading = true;
    return;
  }
  state.seenHeading = true;
  while (state.stack.length > 0 && state.stack.at(-1)!.level >= heading.level) state.stack.pop();
  const where = `line ${heading.line.no} ("${excerpt(heading.title, 60)}")`;
  const authority = readAttributes(state, heading, where);
  const enclosingClause = nearestClause(state);
  if (authority) {
    const clause = newClause(state, heading, authority.level, authority.tags);
    state.stack.push({ level: heading.level, kind: "clause", clause });
  } else if (enclosingClause) {
    enclosingClause.parts.push(heading.line.text);
    state.stack.push({ level: heading.level, kind: "sub", clause: enclosingClause });
  } else {
    const section = newSection(state, heading);
    state.stack.push({ level: heading.level, kind: "section", section });
  }
}

/** A first line "# Title" with no {#id} names the document rather than opening a section. */
function isTitleHeading(state: State, heading: Block & { kind: "heading" }): boolean {
  return !state.seenHeading && heading.level === 1 && heading.anchor === null && state.preamble.every((line) => line.trim() === "");
}

/** The authority level and tags of a heading; reports any attribute it cannot use. */
function readAttributes(state: State, heading: Block & { kind: "heading" }, where: string): { level: AuthorityLevel; tags: string[] } | null {
  const anchor = heading.anchor;
  if (!anchor) return null;
  let level: AuthorityLevel | null = null;
  const tags: string[] = [];
  for (const token of anchor.stray) {
    state.notMapped.push({ what: `heading attribute "${token}"`, where, reason: "not a key=value attribute; only authority= and tags= are understood" });
  }
  for (const [key, value] of anchor.attributes) {
    if (key === "authority") level = authorityLevel(state, value, where);
    else if (key === "tags") tags.push(...value.split(",").map((tag) => tag.trim()).filter(Boolean));
    else state.notMapped.push({ what: `heading attribute ${key}=${value}`, where, reason: "only authority= and tags= have an equivalent in the schema" });
  }
  if (level === null && tags.length > 0) {
    state.notMapped.push({ what: `tags=${tags.join(",")} on a heading without authority`, where, reason: "sections have no tags; the heading is imported as a section" });
  }
  return level === null ? null : { level, tags };
}

function authorityLevel(state: State, value: string, where: string): AuthorityLevel | null {
  if ((AUTHORITY_LEVELS as readonly string[]).includes(value)) return value as AuthorityLevel;
  const legacy = LEGACY_LEVELS[value];
  if (legacy) {
    state.notes.push(`authority=${value} at ${where} is the former name of "${legacy}"; imported as ${legacy}.`);
    return legacy;
  }
  state.notMapped.push({
    what: `authority=${value}`,
    where,
    reason: `not one of ${AUTHORITY_LEVELS.join(", ")}; the heading is imported as a section (or sub-heading) instead of a clause`,
  });
  return null;
}

function newClause(state: State, heading: Block & { kind: "heading" }, authority: AuthorityLevel, tags: string[]): ClauseDraft {
  const clause: ClauseDraft = {
    id: uniqueId(state, "clause", heading),
    title: heading.title,
    section: nearestSection(state)?.id ?? null,
    authority,
    tags,
    parts: [],
    examples: [],
    line: heading.line.no,
  };
  state.clauses.push(clause);
  return clause;
}

function newSection(state: State, heading: Block & { kind: "heading" }): SectionDraft {
  const section: SectionDraft = {
    id: uniqueId(state, "section", heading),
    title: heading.title === "" ? (heading.anchor?.id ?? `line ${heading.line.no}`) : heading.title,
    parent: nearestSection(state)?.id ?? null,
    parts: [],
  };
  state.sections.push(section);
  return section;
}

/** The heading's own {#id} when it is usable and free; otherwise a slug, said in the notes. */
function uniqueId(state: State, kind: "section" | "clause", heading: Block & { kind: "heading" }): string {
  const taken = state.ids[kind];
  const wanted = heading.anchor?.id;
  const usable = wanted !== undefined && clauseIdSchema.safeParse(wanted).success;
  const base = usable ? wanted : slug(wanted ?? heading.title) || `line-${heading.line.no}`;
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  if (id !== wanted) {
    const why = wanted === undefined ? "has no {#id}" : usable ? `repeats the ${kind} id "${wanted}"` : `has an unusable id "${wanted}"`;
    state.notes.push(`The heading on line ${heading.line.no} ("${excerpt(heading.title, 60)}") ${why}; its ${kind} id is "${id}".`);
  }
  return id;
}

function slug(text: string): string {
  return text
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9_.:-]+/g, "_")
    .replace(/^[^a-z0-9]+|_+$/g, "")
    .slice(0, 120);
}

function nearestSection(state: State): SectionDraft | undefined {
  return state.stack.findLast((frame) => frame.kind === "section")?.section;
}

function nearestClause(state: State): ClauseDraft | undefined {
  for (let i = state.stack.length - 1; i >= 0; i--) {
    const frame = state.stack[i]!;
    if (frame.kind !== "section") return frame.clause;
  }
  return undefined;
}

/** Where prose goes: the innermost clause, else the innermost section, else the preamble. */
function ownerParts(state: State): string[] {
  const top = state.stack.at(-1);
  if (!top) return state.preamble;
  return top.kind === "section" ? top.section.parts : top.clause.parts;
}

function ownerLabel(state: State): string {
  const top = state.stack.at(-1);
  if (!top) return "before the first heading";
  return top.kind === "section" ? `section #${top.section.id}` : `clause #${top.clause.id}`;
}

// ---------------------------------------------------------------------------
// Examples

interface ExampleSpan {
  title: string | undefined;
  fence: Block & { kind: "fence" };
  /** Every block the example covers, title line to closing fence. */
  blocks: Block[];
  end: number;
}

/** "**Example**: title", blank lines, then a ~~~xml conversation; or such a fence alone. */
function exampleAt(blocks: Block[], i: number): ExampleSpan | null {
  const block = blocks[i]!;
  if (isConversationFence(block)) return { title: undefined, fence: block, blocks: [block], end: i };
  if (block.kind !== "text") return null;
  const title = block.line.text.match(/^\*\*Example\*\*:?\s*(.*)$/);
  if (!title) return null;
  let j = i + 1;
  while (j < blocks.length && isBlank(blocks[j]!)) j++;
  const fence = blocks[j];
  if (!fence || !isConversationFence(fence)) return null;
  const text = title[1]!.trim();
  return { title: text === "" ? undefined : text, fence, blocks: blocks.slice(i, j + 1), end: j };
}

function isConversationFence(block: Block): block is Block & { kind: "fence" } {
  return block.kind === "fence" && block.info.toLowerCase() === "xml" && block.close !== null && isConversation(block.body);
}

function addExample(state: State, span: ExampleSpan): void {
  state.stats.blocks += 1;
  const line = firstLine(span.blocks[0]!);
  const where = `${ownerLabel(state)}, line ${line}`;
  const what = span.title === undefined ? "untitled example" : `example "${excerpt(span.title, 100)}"`;
  const top = state.stack.at(-1);
  const { items, problems } = parseXmlBlock(span.fence.body);
  if (!top || top.kind === "section") {
    const outside = top ? "it sits in a section, and only clauses hold examples" : "it comes before the first heading, outside any clause";
    const noComparison = items.some((item) => item.kind === "comparison") ? "" : "; it has no <comparison> either";
    const place = top ? "section text" : "summary";
    keepVerbatim(state, span, { what, where, reason: `${outside}${noComparison}; kept verbatim in the ${place}` });
    return;
  }
  const converted = toExamples(span.title, items);
  const allProblems = [...problems, ...converted.problems];
  if (allProblems.length > 0) {
    const list = allProblems.map((p) => `line ${p.line}: ${p.problem}`).join("; ");
    keepVerbatim(state, span, { what, where, reason: `could not be read as a conversation (${list}); kept verbatim in the clause text` });
    return;
  }
  if (converted.examples.length === 0) {
    keepVerbatim(state, span, { what, where, reason: "no <comparison>: an example needs at least one labelled response; kept verbatim in the clause text" });
    return;
  }
  if (converted.examples.length > 1) state.stats.split += 1;
  top.clause.examples.push(...converted.examples);
  for (const loss of converted.losses) state.notMapped.push({ what: loss.what, where: `${what} in ${ownerLabel(state)}, line ${loss.line}`, reason: loss.reason });
}

function keepVerbatim(state: State, span: ExampleSpan, entry: NotMapped): void {
  state.notMapped.push(entry);
  ownerParts(state).push(...span.blocks.map(asPart));
}

/** A fence stays one part, so that collapsing blank lines never reaches inside it. */
function asPart(block: Block): string {
  return blockLines(block).join("\n");
}

// ---------------------------------------------------------------------------
// Assembly

function buildContent(state: State, options: ModelSpecOptions): PolicyContentInput {
  const summary = joinParts(state.preamble);
  if (summary !== "") state.notes.push("The text before the first section heading became the summary.");
  const title = options.title ?? state.documentTitle ?? MODEL_SPEC_DEFAULT_TITLE;
  if (options.title !== undefined && state.documentTitle !== null) {
    state.notes.push(`The title given, "${options.title}", replaces the file's own, "${state.documentTitle}".`);
  } else if (options.title === undefined) {
    state.notes.push(state.documentTitle ? "Title taken from the file's first heading." : `The file has no title heading; title defaults to "${MODEL_SPEC_DEFAULT_TITLE}".`);
  }
  if (options.licence === undefined) state.notes.push(`Licence defaults to ${MODEL_SPEC_DEFAULT_LICENCE}, the Model Spec's own (CC0 1.0 Universal).`);
  const sections = state.sections.map((s) => ({ id: s.id, title: s.title, parent: s.parent, text: joinParts(s.parts) }));
  const clauses = state.clauses.map((c) => buildClause(state, c));
  noteExamples(state);
  noteFootnotes(state, [summary, ...sections.map((s) => s.text), ...clauses.map((c) => c.text)]);
  return { title, summary, licence: options.licence ?? MODEL_SPEC_DEFAULT_LICENCE, sections, clauses };
}

type ClauseInput = NonNullable<PolicyContentInput["clauses"]>[number];

function buildClause(state: State, clause: ClauseDraft): ClauseInput {
  let text = joinParts(clause.parts);
  if (text === "") {
    // The schema needs clause text; the heading is the only normative wording there is.
    text = clause.title;
    state.notes.push(`Clause #${clause.id} (line ${clause.line}) has no prose of its own; its title is used as its text.`);
  }
  return { id: clause.id, title: clause.title, section: clause.section, authority: clause.authority, text, tags: clause.tags, examples: clause.examples };
}

/** Lines back to Markdown, with the blank runs left where examples were taken out collapsed. */
function joinParts(parts: string[]): string {
  const out: string[] = [];
  for (const part of parts) {
    if (part.trim() === "" && (out.length === 0 || out.at(-1)!.trim() === "")) continue;
    out.push(part);
  }
  return out.join("\n").trim();
}

function noteExamples(state: State): void {
  const examples = state.clauses.reduce((n, c) => n + c.examples.length, 0);
  state.notes.push(`Example blocks found: ${state.stats.blocks}; examples imported, one per <comparison>: ${examples}.`);
  if (state.stats.split > 0) {
    state.notes.push(
      `Example blocks holding several comparisons (multi-turn conversations): ${state.stats.split}. Each was split; ` +
        "the prompt of each later comparison continues the conversation with the first GOOD response of the one before, " +
        'and the title says "(comparison k of n)".',
    );
  }
}

/**
 * Footnote references stay in the text as written. The Model Spec has no
 * definitions for them: upstream they link to files in examples/ (such as
 * examples/0q9d.md), which hold prompts only.
 */
function noteFootnotes(state: State, texts: string[]): void {
  const references = new Set<string>();
  const definitions = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/^\[\^([^\]\s]+)\]:/gm)) definitions.add(m[1]!);
    for (const m of text.matchAll(/\[\^([^\]\s]+)\](?!:)/g)) references.add(m[1]!);
  }
  if (references.size === 0 && definitions.size === 0) return;
  const missing = [...references].filter((id) => !definitions.has(id));
  state.notes.push(`${references.size} footnote references and ${definitions.size} footnote definitions kept in the text as written.`);
  if (missing.length > 0) {
    state.notes.push(
      `${missing.length} footnote references have no definition in this file (upstream the Model Spec links them to examples/<id>.md): ${missing.map((id) => `[^${id}]`).join(", ")}.`,
    );
  }
}
