/**
 * Use cases of proposals and votes: a member proposes a change set and
 * votes; a member of a partner instance's community votes from there; the
 * stewards set the decision rules; the scheduled job closes what is due
 * (./scheduler.ts), changing the draft or publishing a version. Reads
 * (`proposalDetails`, `policyProposals`, `decisionRules`, `remoteVotes`)
 * never change anything: a proposal past its closing time stays open until
 * the job closes it, and a vote on it is refused meanwhile.
 */
import { getLogger } from "@logtape/logtape";
import { eq } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import { communities } from "../../db/schema.ts";
import { findCommunityById, getCommunity, type Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError, RemoteError } from "../errors.ts";
import { AUTHORITY_LEVELS, type AuthorityLevel } from "../policies/content.ts";
import { communityRulesSchema, decisionRuleSchema, describeTally, rulesFor, VOTE_VALUES, type DecisionRule } from "../participation/decision.ts";
import {
  castVote as castVoteRow,
  closeProposal,
  closingOutcome,
  communityRules,
  createProposal as createProposalRow,
  currentTally,
  dueProposals,
  findProposal,
  listProposals,
  myVote,
  proposalChanges,
  proposalIri,
  type Proposal,
} from "../participation/proposals.ts";
import { listSentVotes, recordSentVote, type SentVote } from "../participation/sent-votes.ts";
import { applyChangeSet, changeSetFromContents, changeSetSchema, describeChangeSet, type ChangeSet } from "../policies/changeset.ts";
import { clauseIdSchema, clauseSchema, type PolicyContent } from "../policies/content.ts";
import { findPolicyById, getPolicyById, headVersion, versionContent, type Policy } from "../policies/policies.ts";
import { applyDraftStep, deleteProposalDraft, draftChanges, findProposalDraft, storeProposalDraft } from "../participation/proposal-drafts.ts";
import type { User } from "../accounts/users.ts";
import { contentHash } from "../policies/hash.ts";
import { commitPublication, preparePublication } from "./policies.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import { except, notifyProposalClosed, notifyProposalOpened, recipients } from "./notifications.ts";
import { recordEffect } from "./outbox.ts";
import { assertMember, assertSteward, requireSignedIn, type Viewer } from "./permissions.ts";
import { first } from "../../db/client.ts";

const logger = getLogger(["fedalign", "app", "proposals"]);

// ---------------------------------------------------------------- inputs

export const NewProposalInput = z
  .object({
    title: z.string().trim().min(1, "must not be empty").max(300),
    summary: z.string().max(5000).optional(),
    changes: changeSetSchema.openapi({ description: "A change set against the newest version (see `fedalign policy` and src/policies/changeset.ts)" }),
    closesAt: z.string().datetime({ offset: true, message: "must be a date and time, e.g. 2026-12-01T18:00:00Z" }).optional(),
  })
  .strict()
  .openapi("NewProposal");
export type NewProposal = z.input<typeof NewProposalInput>;

/** One step of building a proposal in the web builder: edit or add a clause, remove, move, or undo the changes to one. */
export const ProposalDraftStep = z
  .discriminatedUnion("action", [
    z.object({ action: z.literal("put"), clause: clauseSchema, after: clauseIdSchema.nullable().optional() }).strict(),
    z.object({ action: z.literal("remove"), id: clauseIdSchema }).strict(),
    z.object({ action: z.literal("move"), id: clauseIdSchema, after: clauseIdSchema.nullable() }).strict(),
    z.object({ action: z.literal("undo"), id: clauseIdSchema }).strict(),
  ])
  .openapi("ProposalDraftStep");

/** Opening the proposal built so far: everything a proposal has but its changes, which are the draft's. */
export const DraftProposalInput = NewProposalInput.omit({ changes: true }).openapi("ProposalFromDraft");

export const VoteInput = z.object({ value: z.enum(VOTE_VALUES) }).strict().openapi("Vote");
export const RemoteVoteInput = z.object({ proposal: z.string().url(), value: z.enum(VOTE_VALUES) }).strict().openapi("RemoteVote");

/**
 * A rule as stewards set it: like a stored rule, but a minimum open time of
 * 0 is refused here, where it is set, because a proposal opened without a
 * closing time stays open exactly that long.
 */
