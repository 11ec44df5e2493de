/**
 * Differences between two versions of a policy's normative content, for
 * changelogs, review screens and the terminal. Clauses and sections are
 * matched by id (ids are stable across versions), so an edited clause is an
 * edit, not a removal plus an addition.
 *
 * "Moved" means the relative order changed: of the items present in both
 * versions, the longest run kept in the same relative order stays put and
 * every other item moved. Inserting or deleting an item shifts indexes but
 * moves nothing.
 */
import { diffWordsWithSpace } from "diff";
import type { AuthorityLevel, Clause, ContextOfUse, Example, Note, PolicyContent, Section } from "./content.ts";
import { canonicalJson } from "./hash.ts";

export type WordDiffKind = "same" | "added" | "removed";
export interface WordDiffPart {
  kind: WordDiffKind;
  value: string;
}

export interface FieldChange<T> {
  before: T;
  after: T;
}

export const CLAUSE_FIELDS = ["title", "section", "authority", "text", "rationale", "context", "examples", "tags", "notes", "commentary", "principle"] as const;
export type ClauseField = (typeof CLAUSE_FIELDS)[number];
export const SECTION_FIELDS = ["title", "parent", "text", "notes", "commentary"] as const;
export type SectionField = (typeof SECTION_FIELDS)[number];
export const METADATA_FIELDS = ["title", "summary", "licence", "contexts"] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export interface MetadataChanges {
  title?: FieldChange<string>;
  summary?: FieldChange<string>;
  licence?: FieldChange<string>;
  contexts?: FieldChange<ContextOfUse[]>;
}

export interface PlacedItem {
  id: string;
  /** Position in `to` for added items, in `from` for removed ones. */
  index: number;
}
export type PlacedClause = PlacedItem & { clause: Clause };
export type PlacedSection = PlacedItem & { section: Section };

export interface Move {
  id: string;
  fromIndex: number;
  toIndex: number;
}

export interface ClauseEdit extends Move {
  /** The fields that differ, in CLAUSE_FIELDS order. */
  changes: ClauseField[];
  /** Word diff of the normative text, when it changed. */
  text?: WordDiffPart[];
  /** Word diff of the rationale, when it changed. */
  rationale?: WordDiffPart[];
  /** Word diff of the (non-normative) commentary, when it changed. */
  commentary?: WordDiffPart[];
  /** Before and after of the other changed fields. */
  fields: {
    title?: FieldChange<string>;
    section?: FieldChange<string | null>;
    authority?: FieldChange<AuthorityLevel>;
    context?: FieldChange<ContextOfUse>;
    examples?: FieldChange<Example[]>;
    tags?: FieldChange<string[]>;
    /** Optional fields: a side without them has no `before` (or `after`), as in JSON. */
    notes?: Partial<FieldChange<Note[]>>;
    principle?: Partial<FieldChange<string>>;
  };
}

export interface SectionChange extends Move {
  changes: SectionField[];
  before: Section;
  after: Section;
}

export interface PolicyDiff {
  metadata: MetadataChanges;
  sections: { added: PlacedSection[]; removed: PlacedSection[]; moved: Move[]; changed: SectionChange[] };
  clauses: {
    added: PlacedClause[];
    removed: PlacedClause[];
    moved: Move[];
    /** A clause both moved and edited is listed in both. */
    edited: ClauseEdit[];
    /** Clauses in both versions, neither edited nor moved. */
    unchanged: number;
  };
  /** Clause counts. */
  summary: { added: number; removed: number; moved: number; edited: number };
}

/**
 * Word diffs give up beyond this many edited tokens (words, punctuation and
 * whitespace runs; about 500 words) and report "all removed, all added": a
 * rewrite is shown as a rewrite, and a pair of long, unrelated texts costs
 * tens of milliseconds instead of seconds. A token count rather than a
 * timeout keeps the output the same on every machine.
 */
const MAX_WORD_EDITS = 1000;

export function diffContents(from: PolicyContent, to: PolicyContent): PolicyDiff {
  const clauses = diffClauses(from.clauses, to.clauses);
  return {
    metadata: diffMetadata(from, to),
    sections: diffSections(from.sections, to.sections),
    clauses,
    summary: {
      added: clauses.added.length,
      removed: clauses.removed.length,
      moved: clauses.moved.length,
      edited: clauses.edited.length,
    },
  };
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && a !== null && b !== null && canonicalJson(a) === canonicalJson(b));
}

