/**
 * Proposals of other communities, as their polls reached us: what a member
 * following a community sees of its decisions. Stored by IRI, so a Create
 * and the later Update (with the final tally) land on the same row.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { remoteProposals } from "../../db/schema.ts";

export type RemoteProposal = typeof remoteProposals.$inferSelect;

/** What a poll tells us; the row's id and arrival time are ours. */
export type RemoteProposalInput = Omit<typeof remoteProposals.$inferInsert, "id" | "receivedAt">;

export function findRemoteProposal(db: Db, iri: string): RemoteProposal | undefined {
  return db.select().from(remoteProposals).where(eq(remoteProposals.iri, iri)).get();
}

/** Inserts or refreshes the proposal; a closed one is never reopened by a late copy. */
export function persistRemoteProposal(db: Db, input: RemoteProposalInput, now = new Date()): RemoteProposal {
  const existing = db.select().from(remoteProposals).where(eq(remoteProposals.iri, input.iri)).get();
  if (existing?.closedAt && !input.closedAt) return existing;
  return db
    .insert(remoteProposals)
    .values({ ...input, receivedAt: now })
    .onConflictDoUpdate({
      target: remoteProposals.iri,
      set: { ...input, receivedAt: now },
    })
    .returning()
    .get();
}