const settableRuleSchema = decisionRuleSchema
  .partial()
  .extend({
    minOpenHours: z
      .number({ error: "minOpenHours must be a number of hours" })
      .gt(0, "must be more than 0 hours: a proposal opened without a closing time stays open this long (0.5 is half an hour)")
      .max(24 * 365, "must be at most a year (8760 hours)")
      .optional(),
  })
  .strict();

export const DecisionRulesInput = z
  .object({
    rules: z
      .object(Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, settableRuleSchema.optional()])) as Record<AuthorityLevel, z.ZodOptional<typeof settableRuleSchema>>)
      .strict()
      .optional(),
    adoptMode: z.enum(["draft", "publish"]).optional(),
    partners: z.array(z.string().trim().min(1).max(255)).max(100).optional().openapi({ description: "Hosts of instances whose members may vote" }),
  })
  .strict()
  .openapi("DecisionRulesChanges");

// ---------------------------------------------------------------- reads

export interface ProposalDetails {
  id: number;
  iri: string;
  policy: string;
  policyId: number;
  community: string;
  title: string;
  summary: string;
  changes: string;
  level: string;
  baseVersion: string;
  openedAt: string;
  closesAt: string;
  state: "open" | "adopted" | "rejected";
  tally: { state: string; reason: string; counts: { yes: number; no: number; abstain: number; block: number }; voters: number; members: number; notApplied?: string[] };
  description: string;
  resultVersion: string | null;
  /** The rule that decides it (the strictest level touched, with the community's overrides); `threshold` in words. */
  rule: Omit<DecisionRule, "threshold"> & { level: string; quorumNeeded: number; threshold: string };
  effectiveClosesAt: string;
  myVote?: (typeof VOTE_VALUES)[number] | null;
}

/** The community that decides on a policy's proposals; a mirrored policy's community is elsewhere. */
export async function deciderOf(ctx: AppContext, policy: Policy): Promise<Community> {
  const community = policy.communityId !== null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
  if (!community) throw new InvalidInputError(`${policy.iri} belongs to another instance; propose changes there (or offer them from a fork).`);
  return community;
}

async function details(ctx: AppContext, policy: Policy, community: Community, proposal: Proposal, viewer?: Viewer): Promise<ProposalDetails> {
  const tally = await currentTally(ctx.db, proposal, community, ctx.clock.now());
  const stored = proposal.tally as ProposalDetails["tally"] | null;
  return {
    id: proposal.id,
    iri: proposalIri(policy, proposal),
    policy: policy.iri,
    policyId: policy.id,
    community: community.handle,
    title: proposal.title,
    summary: proposal.summary,
    changes: describeChangeSet(proposalChanges(proposal)),
    level: proposal.level,
    baseVersion: proposal.baseVersionIri,
    openedAt: proposal.openedAt.toISOString(),
    closesAt: proposal.closesAt.toISOString(),
    state: proposal.state as ProposalDetails["state"],
    tally: stored ?? { state: tally.state, reason: tally.reason, counts: tally.counts, voters: tally.voters, members: tally.members },
    description: describeTally(tally),
    resultVersion: proposal.resultVersionIri,
    rule: { level: proposal.level, ...tally.rule, quorumNeeded: tally.quorumNeeded, threshold: tally.threshold },
    effectiveClosesAt: tally.closesAt.toISOString(),
    ...(viewer ? { myVote: await myVote(ctx.db, proposal, viewer) ?? null } : {}),
  };
}

/** A policy's proposals with their (provisional or final) tallies, oldest first. */
export async function policyProposals(ctx: AppContext, policyId: number): Promise<ProposalDetails[]> {
  const policy = await getPolicyById(ctx.db, policyId);
  const community = await deciderOf(ctx, policy);
  return await Promise.all((await listProposals(ctx.db, policy)).map((proposal) => details(ctx, policy, community, proposal)));
}

export async function findProposalOrThrow(ctx: AppContext, id: number): Promise<Proposal> {
  const proposal = await findProposal(ctx.db, id);
  if (!proposal) throw new NotFoundError(`No proposal ${id}.`);
  return proposal;
}

/** One proposal with its tally, the rule that decides it and (signed in) the viewer's vote. */
export async function proposalDetails(ctx: AppContext, id: number, viewer?: Viewer): Promise<ProposalDetails> {
  const proposal = await findProposalOrThrow(ctx, id);
  const policy = await getPolicyById(ctx.db, proposal.policyId);
  return await details(ctx, policy, await deciderOf(ctx, policy), proposal, viewer);
}

