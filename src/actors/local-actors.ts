/**
 * Local actors: the instance actor, communities and users share one namespace
 * of identifiers, which are both the last segment of the actor IRI and the
 * WebFinger username (`@nurses@care.example`).
 */
import { eq } from "drizzle-orm";
import { z } from "../zod.ts";
import { first, type Db, type Queryable } from "../../db/client.ts";
import { actorKeys, actors, type ActorKind } from "../../db/schema.ts";
import { ConflictError } from "../errors.ts";
import { generateActorKeys } from "./keys.ts";

export const INSTANCE_ACTOR_IDENTIFIER = "instance";

/** Names that would be confusing or collide with routes and well-known accounts. */
const RESERVED = new Set([
  INSTANCE_ACTOR_IDENTIFIER,
  "admin",
  "administrator",
  "api",
  "root",
  "system",
  "support",
  "fedalign",
  "actor",
  "inbox",
  "outbox",
  "nodeinfo",
  "well-known",
]);

export const identifierSchema = z
  .string()
  .min(1, "must not be empty")
  .max(30, "must be at most 30 characters")
  .regex(/^[a-z0-9_]+$/, "may contain only lower-case letters a-z, digits and underscores");

export function isReservedIdentifier(identifier: string): boolean {
  return RESERVED.has(identifier);
}

export type LocalActor = typeof actors.$inferSelect;

export interface NewLocalActor {
  identifier: string;
  kind: ActorKind;
  name: string;
  summary?: string;
  manuallyApprovesFollowers?: boolean;
}

/** Key generation is async and slow-ish; do it before opening the transaction. */
export async function prepareActorKeys() {
  return generateActorKeys();
}

/** Inserts an actor and its keys; call inside the caller's transaction. */
export async function insertLocalActor(
  tx: Queryable,
  actor: NewLocalActor,
  keys: Awaited<ReturnType<typeof prepareActorKeys>>,
): Promise<LocalActor> {
  const taken = await first(tx.select({ id: actors.id }).from(actors).where(eq(actors.identifier, actor.identifier)));
  if (taken !== undefined) {
    throw new ConflictError(`The name "${actor.identifier}" is already taken on this instance by a user or community; choose another.`);
  }
  const [row] = await tx
    .insert(actors)
    .values({
      identifier: actor.identifier,
      kind: actor.kind,
      name: actor.name,
      summary: actor.summary ?? "",
      manuallyApprovesFollowers: actor.manuallyApprovesFollowers ?? false,
    })
    .returning();
  await tx.insert(actorKeys).values(keys.map((key) => ({ actorId: row!.id, ...key })));
  return row!;
}

export async function findActorByIdentifier(db: Db, identifier: string): Promise<LocalActor | undefined> {
  return first(db.select().from(actors).where(eq(actors.identifier, identifier)));
}

/** The instance actor is created on first start. */
export async function ensureInstanceActor(db: Db, name: string): Promise<LocalActor> {
  const existing = await findActorByIdentifier(db, INSTANCE_ACTOR_IDENTIFIER);
  if (existing) return existing;
  const keys = await prepareActorKeys();
  return await db.transaction(async (tx) =>
    await insertLocalActor(tx, { identifier: INSTANCE_ACTOR_IDENTIFIER, kind: "instance", name }, keys),
  );
}
