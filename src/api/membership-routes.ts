/**
 * Finding and joining communities: the directory (this instance's
 * communities and the remote ones it knows), joining at once or by request,
 * stewards' answers to requests, invite links, and leaving.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import {
  communityDirectory,
  createInvite,
  decideJoinRequest,
  joinCommunity,
  leaveCommunity,
  listInvites,
  listJoinRequests,
  redeemInvite,
  withdrawInvite,
  withdrawJoinRequest,
} from "../app/communities.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { HandleParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import {
  CommunityInviteView,
  CommunityView,
  DirectoryQuery,
  DirectoryView,
  InviteIdParam,
  InviteRedemption,
  JoinBody,
  JoinRequestView,
  JoinResultView,
  NewCommunityInviteView,
  NewInvite,
} from "./schemas/social.ts";
import { toCommunityInviteView, toCommunityView, toDirectoryLocalEntry, toDirectoryRemoteEntry, toJoinRequestView } from "./views.ts";

const tags = ["communities"];

const directory = createRoute({
  method: "get",
  path: "/directory",
  tags,
  summary: "Communities of this instance, then remote ones it knows, by name; `q` filters, twenty to a page",
  request: { query: DirectoryQuery },
  responses: { 200: jsonResponse(DirectoryView, "One page of the directory") },
});

const join = createRoute({
  method: "post",
  path: "/communities/{handle}/join",
  tags,
  summary: "Join an open community, or ask to join one whose stewards approve members",
  security,
  request: { params: HandleParam, body: jsonBody(JoinBody) },
  responses: {
    200: jsonResponse(JoinResultView, "Joined, or the request waiting for a steward"),
    403: problemResponse("Invite-only community"),
    409: problemResponse("Already a member"),
  },
});

const withdraw = createRoute({
  method: "delete",
  path: "/communities/{handle}/join",
  tags,
  summary: "Withdraw your pending request to join",
  security,
  request: { params: HandleParam },
  responses: { 200: jsonResponse(JoinRequestView, "The withdrawn request"), 404: problemResponse("No pending request") },
});

const leave = createRoute({
  method: "post",
  path: "/communities/{handle}/leave",
  tags,
  summary: "Leave a community (a last steward cannot)",
  security,
  request: { params: HandleParam },
  responses: { 200: jsonResponse(CommunityView, "The community left"), 404: problemResponse("Not a member"), 409: problemResponse("Last steward") },
});

const requests = createRoute({
  method: "get",
  path: "/communities/{handle}/join-requests",
  tags,
  summary: "Pending requests to join (stewards)",
  security,
  request: { params: HandleParam },
  responses: { 200: jsonResponse(z.array(JoinRequestView), "Pending requests, oldest first"), 403: problemResponse("Not a steward") },
});

const decide = (decision: "approve" | "refuse") =>
  createRoute({
    method: "post",
    path: `/communities/{handle}/join-requests/{id}/${decision}`,
    tags,
    summary: decision === "approve" ? "Approve a request: the person becomes a member (stewards)" : "Refuse a request to join (stewards)",
    security,
    request: { params: InviteIdParam },
    responses: { 200: jsonResponse(JoinRequestView, "The answered request"), 403: problemResponse("Not a steward"), 404: problemResponse("No such pending request") },
  });
const decisions = { approve: decide("approve"), refuse: decide("refuse") };

const invites = createRoute({
  method: "get",
  path: "/communities/{handle}/invites",
  tags,
  summary: "Invite links that still work (stewards); their tokens are not kept",
  security,
  request: { params: HandleParam },
  responses: { 200: jsonResponse(z.array(CommunityInviteView), "Usable invite links"), 403: problemResponse("Not a steward") },
});

const newInvite = createRoute({
  method: "post",
  path: "/communities/{handle}/invites",
  tags,
  summary: "Create an invite link, single-use or until it expires (stewards)",
  security,
  request: { params: HandleParam, body: jsonBody(NewInvite) },
  responses: { 201: jsonResponse(NewCommunityInviteView, "The link, shown once"), 403: problemResponse("Not a steward") },
});

const revoke = createRoute({
  method: "delete",
  path: "/communities/{handle}/invites/{id}",
  tags,
  summary: "Withdraw an invite link (stewards)",
  security,
  request: { params: InviteIdParam },
  responses: { 200: jsonResponse(z.array(CommunityInviteView), "The links still usable"), 404: problemResponse("No such link") },
});

const redeem = createRoute({
  method: "post",
  path: "/community-invites/redeem",
  tags,
  summary: "Join a community with an invite link's token",
  security,
  request: { body: jsonBody(InviteRedemption) },
  responses: {
    200: jsonResponse(CommunityView, "The community joined"),
    403: problemResponse("Link expired, used up or withdrawn"),
    404: problemResponse("No such link"),
    409: problemResponse("Already a member"),
  },
});

export function membershipRoutes(deps: ApiDeps) {
  const { db, origin, context } = deps;
  const app = new OpenAPIHono();

  app.openapi(directory, async (c) => {
    const found = await communityDirectory(context, c.req.valid("query"));
    return c.json(
      { ...found, local: await Promise.all(found.local.map((entry) => toDirectoryLocalEntry(db, origin, entry))), remote: found.remote.map(toDirectoryRemoteEntry) },
      200,
    );
  });

  app.openapi(join, async (c) => {
    const handle = c.req.valid("param").handle;
    const outcome = await joinCommunity(context, await optionalUser(c, db), handle, c.req.valid("json"));
    const request = outcome.state === "pending" ? toJoinRequestView(handle, outcome.request) : null;
    return c.json({ state: outcome.state, community: handle, request }, 200);
  });

  app.openapi(withdraw, async (c) => {
    const handle = c.req.valid("param").handle;
    return c.json(toJoinRequestView(handle, await withdrawJoinRequest(context, await optionalUser(c, db), handle)), 200);
  });

  app.openapi(leave, async (c) => c.json(await toCommunityView(db, origin, await leaveCommunity(context, await optionalUser(c, db), c.req.valid("param").handle)), 200));

  app.openapi(requests, async (c) => {
    const handle = c.req.valid("param").handle;
    return c.json((await listJoinRequests(context, await optionalUser(c, db), handle)).map((request) => toJoinRequestView(handle, request)), 200);
  });

  for (const decision of ["approve", "refuse"] as const) {
    app.openapi(decisions[decision], async (c) => {
      const { handle, id } = c.req.valid("param");
      return c.json(toJoinRequestView(handle, await decideJoinRequest(context, await optionalUser(c, db), handle, id, decision)), 200);
    });
  }

  app.openapi(invites, async (c) => c.json((await listInvites(context, await optionalUser(c, db), c.req.valid("param").handle)).map(toCommunityInviteView), 200));

  app.openapi(newInvite, async (c) => {
    const created = await createInvite(context, await optionalUser(c, db), c.req.valid("param").handle, c.req.valid("json"));
    return c.json({ ...toCommunityInviteView(created.invite), token: created.token, url: created.url }, 201);
  });

  app.openapi(revoke, async (c) => {
    const { handle, id } = c.req.valid("param");
    const user = await optionalUser(c, db);
    await withdrawInvite(context, user, handle, id);
    return c.json((await listInvites(context, user, handle)).map(toCommunityInviteView), 200);
  });

  app.openapi(redeem, async (c) => c.json(await toCommunityView(db, origin, await redeemInvite(context, await optionalUser(c, db), c.req.valid("json").token)), 200));

  return app;
}
