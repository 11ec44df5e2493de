/**
 * Stewards' policy screens: create an empty policy or import one (Model Spec
 * Markdown, constitution JSON, Fedalign JSON) with the importer's report;
 * edit the draft clause by clause; publish it with a changelog. Every form
 * acts through the JSON API, so its rules and messages are the API's.
 */
import { Hono, type Context } from "hono";
import { findCommunity, type Community } from "../../communities.ts";
import { AUTHORITY_LEVELS, type Clause, type ContextOfUse, type PolicyContent } from "../../policies/content.ts";
import { detectFormat } from "../../policies/import/json.ts";
import type { ImportReport } from "../../policies/import/report.ts";
import { findPolicyById, listVersions, slugSchema, type Policy } from "../../policies/policies.ts";
import { isSteward } from "../../app/permissions.ts";
import { createCommunityPolicy, importCommunityPolicy, publishVersion, putClause, readDraft, removeClause, replaceDraft } from "../../app/policies.ts";
import { ImportRequest, NewPolicy, PublishRequest } from "../../app/policy-inputs.ts";
import { FedalignError } from "../../errors.ts";
import { clauseSchema, policyContentSchema } from "../../policies/content.ts";
import { z } from "../../zod.ts";
import { ActionButton, Field, FormError, NoticeHere, PostForm, Select, TextArea, type FieldProblem } from "../components.tsx";
import { Term } from "../glossary.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, formFileText, optional, redirectWithNotice, signInPath, submitForm, type FormOutcome } from "../forms.ts";
import { links } from "../links.ts";
import { AUTHORITY_LABELS, AuthorityTag, Markdown, localCommunityOf, policyCommunity } from "../policy-components.tsx";
import { ErrorPage } from "./error-page.tsx";

type Ctx = Context<WebEnv>;

export interface FormState {
  /** Which form on the page the values and errors belong to. */
  form: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  message?: string;
}

function forbidden(c: Ctx, detail: string) {
  c.status(403);
  return c.render(<ErrorPage title="Not allowed" detail={detail} />, { title: "Not allowed" });
}

function notFound(c: Ctx, detail: string) {
  c.status(404);
  return c.render(<ErrorPage title="Not found" detail={detail} />, { title: "Not found" });
}

const user = (c: Ctx) => c.get("session")?.user;

const pageCommunity = (community: Community) => ({ name: community.name, handle: community.handle, href: links.community(community.handle) });

/** Field errors keyed as the form names its fields: "content.title" -> "title", "context.locale.0" -> "locale". */
function fieldErrorsFor(result: Extract<FormOutcome<unknown>, { ok: false }>, prefixes: string[] = []): { errors: Record<string, string>; message?: string } {
  const errors: Record<string, string> = {};
  for (const [path, message] of Object.entries(result.fieldErrors)) {
    let key = path;
    for (const prefix of prefixes) if (key.startsWith(prefix)) key = key.slice(prefix.length);
    if (key.startsWith("context.")) key = key.split(".")[1]!;
    else key = key.split(".")[0]!;
    errors[key] ??= message;
  }
  return Object.keys(errors).length ? { errors } : { errors, message: result.problem.detail };
}

// ---------------------------------------------------------------------------
// New and imported policies

