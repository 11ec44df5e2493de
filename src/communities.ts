/**
 * Communities: `Group` actors that own policies and preference data. Members
 * are local users with a role; stewards administer the community.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, asc, count, eq, gt, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "./zod.ts";
import { first, countRows, type Db, type Queryable } from "../db/client.ts";
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
  return await db.transaction(async (tx) => {
    const actor = await insertLocalActor(
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
    const [row] = await tx.insert(communities).values({ actorId: actor.id, handle: handle.data }).returning();
    if (!row) throw new Error("The community row was not inserted.");
    await tx.insert(memberships).values({ communityId: row.id, userId: input.steward.id, role: "steward" });
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

export async function listCommunities(db: Db): Promise<Community[]> {
  return await selectCommunities(db).orderBy(asc(communities.handle));
}

export async function findCommunity(db: Db, handle: string): Promise<Community | undefined> {
  return await first(selectCommunities(db).where(eq(communities.handle, handle)).limit(1));
}

export async function findCommunityById(db: Db, id: number): Promise<Community | undefined> {
  return await first(selectCommunities(db).where(eq(communities.id, id)).limit(1));
}

export async function findCommunityByActorId(db: Db, actorId: number): Promise<Community | undefined> {
  return await first(selectCommunities(db).where(eq(communities.actorId, actorId)).limit(1));
}

export async function getCommunity(db: Db, handle: string): Promise<Community> {
  const community = await findCommunity(db, handle);
  if (!community) throw new NotFoundError(`No community "${handle}" on this instance.`);
  return community;
}

export async function memberRole(db: Db, community: Community, user: User): Promise<MemberRole | undefined> {
  return (await first(db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id))).limit(1)))?.role;
}

/** The communities a user belongs to, with their role in each. */
export async function listUserCommunities(db: Db, user: User): Promise<(Community & { role: MemberRole })[]> {
  return await db
    .select({ ...communityColumns, role: memberships.role })
    .from(memberships)
    .innerJoin(communities, eq(communities.id, memberships.communityId))
    .innerJoin(actors, eq(actors.id, communities.actorId))
    .where(eq(memberships.userId, user.id))
    .orderBy(asc(communities.handle));
}

export async function countMembers(db: Db, community: Community): Promise<number> {
  return await countRows(db, memberships, eq(memberships.communityId, community.id));
}

export async function listMembers(db: Db, community: Community): Promise<Member[]> {
  return await db
    .select({ username: users.username, displayName: actors.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(actors, eq(actors.id, users.actorId))
    .where(eq(memberships.communityId, community.id))
    .orderBy(asc(users.username));
}

async function assertNotLastSteward(tx: Queryable, community: Community, user: User, action: string): Promise<void> {
  const current = await first(tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id))).limit(1));
  if (current?.role !== "steward") return;
  const stewards = await countRows(tx, memberships, and(eq(memberships.communityId, community.id), eq(memberships.role, "steward")));
  if (stewards <= 1) {
    throw new ConflictError(`${user.username} is the last steward of "${community.handle}"; make someone else a steward before ${action}.`);
  }
}

export async function setMembership(db: Db, community: Community, user: User, role: MemberRole): Promise<void> {
  await db.transaction(async (tx) => {
    if (role !== "steward") await assertNotLastSteward(tx, community, user, "changing their role");
    await tx.insert(memberships)
      .values({ communityId: community.id, userId: user.id, role })
      .onConflictDoUpdate({ target: [memberships.communityId, memberships.userId], set: { role } });
  });
}

export async function removeMember(db: Db, community: Community, user: User): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await first(tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id))).limit(1));
    if (!current) throw new NotFoundError(`${user.username} is not a member of "${community.handle}".`);
    await assertNotLastSteward(tx, community, user, "removing them");
    await tx.delete(memberships).where(and(eq(memberships.communityId, community.id), eq(memberships.userId, user.id)));
  });
}

export async function updateCommunity(
  db: Db,
  community: Community,
  changes: { name?: string; summary?: string; manuallyApprovesFollowers?: boolean; minGroupSize?: number; joinPolicy?: JoinPolicy },
): Promise<Community> {
  const { minGroupSize, joinPolicy, ...actorChanges } = changes;
  const defined = Object.fromEntries(Object.entries(actorChanges).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length > 0) await db.update(actors).set(defined).where(eq(actors.id, community.actorId));
  if (minGroupSize !== undefined) await db.update(communities).set({ minGroupSize }).where(eq(communities.id, community.id));
  if (joinPolicy !== undefined) await db.update(communities).set({ joinPolicy }).where(eq(communities.id, community.id));
  return await getCommunity(db, community.handle);
}

