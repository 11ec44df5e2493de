/**
 * Three-way merge of policy content, for a fork taking in upstream changes:
 * `base` is the fork point, `ours` the fork's head (or draft), `theirs`
 * upstream's head. Clauses and sections are matched by id and merged whole
 * (a clause is the unit people review and sign off, so two different edits of
 * one clause are a conflict even when they touch different fields); the
 * policy's metadata is merged field by field.
 *
 * Per item (clause, section, metadata field):
 *   - the same on both sides (unchanged, or changed identically) → keep it;
 *   - changed on one side only (edited, added or removed) → take that side;
 *   - changed differently on both → a conflict, provisionally resolved to
 *     ours in `merged`, to be settled with `resolveMerge`.
 *
 * `merged` is always a valid document. The one place that needs more than
 * "take ours": a section one side removed while the merge still puts clauses
 * or subsections in it is kept, and reported as a section conflict with
 * `usedBy` (see `keepUsedSections`).
 *
 * Order (clauses and sections alike, see `mergeOrder`): ours' order, minus
 * what the merge removed, plus what only theirs has, each placed right after
 * its nearest upstream predecessor that is in the merge (or first, if it has
 * none). Upstream moves (items whose order relative to the others changed
 * between base and theirs) are applied the same way, except that the anchor
 * must be an item ours did not move; when ours moved the item itself, ours'
 * place wins. Order alone never conflicts; `order` and `summary` report
 * what happened.
 *
 * Functions are pure: inputs are never modified, but `merged` shares clause
 * and section objects with them.
 */
import { z } from "../zod.ts";
import { clauseIdSchema, clauseSchema, policyContentSchema, sectionSchema, type Clause, type PolicyContent, type Section } from "./content.ts";
import {
  CLAUSE_FIELDS,
  METADATA_FIELDS,
  SECTION_FIELDS,
  longestIncreasingSubsequence,
  type ClauseField,
  type MetadataField,
  type SectionField,
} from "./diff.ts";
import { canonicalJson } from "./hash.ts";

export type ConflictKind = "edit/edit" | "edit/remove" | "remove/edit" | "add/add";

/**
 * How a conflict's `fields` are chosen: for edit/edit and add/add, the fields
 * that differ between ours and theirs; for edit/remove (remove/edit), the
 * fields ours (theirs) changed since base.
 */
export interface ClauseConflict {
  target: "clause";
  /** Its key in a resolutions file: the clause id, or "clause:<id>" when the id itself starts with "clause:", "section:" or "metadata:". */
  key: string;
  clauseId: string;
  kind: ConflictKind;
  base?: Clause;
  ours?: Clause;
  theirs?: Clause;
  fields: ClauseField[];
}

export interface SectionConflict {
  target: "section";
  /** "section:<id>". */
  key: string;
  sectionId: string;
  /** "removed-in-use": one side removed the section, the other (cleanly) still puts clauses or subsections in it. */
  kind: ConflictKind | "removed-in-use";
  base?: Section;
  ours?: Section;
  theirs?: Section;
  fields: SectionField[];
  /**
   * Ids of merged clauses and sections that sit in this section although a
   * side removed it. When set, `merged` keeps the section (ours' version, or
   * theirs' if ours removed it) instead of following ours.
   */
  usedBy?: string[];
}

export type MetadataValue = PolicyContent[MetadataField];

export interface MetadataConflict {
  target: "metadata";
  /** "metadata:<field>". */
  key: string;
  kind: "metadata";
  field: MetadataField;
  base: MetadataValue;
  ours: MetadataValue;
  theirs: MetadataValue;
  /** `[field]`, for a uniform `fields` on every conflict. */
  fields: MetadataField[];
}

export type Conflict = ClauseConflict | SectionConflict | MetadataConflict;

/** Ids (or metadata fields) merged without conflict, by where the change came from. */
export interface CleanChanges<Id extends string = string> {
  fromTheirs: Id[];
  fromOurs: Id[];
  /** Changed identically on both sides. */
  both: Id[];
}

