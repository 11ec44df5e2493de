/**
 * Federation effects: what a use case asks the rest of the fediverse to
 * learn (or what it asks us to fetch from it), written to the outbox in the
 * same transaction as the change (./outbox.ts). The federation layer knows
 * how to carry out each kind (federation/effect-senders.ts); this layer only
 * names them, so the application layer never imports Fedify.
 *
 * A payload holds what the sender needs even after the row it is about has
 * changed or gone (a deletion carries the IRI of what was deleted). Ids are
 * row ids of this instance's database.
 *
 * One section per area; add a kind to the section of its area.
 */

/** Accounts and communities: a profile changed. */
export type ActorEffect = { kind: "actor.updated"; identifier: string };

/** Policies, versions, forks and merges. */
export type PolicyEffect =
  /** A Create of the version to the followers of its community and of the policy. */
  | { kind: "version.published"; policyId: number; versionId: number }
  /** A Delete of the version to the same audience. */
  | { kind: "version.retracted"; policyId: number; versionId: number }
  /** The fork's community follows the upstream policy and tells the upstream community (a Create of the fork). */
  | { kind: "fork.announced"; forkId: number; community: string };

/**
 * Proposals, votes and offers.
 * - proposal.opened / proposal.closed: the proposal as a poll (Create / Update
 *   of a Question) to the policy's followers (a version its adoption
 *   published is announced by version.published, recorded before it).
 * - vote.sent: a member's recorded vote on another instance's proposal
 *   (src/participation/sent-votes.ts), sent as a poll answer signed by `identifier`.
 * - offer.sent: a fork's offer to its upstream, from community `identifier`.
 * - offer.decided: the Accept or Reject of an offer received, from community `identifier`.
 */
export type ParticipationEffect =
  | { kind: "proposal.opened"; proposalId: number }
  | { kind: "proposal.closed"; proposalId: number }
  | { kind: "vote.sent"; sentVoteId: number; identifier: string }
  | { kind: "offer.sent"; offerIri: string; identifier: string }
  | { kind: "offer.decided"; offerIri: string; identifier: string };

/** A follow relation as its activities name it (the row may be gone by the time it is sent). */
export interface FollowRef {
  /** The local actor that sends the activity. */
  identifier: string;
  followerIri: string;
  followeeIri: string;
  /** The Follow activity's IRI. */
  activityIri: string;
  /** Who receives it: the followee (or the community owning a followed policy), or the follower for an answer. */
  recipientIri: string;
}

/**
 * An annotation (or comment) sent by a local author, its edit or its
 * deletion. The Note travels in the payload, so a deletion is sent after
 * the row is gone and an edit sends the text of that edit.
 */
export interface AnnotationRef {
  identifier: string;
  policyIri: string;
  annotationIri: string;
  authorIri: string;
  note: Record<string, unknown>;
}

/** Follows, annotations and other social traffic. */
export type SocialEffect =
  | ({ kind: "follow.sent" } & FollowRef)
  | ({ kind: "follow.undone" } & FollowRef)
  | ({ kind: "follow.answered"; answer: "accept" | "reject" } & FollowRef)
  | ({ kind: "annotation.created" } & AnnotationRef)
  | ({ kind: "annotation.updated" } & AnnotationRef)
  | ({ kind: "annotation.deleted" } & AnnotationRef);

/**
 * Preference data and bundles. Policies are named by IRI: their followers
 * are reached through the policy's owner, and a record id stays meaningful
 * after the record is withdrawn (its IRI is `<policy>/preferences/<id>`).
 */
export type PreferenceEffect =
  /** A policy's federated dataset changed (records added, answers changed, consent narrowed): mirrors sync again. */
  | { kind: "preferences.dataset-changed"; policyIri: string }
  /** A rater withdrew federation consent from one record: mirrors drop it. */
  | { kind: "preferences.record-withdrawn"; policyIri: string; recordId: number };

/**
 * Caused by activities we received (answers, backfills, re-shares), recorded
 * by inbox handlers (federation/inbox/) in the transaction of the row change
 * the activity caused. (A received Follow is answered with the social
 * section's `follow.answered`, the same effect a steward's answer records.) Fetch-type effects (backfill, mirror) are retried with
 * backoff like any other, so a follow whose first backfill failed still
 * brings in what the followee published.
 */
export type InboxEffect =
  /** Take what a newly followed remote actor or policy already published. */
  | { kind: "inbox.follow.backfill"; followeeIri: string }
  /** Mirror a newly followed remote policy's preference dataset. */
  | { kind: "inbox.dataset.mirror"; datasetIri: string; ownerIri: string }
  /** Tell a partner's server that its member's vote was not counted (a Reject of the vote's Create). */
  | { kind: "inbox.vote.refuse"; identifier: string; createIri: string; voterIri: string; reason: string }
  /** The owning community re-shares a received annotation with its and the policy's followers. */
  | { kind: "inbox.annotation.reshare"; policyIri: string; noteIri: string; authorIri: string };

export type Effect = ActorEffect | PolicyEffect | ParticipationEffect | SocialEffect | PreferenceEffect | InboxEffect;
export type EffectKind = Effect["kind"];
