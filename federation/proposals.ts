/**
 * Proposals are visible to followers as `Question`s, which Mastodon shows as
 * a poll with the proposal's text: `Create` when one opens, `Update` when it
 * closes with its tally. Members vote locally; members of partner
 * instances vote the way Mastodon answers a poll, with a `Note` whose `name`
 * is the option, replying to the proposal, signed by their own actor.
 */
import { Temporal } from "./temporal.ts";
import { Collection, Create, Note, Question, Reject, Update, type Recipient } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { findCommunityById } from "../src/communities.ts";
import { VOTE_VALUES } from "../src/participation/decision.ts";
import { castPartnerVote, currentTally, findProposal } from "../src/participation/proposals.ts";
import { findSentVote } from "../src/participation/sent-votes.ts";
import { getPolicyById } from "../src/policies/policies.ts";
import { findFederatedActor } from "./entities/actor.ts";
import type { VoteCounts } from "../src/participation/decision.ts";
import { refuseSentVote } from "../src/participation/sent-votes.ts";
import { findPolicyByIri, isLocal } from "../src/policies/policies.ts";
import { lookupActor } from "./lookup.ts";
import { persistActor, toRecipient } from "./entities/actor.ts";
import type { Community } from "../src/communities.ts";
import { describeChangeSet, describeOperations } from "../src/policies/changeset.ts";
import type { Policy } from "../src/policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import { proposalChanges, proposalIri, type Proposal } from "../src/participation/proposals.ts";

const logger = getLogger(["fedalign", "federation", "proposals"]);
import { escapeHtml } from "../src/text.ts";
import { z } from "../src/zod.ts";
import { findRemoteProposal, persistRemoteProposal } from "../src/participation/remote-proposals.ts";
import { notifyProposalClosed, notifyProposalOpened, recipients } from "../src/app/notifications.ts";
import type { FedCtx } from "./context.ts";
import { loadDocument } from "./fetch.ts";
import { newActivityIri } from "./outgoing.ts";
import { ownerIdentifier, policyAudience } from "./policy-activities.ts";

export { proposalIri };

function html(policy: Policy, proposal: Proposal): string {
  const changes = proposalChanges(proposal);
  const tally = proposal.tally as { reason?: string } | null;
  return [
    `<p>Proposal to amend <a href="${escapeHtml(policy.iri)}">${escapeHtml(policy.title)}</a>: ${escapeHtml(describeChangeSet(changes))}.</p>`,
    // Every change, by name, so followers (and Mastodon) see what is put to the vote; the diff is on the proposal's page.
    changeList(describeOperations(changes)),
    proposal.summary ? `<p>${escapeHtml(proposal.summary)}</p>` : "",
    proposal.state === "open"
      ? `<p>Voting closes ${escapeHtml(proposal.closesAt.toISOString())}.</p>`
      : `<p>${proposal.state === "adopted" ? "Adopted" : "Rejected"}: ${escapeHtml(tally?.reason ?? "")}</p>`,
  ].join("");
}

/** At most this many changes are named (receivers refuse a poll's text over 20,000 characters); the rest are counted. */
const LISTED_CHANGES = 100;

function changeList(lines: string[]): string {
  const shown = lines.slice(0, LISTED_CHANGES).map((line) => `<li>${escapeHtml(line)}</li>`);
  if (lines.length > LISTED_CHANGES) shown.push(`<li>and ${lines.length - LISTED_CHANGES} more</li>`);
  return `<ul>${shown.join("")}</ul>`;
}

/**
 * The tally as a poll's results: the final one once closed, the running one
 * while open (members may still change their votes). Mastodon shows each
 * option's `replies.totalItems` and `votersCount`.
 */
export async function pollResults(db: FedCtx["data"]["db"], proposal: Proposal, community: Community, now = new Date()): Promise<{ counts: VoteCounts; voters: number }> {
  const stored = proposal.tally as { counts?: VoteCounts; voters?: number } | null;
  if (proposal.closedAt && stored?.counts) return { counts: stored.counts, voters: stored.voters ?? 0 };
  const running = await currentTally(db, proposal, community, now);
  return { counts: running.counts, voters: running.voters };
}