export interface OrderReport {
  /** Items upstream moved whose upstream place the merge took. */
  applied: string[];
  /** Items upstream moved that ours moved as well: ours' place was kept. */
  keptOurs: string[];
}

export interface MergeSummary {
  /** Clauses in `merged`. */
  clauses: number;
  /** Clauses the same in base, ours and theirs. */
  unchanged: number;
  fromOurs: number;
  fromTheirs: number;
  both: number;
  conflicts: number;
  clauseConflicts: number;
  sectionConflicts: number;
  metadataConflicts: number;
  /** Upstream clause moves applied, and not applied because ours moved the clause too. */
  movesApplied: number;
  movesKeptOurs: number;
}

export interface MergeResult {
  /** The merge with every conflict provisionally resolved to ours; always valid. */
  merged: PolicyContent;
  /** Metadata conflicts first, then sections, then clauses, in document order. */
  conflicts: Conflict[];
  /** Clause ids by outcome (the top level), and the same for sections and metadata fields. */
  clean: CleanChanges & { sections: CleanChanges; metadata: CleanChanges<MetadataField> };
  order: { clauses: OrderReport; sections: OrderReport };
  summary: MergeSummary;
  /** Upstream's clause and section order: `resolveMerge` places a clause it brings back by it. */
  theirsOrder: { clauses: string[]; sections: string[] };
}

export function mergeContents(base: PolicyContent, ours: PolicyContent, theirs: PolicyContent): MergeResult {
  const metadata = mergeMetadata(base, ours, theirs);
  const sections = mergeItems(base.sections, ours.sections, theirs.sections);
  const clauses = mergeItems(base.clauses, ours.clauses, theirs.clauses);
  const sectionConflicts = sections.conflicts.map((c) => sectionConflict(c));
  keepUsedSections(sections, clauses.merged, sectionConflicts, { base: byId(base.sections), ours: byId(ours.sections), theirs: byId(theirs.sections) });
  const sectionOrder = mergeOrder(base.sections, ours.sections, theirs.sections, sections.merged);
  const clauseOrder = mergeOrder(base.clauses, ours.clauses, theirs.clauses, clauses.merged);
  const merged: PolicyContent = {
    ...metadata.values,
    sections: sectionOrder.ids.map((id) => sections.merged.get(id)!),
    clauses: clauseOrder.ids.map((id) => clauses.merged.get(id)!),
  };
  const clauseConflicts = clauses.conflicts.map((c) => clauseConflict(c));
  const conflicts: Conflict[] = [...metadata.conflicts, ...sectionConflicts, ...clauseConflicts];
  return {
    merged,
    conflicts,
    clean: { ...clauses.clean, sections: sections.clean, metadata: metadata.clean },
    order: { clauses: clauseOrder.report, sections: sectionOrder.report },
    summary: {
      clauses: merged.clauses.length,
      unchanged: clauses.unchanged,
      fromOurs: clauses.clean.fromOurs.length,
      fromTheirs: clauses.clean.fromTheirs.length,
      both: clauses.clean.both.length,
      conflicts: conflicts.length,
      clauseConflicts: clauseConflicts.length,
      sectionConflicts: sectionConflicts.length,
      metadataConflicts: metadata.conflicts.length,
      movesApplied: clauseOrder.report.applied.length,
      movesKeptOurs: clauseOrder.report.keptOurs.length,
    },
    theirsOrder: { clauses: theirs.clauses.map((c) => c.id), sections: theirs.sections.map((s) => s.id) },
  };
}

// ---------------------------------------------------------------- values

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && a !== null && b !== null && canonicalJson(a) === canonicalJson(b));
}

function differingFields<T extends object, F extends keyof T & string>(fields: readonly F[], a: T | undefined, b: T | undefined): F[] {
  if (!a || !b) return [];
  return fields.filter((field) => !sameValue(a[field], b[field]));
}

type Outcome = "unchanged" | "ours" | "theirs" | "both" | "conflict";

