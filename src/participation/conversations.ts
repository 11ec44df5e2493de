/**
 * Conversations: the scope statements are voted in. A community holds
 * several (each Polis import makes or fills one; members' own statements go to
 * "main"); Polis ids are unique only within a conversation. Opinion analysis
 * and exports work on one conversation, or across the whole community when
 * asked, where participants of imported conversations are told apart by their
 * conversation (Polis participant ids restart in every conversation).
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { conversationParticipants, conversations, statementVotes, statements } from "../../db/schema.ts";
import type { Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { z } from "../zod.ts";
import type { Vote } from "./opinions.ts";

export type Conversation = typeof conversations.$inferSelect;
/** The database, or a transaction on it. */
type Queryable = Pick<Db, "select" | "insert" | "update">;

/** Members' own statements live here unless they name another conversation. */
export const MAIN_CONVERSATION = "main";

export const conversationName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u, "letters, digits, '.', '_' and '-', starting with a letter or digit");

const vote = z.union([z.literal(1), z.literal(-1), z.literal(0)]);

export const conversationImportSchema = z
  .object({
    community: z.string(),
    conversation: conversationName,
    /** Refuse when a conversation of that name exists (an import that means to start one must not fill another). */
    mustBeNew: z.boolean().default(false),
    summary: z.array(z.tuple([z.string(), z.string()])).optional(),
    statements: z.array(
      z.object({ id: z.string().min(1), author: z.string(), body: z.string().min(1), moderated: z.number().int().min(-1).max(1), timestamp: z.number().optional() }).strict(),
    ),
    votes: z.array(z.object({ participant: z.string().min(1), statement: z.string().min(1), value: vote, timestamp: z.number().optional() }).strict()),
    participants: z.array(z.object({ id: z.string().min(1), group: z.string().nullable(), xid: z.string().nullable().optional() }).strict()).default([]),
  })
  .strict()
  .openapi("ConversationImport");

export type ConversationImport = z.output<typeof conversationImportSchema>;

export async function listConversations(db: Db, community: Community): Promise<Conversation[]> {
  return await db.select().from(conversations).where(eq(conversations.communityId, community.id)).orderBy(asc(conversations.id));
}

export async function findConversation(db: Queryable, community: Community, name: string): Promise<Conversation | undefined> {
  return await first(db.select().from(conversations).where(and(eq(conversations.communityId, community.id), eq(conversations.name, name))).limit(1));
}

async function createConversation(db: Queryable, community: Community, name: string, source: Conversation["source"], summary?: [string, string][]): Promise<Conversation> {
  const get = (key: string) => summary?.find(([k]) => k === key)?.[1] || null;
  return (await first(db
    .insert(conversations)
    .values({ communityId: community.id, name, source, topic: get("topic"), url: get("url"), description: get("conversation-description"), summary: summary ?? null, createdAt: new Date() })
    .returning()))!;
}

/** The named conversation, created (as a members' conversation) when it does not exist yet. */
export async function conversationForSubmission(db: Queryable, community: Community, name = MAIN_CONVERSATION): Promise<Conversation> {
  return await findConversation(db, community, name) ?? await createConversation(db, community, name, "local");
}

/** Polis moderation to ours: -1 was moderated out; 1 and 0 (unmoderated) are shown, as Polis shows them by default. */
function moderationOf(polis: number): "accepted" | "rejected" {
  return polis < 0 ? "rejected" : "accepted";
}

/**
 * Imports a Polis conversation (as read by readPolisExport) into the named
 * conversation of the community, creating it unless it exists; with
 * `mustBeNew`, an existing one is refused. Re-importing into the same
 * conversation updates statements and votes by their Polis ids. One
 * transaction.
 */
export async function importConversation(db: Db, community: Community, data: ConversationImport) {
  return await db.transaction(async (tx) => {
    let conversation = await findConversation(tx, community, data.conversation);
    if (conversation && data.mustBeNew) {
      throw new ConflictError(`"${community.handle}" already has a conversation named "${data.conversation}"; name another (--conversation) or import into it explicitly.`);
    }
    const created = conversation === undefined;
    conversation ??= await createConversation(tx, community, data.conversation, "polis", data.summary);
    if (!created && data.summary) {
      await tx.update(conversations).set({ summary: data.summary }).where(eq(conversations.id, conversation.id));
    }
    const ids = new Map<string, number>();
    for (const s of data.statements) {
      const values = { body: s.body, author: s.author, moderation: moderationOf(s.moderated), polisModerated: s.moderated, createdAt: s.timestamp === undefined ? null : new Date(s.timestamp) };
      const row = await first(tx
        .insert(statements)
        .values({ communityId: community.id, conversationId: conversation.id, externalId: s.id, ...values })
        .onConflictDoUpdate({ target: [statements.conversationId, statements.externalId], set: values })
        .returning({ id: statements.id }));
      ids.set(s.id, row!.id);
    }
    let votes = 0;
    for (const v of data.votes) {
      const statementId = ids.get(v.statement);
      if (statementId === undefined) throw new InvalidInputError(`A vote names comment ${v.statement}, which is not among the imported statements.`);
      const at = v.timestamp === undefined ? null : new Date(v.timestamp);
      await tx.insert(statementVotes)
        .values({ statementId, participant: v.participant, value: v.value, at })
        .onConflictDoUpdate({ target: [statementVotes.statementId, statementVotes.participant], set: { value: v.value, at } });
      votes++;
    }
    for (const p of data.participants) {
      const values = { polisGroup: p.group, xid: p.xid ?? null };
      await tx.insert(conversationParticipants)
        .values({ conversationId: conversation.id, participant: p.id, ...values })
        .onConflictDoUpdate({ target: [conversationParticipants.conversationId, conversationParticipants.participant], set: values });
    }
    return { conversation: conversation.name, created, statements: ids.size, votes, participants: data.participants.length };
  });
}

