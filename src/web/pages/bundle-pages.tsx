/**
 * The bundle page: choose sources among the policies this instance holds
 * (its own and followed ones, at any version), a target context, see the
 * effective policy (clauses in precedence order with their provenance) and
 * its conflicts, then download the signed bundle. Works signed out: bundles
 * are public. The preview and the download are the use cases the bundle API
 * calls (src/app/bundles.ts), with its query schema.
 */
import { Hono, type Context } from "hono";
import { BundleQuery, exportBundle, previewBundle, type BundlePreview } from "../../app/bundles.ts";
import { Field, FormError } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { links } from "../links.ts";
import { AuthorityTag } from "../policy-components.tsx";
import { redirectWithNotice, submitForm } from "../forms.ts";
import { listCommunities } from "../../communities.ts";
import { listCommunityPolicies, listMirroredPolicies, listVersions, type Policy } from "../../policies/policies.ts";
import { FACETS, type Conflict, type Provenance } from "../../bundles/compose.ts";

type Errors = Record<string, string>;

interface Held {
  policy: Policy;
  local: boolean;
  versions: number[];
}

type Preview = BundlePreview;

interface Choice {
  /** Policy ids, highest precedence first. */
  sources: { policyId: number; version?: number; rank?: number }[];
  facets: Record<string, string>;
  raw: Record<string, string>;
}

const FACET_HINTS: Record<string, string> = {
  domain: "e.g. health, education, legal",
  audience: "e.g. patients, children, clinicians",
  locale: "a BCP 47 language tag: en, sw, pt-BR",
  deployment: "e.g. chat, api, voice",
};

function heldPolicies(c: Context<WebEnv>): Held[] {
  const { db } = c.get("deps");
  const local = listCommunities(db).flatMap((community) => listCommunityPolicies(db, community));
  const mirrored = listMirroredPolicies(db);
  return [...local.map((policy) => ({ policy, local: true })), ...mirrored.map((policy) => ({ policy, local: false }))]
    .map(({ policy, local: isLocal }) => ({
      policy,
      local: isLocal,
      versions: listVersions(db, policy)
        .filter((v) => !v.retractedAt)
        .map((v) => v.number)
        .reverse(),
    }))
    .filter((held) => held.versions.length > 0);
}

/** What the query string asks for: checked sources with their version and rank, and the facets. */
function readChoice(c: Context<WebEnv>): Choice {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(c.req.query())) raw[key] = value;
  const ids = (c.req.queries("source") ?? []).map(Number).filter((id) => Number.isSafeInteger(id) && id > 0);
  const sources = [...new Set(ids)].map((policyId, index) => {
    const version = Number(raw[`version-${policyId}`]);
    const rank = Number(raw[`rank-${policyId}`]);
    return {
      policyId,
      version: Number.isSafeInteger(version) && version > 0 ? version : undefined,
      rank: raw[`rank-${policyId}`]?.trim() && Number.isFinite(rank) ? rank : undefined,
      index,
    };
  });
  // Lower rank first; unranked after ranked, in the order listed.
  sources.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.index - b.index);
  const facets: Record<string, string> = {};
  for (const facet of FACETS) {
    const value = raw[facet]?.trim();
    if (value) facets[facet] = value;
  }
  return { sources, facets, raw };
}

/** The choice as the bundle API's query (src/app/bundles.ts `BundleQuery`), before validation. */
function bundleQuery(choice: Choice, extra: Record<string, string> = {}): Record<string, string> {
  const sources = choice.sources.map((s) => (s.version === undefined ? `${s.policyId}` : `${s.policyId}@${s.version}`)).join(",");
  return { sources, ...choice.facets, ...extra };
}

function ownerLabel(iri: string): string {
  const url = new URL(iri);
  return `${url.pathname.split("/").filter(Boolean).pop() ?? iri}@${url.host}`;
}

