/**
 * Use cases of accounts: setting up an instance, signing up and in (a
 * personal API token for a password), one's own profile, password and
 * tokens, and what instance admins do (users, registration mode, invites).
 * A changed display name reaches followers as an Update of the actor.
 */
import type { z } from "zod";
import type { MemberRole } from "../../db/schema.ts";
import {
  changeDisplayName,
  changePassword,
  completeSetup,
  createInvite,
  getRegistrationMode,
  listInvites,
  listUsers,
  needsSetup,
  revokeInvite,
  setRegistrationMode,
  signUp,
  type Invite,
} from "../accounts/registration.ts";
import type { NewInvite, PasswordChange, RegistrationMode, SetupInput, SignupInput } from "../accounts/schemas.ts";
import { signIn } from "../accounts/sign-in.ts";
import { createToken, listTokens, revokeToken, type ApiToken } from "../accounts/tokens.ts";
import { countUsers, createUser, type User } from "../accounts/users.ts";
import type { NewUser } from "./social-inputs.ts";
import { listCommunities, listUserCommunities } from "../communities.ts";
import { UnauthorizedError } from "../errors.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import { assertAdmin, requireSignedIn, type Viewer } from "./permissions.ts";

export interface NewApiToken {
  token: string;
  record: ApiToken;
}

/** Counts shown on the instance's description. */
export async function instanceCounts(ctx: AppContext): Promise<{ users: number; communities: number }> {
  return { users: await countUsers(ctx.db), communities: (await listCommunities(ctx.db)).length };
}

/** The signed-in user with their roles in communities. */
export async function whoAmI(ctx: AppContext, viewer: Viewer): Promise<{ user: User; communities: { handle: string; role: MemberRole }[] }> {
  const user = requireSignedIn(viewer);
  return { user, communities: (await listUserCommunities(ctx.db, user)).map((community) => ({ handle: community.handle, role: community.role })) };
}

/** The first admin of an instance without users, with the setup code the server printed. */
export async function setUpInstance(ctx: AppContext, input: SetupInput): Promise<User> {
  return await completeSetup(ctx.db, input);
}

/** An account, as the registration mode allows. */
export async function signUpUser(ctx: AppContext, input: SignupInput): Promise<User> {
  return await signUp(ctx.db, input);
}

/** A personal API token for a username and password (attempts are limited per account and address). */
export async function signInForToken(
  ctx: AppContext,
  input: { username: string; password: string; label: string; clientAddress: string },
): Promise<NewApiToken> {
  const user = await signIn(ctx.db, input);
  if (!user) throw new UnauthorizedError("Wrong username or password.");
  return await createToken(ctx.db, user.id, input.label);
}

/** Another token for the signed-in user. */
export async function createOwnToken(ctx: AppContext, viewer: Viewer, label: string): Promise<NewApiToken> {
  return await createToken(ctx.db, requireSignedIn(viewer).id, label);
}

export async function ownTokens(ctx: AppContext, viewer: Viewer): Promise<ApiToken[]> {
  return await listTokens(ctx.db, requireSignedIn(viewer).id);
}

export async function revokeOwnToken(ctx: AppContext, viewer: Viewer, id: number): Promise<ApiToken> {
  return await revokeToken(ctx.db, requireSignedIn(viewer).id, id);
}

/** Changes your display name; your followers hear of it. */
export async function updateProfile(ctx: AppContext, viewer: Viewer, changes: { displayName: string }): Promise<User> {
  const user = requireSignedIn(viewer);
  return await ctx.db.transaction(async () => {
    const updated = await changeDisplayName(ctx.db, user, changes.displayName);
    await recordEffect(ctx.db, { kind: "actor.updated", identifier: user.username }, ctx.clock.now());
    return updated;
  });
}

/** Changes your password (the current one is required); API tokens stay valid. */
export async function changeOwnPassword(ctx: AppContext, viewer: Viewer, input: z.output<typeof PasswordChange>): Promise<void> {
  return await changePassword(ctx.db, requireSignedIn(viewer), input.currentPassword, input.newPassword);
}

export async function registration(ctx: AppContext): Promise<{ mode: RegistrationMode; needsSetup: boolean }> {
  return { mode: await getRegistrationMode(ctx.db), needsSetup: await needsSetup(ctx.db) };
}

// Instance admins

export async function setRegistration(ctx: AppContext, viewer: Viewer, mode: RegistrationMode): Promise<RegistrationMode> {
  assertAdmin(viewer);
  return await setRegistrationMode(ctx.db, mode);
}

export async function addUser(ctx: AppContext, viewer: Viewer, input: z.output<typeof NewUser>): Promise<User> {
  assertAdmin(viewer);
  return await createUser(ctx.db, { username: input.username, password: input.password, displayName: input.displayName, isAdmin: input.admin });
}

export async function users(ctx: AppContext, viewer: Viewer): Promise<User[]> {
  assertAdmin(viewer);
  return await listUsers(ctx.db);
}

export async function invites(ctx: AppContext, viewer: Viewer): Promise<Invite[]> {
  assertAdmin(viewer);
  return await listInvites(ctx.db);
}

export async function issueInvite(ctx: AppContext, viewer: Viewer, input: z.output<typeof NewInvite>): Promise<Invite> {
  const admin = assertAdmin(viewer);
  return await createInvite(ctx.db, {
    createdBy: admin,
    maxUses: input.maxUses,
    expiresAt: input.expiresAt === undefined ? undefined : new Date(input.expiresAt),
  });
}

export async function withdrawInvite(ctx: AppContext, viewer: Viewer, id: number): Promise<Invite> {
  assertAdmin(viewer);
  return await revokeInvite(ctx.db, id);
}
