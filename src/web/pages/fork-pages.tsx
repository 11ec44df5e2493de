/**
 * Forks and their upstream: fork a policy into a community you steward, take
 * in upstream changes with a three-way merge (conflicts side by side, one
 * decision each), offer a fork's changes upstream, and decide on offers
 * received. Every action goes through the JSON API (src/api/fork-routes.ts,
 * src/api/offer-routes.ts) as the signed-in user.
 */
import { Hono, type Context } from "hono";
import type { Child } from "hono/jsx";
import { decideOffer, makeOffer, OfferDecisionInput, OfferRequest, policyOffers, type OfferDetails } from "../../app/offers.ts";
import { forkPolicyVersion, forkUpstream, mergeUpstreamIntoFork } from "../../app/forks.ts";
import { stewardedCommunities } from "../../app/permissions.ts";
import { ForkRequest, MergeRequest } from "../../app/policy-inputs.ts";
import { ActionButton, DateTime, Field, FormError, PostForm, Select, TextArea } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, formValues, optional, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { ClauseSummary, MarkedText, policyCommunity } from "../policy-components.tsx";
import { OperationDiff } from "../diff-components.tsx";
import { Term } from "../glossary.tsx";
import { findPolicyByIri, getPolicyById, listCommunityPolicies, listVersions, slugFromTitle, type Policy } from "../../policies/policies.ts";
import { forkChanges } from "../../policies/offers.ts";
import type { Conflict, MergeResult, MetadataValue } from "../../policies/merge.ts";
import type { UpstreamStatus } from "../../policies/forks.ts";
import type { Clause, Section } from "../../policies/content.ts";
import type { ChangeSet, Operation } from "../../policies/changeset.ts";
import { FedalignError } from "../../errors.ts";

type Errors = Record<string, string>;

/** Sends signed-out visitors to the sign-in page. */
function needSignIn(c: Context<WebEnv>): Response | undefined {
  return c.get("session") ? undefined : c.redirect(signInPath(c), 303);
}

const myCommunities = async (c: Context<WebEnv>) => await stewardedCommunities(c.get("deps").db, c.get("session")?.user);

async function policyParam(c: Context<WebEnv>): Promise<Policy> {
  const id = Number(c.req.param("id"));
  if (!Number.isSafeInteger(id) || id <= 0) throw new FedalignError("No such policy.", 404);
  return await getPolicyById(c.get("deps").db, id);
}

// ---------------------------------------------------------------- fork

function ForkForm(props: { policy: Policy; communities: { handle: string; name: string }[]; values: Record<string, string>; errors: Errors; message?: string; versions: { iri: string; number: number }[] }) {
  const { policy, values, errors } = props;
  return (
    <>
      <h1>Fork “{policy.title}”</h1>
      <p>
        A <Term name="fork">fork</Term> is your community's own copy of this policy. It remembers where it came from, so you can take in later{" "}
        <Term name="upstream">upstream</Term> versions and offer your changes back. <a href={links.policy(policy.id)}>Back to the policy</a>.
      </p>
      <FormError message={props.message} />
      {props.communities.length === 0 ? (
        <p class="notice notice-error">You steward no community on this instance, so there is nowhere to fork into.</p>
      ) : props.versions.length === 0 ? (
        <p class="notice notice-error">No published version of this policy is held here yet; a fork starts from a published version.</p>
      ) : (
        <PostForm action={links.policyFork(policy.id)} label="Fork this policy">
          <Select
            name="version"
            label="Version to fork"
            options={props.versions.map((v) => ({ value: v.iri, label: `Version ${v.number}` }))}
            value={values.version}
            error={errors.version}
          />
          <Select
            name="into"
            label="Into community"
            hint="Communities you steward."
            options={props.communities.map((community) => ({ value: community.handle, label: `${community.name} (${community.handle})` }))}
            value={values.into}
            error={errors.into}
            required
          />
          <Field
            name="slug"
            label="Slug"
            hint="The last part of the fork's address: lower-case letters, digits and hyphens. Leave empty to derive it from the title."
            value={values.slug}
            placeholder={slugFromTitle(policy.title)}
            error={errors.slug}
          />
          <button type="submit">Fork policy</button>
        </PostForm>
      )}
    </>
  );
}

