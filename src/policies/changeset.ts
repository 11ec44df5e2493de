/**
 * Change sets: clause amendments one policy offers another (a fork offering
 * its changes upstream, like a ForgeFed merge request), to be applied to
 * content that may have moved on since.
 *
 * A change set records, besides each new version, the version it replaces
 * (`before`), so applying it elsewhere can tell "still as the author saw it"
 * from "changed meanwhile" without a three-way merge: a clause that changed
 * meanwhile is a conflict and is left alone; everything else applies.
 *
 * Change sets carry clauses only. Metadata and edits to existing sections
 * are not offered; new sections the carried clauses sit in travel along
 * (`sections`), so a clause in a section the author created can be applied.
 * Applying `changeSetFromContents(base, changed)` to `base` therefore gives
 * `changed` exactly when the two differ only in clauses (and new sections
 * that come last).
 */
import { z } from "../zod.ts";
import { clauseIdSchema, clauseSchema, sectionSchema, type Clause, type PolicyContent, type Section } from "./content.ts";
import { CLAUSE_FIELDS } from "./diff.ts";
import { canonicalJson, contentHash } from "./hash.ts";

const OPS = ["add", "edit", "remove", "reorder"] as const;

const contentHashSchema = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" followed by 64 lowercase hexadecimal digits');

const addSchema = z
  .object({
    op: z.literal("add"),
    clause: clauseSchema,
    /** The clause it follows; null puts it first. */
    after: clauseIdSchema.nullable(),
  })
  .strict();

const editSchema = z
  .object({
    op: z.literal("edit"),
    id: clauseIdSchema,
    /** The clause as the change set's base has it. */
    before: clauseSchema,
    after: clauseSchema,
  })
  .strict();

const removeSchema = z
  .object({
    op: z.literal("remove"),
    id: clauseIdSchema,
    /** The clause as the change set's base has it. */
    before: clauseSchema,
  })
  .strict();

const reorderSchema = z
  .object({
    op: z.literal("reorder"),
    /** Clause ids in their new relative order. */
    order: z.array(clauseIdSchema).min(1, "must list at least one clause"),
  })
  .strict();

export const operationSchema = z.discriminatedUnion("op", [addSchema, editSchema, removeSchema, reorderSchema], {
  error: (issue) =>
    issue.code === "invalid_union" ? `unknown operation ${JSON.stringify((issue.input as { op?: unknown } | undefined)?.op)}; use one of ${OPS.join(", ")}` : undefined,
});

export const changeSetSchema = z
  .object({
    base: z.object({ contentHash: contentHashSchema }).strict(),
    operations: z.array(operationSchema),
    /** New sections (absent from the base) that added or edited clauses sit in, as the author has them. */
    sections: z.array(sectionSchema).optional(),
  })
  .strict()
  .superRefine((changeSet, ctx) => {
    for (const problem of changeSetProblems(changeSet)) ctx.addIssue({ code: "custom", ...problem });
  })
  .openapi("ChangeSet");

export type ChangeSet = z.output<typeof changeSetSchema>;
export type Operation = z.output<typeof operationSchema>;

/** Rules across fields: ids agree, one operation per clause, an edit changes something. */
function changeSetProblems(changeSet: ChangeSet): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const seen = new Map<string, number>();
  let reorders = 0;
  changeSet.operations.forEach((operation, i) => {
    const at = (...path: (string | number)[]) => ["operations", i, ...path];
    if (operation.op === "reorder") {
      reorders += 1;
      if (reorders > 1) problems.push({ path: at(), message: "a change set has at most one reorder" });
      const duplicate = operation.order.find((id, j) => operation.order.indexOf(id) !== j);
      if (duplicate) problems.push({ path: at("order"), message: `lists "${duplicate}" twice` });
      return;
    }
    const id = operation.op === "add" ? operation.clause.id : operation.id;
    if (seen.has(id)) problems.push({ path: at(), message: `clause "${id}" already has an operation (number ${seen.get(id)! + 1})` });
    seen.set(id, i);
    if (operation.op === "add" && operation.after === id) problems.push({ path: at("after"), message: "a clause cannot follow itself" });
    if (operation.op !== "add" && operation.before.id !== id) problems.push({ path: at("before", "id"), message: `must be "${id}"` });
    if (operation.op === "edit" && operation.after.id !== id) problems.push({ path: at("after", "id"), message: `must be "${id}"` });
    if (operation.op === "edit" && sameClause(operation.before, operation.after)) problems.push({ path: at(), message: "the edit changes nothing" });
  });
  const sectionIds = (changeSet.sections ?? []).map((section) => section.id);
  const duplicate = sectionIds.find((id, j) => sectionIds.indexOf(id) !== j);
  if (duplicate) problems.push({ path: ["sections"], message: `lists section "${duplicate}" twice` });
  return problems;
}

