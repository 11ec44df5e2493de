/**
 * HTML pages of policies, at the same IRIs that serve their ActivityPub
 * documents (browsers land here; see federation/policy-documents.ts).
 */
import { Hono } from "hono";
import { html, raw } from "hono/html";
import type { Db } from "../../db/client.ts";
import { findCommunity } from "../communities.ts";
import { findLocalPolicy, findVersion, listCommunityPolicies, listVersions, versionContent } from "../policies/policies.ts";
import { renderVersionHtml } from "../policies/render.ts";
import { layout } from "./layout.ts";

export function createPolicyPages(deps: { db: Db; instanceName: string }) {
  const { db, instanceName } = deps;
  const web = new Hono();
  const page = (title: string, body: Parameters<typeof layout>[1]) => layout({ title, instanceName }, body);
  const notFound = () => page("Not found", html`<h1>Not found</h1><p>No such policy or version on this instance.</p>`);

  web.get("/actors/:handle/policies", (c) => {
    const community = findCommunity(db, c.req.param("handle"));
    if (!community) return c.html(notFound(), 404);
    const rows = listCommunityPolicies(db, community);
    return c.html(
      page(
        `Policies of ${community.name}`,
        html`<h1>Policies of ${community.name}</h1>
        ${rows.length === 0
          ? html`<p>No policies yet.</p>`
          : html`<ul>${rows.map((p) => html`<li><a href="${p.iri}">${p.title}</a></li>`)}</ul>`}`,
      ),
    );
  });

  web.get("/actors/:handle/policies/:slug", (c) => {
    const community = findCommunity(db, c.req.param("handle"));
    const policy = community ? findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    if (!community || !policy) return c.html(notFound(), 404);
    const versions = listVersions(db, policy);
    return c.html(
      page(
        policy.title,
        html`<h1>${policy.title}</h1>
        <p>A policy of <a href="/actors/${community.handle}">${community.name}</a> · licence ${policy.licence}</p>
        ${policy.summary ? html`<p>${policy.summary}</p>` : ""}
        <h2>Versions</h2>
        ${versions.length === 0
          ? html`<p>Not published yet.</p>`
          : html`<ol>${versions.map(
              (v) =>
                html`<li value="${v.number}"><a href="${v.iri}">Version ${v.number}</a> · ${v.publishedAt.toISOString().slice(0, 10)}${v.retractedAt ? " · retracted" : ""} · <code>${v.contentHash.slice(0, 19)}…</code> · ${v.changelog}</li>`,
            )}</ol>`}`,
      ),
    );
  });

  web.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}", (c) => {
    const community = findCommunity(db, c.req.param("handle"));
    const policy = community ? findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    const version = policy ? findVersion(db, policy, Number(c.req.param("number"))) : undefined;
    if (!policy || !version) return c.html(notFound(), 404);
    if (version.retractedAt) {
      return c.html(page(policy.title, html`<h1>Retracted</h1><p>Version ${version.number} of <a href="${policy.iri}">${policy.title}</a> was retracted.</p>`), 410);
    }
    // renderVersionHtml sanitises everything that came from the policy text.
    const body = renderVersionHtml(versionContent(version), { versionNumber: version.number, changelog: version.changelog });
    return c.html(
      page(
        `${policy.title}, version ${version.number}`,
        html`<p><a href="${policy.iri}">All versions</a> · content hash <code>${version.contentHash}</code></p>${raw(body)}`,
      ),
    );
  });

  return web;
}
