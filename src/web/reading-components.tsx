/**
 * Finding your way in a long policy: the contents sidebar (sections and
 * their clauses; sticky beside the text on wide screens, a collapsed
 * "Contents" on phones, no script either way), the filters by authority
 * level and context of use (a GET form, so they work without JavaScript and
 * their results have an address), the search box, and search results with
 * the matched words marked.
 */
import { appliesTo, FACETS, toTargetContext, type Facet, type TargetContext } from "../bundles/compose.ts";
import { InvalidInputError } from "../errors.ts";
import { AUTHORITY_LEVELS, type AuthorityLevel, type Clause, type PolicyContent } from "../policies/content.ts";
import { MARK_END, MARK_START } from "../policies/search.ts";
import { escapeHtml } from "../text.ts";
import { links } from "./links.ts";
import { AUTHORITY_LABELS, AUTHORITY_MEANINGS, type ClauseGroup } from "./policy-components.tsx";
import { Term } from "./glossary.tsx";

const FACET_LABELS: Record<Facet, string> = { domain: "Domain", audience: "Audience", locale: "Language", deployment: "Deployment" };

/** What the reader asked to see: authority levels (none = all) and a context of use the clauses must apply in. */
export interface ClauseFilter {
  authority: AuthorityLevel[];
  context: TargetContext;
  /** What could not be read from the query (an unknown level, a bad language tag), in words. */
  problem?: string;
}

export function isFiltering(filter: ClauseFilter): boolean {
  return filter.authority.length > 0 || Object.keys(filter.context).length > 0;
}

/** Reads ?authority=root&authority=user&domain=health from the query; unknown values are reported, not fatal. */
export function readClauseFilter(query: Record<string, string[]>): ClauseFilter {
  const levels = (query.authority ?? []).filter((value) => value !== "");
  const authority = AUTHORITY_LEVELS.filter((level) => levels.includes(level));
  const unknown = levels.filter((value) => !(AUTHORITY_LEVELS as readonly string[]).includes(value));
  const raw: Record<string, string> = {};
  for (const facet of FACETS) {
    const value = query[facet]?.find((v) => v.trim() !== "");
    if (value !== undefined) raw[facet] = value.slice(0, 100);
  }
  let context: TargetContext = {};
  let problem = unknown.length ? `There is no authority level called “${unknown[0]!.slice(0, 40)}”.` : undefined;
  try {
    context = toTargetContext(raw);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    problem = error.message.replace(/^Invalid target context: /, "The context of use was not understood: ");
  }
  return { authority, context, ...(problem ? { problem } : {}) };
}

export function clauseMatches(clause: Clause, filter: ClauseFilter): boolean {
  if (filter.authority.length > 0 && !filter.authority.includes(clause.authority)) return false;
  return appliesTo(clause.context, filter.context);
}

/** The query string of a filter, to keep it on links (version picker, clause pages). */
export function filterQuery(filter: ClauseFilter): string {
  const params = new URLSearchParams();
  for (const level of filter.authority) params.append("authority", level);
  for (const facet of FACETS) if (filter.context[facet]) params.set(facet, filter.context[facet]!);
  return params.toString();
}

/** Every value each facet takes in the policy, for the filter's choices. */
function facetValues(content: PolicyContent): Record<Facet, string[]> {
  const values = Object.fromEntries(FACETS.map((facet) => [facet, new Set<string>()])) as Record<Facet, Set<string>>;
  for (const context of [...content.contexts, ...content.clauses.map((clause) => clause.context)]) {
    for (const facet of FACETS) for (const value of context[facet] ?? []) values[facet].add(value);
  }
  return Object.fromEntries(FACETS.map((facet) => [facet, [...values[facet]].sort()])) as Record<Facet, string[]>;
}