/** The three-way rule, on values already reduced to comparable keys (undefined = absent). */
function threeWay(base: string | undefined, ours: string | undefined, theirs: string | undefined): Outcome {
  if (ours === theirs) return ours === base ? "unchanged" : "both";
  if (ours === base) return "theirs";
  if (theirs === base) return "ours";
  return "conflict";
}

function conflictKind(base: unknown, ours: unknown, theirs: unknown): ConflictKind {
  if (base === undefined) return "add/add";
  if (ours === undefined) return "remove/edit";
  if (theirs === undefined) return "edit/remove";
  return "edit/edit";
}

// ---------------------------------------------------------------- metadata

function mergeMetadata(base: PolicyContent, ours: PolicyContent, theirs: PolicyContent) {
  const values = { title: ours.title, summary: ours.summary, licence: ours.licence, contexts: ours.contexts };
  const clean: CleanChanges<MetadataField> = { fromTheirs: [], fromOurs: [], both: [] };
  const conflicts: MetadataConflict[] = [];
  for (const field of METADATA_FIELDS) {
    const key = (content: PolicyContent) => canonicalJson(content[field]);
    const outcome = threeWay(key(base), key(ours), key(theirs));
    if (outcome === "theirs") setMetadata(values, field, theirs);
    if (outcome === "conflict") {
      conflicts.push({ target: "metadata", key: `metadata:${field}`, kind: "metadata", field, base: base[field], ours: ours[field], theirs: theirs[field], fields: [field] });
    } else if (outcome !== "unchanged") {
      clean[outcome === "theirs" ? "fromTheirs" : outcome === "ours" ? "fromOurs" : "both"].push(field);
    }
  }
  return { values, clean, conflicts };
}

type Metadata = Pick<PolicyContent, MetadataField>;

function setMetadata<F extends MetadataField>(values: Metadata, field: F, from: Metadata): void {
  values[field] = from[field];
}

// ---------------------------------------------------------------- items (clauses, sections)

interface ItemVersions<T> {
  id: string;
  base?: T;
  ours?: T;
  theirs?: T;
}

interface ItemMerge<T> {
  /** Merged items by id (insertion order is irrelevant: mergeOrder decides). */
  merged: Map<string, T>;
  conflicts: (ItemVersions<T> & { kind: ConflictKind })[];
  clean: CleanChanges;
  unchanged: number;
}

