/** Instance info, the signed-in user, users (admins) and personal API tokens. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { communities, memberships } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { countUsers, createUser } from "../accounts/users.ts";
import { signIn } from "../accounts/sign-in.ts";
import { clientAddress } from "../client-address.ts";
import { createToken, listTokens, revokeToken } from "../accounts/tokens.ts";
import {
  FieldError,
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
import {
  InviteView,
  NewInvite,
  OwnTokenRequest,
  PasswordChange,
  ProfileChanges,
  RegistrationSetting,
  SetupBody,
  SignupBody,
} from "../accounts/schemas.ts";
import type { User } from "../accounts/users.ts";
import { problem } from "./problem.ts";
import { listCommunities } from "../communities.ts";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.ts";
import { requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { sendActorUpdate } from "../../federation/actors.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { IdParam, Instance, Me, NewToken, NewUser, TokenRequest, TokenView, UserView, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { actorIri, toTokenView, toUserView } from "./views.ts";


/** Errors about one field become a problem whose issue names that field, as zod's do. */
async function answer<R>(action: () => R | Promise<R>): Promise<R> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof FieldError) {
      const title = error.status === 409 ? "Conflict" : "Invalid request";
      return problem(error.status, title, error.message, { issues: [{ path: error.field, message: error.fieldMessage }] }) as R;
    }
    throw error;
  }
}

