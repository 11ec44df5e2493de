/**
 * Use cases of communities: creating one, what a steward changes about it
 * (profile, join policy, members, join requests, invite links), finding
 * communities in the directory, and a person joining (at once, by request
 * or with an invite link) and leaving.
 */
import type { z } from "zod";
import type { MemberRole } from "../../db/schema.ts";
import { getUserByUsername } from "../accounts/users.ts";
import type { CommunityChanges, DirectoryQuery, JoinBody, NewCommunity, NewInvite } from "./social-inputs.ts";
import {
  addMember,
  containsPattern,
  createCommunity,
  deleteJoinRequest,
  findCommunityById,
  findInviteByToken,
  findJoinRequest,
  findJoinRequestById,
  getCommunity,
  insertInvite,
  inviteUnusableReason,
  listMembers,
  listPendingJoinRequests,
  listUsableInvites,
  removeMember,
  revokeInvite,
  saveJoinRequest,
  searchCommunities,
  setJoinRequestState,
  setMembership,
  updateCommunity,
  useInvite,
  type Community,
  type CommunityInvite,
  type CommunityListing,
  type JoinRequest,
  type Member,
} from "../communities.ts";
import { searchRemoteCommunities, type RemoteCommunityListing } from "../actors/remote-actors.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors.ts";
import type { AppContext } from "./context.ts";
import { notifyJoinDecided, notifyJoinRequested } from "./notifications.ts";
import { recordEffect } from "./outbox.ts";
import { assertMayJoin, assertNotMember, assertSteward, requireSignedIn, type Viewer } from "./permissions.ts";

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

/** Leaves a community (a last steward cannot: they must make someone else a steward first). */
export function leaveCommunity(ctx: AppContext, viewer: Viewer, handle: string): Community {
  const user = requireSignedIn(viewer);
  const community = getCommunity(ctx.db, handle);
  removeMember(ctx.db, community, user);
  return community;
}

// ---- The directory -----------------------------------------------------------

export const DIRECTORY_PAGE_SIZE = 20;

export interface DirectoryPage {
  /** Communities of this instance on this page, then known remote ones. */
  local: CommunityListing[];
  remote: RemoteCommunityListing[];
  /** Matches in all, here and elsewhere. */
  total: number;
  page: number;
  pages: number;
}

/**
 * The directory: this instance's communities, then the remote communities it
 * has seen (followed, followers, owners of policies held here), filtered by
 * words in their handle, name or summary, twenty to a page.
 */
export function communityDirectory(ctx: AppContext, input: z.output<typeof DirectoryQuery>): DirectoryPage {
  const pattern = input.q ? containsPattern(input.q) : undefined;
  const offset = (input.page - 1) * DIRECTORY_PAGE_SIZE;
  const local = searchCommunities(ctx.db, input.q || undefined, { offset, limit: DIRECTORY_PAGE_SIZE });
  const remoteOffset = Math.max(0, offset - local.total);
  const remote = searchRemoteCommunities(ctx.db, ctx.origin, pattern, { offset: remoteOffset, limit: DIRECTORY_PAGE_SIZE - local.items.length });
  const total = local.total + remote.total;
  return { local: local.items, remote: remote.items, total, page: input.page, pages: Math.max(1, Math.ceil(total / DIRECTORY_PAGE_SIZE)) };
}

// ---- Joining -----------------------------------------------------------------

export type JoinOutcome = { state: "member"; community: Community } | { state: "pending"; community: Community; request: JoinRequest };

/**
 * Joins a community: at once when it is open, as a request to its stewards
 * when it approves members (asking again renews the request), never when it
 * is invite-only.
 */
export function joinCommunity(ctx: AppContext, viewer: Viewer, handle: string, input: z.output<typeof JoinBody>): JoinOutcome {
  const community = getCommunity(ctx.db, handle);
  const { user, way } = assertMayJoin(ctx.db, community, viewer);
  return ctx.db.transaction(() => {
    if (way === "open") {
      addMember(ctx.db, community, user);
      const earlier = findJoinRequest(ctx.db, community, user);
      if (earlier) deleteJoinRequest(ctx.db, earlier.id);
      return { state: "member", community };
    }
    const request = saveJoinRequest(ctx.db, community, user, input.message?.trim() ?? "", ctx.clock.now());
    notifyJoinRequested(ctx.db, ctx.origin, community, request, ctx.clock.now());
    return { state: "pending", community, request };
  });
}