function byId<T extends { id: string }>(items: T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

/** Every id once: ours' order, then what only theirs has, then what only base has (conflicts come out in this order). */
function allIds(base: { id: string }[], ours: { id: string }[], theirs: { id: string }[]): string[] {
  return [...new Set([...ours, ...theirs, ...base].map((item) => item.id))];
}

function mergeItems<T extends { id: string }>(base: T[], ours: T[], theirs: T[]): ItemMerge<T> {
  const maps = { base: byId(base), ours: byId(ours), theirs: byId(theirs) };
  const result: ItemMerge<T> = { merged: new Map(), conflicts: [], clean: { fromTheirs: [], fromOurs: [], both: [] }, unchanged: 0 };
  for (const id of allIds(base, ours, theirs)) {
    const v: ItemVersions<T> = { id, base: maps.base.get(id), ours: maps.ours.get(id), theirs: maps.theirs.get(id) };
    const key = (item: T | undefined) => (item === undefined ? undefined : canonicalJson(item));
    const outcome = threeWay(key(v.base), key(v.ours), key(v.theirs));
    // Conflicts follow ours provisionally, as does every outcome but "theirs".
    const taken = outcome === "theirs" ? v.theirs : v.ours;
    if (taken !== undefined) result.merged.set(id, taken);
    if (outcome === "unchanged") result.unchanged += 1;
    else if (outcome === "conflict") result.conflicts.push({ ...v, kind: conflictKind(v.base, v.ours, v.theirs) });
    else result.clean[outcome === "theirs" ? "fromTheirs" : outcome === "ours" ? "fromOurs" : "both"].push(id);
  }
  return result;
}

/** The fields worth showing: ours against theirs, or the surviving side against base. */
function conflictFields<T extends object, F extends keyof T & string>(fields: readonly F[], v: ItemVersions<T>): F[] {
  if (v.ours && v.theirs) return differingFields(fields, v.ours, v.theirs);
  return differingFields(fields, v.base, v.ours ?? v.theirs);
}

function clauseConflict(v: ItemVersions<Clause> & { kind: ConflictKind }): ClauseConflict {
  return { target: "clause", key: clauseKey(v.id), clauseId: v.id, kind: v.kind, ...versions(v), fields: conflictFields(CLAUSE_FIELDS, v) };
}

function sectionConflict(v: ItemVersions<Section> & { kind: SectionConflict["kind"] }): SectionConflict {
  return { target: "section", key: `section:${v.id}`, sectionId: v.id, kind: v.kind, ...versions(v), fields: conflictFields(SECTION_FIELDS, v) };
}

/** Only the versions that exist, so absent ones are missing keys rather than `undefined` in JSON. */
function versions<T>(v: ItemVersions<T>): { base?: T; ours?: T; theirs?: T } {
  const out: { base?: T; ours?: T; theirs?: T } = {};
  if (v.base !== undefined) out.base = v.base;
  if (v.ours !== undefined) out.ours = v.ours;
  if (v.theirs !== undefined) out.theirs = v.theirs;
  return out;
}

const RESERVED_PREFIXES = ["clause:", "section:", "metadata:"];

/** A clause id that looks like another kind of key gets the explicit "clause:" prefix. */
function clauseKey(id: string): string {
  return RESERVED_PREFIXES.some((prefix) => id.startsWith(prefix)) ? `clause:${id}` : id;
}

type SectionVersions = Record<"base" | "ours" | "theirs", Map<string, Section>>;

/**
 * Restores sections the merge dropped while merged clauses or sections still
 * sit in them (one side removed the section, the other added or kept
 * something inside). Dropping that content instead would lose changes
 * silently; keeping the section keeps `merged` valid, and the conflict asks
 * the user. Repeats for the parents of restored sections.
 */
function keepUsedSections(sections: ItemMerge<Section>, clauses: Map<string, Clause>, conflicts: SectionConflict[], versions: SectionVersions): void {
  const users = new Map<string, string[]>();
  const use = (sectionId: string | null, userId: string) => {
    if (sectionId !== null) users.set(sectionId, [...(users.get(sectionId) ?? []), userId]);
  };
  for (const clause of clauses.values()) use(clause.section, clause.id);
  for (const section of sections.merged.values()) use(section.parent, section.id);
  const pending = [...users.keys()].filter((id) => !sections.merged.has(id));
  while (pending.length) {
    const id = pending.shift()!;
    if (sections.merged.has(id)) continue;
    // Each side is valid, so whichever side contributed a user has the section.
    const kept = versions.ours.get(id) ?? versions.theirs.get(id)!;
    sections.merged.set(id, kept);
    noteUsedSection(id, users.get(id) ?? [], sections, conflicts, versions);
    use(kept.parent, id);
    if (kept.parent !== null && !sections.merged.has(kept.parent)) pending.push(kept.parent);
  }
}

function noteUsedSection(id: string, usedBy: string[], sections: ItemMerge<Section>, conflicts: SectionConflict[], versions: SectionVersions): void {
  const existing = conflicts.find((conflict) => conflict.sectionId === id);
  if (existing) {
    existing.usedBy = usedBy;
    return;
  }
  // The removal looked clean; it is a conflict now.
  for (const list of [sections.clean.fromOurs, sections.clean.fromTheirs]) {
    const at = list.indexOf(id);
    if (at !== -1) list.splice(at, 1);
  }
  const v = { id, base: versions.base.get(id), ours: versions.ours.get(id), theirs: versions.theirs.get(id) };
  conflicts.push({ ...sectionConflict({ ...v, kind: "removed-in-use" }), usedBy });
}

// ---------------------------------------------------------------- order

interface OrderResult {
  ids: string[];
  report: OrderReport;
}

/** Ids whose order relative to the others changed from `from` to `to` (the complement of a longest common subsequence). */
function movedIds(from: { id: string }[], to: { id: string }[]): Set<string> {
  const toIndex = new Map(to.map((item, i) => [item.id, i]));
  const common = from.filter((item) => toIndex.has(item.id)).map((item) => item.id);
  const kept = longestIncreasingSubsequence(common.map((id) => toIndex.get(id)!));
  return new Set(common.filter((_, i) => !kept.has(i)));
}

function mergeOrder(base: { id: string }[], ours: { id: string }[], theirs: { id: string }[], merged: Map<string, unknown>): OrderResult {
  const movedByTheirs = movedIds(base, theirs);
  const movedByOurs = movedIds(base, ours);
  const oursIds = new Set(ours.map((item) => item.id));
  const report: OrderReport = { applied: [], keptOurs: [] };
  for (const id of movedByTheirs) {
    if (!merged.has(id) || !oursIds.has(id)) continue;
    report[movedByOurs.has(id) ? "keptOurs" : "applied"].push(id);
  }
  const applied = new Set(report.applied);
  const sequence = ours.map((item) => item.id).filter((id) => merged.has(id) && !applied.has(id));
  const toPlace = theirs.map((item) => item.id).filter((id) => merged.has(id) && (!oursIds.has(id) || applied.has(id)));
  // An upstream move is anchored on a neighbour ours left where it was: one
  // ours moved says nothing about where upstream wanted the item. An
  // upstream addition follows its predecessor wherever it went (it is most
  // likely about it).
  const canAnchor = (anchor: string, id: string) => !applied.has(id) || !movedByOurs.has(anchor);
  const ids = placeAfterPredecessors(sequence, toPlace, theirs.map((item) => item.id), canAnchor);
  return { ids, report: { applied: inOrder(report.applied, ids), keptOurs: inOrder(report.keptOurs, ids) } };
}

function inOrder(ids: string[], order: string[]): string[] {
  const index = new Map(order.map((id, i) => [id, i]));
  return [...ids].sort((a, b) => index.get(a)! - index.get(b)!);
}

/**
 * Inserts each of `toPlace` (given in `reference` order) right after its
 * nearest predecessor in `reference` that is already in the result and that
 * `canAnchor` accepts, or first when there is none. Items missing from
 * `reference` go last.
 */
function placeAfterPredecessors(
  sequence: string[],
  toPlace: string[],
  reference: string[],
  canAnchor: (anchor: string, id: string) => boolean = () => true,
): string[] {
  const referenceIndex = new Map(reference.map((id, i) => [id, i]));
  const present = new Set(sequence);
  const after = new Map<string | null, string[]>();
  const unplaced: string[] = [];
  for (const id of toPlace) {
    const index = referenceIndex.get(id);
    if (index === undefined) {
      unplaced.push(id);
      continue;
    }
    let anchor: string | null = null;
    for (let i = index - 1; i >= 0; i--) {
      const candidate = reference[i]!;
      if (present.has(candidate) && canAnchor(candidate, id)) {
        anchor = candidate;
        break;
      }
    }
    after.set(anchor, [...(after.get(anchor) ?? []), id]);
    present.add(id);
  }
  const out: string[] = [];
  const emit = (id: string) => {
    out.push(id);
    for (const child of after.get(id) ?? []) emit(child);
  };
  for (const id of after.get(null) ?? []) emit(id);
  for (const id of sequence) emit(id);
  out.push(...unplaced);
  return out;
}

// ---------------------------------------------------------------- resolutions

export type ResolutionChoice = "ours" | "theirs";
/** "ours" / "theirs" take that side's version (absent = removed), null removes, an object replaces. */
export type Resolution = ResolutionChoice | null | Clause | Section;
export type Resolutions = Record<string, Resolution>;

type KeyTarget = { target: "clause" | "section"; id: string } | { target: "metadata"; field: MetadataField };

/** What a resolutions key names, or a message saying why it names nothing. */
export function parseResolutionKey(key: string): KeyTarget | string {
  if (key.startsWith("metadata:")) {
    const field = key.slice("metadata:".length);
    const known = METADATA_FIELDS.find((name) => name === field);
    return known ? { target: "metadata", field: known } : `unknown metadata field "${field}"; use one of ${METADATA_FIELDS.join(", ")}`;
  }
  const [target, id] = key.startsWith("section:")
    ? (["section", key.slice("section:".length)] as const)
    : (["clause", key.startsWith("clause:") ? key.slice("clause:".length) : key] as const);
  const valid = clauseIdSchema.safeParse(id);
  return valid.success ? { target, id } : `"${id}" is not a valid ${target} id: ${valid.error.issues[0]?.message ?? "invalid"}`;
}

/**
 * The resolutions file: one entry per conflict, keyed by the conflict's
 * `key` (clause id, "section:<id>", "metadata:<field>"). A clause or
 * section object may leave out its `id`; it is taken from the key.
 */
export const resolutionsSchema = z
  .record(
    z.string(),
    z.union([z.enum(["ours", "theirs"]), z.null(), z.record(z.string(), z.unknown())], {
      error: 'must be "ours", "theirs", null or a clause (section) object',
    }),
  )
  .transform((record, ctx): Resolutions => {
    const out: Resolutions = {};
    for (const [key, value] of Object.entries(record)) {
      const resolution = parseResolutionEntry(key, value, ctx);
      if (resolution !== undefined) out[key] = resolution;
    }
    return out;
  })
  .describe('A choice per merge conflict: "ours", "theirs", null (remove) or a replacement clause or section.');

function parseResolutionEntry(key: string, value: unknown, ctx: z.RefinementCtx): Resolution | undefined {
  const target = parseResolutionKey(key);
  if (typeof target === "string") {
    ctx.addIssue({ code: "custom", path: [key], message: target });
    return undefined;
  }
  if (value === "ours" || value === "theirs") return value;
  if (target.target === "metadata") {
    ctx.addIssue({ code: "custom", path: [key], message: 'a metadata conflict takes "ours" or "theirs"' });
    return undefined;
  }
  if (value === null) return null;
  const object = { id: target.id, ...(value as Record<string, unknown>) };
  const parsed = target.target === "clause" ? clauseSchema.safeParse(object) : sectionSchema.safeParse(object);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: [key, ...issue.path.map(String)], message: issue.message });
    return undefined;
  }
  if (parsed.data.id !== target.id) {
    ctx.addIssue({ code: "custom", path: [key, "id"], message: `the ${target.target}'s id "${parsed.data.id}" does not match its key` });
    return undefined;
  }
  return parsed.data;
}

