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
export async function createNewCommunity(ctx: AppContext, viewer: Viewer, input: NewCommunityInput): Promise<Community> {
  return await createCommunity(ctx.db, { ...input, steward: requireSignedIn(viewer) });
}

/** Changes a community's profile; its followers hear of it (an Update of the actor). */
export async function updateCommunityProfile(ctx: AppContext, viewer: Viewer, handle: string, changes: CommunityChangesInput): Promise<Community> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return await ctx.db.transaction(async () => {
    const updated = await updateCommunity(ctx.db, community, changes);
    await recordEffect(ctx.db, { kind: "actor.updated", identifier: community.handle }, ctx.clock.now());
    return updated;
  });
}

/** Adds a local user as member or steward, or changes their role (stewards). Returns all members. */
export async function setMemberRole(ctx: AppContext, viewer: Viewer, handle: string, username: string, role: MemberRole): Promise<Member[]> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  await setMembership(ctx.db, community, await getUserByUsername(ctx.db, username), role);
  return await listMembers(ctx.db, community);
}

/** Removes a member (stewards), or leaves (the member themself). Returns the remaining members. */
export async function removeMemberFrom(ctx: AppContext, viewer: Viewer, handle: string, username: string): Promise<Member[]> {
  const user = requireSignedIn(viewer);
  const community = await getCommunity(ctx.db, handle);
  if (username !== user.username) await assertSteward(ctx.db, community, user);
  await removeMember(ctx.db, community, await getUserByUsername(ctx.db, username));
  return await listMembers(ctx.db, community);
}

