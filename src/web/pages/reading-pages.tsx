/**
 * Reading a policy clause by clause, and searching:
 *
 * - a clause page at /policies/:id/clauses/:clauseId (the newest version)
 *   and /policies/:id/versions/:n/clauses/:clauseId (pinned: the address of
 *   that version's clause never changes; for a local policy its clause IRI
 *   shows the same page), with the clause whole (examples included), its
 *   annotations and the form to add one, and its history across versions
 *   with links to the diff page;
 * - search in one policy (/policies/:id/search?q=) and across every policy
 *   the instance holds (/search?q=), with the matched words marked.
 */
import { Hono, type Context } from "hono";
import { searchPolicies, SearchQuery, type SearchResult } from "../../app/search.ts";
import { findCommunity } from "../../communities.ts";
import { clauseHistory, type ClauseEvent } from "../../policies/clause-history.ts";
import { clauseIri } from "../../policies/iris.ts";
import { findLocalPolicy, findPolicyById, listVersions, versionContent, type Policy, type PolicyVersion } from "../../policies/policies.ts";
import { queryTerms } from "../../policies/search.ts";
import { DateTime, SignInLink } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { links } from "../links.ts";
import { policyAnnotations } from "../annotation-views.tsx";
import { AnnotationForm, ClauseView, policyCommunity, sectionTrail, type AnnotationFormState } from "../policy-components.tsx";
import { Marked, SearchForm } from "../reading-components.tsx";
import { ErrorPage } from "./error-page.tsx";

type Ctx = Context<WebEnv>;

function notFound(c: Ctx, detail: string) {
  c.status(404);
  return c.render(<ErrorPage title="Not found" detail={detail} />, { title: "Not found" });
}

const EVENT_WORDS: Record<ClauseEvent["kind"], string> = { added: "Added", changed: "Changed", removed: "Removed", moved: "Moved to another section" };

