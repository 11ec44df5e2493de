/**
 * Notifications: what a person is told happened to them or around them (a
 * reply to their annotation, their community's offer decided, a proposal
 * opened or closed in their community, a new version of something they
 * follow, a follow request to approve), with an unread count.
 *
 * Writing: `notify(db, recipients, notice, now)` inside the transaction of
 * the event that causes it (a use case, or an inbox handler's persist
 * step), like `recordEffect`: the notification exists exactly when the
 * event does. One row per person, kind and subject, so an activity
 * delivered twice (or a Create and a later Update of the same thing) tells
 * nobody twice. `recipients` says who hears of what; the `notifyX`
 * functions below are the events this instance knows, each writing its
 * one line of text, so the wording lives in one place. Another area adds
 * a kind to NOTIFICATION_KINDS (db/schema.ts) and calls `notify`.
 *
 * Reading never marks anything read: that is a POST (`markNotificationsRead`).
 */
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import { countRows, first, type Db } from "../../db/client.ts";
import { communities, federatedActors, follows, memberships, notifications, policies, users, type NotificationKind } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import { localActorIdentifier } from "../actors/iris.ts";
import { findAnnotation, type Annotation } from "../policies/annotations.ts";
import type { Offer } from "../policies/offers.ts";
import { findPolicyByIri, type Policy, type PolicyVersion } from "../policies/policies.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import { requireSignedIn, type Viewer } from "./permissions.ts";

// ---------------------------------------------------------------- writing

export interface NewNotification {
  kind: NotificationKind;
  /** The IRI of what it is about: with the kind, what makes it one notification per person. */
  subjectIri: string;
  /** One line of plain text. */
  text: string;
  /** Where to look (an IRI, which local ones serve as a page). */
  url: string;
  /** Who caused it. */
  actorIri?: string | null;
}

/** Rows per INSERT: well under SQLite's limit of bound variables. */
const BATCH = 500;

/**
 * Tells each recipient (user ids) once; someone told already about this
 * subject is not told again. Returns how many were told. Throws outside a
 * transaction: a notification written apart from its event could tell of
 * something that was rolled back.
 */
export async function notify(db: Db, recipients: Iterable<number>, notice: NewNotification, now: Date): Promise<number> {
  if (!db.$client.inTransaction) throw new Error("notify must run inside the transaction of the event it tells of");
  const ids = [...new Set(recipients)];
  let told = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = ids.slice(i, i + BATCH).map((userId) => ({ userId, ...notice, actorIri: notice.actorIri ?? null, createdAt: now }));
    told += (await db.insert(notifications).values(rows).onConflictDoNothing().returning({ id: notifications.id })).length;
  }
  return told;
}

/** Who hears of what: user ids of this instance. */
export const recipients = {
  /** Every member of a local community, stewards included. */
  async members(db: Db, communityId: number): Promise<number[]> {
    return (await db.select({ id: memberships.userId }).from(memberships).where(eq(memberships.communityId, communityId))).map((row) => row.id);
  },

  /** The stewards of a local community (who answer for it). */
  async stewards(db: Db, communityId: number): Promise<number[]> {
    return (
      await db
        .select({ id: memberships.userId })
        .from(memberships)
        .where(and(eq(memberships.communityId, communityId), eq(memberships.role, "steward")))
    ).map((row) => row.id);
  },

  /** Who speaks for a local actor: the user, or a community's stewards. None for a remote actor. */
  async speakersFor(db: Db, origin: string, actorIri: string): Promise<number[]> {
    const identifier = localActorIdentifier(origin, actorIri);
    if (!identifier) return [];
    const user = await first(db.select({ id: users.id }).from(users).where(eq(users.username, identifier)));
    if (user) return [user.id];
    const community = await first(db.select({ id: communities.id }).from(communities).where(eq(communities.handle, identifier)));
    return community ? await recipients.stewards(db, community.id) : [];
  },

  /** Who hears of a local community's proposals: its members, and people here following the policy or the community. */
  async ofProposal(db: Db, origin: string, policy: Pick<Policy, "iri" | "ownerIri">, communityId: number): Promise<number[]> {
    return [...(await recipients.members(db, communityId)), ...(await recipients.followers(db, origin, [policy.iri, policy.ownerIri]))];
  },

  /** Local people following any of `iris` (accepted), themselves or through a community they belong to. */
  async followers(db: Db, origin: string, iris: string[]): Promise<number[]> {
    const followerIris = await db
      .selectDistinct({ iri: follows.followerIri })
      .from(follows)
      .where(and(inArray(follows.followeeIri, iris), eq(follows.state, "accepted")));
    const identifiers = followerIris.map((row) => localActorIdentifier(origin, row.iri)).filter((id): id is string => id !== undefined);
    if (identifiers.length === 0) return [];
    const direct = await db.select({ id: users.id }).from(users).where(inArray(users.username, identifiers));
    const throughCommunities = await db
      .select({ id: memberships.userId })
      .from(memberships)
      .innerJoin(communities, eq(communities.id, memberships.communityId))
      .where(inArray(communities.handle, identifiers));
    return [...direct, ...throughCommunities].map((row) => row.id);
  },
};

