/**
 * Statements members vote agree / disagree / pass on (Polis style): free
 * statements submitted by members and moderated by stewards, or imported
 * from a Polis conversation export. Opinion groups, consensus and bridging
 * are computed from their votes (./opinions.ts).
 */
import { asc, eq, inArray } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { statementVotes, statements } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import { memberRole, type Community } from "../communities.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors.ts";
import { pseudonym } from "../preferences/store.ts";
import { conversationForSubmission } from "./conversations.ts";

export type Statement = typeof statements.$inferSelect;

/** A member's statement, into the named conversation of the community ("main" by default), awaiting moderation. */
export async function submitStatement(db: Db, community: Community, user: User, body: string, clauseId?: string, conversation?: string): Promise<Statement> {
  if (!await memberRole(db, community, user) && !user.isAdmin) throw new ForbiddenError(`Only members of "${community.handle}" submit statements.`);
  const target = await conversationForSubmission(db, community, conversation);
  return (await first(db
    .insert(statements)
    .values({ communityId: community.id, conversationId: target.id, body, clauseId: clauseId ?? null, author: await pseudonym(db, community.id, user.id), moderation: "pending", createdAt: new Date() })
    .returning()))!;
}

export async function getStatement(db: Db, id: number): Promise<Statement> {
  const row = await first(db.select().from(statements).where(eq(statements.id, id)).limit(1));
  if (!row) throw new NotFoundError(`No statement ${id}.`);
  return row;
}

export async function moderateStatement(db: Db, statement: Statement, decision: "accepted" | "rejected"): Promise<Statement> {
  // A steward's decision replaces the moderation an import brought.
  return (await first(db.update(statements).set({ moderation: decision, polisModerated: null }).where(eq(statements.id, statement.id)).returning()))!;
}

export async function voteOnStatement(db: Db, community: Community, statement: Statement, user: User, value: 1 | -1 | 0): Promise<void> {
  if (!await memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" vote on its statements.`);
  if (statement.moderation !== "accepted") throw new ConflictError("This statement is not open for votes (awaiting moderation, or rejected).");
  const participant = await pseudonym(db, community.id, user.id);
  const at = new Date();
  await db.insert(statementVotes)
    .values({ statementId: statement.id, participant, value, at })
    .onConflictDoUpdate({ target: [statementVotes.statementId, statementVotes.participant], set: { value, at } });
}

export type StatementTally = Statement & { agrees: number; disagrees: number; passes: number; myVote: number | null };

/** The statements of the given conversations, oldest first. */
export async function listStatements(db: Db, conversationIds: number[]): Promise<Statement[]> {
  if (conversationIds.length === 0) return [];
  return await db.select().from(statements).where(inArray(statements.conversationId, conversationIds)).orderBy(asc(statements.id));
}

/** Every statement of the conversations with its vote counts and, given a member, that member's vote. */
export async function statementTallies(db: Db, community: Community, conversationIds: number[], user?: User): Promise<StatementTally[]> {
  const rows = await listStatements(db, conversationIds);
  if (rows.length === 0) return [];
  const votes = await db
    .select({ statementId: statementVotes.statementId, participant: statementVotes.participant, value: statementVotes.value })
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(inArray(statements.conversationId, conversationIds));
  const me = user ? await pseudonym(db, community.id, user.id) : undefined;
  const counts = new Map<number, { agrees: number; disagrees: number; passes: number; myVote: number | null }>();
  for (const row of rows) counts.set(row.id, { agrees: 0, disagrees: 0, passes: 0, myVote: null });
  for (const vote of votes) {
    const entry = counts.get(vote.statementId);
    if (!entry) continue;
    if (vote.value === 1) entry.agrees++;
    else if (vote.value === -1) entry.disagrees++;
    else entry.passes++;
    if (me !== undefined && vote.participant === me) entry.myVote = vote.value;
  }
  return rows.map((row) => ({ ...row, ...counts.get(row.id)! }));
}