function requireAdmin(user: User): User {
  if (!user.isAdmin) throw new ForbiddenError("Only instance admins can do this.");
  return user;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
function toInviteView(invite: Invite) {
  return { ...invite, expiresAt: iso(invite.expiresAt), revokedAt: iso(invite.revokedAt), createdAt: invite.createdAt.toISOString() };
}

export function accountRoutes(deps: ApiDeps) {
  const { db, origin } = deps;
  const app = new OpenAPIHono();

  app.openapi(
    createRoute({
      method: "get",
      path: "/instance",
      tags: ["instance"],
      summary: "What this instance is",
      responses: { 200: jsonResponse(Instance, "Instance information") },
    }),
    (c) =>
      c.json(
        {
          name: new URL(origin).host,
          origin,
          software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
          actor: actorIri(origin, "instance"),
          users: countUsers(db),
          communities: listCommunities(db).length,
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/me",
      tags: ["accounts"],
      summary: "The user the token belongs to, and their communities",
      security,
      responses: { 200: jsonResponse(Me, "The signed-in user"), 401: problemResponse("No or bad token") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const roles = db
        .select({ handle: communities.handle, role: memberships.role })
        .from(memberships)
        .innerJoin(communities, eq(communities.id, memberships.communityId))
        .where(eq(memberships.userId, user.id))
        .all();
      return c.json({ ...toUserView(origin, user), communities: roles }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/users",
      tags: ["accounts"],
      summary: "Create a local user (instance admins only)",
      security,
      request: { body: jsonBody(NewUser) },
      responses: {
        201: jsonResponse(UserView, "The new user"),
        400: problemResponse("Invalid input"),
        403: problemResponse("Not an admin"),
        409: problemResponse("Name taken"),
      },
    }),
    async (c) => {
      const admin = requireUser(c, db);
      if (!admin.isAdmin) throw new ForbiddenError("Only instance admins can create users.");
      const body = c.req.valid("json");
      const user = await createUser(db, {
        username: body.username,
        password: body.password,
        displayName: body.displayName,
        isAdmin: body.admin,
      });
      return c.json(toUserView(origin, user), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/tokens",
      tags: ["tokens"],
      summary: "Exchange a username and password for a personal API token",
      request: { body: jsonBody(TokenRequest) },
      responses: {
        201: jsonResponse(NewToken, "The token, shown only once"),
        401: problemResponse("Wrong credentials"),
        429: problemResponse("Too many failed attempts for this account or from this address; see Retry-After"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const user = await signIn(db, { username: body.username, password: body.password, clientAddress: clientAddress(c.req) });
      if (!user) throw new UnauthorizedError("Wrong username or password.");
      const { token, record } = createToken(db, user.id, body.label);
      return c.json({ ...toTokenView(record), token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tokens",
      tags: ["tokens"],
      summary: "Your personal API tokens (without their secret)",
      security,
      responses: { 200: jsonResponse(z.array(TokenView), "Tokens, newest first"), 401: problemResponse("No or bad token") },
    }),
    (c) => c.json(listTokens(db, requireUser(c, db).id).map(toTokenView), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/tokens/{id}",
      tags: ["tokens"],
      summary: "Revoke one of your tokens",
      security,
      request: { params: IdParam },
      responses: { 200: jsonResponse(TokenView, "The revoked token"), 404: problemResponse("No such active token") },
    }),
    (c) => c.json(toTokenView(revokeToken(db, requireUser(c, db).id, c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/setup",
      tags: ["accounts"],
      summary: "Create the first admin of an instance that has no users, with the setup code the server printed in its log",
      request: { body: jsonBody(SetupBody) },
      responses: {
        201: jsonResponse(UserView, "The first admin"),
        400: problemResponse("Invalid input or wrong setup code"),
        409: problemResponse("Already set up"),
      },
    }),
    (c) => answer(async () => c.json(toUserView(origin, await completeSetup(db, c.req.valid("json"))), 201)),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/registration",
      tags: ["accounts"],
      summary: "Whether sign-up is open, by invitation or closed (and whether the instance still needs its first admin)",
      responses: { 200: jsonResponse(RegistrationSetting.extend({ needsSetup: z.boolean() }), "The registration mode") },
    }),
    (c) => c.json({ mode: getRegistrationMode(db), needsSetup: needsSetup(db) }, 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/registration",
      tags: ["admin"],
      summary: "Set the registration mode: open, invite or closed (instance admins)",
      security,
      request: { body: jsonBody(RegistrationSetting) },
      responses: { 200: jsonResponse(RegistrationSetting, "The new mode"), 403: problemResponse("Not an admin") },
    }),
    (c) => {
      requireAdmin(requireUser(c, db));
      return c.json({ mode: setRegistrationMode(db, c.req.valid("json").mode) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/signup",
      tags: ["accounts"],
      summary: "Create an account, as the registration mode allows (an invite code when sign-up is by invitation)",
      request: { body: jsonBody(SignupBody) },
      responses: {
        201: jsonResponse(UserView, "The new account; exchange its password for a token at POST /tokens"),
        400: problemResponse("Invalid input or invite code"),
        403: problemResponse("Sign-up is closed"),
        409: problemResponse("Username taken"),
      },
    }),
    (c) => answer(async () => c.json(toUserView(origin, await signUp(db, c.req.valid("json"))), 201)),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/invites",
      tags: ["admin"],
      summary: "Invite codes, newest first (instance admins)",
      security,
      responses: { 200: jsonResponse(z.array(InviteView), "Invites"), 403: problemResponse("Not an admin") },
    }),
    (c) => {
      requireAdmin(requireUser(c, db));
      return c.json(listInvites(db).map(toInviteView), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/invites",
      tags: ["admin"],
      summary: "Create an invite code, for any number of uses or a limited one, with an optional expiry (instance admins)",
      security,
      request: { body: jsonBody(NewInvite) },
      responses: { 201: jsonResponse(InviteView, "The invite"), 400: problemResponse("Invalid input"), 403: problemResponse("Not an admin") },
    }),
    (c) =>
      answer(() => {
        const admin = requireAdmin(requireUser(c, db));
        const body = c.req.valid("json");
        const invite = createInvite(db, {
          createdBy: admin,
          maxUses: body.maxUses,
          expiresAt: body.expiresAt === undefined ? undefined : new Date(body.expiresAt),
        });
        return c.json(toInviteView(invite), 201);
      }),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/invites/{id}",
      tags: ["admin"],
      summary: "Revoke an invite code (instance admins)",
      security,
      request: { params: IdParam },
      responses: { 200: jsonResponse(InviteView, "The revoked invite"), 403: problemResponse("Not an admin"), 404: problemResponse("No such invite") },
    }),
    (c) => {
      requireAdmin(requireUser(c, db));
      return c.json(toInviteView(revokeInvite(db, c.req.valid("param").id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/users",
      tags: ["admin"],
      summary: "Local users (instance admins)",
      security,
      responses: { 200: jsonResponse(z.array(UserView), "Users, oldest first"), 403: problemResponse("Not an admin") },
    }),
    (c) => {
      requireAdmin(requireUser(c, db));
      return c.json(listUsers(db).map((user) => toUserView(origin, user)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/me",
      tags: ["accounts"],
      summary: "Change your display name",
      security,
      request: { body: jsonBody(ProfileChanges) },
      responses: { 200: jsonResponse(UserView, "You, changed"), 400: problemResponse("Invalid input"), 401: problemResponse("No or bad token") },
    }),
    (c) =>
      answer(async () => {
        const user = changeDisplayName(db, requireUser(c, db), c.req.valid("json").displayName);
        await afterCommit("send a profile update", () => sendActorUpdate(fedContext(deps), user.username));
        return c.json(toUserView(origin, user), 200);
      }),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/me/password",
      tags: ["accounts"],
      summary: "Change your password (the current one is required); API tokens stay valid",
      security,
      request: { body: jsonBody(PasswordChange) },
      responses: { 204: { description: "Changed" }, 400: problemResponse("Invalid input or wrong current password"), 401: problemResponse("No or bad token") },
    }),
    (c) =>
      answer(async () => {
        const body = c.req.valid("json");
        await changePassword(db, requireUser(c, db), body.currentPassword, body.newPassword);
        return c.body(null, 204);
      }),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/me/tokens",
      tags: ["tokens"],
      summary: "Create another personal API token for yourself (the secret is shown only once)",
      security,
      request: { body: jsonBody(OwnTokenRequest) },
      responses: { 201: jsonResponse(NewToken, "The token, shown only once"), 401: problemResponse("No or bad token") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const { token, record } = createToken(db, user.id, c.req.valid("json").label);
      return c.json({ ...toTokenView(record), token }, 201);
    },
  );

  return app;
}
