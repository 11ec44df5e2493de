/**
 * Use cases of statements (Polis style): stewards import and moderate,
 * members submit and vote agree / disagree / pass, anyone reads the
 * statements and the opinion landscape, members export the votes. Nothing
 * here federates.
 */
import { findCommunityById, getCommunity, memberRole, type Community } from "../communities.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { conversationImportSchema, conversationName, exportConversation, importConversation, listConversations, opinionInput, resolveScope } from "../participation/conversations.ts";
import { bridgingScores, opinionGroups, statementStats } from "../participation/opinions.ts";
import { getStatement, listStatements, moderateStatement as moderateRow, statementTallies, submitStatement as submitRow, voteOnStatement } from "../participation/statements.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import { assertSteward, isMember, isSteward, requireSignedIn, type Viewer } from "./permissions.ts";

export { conversationImportSchema as StatementImportInput };

/** One conversation by name, or every conversation of the community with across=true. */
export const ScopeQuery = z.object({
  community: z.string(),
  conversation: conversationName.optional(),
  across: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true"),
});
export type Scope = z.output<typeof ScopeQuery>;

export const NewStatementInput = z
  .object({ community: z.string(), body: z.string().trim().min(1, "must not be empty").max(1000), clauseId: z.string().optional(), conversation: conversationName.optional() })
  .strict()
  .openapi("NewStatement");
export const StatementVoteInput = z.object({ value: z.enum(["agree", "disagree", "pass"]) }).strict().openapi("StatementVote");
export const ModerationInput = z.object({ decision: z.enum(["accepted", "rejected"]) }).strict().openapi("Moderation");

const VOTE = { agree: 1, disagree: -1, pass: 0 } as const;

async function communityOf(ctx: AppContext, id: number): Promise<Community> {
  const community = await findCommunityById(ctx.db, id);
  if (!community) throw new NotFoundError("The community of this statement no longer exists.");
  return community;
}

/** Stewards import a Polis conversation (as read from its export) into a new or named conversation. */
export async function importStatements(ctx: AppContext, viewer: Viewer, data: z.output<typeof conversationImportSchema>) {
  const community = await getCommunity(ctx.db, data.community);
  await assertSteward(ctx.db, community, viewer);
  return await importConversation(ctx.db, community, data);
}

export interface ConversationSummary {
  name: string;
  source: string;
  topic: string | null;
  url: string | null;
  description: string | null;
}

export async function communityConversations(ctx: AppContext, handle: string): Promise<ConversationSummary[]> {
  return (await listConversations(ctx.db, await getCommunity(ctx.db, handle))).map((x) => ({ name: x.name, source: x.source, topic: x.topic, url: x.url, description: x.description }));
}