export interface DecisionRulesView {
  rules: Record<string, unknown>;
  effective: Record<AuthorityLevel, DecisionRule>;
  adoptMode: "draft" | "publish";
  partners: string[];
}

/** The community's overrides, the effective rule per authority level, adoption mode and partner instances. */
export async function decisionRules(ctx: AppContext, handle: string): Promise<DecisionRulesView> {
  const community = await getCommunity(ctx.db, handle);
  const row = (await first(
    ctx.db
      .select({ rules: communities.decisionRules, adoptMode: communities.adoptMode, partners: communities.partners })
      .from(communities)
      .where(eq(communities.id, community.id))
      .limit(1),
  ))!;
  const overrides = await communityRules(ctx.db, community);
  return {
    rules: (row.rules ?? {}) as Record<string, unknown>,
    effective: Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, rulesFor(level, overrides)])) as Record<AuthorityLevel, DecisionRule>,
    adoptMode: row.adoptMode as "draft" | "publish",
    partners: row.partners ?? [],
  };
}

export interface SentVoteView {
  proposal: string;
  value: string;
  state: "sent" | "refused";
  reason: string | null;
  sentAt: string;
  answeredAt: string | null;
}

function sentVoteView(vote: SentVote): SentVoteView {
  return {
    proposal: vote.proposalIri,
    value: vote.value,
    state: vote.state as SentVoteView["state"],
    reason: vote.reason,
    sentAt: vote.sentAt.toISOString(),
    answeredAt: vote.answeredAt?.toISOString() ?? null,
  };
}

/** The viewer's votes on other instances' proposals, newest first: sent, or refused with the community's reason. */
export async function remoteVotes(ctx: AppContext, viewer: Viewer, proposal?: string): Promise<SentVoteView[]> {
  const user = requireSignedIn(viewer);
  return (await listSentVotes(ctx.db, ctx.federation.actorIri(user.username), proposal)).map(sentVoteView);
}

// ---------------------------------------------------------------- changes

/** A member proposes a change set against the policy's newest version; followers see the poll open. */
export async function createProposal(ctx: AppContext, viewer: Viewer, policyId: number, input: z.output<typeof NewProposalInput>): Promise<ProposalDetails> {
  const policy = await getPolicyById(ctx.db, policyId);
  const community = await deciderOf(ctx, policy);
  const author = await assertMember(ctx.db, community, viewer);
  return await openProposal(ctx, policy, community, author, input);
}

/** Opens the proposal with its effect in one transaction, plus whatever `alongside` must commit with it. */
async function openProposal(
  ctx: AppContext,
  policy: Policy,
  community: Community,
  author: User,
  input: z.output<typeof NewProposalInput>,
  alongside?: () => Promise<unknown> | void,
): Promise<ProposalDetails> {
  const now = ctx.clock.now();
  const proposal = await ctx.db.transaction(async () => {
    const row = await createProposalRow(ctx.db, {
      policy,
      community,
      author,
      title: input.title,
      summary: input.summary,
      changes: input.changes,
      closesAt: input.closesAt ? new Date(input.closesAt) : undefined,
      now,
    });
    await recordEffect(ctx.db, { kind: "proposal.opened", proposalId: row.id }, now);
    await notifyProposalOpened(ctx.db, except(await recipients.ofProposal(ctx.db, ctx.origin, policy, community.id), author.id), { ...row, iri: proposalIri(policy, row) }, policy, now);
    // In the same transaction (database work only): the draft goes with the proposal it became.
    await alongside?.();
    return row;
  });
  return await details(ctx, policy, community, proposal);
}

// ---------------------------------------------------------------- building a proposal

export interface ProposalDraftView {
  policyId: number;
  /** The newest version, which the proposal will amend. */
  baseVersion: { iri: string; number: number };
  base: PolicyContent;
  /** The base with the changes so far. */
  working: PolicyContent;
  changes: ChangeSet;
  /** "2 clauses edited, 1 added; order changed", or "No changes". */
  summary: string;
  /** Changes made before a newer version was published that no longer apply to it, and why. */
  lost: { id: string; reason: string }[];
}