// ---------------------------------------------------------------- merge

function sideLabel(side: "base" | "ours" | "theirs"): string {
  return side === "base" ? "Base (last merged upstream)" : side === "ours" ? "Ours (your draft)" : "Theirs (upstream)";
}

function SectionView(props: { section: Section | undefined; against?: Section }) {
  if (!props.section) return <p class="muted">Removed.</p>;
  return (
    <div class="clause-box">
      <p>
        <code>{props.section.id}</code> <strong><MarkedText text={props.section.title} against={props.against?.title} /></strong>
      </p>
      {props.section.text ? <p><MarkedText text={props.section.text} against={props.against?.text} /></p> : null}
    </div>
  );
}

function MetadataView(props: { value: MetadataValue; against?: MetadataValue }) {
  if (typeof props.value === "string") {
    return <p><MarkedText text={props.value} against={typeof props.against === "string" ? props.against : undefined} /></p>;
  }
  return <pre>{JSON.stringify(props.value, null, 2)}</pre>;
}

function fieldName(prefix: string, key: string): string {
  return `${prefix}:${key}`;
}

function ConflictBlock(props: { conflict: Conflict; index: number; values: Record<string, string>; errors: Errors }) {
  const { conflict, values, errors } = props;
  const choiceName = fieldName("choice", conflict.key);
  const textName = fieldName("text", conflict.key);
  const chosen = values[choiceName] ?? "";
  const columns: Child[] = (["base", "ours", "theirs"] as const).map((side) => {
    let body: Child;
    if (conflict.target === "clause") {
      body = <ClauseSummary clause={conflict[side]} against={side === "base" ? undefined : conflict.base} absent={side === "base" ? "Not in the base (added)." : "Removed."} />;
    } else if (conflict.target === "section") {
      body = <SectionView section={conflict[side]} against={side === "base" ? undefined : conflict.base} />;
    } else {
      body = <MetadataView value={conflict[side]} against={side === "base" ? undefined : conflict.base} />;
    }
    return (
      <div class={`merge-side merge-${side}`}>
        <h4>{sideLabel(side)}</h4>
        {body}
      </div>
    );
  });
  const what = conflict.target === "clause" ? `Clause ${conflict.clauseId}` : conflict.target === "section" ? `Section ${conflict.sectionId}` : `Policy ${conflict.field}`;
  const editable = conflict.target === "clause" && (conflict.ours ?? conflict.theirs) !== undefined;
  const editStart = conflict.target === "clause" ? (conflict.ours ?? conflict.theirs)?.text ?? "" : "";
  const errorId = `conflict-${props.index}-error`;
  const choiceError = errors[choiceName];
  return (
    <section class="card merge-conflict" aria-labelledby={`conflict-${props.index}`}>
      <h3 id={`conflict-${props.index}`}>
        {what} <span class="muted">({conflict.kind} conflict{conflict.fields.length ? `: ${conflict.fields.join(", ")}` : ""})</span>
      </h3>
      <div class="merge-columns">{columns}</div>
      <fieldset class="field" aria-describedby={choiceError ? errorId : undefined}>
        <legend>Keep for {what}</legend>
        <label class="choice">
          <input type="radio" name={choiceName} value="ours" checked={chosen === "ours"} /> Ours {conflict.target !== "metadata" && !conflict.ours ? "(remove it)" : ""}
        </label>
        <label class="choice">
          <input type="radio" name={choiceName} value="theirs" checked={chosen === "theirs"} /> Theirs{" "}
          {conflict.target !== "metadata" && !conflict.theirs ? "(remove it)" : ""}
        </label>
        {editable ? (
          <label class="choice">
            <input type="radio" name={choiceName} value="edited" checked={chosen === "edited"} /> Edited text (below)
          </label>
        ) : null}
        {choiceError ? (
          <p class="field-error" id={errorId}>
            {choiceError}
          </p>
        ) : null}
      </fieldset>
      {editable ? (
        <TextArea
          name={textName}
          id={`text-${props.index}`}
          label={`Edited text of ${what}`}
          hint="Used when you choose “Edited text”; the rest of the clause is kept as in your draft."
          value={values[textName] ?? editStart}
          error={errors[textName]}
          rows={4}
        />
      ) : null}
    </section>
  );
}

