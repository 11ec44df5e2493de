/**
 * HTML pages of policies, at the same IRIs that serve their ActivityPub
 * documents (browsers land here; see federation/policy-documents.ts).
 */
import { Hono } from "hono";
import { findCommunity } from "../../communities.ts";
import { findLocalPolicy, findVersion, listCommunityPolicies, listVersions, versionContent } from "../../policies/policies.ts";
import { renderVersionHtml } from "../../policies/render.ts";
import type { WebEnv } from "../context.ts";
import { ErrorPage } from "./error-page.tsx";

export function policyPages() {
  const pages = new Hono<WebEnv>();
  const notFound = (c: import("hono").Context<WebEnv>) => {
    c.status(404);
    return c.render(<ErrorPage title="Not found" detail="No such policy or version on this instance." />, { title: "Not found" });
  };

  pages.get("/actors/:handle/policies", (c) => {
    const { db } = c.get("deps");
    const community = findCommunity(db, c.req.param("handle"));
    if (!community) return notFound(c);
    const rows = listCommunityPolicies(db, community);
    return c.render(
      <>
        <h1>Policies of {community.name}</h1>
        {rows.length === 0 ? (
          <p>No policies yet.</p>
        ) : (
          <ul>
            {rows.map((p) => (
              <li>
                <a href={p.iri}>{p.title}</a>
              </li>
            ))}
          </ul>
        )}
      </>,
      { title: `Policies of ${community.name}`, community: { name: community.name, handle: community.handle, href: `/actors/${community.handle}` } },
    );
  });

  pages.get("/actors/:handle/policies/:slug", (c) => {
    const { db } = c.get("deps");
    const community = findCommunity(db, c.req.param("handle"));
    const policy = community ? findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    if (!community || !policy) return notFound(c);
    const versions = listVersions(db, policy);
    return c.render(
      <>
        <h1>{policy.title}</h1>
        <p>
          A policy of <a href={`/actors/${community.handle}`}>{community.name}</a> · licence {policy.licence}
        </p>
        {policy.summary ? <p>{policy.summary}</p> : null}
        <h2>Versions</h2>
        {versions.length === 0 ? (
          <p>Not published yet.</p>
        ) : (
          <ol>
            {versions.map((v) => (
              <li value={v.number}>
                <a href={v.iri}>Version {v.number}</a> · {v.publishedAt.toISOString().slice(0, 10)}
                {v.retractedAt ? " · retracted" : ""} · <code>{v.contentHash.slice(0, 19)}…</code> · {v.changelog}
              </li>
            ))}
          </ol>
        )}
      </>,
      { title: policy.title, community: { name: community.name, handle: community.handle, href: `/actors/${community.handle}` } },
    );
  });

  pages.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}", (c) => {
    const { db } = c.get("deps");
    const community = findCommunity(db, c.req.param("handle"));
    const policy = community ? findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    const version = policy ? findVersion(db, policy, Number(c.req.param("number"))) : undefined;
    if (!community || !policy || !version) return notFound(c);
    const pageCommunity = { name: community.name, handle: community.handle, href: `/actors/${community.handle}` };
    if (version.retractedAt) {
      c.status(410);
      return c.render(
        <>
          <h1>Retracted</h1>
          <p>
            Version {version.number} of <a href={policy.iri}>{policy.title}</a> was retracted.
          </p>
        </>,
        { title: policy.title, community: pageCommunity },
      );
    }
    // renderVersionHtml sanitises everything that came from the policy text.
    const body = renderVersionHtml(versionContent(version), { versionNumber: version.number, changelog: version.changelog });
    return c.render(
      <>
        <p>
          <a href={policy.iri}>All versions</a> · content hash <code>{version.contentHash}</code>
        </p>
        <div dangerouslySetInnerHTML={{ __html: body }} />
      </>,
      { title: `${policy.title}, version ${version.number}`, community: pageCommunity },
    );
  });

  return pages;
}