function diffMetadata(from: PolicyContent, to: PolicyContent): MetadataChanges {
  const changes: MetadataChanges = {};
  if (from.title !== to.title) changes.title = { before: from.title, after: to.title };
  if (from.summary !== to.summary) changes.summary = { before: from.summary, after: to.summary };
  if (from.licence !== to.licence) changes.licence = { before: from.licence, after: to.licence };
  if (!same(from.contexts, to.contexts)) changes.contexts = { before: from.contexts, after: to.contexts };
  return changes;
}

interface Matching<T> {
  fromIndex: Map<string, number>;
  toIndex: Map<string, number>;
  added: (PlacedItem & { value: T })[];
  removed: (PlacedItem & { value: T })[];
  moved: Move[];
  /** Ids present in both, in `to` order. */
  common: string[];
}

/** Matches items by id and finds additions, removals and moves. */
function matchById<T extends { id: string }>(from: T[], to: T[]): Matching<T> {
  const fromIndex = new Map(from.map((item, i) => [item.id, i]));
  const toIndex = new Map(to.map((item, i) => [item.id, i]));
  const added = to.flatMap((value, index) => (fromIndex.has(value.id) ? [] : [{ id: value.id, index, value }]));
  const removed = from.flatMap((value, index) => (toIndex.has(value.id) ? [] : [{ id: value.id, index, value }]));
  const commonInFromOrder = from.filter((item) => toIndex.has(item.id)).map((item) => item.id);
  const positions = commonInFromOrder.map((id) => toIndex.get(id)!);
  const kept = longestIncreasingSubsequence(positions);
  const moved = commonInFromOrder
    .filter((_, i) => !kept.has(i))
    .map((id) => ({ id, fromIndex: fromIndex.get(id)!, toIndex: toIndex.get(id)! }))
    .sort((a, b) => a.toIndex - b.toIndex);
  const common = to.filter((item) => fromIndex.has(item.id)).map((item) => item.id);
  return { fromIndex, toIndex, added, removed, moved, common };
}

/**
 * Indexes (into `values`) of one longest strictly increasing subsequence, in
 * O(n log n). With unique ids, the LCS of two orders is the LIS of one order's
 * positions in the other.
 */
export function longestIncreasingSubsequence(values: number[]): Set<number> {
  const tails: number[] = []; // tails[k]: index of the smallest tail of an increasing run of length k+1
  const previous = new Array<number>(values.length).fill(-1);
  values.forEach((value, i) => {
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (values[tails[mid]!]! < value) low = mid + 1;
      else high = mid;
    }
    if (low > 0) previous[i] = tails[low - 1]!;
    tails[low] = i;
  });
  const kept = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i !== -1; i = previous[i]!) kept.add(i);
  return kept;
}

function diffSections(from: Section[], to: Section[]): PolicyDiff["sections"] {
  const matching = matchById(from, to);
  const changed: SectionChange[] = [];
  for (const id of matching.common) {
    const fromIndex = matching.fromIndex.get(id)!;
    const toIndex = matching.toIndex.get(id)!;
    const before = from[fromIndex]!;
    const after = to[toIndex]!;
    const changes = SECTION_FIELDS.filter((field) => before[field] !== after[field]);
    if (changes.length) changed.push({ id, fromIndex, toIndex, changes, before, after });
  }
  return {
    added: matching.added.map(({ id, index, value }) => ({ id, index, section: value })),
    removed: matching.removed.map(({ id, index, value }) => ({ id, index, section: value })),
    moved: matching.moved,
    changed,
  };
}

function diffClauses(from: Clause[], to: Clause[]): PolicyDiff["clauses"] {
  const matching = matchById(from, to);
  const movedIds = new Set(matching.moved.map((move) => move.id));
  const edited: ClauseEdit[] = [];
  let unchanged = 0;
  for (const id of matching.common) {
    const fromIndex = matching.fromIndex.get(id)!;
    const toIndex = matching.toIndex.get(id)!;
    const edit = diffClause(from[fromIndex]!, to[toIndex]!, { id, fromIndex, toIndex });
    if (edit) edited.push(edit);
    else if (!movedIds.has(id)) unchanged += 1;
  }
  return {
    added: matching.added.map(({ id, index, value }) => ({ id, index, clause: value })),
    removed: matching.removed.map(({ id, index, value }) => ({ id, index, clause: value })),
    moved: matching.moved,
    edited,
    unchanged,
  };
}