/** `ids` without one person (whoever caused the event). */
export function except(ids: number[], userId: number | null | undefined): number[] {
  return userId == null ? ids : ids.filter((id) => id !== userId);
}

/** How an actor is named in a notification: its handle or name as we know it, else its IRI's last segment and host. */
export async function actorLabel(db: Db, iri: string): Promise<string> {
  const known = await first(
    db.select({ name: federatedActors.name, handle: federatedActors.handle }).from(federatedActors).where(eq(federatedActors.iri, iri)),
  );
  if (known?.name) return known.name;
  if (known?.handle) return known.handle;
  try {
    const url = new URL(iri);
    return `@${url.pathname.split("/").filter(Boolean).pop() ?? url.host}@${url.host}`;
  } catch {
    return iri;
  }
}

function quote(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return `“${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}”`;
}

// ---------------------------------------------------------------- the events

/** When a new annotation's Note replies to an annotation held here, its local author hears of it (see notifyReply). */
export async function notifyIfReply(db: Db, origin: string, annotation: Annotation, now: Date): Promise<number> {
  const inReplyTo = (annotation.note as { inReplyTo?: unknown }).inReplyTo;
  for (const target of Array.isArray(inReplyTo) ? inReplyTo : [inReplyTo]) {
    const iri = typeof target === "string" ? target : (target as { id?: unknown } | null)?.id;
    const parent = typeof iri === "string" ? await findAnnotation(db, iri) : undefined;
    const policy = parent ? await findPolicyByIri(db, annotation.policyIri) : undefined;
    if (parent && policy) return await notifyReply(db, origin, annotation, parent, policy, now);
  }
  return 0;
}

/**
 * A reply (an annotation whose Note answers one of ours) to a local
 * author: the user, or the stewards of the community that wrote it. Nobody
 * is told of their own reply.
 */
export async function notifyReply(
  db: Db,
  origin: string,
  reply: Annotation,
  parent: Annotation,
  policy: Pick<Policy, "title">,
  now: Date,
): Promise<number> {
  if (!parent.local || parent.authorIri === reply.authorIri) return 0;
  const speakers = await recipients.speakersFor(db, origin, parent.authorIri);
  const replier = await recipients.speakersFor(db, origin, reply.authorIri);
  const where = parent.clauseId ? `clause ${parent.clauseId} of “${policy.title}”` : `“${policy.title}”`;
  return await notify(
    db,
    speakers.filter((id) => !replier.includes(id)),
    {
      kind: "annotation.replied",
      subjectIri: reply.iri,
      actorIri: reply.authorIri,
      text: `${await actorLabel(db, reply.authorIri)} replied to your annotation on ${where}: ${quote(reply.text)}`,
      url: parent.clauseId ? `${parent.versionIri}/clauses/${encodeURIComponent(parent.clauseId)}` : parent.versionIri,
    },
    now,
  );
}

/**
 * Upstream (`deciderIri`, the community owning the target policy) decided
 * on an offer a local community made: its stewards hear of it, with the
 * proposal it became when it was accepted as one.
 */
export async function notifyOfferDecided(
  db: Db,
  origin: string,
  offer: Offer,
  decision: { deciderIri: string; accepted: boolean; reason: string | null; proposalIri?: string | null },
  now: Date,
): Promise<number> {
  const upstream = await actorLabel(db, decision.deciderIri);
  const what = offer.message ? `your offer ${quote(offer.message)}` : "your offer";
  const text = !decision.accepted
    ? `${upstream} rejected ${what}${decision.reason ? `: ${quote(decision.reason)}` : "."}`
    : decision.proposalIri
      ? `${upstream} accepted ${what} as a proposal for its members to vote on.`
      : `${upstream} accepted ${what} into its draft.`;
  return await notify(
    db,
    await recipients.speakersFor(db, origin, offer.actorIri),
    {
      kind: decision.accepted ? "offer.accepted" : "offer.rejected",
      subjectIri: offer.iri,
      actorIri: decision.deciderIri,
      text,
      url: decision.proposalIri ?? offer.targetIri,
    },
    now,
  );
}

