/**
 * Proposals of other communities, as their polls reached us: what a member
 * following a community sees of its decisions. Stored by IRI, so a Create
 * and the later Update (with the final tally) land on the same row.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { remoteProposals } from "../../db/schema.ts";

export type RemoteProposal = typeof remoteProposals.$inferSelect;

export interface RemoteProposalInput {
  iri: string;
  policyIri: string;
  ownerIri: string;
  name: string;
  contentHtml: string;
  endTime: Date | null;
  closedAt: Date | null;
  counts: Record<string, number>;
  voters: number | null;
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
      set: {
        name: input.name,
        contentHtml: input.contentHtml,
        endTime: input.endTime,
        closedAt: input.closedAt,
        counts: input.counts,
        voters: input.voters,
        receivedAt: now,
      },
    })
    .returning()
    .get();
}
