/**
 * Proposals of other communities, as their polls reached us: what a member
 * following a community sees of its decisions. Stored by IRI, so a Create
 * and the later Update (with the final tally) land on the same row.
 */
import { eq } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { remoteProposals } from "../../db/schema.ts";

export type RemoteProposal = typeof remoteProposals.$inferSelect;

/** What a poll tells us; the row's id and arrival time are ours. */
export type RemoteProposalInput = Omit<typeof remoteProposals.$inferInsert, "id" | "receivedAt">;

export async function findRemoteProposal(db: Db, iri: string): Promise<RemoteProposal | undefined> {
  return await first(db.select().from(remoteProposals).where(eq(remoteProposals.iri, iri)).limit(1));
}

/** Inserts or refreshes the proposal; a closed one is never reopened by a late copy. */
export async function persistRemoteProposal(db: Db, input: RemoteProposalInput, now = new Date()): Promise<RemoteProposal> {
  const existing = await first(db.select().from(remoteProposals).where(eq(remoteProposals.iri, input.iri)).limit(1));
  if (existing?.closedAt && !input.closedAt) return existing;
  return (await first(db
    .insert(remoteProposals)
    .values({ ...input, receivedAt: now })
    .onConflictDoUpdate({
      target: remoteProposals.iri,
      set: { ...input, receivedAt: now },
    })
    .returning()))!;
}