/**
 * A proposal opened: in a local community its members and followers here
 * hear of it (except whoever opened it: recipients.ofProposal); a followed
 * community's proposal on another instance is told to whoever follows the
 * policy or community here.
 */
export async function notifyProposalOpened(
  db: Db,
  to: number[],
  proposal: { iri: string; title: string; closesAt: Date | null },
  policy: Pick<Policy, "title">,
  now: Date,
): Promise<number> {
  const closes = proposal.closesAt ? ` Voting closes ${proposal.closesAt.toISOString().slice(0, 16).replace("T", " ")} UTC.` : "";
  return await notify(
    db,
    to,
    { kind: "proposal.opened", subjectIri: proposal.iri, text: `New proposal on “${policy.title}”: ${quote(proposal.title)}.${closes}`, url: proposal.iri },
    now,
  );
}

/** A proposal closed (told to the same people as its opening): how it ended, when known. */
export async function notifyProposalClosed(
  db: Db,
  to: number[],
  proposal: { iri: string; title: string; state?: string },
  policy: Pick<Policy, "title">,
  now: Date,
): Promise<number> {
  const outcome = proposal.state === "adopted" ? "was adopted" : proposal.state === "rejected" ? "was rejected" : "has closed";
  return await notify(
    db,
    to,
    { kind: "proposal.closed", subjectIri: proposal.iri, text: `The proposal ${quote(proposal.title)} on “${policy.title}” ${outcome}.`, url: proposal.iri },
    now,
  );
}

/** A new version of a policy: whoever follows it or its community here (themselves or through a community) hears of it. */
export async function notifyVersionPublished(
  db: Db,
  origin: string,
  policy: Policy,
  version: Pick<PolicyVersion, "iri" | "number" | "changelog">,
  now: Date,
): Promise<number> {
  const changelog = version.changelog.trim() ? `: ${quote(version.changelog)}` : ".";
  return await notify(
    db,
    await recipients.followers(db, origin, [policy.iri, policy.ownerIri]),
    {
      kind: "version.published",
      subjectIri: version.iri,
      actorIri: policy.ownerIri,
      text: `${await actorLabel(db, policy.ownerIri)} published version ${version.number} of “${policy.title}”${changelog}`,
      url: version.iri,
    },
    now,
  );
}

/**
 * Someone asks to follow a local actor (or a local community's policy) that
 * approves followers by hand: whoever answers for it (the user, or the
 * community's stewards) hears of it.
 */
export async function notifyFollowRequested(
  db: Db,
  origin: string,
  follow: { activityIri: string; followerIri: string; followeeIri: string },
  answererIri: string,
  now: Date,
): Promise<number> {
  const identifier = localActorIdentifier(origin, answererIri) ?? answererIri;
  const policy = await first(db.select({ title: policies.title }).from(policies).where(eq(policies.iri, follow.followeeIri)));
  const isUser = (await first(db.select({ id: users.id }).from(users).where(eq(users.username, identifier)))) !== undefined;
  const target = policy ? `“${policy.title}”` : isUser ? "you" : `@${identifier}`;
  return await notify(
    db,
    await recipients.speakersFor(db, origin, answererIri),
    {
      kind: "follow.requested",
      subjectIri: follow.activityIri,
      actorIri: follow.followerIri,
      text: `${await actorLabel(db, follow.followerIri)} asks to follow ${target}; approve or refuse the request.`,
      url: `${answererIri}#followers`,
    },
    now,
  );
}

/** Someone asked to join a local community that approves members: its stewards hear of it, once per request. */
export async function notifyJoinRequested(
  db: Db,
  origin: string,
  community: { id: number; handle: string; name: string },
  request: { id: number; username: string; displayName: string; message: string; createdAt: Date },
  now: Date,
): Promise<number> {
  const note = request.message ? `: ${quote(request.message)}` : ".";
  return await notify(
    db,
    await recipients.stewards(db, community.id),
    {
      kind: "join.requested",
      subjectIri: `${origin}/actors/${community.handle}/requests#${request.id}-${request.createdAt.getTime()}`,
      text: `${request.displayName} (@${request.username}) asked to join ${community.name}${note}`,
      url: `${origin}/actors/${community.handle}/requests`,
    },
    now,
  );
}

