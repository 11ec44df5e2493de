/**
 * Subscriptions: following other actors (as yourself or as a community you
 * steward) and answering follow requests. The use cases (src/app/follows.ts)
 * record the Follow, Undo, Accept or Reject in the outbox with the change;
 * it is sent after the commit and never fails the request.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { answerFollowRequest, followTarget, listFollowersOf, listFollowingOf, unfollow } from "../app/follows.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { IdParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { AsQuery, FollowRequest, FollowView, FollowersQuery } from "./schemas/social.ts";
import { toFollowView } from "./views.ts";

const listFollowing = createRoute({
  method: "get",
  path: "/follows",
  tags: ["follows"],
  summary: "What you (or a community you steward) follow, and whether each was accepted",
  security,
  request: { query: AsQuery },
  responses: { 200: jsonResponse(z.array(FollowView), "Followed actors") },
});

const follow = createRoute({
  method: "post",
  path: "/follows",
  tags: ["follows"],
  summary: "Follow an actor by @handle@host or URL",
  security,
  request: { body: jsonBody(FollowRequest) },
  responses: {
    202: jsonResponse(FollowView, "Follow sent; state is pending until the other side accepts"),
    400: problemResponse("Invalid target"),
    404: problemResponse("Target not found"),
    502: problemResponse("Remote server unreachable"),
  },
});

const unfollowRoute = createRoute({
  method: "delete",
  path: "/follows/{id}",
  tags: ["follows"],
  summary: "Unfollow (sends Undo)",
  security,
  request: { params: IdParam, query: AsQuery },
  responses: { 200: jsonResponse(FollowView, "The removed follow"), 404: problemResponse("No such follow") },
});

const listFollowers = createRoute({
  method: "get",
  path: "/followers",
  tags: ["follows"],
  summary: "Who follows you (or a community you steward), including pending requests",
  security,
  request: { query: FollowersQuery },
  responses: { 200: jsonResponse(z.array(FollowView), "Followers") },
});

const answerRoute = (answer: "accept" | "reject") =>
  createRoute({
    method: "post",
    path: `/followers/{id}/${answer}`,
    tags: ["follows"],
    summary: answer === "accept" ? "Approve a follow request" : "Refuse a follow request (or remove a follower)",
    security,
    request: { params: IdParam, query: AsQuery },
    responses: { 200: jsonResponse(FollowView, "The follow after the answer"), 404: problemResponse("No such request") },
  });
const answerRoutes = { accept: answerRoute("accept"), reject: answerRoute("reject") };

export function followRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();

  app.openapi(listFollowing, async (c) => c.json((await listFollowingOf(context, await optionalUser(c, db), c.req.valid("query").as)).map(toFollowView), 200));

  app.openapi(follow, async (c) => c.json(toFollowView(await followTarget(context, await optionalUser(c, db), c.req.valid("json"))), 202));

  app.openapi(unfollowRoute, async (c) =>
    c.json(toFollowView(await unfollow(context, await optionalUser(c, db), c.req.valid("param").id, c.req.valid("query").as)), 200),
  );

  app.openapi(listFollowers, async (c) => {
    const { as, state } = c.req.valid("query");
    return c.json((await listFollowersOf(context, await optionalUser(c, db), as, state)).map(toFollowView), 200);
  });

  for (const answer of ["accept", "reject"] as const) {
    app.openapi(answerRoutes[answer], async (c) =>
      c.json(toFollowView(await answerFollowRequest(context, await optionalUser(c, db), c.req.valid("param").id, answer, c.req.valid("query").as)), 200),
    );
  }

  return app;
}