function NewPolicyPage(props: { community: Community; state?: FormState }) {
  const { community, state } = props;
  const create = state?.form === "create" ? state : undefined;
  const imp = state?.form === "import" ? state : undefined;
  return (
    <>
      <h1>New policy for {community.name}</h1>
      <p>Start from an empty policy, or import one you already have. Either way you get a draft to edit before you publish version 1.</p>
      <div class="columns policy-new">
        <section aria-labelledby="create-heading" class="card">
          <h2 id="create-heading">Create an empty policy</h2>
          <PostForm action={links.newPolicy(community.handle)} label="Create an empty policy">
            <FormError message={create?.message} />
            <input type="hidden" name="mode" value="create" />
            <Field id="create-title" name="title" label="Title" required value={create?.values.title} error={create?.errors.title} />
            <Field
              id="create-slug"
              name="slug"
              label="Slug"
              hint="The last part of the policy's address. Left empty, it is made from the title."
              value={create?.values.slug}
              error={create?.errors.slug}
            />
            <TextArea id="create-summary" name="summary" label="Summary" rows={3} value={create?.values.summary} error={create?.errors.summary} />
            <Field
              id="create-licence"
              name="licence"
              label="Licence"
              hint="An SPDX identifier, such as CC-BY-4.0 or CC0-1.0."
              required
              value={create?.values.licence ?? "CC-BY-4.0"}
              error={create?.errors.licence}
            />
            <button type="submit">Create policy</button>
          </PostForm>
        </section>
        <section aria-labelledby="import-heading" class="card">
          <h2 id="import-heading">Import a policy</h2>
          <PostForm action={links.newPolicy(community.handle)} enctype="multipart/form-data" label="Import a policy">
            <FormError message={imp?.message} />
            <input type="hidden" name="mode" value="import" />
            <div class="field">
              <label for="import-file">File</label>
              <p class="hint" id="import-file-hint">
                Model Spec style Markdown (.md), a constitution (JSON with criteria) or Fedalign policy JSON.
              </p>
              <input
                id="import-file"
                name="file"
                type="file"
                accept=".md,.markdown,.json,.txt,text/markdown,application/json,text/plain"
                aria-describedby="import-file-hint"
              />
            </div>
            <TextArea
              id="import-source"
              name="source"
              label="…or paste its text"
              rows={6}
              value={imp?.values.source}
              error={imp?.errors.source}
            />
            <Select
              id="import-format"
              name="format"
              label="Format"
              options={[
                { value: "", label: "Guess from the file" },
                { value: "modelspec", label: "Model Spec Markdown" },
                { value: "constitution", label: "Constitution JSON" },
                { value: "json", label: "Fedalign policy JSON" },
              ]}
              value={imp?.values.format ?? ""}
              error={imp?.errors.format}
            />
            <Field id="import-title" name="title" label="Title (optional)" hint="Replaces the file's title." value={imp?.values.title} error={imp?.errors.title} />
            <Field
              id="import-licence"
              name="licence"
              label="Licence (optional)"
              hint="SPDX identifier; replaces the file's licence, and is needed when it has none."
              value={imp?.values.licence}
              error={imp?.errors.licence}
            />
            <Field id="import-slug" name="slug" label="Slug (optional)" value={imp?.values.slug} error={imp?.errors.slug} />
            <button type="submit">Import policy</button>
          </PostForm>
        </section>
      </div>
    </>
  );
}