/** The filter form: authority levels as checkboxes, each facet the policy uses as a list (with "any"). */
export function ClauseFilters(props: { action: string; content: PolicyContent; filter: ClauseFilter; version?: number; shown: number }) {
  const { filter } = props;
  const values = facetValues(props.content);
  const facets = FACETS.filter((facet) => values[facet].length > 0);
  const active = isFiltering(filter);
  return (
    <details class="panel clause-filters" open={active || filter.problem ? true : undefined}>
      <summary>
        <strong>Filter clauses</strong>{" "}
        <span class="muted">{active ? `showing ${props.shown} of ${props.content.clauses.length}` : `all ${props.content.clauses.length} shown`}</span>
      </summary>
      <form method="get" action={props.action} aria-label="Filter clauses">
        {props.version !== undefined ? <input type="hidden" name="version" value={String(props.version)} /> : null}
        {filter.problem ? (
          <p class="field-error" role="alert">
            {filter.problem}
          </p>
        ) : null}
        <fieldset class="filter-levels">
          <legend>
            <Term name="authority-level">Authority level</Term>
          </legend>
          {AUTHORITY_LEVELS.map((level) => (
            <label class="choice-inline">
              <input type="checkbox" name="authority" value={level} checked={filter.authority.includes(level)} /> {AUTHORITY_LABELS[level]}{" "}
              <span class="muted">({AUTHORITY_MEANINGS[level]})</span>
            </label>
          ))}
        </fieldset>
        {facets.map((facet) => (
          <div class="field filter-facet">
            <label for={`filter-${facet}`}>{FACET_LABELS[facet]}</label>
            <select id={`filter-${facet}`} name={facet}>
              <option value="">Any</option>
              {values[facet].map((value) => (
                <option value={value} selected={filter.context[facet] === value}>
                  {value}
                </option>
              ))}
            </select>
          </div>
        ))}
        {facets.length ? <p class="hint muted">A clause that names no value for a facet applies everywhere, so it stays in.</p> : null}
        <button type="submit">Show clauses</button>
        {active ? (
          <a class="button secondary" href={props.version !== undefined ? `${props.action}?version=${props.version}` : props.action}>
            Show all
          </a>
        ) : null}
      </form>
    </details>
  );
}

/** The search box of a policy (or, without `policyId`, of the whole instance). */
export function SearchForm(props: { policyId?: number; query?: string; id?: string }) {
  const id = props.id ?? "search-q";
  const label = props.policyId === undefined ? "Search all policies" : "Search this policy";
  return (
    <form method="get" action={props.policyId === undefined ? links.search() : links.policySearch(props.policyId)} class="search-form" role="search" aria-label={label}>
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <input type="search" id={id} name="q" value={props.query ?? ""} placeholder={props.policyId === undefined ? "Search all policies" : "Find in policy"} maxLength={200} />
      <button type="submit" class="secondary">
        Search
      </button>
    </form>
  );
}

/**
 * The contents: every section with its clauses (their titles, linking to
 * them on the page). A <details> that wide screens always show (style.ts
 * hides its summary and opens its content there) and phones collapse.
 */
export function ContentsSidebar(props: { groups: ClauseGroup[]; total: number; policyId: number; filtered: boolean }) {
  const clauses = props.groups.reduce((n, group) => n + group.clauses.length, 0);
  return (
    <aside class="reading-sidebar">
      <details class="contents">
        <summary>Contents ({clauses} clauses)</summary>
        <nav aria-label="Contents">
          <SearchForm policyId={props.policyId} id="contents-search" />
          <p class="muted contents-count">
            {props.filtered ? `${clauses} of ${props.total} clauses` : `${clauses} clauses`} in {props.groups.length}{" "}
            {props.groups.length === 1 ? "section" : "sections"}
          </p>
          <ol class="contents-sections">
            {props.groups.map((group, i) => (
              <li>
                <a href={`#section-${i}`} class="contents-section">
                  {group.title}
                  {group.continued ? " (continued)" : ""}
                </a>
                {group.clauses.length ? (
                  <ol class="contents-clauses">
                    {group.clauses.map((clause) => (
                      <li>
                        <a href={`#clause-${clause.id}`}>{clause.title || clause.id}</a>
                      </li>
                    ))}
                  </ol>
                ) : null}
              </li>
            ))}
          </ol>
        </nav>
      </details>
    </aside>
  );
}

/** Plain text with matched words between MARK_START and MARK_END (from the search index), as HTML with <mark>. */
export function markedHtml(text: string): string {
  return escapeHtml(text).replaceAll(MARK_START, "<mark>").replaceAll(MARK_END, "</mark>");
}

export function Marked(props: { text: string }) {
  return <span dangerouslySetInnerHTML={{ __html: markedHtml(props.text) }} />;
}

export function FilterSummary(props: { filter: ClauseFilter }) {
  const { filter } = props;
  const parts = [
    ...(filter.authority.length ? [`authority ${filter.authority.map((level) => AUTHORITY_LABELS[level]).join(" or ")}`] : []),
    ...FACETS.filter((facet) => filter.context[facet]).map((facet) => `${FACET_LABELS[facet].toLowerCase()} ${filter.context[facet]}`),
  ];
  return <>{parts.join(", ")}</>;
}

