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
 * - Footnote references `[^id]` leave the text and become the clause's (or
 *   section's) `notes`, with the definition `[^id]: text` when the file has
 *   one; the Model Spec has none (upstream they point to examples/<id>.md),
 *   so such a note says where the reference pointed.
 * - Cross-references `[?](#id)` become `[<title of id>](#id)`, so every
 *   reader (web, system prompt, diff) sees the title; unknown ids are reported.
 * - Admonitions (`!!! meta "Commentary"` and indented body) become the
 *   clause's or section's `commentary`: shown to readers, kept out of system
 *   prompts, principles and training data. Before the first section they
 *   stay in the summary as a block quote.
 * - Horizontal rules (`---` after a blank line) are dropped; HTML entities
 *   are decoded in prose (outside code) and in examples.
 * The report's notes count each of these.
 */
import { clauseIdSchema, AUTHORITY_LEVELS, type AuthorityLevel, type Example, type PolicyContentInput } from "../content.ts";
import { blockLines, firstLine, isBlank, toLines, tokenize, type Block } from "./markdown.ts";
import { isConversation, parseXmlBlock, toExamples } from "./modelspec-examples.ts";
import { excerpt, finishImport, type ImportResult, type NotMapped } from "./report.ts";
import { ADMONITION, FOOTNOTE_DEF, decodeAll, decodeEntities, isRule, resolveCrossRefs, takeFootnoteRefs } from "./markdown-prose.ts";

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

/** Footnote labels and commentary paragraphs gathered for a clause or section. */
interface Extras {
  noteRefs: string[];
  commentary: string[];
}

interface SectionDraft extends Extras {
  id: string;
  title: string;
  parent: string | null;
  parts: string[];
}

interface ClauseDraft extends Extras {
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
  stats: { blocks: number; split: number; footnoteRefs: number; xrefs: number; admonitions: number; rules: number; entityLines: number; entityTexts: number };
  /** Every heading's {#id} and title, known before the first cross-reference is read. */
  titles: Map<string, string>;
  footnoteDefs: Map<string, string>;
  unknownRefs: Set<string>;
  preambleRefs: string[];
}

export function importModelSpec(markdown: string, options: ModelSpecOptions = {}): ImportResult {
  const state = newState();
  const blocks = tokenize(toLines(markdown));
  for (const block of blocks) if (block.kind === "heading" && block.anchor) state.titles.set(block.anchor.id, decodeEntities(block.title));
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
    if (block.kind === "text") {
      const skipTo = structuralLine(state, blocks, i);
      if (skipTo !== null) i = skipTo;
      else ownerParts(state).push(prose(state, block.line.text));
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
    stats: { blocks: 0, split: 0, footnoteRefs: 0, xrefs: 0, admonitions: 0, rules: 0, entityLines: 0, entityTexts: 0 },
    titles: new Map(),
    footnoteDefs: new Map(),
    unknownRefs: new Set(),
    preambleRefs: [],
  };
}

// ---------------------------------------------------------------------------
// Prose: footnotes, cross-references, admonitions, rules, entities

/** One line of prose with entities decoded, footnote references taken out and cross-references titled. */
function prose(state: State, line: string): string {
  const decoded = decodeEntities(line);
  if (decoded !== line) state.stats.entityLines += 1;
  const { text, refs } = takeFootnoteRefs(decoded);
  state.stats.footnoteRefs += refs.length;
  (ownerExtras(state)?.noteRefs ?? state.preambleRefs).push(...refs);
  const resolved = resolveCrossRefs(text, state.titles, (id) => state.unknownRefs.add(id));
  state.stats.xrefs += resolved.count;
  return resolved.text;
}

/**
 * Handles a line that is structure rather than prose (an admonition, a
 * footnote definition, a horizontal rule); returns the index of its last
 * block, or null for ordinary prose.
 */
