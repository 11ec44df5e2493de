/**
 * The one Follow button of the web UI, on community, person, policy and
 * directory pages, local and remote alike. It shows where the signed-in
 * person stands (not following, Requested, Following, refused) and posts to
 * /follow or /follow/:id/unfollow with the page to come back to, so it works
 * without JavaScript. Signed out, it is a link to sign in and come back.
 */
import type { Context } from "hono";
import { useRequestContext } from "hono/jsx-renderer";
import { actorIri } from "../actors/iris.ts";
import { findFollow } from "../follows.ts";
import { CsrfField, SignInLink } from "./components.tsx";
import type { WebEnv } from "./context.ts";
import { currentPath } from "./forms.ts";

function FollowForm(props: { action: string; back: string; target?: string; label: string; name: string; variant?: "secondary" }) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfField />
      {props.target ? <input type="hidden" name="target" value={props.target} /> : null}
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class={props.variant}>
        {props.label}
        <span class="visually-hidden"> {props.name}</span>
      </button>
    </form>
  );
}

/** The signed-in person's follow of `target`, as FollowButton shows it. */
export type FollowStanding = Awaited<ReturnType<typeof findFollow>>;

/** Loads the viewer's follow of `target` for FollowButton, in the handler (components do not query). */
export async function followStanding(c: Context<WebEnv>, target: string): Promise<FollowStanding | undefined> {
  const session = c.get("session");
  if (!session) return undefined;
  const { db, origin } = c.get("deps");
  const me = actorIri(origin, session.user.username);
  return me === target ? undefined : await findFollow(db, me, target);
}

/**
 * Follow `target` (an actor's or a policy's IRI) as yourself; `name`
 * completes the button's accessible name; `follow` is the viewer's follow
 * of it (followStanding).
 */
export function FollowButton(props: { target: string; name: string; follow: FollowStanding | undefined }) {
  const c = useRequestContext<WebEnv>();
  const session = c.get("session");
  if (!session) {
    return (
      <p class="follow-control">
        <SignInLink>Sign in to follow</SignInLink>
      </p>
    );
  }
  const { origin } = c.get("deps");
  const me = actorIri(origin, session.user.username);
  if (me === props.target) return null;
  const follow = props.follow;
  const back = currentPath(c);
  const unfollow = follow ? `/follow/${follow.id}/unfollow` : "";
  return (
    <div class="follow-control">
      {!follow ? <FollowForm action="/follow" target={props.target} back={back} label="Follow" name={props.name} /> : null}
      {follow?.state === "pending" ? (
        <>
          <span class="follow-state state-pending">Requested</span>{" "}
          <FollowForm action={unfollow} back={back} label="Cancel request" name={`to follow ${props.name}`} variant="secondary" />
        </>
      ) : null}
      {follow?.state === "accepted" ? (
        <>
          <span class="follow-state state-accepted">Following</span>{" "}
          <FollowForm action={unfollow} back={back} label="Unfollow" name={props.name} variant="secondary" />
        </>
      ) : null}
      {follow?.state === "rejected" ? (
        <>
          <span class="follow-state state-rejected">Your follow request was refused</span>{" "}
          <FollowForm action={unfollow} back={back} label="Withdraw" name={`the request to follow ${props.name}`} variant="secondary" />
        </>
      ) : null}
    </div>
  );
}
