/** Communities and their members. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { getUserByUsername } from "../accounts/users.ts";
import {
  assertSteward,
  createCommunity,
  getCommunity,
  listCommunities,
  listMembers,
  removeMember,
  setMembership,
} from "../communities.ts";
import { updateCommunityProfile } from "../app/communities.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { CommunityChanges, CommunityDetail, CommunityView, HandleParam, MemberParam, MemberView, MembershipBody, NewCommunity, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { toCommunityView, toMemberView } from "./views.ts";


export function communityRoutes(deps: ApiDeps) {
  const { db, origin } = deps;
  const app = new OpenAPIHono();
  const detail = (handle: string) => {
    const community = getCommunity(db, handle);
    return { ...toCommunityView(db, origin, community), members: listMembers(db, community).map(toMemberView) };
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/communities",
      tags: ["communities"],
      summary: "Communities hosted on this instance",
      responses: { 200: jsonResponse(z.array(CommunityView), "Communities by handle") },
    }),
    (c) => c.json(listCommunities(db).map((community) => toCommunityView(db, origin, community)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/communities",
      tags: ["communities"],
      summary: "Create a community; you become its first steward",
      security,
      request: { body: jsonBody(NewCommunity) },
      responses: {
        201: jsonResponse(CommunityDetail, "The new community"),
        400: problemResponse("Invalid input"),
        409: problemResponse("Handle taken"),
      },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const body = c.req.valid("json");
      const community = await createCommunity(db, { ...body, steward: user });
      return c.json(detail(community.handle), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/communities/{handle}",
      tags: ["communities"],
      summary: "A community with its members",
      request: { params: HandleParam },
      responses: { 200: jsonResponse(CommunityDetail, "The community"), 404: problemResponse("No such community") },
    }),
    (c) => c.json(detail(c.req.valid("param").handle), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/communities/{handle}",
      tags: ["communities"],
      summary: "Change a community's name, summary or follower approval (stewards)",
      security,
      request: { params: HandleParam, body: jsonBody(CommunityChanges) },
      responses: { 200: jsonResponse(CommunityDetail, "The updated community"), 403: problemResponse("Not a steward") },
    }),
    (c) => {
      const community = updateCommunityProfile(deps.context, optionalUser(c, db), c.req.valid("param").handle, c.req.valid("json"));
      return c.json(detail(community.handle), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/communities/{handle}/members/{username}",
      tags: ["communities"],
      summary: "Add a local user as member or steward, or change their role (stewards)",
      security,
      request: { params: MemberParam, body: jsonBody(MembershipBody) },
      responses: { 200: jsonResponse(z.array(MemberView), "All members"), 403: problemResponse("Not a steward") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const { handle, username } = c.req.valid("param");
      const community = getCommunity(db, handle);
      assertSteward(db, community, user);
      setMembership(db, community, getUserByUsername(db, username), c.req.valid("json").role);
      return c.json(listMembers(db, community).map(toMemberView), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/communities/{handle}/members/{username}",
      tags: ["communities"],
      summary: "Remove a member (stewards, or the member themself)",
      security,
      request: { params: MemberParam },
      responses: {
        200: jsonResponse(z.array(MemberView), "Remaining members"),
        403: problemResponse("Not a steward"),
        409: problemResponse("Last steward"),
      },
    }),
    (c) => {
      const user = requireUser(c, db);
      const { handle, username } = c.req.valid("param");
      const community = getCommunity(db, handle);
      if (username !== user.username) assertSteward(db, community, user);
      removeMember(db, community, getUserByUsername(db, username));
      return c.json(listMembers(db, community).map(toMemberView), 200);
    },
  );

  return app;
}
