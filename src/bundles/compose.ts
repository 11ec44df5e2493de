/**
 * Composition: several published policies, one target context of use, one
 * "effective policy" a model operator can deploy. Pure and deterministic: the
 * same sources, target, options and annotations always give the same result,
 * byte for byte once rendered.
 *
 * ## Target context
 *
 * `parseTargetContext("domain=health,audience=patients,locale=sw")` reads the
 * operator's context: comma-separated `facet=value` pairs, one value per
 * facet, facets among domain, audience, locale, deployment (names are
 * case-insensitive; whitespace around pairs is ignored; an empty string is the
 * empty target). The locale is canonicalised with `Intl.getCanonicalLocales`
 * ("PT-br" → "pt-BR"). Unknown facets, repeated facets, missing "=" and empty
 * values are `InvalidInputError`s naming the offending piece.
 *
 * ## When a context of use applies to a target (`appliesTo`)
 *
 * A context of use (a clause's, or one of a policy's `contexts`) applies when
 * every facet it declares is satisfied; a facet it does not declare means
 * "any" and is always satisfied. A declared facet is satisfied when:
 * - the target leaves that facet unspecified: the operator did not restrict
 *   it, so clauses limited on it still apply ("domain=health" keeps a clause
 *   limited to audience=children). Composing for a narrower context is done
 *   by naming the facet;
 * - or the target's value matches one of the listed values. domain, audience
 *   and deployment match case-insensitively after trimming; locale matches by
 *   BCP 47 prefix on whole subtags, case-insensitively: a clause for "pt"
 *   applies to target "pt-BR" (a general rule covers the specific locale), a
 *   clause for "pt-BR" does NOT apply to target "pt" (the operator asked for
 *   Portuguese in general, not Brazilian Portuguese in particular), and "pt"
 *   never matches "ptx" (subtags compare whole).
 *
 * ## Composition (`composePolicies`)
 *
 * 1. **Source precedence.** Sources are ranked: first those named in
 *    `options.precedence` (source ids, highest first; ids not among the
 *    sources are ignored), then the rest by their `precedence` number, higher
 *    number first (a missing number counts as 0), ties in input order.
 * 2. **Source exclusion.** A source whose policy-level `contexts` is non-empty
 *    and none of which applies to the target is left out entirely and listed
 *    in `excludedSources`; its clauses are not listed one by one. A source
 *    with no `contexts` is written for any context.
 * 3. **Clause selection.** A clause of a remaining source is included when
 *    its `context` applies; otherwise it is listed in `excludedClauses` with
 *    the first failing facet (in the order domain, audience, locale,
 *    deployment) and a reason.
 * 4. **Deduplication.** Included clauses with the same id whose normative
 *    content is identical (same authority, same text, same context after
 *    canonicalisation: facet values lowercased, sorted, deduplicated) are
 *    kept once: the copy from the highest-ranked source is kept (its title,
 *    rationale, examples, tags) and its `provenance` lists every source
 *    holding it, highest-ranked first.
 * 5. **Order.** By authority level (root, system, developer, user,
 *    guideline), then by the rank of the clause's first (highest-ranked)
 *    source, then by the clause's position in that source.
 * 6. **Conflicts**, listed by kind (same-id-different-text, declared,
 *    objection), then by the position of their clause in the order above:
 *    - `same-id-different-text`: one clause id included from two or more
 *      sources with different normative content. Every variant stays in
 *      `clauses`; the conflict lists each variant's provenance and the fields
 *      that differ (authority, text, context).
 *    - `declared`: a clause tagged `conflicts-with:<clause id>` (the tag
 *      convention: the literal prefix, then a clause id, case-sensitive) when
 *      a clause with that id is included from a source the tagging clause is
 *      not from. Pairs are reported once; `mutual` says whether both sides
 *      declared it. A tag naming a clause of the same source, or one not
 *      included, is no conflict in this effective policy.
 *    - `objection`: an annotation with motivation "object" on an included
 *      clause (matched by clause id and a source id in its provenance). It is
 *      also attached to the clause's `objections`. Annotations with other
 *      motivations, or on clauses not included, are ignored.
 */
