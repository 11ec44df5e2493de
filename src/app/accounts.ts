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
export function instanceCounts(ctx: AppContext): { users: number; communities: number } {
  return { users: countUsers(ctx.db), communities: listCommunities(ctx.db).length };
}

/** The signed-in user with their roles in communities. */
export function whoAmI(ctx: AppContext, viewer: Viewer): { user: User; communities: { handle: string; role: MemberRole }[] } {
  const user = requireSignedIn(viewer);
  return { user, communities: listUserCommunities(ctx.db, user).map((community) => ({ handle: community.handle, role: community.role })) };
}

/** The first admin of an instance without users, with the setup code the server printed. */
export function setUpInstance(ctx: AppContext, input: SetupInput): Promise<User> {
  return completeSetup(ctx.db, input);
}

/** An account, as the registration mode allows. */
export function signUpUser(ctx: AppContext, input: SignupInput): Promise<User> {
  return signUp(ctx.db, input);
}

/** A personal API token for a username and password (attempts are limited per account and address). */
export async function signInForToken(
  ctx: AppContext,
  input: { username: string; password: string; label: string; clientAddress: string },
): Promise<NewApiToken> {
  const user = await signIn(ctx.db, input);
  if (!user) throw new UnauthorizedError("Wrong username or password.");
  return createToken(ctx.db, user.id, input.label);
}

/** Another token for the signed-in user. */
export function createOwnToken(ctx: AppContext, viewer: Viewer, label: string): NewApiToken {
  return createToken(ctx.db, requireSignedIn(viewer).id, label);
}

export function ownTokens(ctx: AppContext, viewer: Viewer): ApiToken[] {
  return listTokens(ctx.db, requireSignedIn(viewer).id);
}

export function revokeOwnToken(ctx: AppContext, viewer: Viewer, id: number): ApiToken {
  return revokeToken(ctx.db, requireSignedIn(viewer).id, id);
}

/** Changes your display name; your followers hear of it. */
export function updateProfile(ctx: AppContext, viewer: Viewer, changes: { displayName: string }): User {
  const user = requireSignedIn(viewer);
  return ctx.db.transaction(() => {
    const updated = changeDisplayName(ctx.db, user, changes.displayName);
    recordEffect(ctx.db, { kind: "actor.updated", identifier: user.username }, ctx.clock.now());
    return updated;
  });
}

/** Changes your password (the current one is required); API tokens stay valid. */
export function changeOwnPassword(ctx: AppContext, viewer: Viewer, input: z.output<typeof PasswordChange>): Promise<void> {
  return changePassword(ctx.db, requireSignedIn(viewer), input.currentPassword, input.newPassword);
}

export function registration(ctx: AppContext): { mode: RegistrationMode; needsSetup: boolean } {
  return { mode: getRegistrationMode(ctx.db), needsSetup: needsSetup(ctx.db) };
}

// Instance admins

export function setRegistration(ctx: AppContext, viewer: Viewer, mode: RegistrationMode): RegistrationMode {
  assertAdmin(viewer);
  return setRegistrationMode(ctx.db, mode);
}

export function addUser(ctx: AppContext, viewer: Viewer, input: z.output<typeof NewUser>): Promise<User> {
  assertAdmin(viewer);
  return createUser(ctx.db, { username: input.username, password: input.password, displayName: input.displayName, isAdmin: input.admin });
}

export function users(ctx: AppContext, viewer: Viewer): User[] {
  assertAdmin(viewer);
  return listUsers(ctx.db);
}

export function invites(ctx: AppContext, viewer: Viewer): Invite[] {
  assertAdmin(viewer);
  return listInvites(ctx.db);
}

export function issueInvite(ctx: AppContext, viewer: Viewer, input: z.output<typeof NewInvite>): Invite {
  const admin = assertAdmin(viewer);
  return createInvite(ctx.db, {
    createdBy: admin,
    maxUses: input.maxUses,
    expiresAt: input.expiresAt === undefined ? undefined : new Date(input.expiresAt),
  });
}

export function withdrawInvite(ctx: AppContext, viewer: Viewer, id: number): Invite {
  assertAdmin(viewer);
  return revokeInvite(ctx.db, id);
}