function structuralLine(state: State, blocks: Block[], i: number): number | null {
  const block = blocks[i] as Block & { kind: "text" };
  const admonition = block.line.text.match(ADMONITION);
  if (admonition) return takeAdmonition(state, blocks, i, admonition[1]!, admonition[2]);
  const definition = block.line.text.match(FOOTNOTE_DEF);
  if (definition) return takeDefinition(state, blocks, i, definition[1]!, definition[2]!);
  // After text, "---" underlines a setext heading: that is not a rule.
  const previous = blocks[i - 1];
  if (isRule(block.line.text) && (!previous || isBlank(previous) || previous.kind !== "text")) {
    state.stats.rules += 1;
    return i;
  }
  return null;
}

/** Indented lines (and blank lines between them) after block i: an admonition body or a definition's continuation. */
function indentedBody(blocks: Block[], i: number): { lines: string[]; end: number } {
  const lines: string[] = [];
  let end = i;
  for (let j = i + 1; j < blocks.length; j++) {
    const block = blocks[j]!;
    if (block.kind !== "text") break;
    const text = block.line.text;
    if (text.trim() === "") {
      lines.push("");
      continue;
    }
    if (!/^(?: {4}|\t)/.test(text)) break;
    lines.push(text.replace(/^(?: {4}|\t)/, ""));
    end = j;
  }
  return { lines: lines.slice(0, end - i), end };
}

function takeAdmonition(state: State, blocks: Block[], i: number, kind: string, title: string | undefined): number {
  state.stats.admonitions += 1;
  const { lines, end } = indentedBody(blocks, i);
  const body = lines.map((line) => prose(state, line)).join("\n").trim();
  const label = title ?? kind.charAt(0).toUpperCase() + kind.slice(1);
  const extras = ownerExtras(state);
  if (extras) {
    extras.commentary.push(label.toLowerCase() === "commentary" ? body : `**${label}:** ${body}`);
  } else {
    // Before the first heading: the summary is prose for readers, so the box stays there as a quote.
    state.preamble.push("", ...`**${label}:** ${body}`.split("\n").map((line) => (line === "" ? ">" : `> ${line}`)), "");
  }
  return end;
}

function takeDefinition(state: State, blocks: Block[], i: number, id: string, first: string): number {
  const { lines, end } = indentedBody(blocks, i);
  const text = [first, ...lines].map((line) => decodeEntities(line)).join("\n").trim();
  state.footnoteDefs.set(id, text);
  return end;
}

function ownerExtras(state: State): Extras | undefined {
  const top = state.stack.at(-1);
  if (!top) return undefined;
  return top.kind === "section" ? top.section : top.clause;
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
    title: decodeEntities(heading.title),
    section: nearestSection(state)?.id ?? null,
    authority,
    tags,
    parts: [],
    examples: [],
    line: heading.line.no,
    noteRefs: [],
    commentary: [],
  };
  state.clauses.push(clause);
  return clause;
}

