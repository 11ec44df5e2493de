/**
 * Pieces of the policy pages: clauses with their context, rationale and
 * examples, word diffs, annotations and the annotation form, and the lookups
 * those need (who wrote something, which community owns a policy, whether
 * the signed-in user stewards it).
 *
 * Policy text is Markdown rendered by src/policies/render.ts, which
 * sanitises (it is the boundary for policies mirrored from other instances);
 * annotation text and suggested edits from other instances go through
 * RemoteHtml.
 */
import type { Child } from "hono/jsx";
import type { Db } from "../../db/client.ts";
import { findActorByIdentifier } from "../actors/local-actors.ts";
import { findCommunityById, type Community } from "../communities.ts";
import { AUTHORITY_LEVELS, AUTHORITY_NAMES, type AuthorityLevel, type Clause, type ContextOfUse, type Example, type Note, type PolicyContent } from "../policies/content.ts";
import { diffWords, type WordDiffPart } from "../policies/diff.ts";
import { MOTIVATIONS, MOTIVATION_LABELS, type Motivation } from "../policies/annotation.ts";
import type { AnnotationView } from "../policies/annotations.ts";
import type { Policy } from "../policies/policies.ts";
import { policyOwner } from "../policies/owner.ts";
import { renderMarkdown } from "../policies/render.ts";
import { textToHtml } from "../text.ts";
import { localActorIdentifier } from "../actors/iris.ts";
import { findFederatedActor } from "../actors/remote-actors.ts";
import { DateTime, FormError, PostForm, RemoteHtml, Select, TextArea, Field } from "./components.tsx";
import type { PageCommunity } from "./context.ts";
import { links } from "./links.ts";
import { Avatar } from "./avatar.tsx";

export const AUTHORITY_LABELS = AUTHORITY_NAMES;

/** What each level means: the tag's tooltip and the policy page's filter (the glossary's "authority level" entry says more). */
export const AUTHORITY_MEANINGS: Record<AuthorityLevel, string> = {
  root: "nobody can override it",
  system: "set by whoever runs the model; developers and users cannot override it",
  developer: "the app's developer may override it",
  user: "the person using the model may override it",
  guideline: "a default anyone may override",
};

/** A level's name from a stored string (a proposal's level), the string itself if it is no level. */
export function authorityName(level: string): string {
  return (AUTHORITY_LABELS as Record<string, string>)[level] ?? level;
}

/** A clause's authority level, spelled as the Model Spec does, with its meaning on hover. */
export function AuthorityTag(props: { level: AuthorityLevel; explain?: boolean }) {
  // A policy page lists dozens of clauses; it explains the levels once, in its filter, instead of in every tag.
  const title = props.explain === false ? undefined : `Authority level ${AUTHORITY_LABELS[props.level]}: ${AUTHORITY_MEANINGS[props.level]}`;
  return (
    <span class={`tag tag-${props.level}`} title={title}>
      {AUTHORITY_LABELS[props.level]}
    </span>
  );
}

/** Markdown from a policy, rendered and sanitised; `mark` highlights those words (a search's). */
export function Markdown(props: { md: string; class?: string; mark?: string[] }) {
  if (!props.md.trim()) return null;
  const html = renderMarkdown(props.md);
  return <div class={props.class ?? "md"} dangerouslySetInnerHTML={{ __html: props.mark?.length ? markTermsInHtml(html, props.mark) : html }} />;
}

/** Each term as a pattern that also finds its common English endings ("harm" finds "harmful", "harms"). */
function termPattern(term: string): string {
  const stem = term.length > 4 ? term.replace(/(ing|ed|es|s|ly|ful|ness|ion|ions|al|y)$/u, "") : term;
  return stem
    .split(" ")
    .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\p{P}]+");
}

/**
 * Marks the query's words in rendered (already sanitised) HTML: only text
 * between tags is touched, never a tag, an attribute or an entity.
 */