/** The member's draft against the newest version: a draft begun on an older one is carried over, change by change. */
async function loadDraft(ctx: AppContext, policy: Policy, user: User): Promise<ProposalDraftView> {
  const head = await headVersion(ctx.db, policy);
  if (!head) throw new InvalidInputError(`"${policy.title}" has no published version yet; proposals amend the newest published version.`);
  const base = versionContent(head);
  const draft = await findProposalDraft(ctx.db, policy.id, user.id);
  const applied = draft ? applyChangeSet(base, draftChanges(draft)) : undefined;
  const working = applied?.content ?? base;
  const changes = changeSetFromContents(base, working);
  return {
    policyId: policy.id,
    baseVersion: { iri: head.iri, number: head.number },
    base,
    working,
    changes,
    summary: describeChangeSet(changes),
    lost: (applied?.conflicts ?? []).map((conflict) => ({ id: conflict.id, reason: conflict.reason })),
  };
}

async function draftOwner(ctx: AppContext, viewer: Viewer, policyId: number) {
  const policy = await getPolicyById(ctx.db, policyId);
  const community = await deciderOf(ctx, policy);
  return { policy, community, user: await assertMember(ctx.db, community, viewer) };
}

/** The proposal a member is building for a policy (empty when they have not started). */
export async function proposalDraft(ctx: AppContext, viewer: Viewer, policyId: number): Promise<ProposalDraftView> {
  const { policy, user } = await draftOwner(ctx, viewer, policyId);
  return await loadDraft(ctx, policy, user);
}

/** One step of building: the draft is stored at once, so nothing is lost between pages. */
export async function changeProposalDraft(ctx: AppContext, viewer: Viewer, policyId: number, step: z.output<typeof ProposalDraftStep>): Promise<ProposalDraftView> {
  const { policy, user } = await draftOwner(ctx, viewer, policyId);
  const view = await loadDraft(ctx, policy, user);
  const working = applyDraftStep(view.base, view.working, step);
  const changes = changeSetSchema.parse(changeSetFromContents(view.base, working));
  await storeProposalDraft(ctx.db, { policyId: policy.id, userId: user.id, baseVersionIri: view.baseVersion.iri, changes, now: ctx.clock.now() });
  return await loadDraft(ctx, policy, user);
}

/** Drops the whole draft. */
export async function discardProposalDraft(ctx: AppContext, viewer: Viewer, policyId: number): Promise<void> {
  const { policy, user } = await draftOwner(ctx, viewer, policyId);
  await deleteProposalDraft(ctx.db, policy.id, user.id);
}

/** Opens the proposal built so far; the draft goes in the same transaction. */
export async function openDraftProposal(ctx: AppContext, viewer: Viewer, policyId: number, input: z.output<typeof DraftProposalInput>): Promise<ProposalDetails> {
  const { policy, community, user } = await draftOwner(ctx, viewer, policyId);
  const view = await loadDraft(ctx, policy, user);
  if (view.changes.operations.length === 0) throw new InvalidInputError("Make at least one change before opening the proposal: edit, add, remove or move a clause.");
  return await openProposal(ctx, policy, community, user, { ...input, changes: view.changes }, async () => await deleteProposalDraft(ctx.db, policy.id, user.id));
}

/** A member votes (or changes their vote) while the proposal is open. */
export async function castVote(ctx: AppContext, viewer: Viewer, proposalId: number, value: (typeof VOTE_VALUES)[number]): Promise<ProposalDetails> {
  const user = requireSignedIn(viewer);
  const proposal = await findProposalOrThrow(ctx, proposalId);
  const policy = await getPolicyById(ctx.db, proposal.policyId);
  const community = await deciderOf(ctx, policy);
  await castVoteRow(ctx.db, proposal, community, user, value, ctx.clock.now());
  return await details(ctx, policy, community, (await findProposal(ctx.db, proposal.id))!, user);
}

/**
 * A member votes on another instance's proposal, as a member of a partner
 * instance. The poll and its community are looked up first; then the vote
 * is recorded with its activity's IRIs and sent from the outbox. The
 * community answers a vote it does not count with a Reject (remoteVotes).
 */
export async function sendPartnerVote(ctx: AppContext, viewer: Viewer, input: z.output<typeof RemoteVoteInput>): Promise<SentVoteView> {
  const user = requireSignedIn(viewer);
  let owner: string;
  try {
    owner = await ctx.federation.resolvePollOwner(input.proposal);
  } catch (error) {
    throw new RemoteError(`Cannot vote on ${input.proposal}: ${(error as Error).message}.`);
  }
  const actor = ctx.federation.actorIri(user.username);
  const now = ctx.clock.now();
  const sent = await ctx.db.transaction(async () => {
    const row = await recordSentVote(
      ctx.db,
      { activityIri: `${actor}#create/${randomUUID()}`, noteIri: `${actor}#vote/${randomUUID()}`, voterIri: actor, proposalIri: input.proposal, ownerIri: owner, value: input.value },
      now,
    );
    await recordEffect(ctx.db, { kind: "vote.sent", sentVoteId: row.id, identifier: user.username }, now);
    return row;
  });
  return sentVoteView(sent);
}

