/**
 * Pieces shared by the fork, merge, offer and bundle pages: the community a
 * policy belongs to (for the page header), the communities the signed-in
 * user stewards, word-level differences and a compact clause view.
 */
import type { Context } from "hono";
import { eq } from "drizzle-orm";
import { federatedActors } from "../../db/schema.ts";
import { findCommunityById, listCommunities, memberRole, type Community } from "../communities.ts";
import type { Clause } from "../policies/content.ts";
import { diffWords } from "../policies/diff.ts";
import type { Policy } from "../policies/policies.ts";
import type { PageCommunity, WebEnv } from "./context.ts";
import { links } from "./links.ts";
import { signInPath } from "./forms.ts";

/** The community a policy belongs to, as the layout shows it. */
export function policyCommunity(c: Context<WebEnv>, policy: Policy): PageCommunity | undefined {
  const { db } = c.get("deps");
  if (policy.communityId !== null) {
    const community = findCommunityById(db, policy.communityId);
    return community ? { name: community.name, handle: community.handle, href: links.community(community.handle) } : undefined;
  }
  const url = new URL(policy.ownerIri);
  const handle = `${url.pathname.split("/").filter(Boolean).pop() ?? "community"}@${url.host}`;
  const remote = db.select({ name: federatedActors.name, handle: federatedActors.handle }).from(federatedActors).where(eq(federatedActors.iri, policy.ownerIri)).get();
  return { name: remote?.name ?? remote?.handle ?? handle, handle: remote?.handle ?? handle, href: policy.ownerIri };
}

/** Local communities the signed-in user may act for (stewards; admins may act for all). */
export function stewardedCommunities(c: Context<WebEnv>): Community[] {
  const session = c.get("session");
  if (!session) return [];
  const { db } = c.get("deps");
  return listCommunities(db).filter((community) => session.user.isAdmin || memberRole(db, community, session.user) === "steward");
}

/** Sends signed-out visitors to the sign-in page. */
export function needSignIn(c: Context<WebEnv>): Response | undefined {
  return c.get("session") ? undefined : c.redirect(signInPath(c), 303);
}

/** `before` → `after` with removed words in <del> and added ones in <ins>. */
export function WordDiff(props: { before: string; after: string }) {
  return (
    <span class="word-diff">
      {diffWords(props.before, props.after).map((part) =>
        part.kind === "added" ? <ins>{part.value}</ins> : part.kind === "removed" ? <del>{part.value}</del> : part.value,
      )}
    </span>
  );
}

/** One side of a word diff: `text` with what differs from `against` marked (added in <ins>). */
export function MarkedText(props: { text: string; against?: string }) {
  if (props.against === undefined || props.against === props.text) return <span>{props.text}</span>;
  return (
    <span>
      {diffWords(props.against, props.text)
        .filter((part) => part.kind !== "removed")
        .map((part) => (part.kind === "added" ? <ins>{part.value}</ins> : part.value))}
    </span>
  );
}

export function AuthorityTag(props: { level: string }) {
  return <span class={`tag tag-${props.level}`}>{props.level}</span>;
}

/** A clause: id, authority, title and text; `against` marks words that differ from another version. */
export function ClauseView(props: { clause: Clause | undefined; against?: Clause; absent?: string }) {
  const clause = props.clause;
  if (!clause) return <p class="muted">{props.absent ?? "Not present."}</p>;
  return (
    <div class="clause-box">
      <p>
        <AuthorityTag level={clause.authority} /> <code>{clause.id}</code>
        {clause.title ? <strong> {clause.title}</strong> : null}
        {props.against && props.against.authority !== clause.authority ? <span class="muted"> (was {props.against.authority})</span> : null}
      </p>
      <p>
        <MarkedText text={clause.text} against={props.against?.text} />
      </p>
      {clause.rationale ? (
        <p class="muted">
          Rationale: <MarkedText text={clause.rationale} against={props.against?.rationale} />
        </p>
      ) : null}
    </div>
  );
}