/** The edit between two versions of one clause, or undefined when they are equal. */
export function diffClause(before: Clause, after: Clause, move: Move): ClauseEdit | undefined {
  const changes = CLAUSE_FIELDS.filter((field) => !same(before[field], after[field]));
  if (changes.length === 0) return undefined;
  const edit: ClauseEdit = { ...move, changes, fields: {} };
  for (const field of changes) {
    if (field === "text" || field === "rationale" || field === "commentary") edit[field] = diffWords(before[field] ?? "", after[field] ?? "");
    else setFieldChange(edit.fields, field, before, after);
  }
  return edit;
}

function setFieldChange<F extends keyof ClauseEdit["fields"]>(fields: ClauseEdit["fields"], field: F, before: Clause, after: Clause): void {
  fields[field] = { before: before[field], after: after[field] } as ClauseEdit["fields"][F];
}

/**
 * Word-level diff that keeps every character: joining the "same" and
 * "removed" parts gives `before`, joining "same" and "added" gives `after`.
 */
export function diffWords(before: string, after: string): WordDiffPart[] {
  if (before === after) return before ? [{ kind: "same", value: before }] : [];
  const changes = diffWordsWithSpace(before, after, { maxEditLength: MAX_WORD_EDITS });
  if (!changes) return replaced(before, after);
  return changes
    .filter((change) => change.value !== "")
    .map((change) => ({ kind: change.added ? "added" : change.removed ? "removed" : "same", value: change.value }));
}

function replaced(before: string, after: string): WordDiffPart[] {
  const parts: WordDiffPart[] = [];
  if (before) parts.push({ kind: "removed", value: before });
  if (after) parts.push({ kind: "added", value: after });
  return parts;
}

/** Whether the two contents differ at all (the same test as comparing content hashes). */
export function isEmptyDiff(diff: PolicyDiff): boolean {
  const { sections, clauses } = diff;
  return (
    Object.keys(diff.metadata).length === 0 &&
    sections.added.length + sections.removed.length + sections.moved.length + sections.changed.length === 0 &&
    clauses.added.length + clauses.removed.length + clauses.moved.length + clauses.edited.length === 0
  );
}

/**
 * A one-line account of the changes, used as the default changelog:
 * "2 clauses added, 1 removed, 3 edited, 1 moved; 1 section added; Title and
 * summary changed". Clauses come first because they are what a reader cares about.
 */
