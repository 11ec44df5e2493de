/**
 * Subscriptions: following other actors (as yourself or as a community you
 * steward) and answering follow requests. The database change commits
 * first; the activity is sent afterwards and never fails the request.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { User } from "../accounts/users.ts";
import { assertSteward, getCommunity } from "../communities.ts";
import { ForbiddenError, InvalidInputError, NotFoundError, RemoteError } from "../errors.ts";
import {
  deleteFollow,
  findFollowById,
  listFollowers,
  listFollowing,
  recordOutgoingFollow,
  setFollowState,
  type Follow,
} from "../follows.ts";
import { lookupFollowTarget } from "../../federation/lookup.ts";
import { persistPolicyPlaceholder } from "../../federation/persist-policy.ts";
import { findPolicyByIri } from "../policies/policies.ts";
import { afterCommit, newActivityIri, sendFollow, sendFollowAnswer, sendUndoFollow } from "../../federation/outgoing.ts";
import { findFederatedActor, persistActor, toRecipient } from "../../federation/persist-actor.ts";
import { requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { AsQuery, FollowRequest, FollowView, FollowersQuery, IdParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { actorIri, toFollowView } from "./views.ts";


/** The local actor a request acts as: the user, or a community they steward. */
function actingAs(deps: ApiDeps, user: User, as: string | undefined): { identifier: string; iri: string } {
  if (as === undefined) return { identifier: user.username, iri: actorIri(deps.origin, user.username) };
  const community = getCommunity(deps.db, as);
  assertSteward(deps.db, community, user);
  return { identifier: community.handle, iri: actorIri(deps.origin, community.handle) };
}

/** A follow with its other side, even after the row itself was deleted (unfollow). */
function withActor(deps: ApiDeps, follow: Follow, otherIri: string) {
  const actor = findFederatedActor(deps.db, otherIri);
  const policy = findPolicyByIri(deps.db, otherIri);
  return toFollowView({
    ...follow,
    actor: {
      iri: otherIri,
      handle: actor?.handle ?? null,
      name: actor?.name ?? policy?.title ?? null,
      type: actor?.type ?? (policy ? "Policy" : null),
      url: actor?.url ?? null,
    },
  });
}

export function followRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();
  const acting = (c: Context, as: string | undefined) => actingAs(deps, requireUser(c, db), as);

  app.openapi(
    createRoute({
      method: "get",
      path: "/follows",
      tags: ["follows"],
      summary: "What you (or a community you steward) follow, and whether each was accepted",
      security,
      request: { query: AsQuery },
      responses: { 200: jsonResponse(z.array(FollowView), "Followed actors") },
    }),
    (c) => {
      const me = acting(c, c.req.valid("query").as);
      return c.json(listFollowing(db, me.iri).map(toFollowView), 200);
    },
  );

  app.openapi(
    createRoute({
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
    }),
    async (c) => {
      const body = c.req.valid("json");
      const me = acting(c, body.as);
      const ctx = fedContext(deps);
      const target = await lookupFollowTarget(ctx, body.target);
      const targetIri = target.followeeIri;
      if (targetIri === me.iri) throw new InvalidInputError("An actor cannot follow itself.");
      const recipient = persistActor(ctx.data, target.answerer);
      if (!recipient) throw new RemoteError(`${targetIri} cannot be followed: its inbox is not on its own server (see the server log).`);
      if (target.policy && !findPolicyByIri(db, target.policy.id)) persistPolicyPlaceholder(ctx, target.policy);
      const follow = recordOutgoingFollow(db, {
        followerIri: me.iri,
        followeeIri: targetIri,
        activityIri: newActivityIri(ctx, me.identifier, "follows").href,
      });
      await afterCommit("send a Follow", () => sendFollow(ctx, me.identifier, follow, toRecipient(recipient)));
      return c.json(withActor(deps, follow, targetIri), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/follows/{id}",
      tags: ["follows"],
      summary: "Unfollow (sends Undo)",
      security,
      request: { params: IdParam, query: AsQuery },
      responses: { 200: jsonResponse(FollowView, "The removed follow"), 404: problemResponse("No such follow") },
    }),
    async (c) => {
      const me = acting(c, c.req.valid("query").as);
      const follow = findFollowById(db, c.req.valid("param").id);
      if (!follow || follow.followerIri !== me.iri) throw new NotFoundError(`You do not follow anything with id ${c.req.valid("param").id}; see \`fedalign following\`.`);
      deleteFollow(db, follow.id);
      const followee = findFederatedActor(db, follow.followeeIri);
      if (followee) {
        const ctx = fedContext(deps);
        await afterCommit("send an Undo(Follow)", () => sendUndoFollow(ctx, me.identifier, follow, toRecipient(followee)));
      }
      return c.json(withActor(deps, follow, follow.followeeIri), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/followers",
      tags: ["follows"],
      summary: "Who follows you (or a community you steward), including pending requests",
      security,
      request: { query: FollowersQuery },
      responses: { 200: jsonResponse(z.array(FollowView), "Followers") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const me = acting(c, query.as);
      return c.json(listFollowers(db, me.iri, query.state).map(toFollowView), 200);
    },
  );

  for (const answer of ["accept", "reject"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/followers/{id}/${answer}`,
        tags: ["follows"],
        summary: answer === "accept" ? "Approve a follow request" : "Refuse a follow request (or remove a follower)",
        security,
        request: { params: IdParam, query: AsQuery },
        responses: { 200: jsonResponse(FollowView, "The follow after the answer"), 404: problemResponse("No such request") },
      }),
      async (c) => {
        const me = acting(c, c.req.valid("query").as);
        const id = c.req.valid("param").id;
        const follow = findFollowById(db, id);
        if (!follow || follow.followeeIri !== me.iri) throw new NotFoundError(`No follow request with id ${id}; see \`fedalign followers\`.`);
        const follower = findFederatedActor(db, follow.followerIri);
        if (!follower) throw new ForbiddenError("The follower's profile is unknown; ask them to follow again.");
        const updated = setFollowState(db, follow.id, answer === "accept" ? "accepted" : "rejected");
        const ctx = fedContext(deps);
        await afterCommit(`send ${answer === "accept" ? "an Accept" : "a Reject"}`, () =>
          sendFollowAnswer(ctx, me.identifier, updated, toRecipient(follower), answer),
        );
        return c.json(withActor(deps, updated, updated.followerIri), 200);
      },
    );
  }

  return app;
}
