/**
 * A proposal being built: the member's working copy of the policy's
 * clauses, stored as a change set against the version they started from.
 * Each step (edit or add a clause, remove one, move one, undo the changes to
 * one) changes the working copy; the change set is then recomputed from the
 * base and the working copy (changeSetFromContents), so editing a clause
 * twice is one edit, and undoing a change leaves no trace.
 */
import { and, eq } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { proposalDrafts } from "../../db/schema.ts";
import { InvalidInputError } from "../errors.ts";
import { changeSetSchema, type ChangeSet } from "../policies/changeset.ts";
import type { Clause, PolicyContent } from "../policies/content.ts";

export type ProposalDraft = typeof proposalDrafts.$inferSelect;

/** One step of building a proposal. `after` places a clause: null first, absent (for a new clause) last. */
export type DraftStep =
  | { action: "put"; clause: Clause; after?: string | null }
  | { action: "remove"; id: string }
  | { action: "move"; id: string; after: string | null }
  | { action: "undo"; id: string };

export async function findProposalDraft(db: Db, policyId: number, userId: number): Promise<ProposalDraft | undefined> {
  return await first(db
    .select()
    .from(proposalDrafts)
    .where(and(eq(proposalDrafts.policyId, policyId), eq(proposalDrafts.userId, userId))).limit(1));
}

export function draftChanges(draft: ProposalDraft): ChangeSet {
  return changeSetSchema.parse(draft.changes);
}

/** Stores the draft's changes (replacing earlier ones); a draft with no changes left is removed. */
export async function storeProposalDraft(db: Db, input: { policyId: number; userId: number; baseVersionIri: string; changes: ChangeSet; now: Date }): Promise<void> {
  if (input.changes.operations.length === 0) return await deleteProposalDraft(db, input.policyId, input.userId);
  const values = { baseVersionIri: input.baseVersionIri, changes: input.changes as unknown as Record<string, unknown>, updatedAt: input.now };
  await db.insert(proposalDrafts)
    .values({ policyId: input.policyId, userId: input.userId, ...values })
    .onConflictDoUpdate({ target: [proposalDrafts.policyId, proposalDrafts.userId], set: values });
}

export async function deleteProposalDraft(db: Db, policyId: number, userId: number): Promise<void> {
  await db.delete(proposalDrafts)
    .where(and(eq(proposalDrafts.policyId, policyId), eq(proposalDrafts.userId, userId)));
}

// ---------------------------------------------------------------- steps

function indexOf(clauses: Clause[], id: string, what = "The proposal"): number {
  const index = clauses.findIndex((clause) => clause.id === id);
  if (index === -1) throw new InvalidInputError(`${what} has no clause "${id}".`);
  return index;
}

/** Puts the clause after `after` (null: first; a clause the list lacks, or undefined: last). */
function insertAfter(clauses: Clause[], clause: Clause, after: string | null | undefined): Clause[] {
  const at = after === null ? 0 : after === undefined ? clauses.length : clauses.findIndex((c) => c.id === after) + 1 || clauses.length;
  return [...clauses.slice(0, at), clause, ...clauses.slice(at)];
}

/** The working copy after one step; `base` is the version the draft starts from. Throws, in plain words, when the step makes no sense. */
export function applyDraftStep(base: PolicyContent, working: PolicyContent, step: DraftStep): PolicyContent {
  const clauses = working.clauses;
  switch (step.action) {
    case "put": {
      const { clause } = step;
      if (clause.section !== null && !working.sections.some((section) => section.id === clause.section)) {
        throw new InvalidInputError(`The policy has no section "${clause.section}"; choose one of its sections.`);
      }
      const index = clauses.findIndex((c) => c.id === clause.id);
      if (index !== -1) return { ...working, clauses: clauses.map((c, i) => (i === index ? clause : c)) };
      if (step.after) indexOf(clauses, step.after);
      return { ...working, clauses: insertAfter(clauses, clause, step.after) };
    }
    case "remove":
      indexOf(clauses, step.id);
      return { ...working, clauses: clauses.filter((c) => c.id !== step.id) };
    case "move": {
      const clause = clauses[indexOf(clauses, step.id)]!;
      if (step.after === step.id) throw new InvalidInputError("A clause cannot be placed after itself.");
      const rest = clauses.filter((c) => c.id !== step.id);
      if (step.after !== null) indexOf(rest, step.after);
      return { ...working, clauses: insertAfter(rest, clause, step.after) };
    }
    case "undo": {
      const rest = clauses.filter((c) => c.id !== step.id);
      const original = base.clauses.findIndex((c) => c.id === step.id);
      if (original === -1) {
        indexOf(clauses, step.id);
        return { ...working, clauses: rest };
      }
      // Back where it was: after the nearest clause before it in the base that is still there.
      const anchor = base.clauses
        .slice(0, original)
        .reverse()
        .find((c) => rest.some((r) => r.id === c.id));
      return { ...working, clauses: insertAfter(rest, base.clauses[original]!, anchor?.id ?? null) };
    }
  }
}