export function markTermsInHtml(html: string, terms: string[]): string {
  if (terms.length === 0) return html;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${terms.map(termPattern).join("|")})[\\p{L}\\p{N}]*`, "giu");
  return html
    .split(/(<[^>]*>|&[#\w]+;)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(pattern, (word) => `<mark>${word}</mark>`)))
    .join("");
}


/** A community that owns a policy, for the page header: local (its page) or remote (its page here once seen, else its actor IRI). */
export async function policyCommunity(db: Db, policy: Policy): Promise<PageCommunity> {
  const owner = await policyOwner(db, policy);
  if (owner.local) return { name: owner.name, handle: owner.handle, href: links.community(owner.handle) };
  const href = owner.remoteActorId !== undefined ? links.remoteActor(owner.remoteActorId) : owner.iri;
  return { name: owner.name ?? `${owner.handle.replace(/^@/, "")}@${owner.host}`, handle: owner.handle, href };
}

export async function localCommunityOf(db: Db, policy: Policy): Promise<Community | undefined> {
  return policy.communityId !== null ? await findCommunityById(db, policy.communityId) : undefined;
}

export interface AuthorInfo {
  name: string;
  host: string;
  href: string;
}

/** Who an actor IRI is: a local user or community, or a remote actor we have seen. */
export async function authorOf(db: Db, origin: string, iri: string): Promise<AuthorInfo> {
  let url: URL;
  try {
    url = new URL(iri);
  } catch {
    return { name: iri, host: "", href: "#" };
  }
  const identifier = localActorIdentifier(origin, iri);
  if (identifier !== undefined) {
    const actor = await findActorByIdentifier(db, identifier);
    return { name: actor?.name || identifier, host: url.host, href: links.community(identifier) };
  }
  const remote = await findFederatedActor(db, iri);
  const fallback = url.pathname.split("/").filter(Boolean).pop() ?? iri;
  return { name: remote?.name || remote?.handle || fallback, host: url.host, href: remote?.url ?? iri };
}

/**
 * A word-level diff: inserted words in <ins>, deleted in <del>, the rest as
 * it was. Given computed `parts` (a diff from the API or a use case), or
 * `before` and `after` to diff here.
 */
export function WordDiff(props: { parts: WordDiffPart[] } | { before: string; after: string }) {
  const parts = "parts" in props ? props.parts : diffWords(props.before, props.after);
  return (
    <p class="word-diff">
      {parts.map((part) =>
        part.kind === "added" ? <ins>{part.value}</ins> : part.kind === "removed" ? <del>{part.value}</del> : <span>{part.value}</span>,
      )}
    </p>
  );
}

export function ContextOfUseView(props: { context: ContextOfUse }) {
  const facets = (["domain", "audience", "locale", "deployment"] as const).filter((facet) => props.context[facet]?.length);
  if (facets.length === 0) return <p class="muted context-of-use">Applies in any context.</p>;
  return (
    <dl class="context-of-use">
      {facets.map((facet) => (
        <>
          <dt>{facet[0]!.toUpperCase() + facet.slice(1)}</dt>
          <dd>{props.context[facet]!.join(", ")}</dd>
        </>
      ))}
    </dl>
  );
}

export function ExampleView(props: { example: Example; index: number; id?: string }) {
  const { example } = props;
  const good = example.responses.filter((r) => r.label === "good").length;
  const bad = example.responses.length - good;
  return (
    <details class="example" id={props.id}>
      <summary>
        {example.title || `Example ${props.index + 1}`}{" "}
        <span class="muted">
          ({example.responses.length === 0 ? "scenario" : `${good} good, ${bad} bad`})
        </span>
      </summary>
      <div class="example-body">
        {example.prompt.map((message) => (
          <div class="message">
            <p class="message-role">{message.role}</p>
            <Markdown md={message.content} />
          </div>
        ))}
        {example.responses.map((response) => (
          <div class={`response response-${response.label}`}>
            <p class="message-role">
              assistant <span class={`tag ${response.label === "good" ? "tag-user" : "tag-bad"}`}>{response.label === "good" ? "Good response" : "Bad response"}</span>
            </p>
            <Markdown md={response.content} />
            {response.note ? <p class="muted">{response.note}</p> : null}
          </div>
        ))}
        {example.why ? (
          <div class="example-why">
            <p class="message-role">Why</p>
            <Markdown md={example.why} />
          </div>
        ) : null}
      </div>
    </details>
  );
}

/**
 * A clause as readers see it: title, authority, text, context, commentary,
 * notes, rationale, examples. `compact` (with `href`, its clause page) is
 * how a long policy's page shows it: the title links to the clause page, and
 * the examples, commentary and notes are links to it instead of being
 * carried (the Model Spec's page stays under 150 KiB); the clause page, and
 * the policy page with ?details=all, show everything, examples folded.
 */
export function ClauseView(props: {
  clause: Clause;
  children?: Child;
  headingLevel?: 1 | 3 | 4;
  href?: string;
  compact?: boolean;
  /** For compact clauses: how many annotations the clause page has, and whether to offer annotating. */
  annotations?: number;
  annotate?: boolean;
  /** Words to mark in the clause's text (from a search). */
  mark?: string[];
}) {
  const { clause } = props;
  const Heading = props.headingLevel === 1 ? "h1" : props.headingLevel === 3 ? "h3" : "h4";
  const compact = props.compact && props.href !== undefined;
  const anyContext = !(["domain", "audience", "locale", "deployment"] as const).some((facet) => clause.context[facet]?.length);
  return (
    <article class="clause" id={`clause-${clause.id}`}>
      <Heading class="clause-title">
        {props.href ? <a href={props.href}>{clause.title || clause.id}</a> : clause.title || clause.id} <AuthorityTag level={clause.authority} explain={!compact} />
        {compact ? null : (
          <a class="clause-anchor muted" href={`#clause-${clause.id}`} aria-label={`Link to clause ${clause.id} on this page`}>
            #{clause.id}
          </a>
        )}
      </Heading>
      <Markdown md={clause.text} class="md clause-text" mark={props.mark} />
      {compact && anyContext ? null : <ContextOfUseView context={clause.context} />}
      {compact ? null : <CommentaryView commentary={clause.commentary} notes={clause.notes} anchors={props.headingLevel === 1} />}
      {clause.rationale.trim() ? (
        <details class="rationale">
          <summary>Rationale</summary>
          <Markdown md={clause.rationale} />
        </details>
      ) : null}
      {compact ? (
        <ClauseMore clause={clause} href={props.href!} annotations={props.annotations ?? 0} annotate={props.annotate ?? false} />
      ) : clause.examples.length ? (
        <div class="examples" id={props.headingLevel === 1 ? "examples" : undefined}>
          <p class="muted">Examples ({clause.examples.length})</p>
          {clause.examples.map((example, i) => (
            <ExampleView example={example} index={i} id={props.headingLevel === 1 ? `example-${i + 1}` : undefined} />
          ))}
        </div>
      ) : null}
      {clause.tags.length ? (
        <p class="muted">
          Tags:{" "}
          {clause.tags.map((tag) => (
            <span class="tag">{tag}</span>
          ))}
        </p>
      ) : null}
      {props.children}
    </article>
  );
}

