/**
 * Votes this instance's members sent to other instances' proposals, kept so
 * that a refusal (the community answers with a Reject and a reason) reaches
 * the voter instead of vanishing in the other server's log.
 */
import { and, desc, eq, or } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { sentVotes } from "../../db/schema.ts";
import type { VoteValue } from "./decision.ts";

export type SentVote = typeof sentVotes.$inferSelect;

export async function recordSentVote(
  db: Db,
  input: { activityIri: string; noteIri: string; voterIri: string; proposalIri: string; ownerIri: string; value: VoteValue },
  now = new Date(),
): Promise<SentVote> {
  return (await first(db.insert(sentVotes).values({ ...input, sentAt: now }).returning()))!;
}

export async function findSentVote(db: Db, id: number): Promise<SentVote | undefined> {
  return await first(db.select().from(sentVotes).where(eq(sentVotes.id, id)).limit(1));
}

/**
 * The proposal's community refused a vote (named by its activity or its
 * Note). Only that community can; anyone else's Reject changes nothing.
 */
export async function refuseSentVote(db: Db, input: { objectIri: string; actorIri: string; reason: string }): Promise<SentVote | undefined> {
  const vote = await first(db
    .select()
    .from(sentVotes)
    .where(or(eq(sentVotes.activityIri, input.objectIri), eq(sentVotes.noteIri, input.objectIri))).limit(1));
  if (!vote || vote.ownerIri !== input.actorIri) return undefined;
  return await first(db
    .update(sentVotes)
    .set({ state: "refused", reason: input.reason.slice(0, 1000), answeredAt: new Date() })
    .where(eq(sentVotes.id, vote.id))
    .returning());
}

/** A voter's votes sent elsewhere, newest first; optionally on one proposal. */
export async function listSentVotes(db: Db, voterIri: string, proposalIri?: string): Promise<SentVote[]> {
  const condition = proposalIri ? and(eq(sentVotes.voterIri, voterIri), eq(sentVotes.proposalIri, proposalIri)) : eq(sentVotes.voterIri, voterIri);
  return await db.select().from(sentVotes).where(condition).orderBy(desc(sentVotes.sentAt), desc(sentVotes.id)).limit(200);
}
