/** The HTML view of a local actor (browsers asking for an actor IRI land here). */
import { Hono } from "hono";
import { findActorByIdentifier } from "../../actors/local-actors.ts";
import { actorIri, fediverseHandle } from "../../api/views.ts";
import { findCommunityByActorId, listMembers } from "../../communities.ts";
import { countFollowers } from "../../follows.ts";
import type { WebEnv } from "../context.ts";
import { ErrorPage } from "./error-page.tsx";

export function communityPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/@:identifier", (c) => c.redirect(`/actors/${c.req.param("identifier")}`, 301));

  pages.get("/actors/:identifier", (c) => {
    const { db, origin } = c.get("deps");
    const actor = findActorByIdentifier(db, c.req.param("identifier"));
    if (!actor) {
      c.status(404);
      return c.render(<ErrorPage title="Not found" detail="No such actor on this instance." />, { title: "Not found" });
    }
    const iri = actorIri(origin, actor.identifier);
    const community = actor.kind === "community" ? findCommunityByActorId(db, actor.id) : undefined;
    return c.render(
      <>
        <h1>{actor.name}</h1>
        <p>
          {fediverseHandle(origin, actor.identifier)} · {actor.kind} · {countFollowers(db, iri)} followers
          {actor.manuallyApprovesFollowers ? " · approves followers by hand" : ""}
        </p>
        {actor.summary ? <p>{actor.summary}</p> : null}
        {community ? (
          <>
            <h2>Members</h2>
            <ul>
              {listMembers(db, community).map((m) => (
                <li>
                  {m.displayName} ({m.role})
                </li>
              ))}
            </ul>
            <p>
              <a href={`/actors/${community.handle}/policies`}>Policies</a>
            </p>
          </>
        ) : null}
        <p>
          Follow from any fediverse account by searching for <code>{fediverseHandle(origin, actor.identifier)}</code>.
        </p>
      </>,
      { title: actor.name, community: community ? { name: community.name, handle: community.handle, href: `/actors/${community.handle}` } : undefined },
    );
  });

  return pages;
}