function SourcesField(props: { held: Held[]; choice: Choice; error?: string }) {
  const checked = new Map(props.choice.sources.map((s) => [s.policyId, s]));
  return (
    <fieldset class="field" aria-describedby={props.error ? "sources-error" : undefined}>
      <legend>Sources</legend>
      <p class="hint">
        Policies held on this instance: its own and the ones it follows. Give a precedence number to order them (1 is highest); otherwise they rank in the
        order listed.
      </p>
      {props.held.length === 0 ? <p class="muted">This instance holds no published policy yet.</p> : null}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Include</th>
              <th scope="col">Version</th>
              <th scope="col">Precedence</th>
            </tr>
          </thead>
          <tbody>
            {props.held.map(({ policy, local, versions }) => {
              const chosen = checked.get(policy.id);
              return (
                <tr class="source-row">
                  <td>
                    <label class="choice">
                      <input type="checkbox" name="source" value={String(policy.id)} checked={chosen !== undefined} /> {policy.title}{" "}
                      <span class="muted">
                        ({local ? "this instance" : "followed"}, {ownerLabel(policy.ownerIri)})
                      </span>
                    </label>
                  </td>
                  <td>
                    <label for={`version-${policy.id}`} class="visually-hidden">
                      Version of {policy.title}
                    </label>
                    <select id={`version-${policy.id}`} name={`version-${policy.id}`}>
                      <option value="">Newest (v{versions[0]})</option>
                      {versions.map((n) => (
                        <option value={String(n)} selected={chosen?.version === n}>
                          Version {n}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <label for={`rank-${policy.id}`} class="visually-hidden">
                      Precedence of {policy.title}
                    </label>
                    <input type="number" min={1} class="rank" id={`rank-${policy.id}`} name={`rank-${policy.id}`} value={props.choice.raw[`rank-${policy.id}`] ?? ""} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {props.error ? (
        <p class="field-error" id="sources-error">
          {props.error}
        </p>
      ) : null}
    </fieldset>
  );
}

function ProvenanceList(props: { provenance: Provenance[]; preview: Preview; titles: Map<string, string> }) {
  return (
    <p class="provenance">
      From{" "}
      {props.provenance.map((p, i) => {
        const chosen = props.preview.chosen.find((x) => x.versionIri === p.versionIri);
        return (
          <>
            {i > 0 ? ", " : ""}
            {chosen ? <a href={links.policy(chosen.policyId, chosen.version)}>{props.titles.get(p.sourceId) ?? p.sourceId} v{chosen.version}</a> : p.versionIri}{" "}
            ({ownerLabel(p.community)})
          </>
        );
      })}
    </p>
  );
}

function ConflictItem(props: { conflict: Conflict; preview: Preview; titles: Map<string, string> }) {
  const { conflict } = props;
  const from = (provenance: Provenance[]) => provenance.map((p) => props.titles.get(p.sourceId) ?? p.sourceId).join(", ");
  if (conflict.kind === "same-id-different-text") {
    return (
      <li>
        <strong>Same clause, different text:</strong> <code>{conflict.clauseId}</code> differs in {conflict.differs.join(", ")} between{" "}
        {conflict.variants.map((v) => from(v.provenance)).join(" and ")}. Every variant is kept below.
      </li>
    );
  }
  if (conflict.kind === "declared") {
    return (
      <li>
        <strong>Declared conflict:</strong> <code>{conflict.clauseId}</code> ({from(conflict.provenance)}) conflicts with <code>{conflict.withClauseId}</code> (
        {from(conflict.withProvenance)}){conflict.mutual ? ", declared by both" : ""}.
      </li>
    );
  }
  return (
    <li>
      <strong>Objection</strong> to <code>{conflict.clauseId}</code> ({from(conflict.provenance)}) by {conflict.objection.author}: {conflict.objection.text}
    </li>
  );
}

function EffectiveView(props: { preview: Preview; choice: Choice }) {
  const { preview } = props;
  const titles = new Map(preview.sources.map((s) => [s.id, s.title]));
  for (const s of preview.excludedSources) titles.set(s.id, s.title);
  return (
    <section aria-labelledby="effective">
      <h2 id="effective">Effective policy</h2>
      <p>
        {preview.summary.clauses} clause{preview.summary.clauses === 1 ? "" : "s"} from {preview.summary.includedSources} source
        {preview.summary.includedSources === 1 ? "" : "s"}
        {preview.summary.excludedClauses ? `; ${preview.summary.excludedClauses} left out for this context` : ""}
        {preview.summary.deduplicated ? `; ${preview.summary.deduplicated} identical copies folded` : ""}.
      </p>
      <form method="get" action="/bundle/download" class="panel" aria-label="Download the bundle">
        {props.choice.sources.map((s) => (
          <input type="hidden" name="source" value={String(s.policyId)} />
        ))}
        {Object.entries(props.choice.raw)
          .filter(([key]) => key !== "source" && key !== "preferences" && key !== "systemPrompt" && key !== "keepFlawed")
          .map(([key, value]) => (
            <input type="hidden" name={key} value={value} />
          ))}
        <label class="choice">
          <input type="checkbox" name="preferences" value="true" /> Include preference records whose raters consented to training and sharing
        </label>
        <label class="choice">
          <input type="checkbox" name="keepFlawed" value="true" /> Keep records a training pipeline would trip on (empty answers, turns out of order); they are reported either way
        </label>
        <label class="choice">
          <input type="checkbox" name="systemPrompt" value="full" /> Full system prompt (titles, rationale and examples) instead of the compact one
        </label>
        <button type="submit">Download bundle (.tar.gz)</button>
        <p class="hint muted">
          Signed by this instance. Check it with <code>fedalign bundle verify &lt;dir&gt;</code> after unpacking.
        </p>
      </form>
      <h3 id="conflicts">
        Conflicts <span class="muted">({preview.conflicts.length})</span>
      </h3>
      {preview.conflicts.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="bundle-conflicts">
          {preview.conflicts.map((conflict) => (
            <ConflictItem conflict={conflict} preview={preview} titles={titles} />
          ))}
        </ul>
      )}
      <h3>Clauses in precedence order</h3>
      <ol class="effective-clauses">
        {preview.clauses.map((clause) => (
          <li class="clause">
            <p>
              <AuthorityTag level={clause.authority} /> <code>{clause.id}</code>
              {clause.title ? <strong> {clause.title}</strong> : null}
            </p>
            <p>{clause.text}</p>
            <ProvenanceList provenance={clause.provenance} preview={preview} titles={titles} />
            {clause.objections.map((o) => (
              <p class="notice notice-error">Objection by {o.author}: {o.text}</p>
            ))}
          </li>
        ))}
      </ol>
      {preview.excludedSources.length || preview.excludedClauses.length ? (
        <>
          <h3>Left out for this context</h3>
          <ul>
            {preview.excludedSources.map((s) => (
              <li>
                {s.title}: {s.reason}
              </li>
            ))}
            {preview.excludedClauses.map((x) => (
              <li>
                <code>{x.clauseId}</code> ({titles.get(x.sourceId) ?? x.sourceId}): {x.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

export function bundlePages() {
  const pages = new Hono<WebEnv>();

  pages.get("/bundle", async (c) => {
    const held = heldPolicies(c);
    const choice = readChoice(c);
    const asked = c.req.query("show") !== undefined || choice.sources.length > 0;
    let preview: Preview | undefined;
    let errors: Errors = {};
    let message: string | undefined;
    if (asked) {
      if (choice.sources.length === 0) errors = { sources: "Choose at least one policy." };
      else {
        const result = await submitForm(BundleQuery, bundleQuery(choice), (query) => previewBundle(c.get("deps").context, c.get("session")?.user, query));
        if (result.ok) preview = result.data;
        else {
          errors = result.fieldErrors;
          message = Object.keys(errors).length ? "Check the fields marked below." : result.problem.detail;
          if (!Object.keys(errors).length && /context/i.test(result.problem.detail)) errors = { context: result.problem.detail };
        }
      }
      if (Object.keys(errors).length || message) c.status(400);
    }
    return c.render(
      <>
        <h1>Bundle</h1>
        <p>
          Compose policies held on this instance into one effective policy for a context of use, and download it as a signed bundle for training or
          deployment.
        </p>
        <FormError message={message} />
        <form method="get" action={links.bundle()} class="stacked bundle-form" aria-label="Choose sources and context">
          <SourcesField held={held} choice={choice} error={errors.sources} />
          <fieldset class="field">
            <legend>Context of use</legend>
            <p class="hint">Leave a facet empty for any value. Clauses limited to other contexts are left out.</p>
            {FACETS.map((facet) => (
              <Field name={facet} label={facet[0]!.toUpperCase() + facet.slice(1)} hint={FACET_HINTS[facet]} value={choice.raw[facet] ?? ""} error={errors[facet]} />
            ))}
            {errors.context ? <p class="field-error">{errors.context}</p> : null}
          </fieldset>
          <button type="submit" name="show" value="1">
            Show effective policy
          </button>
        </form>
        {preview ? <EffectiveView preview={preview} choice={choice} /> : null}
      </>,
      { title: "Bundle" },
    );
  });

  pages.get("/bundle/download", async (c) => {
    const choice = readChoice(c);
    const back = `${links.bundle()}?${new URL(c.req.url).search.slice(1)}`;
    if (choice.sources.length === 0) return redirectWithNotice(c, links.bundle(), "Choose at least one policy to bundle.", "error");
    const extra: Record<string, string> = {};
    if (c.req.query("preferences") === "true") extra.preferences = "true";
    if (c.req.query("keepFlawed") === "true") extra.keepFlawed = "true";
    if (c.req.query("systemPrompt") === "full") extra.systemPrompt = "full";
    const result = await submitForm(BundleQuery, bundleQuery(choice, extra), (query) => exportBundle(c.get("deps").context, c.get("session")?.user, query));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail || "The bundle could not be made.", "error");
    return new Response(result.data.bytes, {
      status: 200,
      headers: {
        "Content-Type": "application/gzip",
        "Content-Disposition": `attachment; filename="${result.data.fileName}"`,
        "Content-Length": String(result.data.bytes.byteLength),
      },
    });
  });

  return pages;
}