function ImportReportView(props: { policy: { id: number; title: string }; report: ImportReport }) {
  const { report } = props;
  const kept = report.kept;
  return (
    <>
      <h1>Imported “{props.policy.title}”</h1>
      <p>
        The import made a draft. Check it, edit what needs editing, then publish version 1.
      </p>
      <p>
        <a class="button" href={links.policyDraft(props.policy.id)}>
          Open the draft
        </a>
        <a class="button secondary" href={links.policy(props.policy.id)}>
          Policy page
        </a>
      </p>
      <h2>What was kept</h2>
      <div class="table-wrap">
        <table>
          <tbody>
            <tr>
              <th scope="row">Format</th>
              <td>{report.format}</td>
            </tr>
            <tr>
              <th scope="row">Sections</th>
              <td>{kept.sections}</td>
            </tr>
            <tr>
              <th scope="row">Clauses</th>
              <td>
                {kept.clauses}{" "}
                {AUTHORITY_LEVELS.filter((level) => kept.clausesByAuthority[level]).map((level) => (
                  <span>
                    · {kept.clausesByAuthority[level]} <AuthorityTag level={level} />
                  </span>
                ))}
              </td>
            </tr>
            <tr>
              <th scope="row">Examples</th>
              <td>
                {kept.examples} ({kept.pairedExamples} with good and bad responses, {kept.oneSidedExamples} one-sided, {kept.scenarios} scenarios)
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <h2>
        Not mapped <span class="muted">({report.notMapped.length})</span>
      </h2>
      {report.notMapped.length === 0 ? (
        <p>Everything in the file was mapped.</p>
      ) : (
        <div class="table-wrap">
          <table class="not-mapped">
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Where</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {report.notMapped.map((item) => (
                <tr>
                  <td>{item.what}</td>
                  <td>{item.where}</td>
                  <td>{item.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {report.notes.length ? (
        <>
          <h2>Notes</h2>
          <ul>
            {report.notes.map((note) => (
              <li>{note}</li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

// ---------------------------------------------------------------------------
// The draft

const splitList = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

export function clauseFromForm(fields: Record<string, string>, base: Partial<Clause>): Record<string, unknown> {
  const context: Record<string, string[]> = {};
  for (const facet of ["domain", "audience", "locale", "deployment"] as const) {
    const values = splitList(fields[facet]);
    if (values.length) context[facet] = values;
  }
  // Principle and commentary are optional fields: left empty, they are absent (so the content hash stays as without them).
  const { principle: _principle, commentary: _commentary, ...kept } = base;
  return {
    ...kept,
    ...(fields.principle?.trim() ? { principle: fields.principle.trim() } : {}),
    ...(fields.commentary?.trim() ? { commentary: fields.commentary.trim() } : {}),
    id: base.id ?? (fields.id ?? "").trim(),
    title: (fields.title ?? "").trim(),
    section: optional(fields.section) ?? null,
    authority: fields.authority ?? "",
    text: fields.text ?? "",
    rationale: fields.rationale ?? "",
    context,
    tags: splitList(fields.tags),
    examples: base.examples ?? [],
  };
}

/** The clause form's fields by the names its errors use, with their labels (for the error summary's links). */
const CLAUSE_FIELD_LABELS: Record<string, string> = {
  id: "Clause id",
  title: "Title",
  section: "Section",
  authority: "Authority level",
  text: "Text",
  rationale: "Rationale",
  principle: "Principle",
  commentary: "Commentary",
  domain: "Domains",
  audience: "Audiences",
  locale: "Locales",
  deployment: "Deployments",
  tags: "Tags",
};

/**
 * A failed form's field errors as its summary lists them, each linking to
 * its field (`${prefix}-${name}`); an error on something the form has no
 * field for links to the form's block.
 */
function problemsOf(state: FormState | undefined, prefix: string, labels: Record<string, string>, block: string): FieldProblem[] {
  return Object.entries(state?.errors ?? {}).map(([name, message]) => ({
    id: labels[name] ? `${prefix}-${name}` : block,
    label: labels[name] ?? name,
    message,
  }));
}

/** The element ids of the draft page's blocks, which its forms and notices point at. */
const draftBlock = {
  publish: "draft-publish",
  metadata: "draft-metadata",
  clauses: "draft-clauses",
  add: "add-clause",
  clause: (id: string) => `edit-${id}`,
};

/** Tall enough to read a long clause without scrolling a small box (up to 24 rows). */
const textRows = (text: string) => Math.min(24, Math.max(6, Math.ceil(text.length / 80) + text.split("\n").length));

/** A clause's fields (exported: the proposal builder edits clauses with the same form). */
export function ClauseFields(props: { prefix: string; clause?: Clause; content: PolicyContent; state?: FormState; withId?: boolean; examplesElsewhere?: boolean }) {
  const { clause, state } = props;
  const v = (name: string, fallback: string) => state?.values[name] ?? fallback;
  const e = (name: string) => state?.errors[name];
  const id = (name: string) => `${props.prefix}-${name}`;
  const facet = (name: keyof ContextOfUse) => (clause?.context[name] ?? []).join(", ");
  return (
    <>
      {props.withId ? (
        <Field id={id("id")} name="id" label="Clause id" required hint="Letters, digits and _ . : - ; stays the same across versions." value={v("id", "")} error={e("id")} />
      ) : null}
      <Field id={id("title")} name="title" label="Title" value={v("title", clause?.title ?? "")} error={e("title")} />
      <Select
        id={id("section")}
        name="section"
        label="Section"
        options={[{ value: "", label: "(none)" }, ...props.content.sections.map((s) => ({ value: s.id, label: s.title }))]}
        value={v("section", clause?.section ?? "")}
        error={e("section")}
      />
      <Select
        id={id("authority")}
        name="authority"
        label="Authority level"
        options={AUTHORITY_LEVELS.map((level) => ({ value: level, label: AUTHORITY_LABELS[level] }))}
        value={v("authority", clause?.authority ?? "guideline")}
        error={e("authority")}
      />
      <TextArea id={id("text")} name="text" label="Text (Markdown)" required rows={textRows(v("text", clause?.text ?? ""))} value={v("text", clause?.text ?? "")} error={e("text")} />
      <TextArea id={id("rationale")} name="rationale" label="Rationale" rows={3} value={v("rationale", clause?.rationale ?? "")} error={e("rationale")} />
      {([
        ["principle", "Principle (optional)", "One short sentence for bundles' principles.json, such as “Choose the response that …”. Empty: derived from the title and first sentence.", 2],
        ["commentary", "Commentary (optional, not normative)", "Shown to readers; never put in a system prompt, principle or training data.", 3],
      ] as const).map(([name, label, hint, rows]) => (
        <TextArea id={id(name)} name={name} label={label} hint={hint} rows={rows} value={v(name, clause?.[name] ?? "")} error={e(name)} />
      ))}
      <fieldset class="context-fields">
        <legend>Context of use (comma-separated; empty means any)</legend>
        <Field id={id("domain")} name="domain" label="Domains" value={v("domain", facet("domain"))} error={e("domain")} />
        <Field id={id("audience")} name="audience" label="Audiences" value={v("audience", facet("audience"))} error={e("audience")} />
        <Field id={id("locale")} name="locale" label="Locales" hint="Language tags such as en, sw, pt-BR." value={v("locale", facet("locale"))} error={e("locale")} />
        <Field id={id("deployment")} name="deployment" label="Deployments" value={v("deployment", facet("deployment"))} error={e("deployment")} />
      </fieldset>
      <Field id={id("tags")} name="tags" label="Tags (comma-separated)" value={v("tags", (clause?.tags ?? []).join(", "))} error={e("tags")} />
      {clause?.examples.length && !props.examplesElsewhere ? <p class="muted">{clause.examples.length} examples are kept as they are.</p> : null}
    </>
  );
}

function DraftPage(props: { policy: Policy; draft: PolicyContent; steward: boolean; latest?: number; state?: FormState }) {
  const { policy, draft, state } = props;
  const stateFor = (form: string) => (state?.form === form ? state : undefined);
  const meta = stateFor("metadata");
  const publish = stateFor("publish");
  const added = stateFor("new-clause");
  return (
    <>
      <h1>Draft of {policy.title}</h1>
      <p>
        <a href={links.policy(policy.id)}>Policy page</a>
        {props.latest ? (
          <>
            {" "}
            · <a href={`${links.policyDiff(policy.id)}?from=${props.latest}&to=draft`}>Changes since version {props.latest}</a>
          </>
        ) : (
          <span class="muted"> · not published yet</span>
        )}
      </p>
      {props.steward ? null : <p class="notice notice-error">Only stewards can edit the draft; you can read it.</p>}

      {props.steward ? (
        <section aria-labelledby="publish-heading" class="card" id={draftBlock.publish}>
          <h2 id="publish-heading">Publish</h2>
          <NoticeHere id={draftBlock.publish} />
          {/* No anchor: it is at the top already, and success goes to the policy page (which would inherit the fragment). */}
          <PostForm action={`/policies/${policy.id}/publish`} label="Publish the draft">
            <FormError message={publish?.message} fields={problemsOf(publish, "publish", { message: "Changelog" }, draftBlock.publish)} />
            <TextArea
              id="publish-message"
              name="message"
              label="Changelog"
              hint="What changed and why. Left empty, a summary of the changes is written for you."
              rows={3}
              value={publish?.values.message}
              error={publish?.errors.message}
            />
            <button type="submit">Publish new version</button>
          </PostForm>
        </section>
      ) : null}

      <section aria-labelledby="meta-heading" id={draftBlock.metadata}>
        <h2 id="meta-heading">Title, summary and licence</h2>
        <NoticeHere id={draftBlock.metadata} />
        {props.steward ? (
          <PostForm action={`/policies/${policy.id}/draft/metadata`} label="Title, summary and licence" anchor={draftBlock.metadata}>
            <FormError
              message={meta?.message}
              fields={problemsOf(meta, "meta", { title: "Title", summary: "Summary", licence: "Licence" }, draftBlock.metadata)}
            />
            <Field id="meta-title" name="title" label="Title" required value={meta?.values.title ?? draft.title} error={meta?.errors.title} />
            <TextArea id="meta-summary" name="summary" label="Summary" rows={3} value={meta?.values.summary ?? draft.summary} error={meta?.errors.summary} />
            <Field id="meta-licence" name="licence" label="Licence" required value={meta?.values.licence ?? draft.licence} error={meta?.errors.licence} />
            <button type="submit">Save title, summary and licence</button>
          </PostForm>
        ) : (
          <p>
            {draft.title} · {draft.licence}
          </p>
        )}
      </section>

      <section aria-labelledby="clauses-heading" id={draftBlock.clauses}>
        <h2 id="clauses-heading">
          Clauses <span class="muted">({draft.clauses.length})</span>
        </h2>
        <NoticeHere id={draftBlock.clauses} />
        <p class="muted">
          Each clause has an <Term name="authority-level">authority level</Term> (how strong it is) and a{" "}
          <Term name="context-of-use">context of use</Term> (where it applies). Open a clause to edit it.
        </p>
        {draft.clauses.length === 0 ? <p>No clauses yet: add the first one below.</p> : null}
        {draft.clauses.map((clause, i) => {
          const form = `clause:${clause.id}`;
          const own = stateFor(form);
          const block = draftBlock.clause(clause.id);
          return (
            <div class="clause draft-clause" id={block}>
              <NoticeHere id={block} />
              <details open={own ? true : undefined}>
                <summary>
                  <span class="muted">{i + 1}.</span> {clause.title || clause.id} <AuthorityTag level={clause.authority} />
                  <span class="muted">#{clause.id}</span>
                </summary>
                {props.steward ? (
                  <>
                    <PostForm action={`/policies/${policy.id}/draft/clauses`} label={`Edit clause ${clause.id}`} anchor={block}>
                      <FormError message={own?.message} fields={problemsOf(own, `c${i}`, CLAUSE_FIELD_LABELS, block)} />
                      <input type="hidden" name="clauseId" value={clause.id} />
                      <ClauseFields prefix={`c${i}`} clause={clause} content={draft} state={own} />
                      <button type="submit">Save clause</button>
                    </PostForm>
                    <ActionButton
                      action={`/policies/${policy.id}/draft/clauses/remove`}
                      fields={{ clauseId: clause.id }}
                      label={`Remove clause ${clause.id}`}
                      variant="danger"
                    />
                  </>
                ) : (
                  <Markdown md={clause.text} />
                )}
              </details>
            </div>
          );
        })}
      </section>

      {props.steward ? (
        <section aria-labelledby="add-heading" class="card" id={draftBlock.add}>
          <h2 id="add-heading">Add a clause</h2>
          <PostForm action={`/policies/${policy.id}/draft/clauses/new`} label="Add a clause" anchor={draftBlock.add}>
            <FormError message={added?.message} fields={problemsOf(added, "new", CLAUSE_FIELD_LABELS, draftBlock.add)} />
            <ClauseFields prefix="new" content={draft} state={added} withId />
            <button type="submit">Add clause</button>
          </PostForm>
        </section>
      ) : null}
    </>
  );
}

export function policyEditPages() {
  const pages = new Hono<WebEnv>();

  const stewardCommunity = async (c: Ctx): Promise<Community | Response | Promise<Response>> => {
    const community = await findCommunity(c.get("deps").db, c.req.param("handle") ?? "");
    if (!community) return notFound(c, "No such community on this instance.");
    const user = c.get("session")?.user;
    if (!user) return c.redirect(signInPath(c), 303);
    if (!await isSteward(c.get("deps").db, community, user)) return forbidden(c, `Only stewards of ${community.name} can add policies.`);
    return community;
  };

  pages.get("/actors/:handle/policies/new", async (c) => {
    const community = await stewardCommunity(c);
    if (!("handle" in community)) return community;
    return c.render(<NewPolicyPage community={community} />, { title: "New policy", community: pageCommunity(community) });
  });

  pages.post("/actors/:handle/policies/new", async (c) => {
    const community = await stewardCommunity(c);
    if (!("handle" in community)) return community;
    const fields = await formFields(c);
    const again = (state: FormState) => {
      c.status(400);
      return c.render(<NewPolicyPage community={community} state={state} />, { title: "New policy", community: pageCommunity(community) });
    };
    const slug = optional(fields.slug);
    const slugIssue = slug === undefined ? undefined : slugSchema.safeParse(slug).error?.issues[0]?.message;

    if (fields.mode === "import") {
      const { file: _file, ...values } = fields;
      const uploaded = await formFileText(c, "file");
      const source = uploaded ?? fields.source ?? "";
      if (!source.trim()) return again({ form: "import", values, errors: { source: "Choose a file or paste its text." } });
      if (slugIssue) return again({ form: "import", values, errors: { slug: slugIssue } });
      const filename = uploaded ? (((await c.req.parseBody({ all: true })).file as File | undefined)?.name ?? "") : "";
      const format = optional(fields.format) ?? detectFormat(filename, source);
      const input = { community: community.handle, format, source, slug, title: optional(fields.title), licence: optional(fields.licence) };
      const result = await submitForm(ImportRequest, input, async (data) => await importCommunityPolicy(c.get("deps").context, user(c), data));
      // A pasted source is kept for another try; an uploaded one is not echoed back.
      if (!result.ok) {
        const mapped = fieldErrorsFor(result);
        const errors = { ...mapped.errors };
        if (result.status === 409) errors.slug = result.problem.detail;
        return again({ form: "import", values: uploaded ? { ...values, source: "" } : values, errors, message: result.status === 409 ? undefined : mapped.message });
      }
      c.status(201);
      return c.render(<ImportReportView policy={result.data.policy} report={result.data.report} />, {
        title: `Imported ${result.data.policy.title}`,
        community: pageCommunity(community),
      });
    }

    if (slugIssue) return again({ form: "create", values: fields, errors: { slug: slugIssue } });
    const input = {
      community: community.handle,
      slug,
      content: { title: fields.title ?? "", summary: fields.summary ?? "", licence: fields.licence ?? "", clauses: [] },
    };
    const result = await submitForm(NewPolicy, input, async (data) => await createCommunityPolicy(c.get("deps").context, user(c), data));
    if (!result.ok) {
      const mapped = fieldErrorsFor(result, ["content."]);
      const errors = { ...mapped.errors };
      if (result.status === 409) errors.slug = result.problem.detail;
      return again({ form: "create", values: fields, errors, message: result.status === 409 ? undefined : mapped.message });
    }
    return redirectWithNotice(c, links.policyDraft(result.data.id), `Created “${result.data.title}”. Add clauses, then publish version 1.`);
  });

  /** The policy and its draft as the API gives it to this user (members read; stewards edit). */
  const loadDraft = async (c: Ctx): Promise<{ policy: Policy; draft: PolicyContent; steward: boolean } | Response> => {
    const { db } = c.get("deps");
    const policy = await findPolicyById(db, Number(c.req.param("id")));
    if (!policy) return notFound(c, "No such policy on this instance.");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const community = await localCommunityOf(db, policy);
    if (!community) return forbidden(c, "This is a copy of another instance's policy: fork it to edit it.");
    const user = c.get("session")?.user;
    try {
      return { policy, draft: await readDraft(c.get("deps").context, user, policy.id), steward: await isSteward(db, community, user) };
    } catch (error) {
      if (error instanceof FedalignError) return forbidden(c, error.message);
      throw error;
    }
  };

  const renderDraft = async (c: Ctx, loaded: { policy: Policy; draft: PolicyContent; steward: boolean }, state?: FormState) => {
    if (state) c.status(400);
    return c.render(<DraftPage
        policy={loaded.policy}
        draft={loaded.draft}
        steward={loaded.steward}
        latest={(await listVersions(c.get("deps").db, loaded.policy)).filter((v) => !v.retractedAt).at(-1)?.number}
        state={state}
      />, {
      title: `Draft of ${loaded.policy.title}`,
      community: await policyCommunity(c.get("deps").db, loaded.policy),
    });
  };

  pages.get("/policies/:id{[0-9]+}/draft", async (c) => {
    const loaded = await loadDraft(c);
    return loaded instanceof Response ? loaded : await renderDraft(c, loaded);
  });

  pages.post("/policies/:id{[0-9]+}/draft/metadata", async (c) => {
    const loaded = await loadDraft(c);
    if (loaded instanceof Response) return loaded;
    const fields = await formFields(c);
    const content = { ...loaded.draft, title: fields.title ?? "", summary: fields.summary ?? "", licence: fields.licence ?? "" };
    const result = await submitForm(policyContentSchema, content, async (data) => await replaceDraft(c.get("deps").context, user(c), loaded.policy.id, data));
    if (!result.ok) return await renderDraft(c, loaded, { form: "metadata", values: fields, ...fieldErrorsFor(result) });
    return redirectWithNotice(c, links.policyDraft(loaded.policy.id), "Saved the title, summary and licence.", "success", draftBlock.metadata);
  });

  pages.post("/policies/:id{[0-9]+}/draft/clauses", async (c) => {
    const loaded = await loadDraft(c);
    if (loaded instanceof Response) return loaded;
    const fields = await formFields(c);
    const clauseId = fields.clauseId ?? "";
    const existing = loaded.draft.clauses.find((clause) => clause.id === clauseId);
    if (!existing) return notFound(c, `The draft has no clause "${clauseId}".`);
    const clause = clauseFromForm(fields, existing);
    const result = await submitForm(clauseSchema, clause, async (data) => await putClause(c.get("deps").context, user(c), loaded.policy.id, clauseId, data));
    if (!result.ok) return await renderDraft(c, loaded, { form: `clause:${clauseId}`, values: fields, ...fieldErrorsFor(result) });
    return redirectWithNotice(c, links.policyDraft(loaded.policy.id), `Saved clause ${clauseId}.`, "success", draftBlock.clause(clauseId));
  });

  pages.post("/policies/:id{[0-9]+}/draft/clauses/new", async (c) => {
    const loaded = await loadDraft(c);
    if (loaded instanceof Response) return loaded;
    const fields = await formFields(c);
    const clauseId = (fields.id ?? "").trim();
    const state = (errors: Record<string, string>, message?: string): FormState => ({ form: "new-clause", values: fields, errors, message });
    if (!clauseId) return await renderDraft(c, loaded, state({ id: "must not be empty" }));
    if (loaded.draft.clauses.some((clause) => clause.id === clauseId)) {
      return await renderDraft(c, loaded, state({ id: `the draft already has a clause "${clauseId}"; choose another id` }));
    }
    const clause = clauseFromForm(fields, { id: clauseId });
    const result = await submitForm(clauseSchema, clause, async (data) => await putClause(c.get("deps").context, user(c), loaded.policy.id, clauseId, data));
    if (!result.ok) {
      const mapped = fieldErrorsFor(result);
      return await renderDraft(c, loaded, state(mapped.errors, mapped.message));
    }
    return redirectWithNotice(c, links.policyDraft(loaded.policy.id), `Added clause ${clauseId}.`, "success", draftBlock.clause(clauseId));
  });

  pages.post("/policies/:id{[0-9]+}/draft/clauses/remove", async (c) => {
    const loaded = await loadDraft(c);
    if (loaded instanceof Response) return loaded;
    const clauseId = (await formFields(c)).clauseId ?? "";
    const draftPage = links.policyDraft(loaded.policy.id);
    const result = await submitForm(z.string(), clauseId, async (id) => await removeClause(c.get("deps").context, user(c), loaded.policy.id, id));
    const here = loaded.draft.clauses.some((clause) => clause.id === clauseId) ? draftBlock.clause(clauseId) : draftBlock.clauses;
    if (!result.ok) return redirectWithNotice(c, draftPage, result.problem.detail, "error", here);
    // The reader stays where the clause was: next to the clause that now takes its place.
    const at = loaded.draft.clauses.findIndex((clause) => clause.id === clauseId);
    const neighbour = loaded.draft.clauses[at + 1] ?? loaded.draft.clauses[at - 1];
    return redirectWithNotice(c, draftPage, `Removed clause ${clauseId}.`, "success", neighbour ? draftBlock.clause(neighbour.id) : draftBlock.clauses);
  });

  pages.post("/policies/:id{[0-9]+}/publish", async (c) => {
    const loaded = await loadDraft(c);
    if (loaded instanceof Response) return loaded;
    const fields = await formFields(c);
    const result = await submitForm(PublishRequest, { message: optional(fields.message) }, async (data) =>
      await publishVersion(c.get("deps").context, user(c), loaded.policy.id, data),
    );
    if (!result.ok) return await renderDraft(c, loaded, { form: "publish", values: fields, ...fieldErrorsFor(result) });
    return redirectWithNotice(c, links.policy(loaded.policy.id), `Published version ${result.data.number}; it is on its way to the followers.`);
  });

  return pages;
}