import { InvalidInputError } from "../errors.ts";
import { canonicalJson } from "../policies/hash.ts";
import { AUTHORITY_LEVELS, AUTHORITY_NAMES, type AuthorityLevel, type Clause, type ContextOfUse, type PolicyContent } from "../policies/content.ts";
import { z } from "../zod.ts";

// ---------------------------------------------------------------------------
// Target context

export const FACETS = ["domain", "audience", "locale", "deployment"] as const;
export type Facet = (typeof FACETS)[number];

export interface TargetContext {
  domain?: string;
  audience?: string;
  locale?: string;
  deployment?: string;
}

const facetValue = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

export const targetContextSchema = z
  .object({
    domain: facetValue.optional(),
    audience: facetValue.optional(),
    locale: z
      .string()
      .trim()
      .transform((value, ctx) => {
        const canonical = canonicalLocale(value);
        if (canonical !== null) return canonical;
        ctx.addIssue({ code: "custom", message: `"${value}" is not a BCP 47 language tag (such as "en", "sw" or "pt-BR")` });
        return z.NEVER;
      })
      .optional(),
    deployment: facetValue.optional(),
  })
  .strict();

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    })
    .join("; ");
}

/** Validates and canonicalises a target given as an object. */
export function toTargetContext(input: unknown): TargetContext {
  const result = targetContextSchema.safeParse(input);
  if (!result.success) throw new InvalidInputError(`Invalid target context: ${formatIssues(result.error)}`);
  const target: TargetContext = {};
  for (const facet of FACETS) {
    const value = result.data[facet];
    if (value !== undefined) target[facet] = value;
  }
  return target;
}

/**
 * Reads "domain=health,audience=patients,locale=sw". Throws InvalidInputError
 * for bad syntax, unknown or repeated facets, empty values and bad locales.
 */
export function parseTargetContext(text: string): TargetContext {
  const raw: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === "") return {};
  for (const part of trimmed.split(",")) {
    const pair = part.trim();
    if (pair === "") throw new InvalidInputError(`Invalid target context "${text}": empty entry; write facet=value pairs separated by commas`);
    const eq = pair.indexOf("=");
    if (eq < 0) throw new InvalidInputError(`Invalid target context "${text}": "${pair}" is not facet=value`);
    const name = pair.slice(0, eq).trim().toLowerCase();
    const value = pair.slice(eq + 1).trim();
    if (!(FACETS as readonly string[]).includes(name)) {
      throw new InvalidInputError(`Invalid target context "${text}": unknown facet "${pair.slice(0, eq).trim()}"; use ${FACETS.join(", ")}`);
    }
    if (name in raw) throw new InvalidInputError(`Invalid target context "${text}": facet "${name}" given more than once (one value per facet)`);
    if (value === "") throw new InvalidInputError(`Invalid target context "${text}": facet "${name}" has an empty value`);
    raw[name] = value;
  }
  return toTargetContext(raw);
}

/** "domain=health, locale=sw", or "any context" for the empty target. */
export function formatTargetContext(target: TargetContext): string {
  const parts = FACETS.filter((facet) => target[facet] !== undefined).map((facet) => `${facet}=${target[facet]}`);
  return parts.length === 0 ? "any context" : parts.join(", ");
}

// ---------------------------------------------------------------------------
// Matching

