/**
 * Policy pages: a policy (local, forked or mirrored from elsewhere) at
 * /policies/:id and, for local policies, at its IRI; a version IRI shows the
 * same page at that version. Clauses are grouped by section and authority
 * level, with annotations and a form per clause; a version picker; lineage;
 * and the diff between any two versions. Creating, importing and editing
 * live in ./policy-edit-pages.tsx, mounted from here.
 */
import { Hono, type Context } from "hono";
import { eq } from "drizzle-orm";
import { policies as policiesTable } from "../../../db/schema.ts";
import { findCommunity } from "../../communities.ts";
import { listAnnotations } from "../../policies/annotations.ts";
import { listForks } from "../../policies/forks.ts";
import {
  findLocalPolicy,
  findPolicyById,
  findPolicyByIri,
  findVersion,
  findVersionByIri,
  getDraft,
  listCommunityPolicies,
  listVersions,
  listVersionSummaries,
  versionContent,
  type Policy,
  type PolicyVersion,
  type VersionSummary,
} from "../../policies/policies.ts";
import type { PolicyContent } from "../../policies/content.ts";
import { annotate, hideAnnotation, removeAnnotation } from "../../app/annotations.ts";
import { isMember, isSteward } from "../../app/permissions.ts";
import { NewAnnotation } from "../../app/social-inputs.ts";
import { z } from "../../zod.ts";
import { DateTime, SectionTitle, SignInLink } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, optional, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import {
  ClauseView,
  CommentaryView,
  ContextOfUseView,
  Markdown,
  authorOf,
  groupClauses,
  localCommunityOf,
  policyCommunity,
} from "../policy-components.tsx";
import { policyAnnotations } from "../annotation-views.tsx";
import { ClauseFilters, ContentsSidebar, clauseMatches, isFiltering, readClauseFilter, type ClauseFilter } from "../reading-components.tsx";
import { ErrorPage } from "./error-page.tsx";
import { PolicyDiffView } from "../diff-components.tsx";
import { readingPages, renderClausePage } from "./reading-pages.tsx";
import { Term } from "../glossary.tsx";
import { FollowButton, followStanding } from "../follow-button.tsx";
import { policyEditPages } from "./policy-edit-pages.tsx";

type Ctx = Context<WebEnv>;

function notFound(c: Ctx, detail = "No such policy or version on this instance.") {
  c.status(404);
  return c.render(<ErrorPage title="Not found" detail={detail} />, { title: "Not found" });
}

/** A version this instance holds, as a VersionLink names it. */
interface HeldVersion {
  policyId: number;
  title: string;
  number: number;
}

/**
 * The version an IRI names, when we hold it: looked up before rendering
 * (components do not query). A version of the policy on the page (`of`) is
 * named without reading its document.
 */
async function heldVersion(
  db: WebEnv["Variables"]["deps"]["db"],
  iri: string,
  of?: { policy: Policy; versions: VersionSummary[] },
): Promise<HeldVersion | undefined> {
  const own = of?.versions.find((v) => v.iri === iri);
  if (own && of) return { policyId: of.policy.id, title: of.policy.title, number: own.number };
  const version = await findVersionByIri(db, iri);
  const policy = version ? await findPolicyById(db, version.policyId) : undefined;
  return version && policy ? { policyId: policy.id, title: policy.title, number: version.number } : undefined;
}

/** A version reference in a document (a VersionRef or an IRI), as a link to our page when we hold it. */
function VersionLink(props: { iri: string; held: HeldVersion | undefined }) {
  const held = props.held;
  if (held) {
    return (
      <a href={links.policy(held.policyId, held.number)}>
        {held.title}, version {held.number}
      </a>
    );
  }
  return (
    <a href={props.iri} rel="nofollow noopener">
      {props.iri}
    </a>
  );
}

function refIri(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") return (value as { id: string }).id;
  return undefined;
}

export interface PolicyPageOptions {
  version?: number;
  filter?: ClauseFilter;
  /** "all": every example in the page (folded), as before clause pages existed. */
  details?: "all";
}