export function proposalDocument(policy: Policy, proposal: Proposal, results: { counts: VoteCounts; voters: number }): Record<string, unknown> {
  return {
    "@context": ["https://www.w3.org/ns/activitystreams", { toot: "http://joinmastodon.org/ns#", votersCount: "toot:votersCount" }],
    id: proposalIri(policy, proposal),
    type: "Question",
    oneOf: VOTE_VALUES.map((name) => ({ type: "Note", name, replies: { type: "Collection", totalItems: results.counts[name] } })),
    votersCount: results.voters,
    endTime: proposal.closesAt.toISOString(),
    ...(proposal.closedAt ? { closed: proposal.closedAt.toISOString() } : {}),
    attributedTo: policy.ownerIri,
    name: proposal.title,
    content: html(policy, proposal),
    published: proposal.openedAt.toISOString(),
    ...(proposal.closedAt ? { updated: proposal.closedAt.toISOString() } : {}),
    context: policy.iri,
    to: [PUBLIC_AUDIENCE],
  };
}

export async function sendProposal(ctx: FedCtx, policy: Policy, community: Community, proposal: Proposal, kind: "create" | "update"): Promise<void> {
  const recipients = await policyAudience(ctx, policy);
  if (recipients.length === 0) return;
  const actor = ctx.getActorUri(community.handle);
  const Activity = kind === "create" ? Create : Update;
  const results = await pollResults(ctx.data.db, proposal, community, ctx.data.clock.now());
  const activity = new Activity({
    id: newActivityIri(ctx, community.handle, kind),
    actor,
    object: new Question({
      id: new URL(proposalIri(policy, proposal)),
      attribution: actor,
      name: proposal.title,
      content: html(policy, proposal),
      published: Temporal.Instant.fromEpochMilliseconds(proposal.openedAt.getTime()),
      endTime: Temporal.Instant.fromEpochMilliseconds(proposal.closesAt.getTime()),
      exclusiveOptions: VOTE_VALUES.map((name) => new Note({ name, replies: new Collection({ totalItems: results.counts[name] }) })),
      contexts: [new URL(policy.iri)],
      voters: results.voters,
      ...(proposal.closedAt ? { closed: Temporal.Instant.fromEpochMilliseconds(proposal.closedAt.getTime()) } : {}),
      ...(proposal.closedAt ? { updated: Temporal.Instant.fromEpochMilliseconds(proposal.closedAt.getTime()) } : {}),
      to: new URL(PUBLIC_AUDIENCE),
    }),
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier: community.handle }, recipients, activity, { preferSharedInbox: true });
}

const PROPOSAL_IRI = /^(.+)\/proposals\/(\d+)$/;

/**
 * A poll answer (Note with a name) to one of our proposals, from a partner
 * instance's member. Returns whether it was a vote here at all, and why it
 * was refused if it was (the caller tells the voter's server).
 */
export async function receivePartnerVote(ctx: FedCtx, note: Note, actorIri: string): Promise<{ vote: false } | { vote: true; refused?: string }> {
  const target = await voteTarget(ctx, note);
  if (!target) return { vote: false };
  const refused = await persistPartnerVote(ctx, target, note, actorIri);
  return refused === undefined ? { vote: true } : { vote: true, refused };
}

/** What a poll answer votes on: one of our open or closed proposals, or undefined when the Note is not a vote here. */
export interface VoteTarget {
  proposalIri: string;
  proposal: Proposal;
  community: Community;
}

export async function voteTarget(ctx: FedCtx, note: Note): Promise<VoteTarget | undefined> {
  const target = note.replyTargetId?.href;
  const value = note.name?.toString();
  const match = target ? PROPOSAL_IRI.exec(target) : null;
  if (!target || !match || !value) return undefined;
  const policy = await findPolicyByIri(ctx.data.db, match[1]!);
  const proposal = policy ? await findProposal(ctx.data.db, Number(match[2])) : undefined;
  const community = policy?.communityId != null ? await findCommunityById(ctx.data.db, policy.communityId) : undefined;
  if (!policy || !proposal || proposal.policyId !== policy.id || !community) return undefined;
  return { proposalIri: target, proposal, community };
}

/**
 * Counts a partner's vote (a row per voter and proposal: a second vote
 * replaces the first). Returns why it was refused, or undefined when counted.
 */
