/**
 * Who may do what: the one home of every permission rule. Use cases, web
 * pages (to show or hide a control) and inbox handlers ask here; nothing
 * else compares roles.
 *
 * - An instance admin may administer every community of the instance.
 * - A steward administers their community: its policies' drafts and
 *   publication, decision rules, members, offers and moderation.
 * - A member takes part: proposes, votes, annotates, answers tasks.
 * - Anyone (signed out included) reads what is public.
 */
import type { Db } from "../../db/client.ts";
import type { User } from "../accounts/users.ts";
import { listCommunities, listUserCommunities, memberRole, type Community } from "../communities.ts";
import { ConflictError, ForbiddenError, UnauthorizedError } from "../errors.ts";

/** The person acting: a signed-in user, or nobody. */
export type Viewer = User | undefined;

export function isAdmin(user: Viewer): user is User {
  return user?.isAdmin === true;
}

/** Stewards and instance admins may administer a community. */
export async function isSteward(db: Db, community: Community | undefined, user: Viewer): Promise<boolean> {
  if (!community || !user) return false;
  return user.isAdmin || await memberRole(db, community, user) === "steward";
}

/** Members (of any role) and instance admins may take part in a community. */
export async function isMember(db: Db, community: Community | undefined, user: Viewer): Promise<boolean> {
  if (!community || !user) return false;
  return user.isAdmin || await memberRole(db, community, user) !== undefined;
}

export function requireSignedIn(user: Viewer): User {
  if (!user) throw new UnauthorizedError();
  return user;
}

export async function assertSteward(db: Db, community: Community, user: Viewer): Promise<User> {
  const actor = requireSignedIn(user);
  if (await isSteward(db, community, actor)) return actor;
  throw new ForbiddenError(`Only stewards of "${community.handle}" can do this; ask one of them.`);
}

export async function assertMember(db: Db, community: Community, user: Viewer): Promise<User> {
  const actor = requireSignedIn(user);
  if (await isMember(db, community, actor)) return actor;
  throw new ForbiddenError(`Only members of "${community.handle}" can do this; ask a steward to add you.`);
}

export function assertAdmin(user: Viewer): User {
  const actor = requireSignedIn(user);
  if (actor.isAdmin) return actor;
  throw new ForbiddenError("Only instance admins can do this.");
}

/**
 * Communities a user may speak for (act as, fork into, offer from): the ones
 * they steward, or every community of the instance for an admin.
 */
export async function stewardedCommunities(db: Db, user: Viewer): Promise<Community[]> {
  if (!user) return [];
  if (user.isAdmin) return await listCommunities(db);
  return (await listUserCommunities(db, user)).filter((community) => community.role === "steward");
}

/**
 * How a signed-in person who is not a member may join without an invite:
 * at once ("open") or by asking the stewards ("approval"). Members are told
 * they already are; an invite-only community is refused.
 */
export async function assertMayJoin(db: Db, community: Community, user: Viewer): Promise<{ user: User; way: "open" | "approval" }> {
  const actor = await assertNotMember(db, community, user);
  if (community.joinPolicy === "invite") {
    throw new ForbiddenError(`"${community.name}" takes new members by invitation only; ask one of its stewards for an invite link.`);
  }
  return { user: actor, way: community.joinPolicy };
}

/** Joining (by request or invite) is for people who are not members yet. */
export async function assertNotMember(db: Db, community: Community, user: Viewer): Promise<User> {
  const actor = requireSignedIn(user);
  if (await memberRole(db, community, actor) !== undefined) throw new ConflictError(`You are already a member of "${community.name}".`);
  return actor;
}