function canonicalLocale(value: string): string | null {
  try {
    return Intl.getCanonicalLocales(value)[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether a locale rule covers a target locale: the rule's subtags are a
 * prefix of the target's, compared whole and case-insensitively ("pt" covers
 * "pt-BR"; "pt-BR" does not cover "pt"; "pt" does not cover "ptx").
 */
export function localeCovers(rule: string, target: string): boolean {
  const ruleTags = (canonicalLocale(rule) ?? rule).toLowerCase().split("-");
  const targetTags = (canonicalLocale(target) ?? target).toLowerCase().split("-");
  if (ruleTags.length > targetTags.length) return false;
  return ruleTags.every((tag, i) => tag === targetTags[i]);
}

function valueMatches(facet: Facet, rule: string, target: string): boolean {
  if (facet === "locale") return localeCovers(rule, target);
  return rule.trim().toLowerCase() === target.trim().toLowerCase();
}

/** The first facet (domain, audience, locale, deployment) on which `context` fails `target`, or null when it applies. */
export function mismatchedFacet(context: ContextOfUse, target: TargetContext): Facet | null {
  for (const facet of FACETS) {
    const values = context[facet];
    const wanted = target[facet];
    if (values === undefined || wanted === undefined) continue;
    if (!values.some((value) => valueMatches(facet, value, wanted))) return facet;
  }
  return null;
}

/** Whether a context of use applies to the target (see the module comment). */
export function appliesTo(context: ContextOfUse, target: TargetContext): boolean {
  return mismatchedFacet(context, target) === null;
}

function describeContext(context: ContextOfUse): string {
  const parts = FACETS.filter((facet) => context[facet] !== undefined).map((facet) => `${facet}: ${context[facet]!.join(", ")}`);
  return parts.length === 0 ? "any context" : parts.join("; ");
}

// ---------------------------------------------------------------------------
// Composition types

export interface Source {
  /** The policy's id, e.g. its IRI. Unique among the sources. */
  id: string;
  versionIri: string;
  contentHash: string;
  /** The owning community's IRI. */
  community: string;
  /** The origin of the instance it comes from. */
  instance: string;
  title: string;
  content: PolicyContent;
  /** Higher comes first among sources not named in `options.precedence`; missing = 0. */
  precedence?: number;
}

export interface ObjectionAnnotation {
  clauseId: string;
  sourceId: string;
  /** Only "object" makes a conflict; other motivations are ignored. */
  motivation: string;
  text: string;
  author: string;
}

export interface ComposeOptions {
  /** Source ids, highest precedence first. */
  precedence?: string[];
  annotations?: ObjectionAnnotation[];
}

export interface Provenance {
  sourceId: string;
  versionIri: string;
  contentHash: string;
  community: string;
  instance: string;
  clauseId: string;
}

export interface Objection {
  sourceId: string;
  text: string;
  author: string;
}

export type EffectiveClause = Clause & {
  /** Every source holding this clause, highest-ranked first. */
  provenance: Provenance[];
  objections: Objection[];
};

export type Conflict =
  | {
      kind: "same-id-different-text";
      clauseId: string;
      /** One entry per variant, in clause order; each lists the sources holding that variant. */
      variants: { provenance: Provenance[] }[];
      /** Which normative fields differ between the variants. */
      differs: ("authority" | "text" | "context")[];
    }
  | {
      kind: "declared";
      clauseId: string;
      provenance: Provenance[];
      withClauseId: string;
      withProvenance: Provenance[];
      /** Both clauses declare the conflict. */
      mutual: boolean;
    }
  | {
      kind: "objection";
      clauseId: string;
      provenance: Provenance[];
      objection: Objection;
    };

export type ConflictKind = Conflict["kind"];
export const CONFLICT_KINDS: readonly ConflictKind[] = ["same-id-different-text", "declared", "objection"];

export interface EffectiveSource {
  id: string;
  versionIri: string;
  contentHash: string;
  community: string;
  instance: string;
  title: string;
  licence: string;
  /** Clauses of this source in the effective policy (deduplicated ones count for every source holding them). */
  included: number;
}

export interface ExcludedSource {
  id: string;
  versionIri: string;
  title: string;
  reason: string;
}

export interface ExcludedClause {
  clauseId: string;
  sourceId: string;
  facet: Facet;
  reason: string;
}

export interface EffectivePolicy {
  target: TargetContext;
  /** Sources not excluded, in precedence order. */
  sources: EffectiveSource[];
  clauses: EffectiveClause[];
  conflicts: Conflict[];
  excludedSources: ExcludedSource[];
  excludedClauses: ExcludedClause[];
  summary: {
    sources: number;
    includedSources: number;
    excludedSources: number;
    clauses: number;
    clausesByAuthority: Record<AuthorityLevel, number>;
    excludedClauses: number;
    /** Copies folded into an identical clause from a higher-ranked source. */
    deduplicated: number;
    conflicts: number;
    conflictsByKind: Record<ConflictKind, number>;
  };
}

export const CONFLICTS_WITH_PREFIX = "conflicts-with:";

// ---------------------------------------------------------------------------
// Composition

function normalisedContext(context: ContextOfUse): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const facet of FACETS) {
    const values = context[facet];
    if (values === undefined) continue;
    const norm = values.map((value) =>
      facet === "locale" ? (canonicalLocale(value) ?? value).toLowerCase() : value.trim().toLowerCase(),
    );
    out[facet] = [...new Set(norm)].sort();
  }
  return out;
}