export async function persistPartnerVote(ctx: FedCtx, { proposalIri: target, proposal, community }: VoteTarget, note: Note, actorIri: string): Promise<string | undefined> {
  const value = note.name?.toString() ?? "";
  if (note.attributionId?.href !== actorIri) return "the vote is not attributed to the actor who sent it";
  if (!(VOTE_VALUES as readonly string[]).includes(value)) {
    logger.info("Ignored a vote {value} on {proposal}: not an option.", { value, proposal: target });
    return `"${value}" is not an option; vote ${VOTE_VALUES.join(", ")}`;
  }
  try {
    await castPartnerVote(ctx.data.db, proposal, community, actorIri, value as (typeof VOTE_VALUES)[number], ctx.data.clock.now());
    logger.info("{actor} voted {value} on {proposal}.", { actor: actorIri, value, proposal: target });
    return undefined;
  } catch (error) {
    const reason = (error as Error).message;
    logger.info("Refused a vote on {proposal} by {actor}: {reason}", { proposal: target, actor: actorIri, reason });
    return reason;
  }
}

/** The local community that answers for votes on a proposal (by the proposal's IRI), if any. */
export async function voteAnswerer(ctx: FedCtx, proposalIri: string): Promise<string | undefined> {
  const policy = await findPolicyByIri(ctx.data.db, PROPOSAL_IRI.exec(proposalIri)?.[1] ?? "");
  return policy ? ownerIdentifier(ctx, policy) : undefined;
}

/** Tells the voter's server that a vote was not counted, and why (a Reject of the vote's Create). */
export async function sendVoteRefusal(ctx: FedCtx, create: Create, voter: Recipient, reason: string): Promise<void> {
  const note = await create.getObject(ctx);
  const target = note instanceof Note ? note.replyTargetId?.href : undefined;
  const identifier = target ? await voteAnswerer(ctx, target) : undefined;
  if (!identifier || !create.id) return;
  await sendVoteRefusalAs(ctx, identifier, create.id.href, voter, reason);
}

/** The same, from an outbox effect's payload: the community answering and the refused Create's IRI. */
export async function sendVoteRefusalAs(ctx: FedCtx, identifier: string, createIri: string, voter: Recipient, reason: string): Promise<void> {
  const reject = new Reject({
    id: newActivityIri(ctx, identifier, "reject"),
    actor: ctx.getActorUri(identifier),
    object: new URL(createIri),
    summary: `Vote not counted: ${reason}`,
    to: voter.id ?? undefined,
  });
  await ctx.sendActivity({ identifier }, voter, reject);
}

/** A community refused one of our members' votes: keep its reason for the voter to see. */
export async function receiveVoteRefusal(ctx: FedCtx, reject: Reject): Promise<boolean> {
  if (!reject.objectId || !reject.actorId) return false;
  const reason = reject.summary?.toString() ?? reject.content?.toString() ?? "no reason given";
  const refused = await refuseSentVote(ctx.data.db, { objectIri: reject.objectId.href, actorIri: reject.actorId.href, reason });
  if (refused) logger.warning("{owner} refused a vote by {voter} on {proposal}: {reason}", { owner: refused.ownerIri, voter: refused.voterIri, proposal: refused.proposalIri, reason });
  return refused !== undefined;
}

/**
 * Before a member votes on another instance's proposal: fetches the poll,
 * checks that it names a community on its own server, and looks that
 * community up (kept as a federated actor), returning its IRI. Throws when
 * any of that fails; nothing is recorded then.
 */
export async function resolvePollOwner(ctx: FedCtx, proposal: string): Promise<string> {
  const { document } = await loadDocument(ctx, proposal, { fresh: true });
  const owner = (document as { attributedTo?: unknown }).attributedTo;
  if (typeof owner !== "string" || new URL(owner).origin !== new URL(proposal).origin) throw new Error(`${proposal} names no community on its own server`);
  const community = await lookupActor(ctx, owner);
  const row = await persistActor(ctx.data, community);
  if (!row) throw new Error(`${owner} has no inbox`);
  return owner;
}

/** Sends a recorded partner vote (src/app/proposals.ts sendPartnerVote): a Note answering the poll, in a Create. */
export async function sendRecordedVote(ctx: FedCtx, identifier: string, sentVoteId: number): Promise<void> {
  const sent = await findSentVote(ctx.data.db, sentVoteId);
  if (!sent) return;
  const owner = await findFederatedActor(ctx.data.db, sent.ownerIri) ?? await persistActor(ctx.data, await lookupActor(ctx, sent.ownerIri));
  if (!owner) throw new Error(`${sent.ownerIri} has no inbox`);
  const actor = ctx.getActorUri(identifier);
  const vote = new Note({
    id: new URL(sent.noteIri),
    attribution: actor,
    name: sent.value,
    replyTarget: new URL(sent.proposalIri),
    to: new URL(sent.ownerIri),
  });
  const create = new Create({ id: new URL(sent.activityIri), actor, object: vote, to: new URL(sent.ownerIri) });
  await ctx.sendActivity({ identifier }, toRecipient(owner), create);
}

