/** Instance info, the signed-in user, users (admins) and personal API tokens. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { communities, memberships } from "../../db/schema.ts";
import { eq } from "drizzle-orm";
import { authenticate, countUsers, createUser } from "../accounts/users.ts";
import { createToken, listTokens, revokeToken } from "../accounts/tokens.ts";
import { listCommunities } from "../communities.ts";
import { ForbiddenError, UnauthorizedError } from "../errors.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.ts";
import { requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { IdParam, Instance, Me, NewToken, NewUser, TokenRequest, TokenView, UserView, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { actorIri, toTokenView, toUserView } from "./views.ts";


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
      responses: { 201: jsonResponse(NewToken, "The token, shown only once"), 401: problemResponse("Wrong credentials") },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const user = await authenticate(db, body.username, body.password);
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

  return app;
}
