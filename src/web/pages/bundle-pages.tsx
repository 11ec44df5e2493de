/**
 * The bundle page: choose sources among the policies this instance holds
 * (its own and followed ones, at any version), a target context, see the
 * effective policy (clauses in precedence order with their provenance) and
 * its conflicts, then download the signed bundle. Sources are named by
 * policy title and community (with its host when it is another instance's),
 * clauses are rendered as the policy pages render them, and what the bundle
 * holds (the policy only, or with preference data) is a required choice
 * that says beforehand what each would put in the preference files. Works
 * signed out: bundles are public. The preview and the download are the use cases the bundle API
 * calls (src/app/bundles.ts), with its query schema.
 */
import { Hono, type Context } from "hono";
import { BundleQuery, exportBundle, previewBundle, type BundlePreview } from "../../app/bundles.ts";
import { Field, FormError } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { links } from "../links.ts";
import { AuthorityTag, Markdown, authorOf } from "../policy-components.tsx";
import { redirectWithNotice, submitForm } from "../forms.ts";
import { listCommunities } from "../../communities.ts";
import { listCommunityPolicies, listMirroredPolicies, listVersions, type Policy } from "../../policies/policies.ts";
import { FACETS, type Conflict, type Provenance } from "../../bundles/compose.ts";
import { ownerOf } from "../../bundles/instance.ts";
import { markdownToText } from "../../policies/render.ts";

type Errors = Record<string, string>;

