/**
 * Communities: `Group` actors that own policies and preference data. Members
 * are local users with a role; stewards administer the community.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, asc, count, eq, gt, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "./zod.ts";
import { countRows, type Db } from "../db/client.ts";
import {
  actors,
  communities,
  communityInvites,
  joinRequests,
  memberships,
  policies,
  users,
  type JoinPolicy,
  type JoinRequestState,
  type MemberRole,
} from "../db/schema.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import { identifierSchema, insertLocalActor, isReservedIdentifier, prepareActorKeys } from "./actors/local-actors.ts";
import type { User } from "./accounts/users.ts";

export const communityHandleSchema = identifierSchema;
export const communityNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
export const communitySummarySchema = z.string().max(5000, "must be at most 5000 characters");

export interface Community {
  id: number;
  actorId: number;
  handle: string;
  name: string;
  summary: string;
  manuallyApprovesFollowers: boolean;
  joinPolicy: JoinPolicy;
  createdAt: Date;
}

export interface Member {
  username: string;
  displayName: string;
  role: MemberRole;
  joinedAt: Date;
}

/** A community's row with the profile fields kept on its actor. */
const communityColumns = {
  id: communities.id,
  actorId: communities.actorId,
  handle: communities.handle,
  name: actors.name,
  summary: actors.summary,
  manuallyApprovesFollowers: actors.manuallyApprovesFollowers,
  joinPolicy: communities.joinPolicy,
  createdAt: communities.createdAt,
};

function selectCommunities(db: Db) {
  return db
    .select(communityColumns)
    .from(communities)
    .innerJoin(actors, eq(actors.id, communities.actorId));
}

export async function createCommunity(
  db: Db,
  input: { handle: string; name: string; summary?: string; steward: User; manuallyApprovesFollowers?: boolean },
): Promise<Community> {
  const handle = communityHandleSchema.safeParse(input.handle);
  if (!handle.success) throw new InvalidInputError(`Community handle "${input.handle}" ${handle.error.issues[0]?.message}.`);
  if (isReservedIdentifier(handle.data)) throw new InvalidInputError(`Community handle "${handle.data}" is reserved; choose another.`);
  const name = communityNameSchema.safeParse(input.name);
  if (!name.success) throw new InvalidInputError(`Community name ${name.error.issues[0]?.message}.`);
  const keys = await prepareActorKeys();
  return db.transaction((tx) => {
    const actor = insertLocalActor(
      tx,
      {
        identifier: handle.data,
        kind: "community",
        name: name.data,
        summary: input.summary ?? "",
        manuallyApprovesFollowers: input.manuallyApprovesFollowers ?? false,
      },
      keys,
    );
    const row = tx.insert(communities).values({ actorId: actor.id, handle: handle.data }).returning().get();
    tx.insert(memberships).values({ communityId: row.id, userId: input.steward.id, role: "steward" }).run();
    return {
      id: row.id,
      actorId: actor.id,
      handle: row.handle,
      name: actor.name,
      summary: actor.summary,
      manuallyApprovesFollowers: actor.manuallyApprovesFollowers,
      joinPolicy: row.joinPolicy,
      createdAt: row.createdAt,
    };
  });
}

export function listCommunities(db: Db): Community[] {
  return selectCommunities(db).orderBy(asc(communities.handle)).all();
}

export function findCommunity(db: Db, handle: string): Community | undefined {
  return selectCommunities(db).where(eq(communities.handle, handle)).get();
}

export function findCommunityById(db: Db, id: number): Community | undefined {
  return selectCommunities(db).where(eq(communities.id, id)).get();
}

export function findCommunityByActorId(db: Db, actorId: number): Community | undefined {
  return selectCommunities(db).where(eq(communities.actorId, actorId)).get();
}

export function getCommunity(db: Db, handle: string): Community {
  const community = findCommunity(db, handle);
  if (!community) throw new NotFoundError(`No community "${handle}" on this instance.`);
  return community;
}

export function memberRole(db: Db, community: Community, user: User): MemberRole | undefined {
  return db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id)))
    .get()?.role;
}

/** The communities a user belongs to, with their role in each. */
export function listUserCommunities(db: Db, user: User): (Community & { role: MemberRole })[] {
  return db
    .select({ ...communityColumns, role: memberships.role })
    .from(memberships)
    .innerJoin(communities, eq(communities.id, memberships.communityId))
    .innerJoin(actors, eq(actors.id, communities.actorId))
    .where(eq(memberships.userId, user.id))
    .orderBy(asc(communities.handle))
    .all();
}

export function countMembers(db: Db, community: Community): number {
  return countRows(db, memberships, eq(memberships.communityId, community.id));
}

