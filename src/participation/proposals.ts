/**
 * Proposals: a member puts a change set against a policy's newest version
 * to the community's vote. The community's decision rule for the strictest
 * authority level the changes touch decides; the tally is computed when the
 * proposal closes (a scheduled job, src/app/scheduler.ts, closes what is
 * due). An adopted proposal changes the draft, or publishes a version
 * directly, whose provenance names the proposal and its tally.
 */
import { and, asc, eq, lte } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { communities, partnerVotes, proposalVotes, proposals } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import type { Community } from "../communities.ts";
import { listMembers, memberRole } from "../communities.ts";
import { ConflictError, ForbiddenError, InvalidInputError } from "../errors.ts";
import { AUTHORITY_LEVELS, type AuthorityLevel } from "../policies/content.ts";
import { applyChangeSet, changeSetSchema, type ChangeSet } from "../policies/changeset.ts";
import { getDraft, headVersion, saveDraft, versionContent, type Policy } from "../policies/policies.ts";
import { proposalIri as proposalIriOf } from "../policies/iris.ts";
import type { PolicyContent } from "../policies/content.ts";
import { communityRulesSchema, DEFAULT_RULES, rulesFor, strictestLevel, tally, tallyRecord, type Tally } from "./decision.ts";

export type Proposal = typeof proposals.$inferSelect;
export type VoteValue = "yes" | "no" | "abstain" | "block";

/** A proposal's IRI: under its policy's (what followers and Mastodon see as the poll). */
export function proposalIri(policy: Pick<Policy, "iri">, proposal: Pick<Proposal, "id">): string {
  return proposalIriOf(policy.iri, proposal.id);
}

/** Authority levels a change set touches (a reorder touches every clause it moves). */
export function levelsTouched(changes: ChangeSet, base: { clauses: { id: string; authority: AuthorityLevel }[] }): AuthorityLevel[] {
  const byId = new Map(base.clauses.map((c) => [c.id, c.authority]));
  const levels = new Set<AuthorityLevel>();
  for (const op of changes.operations) {
    if (op.op === "add") levels.add(op.clause.authority);
    if (op.op === "edit") {
      levels.add(op.before.authority);
      levels.add(op.after.authority);
    }
    if (op.op === "remove") levels.add(op.before.authority);
    if (op.op === "reorder") for (const id of op.order) levels.add(byId.get(id) ?? "guideline");
  }
  return levels.size > 0 ? [...levels] : ["guideline"];
}

/** The community's overrides of the default decision rules. */
export async function communityRules(db: Db, community: Community) {
  const row = await first(db.select({ rules: communities.decisionRules }).from(communities).where(eq(communities.id, community.id)).limit(1));
  return communityRulesSchema.parse(row?.rules ?? {});
}

