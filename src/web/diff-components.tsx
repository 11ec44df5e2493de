/**
 * How a change to a policy reads on every page that shows one: the diff
 * page (/policies/:id/diff), a proposal, the proposal builder's preview and
 * an offer. One home, so a change reads the same everywhere.
 *
 * Text is shown formatted (rendered Markdown) with inserted words in <ins>
 * and deleted words in <del> (src/policies/render-diff.ts); paragraphs that
 * did not change are folded into <details>, open with a click and no
 * JavaScript. Everything else a clause carries is said in words: "now
 * applies to: health, English", "authority level was Guideline, now Root",
 * "1 example added".
 */
import type { Child } from "hono/jsx";
import type { AuthorityLevel, Clause, ContextOfUse, Example, PolicyContent } from "../policies/content.ts";
import { diffClause, diffContents, type ClauseEdit, type PolicyDiff } from "../policies/diff.ts";
import type { Operation } from "../policies/changeset.ts";
import { canonicalJson } from "../policies/hash.ts";
import { markdownDiff } from "../policies/render-diff.ts";
import { AUTHORITY_LABELS, AuthorityTag, ExampleView, Markdown, WordDiff } from "./policy-components.tsx";

type Level = 2 | 3 | 4;

function Heading(props: { level: Level; id?: string; class?: string; children?: Child }) {
  const Tag = props.level === 2 ? "h2" : props.level === 3 ? "h3" : "h4";
  return (
    <Tag id={props.id} class={props.class}>
      {props.children}
    </Tag>
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Formatted text with word marks; unchanged paragraphs folded away. */
export function TextDiff(props: { before: string; after: string }) {
  const segments = markdownDiff(props.before, props.after);
  return (
    <div class="text-diff">
      {segments.map((segment) =>
        segment.kind === "same" ? (
          <details class="diff-unchanged">
            <summary>{plural(segment.blocks, "unchanged paragraph")}</summary>
            <div class="md" dangerouslySetInnerHTML={{ __html: segment.html }} />
          </details>
        ) : (
          <div class="md diff-changed" dangerouslySetInnerHTML={{ __html: segment.html }} />
        ),
      )}
    </div>
  );
}

// ---------------------------------------------------------------- facets in words

const FACETS = ["domain", "audience", "locale", "deployment"] as const;
const languageNames = new Intl.DisplayNames(["en"], { type: "language", fallback: "code" });

/** "English" for "en", "Portuguese (Brazil)" for "pt-BR"; the tag itself when unknown. */
function localeName(tag: string): string {
  try {
    return languageNames.of(tag) ?? tag;
  } catch {
    return tag;
  }
}

function facetValue(facet: (typeof FACETS)[number], value: string): string {
  return facet === "locale" ? localeName(value) : value;
}

/** "health, English", or "any context" when no facet is set. */
export function contextInWords(context: ContextOfUse): string {
  const values = FACETS.flatMap((facet) => (context[facet] ?? []).map((value) => facetValue(facet, value)));
  return values.length ? values.join(", ") : "any context";
}

function ContextChange(props: { before: ContextOfUse; after: ContextOfUse }) {
  const facets = FACETS.filter((facet) => canonicalJson(props.before[facet] ?? []) !== canonicalJson(props.after[facet] ?? []));
  return (
    <li>
      Now applies to: <strong>{contextInWords(props.after)}</strong> <span class="muted">(before: {contextInWords(props.before)})</span>
      <ul class="facet-details">
        {facets.map((facet) => {
          const before = props.before[facet] ?? [];
          const after = props.after[facet] ?? [];
          const added = after.filter((value) => !before.includes(value));
          const removed = before.filter((value) => !after.includes(value));
          return (
            <li>
              {facet === "locale" ? "Language" : facet[0]!.toUpperCase() + facet.slice(1)}:{" "}
              {added.length ? <ins>{added.map((v) => facetValue(facet, v)).join(", ")}</ins> : null}
              {added.length && removed.length ? " " : null}
              {removed.length ? <del>{removed.map((v) => facetValue(facet, v)).join(", ")}</del> : null}
              {after.length === 0 ? <span class="muted"> (now any)</span> : null}
            </li>
          );
        })}
      </ul>
    </li>
  );
}

function AuthorityChange(props: { before: AuthorityLevel; after: AuthorityLevel }) {
  return (
    <li>
      Authority level was <del>{AUTHORITY_LABELS[props.before]}</del>, now <ins>{AUTHORITY_LABELS[props.after]}</ins>
    </li>
  );
}

const exampleKey = (example: Example) => canonicalJson(example);
const exampleTitle = (example: Example, i: number) => example.title || `Example ${i + 1}`;

function ExamplesChange(props: { before: Example[]; after: Example[] }) {
  const beforeKeys = new Set(props.before.map(exampleKey));
  const afterKeys = new Set(props.after.map(exampleKey));
  const added = props.after.map((example, i) => ({ example, i })).filter(({ example }) => !beforeKeys.has(exampleKey(example)));
  const removed = props.before.map((example, i) => ({ example, i })).filter(({ example }) => !afterKeys.has(exampleKey(example)));
  const counts = [added.length ? `${plural(added.length, "example")} added` : "", removed.length ? `${plural(removed.length, "example")} removed` : ""].filter(Boolean);
  return (
    <li>
      {counts.length ? counts.join(", ") : "Examples reordered"}
      {added.length || removed.length ? (
        <ul class="facet-details">
          {added.map(({ example, i }) => (
            <li>
              <ins>Added</ins> <ExampleView example={example} index={i} />
            </li>
          ))}
          {removed.map(({ example, i }) => (
            <li>
              <del>Removed</del> “{exampleTitle(example, i)}”
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function ListChange(props: { label: string; before: string[]; after: string[] }) {
  const added = props.after.filter((value) => !props.before.includes(value));
  const removed = props.before.filter((value) => !props.after.includes(value));
  return (
    <li>
      {props.label}: {added.length ? <ins>{added.join(", ")}</ins> : null}
      {added.length && removed.length ? " " : null}
      {removed.length ? <del>{removed.join(", ")}</del> : null}
      {!added.length && !removed.length ? "reordered" : null}
    </li>
  );
}

interface Sections {
  /** Section titles by id, from both sides. */
  titles: Map<string, string>;
}

const sectionName = (sections: Sections, id: string | null) => (id === null ? "the top level" : `“${sections.titles.get(id) ?? id}”`);

/** What changed besides the texts, one line each, in words. */
function FacetChanges(props: { edit: ClauseEdit; sections: Sections; moved?: { from: number; to: number } }) {
  const { fields } = props.edit;
  const lines: Child[] = [];
  if (fields.title) {
    lines.push(
      <li>
        Title: <WordDiff before={fields.title.before} after={fields.title.after} />
      </li>,
    );
  }
  if (fields.authority) lines.push(<AuthorityChange before={fields.authority.before} after={fields.authority.after} />);
  if (fields.context) lines.push(<ContextChange before={fields.context.before} after={fields.context.after} />);
  if (fields.section) {
    lines.push(
      <li>
        Moved from section {sectionName(props.sections, fields.section.before)} to {sectionName(props.sections, fields.section.after)}
      </li>,
    );
  }
  if (props.moved) lines.push(<li>Moved from position {props.moved.from + 1} to {props.moved.to + 1}</li>);
  if (fields.examples) lines.push(<ExamplesChange before={fields.examples.before} after={fields.examples.after} />);
  if (fields.tags) lines.push(<ListChange label="Tags" before={fields.tags.before} after={fields.tags.after} />);
  if (fields.principle) {
    lines.push(
      <li>
        Principle: <WordDiff before={fields.principle.before ?? ""} after={fields.principle.after ?? ""} />
      </li>,
    );
  }
  if (fields.notes) lines.push(<li>Notes: {plural(fields.notes.before?.length ?? 0, "note")} before, {fields.notes.after?.length ?? 0} now</li>);
  return lines.length ? <ul class="facet-changes">{lines}</ul> : null;
}

// ---------------------------------------------------------------- one clause

function ClauseHeading(props: { clause: Clause; change: string; level: Level }) {
  return (
    <Heading level={props.level} class="clause-title">
      {props.clause.title || props.clause.id} <AuthorityTag level={props.clause.authority} /> <span class="muted">#{props.clause.id}</span>{" "}
      <span class="change-kind">{props.change}</span>
    </Heading>
  );
}

export function EditedClause(props: { edit: ClauseEdit; before: Clause; after: Clause; sections: Sections; level: Level; moved?: boolean }) {
  const { edit, before, after } = props;
  return (
    <article class="clause clause-changed" id={`diff-${edit.id}`}>
      <ClauseHeading clause={after} change="edited" level={props.level} />
      <FacetChanges edit={edit} sections={props.sections} moved={props.moved ? { from: edit.fromIndex, to: edit.toIndex } : undefined} />
      {edit.text ? <TextDiff before={before.text} after={after.text} /> : <Unchanged what="Text" md={after.text} />}
      {edit.rationale ? (
        <>
          <p class="diff-label">Rationale</p>
          <TextDiff before={before.rationale} after={after.rationale} />
        </>
      ) : null}
      {edit.commentary ? (
        <>
          <p class="diff-label">Commentary (not normative)</p>
          <TextDiff before={before.commentary ?? ""} after={after.commentary ?? ""} />
        </>
      ) : null}
    </article>
  );
}

function Unchanged(props: { what: string; md: string }) {
  return (
    <details class="diff-unchanged">
      <summary>{props.what} unchanged</summary>
      <Markdown md={props.md} />
    </details>
  );
}

export function AddedClause(props: { clause: Clause; sections: Sections; level: Level; place?: string }) {
  const { clause } = props;
  return (
    <article class="clause clause-added" id={`diff-${clause.id}`}>
      <ClauseHeading clause={clause} change="added" level={props.level} />
      <ul class="facet-changes">
        <li>
          Applies to: {contextInWords(clause.context)} · {clause.section === null ? "at the top level" : `in section ${sectionName(props.sections, clause.section)}`}
          {props.place ? ` · ${props.place}` : ""}
        </li>
        {clause.examples.length ? <li>{plural(clause.examples.length, "example")}</li> : null}
      </ul>
      <ins class="block">
        <Markdown md={clause.text} />
      </ins>
      {clause.rationale.trim() ? (
        <>
          <p class="diff-label">Rationale</p>
          <ins class="block">
            <Markdown md={clause.rationale} />
          </ins>
        </>
      ) : null}
    </article>
  );
}

export function RemovedClause(props: { clause: Clause; level: Level }) {
  return (
    <article class="clause clause-removed" id={`diff-${props.clause.id}`}>
      <ClauseHeading clause={props.clause} change="removed" level={props.level} />
      <del class="block">
        <Markdown md={props.clause.text} />
      </del>
    </article>
  );
}

function MovedClause(props: { clause: Clause; from: number; to: number; level: Level }) {
  return (
    <article class="clause" id={`diff-${props.clause.id}`}>
      <ClauseHeading clause={props.clause} change="moved" level={props.level} />
      <p>
        Moved from position {props.from + 1} to {props.to + 1}.
      </p>
    </article>
  );
}

// ---------------------------------------------------------------- a whole diff

function sectionsOf(...contents: PolicyContent[]): Sections {
  return { titles: new Map(contents.flatMap((content) => content.sections.map((section) => [section.id, section.title] as const))) };
}

/** Clause changes in reading order: where the clause is now, removed ones where they were. */
function clauseEntries(diff: PolicyDiff, from: PolicyContent, to: PolicyContent) {
  const toIndex = new Map(to.clauses.map((clause, i) => [clause.id, i]));
  const movedIds = new Set(diff.clauses.moved.map((move) => move.id));
  // After the nearest clause before it that is still there and did not move.
  const removedKey = (index: number) => {
    for (let i = index - 1; i >= 0; i--) {
      const at = movedIds.has(from.clauses[i]!.id) ? undefined : toIndex.get(from.clauses[i]!.id);
      if (at !== undefined) return at + 0.5;
    }
    return -0.5;
  };
  const edited = new Set(diff.clauses.edited.map((edit) => edit.id));
  const moved = new Set(diff.clauses.moved.map((move) => move.id));
  return [
    ...diff.clauses.edited.map((edit) => ({ key: edit.toIndex, kind: "edited" as const, edit, moved: moved.has(edit.id) })),
    ...diff.clauses.added.map((item) => ({ key: item.index, kind: "added" as const, clause: item.clause })),
    ...diff.clauses.removed.map((item) => ({ key: removedKey(item.index), kind: "removed" as const, clause: item.clause })),
    ...diff.clauses.moved.filter((move) => !edited.has(move.id)).map((move) => ({ key: move.toIndex, kind: "moved" as const, move })),
  ].sort((a, b) => a.key - b.key);
}

const METADATA_LABELS = { title: "Title", summary: "Summary", licence: "Licence" } as const;

function MetadataChanges(props: { diff: PolicyDiff; level: Level }) {
  const { metadata } = props.diff;
  const texts = (["title", "summary", "licence"] as const).filter((field) => metadata[field]);
  if (!texts.length && !metadata.contexts) return null;
  return (
    <section class="clause clause-changed" aria-label="Title, summary, licence and contexts">
      <Heading level={props.level}>Title, summary and licence</Heading>
      <ul class="facet-changes">
        {texts.map((field) => (
          <li>
            {METADATA_LABELS[field]}: <WordDiff before={metadata[field]!.before} after={metadata[field]!.after} />
          </li>
        ))}
        {metadata.contexts ? (
          <li>
            Written for: <strong>{metadata.contexts.after.map(contextInWords).join("; ") || "any context"}</strong>{" "}
            <span class="muted">(before: {metadata.contexts.before.map(contextInWords).join("; ") || "any context"})</span>
          </li>
        ) : null}
      </ul>
    </section>
  );
}

function SectionChanges(props: { diff: PolicyDiff; level: Level }) {
  const { sections } = props.diff;
  if (sections.added.length + sections.removed.length + sections.changed.length + sections.moved.length === 0) return null;
  return (
    <section aria-label="Sections">
      <Heading level={props.level}>Sections</Heading>
      <ul>
        {sections.added.map((s) => (
          <li>
            <ins>Added “{s.section.title}”</ins>
          </li>
        ))}
        {sections.removed.map((s) => (
          <li>
            <del>Removed “{s.section.title}”</del>
          </li>
        ))}
        {sections.changed.map((s) => (
          <li>
            {s.changes.includes("title") ? (
              <>
                Renamed <WordDiff before={s.before.title} after={s.after.title} />
              </>
            ) : (
              <>“{s.after.title}”</>
            )}
            {s.changes.some((field) => field !== "title") ? ` (${s.changes.filter((field) => field !== "title").join(", ")} changed)` : ""}
          </li>
        ))}
        {sections.moved.map((s) => (
          <li>
            “{props.diff.sections.changed.find((c) => c.id === s.id)?.after.title ?? s.id}” moved from position {s.fromIndex + 1} to {s.toIndex + 1}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * The changes from one content to another: a count, then each changed
 * clause where it sits. `level` is the heading level of each clause.
 */
export function PolicyDiffView(props: { from: PolicyContent; to: PolicyContent; diff?: PolicyDiff; level?: Level; class?: string }) {
  const { from, to } = props;
  const diff = props.diff ?? diffContents(from, to);
  const level = props.level ?? 3;
  const sections = sectionsOf(to, from);
  const beforeById = new Map(from.clauses.map((clause) => [clause.id, clause]));
  const afterById = new Map(to.clauses.map((clause) => [clause.id, clause]));
  const movedOnly = diff.clauses.moved.filter((move) => !diff.clauses.edited.some((edit) => edit.id === move.id)).length;
  return (
    <div class={`policy-diff ${props.class ?? ""}`.trim()}>
      <p class="panel diff-summary">
        {diff.summary.edited} edited · {diff.summary.added} added · {diff.summary.removed} removed · {movedOnly} moved · {diff.clauses.unchanged} unchanged
      </p>
      <MetadataChanges diff={diff} level={level} />
      <SectionChanges diff={diff} level={level} />
      {clauseEntries(diff, from, to).map((entry) =>
        entry.kind === "edited" ? (
          <EditedClause edit={entry.edit} before={beforeById.get(entry.edit.id)!} after={afterById.get(entry.edit.id)!} sections={sections} level={level} moved={entry.moved} />
        ) : entry.kind === "added" ? (
          <AddedClause clause={entry.clause} sections={sections} level={level} />
        ) : entry.kind === "removed" ? (
          <RemovedClause clause={entry.clause} level={level} />
        ) : (
          <MovedClause clause={afterById.get(entry.move.id)!} from={entry.move.fromIndex} to={entry.move.toIndex} level={level} />
        ),
      )}
    </div>
  );
}

/** One operation of a change set (an offer's), read on its own. */
export function OperationDiff(props: { operation: Operation; level?: Level; sections?: PolicyContent["sections"] }) {
  const op = props.operation;
  const level = props.level ?? 4;
  const sections: Sections = { titles: new Map((props.sections ?? []).map((s) => [s.id, s.title])) };
  if (op.op === "edit") {
    const edit = diffClause(op.before, op.after, { id: op.id, fromIndex: 0, toIndex: 0 });
    return edit ? <EditedClause edit={edit} before={op.before} after={op.after} sections={sections} level={level} /> : null;
  }
  if (op.op === "add") return <AddedClause clause={op.clause} sections={sections} level={level} place={op.after ? `after #${op.after}` : "first"} />;
  if (op.op === "remove") return <RemovedClause clause={op.before} level={level} />;
  return (
    <div class="clause">
      <p>
        <strong>New order</strong> of {plural(op.order.length, "clause")}: {op.order.join(", ")}
      </p>
    </div>
  );
}