function CleanChanges(props: { status: UpstreamStatus; merge: MergeResult }) {
  const { merge, status } = props;
  const changes = status.changes;
  const edited = new Map((changes?.clauses.edited ?? []).map((edit) => [edit.id, edit]));
  const added = new Map((changes?.clauses.added ?? []).map((item) => [item.id, item.clause]));
  const removed = new Map((changes?.clauses.removed ?? []).map((item) => [item.id, item.clause]));
  const fromTheirs = merge.clean.fromTheirs;
  const sectionsAndMetadata = [...merge.clean.sections.fromTheirs.map((id) => `section ${id}`), ...merge.clean.metadata.fromTheirs.map((field) => `policy ${field}`)];
  if (fromTheirs.length === 0 && sectionsAndMetadata.length === 0) return <p>No upstream change applies cleanly; everything upstream changed is either already in your draft or in conflict.</p>;
  return (
    <>
      <ul class="merge-clean">
        {fromTheirs.map((id) => {
          const edit = edited.get(id);
          if (edit?.text) {
            return (
              <li>
                <strong>Edited</strong> <code>{id}</code>:{" "}
                {edit.text.map((part) => (part.kind === "added" ? <ins>{part.value}</ins> : part.kind === "removed" ? <del>{part.value}</del> : part.value))}
              </li>
            );
          }
          if (edit) return <li><strong>Edited</strong> <code>{id}</code> ({edit.changes.join(", ")})</li>;
          if (added.has(id)) return <li><strong>Added</strong> <code>{id}</code>: <ins>{added.get(id)!.text}</ins></li>;
          if (removed.has(id)) return <li><strong>Removed</strong> <code>{id}</code>: <del>{removed.get(id)!.text}</del></li>;
          return <li><code>{id}</code></li>;
        })}
        {sectionsAndMetadata.map((what) => <li>Changed {what}</li>)}
      </ul>
    </>
  );
}

function MergePage(props: { policy: Policy; status: UpstreamStatus; upstream: Policy | undefined; behind: number; values: Record<string, string>; errors: Errors; message?: string }) {
  const { policy, status, values, errors } = props;
  const merge = status.merge;
  return (
    <>
      <h1>Upstream changes for “{policy.title}”</h1>
      <p>
        Upstream:{" "}
        {props.upstream ? <a href={links.policy(props.upstream.id)}>{props.upstream.title}</a> : <span>{status.upstream}</span>}{" "}
        <span class="muted">({status.upstream})</span>
      </p>
      <div class="panel" role="status" aria-live="polite">
        <p>
          Merged up to upstream version {status.base.number}.{" "}
          {status.upToDate ? (
            <strong>Up to date with upstream.</strong>
          ) : (
            <strong>
              {props.behind} version{props.behind === 1 ? "" : "s"} behind: upstream is at version {status.head?.number}.
            </strong>
          )}
        </p>
        {status.pendingMerge ? <p>A merge of {status.pendingMerge} is in the draft, waiting to be published.</p> : null}
      </div>
      <FormError message={props.message} />
      {merge && !status.upToDate ? (
        <PostForm action={links.policyMerge(policy.id)} label="Merge upstream into the draft" class="merge-form">
          <h2>What merging changes in your draft</h2>
          <CleanChanges status={status} merge={merge} />
          <h2>
            Conflicts <span class="muted">({merge.conflicts.length})</span>
          </h2>
          {merge.conflicts.length === 0 ? (
            <p>No conflicts: upstream's changes and yours touch different clauses.</p>
          ) : (
            <>
              <p>Both sides changed these differently since the base. Words that differ from the base are highlighted. Choose what to keep for each.</p>
              {merge.conflicts.map((conflict, index) => (
                <ConflictBlock conflict={conflict} index={index} values={values} errors={errors} />
              ))}
            </>
          )}
          <button type="submit">Merge into draft</button>
          <p class="hint muted">The merge goes into the draft; publish the draft to make it a version that names both parents.</p>
        </PostForm>
      ) : null}
      <p>
        <a href={links.policyDraft(policy.id)}>Open the draft</a> · <a href={links.policyNewOffer(policy.id)}>Offer your changes upstream</a>
      </p>
    </>
  );
}