/** What the policy page reads from its query: filters and whether examples are in the page. */
function pageOptions(c: Ctx, version: number | undefined): PolicyPageOptions {
  return { version, filter: readClauseFilter(c.req.queries() ?? {}), ...(c.req.query("details") === "all" ? { details: "all" as const } : {}) };
}

export async function renderPolicyPage(c: Ctx, policy: Policy, options: PolicyPageOptions = {}) {
  const { db, origin } = c.get("deps");
  const user = c.get("session")?.user;
  const versions = await listVersionSummaries(db, policy);
  const live = versions.filter((v) => !v.retractedAt);
  const community = await policyCommunity(db, policy);
  const localCommunity = await localCommunityOf(db, policy);
  const steward = await isSteward(db, localCommunity, user);
  const requested = options.version;
  const chosen = requested === undefined ? live.at(-1) : versions.find((v) => v.number === requested);
  if (requested !== undefined && !chosen) return notFound(c, `${policy.title} has no version ${requested} here.`);
  if (chosen?.retractedAt) {
    const version = chosen;
    c.status(410);
    return c.render(
      <>
        <h1>Version {version.number} was retracted</h1>
        <p>
          Version {version.number} of <a href={links.policy(policy.id)}>{policy.title}</a> was retracted by its community on{" "}
          <DateTime value={version.retractedAt} />.
        </p>
      </>,
      { title: policy.title, community },
    );
  }
  // Only the version shown is read whole.
  const version: PolicyVersion | undefined = chosen ? await findVersion(db, policy, chosen.number) : undefined;
  const content: PolicyContent | undefined = version ? versionContent(version) : undefined;
  const document = (version?.document ?? {}) as Record<string, unknown>;
  const pinned = version !== undefined && version.number !== live.at(-1)?.number ? version.number : undefined;
  const filter = options.filter ?? { authority: [], context: {} };
  const annotations = await policyAnnotations(c, policy, versions, links.policy(policy.id, pinned));
  const forkedFromIri = policy.forkedFromIri ?? refIri(document.forkedFrom);
  const remoteForks = await listForks(db, policy);
  const localForks = await db.select().from(policiesTable).where(eq(policiesTable.upstreamIri, policy.iri));
  const merges = versions.flatMap((v) => (v.mergedFrom ? [{ version: v, from: v.mergedFrom }] : []));
  const previousIri = refIri(document.previousVersion);
  const forkedFromHeld = forkedFromIri ? await heldVersion(db, forkedFromIri) : undefined;
  const previousHeld = previousIri ? await heldVersion(db, previousIri, { policy, versions }) : undefined;
  const mergedHeld = await Promise.all(merges.map((merge) => heldVersion(db, merge.from)));
  const localForkCommunities = await Promise.all(localForks.map((fork) => policyCommunity(db, fork)));
  const shownRemoteForks = await Promise.all(
    remoteForks
      .filter((fork) => !localForks.some((local) => local.iri === fork.forkIri))
      .map(async (fork) => ({ fork, held: await findPolicyByIri(db, fork.forkIri), owner: await authorOf(db, origin, fork.forkOwnerIri) })),
  );
  const allGroups = content ? groupClauses(content) : [];
  // Filtering keeps a section's prose only while it still has clauses to show.
  const groups = isFiltering(filter)
    ? allGroups.map((group) => ({ ...group, clauses: group.clauses.filter((clause) => clauseMatches(clause, filter)) })).filter((group) => group.clauses.length > 0)
    : allGroups;
  const shown = groups.reduce((n, group) => n + group.clauses.length, 0);
  const inline = options.details === "all";
  const followState = await followStanding(c, policy.iri);

  return c.render(
    <>
      <h1>{policy.title}</h1>
      <p class="policy-meta">
        A policy of <a href={community.href}>{community.name}</a>
        {localCommunity ? null : <span class="muted"> ({new URL(policy.ownerIri).host})</span>} · licence <code>{policy.licence}</code>
        {version ? (
          <>
            {" "}
            · version {version.number} of {live.at(-1)?.number ?? version.number}, published <DateTime value={version.publishedAt} />
          </>
        ) : null}
      </p>
      <FollowButton target={policy.iri} name={policy.title} follow={followState} />
      <nav class="policy-actions" aria-label="Policy actions">
        {steward ? (
          <a class="button" href={links.policyDraft(policy.id)}>
            Edit draft
          </a>
        ) : null}
        {live.length >= 2 ? (
          <a class="button secondary" href={links.policyDiff(policy.id, live.at(-2)!.number, live.at(-1)!.number)}>
            Compare versions
          </a>
        ) : null}
        {user && version ? (
          <a class="button secondary" href={links.policyFork(policy.id)}>
            Fork
          </a>
        ) : null}
        {steward && policy.upstreamIri ? (
          <>
            <a class="button secondary" href={links.policyMerge(policy.id)}>
              Merge upstream
            </a>
            <a class="button secondary" href={links.policyNewOffer(policy.id)}>
              Offer upstream
            </a>
          </>
        ) : null}
        {localCommunity ? (
          <a class="button secondary" href={links.policyProposals(policy.id)}>
            Proposals
          </a>
        ) : null}
      </nav>
      {policy.summary ? <p class="policy-summary">{policy.summary}</p> : null}

      {versions.length > 0 ? (
        <form method="get" action={links.policy(policy.id)} class="version-picker" aria-label="Choose a version">
          <label for="version">Version</label>
          <select id="version" name="version">
            {[...versions].reverse().map((v) => (
              <option value={String(v.number)} selected={v.number === version?.number}>
                {`Version ${v.number} · ${v.publishedAt.toISOString().slice(0, 10)}${v.retractedAt ? " · retracted" : ""}`}
              </option>
            ))}
          </select>
          <button type="submit" class="secondary">
            Show version
          </button>
        </form>
      ) : null}

      {version ? (
        <div class="panel">
          <p>
            <strong>Changes in version {version.number}:</strong> {version.changelog || "(no changelog)"}
          </p>
          <p class="muted">
            <Term name="content-hash" /> <code class="hash">{version.contentHash}</code> ·{" "}
            <a href={version.iri} rel="nofollow noopener">
              version address
            </a>{" "}
            (<Term name="iri" />)
          </p>
        </div>
      ) : (
        <div class="panel">
          <p>Not published yet.</p>
          {steward ? (
            <p>
              <a href={links.policyDraft(policy.id)}>Open the draft</a> to add clauses and publish the first version.
            </p>
          ) : null}
        </div>
      )}

      <section aria-labelledby="lineage">
        <SectionTitle id="lineage">
          <Term name="lineage" />
        </SectionTitle>
        <ul class="lineage">
          {forkedFromIri ? (
            <li>
              <Term name="fork">Forked</Term> from <VersionLink iri={forkedFromIri} held={forkedFromHeld} />
            </li>
          ) : (
            <li>An original policy (not a fork).</li>
          )}
          {previousIri ? (
            <li>
              Previous version: <VersionLink iri={previousIri} held={previousHeld} />
            </li>
          ) : null}
          {merges.map((merge, i) => (
            <li>
              Version {merge.version.number} merged <VersionLink iri={merge.from} held={mergedHeld[i]} />
            </li>
          ))}
          {remoteForks.length + localForks.length === 0 ? (
            <li>No known forks.</li>
          ) : (
            <li>
              Forks ({remoteForks.length + localForks.length}):
              <ul>
                {localForks.map((fork, i) => (
                  <li>
                    <a href={links.policy(fork.id)}>{fork.title}</a> <span class="muted">({localForkCommunities[i]!.name})</span>
                  </li>
                ))}
                {shownRemoteForks.map(({ fork, held, owner }) => {
                    return (
                      <li>
                        {held ? (
                          <a href={links.policy(held.id)}>{held.title}</a>
                        ) : (
                          <a href={fork.forkIri} rel="nofollow noopener">
                            {fork.forkIri}
                          </a>
                        )}{" "}
                        <span class="muted">
                          by {owner.name} ({owner.host})
                        </span>
                      </li>
                    );
                  })}
              </ul>
            </li>
          )}
        </ul>
      </section>

      {content && version ? (
        <>
          {content.contexts.length ? (
            <section aria-labelledby="contexts">
              <SectionTitle id="contexts">Written for</SectionTitle>
              {content.contexts.map((context) => (
                <ContextOfUseView context={context} />
              ))}
            </section>
          ) : null}
          <div class="reading-layout">
            <ContentsSidebar groups={groups} total={content.clauses.length} policyId={policy.id} filtered={isFiltering(filter)} />
            <div class="reading-body">
              <ClauseFilters action={links.policy(policy.id)} content={content} filter={filter} version={pinned} shown={shown} />
              {isFiltering(filter) && shown === 0 ? <p class="panel">No clause matches these filters.</p> : null}
              <p class="muted reading-hint">
                Examples, commentary and annotations are on each clause's page: follow its title{user ? ", and annotate it there" : ""}.{" "}
                {inline ? (
                  <a href={links.policy(policy.id, pinned)}>Fold examples into links again</a>
                ) : (
                  <a href={`${links.policy(policy.id, pinned)}${pinned === undefined ? "?" : "&"}details=all`}>Put every example in this page</a>
                )}
              </p>
              {groups.map((group, i) => (
                <section class="policy-section" aria-labelledby={`section-${i}`} id={group.sectionId && !group.continued ? `clause-${group.sectionId}` : undefined}>
                  <h2 id={`section-${i}`}>
                    {group.title}
                    {group.continued ? <span class="muted"> (continued)</span> : null}
                  </h2>
                  <Markdown md={group.text} class="md section-text" />
                  <CommentaryView commentary={group.commentary} notes={group.notes} />
                  {group.clauses.map((clause) => {
                    const href = links.clause(policy.id, clause.id, pinned);
                    const count = annotations.countOf(clause.id);
                    return (
                      <ClauseView clause={clause} headingLevel={3} href={href} compact={!inline} annotations={count}>
                        {inline && count ? (
                          <details class="annotations" open>
                            <summary>Annotations ({count})</summary>
                            <ul class="annotation-list">{annotations.itemsOf(clause.id)}</ul>
                          </details>
                        ) : null}
                        {inline && user ? (
                          <p class="clause-links">
                            <a href={`${href}#annotate`}>Annotate</a>
                          </p>
                        ) : null}
                      </ClauseView>
                    );
                  })}
                </section>
              ))}
              {(() => {
                const present = new Set(content.clauses.map((clause) => clause.id));
                const elsewhere = [...annotations.byClause.keys()].filter((clauseId) => clauseId === null || !present.has(clauseId));
                if (elsewhere.length === 0) return null;
                return (
                  <section aria-labelledby="other-annotations">
                    <h2 id="other-annotations">Other annotations</h2>
                    <p class="muted">On the whole policy, or on clauses this version does not have.</p>
                    <ul class="annotation-list">{elsewhere.flatMap((clauseId) => annotations.itemsOf(clauseId))}</ul>
                  </section>
                );
              })()}
              {user ? null : (
                <p class="muted">
                  <SignInLink /> to annotate clauses.
                </p>
              )}
            </div>
          </div>
        </>
      ) : null}
    </>,
    { title: version ? `${policy.title} (version ${version.number})` : policy.title, community },
  );
}