function normativeKey(clause: Clause): string {
  return canonicalJson({ authority: clause.authority, text: clause.text, context: normalisedContext(clause.context) });
}

function rankSources(sources: Source[], precedence: string[] | undefined): Source[] {
  const listed = new Map<string, number>();
  for (const id of precedence ?? []) if (!listed.has(id)) listed.set(id, listed.size);
  const indexed = sources.map((source, index) => ({ source, index }));
  indexed.sort((a, b) => {
    const la = listed.get(a.source.id) ?? Infinity;
    const lb = listed.get(b.source.id) ?? Infinity;
    if (la !== lb) return la < lb ? -1 : 1;
    const pa = a.source.precedence ?? 0;
    const pb = b.source.precedence ?? 0;
    if (pa !== pb) return pb - pa;
    return a.index - b.index;
  });
  return indexed.map((entry) => entry.source);
}

interface Entry {
  clause: Clause;
  key: string;
  provenance: Provenance[];
  sourceIds: Set<string>;
  rank: number;
  position: number;
  objections: Objection[];
}

const composeOptionsSchema = z
  .object({
    precedence: z.array(z.string()).optional(),
    annotations: z
      .array(
        z.object({
          clauseId: z.string().min(1),
          sourceId: z.string().min(1),
          motivation: z.string().min(1),
          text: z.string(),
          author: z.string(),
        }),
      )
      .optional(),
  })
  .strict();

