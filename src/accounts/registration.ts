/**
 * Who may create an account: the first admin through a one-time setup code
 * (printed in the server's log while the instance has no users), then others
 * by sign-up as the instance's registration mode allows: `open`, `invite`
 * (an admin's invite code is needed) or `closed` (the default, so a new
 * instance takes no strangers until an admin decides otherwise).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { actors, invites, users } from "../../db/schema.ts";
import { ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import { hashPassword } from "./passwords.ts";
import type { RegistrationMode, SetupInput, SignupInput } from "./schemas.ts";
import { REGISTRATION_MODES, INVITE_STATES } from "./schemas.ts";
import { hashToken } from "./tokens.ts";
import { authenticate, countUsers, createUser, findUserById, passwordSchema, selectUsers, type User } from "./users.ts";
import { settings } from "../../db/schema.ts";

export const DEFAULT_REGISTRATION_MODE: RegistrationMode = "closed";
const REGISTRATION_KEY = "registration_mode";
const SETUP_CODE_KEY = "setup_code_sha256";

/** An error about one field of a form; the API reports it as an issue at that path. */
export { FieldError };

async function readSetting(db: Db, key: string): Promise<unknown> {
  return (await first(db.select().from(settings).where(eq(settings.key, key))))?.value;
}

async function writeSetting(db: Db, key: string, value: unknown): Promise<void> {
  await db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } });
}

export async function getRegistrationMode(db: Db): Promise<RegistrationMode> {
  const value = await readSetting(db, REGISTRATION_KEY);
  return (REGISTRATION_MODES as readonly unknown[]).includes(value) ? (value as RegistrationMode) : DEFAULT_REGISTRATION_MODE;
}

export async function setRegistrationMode(db: Db, mode: RegistrationMode): Promise<RegistrationMode> {
  if (!(REGISTRATION_MODES as readonly string[]).includes(mode)) {
    throw new InvalidInputError(`Registration mode must be one of ${REGISTRATION_MODES.join(", ")}, not "${mode}".`);
  }
  await writeSetting(db, REGISTRATION_KEY, mode);
  return mode;
}

// ---------------------------------------------------------------- first run

function normaliseCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]/g, "");
}

/**
 * A new one-time setup code when the instance has no users (replacing any
 * earlier one), or undefined when it has. Only its hash is stored.
 */
export async function issueSetupCode(db: Db): Promise<string | undefined> {
  if ((await countUsers(db)) > 0) {
    await db.delete(settings).where(eq(settings.key, SETUP_CODE_KEY));
    return undefined;
  }
  const hex = randomBytes(10).toString("hex");
  const code = hex.match(/.{4}/g)!.join("-");
  await writeSetting(db, SETUP_CODE_KEY, hashToken(normaliseCode(code)));
  return code;
}

/** True while the instance has no users, i.e. /setup is still open. */
export async function needsSetup(db: Db): Promise<boolean> {
  return (await countUsers(db)) === 0;
}

/** Spends the setup code atomically: of two people with the right code, one wins. */
async function consumeSetupCode(db: Db, code: string): Promise<string | undefined> {
  return await db.transaction(async (tx) => {
    const stored = (await first(tx.select().from(settings).where(eq(settings.key, SETUP_CODE_KEY))))?.value;
    if (typeof stored !== "string") return undefined;
    const given = hashToken(normaliseCode(code));
    if (given.length !== stored.length || !timingSafeEqual(Buffer.from(given), Buffer.from(stored))) return undefined;
    await tx.delete(settings).where(eq(settings.key, SETUP_CODE_KEY));
    return stored;
  });
}

/** Creates the first admin with the setup code the server printed. */
export async function completeSetup(db: Db, input: SetupInput): Promise<User> {
  if (!(await needsSetup(db))) throw new ConflictError("This instance is already set up: sign in, or ask its admin for an account.");
  const spent = await consumeSetupCode(db, input.setupCode);
  if (!spent) {
    throw new FieldError("setupCode", "is not the code this server printed; look for \"setup code\" in the server's log (a restart prints a new one)");
  }
  try {
    return await createAccount(db, { ...input, isAdmin: true });
  } catch (error) {
    // Give the code back so the person can correct the form and try again.
    if (await needsSetup(db)) await writeSetting(db, SETUP_CODE_KEY, spent);
    throw error;
  }
}