export function listMembers(db: Db, community: Community): Member[] {
  return db
    .select({ username: users.username, displayName: actors.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(actors, eq(actors.id, users.actorId))
    .where(eq(memberships.communityId, community.id))
    .orderBy(asc(users.username))
    .all();
}

function assertNotLastSteward(tx: Pick<Db, "select">, community: Community, user: User, action: string): void {
  const current = tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id)))
    .get();
  if (current?.role !== "steward") return;
  const stewards = countRows(tx, memberships, and(eq(memberships.communityId, community.id), eq(memberships.role, "steward")));
  if (stewards <= 1) {
    throw new ConflictError(`${user.username} is the last steward of "${community.handle}"; make someone else a steward before ${action}.`);
  }
}

export function setMembership(db: Db, community: Community, user: User, role: MemberRole): void {
  db.transaction((tx) => {
    if (role !== "steward") assertNotLastSteward(tx, community, user, "changing their role");
    tx.insert(memberships)
      .values({ communityId: community.id, userId: user.id, role })
      .onConflictDoUpdate({ target: [memberships.communityId, memberships.userId], set: { role } })
      .run();
  });
}

export function removeMember(db: Db, community: Community, user: User): void {
  db.transaction((tx) => {
    const current = tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id)))
      .get();
    if (!current) throw new NotFoundError(`${user.username} is not a member of "${community.handle}".`);
    assertNotLastSteward(tx, community, user, "removing them");
    tx.delete(memberships).where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id))).run();
  });
}

export function updateCommunity(
  db: Db,
  community: Community,
  changes: { name?: string; summary?: string; manuallyApprovesFollowers?: boolean; minGroupSize?: number; joinPolicy?: JoinPolicy },
): Community {
  const { minGroupSize, joinPolicy, ...actorChanges } = changes;
  const defined = Object.fromEntries(Object.entries(actorChanges).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length > 0) db.update(actors).set(defined).where(eq(actors.id, community.actorId)).run();
  if (minGroupSize !== undefined) db.update(communities).set({ minGroupSize }).where(eq(communities.id, community.id)).run();
  if (joinPolicy !== undefined) db.update(communities).set({ joinPolicy }).where(eq(communities.id, community.id)).run();
  return getCommunity(db, community.handle);
}

/** Adds a local user as a plain member (joining); an existing membership is left as it is. */
export function addMember(db: Db, community: Community, user: Pick<User, "id">): void {
  db.insert(memberships).values({ communityId: community.id, userId: user.id, role: "member" }).onConflictDoNothing().run();
}

// ---- Directory -------------------------------------------------------------

/** A LIKE pattern matching `text` anywhere, with the wildcards in it taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

function localMatch(query: string | undefined): SQL | undefined {
  if (!query) return undefined;
  const pattern = containsPattern(query);
  return or(
    sql`${communities.handle} LIKE ${pattern} ESCAPE '\\'`,
    sql`${actors.name} LIKE ${pattern} ESCAPE '\\'`,
    sql`${actors.summary} LIKE ${pattern} ESCAPE '\\'`,
  );
}

export interface CommunityListing extends Community {
  members: number;
  policies: number;
}

/** Communities of this instance whose handle, name or summary contains `query`, by name, with member and policy counts. */
export function searchCommunities(db: Db, query: string | undefined, page: { offset: number; limit: number }): { items: CommunityListing[]; total: number } {
  const where = localMatch(query);
  const total = db.select({ n: count() }).from(communities).innerJoin(actors, eq(actors.id, communities.actorId)).where(where).get()?.n ?? 0;
  const items = db
    .select({
      ...communityColumns,
      members: sql<number>`(SELECT count(*) FROM ${memberships} WHERE ${memberships.communityId} = ${communities.id})`,
      policies: sql<number>`(SELECT count(*) FROM ${policies} WHERE ${policies.communityId} = ${communities.id})`,
    })
    .from(communities)
    .innerJoin(actors, eq(actors.id, communities.actorId))
    .where(where)
    .orderBy(sql`lower(${actors.name})`, asc(communities.handle))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  return { items, total };
}

// ---- Join requests ---------------------------------------------------------

export interface JoinRequest {
  id: number;
  communityId: number;
  userId: number;
  username: string;
  displayName: string;
  message: string;
  state: JoinRequestState;
  createdAt: Date;
  decidedAt: Date | null;
}

function selectJoinRequests(db: Pick<Db, "select">) {
  return db
    .select({
      id: joinRequests.id,
      communityId: joinRequests.communityId,
      userId: joinRequests.userId,
      username: users.username,
      displayName: actors.name,
      message: joinRequests.message,
      state: joinRequests.state,
      createdAt: joinRequests.createdAt,
      decidedAt: joinRequests.decidedAt,
    })
    .from(joinRequests)
    .innerJoin(users, eq(users.id, joinRequests.userId))
    .innerJoin(actors, eq(actors.id, users.actorId));
}

export function findJoinRequest(db: Db, community: Community, user: User): JoinRequest | undefined {
  return selectJoinRequests(db).where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.userId, user.id))).get();
}

