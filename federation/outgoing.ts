/**
 * Activities this instance sends about follow relations. Each is a side
 * effect of a domain operation that has already committed: callers run them
 * through `afterCommit`, so a delivery problem is logged and retried by the
 * queue but never fails the user's request.
 */
import { getLogger } from "@logtape/logtape";
import { Accept, Reject, Undo, type Recipient } from "@fedify/vocab";
import type { FedCtx } from "./context.ts";
import { toFollow, type FollowActivityRef } from "./entities/follow.ts";

const logger = getLogger(["fedalign", "federation", "outgoing"]);

/** Runs a federation side effect; failures are logged, never thrown. */
export async function afterCommit(description: string, effect: () => Promise<void>): Promise<void> {
  try {
    await effect();
  } catch (error) {
    logger.error("Could not {description}: {error}", { description, error });
  }
}

export function newActivityIri(ctx: FedCtx, identifier: string, kind: string): URL {
  return new URL(`#${kind}/${crypto.randomUUID()}`, ctx.getActorUri(identifier));
}

export type { FollowActivityRef };
const followActivity = toFollow;

export async function sendFollow(ctx: FedCtx, identifier: string, follow: FollowActivityRef, followee: Recipient): Promise<void> {
  await ctx.sendActivity({ identifier }, followee, followActivity(follow));
}

export async function sendUndoFollow(ctx: FedCtx, identifier: string, follow: FollowActivityRef, followee: Recipient): Promise<void> {
  const undo = new Undo({
    id: newActivityIri(ctx, identifier, "undo"),
    actor: ctx.getActorUri(identifier),
    object: followActivity(follow),
  });
  await ctx.sendActivity({ identifier }, followee, undo);
}

/** Answers a Follow; the Follow is embedded, as Mastodon expects. */
export async function sendFollowAnswer(
  ctx: FedCtx,
  identifier: string,
  follow: FollowActivityRef,
  follower: Recipient,
  answer: "accept" | "reject",
): Promise<void> {
  const Answer = answer === "accept" ? Accept : Reject;
  const activity = new Answer({
    id: newActivityIri(ctx, identifier, answer),
    actor: ctx.getActorUri(identifier),
    object: followActivity(follow),
  });
  await ctx.sendActivity({ identifier }, follower, activity);
}
