/** Communities and their members. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { createNewCommunity, removeMemberFrom, setMemberRole, updateCommunityProfile } from "../app/communities.ts";
import { getCommunity, listCommunities, listMembers } from "../communities.ts";
import type { Db } from "../../db/client.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { HandleParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { CommunityChanges, CommunityDetail, CommunityView, MemberParam, MemberView, MembershipBody, NewCommunity } from "./schemas/social.ts";
import { toCommunityView, toMemberView } from "./views.ts";

const list = createRoute({
  method: "get",
  path: "/communities",
  tags: ["communities"],
  summary: "Communities hosted on this instance",
  responses: { 200: jsonResponse(z.array(CommunityView), "Communities by handle") },
});

const create = createRoute({
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
});

const show = createRoute({
  method: "get",
  path: "/communities/{handle}",
  tags: ["communities"],
  summary: "A community with its members",
  request: { params: HandleParam },
  responses: { 200: jsonResponse(CommunityDetail, "The community"), 404: problemResponse("No such community") },
});

const update = createRoute({
  method: "patch",
  path: "/communities/{handle}",
  tags: ["communities"],
  summary: "Change a community's name, summary or follower approval (stewards)",
  security,
  request: { params: HandleParam, body: jsonBody(CommunityChanges) },
  responses: { 200: jsonResponse(CommunityDetail, "The updated community"), 403: problemResponse("Not a steward") },
});

const putMember = createRoute({
  method: "put",
  path: "/communities/{handle}/members/{username}",
  tags: ["communities"],
  summary: "Add a local user as member or steward, or change their role (stewards)",
  security,
  request: { params: MemberParam, body: jsonBody(MembershipBody) },
  responses: { 200: jsonResponse(z.array(MemberView), "All members"), 403: problemResponse("Not a steward") },
});

const deleteMember = createRoute({
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
});

async function detail(db: Db, origin: string, handle: string) {
  const community = await getCommunity(db, handle);
  return { ...await toCommunityView(db, origin, community), members: (await listMembers(db, community)).map(toMemberView) };
}

export function communityRoutes(deps: ApiDeps) {
  const { db, origin, context } = deps;
  const app = new OpenAPIHono();

  app.openapi(list, async (c) => c.json(await Promise.all((await listCommunities(db)).map((community) => toCommunityView(db, origin, community))), 200));

  app.openapi(create, async (c) => {
    const community = await createNewCommunity(context, await optionalUser(c, db), c.req.valid("json"));
    return c.json(await detail(db, origin, community.handle), 201);
  });

  app.openapi(show, async (c) => c.json(await detail(db, origin, c.req.valid("param").handle), 200));

  app.openapi(update, async (c) => {
    const community = await updateCommunityProfile(context, await optionalUser(c, db), c.req.valid("param").handle, c.req.valid("json"));
    return c.json(await detail(db, origin, community.handle), 200);
  });

  app.openapi(putMember, async (c) => {
    const { handle, username } = c.req.valid("param");
    return c.json((await setMemberRole(context, await optionalUser(c, db), handle, username, c.req.valid("json").role)).map(toMemberView), 200);
  });

  app.openapi(deleteMember, async (c) => {
    const { handle, username } = c.req.valid("param");
    return c.json((await removeMemberFrom(context, await optionalUser(c, db), handle, username)).map(toMemberView), 200);
  });

  return app;
}
