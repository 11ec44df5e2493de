/**
 * Activities about policy versions, sent by the owning community to its
 * followers and to the followers of the policy itself (a member may follow
 * one policy without following the whole community). The version travels
 * as an embedded `Article` that any fediverse server can show (a summary
 * and a link, see versionTimelineHtml); Fedalign receivers re-fetch the full
 * signed document from its origin.
 *
 * Every version is a new object, so it travels as `Create`, never `Update`:
 * microblog servers drop an `Update` of an object they have not seen. The
 * activity's id is derived from the version's, so the Create pushed to
 * followers and the one listed in the outbox are the same activity.
 */
import { Temporal } from "./temporal.ts";
import { Article, Create, Delete, Tombstone, type Recipient } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import { federatedActors, follows } from "../db/schema.ts";
import type { Policy, PolicyVersion } from "../src/policies/policies.ts";
import { policyContentSchema } from "../src/policies/content.ts";
import { PUBLIC_AUDIENCE, versionTimelineHtml } from "../src/policies/version-document.ts";
import type { FedCtx } from "./context.ts";
import { toRecipient } from "./entities/actor.ts";

/** Actors whose follow of `iri` (an actor or a policy) was accepted. */
export async function acceptedFollowersOf(ctx: FedCtx, iri: string): Promise<Recipient[]> {
  return (await ctx.data.db
    .select({ actor: federatedActors })
    .from(follows)
    .innerJoin(federatedActors, eq(federatedActors.iri, follows.followerIri))
    .where(and(eq(follows.followeeIri, iri), eq(follows.state, "accepted"))))
    .map((row) => toRecipient(row.actor));
}

/** Followers of the community and of the policy, each actor once. */
export async function policyAudience(ctx: FedCtx, policy: Policy): Promise<Recipient[]> {
  const byIri = new Map<string, Recipient>();
  for (const recipient of [...await acceptedFollowersOf(ctx, policy.ownerIri), ...await acceptedFollowersOf(ctx, policy.iri)]) {
    if (recipient.id) byIri.set(recipient.id.href, recipient);
  }
  return [...byIri.values()];
}

/** The identifier of the local community that owns a policy; undefined for a mirrored policy. */
export function ownerIdentifier(ctx: FedCtx, policy: Policy): string | undefined {
  if (policy.communityId === null) return undefined;
  const parsed = ctx.parseUri(new URL(policy.ownerIri));
  return parsed?.type === "actor" ? parsed.identifier : undefined;
}

function communityIdentifier(ctx: FedCtx, policy: Policy): string {
  const identifier = ownerIdentifier(ctx, policy);
  if (!identifier) throw new Error(`${policy.ownerIri} is not a local actor`);
  return identifier;
}

function articleOf(version: PolicyVersion): Article {
  const doc = version.document as { name?: string; attributedTo: string; cc?: string[]; normativeContent: unknown };
  // Built from the normative content, so versions signed before timelines got
  // a summary (whose document `content` is the whole policy) travel small too.
  const content = policyContentSchema.parse(doc.normativeContent);
  return new Article({
    id: new URL(version.iri),
    attribution: new URL(doc.attributedTo),
    name: doc.name ?? null,
    content: versionTimelineHtml({ iri: version.iri, number: version.number, changelog: version.changelog, content }),
    url: new URL(version.iri),
    published: Temporal.Instant.fromEpochMilliseconds(version.publishedAt.getTime()),
    to: new URL(PUBLIC_AUDIENCE),
    ccs: (doc.cc ?? []).map((iri) => new URL(iri)),
  });
}

/** The `Create` of a version, as pushed to followers and listed in outboxes. */
export function versionCreate(ctx: FedCtx, policy: Policy, version: PolicyVersion): Create {
  const identifier = communityIdentifier(ctx, policy);
  return new Create({
    id: new URL(`${version.iri}#create`),
    actor: ctx.getActorUri(identifier),
    object: articleOf(version),
    published: Temporal.Instant.fromEpochMilliseconds(version.publishedAt.getTime()),
    to: new URL(PUBLIC_AUDIENCE),
    cc: ctx.getFollowersUri(identifier),
  });
}

export async function sendVersionPublished(ctx: FedCtx, policy: Policy, version: PolicyVersion): Promise<void> {
  const recipients = await policyAudience(ctx, policy);
  if (recipients.length === 0) return;
  const identifier = communityIdentifier(ctx, policy);
  await ctx.sendActivity({ identifier }, recipients, versionCreate(ctx, policy, version), { preferSharedInbox: true });
}

export async function sendVersionRetracted(ctx: FedCtx, policy: Policy, version: PolicyVersion): Promise<void> {
  const recipients = await policyAudience(ctx, policy);
  if (recipients.length === 0) return;
  const identifier = communityIdentifier(ctx, policy);
  const activity = new Delete({
    id: new URL(`${version.iri}#delete`),
    actor: ctx.getActorUri(identifier),
    object: new Tombstone({ id: new URL(version.iri) }),
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier }, recipients, activity, { preferSharedInbox: true });
}
