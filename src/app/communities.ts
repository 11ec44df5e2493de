/**
 * Use cases of communities: creating one, what a steward changes about it
 * (profile, members) and a member leaving.
 */
import type { z } from "zod";
import type { MemberRole } from "../../db/schema.ts";
import { getUserByUsername } from "../accounts/users.ts";
import type { CommunityChanges, NewCommunity } from "./social-inputs.ts";
import {
  createCommunity,
  getCommunity,
  listMembers,
  removeMember,
  setMembership,
  updateCommunity,
  type Community,
  type Member,
} from "../communities.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, requireSignedIn, type Viewer } from "./permissions.ts";

export type CommunityChangesInput = z.output<typeof CommunityChanges>;
export type NewCommunityInput = z.output<typeof NewCommunity>;

/** Creates a community; the viewer becomes its first steward. */
export function createNewCommunity(ctx: AppContext, viewer: Viewer, input: NewCommunityInput): Promise<Community> {
  return createCommunity(ctx.db, { ...input, steward: requireSignedIn(viewer) });
}

/** Changes a community's profile; its followers hear of it (an Update of the actor). */
export function updateCommunityProfile(ctx: AppContext, viewer: Viewer, handle: string, changes: CommunityChangesInput): Community {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  return ctx.db.transaction(() => {
    const updated = updateCommunity(ctx.db, community, changes);
    recordEffect(ctx.db, { kind: "actor.updated", identifier: community.handle }, ctx.clock.now());
    return updated;
  });
}

/** Adds a local user as member or steward, or changes their role (stewards). Returns all members. */
export function setMemberRole(ctx: AppContext, viewer: Viewer, handle: string, username: string, role: MemberRole): Member[] {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  setMembership(ctx.db, community, getUserByUsername(ctx.db, username), role);
  return listMembers(ctx.db, community);
}

/** Removes a member (stewards), or leaves (the member themself). Returns the remaining members. */
export function removeMemberFrom(ctx: AppContext, viewer: Viewer, handle: string, username: string): Member[] {
  const user = requireSignedIn(viewer);
  const community = getCommunity(ctx.db, handle);
  if (username !== user.username) assertSteward(ctx.db, community, user);
  removeMember(ctx.db, community, getUserByUsername(ctx.db, username));
  return listMembers(ctx.db, community);
}
