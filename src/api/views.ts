/** Rows to the JSON shapes of src/api/schemas.ts. */
import type { Invite } from "../accounts/registration.ts";
import type { ApiToken } from "../accounts/tokens.ts";
import type { User } from "../accounts/users.ts";
import type { Community, CommunityInvite, CommunityListing, JoinRequest, Member } from "../communities.ts";
import type { RemoteCommunityListing } from "../actors/remote-actors.ts";
import { sanitizeRemoteHtml } from "../remote-html.ts";
import type { FollowWithActor } from "../follows.ts";
import { countFollowers } from "../follows.ts";
import type { Db } from "../../db/client.ts";
import { actorIri, fediverseHandle } from "../actors/iris.ts";

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export { actorIri, fediverseHandle };

export function toUserView(origin: string, user: User) {
  return {
    username: user.username,
    displayName: user.displayName,
    isAdmin: user.isAdmin,
    actor: actorIri(origin, user.username),
    handle: fediverseHandle(origin, user.username),
    createdAt: iso(user.createdAt),
  };
}

export function toTokenView(token: ApiToken) {
  return {
    id: token.id,
    label: token.label,
    createdAt: iso(token.createdAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    revokedAt: isoOrNull(token.revokedAt),
  };
}

export function toInviteView(invite: Invite) {
  return { ...invite, expiresAt: isoOrNull(invite.expiresAt), revokedAt: isoOrNull(invite.revokedAt), createdAt: iso(invite.createdAt) };
}

export async function toCommunityView(db: Db, origin: string, community: Community) {
  const actor = actorIri(origin, community.handle);
  return {
    handle: community.handle,
    name: community.name,
    summary: community.summary,
    actor,
    fediverseHandle: fediverseHandle(origin, community.handle),
    manuallyApprovesFollowers: community.manuallyApprovesFollowers,
    joinPolicy: community.joinPolicy,
    followers: await countFollowers(db, actor),
    createdAt: iso(community.createdAt),
  };
}

export function toMemberView(member: Member) {
  return { username: member.username, displayName: member.displayName, role: member.role, joinedAt: iso(member.joinedAt) };
}

export function toFollowView(follow: FollowWithActor) {
  return {
    id: follow.id,
    state: follow.state,
    actor: { iri: follow.actor.iri, handle: follow.actor.handle, name: follow.actor.name, type: follow.actor.type },
    createdAt: iso(follow.createdAt),
    updatedAt: iso(follow.updatedAt),
  };
}

export async function toDirectoryLocalEntry(db: Db, origin: string, community: CommunityListing) {
  return { ...await toCommunityView(db, origin, community), members: community.members, policies: community.policies };
}

export function toDirectoryRemoteEntry(actor: RemoteCommunityListing) {
  return {
    id: actor.id,
    actor: actor.iri,
    fediverseHandle: actor.handle,
    name: actor.name,
    summaryHtml: actor.summary ? sanitizeRemoteHtml(actor.summary) : null,
    host: new URL(actor.iri).host,
    url: actor.url,
    policies: actor.policies,
  };
}

export function toJoinRequestView(handle: string, request: JoinRequest) {
  return {
    id: request.id,
    community: handle,
    username: request.username,
    displayName: request.displayName,
    message: request.message,
    state: request.state,
    createdAt: iso(request.createdAt),
    decidedAt: isoOrNull(request.decidedAt),
  };
}

export function toCommunityInviteView(invite: CommunityInvite) {
  return { id: invite.id, singleUse: invite.maxUses === 1, uses: invite.uses, expiresAt: iso(invite.expiresAt), createdAt: iso(invite.createdAt) };
}