/** A proposal opened (Create) or closed (Update) reaches the policy's followers; nothing is sent for a proposal that is gone. */
export async function sendProposalById(ctx: FedCtx, proposalId: number, kind: "create" | "update"): Promise<void> {
  const proposal = await findProposal(ctx.data.db, proposalId);
  if (!proposal) return;
  const policy = await getPolicyById(ctx.data.db, proposal.policyId);
  const community = policy.communityId !== null ? await findCommunityById(ctx.data.db, policy.communityId) : undefined;
  if (!community) return;
  await sendProposal(ctx, policy, community, proposal, kind);
}

const PollDocument = z.object({
  id: z.string().url(),
  type: z.literal("Question"),
  attributedTo: z.string().url(),
  context: z.string().url(),
  name: z.string().max(500),
  content: z.string().max(20_000).default(""),
  endTime: z.string().datetime({ offset: true }).optional(),
  closed: z.string().datetime({ offset: true }).optional(),
  votersCount: z.number().int().nonnegative().optional(),
  oneOf: z
    .array(z.object({ name: z.string(), replies: z.object({ totalItems: z.number().int().nonnegative() }).partial().optional() }))
    .max(10),
});

/**
 * A followed community's proposal opened or closed. The poll embedded in the
 * signed activity is used when it is there (a re-fetch could be served from
 * the document cache and miss the final tally); otherwise it is fetched from
 * its IRI. Kept only if it belongs to a policy we hold, owned by the actor
 * that sent it, on that actor's origin.
 */
export async function receiveProposal(ctx: FedCtx, question: Question | null, questionIri: string, actorIri: string): Promise<boolean> {
  const document = question?.id?.href === questionIri
    ? await question.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader })
    : (await loadDocument(ctx, questionIri, { fresh: true })).document;
  const parsed = PollDocument.safeParse(document);
  if (!parsed.success) {
    logger.info("Ignored the Question {iri}: not a Fedalign proposal ({reason}).", { iri: questionIri, reason: parsed.error.issues[0]?.message });
    return false;
  }
  const poll = parsed.data;
  const policy = await findPolicyByIri(ctx.data.db, poll.context);
  const sameOrigin = new URL(poll.id).origin === new URL(actorIri).origin && poll.id === questionIri;
  if (!sameOrigin || poll.attributedTo !== actorIri || !policy || policy.ownerIri !== actorIri) {
    logger.info("Refused the proposal {iri} from {actor}: not a proposal of a policy that actor owns and we hold.", { iri: questionIri, actor: actorIri });
    return false;
  }
  const { db, clock } = ctx.data;
  await db.transaction(async () => {
    const before = await findRemoteProposal(db, poll.id);
    const row = await persistRemoteProposal(db, {
      iri: poll.id,
      policyIri: policy.iri,
      ownerIri: actorIri,
      name: poll.name,
      contentHtml: poll.content,
      endTime: poll.endTime ? new Date(poll.endTime) : null,
      closedAt: poll.closed ? new Date(poll.closed) : null,
      counts: Object.fromEntries(poll.oneOf.map((option) => [option.name, option.replies?.totalItems ?? 0])),
      voters: poll.votersCount ?? null,
    });
    // Whoever follows the policy or its community here hears of it opening, and of it closing
    // (of our own proposals, which reach us too when someone here follows, the use cases told them).
    if (isLocal(policy)) return;
    const followers = async () => await recipients.followers(db, ctx.canonicalOrigin, [policy.iri, policy.ownerIri]);
    const proposal = { iri: row.iri, title: row.name, closesAt: row.endTime };
    if (!before && !row.closedAt) await notifyProposalOpened(db, await followers(), proposal, policy, clock.now());
    if (row.closedAt && !before?.closedAt) await notifyProposalClosed(db, await followers(), proposal, policy, clock.now());
  });
  return true;
}