/** Composes `sources` into the effective policy for `target` (see the module comment for every rule). */
export function composePolicies(sources: Source[], target: TargetContext, options: ComposeOptions = {}): EffectivePolicy {
  const parsedOptions = composeOptionsSchema.safeParse(options);
  if (!parsedOptions.success) throw new InvalidInputError(`Invalid composition options: ${formatIssues(parsedOptions.error)}`);
  const canonicalTarget = toTargetContext(target);
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.id)) throw new InvalidInputError(`Source "${source.id}" is given more than once`);
    seen.add(source.id);
  }

  const ranked = rankSources(sources, parsedOptions.data.precedence);
  const excludedSources: ExcludedSource[] = [];
  const excludedClauses: ExcludedClause[] = [];
  const kept: Source[] = [];
  for (const source of ranked) {
    const contexts = source.content.contexts;
    if (contexts.length > 0 && !contexts.some((context) => appliesTo(context, canonicalTarget))) {
      excludedSources.push({
        id: source.id,
        versionIri: source.versionIri,
        title: source.title,
        reason: `written for ${contexts.map((c) => `(${describeContext(c)})`).join(" or ")}, none of which applies to ${formatTargetContext(canonicalTarget)}`,
      });
      continue;
    }
    kept.push(source);
  }

  // Selection and deduplication, walking sources in rank order.
  const entries: Entry[] = [];
  const byId = new Map<string, Entry[]>();
  let deduplicated = 0;
  kept.forEach((source, rank) => {
    source.content.clauses.forEach((clause, position) => {
      const facet = mismatchedFacet(clause.context, canonicalTarget);
      if (facet !== null) {
        excludedClauses.push({
          clauseId: clause.id,
          sourceId: source.id,
          facet,
          reason: `${facet} is limited to ${clause.context[facet]!.join(", ")}; target ${facet} is ${canonicalTarget[facet]}`,
        });
        return;
      }
      const provenance: Provenance = {
        sourceId: source.id,
        versionIri: source.versionIri,
        contentHash: source.contentHash,
        community: source.community,
        instance: source.instance,
        clauseId: clause.id,
      };
      const key = normativeKey(clause);
      const same = byId.get(clause.id) ?? [];
      const identical = same.find((entry) => entry.key === key);
      if (identical) {
        identical.provenance.push(provenance);
        identical.sourceIds.add(source.id);
        deduplicated += 1;
        return;
      }
      const entry: Entry = { clause, key, provenance: [provenance], sourceIds: new Set([source.id]), rank, position, objections: [] };
      same.push(entry);
      byId.set(clause.id, same);
      entries.push(entry);
    });
  });

  const level = (a: AuthorityLevel) => AUTHORITY_LEVELS.indexOf(a);
  entries.sort(
    (a, b) => level(a.clause.authority) - level(b.clause.authority) || a.rank - b.rank || a.position - b.position,
  );
  const order = new Map(entries.map((entry, i) => [entry, i]));

  // Conflicts.
  const sameId: { at: number; conflict: Conflict }[] = [];
  for (const [clauseId, variants] of byId) {
    if (variants.length < 2) continue;
    const sorted = [...variants].sort((a, b) => order.get(a)! - order.get(b)!);
    const differs: ("authority" | "text" | "context")[] = [];
    const distinct = (pick: (c: Clause) => unknown) => new Set(sorted.map((v) => canonicalJson(pick(v.clause)))).size > 1;
    if (distinct((c) => c.authority)) differs.push("authority");
    if (distinct((c) => c.text)) differs.push("text");
    if (distinct((c) => normalisedContext(c.context))) differs.push("context");
    sameId.push({
      at: order.get(sorted[0]!)!,
      conflict: {
        kind: "same-id-different-text",
        clauseId,
        variants: sorted.map((v) => ({ provenance: [...v.provenance] })),
        differs,
      },
    });
  }

  const declared: { at: number; conflict: Conflict }[] = [];
  const pairs = new Map<string, { declarer: Entry; conflict: Extract<Conflict, { kind: "declared" }> }>();
  for (const entry of entries) {
    for (const tag of entry.clause.tags) {
      if (!tag.startsWith(CONFLICTS_WITH_PREFIX)) continue;
      const otherId = tag.slice(CONFLICTS_WITH_PREFIX.length).trim();
      for (const other of byId.get(otherId) ?? []) {
        if (other === entry) continue;
        if ([...other.sourceIds].every((id) => entry.sourceIds.has(id))) continue;
        const a = order.get(entry)!;
        const b = order.get(other)!;
        const pairKey = a < b ? `${a}:${b}` : `${b}:${a}`;
        const existing = pairs.get(pairKey);
        if (existing) {
          if (existing.declarer !== entry) existing.conflict.mutual = true;
          continue;
        }
        const conflict = {
          kind: "declared" as const,
          clauseId: entry.clause.id,
          provenance: [...entry.provenance],
          withClauseId: other.clause.id,
          withProvenance: [...other.provenance],
          mutual: false,
        };
        pairs.set(pairKey, { declarer: entry, conflict });
        declared.push({ at: Math.min(a, b), conflict });
      }
    }
  }

  const objections: { at: number; conflict: Conflict }[] = [];
  for (const annotation of parsedOptions.data.annotations ?? []) {
    if (annotation.motivation !== "object") continue;
    const entry = (byId.get(annotation.clauseId) ?? []).find((e) => e.sourceIds.has(annotation.sourceId));
    if (!entry) continue;
    const objection: Objection = { sourceId: annotation.sourceId, text: annotation.text, author: annotation.author };
    entry.objections.push(objection);
    objections.push({
      at: order.get(entry)!,
      conflict: { kind: "objection", clauseId: entry.clause.id, provenance: [...entry.provenance], objection },
    });
  }

  const byAt = (x: { at: number }, y: { at: number }) => x.at - y.at;
  const conflicts = [...sameId.sort(byAt), ...declared.sort(byAt), ...objections.sort(byAt)].map((item) => item.conflict);

  const clauses: EffectiveClause[] = entries.map((entry) => ({
    ...entry.clause,
    provenance: entry.provenance,
    objections: entry.objections,
  }));

  const includedCount = new Map<string, number>();
  for (const entry of entries) for (const id of entry.sourceIds) includedCount.set(id, (includedCount.get(id) ?? 0) + 1);

  const clausesByAuthority = Object.fromEntries(AUTHORITY_LEVELS.map((l) => [l, 0])) as Record<AuthorityLevel, number>;
  for (const clause of clauses) clausesByAuthority[clause.authority] += 1;
  const conflictsByKind = Object.fromEntries(CONFLICT_KINDS.map((k) => [k, 0])) as Record<ConflictKind, number>;
  for (const conflict of conflicts) conflictsByKind[conflict.kind] += 1;

  return {
    target: canonicalTarget,
    sources: kept.map((source) => ({
      id: source.id,
      versionIri: source.versionIri,
      contentHash: source.contentHash,
      community: source.community,
      instance: source.instance,
      title: source.title,
      licence: source.content.licence,
      included: includedCount.get(source.id) ?? 0,
    })),
    clauses,
    conflicts,
    excludedSources,
    excludedClauses,
    summary: {
      sources: sources.length,
      includedSources: kept.length,
      excludedSources: excludedSources.length,
      clauses: clauses.length,
      clausesByAuthority,
      excludedClauses: excludedClauses.length,
      deduplicated,
      conflicts: conflicts.length,
      conflictsByKind,
    },
  };
}