/** Stewards set the decision rules per authority level, the adoption mode and partner instances. */
export async function setDecisionRules(ctx: AppContext, viewer: Viewer, handle: string, input: z.output<typeof DecisionRulesInput>): Promise<DecisionRulesView> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  if (input.rules) communityRulesSchema.parse(input.rules); // what is stored must read back
  await ctx.db
    .update(communities)
    .set({
      ...(input.rules ? { decisionRules: input.rules as Record<string, unknown> } : {}),
      ...(input.adoptMode ? { adoptMode: input.adoptMode } : {}),
      ...(input.partners ? { partners: input.partners.map((host) => host.toLowerCase()) } : {}),
    })
    .where(eq(communities.id, community.id));
  return await decisionRules(ctx, handle);
}

// ---------------------------------------------------------------- the scheduled job

export interface ClosedProposalSummary {
  id: number;
  state: "adopted" | "rejected";
  /** The version the adoption published, in "publish" mode. */
  publishedVersion?: string;
}

/**
 * Closes every proposal whose time has come (the instance runs this every
 * few seconds, src/app/scheduler.ts; tests call it after advancing the
 * clock). Each proposal is closed with its effect in one transaction; one
 * that fails (its publication refused, say) is logged and the others still
 * close.
 */
export async function closeDueProposals(ctx: AppContext): Promise<ClosedProposalSummary[]> {
  const now = ctx.clock.now();
  const closed: ClosedProposalSummary[] = [];
  for (const due of await dueProposals(ctx.db, now)) {
    try {
      const summary = await closeOne(ctx, due, now);
      if (summary) closed.push(summary);
    } catch (error) {
      logger.error("Could not close proposal {id}: {error}", { id: due.id, error });
    }
  }
  return closed;
}

class StaleDraft extends Error {}

/**
 * Closes one due proposal. In "publish" mode an adopted proposal's version
 * is built and signed first (the draft with its changes, async), then the
 * close, the draft, the version and their effects commit in one
 * transaction; if the draft or the newest version changed meanwhile, that
 * transaction rolls back and it starts again.
 */
async function closeOne(ctx: AppContext, due: Proposal, now: Date): Promise<ClosedProposalSummary | undefined> {
  for (let attempt = 1; ; attempt++) {
    const policy = await findPolicyById(ctx.db, due.policyId);
    const community = policy?.communityId != null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
    const current = await findProposal(ctx.db, due.id);
    if (!policy || !community || !current) return undefined;
    const outcome = await closingOutcome(ctx.db, current, policy, community, now);
    if (!outcome) return undefined;
    const prepared = outcome.publish
      ? await preparePublication(ctx, { ...policy, draft: outcome.draft! }, { message: `Adopted proposal ${due.id}: ${due.title}`, decisions: [{ proposal: proposalIri(policy, due), tally: outcome.record }] })
      : undefined;
    try {
      return await ctx.db.transaction(async () => {
        const fresh = await getPolicyById(ctx.db, policy.id);
        const closed = await closeProposal(ctx.db, due.id, fresh, community, now);
        if (!closed) return undefined;
        let publishedVersion: string | undefined;
        if (prepared) {
          if (!closed.outcome.draft || contentHash(closed.outcome.draft) !== prepared.version.contentHash) throw new StaleDraft();
          publishedVersion = (await commitPublication(ctx, { ...prepared, adopted: [closed.proposal] })).iri;
        }
        await recordEffect(ctx.db, { kind: "proposal.closed", proposalId: due.id }, now);
        await notifyProposalClosed(ctx.db, await recipients.ofProposal(ctx.db, ctx.origin, fresh, community.id), { ...closed.proposal, iri: proposalIri(fresh, closed.proposal) }, fresh, now);
        return { id: due.id, state: closed.proposal.state as ClosedProposalSummary["state"], ...(publishedVersion ? { publishedVersion } : {}) };
      });
    } catch (error) {
      // The draft was edited, or a version published, while the version was being signed.
      if (attempt < 3 && (error instanceof StaleDraft || error instanceof ConflictError)) continue;
      throw error;
    }
  }
}