async function loadMerge(c: Context<WebEnv>, policy: Policy) {
  const status: UpstreamStatus = await forkUpstream(c.get("deps").context, policy.id);
  const { db } = c.get("deps");
  const upstream = await findPolicyByIri(db, status.upstream);
  const behind = upstream && status.head ? (await listVersions(db, upstream)).filter((v) => !v.retractedAt && v.number > status.base.number).length : 0;
  return { status, upstream, behind };
}

/** The form's choices as the API's `resolutions`, or errors next to the conflicts left undecided. */
function resolutionsFrom(conflicts: Conflict[], fields: Record<string, string>): { resolutions: Record<string, unknown>; errors: Errors } {
  const resolutions: Record<string, unknown> = {};
  const errors: Errors = {};
  for (const conflict of conflicts) {
    const choice = fields[fieldName("choice", conflict.key)];
    if (choice === "ours" || choice === "theirs") resolutions[conflict.key] = conflict.target !== "metadata" && !conflict[choice] ? null : choice;
    else if (choice === "edited" && conflict.target === "clause") {
      const start = (conflict.ours ?? conflict.theirs) as Clause;
      resolutions[conflict.key] = { ...start, text: fields[fieldName("text", conflict.key)] ?? "" };
    } else errors[fieldName("choice", conflict.key)] = "Choose ours, theirs or an edited text.";
  }
  return { resolutions, errors };
}

/** "resolutions.x.text" → "text:x"; other paths → the conflict's choice. */
function mergeFieldErrors(conflicts: Conflict[], fieldErrors: Record<string, string>): Errors {
  const errors: Errors = {};
  for (const [path, message] of Object.entries(fieldErrors)) {
    if (!path.startsWith("resolutions.")) continue;
    const rest = path.slice("resolutions.".length);
    const conflict = conflicts.find((x) => rest === x.key || rest.startsWith(`${x.key}.`));
    if (!conflict) continue;
    const field = rest.slice(conflict.key.length + 1);
    errors[field === "text" ? fieldName("text", conflict.key) : fieldName("choice", conflict.key)] ??= field && field !== "text" ? `${field}: ${message}` : message;
  }
  return errors;
}

// ---------------------------------------------------------------- offers


function operationClauseId(op: Operation): string | undefined {
  return op.op === "add" ? op.clause.id : op.op === "reorder" ? undefined : op.id;
}