/** Members (and admins) export the votes of one conversation, or of all. */
export async function exportStatements(ctx: AppContext, viewer: Viewer, query: Scope) {
  const community = await getCommunity(ctx.db, query.community);
  const user = requireSignedIn(viewer);
  if (!await isMember(ctx.db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" can export its votes.`);
  const exports = await Promise.all((await resolveScope(ctx.db, community, query)).map((x) => exportConversation(ctx.db, x)));
  if (query.across) return { conversations: exports };
  if (exports.length === 0) throw new NotFoundError(`"${community.handle}" has no statements yet.`);
  return exports[0]!;
}

export interface StatementRow {
  id: number;
  statement: string;
  conversation: string | undefined;
  body: string;
  author: string;
  clauseId: string | null;
  moderation: string;
  agrees: number;
  disagrees: number;
  passes: number;
  myVote?: "agree" | "disagree" | "pass" | null;
}

/**
 * A community's statements with vote counts and (for members) the viewer's
 * vote; stewards also see those awaiting moderation.
 */
export async function communityStatements(ctx: AppContext, viewer: Viewer, query: Scope): Promise<StatementRow[]> {
  const community = await getCommunity(ctx.db, query.community);
  const role = viewer ? await memberRole(ctx.db, community, viewer) : undefined;
  const steward = await isSteward(ctx.db, community, viewer);
  const names = new Map((await resolveScope(ctx.db, community, query)).map((x) => [x.id, x.name]));
  return (await statementTallies(ctx.db, community, [...names.keys()], role ? viewer : undefined))
    .filter((row) => row.moderation === "accepted" || steward)
    .map((row) => ({
      id: row.id,
      statement: row.externalId ?? `f${row.id}`,
      conversation: names.get(row.conversationId!),
      body: row.body,
      author: row.author,
      clauseId: row.clauseId,
      moderation: row.moderation,
      agrees: row.agrees,
      disagrees: row.disagrees,
      passes: row.passes,
      ...(role ? { myVote: row.myVote === 1 ? "agree" : row.myVote === -1 ? "disagree" : row.myVote === 0 ? "pass" : null } : {}),
    }));
}

/** A member submits a statement; stewards moderate it before it is voted on. */
export async function submitStatement(ctx: AppContext, viewer: Viewer, input: z.output<typeof NewStatementInput>) {
  const user = requireSignedIn(viewer);
  const statement = await submitRow(ctx.db, await getCommunity(ctx.db, input.community), user, input.body, input.clauseId, input.conversation);
  return { id: statement.id, body: statement.body, moderation: statement.moderation };
}

/** Stewards accept or reject a submitted statement. */
export async function moderateStatement(ctx: AppContext, viewer: Viewer, id: number, decision: "accepted" | "rejected") {
  const statement = await getStatement(ctx.db, id);
  await assertSteward(ctx.db, await communityOf(ctx, statement.communityId), viewer);
  const updated = await moderateRow(ctx.db, statement, decision);
  return { id: updated.id, moderation: updated.moderation };
}

/** A member agrees, disagrees or passes (and may change their vote). */
export async function voteOnStatementAs(ctx: AppContext, viewer: Viewer, id: number, value: "agree" | "disagree" | "pass") {
  const user = requireSignedIn(viewer);
  const statement = await getStatement(ctx.db, id);
  await voteOnStatement(ctx.db, await communityOf(ctx, statement.communityId), statement, user, VOTE[value]);
  return { id: statement.id, recorded: value };
}

/**
 * The opinion landscape of one conversation or (across) the whole community:
 * groups as Polis computes them, each statement's support per group,
 * group-informed consensus and bridging scores.
 */
export async function opinions(ctx: AppContext, query: Scope & { seed?: number }) {
  const community = await getCommunity(ctx.db, query.community);
  const scope = await resolveScope(ctx.db, community, query);
  const { votes, moderatedOut } = await opinionInput(ctx.db, scope);
  const conversations = scope.map((x) => x.name);
  const hidden = new Set(moderatedOut);
  const shown = votes.filter((v) => !hidden.has(v.statement));
  if (shown.length === 0) return { conversations, participants: 0, groups: [], projection: [], statements: [], consensus: [], bridging: [] };
  const labels = new Map(
    (await listStatements(ctx.db, scope.map((x) => x.id))).map((s) => [String(s.id), { statement: s.externalId ?? `f${s.id}`, body: s.body, conversation: scope.find((x) => x.id === s.conversationId)?.name }]),
  );
  const seed = query.seed ?? 42;
  const groups = opinionGroups(votes, { seed, moderatedOut });
  const stats = statementStats(shown, groups.groups);
  const bridging = bridgingScores(shown, { seed });
  const label = (id: string) => labels.get(id) ?? { statement: id, body: "", conversation: undefined };
  const round = (x: number) => Number(x.toFixed(4));
  return {
    conversations,
    participants: groups.projection.length,
    k: groups.k,
    silhouettes: groups.silhouettes,
    /** "silhouette", or "stability" with the best k of each leave-one-fold-out run when k was a close call. */
    kSelection: groups.kSelection,
    baseClusters: groups.baseClusters,
    /** What this snapshot cannot reproduce of Polis' history-dependent computation. */
    snapshotLimits: groups.snapshotLimits,
    groups: groups.groups.map((g) => ({ id: g.id, size: g.members.length })),
    excluded: groups.excluded,
    /** Each clustered participant on the first two principal components, with their group. */
    projection: groups.projection.map((p) => ({ participant: p.participant, x: round(p.x), y: round(p.y), group: p.group })),
    /** Each statement's support per group. */
    statements: stats.statements.map((s) => ({ ...label(s.statement), id: Number(s.statement), consensus: s.consensus, groups: s.groups })),
    consensus: stats.consensus.map((s) => ({ ...s, ...label(s.statement) })),
    bridging: [...bridging.statements].sort((x, y) => y.intercept - x.intercept).map((s) => ({ ...s, ...label(s.statement) })),
  };
}