/** A steward approved or refused a request to join: the person who asked hears of it. */
export async function notifyJoinDecided(
  db: Db,
  origin: string,
  community: { handle: string; name: string },
  request: { id: number; userId: number; createdAt: Date },
  approved: boolean,
  now: Date,
): Promise<number> {
  return await notify(
    db,
    [request.userId],
    {
      kind: "join.decided",
      subjectIri: `${origin}/actors/${community.handle}/requests#${request.id}-${request.createdAt.getTime()}`,
      text: approved ? `You are now a member of ${community.name}.` : `A steward of ${community.name} refused your request to join.`,
      url: `${origin}/actors/${community.handle}`,
    },
    now,
  );
}

// ---------------------------------------------------------------- reading and marking read

export const NOTIFICATIONS_PAGE_SIZE = 20;

export const NotificationsQuery = z
  .object({
    page: z.coerce.number({ error: "page must be a number" }).int().min(1, "page starts at 1").max(10_000).optional(),
    unread: z.enum(["true", "false"]).optional().openapi({ description: "Only unread ones (true)" }),
  })
  .strict()
  .openapi("NotificationsQuery");

export const MarkReadInput = z
  .object({
    ids: z.array(z.number().int().positive()).min(1).max(100).optional().openapi({ description: "These notifications" }),
    all: z.literal(true).optional().openapi({ description: "Every notification" }),
  })
  .strict()
  .refine((input) => (input.ids === undefined) !== (input.all === undefined), { message: "Say which notifications to mark read (ids), or all of them (all: true)." })
  .openapi("MarkRead");

export interface NotificationView {
  id: number;
  kind: NotificationKind;
  text: string;
  url: string;
  subject: string;
  actor: string | null;
  createdAt: string;
  read: boolean;
}

export interface NotificationPage {
  items: NotificationView[];
  page: number;
  more: boolean;
  unread: number;
}

/** How many notifications the person has not marked read (the header's count). */
export async function unreadCount(db: Db, user: Pick<User, "id">): Promise<number> {
  return await countRows(db, notifications, and(eq(notifications.userId, user.id), isNull(notifications.readAt)));
}

/** One page of the viewer's notifications, newest first (only unread ones when asked). Reads only. */
export async function listNotifications(ctx: AppContext, viewer: Viewer, query: z.output<typeof NotificationsQuery> = {}): Promise<NotificationPage> {
  const user = requireSignedIn(viewer);
  const page = query.page ?? 1;
  const mine = eq(notifications.userId, user.id);
  const rows = await ctx.db
    .select()
    .from(notifications)
    .where(query.unread === "true" ? and(mine, isNull(notifications.readAt)) : mine)
    .orderBy(desc(notifications.id))
    .limit(NOTIFICATIONS_PAGE_SIZE + 1)
    .offset((page - 1) * NOTIFICATIONS_PAGE_SIZE);
  return {
    items: rows.slice(0, NOTIFICATIONS_PAGE_SIZE).map(toView),
    page,
    more: rows.length > NOTIFICATIONS_PAGE_SIZE,
    unread: await unreadCount(ctx.db, user),
  };
}

/** Marks some (by id) or all of the viewer's notifications read; returns how many changed and how many stay unread. */
export async function markNotificationsRead(
  ctx: AppContext,
  viewer: Viewer,
  input: z.output<typeof MarkReadInput>,
): Promise<{ marked: number; unread: number }> {
  const user = requireSignedIn(viewer);
  const unreadMine = and(eq(notifications.userId, user.id), isNull(notifications.readAt));
  const marked = (
    await ctx.db
      .update(notifications)
      .set({ readAt: ctx.clock.now() })
      .where(input.ids ? and(unreadMine, inArray(notifications.id, input.ids)) : unreadMine)
      .returning({ id: notifications.id })
  ).length;
  return { marked, unread: await unreadCount(ctx.db, user) };
}

function toView(row: typeof notifications.$inferSelect): NotificationView {
  return {
    id: row.id,
    kind: row.kind,
    text: row.text,
    url: row.url,
    subject: row.subjectIri,
    actor: row.actorIri,
    createdAt: row.createdAt.toISOString(),
    read: row.readAt !== null,
  };
}
