/**
 * Instance info, the signed-in user, users (admins) and personal API
 * tokens. The use cases are in src/app/accounts.ts; the routes come in
 * three small groups: the instance and sign-in, your own account, and
 * instance administration.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import {
  addUser,
  changeOwnPassword,
  createOwnToken,
  instanceCounts,
  invites,
  issueInvite,
  ownTokens,
  registration,
  revokeOwnToken,
  setRegistration,
  setUpInstance,
  signInForToken,
  signUpUser,
  updateProfile,
  users,
  whoAmI,
  withdrawInvite,
} from "../app/accounts.ts";
import { FieldError } from "../errors.ts";
import { InviteView, NewInvite, OwnTokenRequest, PasswordChange, ProfileChanges, RegistrationSetting, SetupBody, SignupBody } from "../accounts/schemas.ts";
import { clientAddress } from "../client-address.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { problem } from "../problem.ts";
import { IdParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { Instance, Me, NewToken, NewUser, TokenRequest, TokenView, UserView } from "./schemas/social.ts";
import { actorIri, toInviteView, toTokenView, toUserView } from "./views.ts";

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

export function accountRoutes(deps: ApiDeps) {
  const app = new OpenAPIHono();
  app.route("/", publicAccountRoutes(deps));
  app.route("/", ownAccountRoutes(deps));
  app.route("/", adminRoutes(deps));
  return app;
}

// ------------------------------------------------------------ the instance, setup, sign-up and sign-in

const instanceRoute = createRoute({
  method: "get",
  path: "/instance",
  tags: ["instance"],
  summary: "What this instance is",
  responses: { 200: jsonResponse(Instance, "Instance information") },
});

const tokenRoute = createRoute({
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
});

const setupRoute = createRoute({
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
});

const RegistrationState = RegistrationSetting.extend({ needsSetup: z.boolean() });
const registrationRoute = createRoute({
  method: "get",
  path: "/registration",
  tags: ["accounts"],
  summary: "Whether sign-up is open, by invitation or closed (and whether the instance still needs its first admin)",
  responses: { 200: jsonResponse(RegistrationState, "The registration mode") },
});

const signupRoute = createRoute({
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
});

function publicAccountRoutes(deps: ApiDeps) {
  const { origin, context } = deps;
  const app = new OpenAPIHono();
  app.openapi(instanceRoute, async (c) =>
    c.json(
      { name: new URL(origin).host, origin, software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION }, actor: actorIri(origin, "instance"), ...await instanceCounts(context) },
      200,
    ),
  );
  app.openapi(tokenRoute, async (c) => {
    const { token, record } = await signInForToken(context, { ...c.req.valid("json"), clientAddress: clientAddress(c.req) });
    return c.json({ ...toTokenView(record), token }, 201);
  });
  app.openapi(setupRoute, (c) => answer(async () => c.json(toUserView(origin, await setUpInstance(context, c.req.valid("json"))), 201)));
  app.openapi(registrationRoute, async (c) => c.json(await registration(context), 200));
  app.openapi(signupRoute, (c) => answer(async () => c.json(toUserView(origin, await signUpUser(context, c.req.valid("json"))), 201)));
  return app;
}

// ------------------------------------------------------------ your own account

const meRoute = createRoute({
  method: "get",
  path: "/me",
  tags: ["accounts"],
  summary: "The user the token belongs to, and their communities",
  security,
  responses: { 200: jsonResponse(Me, "The signed-in user"), 401: problemResponse("No or bad token") },
});

const profileRoute = createRoute({
  method: "patch",
  path: "/me",
  tags: ["accounts"],
  summary: "Change your display name",
  security,
  request: { body: jsonBody(ProfileChanges) },
  responses: { 200: jsonResponse(UserView, "You, changed"), 400: problemResponse("Invalid input"), 401: problemResponse("No or bad token") },
});

const passwordRoute = createRoute({
  method: "post",
  path: "/me/password",
  tags: ["accounts"],
  summary: "Change your password (the current one is required); API tokens stay valid",
  security,
  request: { body: jsonBody(PasswordChange) },
  responses: { 204: { description: "Changed" }, 400: problemResponse("Invalid input or wrong current password"), 401: problemResponse("No or bad token") },
});

const listTokensRoute = createRoute({
  method: "get",
  path: "/tokens",
  tags: ["tokens"],
  summary: "Your personal API tokens (without their secret)",
  security,
  responses: { 200: jsonResponse(z.array(TokenView), "Tokens, newest first"), 401: problemResponse("No or bad token") },
});

const revokeTokenRoute = createRoute({
  method: "delete",
  path: "/tokens/{id}",
  tags: ["tokens"],
  summary: "Revoke one of your tokens",
  security,
  request: { params: IdParam },
  responses: { 200: jsonResponse(TokenView, "The revoked token"), 404: problemResponse("No such active token") },
});

const ownTokenRoute = createRoute({
  method: "post",
  path: "/me/tokens",
  tags: ["tokens"],
  summary: "Create another personal API token for yourself (the secret is shown only once)",
  security,
  request: { body: jsonBody(OwnTokenRequest) },
  responses: { 201: jsonResponse(NewToken, "The token, shown only once"), 401: problemResponse("No or bad token") },
});

function ownAccountRoutes(deps: ApiDeps) {
  const { db, origin, context } = deps;
  const app = new OpenAPIHono();
  app.openapi(meRoute, async (c) => {
    const { user, communities } = await whoAmI(context, await optionalUser(c, db));
    return c.json({ ...toUserView(origin, user), communities }, 200);
  });
  app.openapi(profileRoute, (c) => answer(async () => c.json(toUserView(origin, await updateProfile(context, await optionalUser(c, db), c.req.valid("json"))), 200)));
  app.openapi(passwordRoute, (c) =>
    answer(async () => {
      await changeOwnPassword(context, await optionalUser(c, db), c.req.valid("json"));
      return c.body(null, 204);
    }),
  );
  app.openapi(listTokensRoute, async (c) => c.json((await ownTokens(context, await optionalUser(c, db))).map(toTokenView), 200));
  app.openapi(revokeTokenRoute, async (c) => c.json(toTokenView(await revokeOwnToken(context, await optionalUser(c, db), c.req.valid("param").id)), 200));
  app.openapi(ownTokenRoute, async (c) => {
    const { token, record } = await createOwnToken(context, await optionalUser(c, db), c.req.valid("json").label);
    return c.json({ ...toTokenView(record), token }, 201);
  });
  return app;
}

// ------------------------------------------------------------ instance administration

const createUserRoute = createRoute({
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
});

const listUsersRoute = createRoute({
  method: "get",
  path: "/users",
  tags: ["admin"],
  summary: "Local users (instance admins)",
  security,
  responses: { 200: jsonResponse(z.array(UserView), "Users, oldest first"), 403: problemResponse("Not an admin") },
});

const setRegistrationRoute = createRoute({
  method: "put",
  path: "/registration",
  tags: ["admin"],
  summary: "Set the registration mode: open, invite or closed (instance admins)",
  security,
  request: { body: jsonBody(RegistrationSetting) },
  responses: { 200: jsonResponse(RegistrationSetting, "The new mode"), 403: problemResponse("Not an admin") },
});

const listInvitesRoute = createRoute({
  method: "get",
  path: "/invites",
  tags: ["admin"],
  summary: "Invite codes, newest first (instance admins)",
  security,
  responses: { 200: jsonResponse(z.array(InviteView), "Invites"), 403: problemResponse("Not an admin") },
});

const createInviteRoute = createRoute({
  method: "post",
  path: "/invites",
  tags: ["admin"],
  summary: "Create an invite code, for any number of uses or a limited one, with an optional expiry (instance admins)",
  security,
  request: { body: jsonBody(NewInvite) },
  responses: { 201: jsonResponse(InviteView, "The invite"), 400: problemResponse("Invalid input"), 403: problemResponse("Not an admin") },
});

const revokeInviteRoute = createRoute({
  method: "delete",
  path: "/invites/{id}",
  tags: ["admin"],
  summary: "Revoke an invite code (instance admins)",
  security,
  request: { params: IdParam },
  responses: { 200: jsonResponse(InviteView, "The revoked invite"), 403: problemResponse("Not an admin"), 404: problemResponse("No such invite") },
});

function adminRoutes(deps: ApiDeps) {
  const { db, origin, context } = deps;
  const app = new OpenAPIHono();
  app.openapi(createUserRoute, async (c) => c.json(toUserView(origin, await addUser(context, await optionalUser(c, db), c.req.valid("json"))), 201));
  app.openapi(listUsersRoute, async (c) => c.json((await users(context, await optionalUser(c, db))).map((user) => toUserView(origin, user)), 200));
  app.openapi(setRegistrationRoute, async (c) => c.json({ mode: await setRegistration(context, await optionalUser(c, db), c.req.valid("json").mode) }, 200));
  app.openapi(listInvitesRoute, async (c) => c.json((await invites(context, await optionalUser(c, db))).map(toInviteView), 200));
  app.openapi(createInviteRoute, (c) => answer(async () => c.json(toInviteView(await issueInvite(context, await optionalUser(c, db), c.req.valid("json"))), 201)));
  app.openapi(revokeInviteRoute, async (c) => c.json(toInviteView(await withdrawInvite(context, await optionalUser(c, db), c.req.valid("param").id)), 200));
  return app;
}