function NewOfferPage(props: { policy: Policy; changes: ChangeSet | undefined; unavailable?: string; values: { clauses: string[]; message: string }; errors: Errors; message?: string }) {
  const { policy, changes, errors } = props;
  const clauseOps = (changes?.operations ?? []).filter((op) => operationClauseId(op) !== undefined);
  return (
    <>
      <h1>Offer changes of “{policy.title}” upstream</h1>
      <p>
        An <Term name="offer">offer</Term> sends your fork's published changes to the <Term name="upstream">upstream</Term> community, whose stewards accept them into their draft or reject them with a reason.{" "}
        <a href={links.policy(policy.id)}>Back to the policy</a>.
      </p>
      <FormError message={props.message} />
      {props.unavailable ? (
        <p class="notice notice-error">{props.unavailable}</p>
      ) : (
        <PostForm action={links.policyNewOffer(policy.id)} label="Offer changes upstream">
          <fieldset class="field" aria-describedby={errors.clauses ? "clauses-error" : undefined}>
            <legend>Clauses to offer</legend>
            <p class="hint">Clauses your latest published version changed since the upstream version you last merged.</p>
            {clauseOps.map((op) => {
              const id = operationClauseId(op)!;
              return (
                <div class="offer-choice">
                  <label class="choice">
                    <input type="checkbox" name="clauses" value={id} checked={props.values.clauses.includes(id)} /> Offer <code>{id}</code>
                  </label>
                  <OperationDiff operation={op} />
                </div>
              );
            })}
            {errors.clauses ? (
              <p class="field-error" id="clauses-error">
                {errors.clauses}
              </p>
            ) : null}
          </fieldset>
          <TextArea name="message" label="Summary" hint="What the change is and why upstream might want it." value={props.values.message} error={errors.message} rows={4} />
          <button type="submit">Send offer upstream</button>
        </PostForm>
      )}
    </>
  );
}

type OfferView = OfferDetails;

function OfferCard(props: { offer: OfferView; policy: Policy; proposals: boolean }) {
  const { offer, policy } = props;
  const pending = offer.direction === "incoming" && offer.state === "pending";
  return (
    <article class="card offer">
      <h3>
        {offer.direction === "incoming" ? (
          <>
            To <a href={links.policy(policy.id)}>{policy.title}</a> from <a href={offer.origin}>{offer.origin}</a>
          </>
        ) : (
          <>
            From <a href={links.policy(policy.id)}>{policy.title}</a> to <a href={offer.target}>{offer.target}</a>
          </>
        )}
      </h3>
      <p>
        <span class={`tag offer-${offer.state}`}>{offer.state}</span> {offer.summary} · <DateTime value={offer.createdAt} />
      </p>
      {offer.message ? <p class="offer-message">{offer.message}</p> : null}
      {offer.reason ? <p>Reason: {offer.reason}</p> : null}
      {offer.changes.operations.map((op) => (
        <OperationDiff operation={op} />
      ))}
      {offer.preview?.conflicts.length ? (
        <p class="notice notice-error">
          No longer applies cleanly to the draft: {offer.preview.conflicts.map((x) => `${x.id} (${x.reason})`).join("; ")}.
        </p>
      ) : null}
      {pending ? (
        <div class="offer-actions">
          <ActionButton action="/offers/decide" label="Accept into draft" fields={{ offer: offer.iri, decision: "accept" }} />
          {props.proposals ? <ActionButton action="/offers/decide" label="Accept as proposal" fields={{ offer: offer.iri, decision: "proposal" }} variant="secondary" /> : null}
          <PostForm action="/offers/decide" class="inline" label="Reject this offer">
            <input type="hidden" name="offer" value={offer.iri} />
            <input type="hidden" name="decision" value="reject" />
            <label for={`reason-${offer.iri}`}>Reason for rejecting</label>{" "}
            <input type="text" id={`reason-${offer.iri}`} name="reason" />
            <button type="submit" class="danger">
              Reject
            </button>
          </PostForm>
        </div>
      ) : null}
    </article>
  );
}

// ---------------------------------------------------------------- routes

