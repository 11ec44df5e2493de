/**
 * Statements members vote agree / disagree / pass on (Polis style): free
 * statements submitted by members and moderated by stewards, or imported
 * from a Polis conversation export. Opinion groups, consensus and bridging
 * are computed from their votes (./opinions.ts).
 */
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { statementVotes, statements } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import { memberRole, type Community } from "../communities.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors.ts";
import { z } from "../zod.ts";
import { pseudonym } from "../preferences/store.ts";
import type { Vote } from "./opinions.ts";

export type Statement = typeof statements.$inferSelect;

export const statementImportSchema = z
  .object({
    statements: z.array(
      z.object({ id: z.string().min(1), author: z.string(), body: z.string().min(1), moderated: z.number().int(), timestamp: z.number().optional() }).strict(),
    ),
    votes: z.array(z.object({ participant: z.string().min(1), statement: z.string().min(1), value: z.union([z.literal(1), z.literal(-1), z.literal(0)]), timestamp: z.number().optional() }).strict()),
  })
  .strict()
  .openapi("StatementImport");

/** Polis moderation to ours: -1 was moderated out; 1 and 0 (unmoderated) are shown, as Polis shows them by default. */
function moderationOf(polis: number): Statement["moderation"] {
  return polis < 0 ? "rejected" : "accepted";
}

export function importStatements(db: Db, community: Community, data: z.output<typeof statementImportSchema>): { statements: number; votes: number } {
  return db.transaction((tx) => {
    const ids = new Map<string, number>();
    for (const s of data.statements) {
      const row = tx
        .insert(statements)
        .values({ communityId: community.id, externalId: s.id, body: s.body, author: s.author, moderation: moderationOf(s.moderated), createdAt: new Date(s.timestamp ?? 0) })
        .onConflictDoUpdate({ target: [statements.communityId, statements.externalId], set: { body: s.body, moderation: moderationOf(s.moderated) } })
        .returning({ id: statements.id })
        .get();
      ids.set(s.id, row.id);
    }
    let votes = 0;
    for (const v of data.votes) {
      const statementId = ids.get(v.statement);
      if (statementId === undefined) continue;
      const at = new Date(v.timestamp ?? 0);
      tx.insert(statementVotes)
        .values({ statementId, participant: v.participant, value: v.value, at })
        .onConflictDoUpdate({ target: [statementVotes.statementId, statementVotes.participant], set: { value: v.value, at } })
        .run();
      votes++;
    }
    return { statements: ids.size, votes };
  });
}

export function listStatements(db: Db, community: Community): Statement[] {
  return db.select().from(statements).where(eq(statements.communityId, community.id)).orderBy(asc(statements.id)).all();
}

/** Statements and votes in the shape of a Polis export (ids: external id, else ours). */
export function exportStatements(db: Db, community: Community) {
  const rows = listStatements(db, community);
  const idOf = new Map(rows.map((row) => [row.id, row.externalId ?? `f${row.id}`]));
  const votes = db
    .select()
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(eq(statements.communityId, community.id))
    .all()
    .map(({ statement_votes: v }) => ({ participant: v.participant, statement: idOf.get(v.statementId)!, value: v.value as 1 | -1 | 0, timestamp: v.at.getTime() }));
  const counts = (id: number, value: number) => votes.filter((v) => v.statement === idOf.get(id) && v.value === value).length;
  return {
    statements: rows.map((row) => ({
      id: idOf.get(row.id)!,
      author: row.author,
      body: row.body,
      moderated: row.moderation === "rejected" ? -1 : row.moderation === "accepted" ? 1 : 0,
      agrees: counts(row.id, 1),
      disagrees: counts(row.id, -1),
      timestamp: row.createdAt.getTime(),
    })),
    votes,
  };
}

export function submitStatement(db: Db, community: Community, user: User, body: string, clauseId?: string): Statement {
  if (!memberRole(db, community, user) && !user.isAdmin) throw new ForbiddenError(`Only members of "${community.handle}" submit statements.`);
  return db
    .insert(statements)
    .values({ communityId: community.id, body, clauseId: clauseId ?? null, author: pseudonym(db, community.id, user.id), moderation: "pending", createdAt: new Date() })
    .returning()
    .get();
}

export function getStatement(db: Db, id: number): Statement {
  const row = db.select().from(statements).where(eq(statements.id, id)).get();
  if (!row) throw new NotFoundError(`No statement ${id}.`);
  return row;
}

export function moderateStatement(db: Db, statement: Statement, decision: "accepted" | "rejected"): Statement {
  return db.update(statements).set({ moderation: decision }).where(eq(statements.id, statement.id)).returning().get();
}

export function voteOnStatement(db: Db, community: Community, statement: Statement, user: User, value: 1 | -1 | 0): void {
  if (!memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" vote on its statements.`);
  if (statement.moderation !== "accepted") throw new ConflictError("This statement is not open for votes (awaiting moderation, or rejected).");
  const participant = pseudonym(db, community.id, user.id);
  const at = new Date();
  db.insert(statementVotes)
    .values({ statementId: statement.id, participant, value, at })
    .onConflictDoUpdate({ target: [statementVotes.statementId, statementVotes.participant], set: { value, at } })
    .run();
}

export type StatementTally = Statement & { agrees: number; disagrees: number; passes: number; myVote: number | null };

/** Every statement of the community with its vote counts and, given a member, that member's vote. */
export function statementTallies(db: Db, community: Community, user?: User): StatementTally[] {
  const rows = listStatements(db, community);
  const votes = db
    .select({ statementId: statementVotes.statementId, participant: statementVotes.participant, value: statementVotes.value })
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(eq(statements.communityId, community.id))
    .all();
  const me = user ? pseudonym(db, community.id, user.id) : undefined;
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

/** Votes on accepted statements, for opinion groups and bridging. */
export function opinionVotes(db: Db, community: Community): Vote[] {
  return db
    .select({ participant: statementVotes.participant, statement: statementVotes.statementId, value: statementVotes.value })
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(and(eq(statements.communityId, community.id), eq(statements.moderation, "accepted")))
    .all()
    .map((row) => ({ participant: row.participant, statement: String(row.statement), value: row.value as 1 | -1 | 0 }));
}
