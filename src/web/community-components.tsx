/**
 * Pieces shared by the home, community, follow and feed pages: how a remote
 * actor is named and linked, and how one feed item reads. Everything here
 * that came from another instance is plain text (escaped by JSX); remote
 * addresses become links only when they are http(s) URLs.
 */
import type { FeedActor, FeedItem } from "../follows.ts";
import { DateTime, RemoteHtml } from "./components.tsx";
import { links } from "./links.ts";
import { Avatar } from "./avatar.tsx";

/** An http(s) URL from elsewhere, or undefined (no `javascript:` or other schemes as links). */
export function safeHref(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** "@handle@host" when known, else the IRI's host and path. */
export function actorLabel(actor: { iri: string; handle: string | null }): string {
  if (actor.handle) return actor.handle.startsWith("@") ? actor.handle : `@${actor.handle}`;
  try {
    const url = new URL(actor.iri);
    return `${url.host}${url.pathname}`;
  } catch {
    return actor.iri;
  }
}

/** A remote (or local) actor by name, with its handle, linking to its profile. */
export function ActorName(props: { actor: FeedActor | { iri: string; name: string | null; handle: string | null; url?: string | null }; localOrigin?: string }) {
  const { actor } = props;
  const local = props.localOrigin && actor.iri.startsWith(`${props.localOrigin}/actors/`);
  const href = local ? new URL(actor.iri).pathname : safeHref(actor.url ?? actor.iri);
  const label = actorLabel(actor);
  const name = actor.name ?? label;
  return (
    <span class="actor-name">
      <Avatar seed={actor.iri} />
      {href ? <a href={href}>{name}</a> : name}
      {actor.name ? <span class="muted"> {label}</span> : null}
    </span>
  );
}

const MOTIVATION_WORDS: Record<string, string> = {
  comment: "commented on",
  question: "asked about",
  endorse: "endorsed",
  object: "objected to",
  "suggest-edit": "suggested an edit to",
  "context-note": "added a context note to",
};

/** One update in the feed (or in the home page's lists). */
export function FeedEntry(props: { item: FeedItem; origin: string }) {
  const { item, origin } = props;
  const policy = <a href={links.policy(item.policyId)}>{item.policyTitle}</a>;
  switch (item.kind) {
    case "version":
      return (
        <li class="feed-item feed-version">
          <p>
            <strong>
              <a href={links.policy(item.policyId, item.number)}>
                {item.policyTitle} version {item.number}
              </a>
            </strong>{" "}
            by <ActorName actor={item.owner} localOrigin={origin} />
            {item.number > 1 ? (
              <>
                {" · "}
                <a href={links.policyDiff(item.policyId, item.number - 1, item.number)}>
                  Changes since version {item.number - 1}
                </a>
              </>
            ) : null}
          </p>
          {item.changelog ? <p class="feed-text">{item.changelog}</p> : null}
          <p class="muted">
            Published <DateTime value={item.publishedAt} />
          </p>
        </li>
      );
    case "annotation":
      return (
        <li class="feed-item feed-annotation">
          <p>
            <ActorName actor={item.author} localOrigin={origin} /> {MOTIVATION_WORDS[item.motivation] ?? "annotated"}{" "}
            {item.clauseId ? (
              <>
                clause <code>{item.clauseId}</code> of{" "}
              </>
            ) : null}
            {policy}
          </p>
          <p class="feed-text">{item.text}</p>
          <p class="muted">
            <DateTime value={item.at} />
          </p>
        </li>
      );
    case "offer":
      return (
        <li class="feed-item feed-offer">
          <p>
            <ActorName actor={item.author} localOrigin={origin} /> offered changes to {policy}{" "}
            <span class="muted">({item.state})</span> · <a href={links.offers()}>Incoming offers</a>
          </p>
          {item.message ? <p class="feed-text">{item.message}</p> : null}
          <p class="muted">
            <DateTime value={item.at} />
          </p>
        </li>
      );
    case "proposal": {
      const href = safeHref(item.proposalIri);
      const counted = ["yes", "no", "abstain", "block"].map((name) => `${item.counts[name] ?? 0} ${name}`).join(", ");
      return (
        <li class="feed-item feed-proposal">
          <p>
            <ActorName actor={item.owner} localOrigin={origin} /> {item.closedAt ? "closed" : "opened"} the proposal{" "}
            <strong>{href ? <a href={href}>{item.name}</a> : item.name}</strong> on {policy}
          </p>
          <RemoteHtml html={item.contentHtml} class="feed-text" />
          <p class="muted">
            {item.closedAt ? (
              <>
                Closed <DateTime value={item.closedAt} />: {counted}
              </>
            ) : item.endTime ? (
              <>
                Voting closes <DateTime value={item.endTime} />; so far {counted}
              </>
            ) : (
              counted
            )}
            {item.voters !== null ? ` (${item.voters} ${item.voters === 1 ? "voter" : "voters"})` : ""}
          </p>
        </li>
      );
    }
    case "fork": {
      const forkHref = item.forkPolicyId !== null ? links.policy(item.forkPolicyId) : safeHref(item.forkIri);
      return (
        <li class="feed-item feed-fork">
          <p>
            <ActorName actor={item.owner} localOrigin={origin} /> forked {policy}
            {forkHref ? (
              <>
                {" · "}
                <a href={forkHref}>their fork</a>
              </>
            ) : null}
          </p>
          <p class="muted">
            <DateTime value={item.at} />
          </p>
        </li>
      );
    }
  }
}

export function FeedList(props: { items: FeedItem[]; origin: string; label: string }) {
  return (
    <ul class="feed" aria-label={props.label}>
      {props.items.map((item) => (
        <FeedEntry item={item} origin={props.origin} />
      ))}
    </ul>
  );
}
