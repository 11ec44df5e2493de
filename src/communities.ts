/**
 * Communities: `Group` actors that own policies and preference data. Members
 * are local users with a role; stewards administer the community.
 */
import { and, asc, eq } from "drizzle-orm";
import { z } from "./zod.ts";
import { countRows, type Db } from "../db/client.ts";
import { actors, communities, memberships, users, type MemberRole } from "../db/schema.ts";
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
  changes: { name?: string; summary?: string; manuallyApprovesFollowers?: boolean; minGroupSize?: number },
): Community {
  const { minGroupSize, ...actorChanges } = changes;
  const defined = Object.fromEntries(Object.entries(actorChanges).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length > 0) db.update(actors).set(defined).where(eq(actors.id, community.actorId)).run();
  if (minGroupSize !== undefined) db.update(communities).set({ minGroupSize }).where(eq(communities.id, community.id)).run();
  return getCommunity(db, community.handle);
}