/** Which conversations a query covers: one by name, or all of the community's (`across`). */
export interface ConversationScope {
  conversation?: string;
  across?: boolean;
}

/**
 * The conversations a scope stands for. Without a name or `across`, a
 * community with one conversation means that one; with several, the caller
 * must choose (the error lists them).
 */
export async function resolveScope(db: Db, community: Community, scope: ConversationScope): Promise<Conversation[]> {
  const all = await listConversations(db, community);
  if (scope.conversation !== undefined) {
    const found = all.find((c) => c.name === scope.conversation);
    if (!found) throw new NotFoundError(`"${community.handle}" has no conversation "${scope.conversation}"${all.length ? ` (it has: ${all.map((c) => c.name).join(", ")})` : ""}.`);
    return [found];
  }
  if (scope.across || all.length <= 1) return all;
  throw new InvalidInputError(`"${community.handle}" holds ${all.length} conversations (${all.map((c) => c.name).join(", ")}): name one (conversation), or ask for all of them (across).`);
}

export interface OpinionInput {
  votes: Vote[];
  /** Statements (our ids) moderated out: Polis keeps their votes in its counts but not in the opinions. */
  moderatedOut: string[];
}

/**
 * Votes of the conversations for opinion analysis, statements by our id.
 * Across several conversations, participants of imported ones are prefixed
 * with their conversation's name; members (pseudonyms) stay one participant
 * across the community's own conversations.
 */
export async function opinionInput(db: Db, conversationsInScope: Conversation[]): Promise<OpinionInput> {
  const ids = conversationsInScope.map((c) => c.id);
  if (ids.length === 0) return { votes: [], moderatedOut: [] };
  const byId = new Map(conversationsInScope.map((c) => [c.id, c]));
  const prefix = conversationsInScope.length > 1;
  const rows = await db
    .select({ participant: statementVotes.participant, statement: statementVotes.statementId, value: statementVotes.value, moderation: statements.moderation, conversationId: statements.conversationId })
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(inArray(statements.conversationId, ids));
  const moderatedOut = new Set<string>();
  const votes = rows.map((row) => {
    const conversation = byId.get(row.conversationId!)!;
    if (row.moderation !== "accepted") moderatedOut.add(String(row.statement));
    const participant = prefix && conversation.source === "polis" ? `${conversation.name}/${row.participant}` : row.participant;
    return { participant, statement: String(row.statement), value: row.value as 1 | -1 | 0 };
  });
  return { votes, moderatedOut: [...moderatedOut] };
}

/** One conversation in the shape of a Polis export (ids: Polis id, else ours as f<id>). */
export async function exportConversation(db: Db, conversation: Conversation) {
  const rows = await db.select().from(statements).where(eq(statements.conversationId, conversation.id)).orderBy(asc(statements.id));
  const idOf = new Map(rows.map((row) => [row.id, row.externalId ?? `f${row.id}`]));
  const votes = (await db
    .select({ v: statementVotes })
    .from(statementVotes)
    .innerJoin(statements, eq(statements.id, statementVotes.statementId))
    .where(eq(statements.conversationId, conversation.id)))
    .map(({ v }) => ({ participant: v.participant, statement: idOf.get(v.statementId)!, value: v.value as 1 | -1 | 0, ...(v.at ? { timestamp: v.at.getTime() } : {}) }));
  const counts = new Map<string, [number, number]>();
  for (const v of votes) {
    const c = counts.get(v.statement) ?? [0, 0];
    if (v.value === 1) c[0]++;
    else if (v.value === -1) c[1]++;
    counts.set(v.statement, c);
  }
  const participants = (await db
    .select()
    .from(conversationParticipants)
    .where(eq(conversationParticipants.conversationId, conversation.id)))
    .map((p) => ({ id: p.participant, group: p.polisGroup, xid: p.xid }));
  const summary = conversation.summary ?? [
    ["topic", conversation.topic ?? conversation.name],
    ...(conversation.url ? [["url", conversation.url] as [string, string]] : []),
    ["voters", String(new Set(votes.map((v) => v.participant)).size)],
    ["comments", String(rows.filter((r) => r.moderation !== "rejected").length)],
    ["conversation-description", conversation.description ?? ""],
  ];
  return {
    conversation: conversation.name,
    summary: Object.fromEntries(summary),
    statements: rows.map((row) => {
      const id = idOf.get(row.id)!;
      return {
        id,
        author: row.author,
        body: row.body,
        moderated: row.polisModerated ?? (row.moderation === "rejected" ? -1 : row.moderation === "accepted" ? 1 : 0),
        agrees: counts.get(id)?.[0] ?? 0,
        disagrees: counts.get(id)?.[1] ?? 0,
        ...(row.createdAt ? { timestamp: row.createdAt.getTime() } : {}),
      };
    }),
    votes,
    participants,
  };
}