export function summariseDiff(diff: PolicyDiff): string {
  const { sections, clauses } = diff;
  const parts = [
    counted("clause", [
      [clauses.added.length, "added"],
      [clauses.removed.length, "removed"],
      [clauses.edited.length, "edited"],
      [clauses.moved.length, "moved"],
    ]),
    counted("section", [
      [sections.added.length, "added"],
      [sections.removed.length, "removed"],
      [sections.changed.length, "changed"],
      [sections.moved.length, "moved"],
    ]),
    metadataSentence(diff.metadata),
  ].filter((part) => part !== "");
  if (parts.length === 0) return "No changes";
  const text = parts.join("; ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "2 clauses added, 1 removed": the noun goes with the first count only. */
function counted(noun: string, counts: [number, string][]): string {
  const present = counts.filter(([count]) => count > 0);
  return present
    .map(([count, verb], i) => (i === 0 ? `${count} ${noun}${count === 1 ? "" : "s"} ${verb}` : `${count} ${verb}`))
    .join(", ");
}

const METADATA_LABELS: Record<MetadataField, string> = {
  title: "title",
  summary: "summary",
  licence: "licence",
  contexts: "contexts of use",
};

function metadataSentence(metadata: MetadataChanges): string {
  const labels = METADATA_FIELDS.filter((field) => metadata[field] !== undefined).map((field) => METADATA_LABELS[field]);
  if (labels.length === 0) return "";
  const list = labels.length === 1 ? labels[0]! : `${labels.slice(0, -1).join(", ")} and ${labels[labels.length - 1]}`;
  return `${list} changed`;
}

/** Unchanged text longer than this is shortened around the changes in diffToText. */
const CONTEXT_CHARS = 40;

/**
 * A plain-text rendering for terminals and logs: one line per change, word
 * changes marked like wdiff, [-removed-]{+added+}, with long unchanged
 * stretches shortened to "…".
 */
export function diffToText(diff: PolicyDiff): string {
  const lines = [
    ...metadataLines(diff.metadata),
    ...sectionLines(diff.sections),
    ...clauseLines(diff.clauses),
  ];
  lines.push(summariseDiff(diff));
  return lines.join("\n");
}

function metadataLines(metadata: MetadataChanges): string[] {
  const lines: string[] = [];
  for (const field of METADATA_FIELDS) {
    const change = metadata[field];
    if (!change) continue;
    const value =
      typeof change.before === "string" && typeof change.after === "string"
        ? markWords(diffWords(change.before, change.after))
        : `${canonicalJson(change.before)} -> ${canonicalJson(change.after)}`;
    lines.push(`~ ${field}: ${value}`);
  }
  return lines;
}

function sectionLines(sections: PolicyDiff["sections"]): string[] {
  return [
    ...sections.added.map(({ id, index, section }) => `+ section ${id} at ${index + 1}: ${section.title}`),
    ...sections.removed.map(({ id, index, section }) => `- section ${id} (was ${index + 1}): ${section.title}`),
    ...sections.moved.map(({ id, fromIndex, toIndex }) => `> section ${id} moved ${fromIndex + 1} -> ${toIndex + 1}`),
    ...sections.changed.flatMap((change) => [
      `~ section ${change.id}: ${change.changes.join(", ")} changed`,
      ...change.changes.map((field) => `    ${field}: ${describeSectionField(change, field)}`),
    ]),
  ];
}

function describeSectionField(change: SectionChange, field: SectionField): string {
  const before = change.before[field];
  const after = change.after[field];
  if (field === "parent") return `${before ?? "(top)"} -> ${after ?? "(top)"}`;
  if (typeof before === "object" || typeof after === "object") return `${showValue(before)} -> ${showValue(after)}`;
  return markWords(diffWords(before ?? "", after ?? ""));
}

function clauseLines(clauses: PolicyDiff["clauses"]): string[] {
  return [
    ...clauses.added.map(({ id, index, clause }) => `+ clause ${id} at ${index + 1}${titled(clause.title)}`),
    ...clauses.removed.map(({ id, index, clause }) => `- clause ${id} (was ${index + 1})${titled(clause.title)}`),
    ...clauses.moved.map(({ id, fromIndex, toIndex }) => `> clause ${id} moved ${fromIndex + 1} -> ${toIndex + 1}`),
    ...clauses.edited.flatMap(editLines),
  ];
}

function titled(title: string): string {
  return title ? `: ${title}` : "";
}

function editLines(edit: ClauseEdit): string[] {
  const lines = [`~ clause ${edit.id}: ${edit.changes.join(", ")} changed`];
  for (const field of edit.changes) {
    if (field === "text" || field === "rationale" || field === "commentary") {
      lines.push(`    ${field}${field === "commentary" ? " (not normative)" : ""}: ${markWords(edit[field] ?? [])}`);
      continue;
    }
    const change = edit.fields[field];
    if (change) lines.push(`    ${field}: ${showValue(change.before)} -> ${showValue(change.after)}`);
  }
  return lines;
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return "(none)";
  return typeof value === "string" ? JSON.stringify(value) : canonicalJson(value);
}

/** wdiff-style marks, with unchanged stretches shortened and newlines shown as "⏎". */
export function markWords(parts: WordDiffPart[]): string {
  return parts
    .map((part, i) => {
      const value = part.value.replace(/\r?\n/g, "⏎");
      if (part.kind === "added") return `{+${value}+}`;
      if (part.kind === "removed") return `[-${value}-]`;
      return shorten(value, i === 0, i === parts.length - 1);
    })
    .join("");
}

function shorten(value: string, first: boolean, last: boolean): string {
  if (first && last) return value.length > 2 * CONTEXT_CHARS ? `${value.slice(0, 2 * CONTEXT_CHARS)}…` : value;
  if (first) return value.length > CONTEXT_CHARS ? `…${value.slice(-CONTEXT_CHARS)}` : value;
  if (last) return value.length > CONTEXT_CHARS ? `${value.slice(0, CONTEXT_CHARS)}…` : value;
  return value.length > 2 * CONTEXT_CHARS + 3 ? `${value.slice(0, CONTEXT_CHARS)}…${value.slice(-CONTEXT_CHARS)}` : value;
}