/**
 * What a compact clause leaves to its page: its examples, commentary, notes
 * and annotations, named in one link there, and a link to annotate it.
 */
function ClauseMore(props: { clause: Clause; href: string; annotations: number; annotate: boolean }) {
  const { clause } = props;
  const count = (n: number, one: string, many: string) => (n === 0 ? [] : [n === 1 ? `1 ${one}` : `${n} ${many}`]);
  const parts = [
    ...count(clause.examples.length, "example", "examples"),
    ...(clause.commentary ? ["commentary"] : []),
    ...count(clause.notes?.length ?? 0, "note", "notes"),
    ...count(props.annotations, "annotation", "annotations"),
  ];
  if (parts.length === 0 && !props.annotate) return null;
  const words = parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
  return (
    <p class="clause-more">
      {words ? <a href={props.href}>{`${words[0]!.toUpperCase()}${words.slice(1)}`}</a> : null}
      {props.annotate ? (
        <>
          {words ? " · " : ""}
          <a href={`${props.href}#annotate`}>Annotate</a>
        </>
      ) : null}
    </p>
  );
}

/** Commentary (for readers, not normative: never in a system prompt) and footnotes of a clause or section. */
export function CommentaryView(props: { commentary?: string; notes?: Note[]; /** ids for links from elsewhere (one clause per page) */ anchors?: boolean }) {
  return (
    <>
      {props.commentary ? (
        <aside class="commentary" id={props.anchors ? "commentary" : undefined} aria-label="Commentary">
          <p class="muted">Commentary (not normative)</p>
          <Markdown md={props.commentary} />
        </aside>
      ) : null}
      {props.notes?.length ? (
        <details class="notes" id={props.anchors ? "notes" : undefined}>
          <summary>Notes ({props.notes.length})</summary>
          <ol>
            {props.notes.map((note) => (
              <li>
                <span class="muted">{note.id}:</span> <Markdown md={note.text} class="md note-text" />
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </>
  );
}

/**
 * The policy in the author's order, as runs of consecutive clauses of one
 * section (never re-sorted by authority level). A section's prose comes with
 * its first run; when a section's clauses resume after a subsection, the
 * later run is `continued` (same title, no prose). Sections without clauses
 * but with prose keep their place. `levels` lists the authority levels
 * present in a run, highest first.
 */
export interface ClauseGroup {
  sectionId: string | null;
  title: string;
  text: string;
  commentary?: string;
  notes?: Note[];
  clauses: Clause[];
  levels: AuthorityLevel[];
  continued: boolean;
}

/** "Parent › Child": a section's title with its ancestors'. */
export function sectionTrail(content: PolicyContent, id: string): string {
  const sections = new Map(content.sections.map((s) => [s.id, s]));
  const titles: string[] = [];
  const seen = new Set<string>();
  for (let at: string | null = id; at !== null && !seen.has(at); at = sections.get(at)?.parent ?? null) {
    seen.add(at);
    titles.unshift(sections.get(at)?.title ?? at);
  }
  return titles.join(" › ");
}

export function groupClauses(content: PolicyContent): ClauseGroup[] {
  const sections = new Map(content.sections.map((s, i) => [s.id, { section: s, index: i }]));
  const groups: ClauseGroup[] = [];
  const started = new Set<string | null>();
  let nextSection = 0;
  const open = (sectionId: string | null) => {
    const section = sectionId === null ? undefined : sections.get(sectionId)?.section;
    const continued = started.has(sectionId);
    started.add(sectionId);
    groups.push({
      sectionId,
      title: sectionId === null ? "General" : sectionTrail(content, sectionId),
      text: continued ? "" : (section?.text ?? ""),
      ...(section?.commentary && !continued ? { commentary: section.commentary } : {}),
      ...(section?.notes && !continued ? { notes: section.notes } : {}),
      clauses: [],
      levels: [],
      continued,
    });
  };
  /** Sections listed before `index` that have not been shown: prose-only parents keep their place. */
  const catchUp = (index: number) => {
    for (; nextSection < index; nextSection++) {
      const section = content.sections[nextSection]!;
      if (!started.has(section.id) && (section.text.trim() || section.commentary)) open(section.id);
    }
  };
  for (const clause of content.clauses) {
    const current = groups.at(-1);
    if (!current || current.sectionId !== clause.section) {
      const index = clause.section === null ? -1 : (sections.get(clause.section)?.index ?? -1);
      if (index >= 0) catchUp(index);
      if (index >= nextSection) nextSection = index + 1;
      open(clause.section);
    }
    groups.at(-1)!.clauses.push(clause);
  }
  catchUp(content.sections.length);
  for (const group of groups) group.levels = AUTHORITY_LEVELS.filter((level) => group.clauses.some((clause) => clause.authority === level));
  return groups;
}

export function AnnotationItem(props: { annotation: AnnotationView; author: AuthorInfo; versionLabel?: string; actions?: Child; replyLink?: boolean }) {
  const { annotation, author } = props;
  return (
    <li class={`annotation annotation-${annotation.motivation}`}>
      <p class="annotation-head">
        <span class="tag">{MOTIVATION_LABELS[annotation.motivation as Motivation] ?? annotation.motivation}</span>
        <a href={author.href} rel="nofollow noopener ugc" class="annotation-author">
          <Avatar seed={annotation.authorIri} kind="person" />
          {author.name}
        </a>{" "}
        <span class="muted annotation-host">({author.host})</span> · <DateTime value={annotation.published} />
        {props.versionLabel ? <span class="muted"> · {props.versionLabel}</span> : null}
        {annotation.outdated ? <span class="tag"> outdated</span> : null}
      </p>
      {annotation.selector ? (
        <blockquote class="annotation-quote">{annotation.selector.exact}</blockquote>
      ) : null}
      <RemoteHtml html={textToHtml(annotation.text)} class="annotation-text" />
      {annotation.suggestedText ? (
        <div class="annotation-suggestion">
          <p class="muted">{annotation.selector ? "Suggested replacement for the quoted text:" : "Suggested text for the clause:"}</p>
          <RemoteHtml html={renderMarkdown(annotation.suggestedText)} />
        </div>
      ) : null}
      {props.replyLink === false ? null : (
        <p class="annotation-reply">
          <a href={links.annotationReply(annotation.iri)}>
            Reply<span class="visually-hidden"> to {author.name}</span>
          </a>
        </p>
      )}
      {props.actions ? <div class="annotation-actions">{props.actions}</div> : null}
    </li>
  );
}

export interface AnnotationFormState {
  clauseId: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  message?: string;
}

/** The form to annotate one clause, as yourself or as a community you steward. */
export function AnnotationForm(props: {
  policyId: number;
  clauseId: string;
  target: string;
  asOptions: { value: string; label: string }[];
  state?: AnnotationFormState;
  /** Unfolded (the clause page, where annotating is what the page is for). */
  open?: boolean;
}) {
  const state = props.state?.clauseId === props.clauseId ? props.state : undefined;
  const id = (name: string) => `annotate-${props.clauseId}-${name}`;
  return (
    <details class="annotate" open={state || props.open ? true : undefined}>
      <summary>Annotate this clause</summary>
      <PostForm action={`/policies/${props.policyId}/annotations`} label={`Annotate clause ${props.clauseId}`}>
        <FormError message={state?.message} />
        <input type="hidden" name="target" value={props.target} />
        <input type="hidden" name="clause" value={props.clauseId} />
        <Select
          id={id("motivation")}
          name="motivation"
          label="Motivation"
          options={MOTIVATIONS.map((m) => ({ value: m, label: MOTIVATION_LABELS[m] }))}
          value={state?.values.motivation ?? "comment"}
          error={state?.errors.motivation}
        />
        <TextArea id={id("text")} name="text" label="Your annotation" rows={3} required value={state?.values.text} error={state?.errors.text} />
        <Field
          id={id("quote")}
          name="quote"
          label="Quote (optional)"
          hint="A span of the clause's text your annotation is about."
          value={state?.values.quote}
          error={state?.errors.quote}
        />
        <TextArea
          id={id("suggestedText")}
          name="suggestedText"
          label="Suggested text (only for a suggested edit)"
          hint="Replaces the quoted span, or the whole clause text when nothing is quoted. Markdown."
          rows={3}
          value={state?.values.suggestedText}
          error={state?.errors.suggestedText}
        />
        {props.asOptions.length > 1 ? (
          <Select id={id("as")} name="as" label="Annotate as" options={props.asOptions} value={state?.values.as ?? ""} error={state?.errors.as} />
        ) : null}
        <button type="submit">Add annotation</button>
      </PostForm>
    </details>
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

/**
 * A clause in brief (merge conflicts, offers): id, authority, title, text and
 * rationale; `against` marks the words that differ from another version.
 * ClauseView is the full clause as readers see it.
 */
export function ClauseSummary(props: { clause: Clause | undefined; against?: Clause; absent?: string }) {
  const clause = props.clause;
  if (!clause) return <p class="muted">{props.absent ?? "Not present."}</p>;
  return (
    <div class="clause-box">
      <p>
        <AuthorityTag level={clause.authority} /> <code>{clause.id}</code>
        {clause.title ? <strong> {clause.title}</strong> : null}
        {props.against && props.against.authority !== clause.authority ? <span class="muted"> (was {AUTHORITY_LABELS[props.against.authority]})</span> : null}
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