// ---------------------------------------------------------------------------
// Renderers

const LEVEL_NAMES = AUTHORITY_NAMES;

function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n").trim();
}

/** "sha256:" plus the first 12 hex digits. */
function hashPrefix(hash: string): string {
  const match = /^(sha256:)?([0-9a-f]+)$/i.exec(hash);
  return match ? `${match[1] ?? ""}${match[2]!.slice(0, 12)}` : hash;
}

function finish(lines: string[]): string {
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

function describeProvenance(effective: EffectivePolicy, provenance: Provenance[]): string {
  const titles = new Map(effective.sources.map((s) => [s.id, s.title]));
  return provenance
    .map((p) => `${titles.get(p.sourceId) ?? p.sourceId} (${p.versionIri}, \`${hashPrefix(p.contentHash)}\`)`)
    .join("; ");
}

/** A readable Markdown document of the effective policy. */
export function toMarkdown(effective: EffectivePolicy): string {
  const lines: string[] = [];
  lines.push("# Effective policy", "");
  lines.push(`Context: ${formatTargetContext(effective.target)}`, "");
  const s = effective.summary;
  lines.push(
    `${s.clauses} clause${s.clauses === 1 ? "" : "s"} from ${s.includedSources} source${s.includedSources === 1 ? "" : "s"}; ` +
      `${s.conflicts} conflict${s.conflicts === 1 ? "" : "s"}; ${s.excludedSources} source${s.excludedSources === 1 ? "" : "s"} and ` +
      `${s.excludedClauses} clause${s.excludedClauses === 1 ? "" : "s"} excluded.`,
    "",
  );
  for (const level of AUTHORITY_LEVELS) {
    const clauses = effective.clauses.filter((c) => c.authority === level);
    if (clauses.length === 0) continue;
    lines.push(`## ${LEVEL_NAMES[level]}`, "");
    for (const clause of clauses) {
      const heading = clause.title.trim() === "" ? clause.id : clause.title.trim();
      lines.push(`### ${heading} (\`${clause.id}\`)`, "");
      lines.push(normaliseNewlines(clause.text), "");
      if (clause.rationale.trim() !== "") lines.push(`*Rationale:* ${normaliseNewlines(clause.rationale)}`, "");
      if (clause.commentary) lines.push(`*Commentary (not normative):* ${normaliseNewlines(clause.commentary)}`, "");
      for (const note of clause.notes ?? []) lines.push(`*Note ${note.id}:* ${normaliseNewlines(note.text)}`, "");
      if (Object.keys(normalisedContext(clause.context)).length > 0) lines.push(`*Context:* ${describeContext(clause.context)}`, "");
      lines.push(`*Source:* ${describeProvenance(effective, clause.provenance)}`, "");
      for (const objection of clause.objections) {
        lines.push(`*Objection* by ${objection.author}: ${normaliseNewlines(objection.text)}`, "");
      }
    }
  }
  lines.push("## Conflicts", "");
  if (effective.conflicts.length === 0) lines.push("None.", "");
  for (const conflict of effective.conflicts) {
    if (conflict.kind === "same-id-different-text") {
      lines.push(
        `- **Same id, different text**: \`${conflict.clauseId}\` differs in ${conflict.differs.join(", ")} between ` +
          conflict.variants.map((v) => describeProvenance(effective, v.provenance)).join(" and "),
      );
    } else if (conflict.kind === "declared") {
      lines.push(
        `- **Declared${conflict.mutual ? " (mutual)" : ""}**: \`${conflict.clauseId}\` from ${describeProvenance(effective, conflict.provenance)} ` +
          `conflicts with \`${conflict.withClauseId}\` from ${describeProvenance(effective, conflict.withProvenance)}`,
      );
    } else {
      lines.push(
        `- **Objection** to \`${conflict.clauseId}\` from ${describeProvenance(effective, conflict.provenance)} by ${conflict.objection.author}: ` +
          normaliseNewlines(conflict.objection.text).replace(/\n+/g, " "),
      );
    }
  }
  lines.push("", "## Sources", "");
  for (const source of effective.sources) {
    lines.push(
      `- **${source.title}**: ${source.versionIri}, \`${hashPrefix(source.contentHash)}\`, community ${source.community} on ${source.instance}, ` +
        `licence ${source.licence}, ${source.included} clause${source.included === 1 ? "" : "s"} included`,
    );
  }
  if (effective.excludedSources.length > 0) {
    lines.push("", "## Excluded sources", "");
    for (const source of effective.excludedSources) lines.push(`- **${source.title}** (${source.versionIri}): ${source.reason}`);
  }
  if (effective.excludedClauses.length > 0) {
    lines.push("", "## Excluded clauses", "");
    for (const clause of effective.excludedClauses) lines.push(`- \`${clause.clauseId}\` from ${clause.sourceId}: ${clause.reason}`);
  }
  return finish(lines);
}

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line, i) => (i === 0 || line.trim() === "" ? line.trimEnd() : `${prefix}${line}`.trimEnd()))
    .join("\n");
}