/** Leaves a community (a last steward cannot: they must make someone else a steward first). */
export async function leaveCommunity(ctx: AppContext, viewer: Viewer, handle: string): Promise<Community> {
  const user = requireSignedIn(viewer);
  const community = await getCommunity(ctx.db, handle);
  await removeMember(ctx.db, community, user);
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
export async function communityDirectory(ctx: AppContext, input: z.output<typeof DirectoryQuery>): Promise<DirectoryPage> {
  const pattern = input.q ? containsPattern(input.q) : undefined;
  const offset = (input.page - 1) * DIRECTORY_PAGE_SIZE;
  const local = await searchCommunities(ctx.db, input.q || undefined, { offset, limit: DIRECTORY_PAGE_SIZE });
  const remoteOffset = Math.max(0, offset - local.total);
  const remote = await searchRemoteCommunities(ctx.db, ctx.origin, pattern, { offset: remoteOffset, limit: DIRECTORY_PAGE_SIZE - local.items.length });
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
export async function joinCommunity(ctx: AppContext, viewer: Viewer, handle: string, input: z.output<typeof JoinBody>): Promise<JoinOutcome> {
  const community = await getCommunity(ctx.db, handle);
  const { user, way } = await assertMayJoin(ctx.db, community, viewer);
  return await ctx.db.transaction(async () => {
    if (way === "open") {
      await addMember(ctx.db, community, user);
      const earlier = await findJoinRequest(ctx.db, community, user);
      if (earlier) await deleteJoinRequest(ctx.db, earlier.id);
      return { state: "member", community };
    }
    const request = await saveJoinRequest(ctx.db, community, user, input.message?.trim() ?? "", ctx.clock.now());
    await notifyJoinRequested(ctx.db, ctx.origin, community, request, ctx.clock.now());
    return { state: "pending", community, request };
  });
}

/** Withdraws your pending request to join. */
export async function withdrawJoinRequest(ctx: AppContext, viewer: Viewer, handle: string): Promise<JoinRequest> {
  const user = requireSignedIn(viewer);
  const community = await getCommunity(ctx.db, handle);
  const request = await findJoinRequest(ctx.db, community, user);
  if (request?.state !== "pending") throw new NotFoundError(`You have no pending request to join "${community.name}".`);
  await deleteJoinRequest(ctx.db, request.id);
  return request;
}

/** Pending requests to join (stewards). */
export async function listJoinRequests(ctx: AppContext, viewer: Viewer, handle: string): Promise<JoinRequest[]> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return await listPendingJoinRequests(ctx.db, community);
}

/** Approves (the person becomes a member) or refuses a pending request (stewards). */
export async function decideJoinRequest(ctx: AppContext, viewer: Viewer, handle: string, id: number, decision: "approve" | "refuse"): Promise<JoinRequest> {
  const community = await getCommunity(ctx.db, handle);
  const steward = await assertSteward(ctx.db, community, viewer);
  const request = await findJoinRequestById(ctx.db, community, id);
  if (request?.state !== "pending") throw new NotFoundError(`No pending request ${id} to join "${community.name}".`);
  return await ctx.db.transaction(async () => {
    await setJoinRequestState(ctx.db, request.id, decision === "approve" ? "approved" : "refused", steward, ctx.clock.now());
    if (decision === "approve") await addMember(ctx.db, community, { id: request.userId });
    await notifyJoinDecided(ctx.db, ctx.origin, community, request, decision === "approve", ctx.clock.now());
    return (await findJoinRequestById(ctx.db, community, id))!;
  });
}

// ---- Invite links ------------------------------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000;

/** Creates an invite link (stewards); its token is returned once and only its hash is kept. */
export async function createInvite(
  ctx: AppContext,
  viewer: Viewer,
  handle: string,
  input: z.output<typeof NewInvite>,
): Promise<{ token: string; url: string; invite: CommunityInvite }> {
  const community = await getCommunity(ctx.db, handle);
  const steward = await assertSteward(ctx.db, community, viewer);
  const now = ctx.clock.now();
  const { token, invite } = await insertInvite(ctx.db, {
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
export async function listInvites(ctx: AppContext, viewer: Viewer, handle: string): Promise<CommunityInvite[]> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return await listUsableInvites(ctx.db, community, ctx.clock.now());
}

/** Withdraws an invite link (stewards). */
export async function withdrawInvite(ctx: AppContext, viewer: Viewer, handle: string, id: number): Promise<void> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  if (!await revokeInvite(ctx.db, community, id, ctx.clock.now())) throw new NotFoundError(`No invite link ${id} to withdraw.`);
}

/** The community an invite link leads to, and why it cannot be used now (if so), for the page that offers to redeem it. */
export async function inspectInvite(ctx: AppContext, token: string): Promise<{ community: Community; problem?: string }> {
  const invite = await findInviteByToken(ctx.db, token);
  const community = invite ? await findCommunityById(ctx.db, invite.communityId) : undefined;
  if (!invite || !community) throw new NotFoundError("This invite link is not valid; check that it was copied whole.");
  return { community, problem: inviteUnusableReason(invite, ctx.clock.now()) };
}

/** Joins with an invite link: one use of it; a used-up, expired or withdrawn link changes nothing. */
export async function redeemInvite(ctx: AppContext, viewer: Viewer, token: string): Promise<Community> {
  const user = requireSignedIn(viewer);
  const invite = await findInviteByToken(ctx.db, token);
  const community = invite ? await findCommunityById(ctx.db, invite.communityId) : undefined;
  if (!invite || !community) throw new NotFoundError("This invite link is not valid; check that it was copied whole.");
  await assertNotMember(ctx.db, community, user);
  const problem = inviteUnusableReason(invite, ctx.clock.now());
  if (problem) throw new ForbiddenError(problem);
  return await ctx.db.transaction(async () => {
    if (!await useInvite(ctx.db, invite)) throw new ConflictError("This invite link has just been used up; ask a steward for a new one.");
    await addMember(ctx.db, community, user);
    const earlier = await findJoinRequest(ctx.db, community, user);
    if (earlier) await deleteJoinRequest(ctx.db, earlier.id);
    return community;
  });
}
