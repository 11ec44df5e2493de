/**
 * Joining a community, as the community page and the directory show it:
 * where the signed-in person stands (member, request waiting, not a member)
 * and the one button that fits the community's join policy.
 */
import type { Context } from "hono";
import { useRequestContext } from "hono/jsx-renderer";
import type { JoinPolicy } from "../../db/schema.ts";
import { findJoinRequest, memberRole, type Community } from "../communities.ts";
import { ActionButton, CsrfField, SignInLink } from "./components.tsx";
import type { WebEnv } from "./context.ts";
import { currentPath } from "./forms.ts";
import { links } from "./links.ts";

export const JOIN_POLICY_WORDS: Record<JoinPolicy, string> = {
  open: "Anyone may join",
  approval: "Stewards approve new members",
  invite: "By invitation only",
};

/** The ask-to-join form: with a note to the stewards on the community page, a bare button in lists. */
function AskToJoin(props: { community: Community; back: string; withMessage: boolean }) {
  const { community } = props;
  const id = `join-message-${community.handle}`;
  return (
    <form method="post" action={`${links.community(community.handle)}/join`} class={props.withMessage ? "stacked join-form" : "inline"} aria-label={`Ask to join ${community.name}`}>
      <CsrfField />
      <input type="hidden" name="back" value={props.back} />
      {props.withMessage ? (
        <div class="field">
          <label for={id}>A note to the stewards (optional)</label>
          <textarea id={id} name="message" rows={2} maxlength={1000}></textarea>
        </div>
      ) : null}
      <button type="submit">
        Ask to join<span class="visually-hidden"> {community.name}</span>
      </button>
    </form>
  );
}

/** Where the signed-in viewer stands with a community, as JoinControl shows it. */
export interface JoinStanding {
  role: Awaited<ReturnType<typeof memberRole>>;
  request: Awaited<ReturnType<typeof findJoinRequest>> | undefined;
}

/** Loads the viewer's standing for JoinControl, in the handler (components do not query); undefined when signed out. */
export async function joinStanding(c: Context<WebEnv>, community: Community): Promise<JoinStanding | undefined> {
  const session = c.get("session");
  if (!session) return undefined;
  const { db } = c.get("deps");
  const role = await memberRole(db, community, session.user);
  return { role, request: role ? undefined : await findJoinRequest(db, community, session.user) };
}

/** Where the viewer stands with a community (`standing`, from joinStanding), and how they may join or leave it. */
export function JoinControl(props: { community: Community; standing: JoinStanding | undefined; detailed?: boolean }) {
  const c = useRequestContext<WebEnv>();
  const { community } = props;
  const session = c.get("session");
  const base = links.community(community.handle);
  const back = currentPath(c);
  if (!session) {
    if (community.joinPolicy === "invite") return <p class="join-control muted">{JOIN_POLICY_WORDS.invite}.</p>;
    return (
      <p class="join-control">
        <SignInLink>Sign in to join</SignInLink>
      </p>
    );
  }
  const role = props.standing?.role;
  if (role) {
    return (
      <div class="join-control">
        <span class="state-accepted">You are a {role}</span>
        {props.detailed ? <> <ActionButton action={`${base}/leave`} label="Leave community" variant="secondary" /></> : null}
      </div>
    );
  }
  const request = props.standing?.request;
  if (request?.state === "pending") {
    return (
      <div class="join-control">
        <span class="state-pending">Request to join sent</span>{" "}
        <ActionButton action={`${base}/join/withdraw`} fields={{ back }} label="Withdraw request" variant="secondary" />
      </div>
    );
  }
  if (community.joinPolicy === "invite") {
    return <p class="join-control muted">{JOIN_POLICY_WORDS.invite}: ask one of its stewards for an invite link.</p>;
  }
  if (community.joinPolicy === "approval") {
    return (
      <div class="join-control">
        {request?.state === "refused" ? <p class="state-rejected">A steward refused your last request; you may ask again.</p> : null}
        <AskToJoin community={community} back={back} withMessage={props.detailed === true} />
      </div>
    );
  }
  return (
    <form method="post" action={`${base}/join`} class="inline join-control">
      <CsrfField />
      <input type="hidden" name="back" value={back} />
      <button type="submit">
        Join<span class="visually-hidden"> {community.name}</span>
      </button>
    </form>
  );
}