/** createUser, with its username errors tied to the username field. */
async function createAccount(db: Db, input: { username: string; password: string; displayName?: string; isAdmin?: boolean }) {
  try {
    return await createUser(db, input);
  } catch (error) {
    if (error instanceof ConflictError) throw new FieldError("username", "is already taken; choose another", 409);
    if (error instanceof InvalidInputError && error.message.startsWith("Username")) {
      throw new FieldError("username", error.message.replace(/^Username "[^"]*" /, "").replace(/\.$/, ""));
    }
    throw error;
  }
}

// ---------------------------------------------------------------- invites

export type InviteState = (typeof INVITE_STATES)[number];

export interface Invite {
  id: number;
  code: string;
  maxUses: number | null;
  uses: number;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  createdBy: string | null;
  state: InviteState;
}

export function inviteState(row: { maxUses: number | null; uses: number; expiresAt: Date | null; revokedAt: Date | null }, now = new Date()): InviteState {
  if (row.revokedAt) return "revoked";
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return "expired";
  if (row.maxUses !== null && row.uses >= row.maxUses) return "used up";
  return "active";
}

function selectInvites(db: Db) {
  return db
    .select({
      id: invites.id,
      code: invites.code,
      maxUses: invites.maxUses,
      uses: invites.uses,
      expiresAt: invites.expiresAt,
      revokedAt: invites.revokedAt,
      createdAt: invites.createdAt,
      createdBy: users.username,
    })
    .from(invites)
    .leftJoin(users, eq(users.id, invites.createdBy));
}

function withState<T extends Omit<Invite, "state">>(row: T): Invite {
  return { ...row, state: inviteState(row) };
}

export async function createInvite(db: Db, input: { createdBy?: User; maxUses?: number; expiresAt?: Date }): Promise<Invite> {
  if (input.maxUses !== undefined && (!Number.isInteger(input.maxUses) || input.maxUses < 1)) {
    throw new FieldError("maxUses", "must be a whole number of at least 1");
  }
  if (input.expiresAt !== undefined) {
    if (Number.isNaN(input.expiresAt.getTime())) throw new FieldError("expiresAt", "is not a valid date");
    if (input.expiresAt.getTime() <= Date.now()) throw new FieldError("expiresAt", "must be in the future");
  }
  const code = randomBytes(12).toString("base64url");
  const [row] = await db
    .insert(invites)
    .values({ code, createdBy: input.createdBy?.id ?? null, maxUses: input.maxUses ?? null, expiresAt: input.expiresAt ?? null })
    .returning({ id: invites.id });
  return await getInvite(db, row!.id);
}

export async function getInvite(db: Db, id: number): Promise<Invite> {
  const row = await first(selectInvites(db).where(eq(invites.id, id)));
  if (!row) throw new NotFoundError(`No invite with id ${id}.`);
  return withState(row);
}

export async function listInvites(db: Db): Promise<Invite[]> {
  return (await selectInvites(db).orderBy(desc(invites.id))).map(withState);
}

export async function revokeInvite(db: Db, id: number): Promise<Invite> {
  const updated = await db
    .update(invites)
    .set({ revokedAt: new Date() })
    .where(and(eq(invites.id, id), isNull(invites.revokedAt)))
    .returning({ id: invites.id });
  if (updated.length === 0) throw new NotFoundError(`No unrevoked invite with id ${id}.`);
  return await getInvite(db, id);
}

/** Takes one use of an invite if it is still good; undefined when it is not. */
async function takeInviteUse(db: Db, code: string): Promise<number | undefined> {
  const now = new Date();
  const [row] = await db
    .update(invites)
    .set({ uses: sql`${invites.uses} + 1` })
    .where(
      and(
        eq(invites.code, code),
        isNull(invites.revokedAt),
        or(isNull(invites.expiresAt), gt(invites.expiresAt, now)),
        or(isNull(invites.maxUses), lt(invites.uses, invites.maxUses)),
      ),
    )
    .returning({ id: invites.id });
  return row?.id;
}

async function giveInviteUseBack(db: Db, id: number): Promise<void> {
  await db.update(invites).set({ uses: sql`max(${invites.uses} - 1, 0)` }).where(eq(invites.id, id));
}

// ---------------------------------------------------------------- sign-up

/** Creates an account as the registration mode allows. */
export async function signUp(db: Db, input: SignupInput): Promise<User> {
  if (await needsSetup(db)) {
    throw new ForbiddenError("This instance has no admin yet: create the first one at /setup or with `fedalign admin user create`.");
  }
  const mode = await getRegistrationMode(db);
  if (mode === "closed") throw new ForbiddenError("Sign-up is closed on this instance: ask its admin for an account.");
  let inviteId: number | undefined;
  if (mode === "invite") {
    const code = input.inviteCode?.trim();
    if (!code) throw new FieldError("inviteCode", "is required: sign-up on this instance is by invitation");
    inviteId = await takeInviteUse(db, code);
    if (inviteId === undefined) throw new FieldError("inviteCode", "is not a valid invite code (it may have expired, been used up or revoked)");
  }
  try {
    return await createAccount(db, { username: input.username, password: input.password, displayName: input.displayName });
  } catch (error) {
    if (inviteId !== undefined) await giveInviteUseBack(db, inviteId);
    throw error;
  }
}

// ---------------------------------------------------------------- own account

export async function changeDisplayName(db: Db, user: User, displayName: string): Promise<User> {
  const name = displayName.trim();
  if (!name) throw new FieldError("displayName", "must not be empty");
  await db.update(actors).set({ name }).where(eq(actors.id, user.actorId));
  return (await findUserById(db, user.id))!;
}

export async function changePassword(db: Db, user: User, currentPassword: string, newPassword: string): Promise<void> {
  const checked = passwordSchema.safeParse(newPassword);
  if (!checked.success) throw new FieldError("newPassword", checked.error.issues[0]?.message ?? "is invalid");
  if (!(await authenticate(db, user.username, currentPassword))) throw new FieldError("currentPassword", "is wrong");
  const passwordHash = await hashPassword(newPassword);
  await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
}

export async function listUsers(db: Db): Promise<User[]> {
  return selectUsers(db).orderBy(users.id);
}