interface Held {
  policy: Policy;
  local: boolean;
  owner: { name: string; host: string | null };
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

async function heldPolicies(c: Context<WebEnv>): Promise<Held[]> {
  const { db } = c.get("deps");
  const local = (await Promise.all((await listCommunities(db)).map((community) => listCommunityPolicies(db, community)))).flat();
  const mirrored = await listMirroredPolicies(db);
  const all = await Promise.all(
    [...local.map((policy) => ({ policy, local: true })), ...mirrored.map((policy) => ({ policy, local: false }))].map(
      async ({ policy, local: isLocal }) => ({
        policy,
        local: isLocal,
        owner: await ownerOf(db, policy),
        versions: (await listVersions(db, policy))
          .filter((v) => !v.retractedAt)
          .map((v) => v.number)
          .reverse(),
      }),
    ),
  );
  return all.filter((held) => held.versions.length > 0);
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

/** "Nurses" for this instance's communities, "Nurses (care.example)" for another instance's. */
function communityWords(community: { name: string; host: string | null }): string {
  return community.host ? `${community.name} (${community.host})` : community.name;
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
      <ul class="source-list">
        {props.held.map(({ policy, local, versions, owner }) => {
          const chosen = checked.get(policy.id);
          return (
            <li class="source-row">
              <label class="choice">
                <input type="checkbox" name="source" value={String(policy.id)} checked={chosen !== undefined} /> {policy.title}{" "}
                <span class="muted">
                  ({communityWords(owner)}, {local ? "this instance" : "followed"})
                </span>
              </label>
              <span class="source-options">
                <label for={`version-${policy.id}`}>
                  Version<span class="visually-hidden"> of {policy.title}</span>
                </label>{" "}
                <select id={`version-${policy.id}`} name={`version-${policy.id}`}>
                  <option value="">Newest (v{versions[0]})</option>
                  {versions.map((n) => (
                    <option value={String(n)} selected={chosen?.version === n}>
                      Version {n}
                    </option>
                  ))}
                </select>{" "}
                <label for={`rank-${policy.id}`}>
                  Precedence<span class="visually-hidden"> of {policy.title}</span>
                </label>{" "}
                <input type="number" min={1} class="rank" id={`rank-${policy.id}`} name={`rank-${policy.id}`} value={props.choice.raw[`rank-${policy.id}`] ?? ""} />
              </span>
            </li>
          );
        })}
      </ul>
      {props.error ? (
        <p class="field-error" id="sources-error">
          {props.error}
        </p>
      ) : null}
    </fieldset>
  );
}

type Chosen = Preview["chosen"][number];

/** The chosen sources by policy IRI, to name provenance and conflicts in words. */
function chosenByIri(preview: Preview): Map<string, Chosen> {
  return new Map(preview.chosen.map((chosen) => [chosen.iri, chosen]));
}

/** "Care Policy v1, Nurses (care.example)": the policy (linked) and whose it is. */
function SourceName(props: { sourceId: string; chosen: Map<string, Chosen>; withVersion?: boolean }) {
  const chosen = props.chosen.get(props.sourceId);
  if (!chosen) return <>{props.sourceId}</>;
  return (
    <>
      <a href={links.policy(chosen.policyId, chosen.version)}>
        {chosen.title}
        {props.withVersion ? ` v${chosen.version}` : ""}
      </a>
      <span class="muted">, {communityWords(chosen.community)}</span>
    </>
  );
}

function SourceNames(props: { provenance: Provenance[]; chosen: Map<string, Chosen>; withVersion?: boolean }) {
  return (
    <>
      {props.provenance.map((p, i) => (
        <>
          {i > 0 ? " and " : ""}
          <SourceName sourceId={p.sourceId} chosen={props.chosen} withVersion={props.withVersion} />
        </>
      ))}
    </>
  );
}

function ConflictItem(props: { conflict: Conflict; chosen: Map<string, Chosen>; author: (iri: string) => string }) {
  const { conflict, chosen } = props;
  if (conflict.kind === "same-id-different-text") {
    return (
      <li>
        <strong>Same clause, different text:</strong> <code>{conflict.clauseId}</code> differs in {conflict.differs.join(", ")} between{" "}
        {conflict.variants.map((v, i) => (
          <>
            {i > 0 ? " and " : ""}
            <SourceNames provenance={v.provenance} chosen={chosen} />
          </>
        ))}
        . Every variant is kept below.
      </li>
    );
  }
  if (conflict.kind === "declared") {
    return (
      <li>
        <strong>Declared conflict:</strong> <code>{conflict.clauseId}</code> (<SourceNames provenance={conflict.provenance} chosen={chosen} />) conflicts with{" "}
        <code>{conflict.withClauseId}</code> (<SourceNames provenance={conflict.withProvenance} chosen={chosen} />){conflict.mutual ? ", declared by both" : ""}.
      </li>
    );
  }
  return (
    <li>
      <strong>Objection</strong> to <code>{conflict.clauseId}</code> (<SourceNames provenance={conflict.provenance} chosen={chosen} />) by {props.author(conflict.objection.author)}:{" "}
      {conflict.objection.text}
    </li>
  );
}

/** The required choice of what the bundle holds, each option saying what it would put in the preference files. */
function DataChoice(props: { preview: Preview; picked?: string; error?: string }) {
  const counts = props.preview.preferences;
  const pairs = `${counts.examplePairs} preference pair${counts.examplePairs === 1 ? "" : "s"}`;
  const records = `${counts.datasetRecords} record${counts.datasetRecords === 1 ? "" : "s"}`;
  const emptyWithout = counts.examplePairs === 0;
  const emptyWith = emptyWithout && counts.datasetRecords === 0;
  return (
    <fieldset class="field data-choice" aria-describedby={props.error ? "preferences-error" : undefined}>
      <legend>What the bundle holds</legend>
      <div class="option">
        <input type="radio" name="preferences" id="preferences-false" value="false" required checked={props.picked === "false"} aria-describedby="preferences-false-hint" />
        <label for="preferences-false">
          The policy only
          <span class="hint" id="preferences-false-hint">
            {" "}
            The effective policy in every format
            {emptyWithout ? "; its preference files are empty, since no chosen clause has an example with a good and a bad response." : `, and ${pairs} from its own examples.`}
          </span>
        </label>
      </div>
      <div class="option">
        <input type="radio" name="preferences" id="preferences-true" value="true" required checked={props.picked === "true"} aria-describedby="preferences-true-hint" />
        <label for="preferences-true">
          The policy and preference data
          <span class="hint" id="preferences-true-hint">
            {" "}
            Also {records} from members' answers and imports
            {counts.localSources ? "" : " (none: no chosen policy is this instance's)"} whose raters allowed training and sharing
            {emptyWith ? ": the preference files would still be empty." : counts.datasetRecords === 0 ? ": this adds nothing now." : "."}
            {counts.followedSources ? " Followed policies' preference data is their own instance's to give: pull it from there." : ""}
          </span>
        </label>
      </div>
      {props.error ? (
        <p class="field-error" id="preferences-error">
          {props.error}
        </p>
      ) : null}
    </fieldset>
  );
}

function DownloadForm(props: { preview: Preview; choice: Choice; error?: string }) {
  return (
    <form method="get" action="/bundle/download" class="panel stacked" id="download" aria-label="Download the bundle">
      {props.choice.sources.map((s) => (
        <input type="hidden" name="source" value={String(s.policyId)} />
      ))}
      {Object.entries(props.choice.raw)
        .filter(([key]) => !["source", "show", "preferences", "systemPrompt", "keepFlawed"].includes(key))
        .map(([key, value]) => (
          <input type="hidden" name={key} value={value} />
        ))}
      <DataChoice preview={props.preview} picked={props.choice.raw.preferences} error={props.error} />
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
  );
}

function EffectiveView(props: { preview: Preview; choice: Choice; author: (iri: string) => string; dataError?: string }) {
  const { preview } = props;
  const chosen = chosenByIri(preview);
  const titles = new Map(preview.excludedSources.map((s) => [s.id, s.title]));
  return (
    <section aria-labelledby="effective" class="bundle-effective">
      <h2 id="effective">Effective policy</h2>
      <p>
        {preview.summary.clauses} clause{preview.summary.clauses === 1 ? "" : "s"} from {preview.summary.includedSources} source
        {preview.summary.includedSources === 1 ? "" : "s"}
        {preview.summary.excludedClauses ? `; ${preview.summary.excludedClauses} left out for this context` : ""}
        {preview.summary.deduplicated ? `; ${preview.summary.deduplicated} identical copies folded` : ""}.
      </p>
      <ol class="bundle-sources">
        {preview.chosen.map((c) => (
          <li>
            <SourceName sourceId={c.iri} chosen={chosen} withVersion />
          </li>
        ))}
      </ol>
      <DownloadForm preview={preview} choice={props.choice} error={props.dataError} />
      <h3 id="conflicts">
        Conflicts <span class="muted">({preview.conflicts.length})</span>
      </h3>
      {preview.conflicts.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="bundle-conflicts">
          {preview.conflicts.map((conflict) => (
            <ConflictItem conflict={conflict} chosen={chosen} author={props.author} />
          ))}
        </ul>
      )}
      <h3>Clauses in precedence order</h3>
      <ol class="effective-clauses">
        {preview.clauses.map((clause) => (
          <li class="clause">
            <p class="clause-head">
              <AuthorityTag level={clause.authority} /> {clause.title ? <strong>{markdownToText(clause.title)}</strong> : null} <code class="clause-id">{clause.id}</code>
            </p>
            <Markdown md={clause.text} />
            <p class="provenance">
              From <SourceNames provenance={clause.provenance} chosen={chosen} withVersion />
            </p>
            {clause.objections.map((o) => (
              <p class="notice notice-error">
                Objection by {props.author(o.author)}: {o.text}
              </p>
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
                <code>{x.clauseId}</code> ({chosen.has(x.sourceId) ? <SourceName sourceId={x.sourceId} chosen={chosen} /> : (titles.get(x.sourceId) ?? x.sourceId)}): {x.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

/** The page: the choice form and, once sources are chosen, the effective policy with the download form. */
async function renderBundlePage(c: Context<WebEnv>, options: { dataError?: string } = {}) {
  const held = await heldPolicies(c);
  const choice = readChoice(c);
  const asked = c.req.query("show") !== undefined || choice.sources.length > 0;
  let preview: Preview | undefined;
  let errors: Errors = {};
  let message: string | undefined;
  if (asked) {
    if (choice.sources.length === 0) errors = { sources: "Choose at least one policy." };
    else {
      const result = await submitForm(BundleQuery, bundleQuery(choice), async (query) => await previewBundle(c.get("deps").context, c.get("session")?.user, query));
      if (result.ok) preview = result.data;
      else {
        errors = result.fieldErrors;
        message = Object.keys(errors).length ? "Check the fields marked below." : result.problem.detail;
        if (!Object.keys(errors).length && /context/i.test(result.problem.detail)) errors = { context: result.problem.detail };
      }
    }
    if (Object.keys(errors).length || message || options.dataError) c.status(400);
  }
  const { db, origin } = c.get("deps");
  // Objection authors are named here, before rendering (components do not query).
  const authorNames = new Map<string, string>();
  if (preview) {
    const iris = [...preview.conflicts.flatMap((conflict) => (conflict.kind === "objection" ? [conflict.objection.author] : [])), ...preview.clauses.flatMap((clause) => clause.objections.map((o) => o.author))];
    for (const iri of iris) {
      if (authorNames.has(iri)) continue;
      const who = await authorOf(db, origin, iri);
      authorNames.set(iri, who.host && !iri.startsWith(origin) ? `${who.name} (${who.host})` : who.name);
    }
  }
  const author = (iri: string): string => authorNames.get(iri) ?? iri;
  return c.render(
    <>
      <h1>Bundle</h1>
      <p>
        Compose policies held on this instance into one effective policy for a context of use, and download it as a signed bundle for training or deployment.
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
      {preview ? <EffectiveView preview={preview} choice={choice} author={author} dataError={options.dataError} /> : null}
    </>,
    { title: "Bundle" },
  );
}

export function bundlePages() {
  const pages = new Hono<WebEnv>();

  pages.get("/bundle", async (c) => await renderBundlePage(c));

  pages.get("/bundle/download", async (c) => {
    const choice = readChoice(c);
    const back = `${links.bundle()}?${new URL(c.req.url).search.slice(1)}`;
    if (choice.sources.length === 0) return redirectWithNotice(c, links.bundle(), "Choose at least one policy to bundle.", "error");
    const data = c.req.query("preferences");
    // A required choice: nobody downloads empty preference files by leaving a box unticked.
    if (data !== "true" && data !== "false") return await renderBundlePage(c, { dataError: "Choose whether the bundle holds the policy only or preference data too." });
    const extra: Record<string, string> = { preferences: data };
    if (c.req.query("keepFlawed") === "true") extra.keepFlawed = "true";
    if (c.req.query("systemPrompt") === "full") extra.systemPrompt = "full";
    const result = await submitForm(BundleQuery, bundleQuery(choice, extra), async (query) => await exportBundle(c.get("deps").context, c.get("session")?.user, query));
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