export class MergeResolutionError extends Error {
  override readonly name = "MergeResolutionError";
  constructor(readonly problems: string[]) {
    super(`Cannot resolve the merge (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `- ${p}`).join("\n")}`);
  }
}

/**
 * The merged content with each conflict settled as `resolutions` says.
 * Every conflict needs exactly one entry and every entry must name a
 * conflict; the result must pass policyContentSchema (e.g. removing a section
 * that clauses still use fails). Throws MergeResolutionError listing every
 * problem found.
 */
export function resolveMerge(result: MergeResult, resolutions: Resolutions): PolicyContent {
  const parsed = resolutionsSchema.safeParse(resolutions);
  if (!parsed.success) {
    throw new MergeResolutionError(parsed.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`));
  }
  const chosen = matchResolutions(result.conflicts, parsed.data);
  const content = applyResolutions(result, chosen);
  const valid = policyContentSchema.safeParse(content);
  if (!valid.success) throw new MergeResolutionError(valid.error.issues.map((issue) => describeIssue(content, issue)));
  return valid.data;
}

/** Pairs each conflict with its resolution, or throws with every unmatched one on either side. */
function matchResolutions(conflicts: Conflict[], resolutions: Resolutions): Map<Conflict, Resolution> {
  const byTarget = new Map(conflicts.map((conflict) => [targetKey(conflict), conflict]));
  const chosen = new Map<Conflict, Resolution>();
  const keys = new Map<Conflict, string>();
  const problems: string[] = [];
  for (const [key, resolution] of Object.entries(resolutions)) {
    const target = parseResolutionKey(key) as KeyTarget; // the schema checked the key
    const conflict = byTarget.get(target.target === "metadata" ? `metadata:${target.field}` : `${target.target}:${target.id}`);
    if (!conflict) problems.push(`"${key}" is not a conflict of this merge`);
    else if (keys.has(conflict)) problems.push(`"${key}" and "${keys.get(conflict)}" resolve the same conflict`);
    else {
      keys.set(conflict, key);
      chosen.set(conflict, resolution);
    }
  }
  for (const conflict of conflicts) {
    if (!chosen.has(conflict)) problems.push(`no resolution for "${conflict.key}" (${conflict.kind} conflict)`);
  }
  if (problems.length) throw new MergeResolutionError(problems);
  return chosen;
}

function targetKey(conflict: Conflict): string {
  if (conflict.target === "metadata") return `metadata:${conflict.field}`;
  return conflict.target === "clause" ? `clause:${conflict.clauseId}` : `section:${conflict.sectionId}`;
}

function applyResolutions(result: MergeResult, chosen: Map<Conflict, Resolution>): PolicyContent {
  const content: PolicyContent = { ...result.merged };
  const sections = new Map(content.sections.map((s) => [s.id, s]));
  const clauses = new Map(content.clauses.map((c) => [c.id, c]));
  for (const [conflict, resolution] of chosen) {
    // The schema allows only "ours" and "theirs" for metadata.
    if (conflict.target === "metadata") (content as Record<MetadataField, MetadataValue>)[conflict.field] = conflict[resolution === "theirs" ? "theirs" : "ours"];
    else if (conflict.target === "section") setResolved(sections, conflict.sectionId, resolvedItem(conflict, resolution) as Section | undefined);
    else setResolved(clauses, conflict.clauseId, resolvedItem(conflict, resolution) as Clause | undefined);
  }
  content.sections = reorderResolved(content.sections.map((s) => s.id), sections, result.theirsOrder.sections);
  content.clauses = reorderResolved(content.clauses.map((c) => c.id), clauses, result.theirsOrder.clauses);
  return content;
}

function resolvedItem(conflict: ClauseConflict | SectionConflict, resolution: Resolution): Clause | Section | undefined {
  if (resolution === "ours") return conflict.ours;
  if (resolution === "theirs") return conflict.theirs;
  return resolution ?? undefined;
}

function setResolved<T>(items: Map<string, T>, id: string, value: T | undefined): void {
  if (value === undefined) items.delete(id);
  else items.set(id, value);
}

/** Keeps the merged order, drops what resolutions removed, and places what they brought back as upstream had it. */
function reorderResolved<T>(mergedOrder: string[], items: Map<string, T>, theirsOrder: string[]): T[] {
  const sequence = mergedOrder.filter((id) => items.has(id));
  const kept = new Set(sequence);
  const added = [...items.keys()].filter((id) => !kept.has(id));
  const theirsIndex = new Map(theirsOrder.map((id, i) => [id, i]));
  added.sort((a, b) => (theirsIndex.get(a) ?? Infinity) - (theirsIndex.get(b) ?? Infinity));
  return placeAfterPredecessors(sequence, added, theirsOrder).map((id) => items.get(id)!);
}

/** "clause "x" section: unknown section "s"" rather than "clauses.12.section: …". */
function describeIssue(content: PolicyContent, issue: { path: PropertyKey[]; message: string }): string {
  const [list, index, ...rest] = issue.path;
  const item = typeof index === "number" && (list === "clauses" || list === "sections") ? content[list][index] : undefined;
  if (!item) return `${issue.path.map(String).join(".") || "content"}: ${issue.message}`;
  const where = `${list === "clauses" ? "clause" : "section"} "${item.id}"`;
  return `${where}${rest.length ? ` ${rest.map(String).join(".")}` : ""}: ${issue.message}`;
}