function newSection(state: State, heading: Block & { kind: "heading" }): SectionDraft {
  const section: SectionDraft = {
    id: uniqueId(state, "section", heading),
    title: heading.title === "" ? (heading.anchor?.id ?? `line ${heading.line.no}`) : decodeEntities(heading.title),
    parent: nearestSection(state)?.id ?? null,
    parts: [],
    noteRefs: [],
    commentary: [],
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
  top.clause.examples.push(...converted.examples.map((example) => cleanExample(state, top.clause, example)));
  for (const loss of converted.losses) state.notMapped.push({ what: loss.what, where: `${what} in ${ownerLabel(state)}, line ${loss.line}`, reason: loss.reason });
}

/** Entities decoded in every text of an example; footnote references in its title or explanation go to the clause's notes. */
function cleanExample(state: State, clause: ClauseDraft, example: Example): Example {
  const decode = (text: string): string => {
    const decoded = decodeAll(text);
    if (decoded !== text) state.stats.entityTexts += 1;
    return decoded;
  };
  const fromProse = (text: string): string => {
    const { text: cleaned, refs } = takeFootnoteRefs(decode(text));
    state.stats.footnoteRefs += refs.length;
    clause.noteRefs.push(...refs);
    const resolved = resolveCrossRefs(cleaned, state.titles, (id) => state.unknownRefs.add(id));
    state.stats.xrefs += resolved.count;
    return resolved.text.trim();
  };
  return {
    ...(example.title === undefined ? {} : { title: fromProse(example.title) }),
    prompt: example.prompt.map((m) => ({ role: m.role, content: decode(m.content) })),
    responses: example.responses.map((r) => ({
      content: decode(r.content),
      label: r.label,
      ...(r.note === undefined ? {} : { note: fromProse(r.note) }),
    })),
    ...(example.why === undefined ? {} : { why: fromProse(example.why) }),
  };
}

function keepVerbatim(state: State, span: ExampleSpan, entry: NotMapped): void {
  state.notMapped.push(entry);
  ownerParts(state).push(...span.blocks.map((block) => (block.kind === "text" ? prose(state, block.line.text) : asPart(block))));
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
  const sections = state.sections.map((s) => ({ id: s.id, title: s.title, parent: s.parent, text: joinParts(s.parts), ...extrasOf(state, s) }));
  const clauses = state.clauses.map((c) => buildClause(state, c));
  noteExamples(state);
  noteProse(state);
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
  return { id: clause.id, title: clause.title, section: clause.section, authority: clause.authority, text, tags: clause.tags, examples: clause.examples, ...extrasOf(state, clause) };
}

/** `notes` and `commentary`, present only when there are some (absent fields keep older content's hash). */
function extrasOf(state: State, draft: Extras): { notes?: { id: string; text: string }[]; commentary?: string } {
  const out: { notes?: { id: string; text: string }[]; commentary?: string } = {};
  const ids = [...new Set(draft.noteRefs)];
  if (ids.length > 0) out.notes = ids.map((id) => ({ id, text: state.footnoteDefs.get(id) ?? undefinedNote(id) }));
  const commentary = draft.commentary.join("\n\n").trim();
  if (commentary !== "") out.commentary = commentary;
  return out;
}

function undefinedNote(id: string): string {
  return `Reference "${id}" of the source, which does not define it in this file (the Model Spec links such references to examples/${id}.md in its repository).`;
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

/** What became of footnotes, cross-references, admonitions, rules and entities. */
function noteProse(state: State): void {
  const { footnoteRefs, xrefs, admonitions, rules, entityLines, entityTexts } = state.stats;
  const defined = [...state.footnoteDefs.keys()];
  if (footnoteRefs > 0 || defined.length > 0) {
    state.notes.push(
      `Footnote references moved out of the text into their clause's or section's notes: ${footnoteRefs}; ` +
        `footnote definitions found: ${defined.length} (references without one get a note saying where they pointed).`,
    );
  }
  if (state.preambleRefs.length > 0) {
    state.notMapped.push({ what: `footnote references ${state.preambleRefs.map((id) => `[^${id}]`).join(", ")}`, where: "before the first heading", reason: "the summary has no notes; the references were removed from it" });
  }
  if (xrefs > 0) state.notes.push(`Cross-references [?](#id) given the title of the clause or section they point to: ${xrefs}.`);
  for (const id of state.unknownRefs) {
    state.notMapped.push({ what: `cross-reference [?](#${id})`, where: "prose", reason: `no heading has the id "${id}"; the link shows the id instead of a title` });
  }
  if (admonitions > 0) state.notes.push(`Admonitions (such as !!! meta "Commentary") moved into the non-normative commentary of their clause or section: ${admonitions}.`);
  if (rules > 0) state.notes.push(`Horizontal rules dropped: ${rules}.`);
  if (entityLines + entityTexts > 0) state.notes.push(`HTML entities decoded in ${entityLines} lines of prose and ${entityTexts} messages or notes of examples.`);
}