export const SYSTEM_PROMPT_MODES = ["compact", "full"] as const;
export type SystemPromptMode = (typeof SYSTEM_PROMPT_MODES)[number];

/** `[text](#id)`, a link to another clause, as plain text: "text [id]". Other links stay as written. */
export function plainCrossRefs(text: string): string {
  return text.replace(/\[((?:[^\]\\]|\\.)*)\]\(#([A-Za-z0-9][A-Za-z0-9_.:-]*)\)/g, (_m, label: string, id: string) => `${label.replace(/\\([[\]\\])/g, "$1")} [${id}]`);
}

function clauseBody(clause: EffectiveClause): string {
  return plainCrossRefs(normaliseNewlines(clause.text));
}

/**
 * Plain text for a model's system prompt. Only normative content goes in:
 * commentary, notes and provenance details never do.
 *
 * - "compact" (the default): a two-line preamble, then per authority level
 *   (highest first) each clause as "[id] text".
 * - "full": each clause numbered with its title, its text, its rationale
 *   and its examples (prompt, better and worse answers), then the sources.
 *
 * Cross-references to other clauses read "title [id]".
 */
export function toSystemPrompt(effective: EffectivePolicy, mode: SystemPromptMode = "compact"): string {
  return mode === "full" ? fullSystemPrompt(effective) : compactSystemPrompt(effective);
}

function compactSystemPrompt(effective: EffectivePolicy): string {
  const lines: string[] = [
    `Policy for ${formatTargetContext(effective.target)}. Instructions are grouped by authority level, highest first; when two conflict, follow the higher one. Each starts with its clause id.`,
    "",
  ];
  for (const level of AUTHORITY_LEVELS) {
    const clauses = effective.clauses.filter((c) => c.authority === level);
    if (clauses.length === 0) continue;
    lines.push(`# ${LEVEL_NAMES[level]}`, "");
    for (const clause of clauses) lines.push(`[${clause.id}] ${clauseBody(clause)}`, "");
  }
  return finish(lines);
}

function fullSystemPrompt(effective: EffectivePolicy): string {
  const lines: string[] = [];
  lines.push(`You are operating under a policy composed for ${formatTargetContext(effective.target)}.`);
  lines.push(
    "Follow the instructions below. They are grouped by authority level, highest first; when two instructions conflict, follow the one with higher authority.",
    "",
  );
  let n = 0;
  for (const level of AUTHORITY_LEVELS) {
    const clauses = effective.clauses.filter((c) => c.authority === level);
    if (clauses.length === 0) continue;
    lines.push(`${LEVEL_NAMES[level]}-level instructions:`, "");
    for (const clause of clauses) {
      n += 1;
      const marker = `${n}. `;
      const pad = " ".repeat(marker.length);
      const title = clause.title.trim();
      const body = clauseBody(clause);
      lines.push(indent(`${marker}${title === "" ? "" : `${title} `}[${clause.id}]: ${body}`, pad), "");
      if (clause.rationale.trim() !== "") lines.push(indent(`${pad}Why: ${plainCrossRefs(normaliseNewlines(clause.rationale))}`, pad), "");
      for (const example of clause.examples) lines.push(...exampleLines(example, pad));
    }
  }
  lines.push("Sources:");
  for (const source of effective.sources) lines.push(`- ${source.title} (${source.versionIri}, licence ${source.licence})`);
  return finish(lines);
}

function exampleLines(example: Clause["examples"][number], pad: string): string[] {
  const out: string[] = [];
  const said = (who: string, text: string) => indent(`${pad}  ${who}: ${normaliseNewlines(text)}`, `${pad}    `);
  out.push(`${pad}Example${example.title ? `: ${plainCrossRefs(example.title)}` : ""}`);
  for (const message of example.prompt) out.push(said(message.role, message.content));
  for (const response of example.responses) out.push(said(response.label === "good" ? "better answer" : "worse answer", response.content));
  out.push("");
  return out;
}

/** Size of a text for the manifest: words (runs of non-space) and tokens, approximated as one per four characters. */
export function textSize(text: string): { words: number; approxTokens: number } {
  return { words: text.split(/\s+/).filter(Boolean).length, approxTokens: Math.ceil([...text].length / 4) };
}

export interface Principle {
  id: string;
  authority: AuthorityLevel;
  title: string;
  /** "Choose the response that ...": the steward's `principle`, else derived from the title and first sentence. */
  principle: string;
  /** Constitutional AI critique request for this principle. */
  critique: string;
  /** Constitutional AI revision request, applied after the critique. */
  revision: string;
  /** The id of the clause's highest-ranked source. */
  source: string;
}

const PRINCIPLE_START = /^(choose|prefer|which of) (the |these )?(response|responses|assistant)/i;
const MAX_SENTENCE = 300;

/** The first sentence of Markdown prose: headings, lists markers, emphasis and links reduced to their words. */
export function firstSentence(markdown: string): string {
  const prose = normaliseNewlines(markdown)
    .split(/\n\s*\n/)
    .map((para) => para.trim())
    .find((para) => para !== "" && !/^(#{1,6}\s|~~~|```|\|)/.test(para));
  if (prose === undefined) return "";
  const flat = plainCrossRefs(prose)
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^[-*+]\s+|^\d+\.\s+/gm, "")
    .replace(/[*_`]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const end = /[.!?](?=\s|$)/.exec(flat);
  const sentence = end ? flat.slice(0, end.index + 1) : flat;
  return sentence.length <= MAX_SENTENCE ? sentence : `${sentence.slice(0, MAX_SENTENCE - 1).trimEnd()}…`;
}

function principleOf(clause: Clause): string {
  const own = clause.principle?.trim();
  if (own) return PRINCIPLE_START.test(own) ? own : `Choose the response that best follows this principle: ${own}`;
  const title = plainCrossRefs(clause.title.trim());
  const sentence = firstSentence(clause.text);
  if (PRINCIPLE_START.test(sentence)) return sentence;
  const rule = [title && `"${title}"`, sentence].filter(Boolean).join(": ");
  return `Choose the response that best follows the principle ${rule || clause.id}`.replace(/([^.!?…])$/, "$1.");
}

/**
 * Constitutional AI principles, one per clause in effective order: a short
 * principle for choosing between responses, and a critique and a revision
 * request for the critique-and-revise loop.
 */
export function toPrinciples(effective: EffectivePolicy): Principle[] {
  return effective.clauses.map((clause) => {
    const name = clause.title.trim() === "" ? `[${clause.id}]` : `"${plainCrossRefs(clause.title.trim())}" [${clause.id}]`;
    return {
      id: clause.id,
      authority: clause.authority,
      title: clause.title.trim(),
      principle: principleOf(clause),
      critique: `Identify specific ways in which the assistant's last response does not follow ${name}. ${firstSentence(clause.principle ?? clause.text) || clause.id}`.trim(),
      revision: `Rewrite the assistant's last response so that it follows ${name}, changing only what the critique found.`,
      source: clause.provenance[0]!.sourceId,
    };
  });
}