export async function createProposal(
  db: Db,
  input: { policy: Policy; community: Community; author: User; title: string; summary?: string; changes: unknown; closesAt?: Date; offerIri?: string; now?: Date },
): Promise<Proposal> {
  if (!await memberRole(db, input.community, input.author) && !input.author.isAdmin) {
    throw new ForbiddenError(`Only members of "${input.community.handle}" can propose changes to its policies.`);
  }
  const parsed = changeSetSchema.safeParse(input.changes);
  if (!parsed.success) {
    throw new InvalidInputError(`changes: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const head = await headVersion(db, input.policy);
  if (!head) throw new InvalidInputError(`"${input.policy.title}" has no published version to propose changes to.`);
  if (parsed.data.base.contentHash !== head.contentHash) {
    throw new ConflictError(`The changes are based on ${parsed.data.base.contentHash}, but the newest version (${head.number}) is ${head.contentHash}: rebase them.`);
  }
  const base = versionContent(head);
  const trial = applyChangeSet(base, parsed.data);
  if (trial.conflicts.length > 0) {
    throw new ConflictError(`The changes do not apply to version ${head.number}: ${trial.conflicts.map((c) => `${c.id} (${c.reason})`).join("; ")}.`);
  }
  const level = strictestLevel(levelsTouched(parsed.data, base));
  const rule = rulesFor(level, await communityRules(db, input.community));
  const now = input.now ?? new Date();
  const closesAt = input.closesAt ?? defaultClosesAt(level, rule.minOpenHours, now);
  if (closesAt.getTime() <= now.getTime()) {
    throw new InvalidInputError(`The closing time must be in the future (it was ${closesAt.toISOString()}, and it is now ${now.toISOString()}).`);
  }
  return (await first(db
    .insert(proposals)
    .values({
      policyId: input.policy.id,
      authorId: input.author.id,
      title: input.title,
      summary: input.summary ?? "",
      changes: parsed.data as unknown as Record<string, unknown>,
      baseVersionIri: head.iri,
      level,
      openedAt: now,
      closesAt,
      offerIri: input.offerIri ?? null,
    })
    .returning()))!;
}

/**
 * When a proposal given no closing time closes: after the rule's minimum
 * open time. Rules set today cannot have a minimum of 0 hours (see
 * decisionRulesInput in src/app/proposals.ts), but a community may have
 * stored one earlier; its proposals then stay open the level's default time
 * rather than closing as they open.
 */
function defaultClosesAt(level: AuthorityLevel, minOpenHours: number, now: Date): Date {
  const hours = minOpenHours > 0 ? minOpenHours : DEFAULT_RULES[level].minOpenHours;
  return new Date(now.getTime() + hours * 3600_000);
}

export function proposalChanges(proposal: Proposal): ChangeSet {
  return changeSetSchema.parse(proposal.changes);
}

export async function listProposals(db: Db, policy: Policy): Promise<Proposal[]> {
  return await db.select().from(proposals).where(eq(proposals.policyId, policy.id)).orderBy(asc(proposals.id));
}

export async function findProposal(db: Db, id: number): Promise<Proposal | undefined> {
  return await first(db.select().from(proposals).where(eq(proposals.id, id)).limit(1));
}

/** The proposal an offer received was accepted as, if it was. */
export async function findProposalFromOffer(db: Db, offerIri: string): Promise<Proposal | undefined> {
  return await first(db.select().from(proposals).where(eq(proposals.offerIri, offerIri)).limit(1));
}

async function votesOf(db: Db, proposal: Proposal) {
  const local = (await db
    .select()
    .from(proposalVotes)
    .where(eq(proposalVotes.proposalId, proposal.id)))
    .map((vote) => ({ member: String(vote.userId), value: vote.value, at: vote.at }));
  const partners = (await db
    .select()
    .from(partnerVotes)
    .where(eq(partnerVotes.proposalId, proposal.id)))
    .map((vote) => ({ member: vote.actorIri, value: vote.value, at: vote.at }));
  return { votes: [...local, ...partners], partnerVoters: partners.length };
}

/**
 * The tally now: provisional while open, final once closed. Members of
 * partner instances who voted count as eligible members too (their
 * instances' member lists are not ours to know).
 */
export async function currentTally(db: Db, proposal: Proposal, community: Community, now = new Date()): Promise<Tally> {
  const rule = rulesFor(proposal.level as AuthorityLevel, await communityRules(db, community));
  const { votes, partnerVoters } = await votesOf(db, proposal);
  return tally(votes, { members: (await listMembers(db, community)).length + partnerVoters, rule, openedAt: proposal.openedAt, closesAt: proposal.closesAt, now });
}

export async function communityPartners(db: Db, community: Community): Promise<string[]> {
  return (await first(db.select({ partners: communities.partners }).from(communities).where(eq(communities.id, community.id)).limit(1)))?.partners ?? [];
}

/** A vote signed by a member of a partner instance; refused unless the instance is a partner. */
export async function castPartnerVote(db: Db, proposal: Proposal, community: Community, actorIri: string, value: VoteValue, now = new Date()): Promise<Tally> {
  const host = new URL(actorIri).host.toLowerCase();
  if (!(await communityPartners(db, community)).map((p) => p.toLowerCase()).includes(host)) {
    throw new ForbiddenError(`${host} is not a partner instance of "${community.handle}".`);
  }
  const current = await currentTally(db, proposal, community, now);
  if (proposal.state !== "open" || current.state !== "open") throw new ConflictError(`Voting on proposal ${proposal.id} is closed.`);
  await db.insert(partnerVotes)
    .values({ proposalId: proposal.id, actorIri, value, at: now })
    .onConflictDoUpdate({ target: [partnerVotes.proposalId, partnerVotes.actorIri], set: { value, at: now } });
  return await currentTally(db, proposal, community, now);
}

export async function castVote(db: Db, proposal: Proposal, community: Community, user: User, value: VoteValue, now = new Date()): Promise<Tally> {
  if (!await memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" vote on its proposals.`);
  const current = await currentTally(db, proposal, community, now);
  if (proposal.state !== "open" || current.state !== "open") {
    throw new ConflictError(`Voting on proposal ${proposal.id} closed at ${(proposal.closedAt ?? proposal.closesAt).toISOString()}.`);
  }
  await db.insert(proposalVotes)
    .values({ proposalId: proposal.id, userId: user.id, value, at: now })
    .onConflictDoUpdate({ target: [proposalVotes.proposalId, proposalVotes.userId], set: { value, at: now } });
  return await currentTally(db, proposal, community, now);
}

/** The user's own (local) vote on a proposal, if any. */
export async function myVote(db: Db, proposal: Proposal, user: User): Promise<VoteValue | undefined> {
  return (await first(db
    .select({ value: proposalVotes.value })
    .from(proposalVotes)
    .where(and(eq(proposalVotes.proposalId, proposal.id), eq(proposalVotes.userId, user.id))).limit(1)))?.value;
}

/** What closing a proposal now would do; nothing is written. */
export interface ClosingOutcome {
  tally: Tally;
  /** The tally as recorded on the proposal (and as a published version's provenance). */
  record: Record<string, unknown>;
  /** The draft with the adopted changes (undefined when rejected, or when they no longer apply). */
  draft?: PolicyContent;
  /** Adopted in a community that publishes adopted changes at once. */
  publish: boolean;
}

/**
 * Whether the proposal closes now and how: undefined while it is open (its
 * closing time or the rule's minimum open time has not passed) or when it
 * is already closed. Adopted changes that no longer apply to the draft are
 * recorded as adopted but not applied, with the reason.
 */
export async function closingOutcome(db: Db, proposal: Proposal, policy: Policy, community: Community, now: Date): Promise<ClosingOutcome | undefined> {
  if (proposal.state !== "open" || proposal.closesAt.getTime() > now.getTime()) return undefined;
  const result = await currentTally(db, proposal, community, now);
  if (result.state === "open") return undefined;
  const record = tallyRecord(result) as unknown as Record<string, unknown>;
  let draft: PolicyContent | undefined;
  if (result.state === "adopted") {
    const applied = applyChangeSet(getDraft(policy), proposalChanges(proposal));
    if (applied.conflicts.length > 0) record.notApplied = applied.conflicts.map((c) => `${c.id}: ${c.reason}`);
    else draft = applied.content;
  }
  const mode = (await first(db.select({ mode: communities.adoptMode }).from(communities).where(eq(communities.id, community.id)).limit(1)))?.mode;
  return { tally: result, record, draft, publish: draft !== undefined && mode === "publish" };
}

/** Open proposals (of any policy) whose closing time has come, oldest first. */
export async function dueProposals(db: Db, now: Date): Promise<Proposal[]> {
  return await db.select().from(proposals).where(and(eq(proposals.state, "open"), lte(proposals.closesAt, now))).orderBy(asc(proposals.id));
}

/**
 * Closes one proposal whose time has come (see closingOutcome), in one
 * transaction: adopted changes go into the draft, the tally is recorded.
 * Returns undefined when it does not close now.
 */
export async function closeProposal(
  db: Db,
  proposalId: number,
  policy: Policy,
  community: Community,
  now: Date,
): Promise<{ proposal: Proposal; outcome: ClosingOutcome } | undefined> {
  return await db.transaction(async () => {
    const current = await findProposal(db, proposalId);
    const outcome = current ? await closingOutcome(db, current, policy, community, now) : undefined;
    if (!current || !outcome) return undefined;
    if (outcome.draft) await saveDraft(db, policy, outcome.draft);
    const [updated] = await db.update(proposals).set({ state: outcome.tally.state, tally: outcome.record, closedAt: now }).where(eq(proposals.id, current.id)).returning();
    return { proposal: updated!, outcome };
  });
}

/** Adopted proposals already in the draft, not yet in a published version. */
export async function adoptedUnpublished(db: Db, policy: Policy): Promise<Proposal[]> {
  return (await db
    .select()
    .from(proposals)
    .where(and(eq(proposals.policyId, policy.id), eq(proposals.state, "adopted")))
    .orderBy(asc(proposals.id)))
    .filter((p) => p.resultVersionIri === null && !(p.tally as { notApplied?: unknown } | null)?.notApplied);
}

export async function recordResultVersion(db: Db, proposal: Proposal, versionIri: string): Promise<void> {
  await db.update(proposals).set({ resultVersionIri: versionIri }).where(eq(proposals.id, proposal.id));
}

export { AUTHORITY_LEVELS };