export function forkPages() {
  const pages = new Hono<WebEnv>();

  const forkForm = async (c: Context<WebEnv>, policy: Policy, values: Record<string, string>, errors: Errors, message?: string) => {
    const versions = (await listVersions(c.get("deps").db, policy))
      .filter((v) => !v.retractedAt)
      .reverse()
      .map((v) => ({ iri: v.iri, number: v.number }));
    const communities = (await myCommunities(c)).filter((community) => community.id !== policy.communityId);
    if (message || Object.keys(errors).length) c.status(400);
    return c.render(<ForkForm policy={policy} communities={communities} values={values} errors={errors} message={message} versions={versions} />, {
      title: `Fork ${policy.title}`,
      community: await policyCommunity(c.get("deps").db, policy),
    });
  };

  pages.get("/policies/:id/fork", async (c) => needSignIn(c) ?? await forkForm(c, await policyParam(c), {}, {}));

  pages.post("/policies/:id/fork", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyParam(c);
    const fields = await formFields(c);
    const input = { version: fields.version ?? "", into: fields.into ?? "", slug: optional(fields.slug) };
    const result = await submitForm(ForkRequest, input, async (data) => await forkPolicyVersion(c.get("deps").context, c.get("session")?.user, data));
    if (!result.ok) {
      const errors = { ...result.fieldErrors };
      // A slug already taken is a rule of the domain, not of the schema: show it beside the field too.
      if (!errors.slug && /slug/i.test(result.problem.detail)) errors.slug = result.problem.detail;
      return await forkForm(c, policy, fields, errors, Object.keys(errors).length ? "The fork was not made; see the fields marked below." : result.problem.detail);
    }
    return redirectWithNotice(c, links.policy(result.data.id), `Forked “${policy.title}” into ${fields.into}.`);
  });

  const mergePage = async (c: Context<WebEnv>, policy: Policy, values: Record<string, string>, errors: Errors, message?: string) => {
    const { status, upstream, behind } = await loadMerge(c, policy);
    if (message || Object.keys(errors).length) c.status(400);
    return c.render(<MergePage policy={policy} status={status} upstream={upstream} behind={behind} values={values} errors={errors} message={message} />, {
      title: `Upstream changes for ${policy.title}`,
      community: await policyCommunity(c.get("deps").db, policy),
    });
  };

  pages.get("/policies/:id/merge", async (c) => (needSignIn(c) ?? (await mergePage(c, await policyParam(c), {}, {}))));

  pages.post("/policies/:id/merge", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyParam(c);
    const fields = await formFields(c);
    const { status } = await loadMerge(c, policy);
    const conflicts = status.merge?.conflicts ?? [];
    const { resolutions, errors } = resolutionsFrom(conflicts, fields);
    if (Object.keys(errors).length) return await mergePage(c, policy, fields, errors, "Choose what to keep for every conflict.");
    const input = conflicts.length ? { resolutions } : {};
    const result = await submitForm(MergeRequest, input, async (data) =>
      await mergeUpstreamIntoFork(c.get("deps").context, c.get("session")?.user, policy.id, data.resolutions),
    );
    if (!result.ok) return await mergePage(c, policy, fields, mergeFieldErrors(conflicts, result.fieldErrors), result.problem.detail);
    return redirectWithNotice(
      c,
      links.policyDraft(policy.id),
      `Merged upstream version ${status.head?.number} into the draft${conflicts.length ? ` (${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"} resolved)` : ""}. Publish the draft to make it a version.`,
    );
  });

  const offerForm = async (c: Context<WebEnv>, policy: Policy, values: { clauses: string[]; message: string } | undefined, errors: Errors, message?: string) => {
    let changes: ChangeSet | undefined;
    let unavailable: string | undefined;
    try {
      changes = await forkChanges(c.get("deps").db, policy);
    } catch (error) {
      if (!(error instanceof FedalignError)) throw error;
      unavailable = error.message;
    }
    const all = (changes?.operations ?? []).map(operationClauseId).filter((id): id is string => id !== undefined);
    if (message || Object.keys(errors).length) c.status(400);
    return c.render(
      <NewOfferPage policy={policy} changes={changes} unavailable={unavailable} values={values ?? { clauses: all, message: "" }} errors={errors} message={message} />,
      { title: `Offer changes of ${policy.title}`, community: await policyCommunity(c.get("deps").db, policy) },
    );
  };

  pages.get("/policies/:id/offers/new", async (c) => needSignIn(c) ?? await offerForm(c, await policyParam(c), undefined, {}));

  pages.post("/policies/:id/offers/new", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const policy = await policyParam(c);
    const fields = await formFields(c);
    const chosen = await formValues(c, "clauses");
    let all: string[] = [];
    try {
      all = (await forkChanges(c.get("deps").db, policy)).operations.map(operationClauseId).filter((id): id is string => id !== undefined);
    } catch {
      // The API call below reports why.
    }
    // Everything chosen: offer the whole change set (including any reordering); else only those clauses.
    const everything = chosen.length > 0 && all.every((id) => chosen.includes(id));
    const input = { message: optional(fields.message), clauses: everything ? undefined : chosen };
    const result = await submitForm(OfferRequest, input, async (data) => await makeOffer(c.get("deps").context, c.get("session")?.user, policy.id, data));
    const values = { clauses: chosen, message: fields.message ?? "" };
    if (!result.ok) {
      const errors = { ...result.fieldErrors };
      if (errors.clauses) errors.clauses = chosen.length === 0 ? "Choose at least one clause to offer." : errors.clauses;
      return await offerForm(c, policy, values, errors, result.problem.detail);
    }
    return redirectWithNotice(c, links.offers(), `Offered ${everything ? "your changes" : chosen.join(", ")} upstream.`);
  });

  pages.get("/offers", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const { db } = c.get("deps");
    const communities = await myCommunities(c);
    const incoming: { offer: OfferView; policy: Policy }[] = [];
    const outgoing: { offer: OfferView; policy: Policy }[] = [];
    for (const community of communities) {
      for (const policy of await listCommunityPolicies(db, community)) {
        for (const offer of await policyOffers(c.get("deps").context, policy.id)) {
          (offer.direction === "incoming" ? incoming : outgoing).push({ offer, policy });
        }
      }
    }
    const byNewest = (a: { offer: OfferView }, b: { offer: OfferView }) => b.offer.createdAt.localeCompare(a.offer.createdAt);
    incoming.sort(byNewest);
    outgoing.sort(byNewest);
    const proposals = true; // POST /offers/accept takes `asProposal` (src/api/offer-routes.ts).
    return c.render(
      <>
        <h1>Offers</h1>
        <p>
          Changes offered to the policies of communities you <Term name="steward">steward</Term>, and <Term name="offer">offers</Term> your communities made
          upstream.
        </p>
        {communities.length === 0 ? <p class="muted">You steward no community on this instance.</p> : null}
        <h2>
          Incoming <span class="muted">({incoming.filter((x) => x.offer.state === "pending").length} pending)</span>
        </h2>
        {incoming.length === 0 ? <p class="muted">No offers received.</p> : incoming.map(({ offer, policy }) => <OfferCard offer={offer} policy={policy} proposals={proposals} />)}
        <h2>
          Outgoing <span class="muted">({outgoing.length})</span>
        </h2>
        {outgoing.length === 0 ? <p class="muted">No offers made.</p> : outgoing.map(({ offer, policy }) => <OfferCard offer={offer} policy={policy} proposals={false} />)}
      </>,
      { title: "Offers" },
    );
  });

  pages.post("/offers/decide", async (c) => {
    const signIn = needSignIn(c);
    if (signIn) return signIn;
    const fields = await formFields(c);
    const decision = fields.decision;
    const offer = fields.offer ?? "";
    const input =
      decision === "reject" ? { offer, reason: optional(fields.reason) } : { offer, asProposal: decision === "proposal" ? true : undefined };
    const result = await submitForm(OfferDecisionInput, input, async (data) =>
      await decideOffer(c.get("deps").context, c.get("session")?.user, decision === "reject" ? "reject" : "accept", data),
    );
    if (!result.ok) return redirectWithNotice(c, links.offers(), result.problem.detail, "error");
    const text = decision === "reject" ? "Rejected the offer." : decision === "proposal" ? "Accepted the offer as a proposal for the members to vote on." : "Accepted the offer; its changes are in the draft.";
    return redirectWithNotice(c, links.offers(), text);
  });

  return pages;
}
