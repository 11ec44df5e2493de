/**
 * The proposal builder. A member starts from any clause's current text (the
 * editor is filled with its title, text, authority level, context of use and
 * examples), adds clauses, removes or moves them, as many as they like; each
 * step is saved to their draft on the server at once (a POST, then a
 * redirect back), so previewing, going back or coming back tomorrow loses
 * nothing, and no JavaScript is needed. The preview shows the diff the
 * proposal will make; opening it puts it to the community's vote.
 */
import { Hono, type Context } from "hono";
import type { WebEnv } from "../context.ts";
import { ActionButton, Field, FormError, PostForm, Select, TextArea } from "../components.tsx";
import { formFields, formValues, optional, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { pageCommunity } from "../participation-components.tsx";
import { AuthorityTag, ExampleView } from "../policy-components.tsx";
import { PolicyDiffView } from "../diff-components.tsx";
import { ClauseFields, clauseFromForm, type FormState } from "./policy-edit-pages.tsx";
import { localCommunityOf, policyFor, remotePolicy } from "./proposal-pages.tsx";
import {
  changeProposalDraft,
  discardProposalDraft,
  DraftProposalInput,
  openDraftProposal,
  ProposalDraftStep,
  proposalDraft,
  type ProposalDraftView,
} from "../../app/proposals.ts";
import { diffContents } from "../../policies/diff.ts";
import type { Clause, Example, PolicyContent } from "../../policies/content.ts";
import { headVersion, type Policy } from "../../policies/policies.ts";
import type { Community } from "../../communities.ts";

type Ctx = Context<WebEnv>;

/** "2026-11-26T21:30" from a datetime-local field is read as UTC; a full ISO date keeps its offset. */
function closesAtFromForm(value: string | undefined): string | undefined | null {
  const given = optional(value);
  if (!given) return undefined;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(given) ? given : `${given.length === 16 ? `${given}:00` : given}Z`;
  const date = new Date(withZone);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function excerpt(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const clauseOptions = (content: PolicyContent) =>
  content.clauses.map((clause) => ({ value: clause.id, label: `${excerpt(clause.title || clause.text)} (#${clause.id})` }));

// ---------------------------------------------------------------- the list of changes

interface ChangeEntry {
  id: string;
  clause: Clause;
  what: string;
}

/** The draft's changes, one line per clause, in the order of the policy. */
function changeEntries(draft: ProposalDraftView): ChangeEntry[] {
  const diff = diffContents(draft.base, draft.working);
  const after = new Map(draft.working.clauses.map((clause, i) => [clause.id, { clause, i }]));
  const edited = new Map(diff.clauses.edited.map((edit) => [edit.id, edit]));
  const moved = new Set(diff.clauses.moved.map((move) => move.id));
  const entries: (ChangeEntry & { at: number })[] = [];
  for (const [id, { clause, i }] of after) {
    const edit = edited.get(id);
    const added = diff.clauses.added.some((item) => item.id === id);
    const words = [added ? "added" : "", edit ? `edited (${edit.changes.join(", ")})` : "", moved.has(id) && !added ? "moved" : ""].filter(Boolean);
    if (words.length) entries.push({ id, clause, what: words.join(", "), at: i });
  }
  for (const item of diff.clauses.removed) entries.push({ id: item.id, clause: item.clause, what: "removed", at: item.index - 0.5 });
  return entries.sort((a, b) => a.at - b.at);
}

function ChangesList(props: { policy: Policy; draft: ProposalDraftView }) {
  const entries = changeEntries(props.draft);
  if (entries.length === 0) return <p class="muted">No changes yet. Choose a clause below to start from its current text, or add a new one.</p>;
  return (
    <ul class="builder-changes">
      {entries.map((entry) => (
        <li>
          <span class="change-what">
            <strong>{entry.clause.title || entry.id}</strong> <AuthorityTag level={entry.clause.authority} /> <span class="muted">#{entry.id}</span>: {entry.what}
          </span>
          {entry.what !== "removed" ? <a href={links.proposeClauseChange(props.policy.id, entry.id)}>Edit again</a> : null}
          <ActionButton
            action={`${links.newProposal(props.policy.id)}/step`}
            fields={{ action: "undo", id: entry.id }}
            label={`Undo${entry.what === "removed" ? " the removal" : ""}`}
            variant="secondary"
          />
        </li>
      ))}
    </ul>
  );
}

// ---------------------------------------------------------------- the clause editor

interface EditorState {
  /** The clause being edited, or "new". */
  clause: string;
  form?: FormState;
  removeExamples?: string[];
}

function ExampleFields(props: { examples: Example[]; state?: EditorState }) {
  const v = (name: string) => props.state?.form?.values[name] ?? "";
  const e = (name: string) => props.state?.form?.errors[name];
  return (
    <fieldset class="example-fields">
      <legend>Examples</legend>
      {props.examples.map((example, i) => (
        <div>
          <ExampleView example={example} index={i} />
          <label class="choice">
            <input type="checkbox" name="removeExample" value={String(i)} checked={props.state?.removeExamples?.includes(String(i))} /> Remove example{" "}
            {i + 1}
            {example.title ? ` (“${excerpt(example.title, 40)}”)` : ""}
          </label>
        </div>
      ))}
      <p class="hint">Add an example: a user's message, and a good and a bad answer to it. Leave the message empty to add none.</p>
      <Field id="ex-title" name="exampleTitle" label="Example title" value={v("exampleTitle")} error={e("exampleTitle")} />
      <TextArea id="ex-prompt" name="examplePrompt" label="The user's message" rows={2} value={v("examplePrompt")} error={e("examplePrompt")} />
      <TextArea id="ex-good" name="exampleGood" label="A good response" rows={2} value={v("exampleGood")} error={e("exampleGood")} />
      <TextArea id="ex-bad" name="exampleBad" label="A bad response" rows={2} value={v("exampleBad")} error={e("exampleBad")} />
      <TextArea id="ex-why" name="exampleWhy" label="Why (optional)" rows={2} value={v("exampleWhy")} error={e("exampleWhy")} />
    </fieldset>
  );
}

function ClauseEditor(props: { policy: Policy; draft: ProposalDraftView; state: EditorState }) {
  const { draft, state } = props;
  const isNew = state.clause === "new";
  const clause = isNew ? undefined : draft.working.clauses.find((c) => c.id === state.clause);
  const original = draft.base.clauses.find((c) => c.id === state.clause);
  if (!isNew && !clause) {
    return (
      <section id="editor" aria-labelledby="editor-heading">
        <h2 id="editor-heading">Edit a clause</h2>
        <p class="notice notice-error" role="alert">
          This proposal has no clause “{state.clause}”: it may have been removed. Choose another below.
        </p>
      </section>
    );
  }
  return (
    <section id="editor" aria-labelledby="editor-heading" class="card">
      <h2 id="editor-heading">{isNew ? "Add a clause" : <>Edit “{clause!.title || clause!.id}”</>}</h2>
      {clause && original && clause !== original ? <p class="muted">The form shows the clause with your changes so far; “Undo” in the list above goes back to version {draft.baseVersion.number}.</p> : null}
      {clause && !original ? <p class="muted">A clause your proposal adds.</p> : null}
      <FormError message={state.form?.message} />
      <PostForm action={`${links.newProposal(props.policy.id)}/clause`} label={isNew ? "Add a clause" : `Edit clause ${state.clause}`}>
        {isNew ? <input type="hidden" name="new" value="1" /> : <input type="hidden" name="clauseId" value={state.clause} />}
        <ClauseFields prefix="c" clause={clause} content={draft.working} state={state.form} withId={isNew} examplesElsewhere />
        {isNew ? (
          <Select
            id="c-after"
            name="after"
            label="Place it after"
            options={[{ value: "", label: "(at the end)" }, { value: "^", label: "(first)" }, ...clauseOptions(draft.working)]}
            value={state.form?.values.after}
            error={state.form?.errors.after}
          />
        ) : null}
        <ExampleFields examples={clause?.examples ?? []} state={state} />
        <button type="submit">{isNew ? "Add this clause to the proposal" : "Save this change"}</button> <a href={`${links.newProposal(props.policy.id)}#changes`}>Cancel</a>
      </PostForm>
    </section>
  );
}

// ---------------------------------------------------------------- the builder page

function StepForms(props: { policy: Policy; draft: ProposalDraftView; state?: FormState }) {
  const options = clauseOptions(props.draft.working);
  const step = `${links.newProposal(props.policy.id)}/step`;
  const err = (form: string, name: string) => (props.state?.form === form ? props.state.errors[name] : undefined);
  return (
    <section aria-labelledby="start-heading">
      <h2 id="start-heading">Change a clause</h2>
      <form method="get" action={`${links.newProposal(props.policy.id)}#editor`} class="stacked" aria-label="Start from a clause">
        <Select id="start-clause" name="clause" label="Start from the current text of" options={options} />
        <button type="submit">Edit this clause</button>
      </form>
      <p>
        <a class="button secondary" href={`${links.newProposal(props.policy.id)}?clause=new#editor`}>
          Add a new clause
        </a>
      </p>
      <h3>Remove a clause</h3>
      <PostForm action={step} label="Remove a clause">
        <input type="hidden" name="action" value="remove" />
        <Select id="remove-id" name="id" label="Clause to remove" options={options} error={err("remove", "id")} />
        <button type="submit" class="danger">
          Remove it in this proposal
        </button>
      </PostForm>
      <h3>Move a clause</h3>
      <PostForm action={step} label="Move a clause">
        <input type="hidden" name="action" value="move" />
        <Select id="move-id" name="id" label="Clause to move" options={options} error={err("move", "id")} />
        <Select id="move-after" name="after" label="Move it after" options={[{ value: "^", label: "(first)" }, ...options]} error={err("move", "after")} />
        <button type="submit">Move it</button>
      </PostForm>
    </section>
  );
}

function BuilderPage(props: { policy: Policy; community: Community; draft: ProposalDraftView; editor?: EditorState; step?: FormState }) {
  const { policy, community, draft } = props;
  const count = changeEntries(draft).length;
  return (
    <>
      <p class="muted">
        <a href={links.policyProposals(policy.id)}>Proposals for {policy.title}</a>
      </p>
      <h1>Propose a change to {policy.title}</h1>
      <p>
        Against version {draft.baseVersion.number}. Change as many clauses as you need in one proposal: start from a clause's current text, add clauses, remove or move
        them. Your changes are saved as you go; preview them, then open the proposal for the members of {community.name} to vote.{" "}
        <a href={links.decisionRules(community.handle)}>How {community.name} decides</a>
      </p>
      {draft.lost.length ? (
        <p class="notice notice-error" role="alert">
          Version {draft.baseVersion.number} was published after you started; these changes no longer apply and were left out:{" "}
          {draft.lost.map((lost) => `${lost.id} (${lost.reason})`).join("; ")}.
        </p>
      ) : null}
      <section aria-labelledby="changes-heading" id="changes">
        <h2 id="changes-heading">
          Your changes <span class="muted">({count})</span>
        </h2>
        <FormError message={props.step?.message} />
        <ChangesList policy={policy} draft={draft} />
        {count ? (
          <div class="builder-actions">
            <a class="button" href={links.proposalPreview(policy.id)}>
              Preview and open the proposal
            </a>
            <ActionButton action={`${links.newProposal(policy.id)}/discard`} label="Discard all changes" variant="danger" />
          </div>
        ) : null}
      </section>
      {props.editor ? <ClauseEditor policy={policy} draft={draft} state={props.editor} /> : null}
      <StepForms policy={policy} draft={draft} state={props.step} />
    </>
  );
}

function noVersionPage(c: Ctx, policy: Policy, community: Community) {
  return c.render(
    <>
      <h1>Propose a change to {policy.title}</h1>
      <p>This policy has no published version yet; proposals amend the newest published version.</p>
    </>,
    { title: "Propose a change", community: pageCommunity(community) },
  );
}

/** The policy and its community, or the page to show instead (a mirrored policy, no version yet). */
async function builderTarget(c: Ctx) {
  const policy = await policyFor(c);
  const community = await localCommunityOf(c, policy);
  if (!community) return { page: remotePolicy(c, policy) };
  if (!await headVersion(c.get("deps").db, policy)) return { page: noVersionPage(c, policy, community) };
  return { policy, community };
}

async function renderBuilder(c: Ctx, options: { editor?: EditorState; step?: FormState } = {}) {
  const target = await builderTarget(c);
  if (target.page) return target.page;
  const { policy, community } = target;
  const draft = await proposalDraft(c.get("deps").context, c.get("session")?.user, policy.id);
  const editor = options.editor ?? (c.req.query("clause") ? { clause: c.req.query("clause")! } : undefined);
  return c.render(<BuilderPage policy={policy} community={community} draft={draft} editor={editor} step={options.step} />, {
    title: `Propose a change to ${policy.title}`,
    community: pageCommunity(community),
  });
}

// ---------------------------------------------------------------- the preview

function PreviewPage(props: { policy: Policy; draft: ProposalDraftView; form?: FormState }) {
  const { policy, draft, form } = props;
  const count = draft.changes.operations.length;
  return (
    <>
      <p>
        <a href={`${links.newProposal(policy.id)}#changes`}>← Back to your changes</a>
      </p>
      <h1>Preview your proposal to {policy.title}</h1>
      {count === 0 ? (
        <p>
          There is nothing to preview yet. <a href={links.newProposal(policy.id)}>Make a change first.</a>
        </p>
      ) : (
        <>
          <p>
            Against version {draft.baseVersion.number}: {draft.summary}. This is what members will see and vote on.
          </p>
          <section aria-labelledby="preview-changes">
            <h2 id="preview-changes">Changes</h2>
            <PolicyDiffView from={draft.base} to={draft.working} class="proposal-diff" />
          </section>
          <section aria-labelledby="open-heading" class="card">
            <h2 id="open-heading">Open the proposal</h2>
            <FormError message={form?.message} />
            <PostForm action={links.newProposal(policy.id)} label="Open the proposal">
              <Field name="title" label="Title" required value={form?.values.title} error={form?.errors.title} hint="What the proposal is about, in a few words." />
              <TextArea name="summary" label="Why" value={form?.values.summary} error={form?.errors.summary} rows={3} />
              <Field
                name="closesAt"
                label="Voting closes at (UTC)"
                type="datetime-local"
                step="1"
                value={form?.values.closesAt}
                error={form?.errors.closesAt}
                hint="Leave empty to close after the decision rule's minimum open time. A close earlier than that minimum is postponed to it."
              />
              <button type="submit">Open the proposal for votes</button>
            </PostForm>
          </section>
        </>
      )}
    </>
  );
}

async function renderPreview(c: Ctx, form?: FormState) {
  const target = await builderTarget(c);
  if (target.page) return target.page;
  const { policy, community } = target;
  const draft = await proposalDraft(c.get("deps").context, c.get("session")?.user, policy.id);
  return c.render(<PreviewPage policy={policy} draft={draft} form={form} />, { title: `Preview your proposal to ${policy.title}`, community: pageCommunity(community) });
}

// ---------------------------------------------------------------- reading the forms

/** Examples kept (those not ticked for removal) plus the one typed in, if any. */
function examplesFromForm(fields: Record<string, string>, existing: Example[], remove: string[]): Example[] {
  const kept = existing.filter((_, i) => !remove.includes(String(i)));
  const prompt = optional(fields.examplePrompt);
  if (!prompt) return kept;
  const responses = [
    ...(optional(fields.exampleGood) ? [{ content: fields.exampleGood!.trim(), label: "good" as const }] : []),
    ...(optional(fields.exampleBad) ? [{ content: fields.exampleBad!.trim(), label: "bad" as const }] : []),
  ];
  const example: Example = { prompt: [{ role: "user", content: prompt }], responses };
  if (optional(fields.exampleTitle)) example.title = fields.exampleTitle!.trim();
  if (optional(fields.exampleWhy)) example.why = fields.exampleWhy!.trim();
  return [...kept, example];
}

/** The use case's field paths ("clause.context.locale.0") as the editor's field names. */
function editorErrors(fieldErrors: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [path, message] of Object.entries(fieldErrors)) {
    const parts = path.replace(/^clause\./, "").split(".");
    const key = parts[0] === "context" ? parts[1]! : parts[0] === "examples" ? "examplePrompt" : parts[0]!;
    errors[key] ??= message;
  }
  return errors;
}

const stepDone: Record<string, string> = { remove: "Clause removed in your proposal", move: "Clause moved", undo: "Change undone" };

export function proposalBuilderPages() {
  const pages = new Hono<WebEnv>();
  const needSignIn = (c: Ctx) => (c.get("session") ? undefined : c.redirect(signInPath(c), 303));

  pages.get("/policies/:id/proposals/new", async (c) => needSignIn(c) ?? await renderBuilder(c));
  pages.get("/policies/:id/proposals/new/preview", async (c) => needSignIn(c) ?? await renderPreview(c));

  pages.post("/policies/:id/proposals/new/clause", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyFor(c);
    const fields = await formFields(c);
    const removeExamples = await formValues(c, "removeExample");
    const draft = await proposalDraft(c.get("deps").context, c.get("session")?.user, policy.id);
    const isNew = fields.new === "1";
    const current = isNew ? undefined : draft.working.clauses.find((clause) => clause.id === fields.clauseId);
    const clause = { ...clauseFromForm(fields, current ?? {}), examples: examplesFromForm(fields, current?.examples ?? [], removeExamples) };
    const after = !isNew ? undefined : fields.after === "^" ? null : optional(fields.after);
    const result = await submitForm(ProposalDraftStep, { action: "put", clause, ...(isNew ? { after } : {}) }, async (step) =>
      await changeProposalDraft(c.get("deps").context, c.get("session")?.user, policy.id, step),
    );
    if (!result.ok) {
      c.status(result.status as 400);
      const errors = editorErrors(result.fieldErrors);
      const form = { form: "editor", values: fields, errors, message: Object.keys(errors).length ? "The change was not saved: see the fields marked below." : result.problem.detail };
      return await renderBuilder(c, { editor: { clause: isNew ? "new" : fields.clauseId ?? "", form, removeExamples } });
    }
    const what = isNew ? `Clause ${fields.id?.trim() ?? ""} added` : `Change to ${fields.clauseId} saved`;
    return redirectWithNotice(c, `${links.newProposal(policy.id)}#changes`, `${what}. Your proposal so far: ${result.data.summary}.`);
  });

  pages.post("/policies/:id/proposals/new/step", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyFor(c);
    const fields = await formFields(c);
    const input = { action: fields.action, id: fields.id ?? "", ...(fields.action === "move" ? { after: fields.after === "^" ? null : fields.after ?? "" } : {}) };
    const result = await submitForm(ProposalDraftStep, input, async (step) => await changeProposalDraft(c.get("deps").context, c.get("session")?.user, policy.id, step));
    if (!result.ok) {
      c.status(result.status as 400);
      return await renderBuilder(c, { step: { form: fields.action ?? "", values: fields, errors: result.fieldErrors, message: result.problem.detail } });
    }
    return redirectWithNotice(c, `${links.newProposal(policy.id)}#changes`, `${stepDone[fields.action ?? ""] ?? "Done"}. Your proposal so far: ${result.data.summary}.`);
  });

  pages.post("/policies/:id/proposals/new/discard", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyFor(c);
    await discardProposalDraft(c.get("deps").context, c.get("session")?.user, policy.id);
    return redirectWithNotice(c, links.newProposal(policy.id), "All changes discarded.");
  });

  pages.post("/policies/:id/proposals/new", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyFor(c);
    const values = await formFields(c);
    const closesAt = closesAtFromForm(values.closesAt);
    if (closesAt === null) {
      c.status(400);
      return await renderPreview(c, { form: "open", values, errors: { closesAt: "must be a date and time, e.g. 2026-12-01 18:00" }, message: "The proposal was not opened: see the fields marked below." });
    }
    const input = { title: values.title ?? "", summary: optional(values.summary), closesAt };
    const result = await submitForm(DraftProposalInput, input, async (data) => await openDraftProposal(c.get("deps").context, c.get("session")?.user, policy.id, data));
    if (!result.ok) {
      c.status(result.status as 400);
      const message = result.problem.status === 400 && Object.keys(result.fieldErrors).length ? "The proposal was not opened: see the fields marked below." : result.problem.detail;
      return await renderPreview(c, { form: "open", values, errors: result.fieldErrors, message });
    }
    return redirectWithNotice(c, links.proposal(result.data.id), `Proposal opened: ${result.data.changes}.`);
  });

  return pages;
}