function sameClause(a: Clause, b: Clause): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function byId<T extends { id: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

// ---------------------------------------------------------------- building

/**
 * What changed from `base` to `changed`, as a change set on `base`. With
 * `onlyClauseIds`, only those clauses' changes (to offer a single clause);
 * such a change set never reorders, because a reorder concerns the whole
 * document, but an added clause still carries its place (`after`). Throws
 * when a named id is in neither version.
 */
export function changeSetFromContents(base: PolicyContent, changed: PolicyContent, options: { onlyClauseIds?: string[] } = {}): ChangeSet {
  const before = byId(base.clauses);
  const after = byId(changed.clauses);
  const only = options.onlyClauseIds ? new Set(options.onlyClauseIds) : undefined;
  const unknown = [...(only ?? [])].filter((id) => !before.has(id) && !after.has(id));
  if (unknown.length) throw new Error(`No clause ${unknown.map((id) => `"${id}"`).join(", ")} in either version.`);
  const wanted = (id: string) => !only || only.has(id);
  const operations: Operation[] = base.clauses
    .filter((clause) => !after.has(clause.id) && wanted(clause.id))
    .map((clause) => ({ op: "remove", id: clause.id, before: clause }));
  changed.clauses.forEach((clause, i) => {
    if (!wanted(clause.id)) return;
    const old = before.get(clause.id);
    if (!old) operations.push({ op: "add", clause, after: anchorOf(changed.clauses, i, (id) => before.has(id) || wanted(id)) });
    else if (!sameClause(old, clause)) operations.push({ op: "edit", id: clause.id, before: old, after: clause });
  });
  if (!only && orderChanged(base.clauses, changed.clauses)) operations.push({ op: "reorder", order: changed.clauses.map((c) => c.id) });
  const changeSet: ChangeSet = { base: { contentHash: contentHash(base) }, operations };
  const sections = newSections(base, changed, operations);
  if (sections.length) changeSet.sections = sections;
  return changeSet;
}

/** The nearest clause before `index` that will exist where the change set is applied. */
function anchorOf(clauses: Clause[], index: number, exists: (id: string) => boolean): string | null {
  for (let i = index - 1; i >= 0; i--) if (exists(clauses[i]!.id)) return clauses[i]!.id;
  return null;
}

/** Whether the clauses in both versions come in a different relative order. */
function orderChanged(base: Clause[], changed: Clause[]): boolean {
  const inChanged = new Set(changed.map((c) => c.id));
  const inBase = new Set(base.map((c) => c.id));
  const a = base.filter((c) => inChanged.has(c.id));
  const b = changed.filter((c) => inBase.has(c.id));
  return a.some((clause, i) => clause.id !== b[i]!.id);
}

/** Sections the operations' clauses sit in (with their ancestors) that the base lacks, in `changed` order. */
function newSections(base: PolicyContent, changed: PolicyContent, operations: Operation[]): Section[] {
  const inBase = new Set(base.sections.map((s) => s.id));
  const available = byId(changed.sections);
  const needed = new Set<string>();
  for (const operation of operations) {
    const clause = operation.op === "add" ? operation.clause : operation.op === "edit" ? operation.after : undefined;
    for (let id = clause?.section ?? null; id !== null && !inBase.has(id) && !needed.has(id); id = available.get(id)?.parent ?? null) {
      needed.add(id);
    }
  }
  return changed.sections.filter((s) => needed.has(s.id));
}

// ---------------------------------------------------------------- applying

export interface ChangeSetConflict {
  /** Index into `operations`. */
  operation: number;
  op: Operation["op"];
  id: string;
  reason: string;
}

export interface ApplyResult {
  /** Always valid content; conflicting operations are left out. */
  content: PolicyContent;
  /** Clause ids the change set changed (for a reorder, the clauses that moved). */
  applied: string[];
  /** Clause ids the target already had as the change set wants them (no-ops). */
  alreadyApplied: string[];
  conflicts: ChangeSetConflict[];
  /** Sections created from `changeSet.sections` for added or edited clauses. */
  addedSections: string[];
}

interface Working {
  clauses: Clause[];
  sections: Section[];
  carried: Map<string, Section>;
  result: Omit<ApplyResult, "content">;
}

type Outcome = "applied" | "already" | { reason: string };

/**
 * Applies the change set to `target` operation by operation; see each
 * operation's function for when it conflicts. Rules that keep the result
 * valid: a clause goes in only if its section exists or the change set
 * carries it (then the section is appended to the sections, parents first);
 * otherwise the operation is a conflict.
 */
export function applyChangeSet(target: PolicyContent, changeSet: ChangeSet): ApplyResult {
  const work: Working = {
    clauses: [...target.clauses],
    sections: [...target.sections],
    carried: byId(changeSet.sections ?? []),
    result: { applied: [], alreadyApplied: [], conflicts: [], addedSections: [] },
  };
  changeSet.operations.forEach((operation, index) => {
    if (operation.op === "reorder") return void work.result.applied.push(...reorder(work, operation.order));
    const id = operation.op === "add" ? operation.clause.id : operation.id;
    const outcome = operation.op === "add" ? add(work, operation) : operation.op === "edit" ? edit(work, operation) : remove(work, operation);
    if (outcome === "applied") work.result.applied.push(id);
    else if (outcome === "already") work.result.alreadyApplied.push(id);
    else work.result.conflicts.push({ operation: index, op: operation.op, id, reason: outcome.reason });
  });
  return { content: { ...target, sections: work.sections, clauses: work.clauses }, ...work.result };
}

type Op<K extends Operation["op"]> = Extract<Operation, { op: K }>;

/** Adds after the anchor (first for null, last when the target lacks the anchor). An existing clause with the same id: no-op if identical, conflict otherwise. */
function add(work: Working, operation: Op<"add">): Outcome {
  const existing = work.clauses.find((c) => c.id === operation.clause.id);
  if (existing) return sameClause(existing, operation.clause) ? "already" : { reason: `the target already has a different clause "${existing.id}"` };
  const sectionProblem = ensureSection(work, operation.clause.section);
  if (sectionProblem) return { reason: sectionProblem };
  const anchor = operation.after === null ? -1 : work.clauses.findIndex((c) => c.id === operation.after);
  const at = operation.after !== null && anchor === -1 ? work.clauses.length : anchor + 1;
  work.clauses.splice(at, 0, operation.clause);
  return "applied";
}

/** Replaces the clause if the target still has it as `before`; already `after` is a no-op. */
function edit(work: Working, operation: Op<"edit">): Outcome {
  const index = work.clauses.findIndex((c) => c.id === operation.id);
  if (index === -1) return { reason: "the target no longer has this clause" };
  const current = work.clauses[index]!;
  if (sameClause(current, operation.after)) return "already";
  if (!sameClause(current, operation.before)) return { reason: changedSince(operation.before, current) };
  const sectionProblem = ensureSection(work, operation.after.section);
  if (sectionProblem) return { reason: sectionProblem };
  work.clauses[index] = operation.after;
  return "applied";
}

/** Removes the clause if the target still has it as `before`; already gone is a no-op. */
function remove(work: Working, operation: Op<"remove">): Outcome {
  const index = work.clauses.findIndex((c) => c.id === operation.id);
  if (index === -1) return "already";
  const current = work.clauses[index]!;
  if (!sameClause(current, operation.before)) return { reason: changedSince(operation.before, current) };
  work.clauses.splice(index, 1);
  return "applied";
}

function changedSince(before: Clause, current: Clause): string {
  const fields = CLAUSE_FIELDS.filter((field) => canonicalJson(before[field] ?? null) !== canonicalJson(current[field] ?? null));
  return `the clause changed in the target since the change set's base (${fields.join(", ")})`;
}

/**
 * The listed clauses the target has take the places those clauses occupy,
 * in the listed order; every other clause keeps its place (so clauses the
 * target added meanwhile stay where they are). Returns the ids that moved.
 */
function reorder(work: Working, order: string[]): string[] {
  const listed = new Set(order);
  const positions = work.clauses.flatMap((clause, i) => (listed.has(clause.id) ? [i] : []));
  const current = byId(work.clauses);
  const wanted = order.filter((id) => current.has(id));
  const moved: string[] = [];
  positions.forEach((position, k) => {
    const clause = current.get(wanted[k]!)!;
    if (work.clauses[position]!.id !== clause.id) moved.push(clause.id);
    work.clauses[position] = clause;
  });
  return moved;
}

/** Makes sure `sectionId` exists, creating it (and missing ancestors) from the carried sections; a reason when it cannot. */
function ensureSection(work: Working, sectionId: string | null): string | undefined {
  const existing = new Set(work.sections.map((s) => s.id));
  const chain: Section[] = [];
  for (let id = sectionId; id !== null && !existing.has(id); ) {
    const section = work.carried.get(id);
    if (!section) return `section "${id}" is not in the target`;
    if (chain.includes(section)) return `the carried sections around "${id}" form a cycle`;
    chain.push(section);
    id = section.parent;
  }
  for (const section of chain.reverse()) {
    work.sections.push(section);
    work.result.addedSections.push(section.id);
  }
  return undefined;
}

// ---------------------------------------------------------------- describing

/** "2 clauses edited, 1 added; order changed; 1 new section", or "No changes". */
export function describeChangeSet(changeSet: ChangeSet): string {
  const count = (op: Operation["op"]) => changeSet.operations.filter((operation) => operation.op === op).length;
  const clauseCounts = (
    [
      [count("edit"), "edited"],
      [count("add"), "added"],
      [count("remove"), "removed"],
    ] as const
  ).filter(([n]) => n > 0);
  const clauses = clauseCounts.map(([n, verb], i) => (i === 0 ? `${n} clause${n === 1 ? "" : "s"} ${verb}` : `${n} ${verb}`)).join(", ");
  const sections = changeSet.sections?.length ?? 0;
  const parts = [
    clauses,
    count("reorder") ? "order changed" : "",
    sections ? `${sections} new section${sections === 1 ? "" : "s"}` : "",
  ].filter((part) => part !== "");
  if (parts.length === 0) return "No changes";
  const text = parts.join("; ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * One line per operation, for readers who see no diff (a federated
 * proposal's text): "Edited “Tone” (tone): text, context", "Added “Cite
 * sources” (cite)", "Removed “Old rule” (old)", "New order of 5 clauses".
 */
export function describeOperations(changeSet: ChangeSet): string[] {
  const title = (text: string) => (text.length > 80 ? `${text.slice(0, 79)}…` : text);
  const name = (clause: Clause) => (clause.title ? `“${title(clause.title)}” (${clause.id})` : clause.id);
  return changeSet.operations.map((operation) => {
    if (operation.op === "add") return `Added ${name(operation.clause)}`;
    if (operation.op === "remove") return `Removed ${name(operation.before)}`;
    if (operation.op === "reorder") return `New order of ${operation.order.length} clause${operation.order.length === 1 ? "" : "s"}`;
    const fields = CLAUSE_FIELDS.filter((field) => canonicalJson(operation.before[field] ?? null) !== canonicalJson(operation.after[field] ?? null));
    return `Edited ${name(operation.after)}: ${fields.join(", ")}`;
  });
}