function ClauseHistory(props: { policy: Policy; clauseId: string; events: ClauseEvent[]; versions: PolicyVersion[]; current: number }) {
  const dateOf = new Map(props.versions.map((v) => [v.number, v.publishedAt]));
  return (
    <section aria-labelledby="history">
      <h2 id="history">History</h2>
      {props.events.length === 0 ? (
        <p class="muted">No published version has this clause.</p>
      ) : (
        <ol class="clause-history">
          {props.events.map((event) => (
            <li>
              <strong>
                {EVENT_WORDS[event.kind]} in <a href={links.clause(props.policy.id, props.clauseId, event.number)}>version {event.number}</a>
              </strong>
              {event.number === props.current ? <span class="muted"> (shown here)</span> : null}
              {dateOf.has(event.number) ? (
                <span class="muted">
                  {" "}
                  · <DateTime value={dateOf.get(event.number)!} />
                </span>
              ) : null}
              {event.changes.length ? <span>: {event.changes.join(", ")}</span> : null}
              {event.previous !== null && event.kind !== "added" ? (
                <>
                  {" "}
                  · <a href={`${links.policyDiff(props.policy.id, event.previous, event.number)}#diff-${props.clauseId}`}>what changed from version {event.previous}</a>
                </>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export interface ClausePageOptions {
  /** A pinned version; the newest live one when absent. */
  version?: number;
  annotationState?: AnnotationFormState;
  /** A search's words, marked in the clause's text. */
  q?: string;
}

export async function renderClausePage(c: Ctx, policy: Policy, clauseId: string, options: ClausePageOptions = {}) {
  const { db } = c.get("deps");
  const user = c.get("session")?.user;
  const versions = await listVersions(db, policy);
  const live = versions.filter((v) => !v.retractedAt);
  const version = options.version === undefined ? live.at(-1) : live.find((v) => v.number === options.version);
  if (!version) return notFound(c, options.version === undefined ? `${policy.title} has no published version here.` : `${policy.title} has no version ${options.version} here.`);
  const contents = live.map((v) => ({ number: v.number, content: versionContent(v) }));
  const content = contents.find((entry) => entry.number === version.number)!.content;
  const index = content.clauses.findIndex((clause) => clause.id === clauseId);
  const events = clauseHistory(contents, clauseId);
  if (index < 0) {
    const last = [...events].reverse().find((event) => event.kind !== "removed");
    c.status(404);
    return c.render(
      <>
        <h1>No clause “{clauseId}” in version {version.number}</h1>
        <p>
          <a href={links.policy(policy.id, version.number)}>{policy.title}, version {version.number}</a> has no clause with this id.
          {last ? (
            <>
              {" "}
              It was in <a href={links.clause(policy.id, clauseId, last.number)}>version {last.number}</a>.
            </>
          ) : null}
        </p>
        {events.length ? <ClauseHistory policy={policy} clauseId={clauseId} events={events} versions={live} current={version.number} /> : null}
      </>,
      { title: "Clause not found", community: await policyCommunity(db, policy) },
    );
  }
  const clause = content.clauses[index]!;
  const pinned = options.version;
  const here = links.clause(policy.id, clauseId, pinned);
  const annotations = await policyAnnotations(c, policy, versions, here);
  const head = live.at(-1)!;
  const neighbour = (at: number) => {
    const other = content.clauses[at];
    return other ? { href: links.clause(policy.id, other.id, pinned), title: other.title || other.id } : undefined;
  };
  const previous = neighbour(index - 1);
  const next = neighbour(index + 1);
  const count = annotations.countOf(clauseId);
  const terms = options.q ? queryTerms(options.q) : [];
  const title = clause.title || clause.id;
  return c.render(
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <a href={links.policy(policy.id, pinned)}>{policy.title}</a>
        {clause.section ? <span> › {sectionTrail(content, clause.section)}</span> : null}
      </nav>
      <ClauseView clause={clause} headingLevel={1} mark={terms}>
        <p class="muted clause-version">
          {version.number === head.number ? (
            <>
              In version {version.number}, the newest, published <DateTime value={version.publishedAt} />.{" "}
              <a href={links.clause(policy.id, clauseId, version.number)}>Permanent link to this version</a>
            </>
          ) : (
            <>
              As in version {version.number} of {head.number}, published <DateTime value={version.publishedAt} />.{" "}
              <a href={links.clause(policy.id, clauseId)}>See the newest version</a>
            </>
          )}
        </p>
      </ClauseView>
      <nav class="clause-neighbours" aria-label="Next and previous clauses">
        {previous ? (
          <a href={previous.href} rel="prev">
            ← {previous.title}
          </a>
        ) : (
          <span />
        )}
        {next ? (
          <a href={next.href} rel="next">
            {next.title} →
          </a>
        ) : null}
      </nav>
      <section aria-labelledby="annotations-title" id="annotations">
        <h2 id="annotations-title">Annotations ({count})</h2>
        {count ? <ul class="annotation-list">{annotations.itemsOf(clauseId)}</ul> : <p class="muted">No annotations yet.</p>}
        <div id="annotate">
          {user ? (
            <AnnotationForm
              policyId={policy.id}
              clauseId={clauseId}
              target={clauseIri(version.iri, clauseId)}
              asOptions={annotations.asOptions}
              state={options.annotationState}
              open
            />
          ) : (
            <p class="muted">
              <SignInLink /> to annotate this clause.
            </p>
          )}
        </div>
      </section>
      <ClauseHistory policy={policy} clauseId={clauseId} events={events} versions={live} current={version.number} />
    </>,
    { title: `${title} · ${policy.title}`, community: await policyCommunity(db, policy) },
  );
}

function SearchResults(props: { result: SearchResult; q: string; acrossPolicies: boolean }) {
  const { result } = props;
  if (result.terms.length === 0) return <p class="muted">Type one or more words. All of them must appear; put a phrase in "quotes".</p>;
  if (result.total === 0) return <p role="status">No clause contains {result.terms.map((term) => `“${term}”`).join(" and ")}.</p>;
  return (
    <>
      <p role="status">
        {result.total === 1 ? "1 clause matches" : `${result.total} clauses match`}
        {result.total > result.hits.length ? `; the best ${result.hits.length} are shown` : ""}.
      </p>
      <ol class="search-results">
        {result.hits.map((hit) => (
          <li>
            <h2 class="search-hit-title">
              <a href={`${links.clause(hit.policyId, hit.clauseId)}?q=${encodeURIComponent(props.q)}`}>
                <Marked text={hit.title || hit.clauseId} />
              </a>
            </h2>
            <p class="muted search-hit-where">
              {props.acrossPolicies ? (
                <>
                  <a href={links.policy(hit.policy.id)}>{hit.policy.title}</a>,{" "}
                </>
              ) : null}
              version {hit.versionNumber} · #{hit.clauseId}
              {hit.inExamples ? " · found in its examples" : ""}
            </p>
            <p class="search-snippet">
              <Marked text={hit.snippet} />
            </p>
          </li>
        ))}
      </ol>
    </>
  );
}

async function renderSearch(c: Ctx, policy: Policy | undefined) {
  const parsed = SearchQuery.safeParse({ q: c.req.query("q") ?? "", ...(policy ? { policy: policy.id } : {}) });
  const q = (c.req.query("q") ?? "").slice(0, 500);
  const title = policy ? `Search ${policy.title}` : "Search policies";
  if (!parsed.success) c.status(400);
  const result = parsed.success ? await searchPolicies(c.get("deps").context, parsed.data) : undefined;
  return c.render(
    <>
      <h1>{title}</h1>
      {policy ? (
        <p>
          <a href={links.policy(policy.id)}>Back to the policy</a> · <a href={links.search(q || undefined)}>Search all policies on this instance</a>
        </p>
      ) : (
        <p class="muted">Searches the newest version of every policy this instance holds: its communities' and the ones they follow.</p>
      )}
      <SearchForm policyId={policy?.id} query={q} id="search-page-q" />
      {result ? (
        <SearchResults result={result} q={q} acrossPolicies={!policy} />
      ) : (
        <p class="notice notice-error" role="alert">
          The search is too long: use at most 500 characters.
        </p>
      )}
    </>,
    { title: q ? `“${q.slice(0, 60)}” · ${title}` : title, ...(policy ? { community: await policyCommunity(c.get("deps").db, policy) } : {}) },
  );
}


export function readingPages() {
  const pages = new Hono<WebEnv>();
  const byId = async (c: Ctx): Promise<Policy | undefined> => await findPolicyById(c.get("deps").db, Number(c.req.param("id")));

  pages.get("/search", async (c) => await renderSearch(c, undefined));

  pages.get("/policies/:id{[0-9]+}/search", async (c) => {
    const policy = await byId(c);
    return policy ? await renderSearch(c, policy) : notFound(c, "No such policy on this instance.");
  });

  pages.get("/policies/:id{[0-9]+}/clauses/:clauseId", async (c) => {
    const policy = await byId(c);
    if (!policy) return notFound(c, "No such policy on this instance.");
    return await renderClausePage(c, policy, c.req.param("clauseId"), { q: c.req.query("q") });
  });

  pages.get("/policies/:id{[0-9]+}/versions/:number{[0-9]+}/clauses/:clauseId", async (c) => {
    const policy = await byId(c);
    if (!policy) return notFound(c, "No such policy on this instance.");
    return await renderClausePage(c, policy, c.req.param("clauseId"), { version: Number(c.req.param("number")), q: c.req.query("q") });
  });

  // A local clause's IRI (what annotations reply to) shows its page to a browser.
  pages.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}/clauses/:clauseId", async (c) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    const policy = community ? await findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    if (!policy) return notFound(c, "No such policy on this instance.");
    return await renderClausePage(c, policy, c.req.param("clauseId"), { version: Number(c.req.param("number")) });
  });

  return pages;
}