/** Adds a local user as a plain member (joining); an existing membership is left as it is. */
export async function addMember(db: Db, community: Community, user: Pick<User, "id">): Promise<void> {
  await db.insert(memberships).values({ communityId: community.id, userId: user.id, role: "member" }).onConflictDoNothing();
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
export async function searchCommunities(db: Db, query: string | undefined, page: { offset: number; limit: number }): Promise<{ items: CommunityListing[]; total: number }> {
  const where = localMatch(query);
  const total = (await first(db.select({ n: count() }).from(communities).innerJoin(actors, eq(actors.id, communities.actorId)).where(where).limit(1)))?.n ?? 0;
  const items = await db
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
    .offset(page.offset);
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

export async function findJoinRequest(db: Db, community: Community, user: User): Promise<JoinRequest | undefined> {
  return await first(selectJoinRequests(db).where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.userId, user.id))).limit(1));
}

export async function findJoinRequestById(db: Db, community: Community, id: number): Promise<JoinRequest | undefined> {
  return await first(selectJoinRequests(db).where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.id, id))).limit(1));
}

export async function listPendingJoinRequests(db: Db, community: Community): Promise<JoinRequest[]> {
  return await selectJoinRequests(db)
    .where(and(eq(joinRequests.communityId, community.id), eq(joinRequests.state, "pending")))
    .orderBy(asc(joinRequests.createdAt), asc(joinRequests.id));
}

export async function countPendingJoinRequests(db: Db, community: Community): Promise<number> {
  return await countRows(db, joinRequests, and(eq(joinRequests.communityId, community.id), eq(joinRequests.state, "pending")));
}

/** Records (or renews, after a refusal or leaving) a person's request to join. */
export async function saveJoinRequest(db: Db, community: Community, user: User, message: string, now: Date): Promise<JoinRequest> {
  const values = { message, state: "pending" as const, createdAt: now, decidedAt: null, decidedBy: null };
  await db.insert(joinRequests)
    .values({ communityId: community.id, userId: user.id, ...values })
    .onConflictDoUpdate({ target: [joinRequests.communityId, joinRequests.userId], set: values });
  return (await findJoinRequest(db, community, user))!;
}

export async function deleteJoinRequest(db: Db, id: number): Promise<void> {
  await db.delete(joinRequests).where(eq(joinRequests.id, id));
}

export async function setJoinRequestState(db: Db, id: number, state: "approved" | "refused", decidedBy: User, now: Date): Promise<void> {
  await db.update(joinRequests).set({ state, decidedAt: now, decidedBy: decidedBy.id }).where(eq(joinRequests.id, id));
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
export async function insertInvite(
  db: Db,
  input: { community: Community; createdBy: User; maxUses: number | null; expiresAt: Date; now: Date },
): Promise<{ token: string; invite: CommunityInvite }> {
  const token = INVITE_PREFIX + randomBytes(24).toString("base64url");
  const [invite] = await db
    .insert(communityInvites)
    .values({
      communityId: input.community.id,
      tokenHash: hashInviteToken(token),
      createdBy: input.createdBy.id,
      maxUses: input.maxUses,
      expiresAt: input.expiresAt,
      createdAt: input.now,
    })
    .returning(inviteColumns);
  return { token, invite: invite! };
}

export async function findInviteByToken(db: Db, token: string): Promise<CommunityInvite | undefined> {
  return await first(db.select(inviteColumns).from(communityInvites).where(eq(communityInvites.tokenHash, hashInviteToken(token))).limit(1));
}

/** Why an invite cannot be used now, or undefined when it can. */
export function inviteUnusableReason(invite: CommunityInvite, now: Date): string | undefined {
  if (invite.revokedAt) return "This invite link was withdrawn by a steward.";
  if (invite.expiresAt <= now) return "This invite link has expired; ask a steward for a new one.";
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return "This invite link has already been used; ask a steward for a new one.";
  return undefined;
}

/** Counts one use, unless the link was used up or withdrawn meanwhile; returns whether it was counted. */
export async function useInvite(db: Db, invite: CommunityInvite): Promise<boolean> {
  const result = await db
    .update(communityInvites)
    .set({ uses: sql`${communityInvites.uses} + 1` })
    .where(
      and(
        eq(communityInvites.id, invite.id),
        isNull(communityInvites.revokedAt),
        or(isNull(communityInvites.maxUses), gt(communityInvites.maxUses, communityInvites.uses)),
      ),
    )
    .returning({ id: communityInvites.id });
  return result.length === 1;
}

/** Invite links that still work, newest first. */
export async function listUsableInvites(db: Db, community: Community, now: Date): Promise<CommunityInvite[]> {
  return (await db
    .select(inviteColumns)
    .from(communityInvites)
    .where(and(eq(communityInvites.communityId, community.id), isNull(communityInvites.revokedAt), gt(communityInvites.expiresAt, now)))
    .orderBy(sql`${communityInvites.id} DESC`))
    .filter((invite) => invite.maxUses === null || invite.uses < invite.maxUses);
}

export async function revokeInvite(db: Db, community: Community, id: number, now: Date): Promise<boolean> {
  const result = await db
    .update(communityInvites)
    .set({ revokedAt: now })
    .where(and(eq(communityInvites.id, id), eq(communityInvites.communityId, community.id), isNull(communityInvites.revokedAt)))
    .returning({ id: communityInvites.id });
  return result.length === 1;
}