export function findJoinRequestById(db: Db, community: Community, id: number): JoinRequest | undefined {
  return selectJoinRequests(db).where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.id, id))).get();
}

export function listPendingJoinRequests(db: Db, community: Community): JoinRequest[] {
  return selectJoinRequests(db)
    .where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.state, "pending")))
    .orderBy(asc(joinRequests.createdAt), asc(joinRequests.id))
    .all();
}

export function countPendingJoinRequests(db: Db, community: Community): number {
  return countRows(db, joinRequests, and(eq(joinRequests.communityId, community.id), eq(joinRequests.state, "pending")));
}

/** Records (or renews, after a refusal or leaving) a person's request to join. */
export function saveJoinRequest(db: Db, community: Community, user: User, message: string, now: Date): JoinRequest {
  const values = { message, state: "pending" as const, createdAt: now, decidedAt: null, decidedBy: null };
  db.insert(joinRequests)
    .values({ communityId: community.id, userId: user.id, ...values })
    .onConflictDoUpdate({ target: [joinRequests.communityId, joinRequests.userId], set: values })
    .run();
  return findJoinRequest(db, community, user)!;
}

export function deleteJoinRequest(db: Db, id: number): void {
  db.delete(joinRequests).where(eq(joinRequests.id, id)).run();
}

export function setJoinRequestState(db: Db, id: number, state: "approved" | "refused", decidedBy: User, now: Date): void {
  db.update(joinRequests).set({ state, decidedAt: now, decidedBy: decidedBy.id }).where(eq(joinRequests.id, id)).run();
}

// ---- Invite links ----------------------------------------------------------

export interface CommunityInvite {
  id: number;
  communityId: number;
  maxUses: number | null;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

const INVITE_PREFIX = "fdi_";

function hashInviteToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const inviteColumns = {
  id: communityInvites.id,
  communityId: communityInvites.communityId,
  maxUses: communityInvites.maxUses,
  uses: communityInvites.uses,
  expiresAt: communityInvites.expiresAt,
  revokedAt: communityInvites.revokedAt,
  createdAt: communityInvites.createdAt,
};

/** A new invite link's token (shown once; only its SHA-256 is kept) and its row. */
export function insertInvite(
  db: Db,
  input: { community: Community; createdBy: User; maxUses: number | null; expiresAt: Date; now: Date },
): { token: string; invite: CommunityInvite } {
  const token = INVITE_PREFIX + randomBytes(24).toString("base64url");
  const invite = db
    .insert(communityInvites)
    .values({
      communityId: input.community.id,
      tokenHash: hashInviteToken(token),
      createdBy: input.createdBy.id,
      maxUses: input.maxUses,
      expiresAt: input.expiresAt,
      createdAt: input.now,
    })
    .returning(inviteColumns)
    .get();
  return { token, invite };
}

export function findInviteByToken(db: Db, token: string): CommunityInvite | undefined {
  return db.select(inviteColumns).from(communityInvites).where(eq(communityInvites.tokenHash, hashInviteToken(token))).get();
}

/** Why an invite cannot be used now, or undefined when it can. */
export function inviteUnusableReason(invite: CommunityInvite, now: Date): string | undefined {
  if (invite.revokedAt) return "This invite link was withdrawn by a steward.";
  if (invite.expiresAt <= now) return "This invite link has expired; ask a steward for a new one.";
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return "This invite link has already been used; ask a steward for a new one.";
  return undefined;
}

/** Counts one use, unless the link was used up or withdrawn meanwhile; returns whether it was counted. */
export function useInvite(db: Db, invite: CommunityInvite): boolean {
  const result = db
    .update(communityInvites)
    .set({ uses: sql`${communityInvites.uses} + 1` })
    .where(
      and(
        eq(communityInvites.id, invite.id),
        isNull(communityInvites.revokedAt),
        or(isNull(communityInvites.maxUses), gt(communityInvites.maxUses, communityInvites.uses)),
      ),
    )
    .run();
  return result.changes === 1;
}

/** Invite links that still work, newest first. */
export function listUsableInvites(db: Db, community: Community, now: Date): CommunityInvite[] {
  return db
    .select(inviteColumns)
    .from(communityInvites)
    .where(and(eq(communityInvites.communityId, community.id), isNull(communityInvites.revokedAt), gt(communityInvites.expiresAt, now)))
    .orderBy(sql`${communityInvites.id} DESC`)
    .all()
    .filter((invite) => invite.maxUses === null || invite.uses < invite.maxUses);
}

export function revokeInvite(db: Db, community: Community, id: number, now: Date): boolean {
  const result = db
    .update(communityInvites)
    .set({ revokedAt: now })
    .where(and(eq(communityInvites.id, id), eq(communityInvites.communityId, community.id), isNull(communityInvites.revokedAt)))
    .run();
  return result.changes === 1;
}
