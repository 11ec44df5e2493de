/** Local user accounts. Each user is also a `Person` actor. */
import { and, eq } from "drizzle-orm";
import { z } from "../zod.ts";
import { countRows, first, type Db } from "../../db/client.ts";
import { actors, users } from "../../db/schema.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { identifierSchema, insertLocalActor, isReservedIdentifier, prepareActorKeys } from "../actors/local-actors.ts";
import { MIN_PASSWORD_LENGTH, hashPassword, needsRehash, verifyPassword } from "./passwords.ts";

export const usernameSchema = identifierSchema;
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, "must be at most 1024 characters");

export interface User {
  id: number;
  actorId: number;
  username: string;
  displayName: string;
  isAdmin: boolean;
  createdAt: Date;
}

function firstIssue(result: z.ZodSafeParseError<unknown>): string {
  return result.error.issues[0]?.message ?? "is invalid";
}

export async function createUser(
  db: Db,
  input: { username: string; password: string; isAdmin?: boolean; displayName?: string },
): Promise<User> {
  const username = usernameSchema.safeParse(input.username);
  if (!username.success) throw new InvalidInputError(`Username "${input.username}" ${firstIssue(username)}.`);
  if (isReservedIdentifier(username.data)) {
    throw new InvalidInputError(`Username "${username.data}" is reserved; choose another.`);
  }
  const password = passwordSchema.safeParse(input.password);
  if (!password.success) throw new InvalidInputError(`Password ${firstIssue(password)}.`);
  const [passwordHash, keys] = await Promise.all([hashPassword(password.data), prepareActorKeys()]);
  const displayName = input.displayName?.trim() || username.data;
  return await db.transaction(async (tx) => {
    const actor = await insertLocalActor(tx, { identifier: username.data, kind: "user", name: displayName }, keys);
    const [row] = await tx
      .insert(users)
      .values({ actorId: actor.id, username: username.data, passwordHash, isAdmin: input.isAdmin ?? false })
      .returning();
    return { ...row!, displayName };
  });
}

/** Users with their display name (kept on their actor). */
export function selectUsers(db: Db) {
  return db
    .select({
      id: users.id,
      actorId: users.actorId,
      username: users.username,
      displayName: actors.name,
      isAdmin: users.isAdmin,
      createdAt: users.createdAt,
    })
    .from(users)
    .innerJoin(actors, eq(actors.id, users.actorId));
}

export async function findUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return first(selectUsers(db).where(eq(users.username, username)));
}

export async function findUserById(db: Db, id: number): Promise<User | undefined> {
  return first(selectUsers(db).where(eq(users.id, id)));
}

export async function getUserByUsername(db: Db, username: string): Promise<User> {
  const user = await findUserByUsername(db, username);
  if (!user) throw new NotFoundError(`No user "${username}" on this instance.`);
  return user;
}

export async function countUsers(db: Db): Promise<number> {
  return await countRows(db, users);
}

/** Checks a username and password; undefined when either is wrong (same answer for both). */
export async function authenticate(db: Db, username: string, password: string): Promise<User | undefined> {
  const row = await first(db.select().from(users).where(eq(users.username, username)));
  if (!row) {
    // Spend the same time as a real check so response times do not reveal which usernames exist.
    await hashPassword(password);
    return undefined;
  }
  if (!(await verifyPassword(password, row.passwordHash))) return undefined;
  if (needsRehash(row.passwordHash)) {
    // The only moment the password is at hand: bring an old hash up to today's cost.
    const passwordHash = await hashPassword(password);
    await db.update(users).set({ passwordHash }).where(and(eq(users.id, row.id), eq(users.passwordHash, row.passwordHash)));
  }
  return await findUserById(db, row.id);
}