/** Withdraws your pending request to join. */
export function withdrawJoinRequest(ctx: AppContext, viewer: Viewer, handle: string): JoinRequest {
  const user = requireSignedIn(viewer);
  const community = getCommunity(ctx.db, handle);
  const request = findJoinRequest(ctx.db, community, user);
  if (request?.state !== "pending") throw new NotFoundError(`You have no pending request to join "${community.name}".`);
  deleteJoinRequest(ctx.db, request.id);
  return request;
}

/** Pending requests to join (stewards). */
export function listJoinRequests(ctx: AppContext, viewer: Viewer, handle: string): JoinRequest[] {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  return listPendingJoinRequests(ctx.db, community);
}

/** Approves (the person becomes a member) or refuses a pending request (stewards). */
export function decideJoinRequest(ctx: AppContext, viewer: Viewer, handle: string, id: number, decision: "approve" | "refuse"): JoinRequest {
  const community = getCommunity(ctx.db, handle);
  const steward = assertSteward(ctx.db, community, viewer);
  const request = findJoinRequestById(ctx.db, community, id);
  if (request?.state !== "pending") throw new NotFoundError(`No pending request ${id} to join "${community.name}".`);
  return ctx.db.transaction(() => {
    setJoinRequestState(ctx.db, request.id, decision === "approve" ? "approved" : "refused", steward, ctx.clock.now());
    if (decision === "approve") addMember(ctx.db, community, { id: request.userId });
    notifyJoinDecided(ctx.db, ctx.origin, community, request, decision === "approve", ctx.clock.now());
    return findJoinRequestById(ctx.db, community, id)!;
  });
}

// ---- Invite links ------------------------------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000;

/** Creates an invite link (stewards); its token is returned once and only its hash is kept. */
export function createInvite(
  ctx: AppContext,
  viewer: Viewer,
  handle: string,
  input: z.output<typeof NewInvite>,
): { token: string; url: string; invite: CommunityInvite } {
  const community = getCommunity(ctx.db, handle);
  const steward = assertSteward(ctx.db, community, viewer);
  const now = ctx.clock.now();
  const { token, invite } = insertInvite(ctx.db, {
    community,
    createdBy: steward,
    maxUses: input.singleUse ? 1 : null,
    expiresAt: new Date(now.getTime() + input.validDays * DAY_MS),
    now,
  });
  return { token, url: inviteUrl(ctx.origin, token), invite };
}

export function inviteUrl(origin: string, token: string): string {
  return `${origin}/join/${encodeURIComponent(token)}`;
}

/** Invite links that still work (stewards). */
export function listInvites(ctx: AppContext, viewer: Viewer, handle: string): CommunityInvite[] {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  return listUsableInvites(ctx.db, community, ctx.clock.now());
}

/** Withdraws an invite link (stewards). */
export function withdrawInvite(ctx: AppContext, viewer: Viewer, handle: string, id: number): void {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  if (!revokeInvite(ctx.db, community, id, ctx.clock.now())) throw new NotFoundError(`No invite link ${id} to withdraw.`);
}

/** The community an invite link leads to, and why it cannot be used now (if so), for the page that offers to redeem it. */
export function inspectInvite(ctx: AppContext, token: string): { community: Community; problem?: string } {
  const invite = findInviteByToken(ctx.db, token);
  const community = invite ? findCommunityById(ctx.db, invite.communityId) : undefined;
  if (!invite || !community) throw new NotFoundError("This invite link is not valid; check that it was copied whole.");
  return { community, problem: inviteUnusableReason(invite, ctx.clock.now()) };
}

/** Joins with an invite link: one use of it; a used-up, expired or withdrawn link changes nothing. */
export function redeemInvite(ctx: AppContext, viewer: Viewer, token: string): Community {
  const user = requireSignedIn(viewer);
  const invite = findInviteByToken(ctx.db, token);
  const community = invite ? findCommunityById(ctx.db, invite.communityId) : undefined;
  if (!invite || !community) throw new NotFoundError("This invite link is not valid; check that it was copied whole.");
  assertNotMember(ctx.db, community, user);
  const problem = inviteUnusableReason(invite, ctx.clock.now());
  if (problem) throw new ForbiddenError(problem);
  return ctx.db.transaction(() => {
    if (!useInvite(ctx.db, invite)) throw new ConflictError("This invite link has just been used up; ask a steward for a new one.");
    addMember(ctx.db, community, user);
    const earlier = findJoinRequest(ctx.db, community, user);
    if (earlier) deleteJoinRequest(ctx.db, earlier.id);
    return community;
  });
}