async function renderDiffPage(c: Ctx, policy: Policy) {
  const { db } = c.get("deps");
  const user = c.get("session")?.user;
  const community = await policyCommunity(db, policy);
  const localCommunity = await localCommunityOf(db, policy);
  const canSeeDraft = await isMember(db, localCommunity, user);
  const versions = (await listVersions(db, policy)).filter((v) => !v.retractedAt);
  const choices = [...versions.map((v) => String(v.number)), ...(canSeeDraft ? ["draft"] : [])];
  const fromParam = c.req.query("from") ?? (versions.length >= 2 ? String(versions.at(-2)!.number) : choices[0]);
  const toParam = c.req.query("to") ?? (versions.length >= 1 ? String(versions.at(-1)!.number) : choices[0]);
  const contentOf = async (which: string | undefined): Promise<PolicyContent | string> => {
    if (which === "draft") return canSeeDraft ? getDraft(policy) : "Only members of the policy's community can compare with its draft.";
    if (!which || !/^\d+$/.test(which)) return "Choose a version.";
    const version = await findVersion(db, policy, Number(which));
    if (!version || version.retractedAt) return `There is no version ${which} here.`;
    return versionContent(version);
  };
  const from = await contentOf(fromParam);
  const to = await contentOf(toParam);
  const label = (which: string) => (which === "draft" ? "Draft" : `Version ${which}`);
  const problem = typeof from === "string" ? from : typeof to === "string" ? to : undefined;
  if (problem && (c.req.query("from") || c.req.query("to"))) c.status(400);
  return c.render(
    <>
      <h1>Changes to {policy.title}</h1>
      <p>
        <a href={links.policy(policy.id)}>Back to the policy</a>
      </p>
      {choices.length < 2 ? (
        <p>There is only one version so far: nothing to compare.</p>
      ) : (
        <form method="get" action={links.policyDiff(policy.id)} class="diff-picker" aria-label="Choose versions to compare">
          <div class="field">
            <label for="from">From</label>
            <select id="from" name="from">
              {choices.map((choice) => (
                <option value={choice} selected={choice === fromParam}>
                  {label(choice)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="to">To</label>
            <select id="to" name="to">
              {choices.map((choice) => (
                <option value={choice} selected={choice === toParam}>
                  {label(choice)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Compare</button>
        </form>
      )}
      {problem ? (
        choices.length < 2 ? null : (
          <p class="notice notice-error" role="alert">
            {problem}
          </p>
        )
      ) : (
        <>
          <h2 class="diff-heading">
            {label(fromParam!)} → {label(toParam!)}
          </h2>
          {fromParam === toParam ? <p>These are the same version.</p> : <PolicyDiffView from={from as PolicyContent} to={to as PolicyContent} />}
        </>
      )}
    </>,
    { title: `Changes to ${policy.title}`, community },
  );
}

export function policyPages() {
  const pages = new Hono<WebEnv>();

  const byId = async (c: Ctx): Promise<Policy | undefined> => {
    const id = c.req.param("id");
    return id && /^\d+$/.test(id) ? await findPolicyById(c.get("deps").db, Number(id)) : undefined;
  };
  const versionQuery = (c: Ctx): number | undefined | "bad" => {
    const raw = c.req.query("version");
    if (raw === undefined || raw === "") return undefined;
    return /^\d+$/.test(raw) ? Number(raw) : "bad";
  };

  pages.get("/actors/:handle/policies", async (c) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    if (!community) return notFound(c, "No such community on this instance.");
    const rows = await listCommunityPolicies(db, community);
    const heads = await Promise.all(rows.map(async (p) => (await listVersions(db, p)).filter((v) => !v.retractedAt).at(-1)));
    const steward = await isSteward(db, community, c.get("session")?.user);
    return c.render(
      <>
        <h1>Policies of {community.name}</h1>
        {steward ? (
          <p>
            <a class="button" href={links.newPolicy(community.handle)}>
              New or imported policy
            </a>
          </p>
        ) : null}
        {rows.length === 0 ? (
          <p>No policies yet.</p>
        ) : (
          <ul class="policy-list">
            {rows.map((p, i) => {
              const head = heads[i];
              return (
                <li>
                  <a href={links.policy(p.id)}>{p.title}</a>{" "}
                  <span class="muted">{head ? `version ${head.number}` : "not published yet"}</span>
                  {p.summary ? <p class="muted">{p.summary}</p> : null}
                </li>
              );
            })}
          </ul>
        )}
      </>,
      { title: `Policies of ${community.name}`, community: { name: community.name, handle: community.handle, href: links.community(community.handle) } },
    );
  });

  pages.route("/", readingPages());

  // Before /actors/:handle/policies/:slug, so "new" is the form, not a slug.
  pages.route("/", policyEditPages());

  pages.get("/actors/:handle/policies/:slug", async (c) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    const policy = community ? await findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    if (!policy) return notFound(c);
    const version = versionQuery(c);
    if (version === "bad") return notFound(c);
    return await renderPolicyPage(c, policy, pageOptions(c, version));
  });

  pages.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}", async (c) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    const policy = community ? await findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    if (!policy) return notFound(c);
    return await renderPolicyPage(c, policy, pageOptions(c, Number(c.req.param("number"))));
  });

  pages.get("/policies/:id{[0-9]+}", async (c) => {
    const policy = await byId(c);
    if (!policy) return notFound(c);
    const version = versionQuery(c);
    if (version === "bad") return notFound(c);
    return await renderPolicyPage(c, policy, pageOptions(c, version));
  });

  pages.get("/policies/:id{[0-9]+}/diff", async (c) => {
    const policy = await byId(c);
    return policy ? await renderDiffPage(c, policy) : notFound(c);
  });

  pages.post("/policies/:id{[0-9]+}/annotations", async (c) => {
    const policy = await byId(c);
    if (!policy) return notFound(c);
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const fields = await formFields(c);
    const clauseId = fields.clause ?? "";
    const input = {
      target: fields.target ?? "",
      motivation: fields.motivation ?? "",
      text: fields.text ?? "",
      quote: optional(fields.quote),
      suggestedText: optional(fields.suggestedText),
      as: optional(fields.as),
    };
    const result = await submitForm(NewAnnotation, input, async (data) => await annotate(c.get("deps").context, c.get("session")?.user, data));
    const versionNumber = (await findVersionByIri(c.get("deps").db, (fields.target ?? "").replace(/\/clauses\/[^/]*$/, "")))?.number;
    if (result.ok) {
      return redirectWithNotice(c, `${links.clause(policy.id, clauseId, versionNumber)}#annotations`, "Your annotation was added and sent to the policy's community.");
    }
    // The API checks the clause-level rules (quote present, suggestion only for edits) and names the field in its message.
    const errors: Record<string, string> = { ...result.fieldErrors };
    let message: string | undefined;
    const detail = result.problem.detail;
    const named = /^(text|quote|suggestedText|motivation): (.*)$/.exec(detail);
    if (Object.keys(errors).length === 0) {
      const parts = detail.split("; ");
      for (const part of parts) {
        const match = /^(text|quote|suggestedText|motivation|clauseId): (.*)$/.exec(part);
        if (match) errors[match[1]!] = match[2]!;
      }
      if (Object.keys(errors).length === 0 && !named) message = detail;
    }
    c.status(result.status === 404 ? 404 : 400);
    return await renderClausePage(c, policy, clauseId, {
      version: versionNumber,
      annotationState: { clauseId, values: fields, errors, message: message ?? "The annotation was not added; see the messages below." },
    });
  });

  /** Delete your own annotation, or hide one as a steward, then come back to its clause. */
  const moderate = (kind: "delete" | "hide") => async (c: Context<WebEnv>) => {
    const policy = await byId(c);
    if (!policy) return notFound(c);
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const fields = await formFields(c);
    const iri = fields.iri ?? "";
    const annotation = (await listAnnotations(c.get("deps").db, { policyIri: policy.iri })).find((a) => a.iri === iri);
    // Back to the page the button was on (only this policy's pages), at the annotation's clause.
    const page = fields.back && fields.back.startsWith(`/policies/${policy.id}`) && !fields.back.startsWith("//") ? fields.back : links.policy(policy.id);
    const back = `${page}${annotation?.clauseId ? (page.includes("/clauses/") ? "#annotations" : `#clause-${annotation.clauseId}`) : ""}`;
    const { context } = c.get("deps");
    const viewer = c.get("session")?.user;
    const result = await submitForm(z.string(), iri, async (target) =>
      kind === "delete" ? await removeAnnotation(context, viewer, target) : await hideAnnotation(context, viewer, target, true),
    );
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    return redirectWithNotice(c, back, kind === "delete" ? "Your annotation was deleted here and wherever it was shared." : "The annotation is hidden from this policy.");
  };
  pages.post("/policies/:id{[0-9]+}/annotations/delete", moderate("delete"));
  pages.post("/policies/:id{[0-9]+}/annotations/hide", moderate("hide"));

  return pages;
}
