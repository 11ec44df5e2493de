/**
 * Imports a value constitution in the Constitutional-Evals JSON format
 * (schema_version 1.x, e.g. anchors/ubuntu.json): an id, title, summary and
 * overview, comparative `criteria` and `guidelines` (each a principle with
 * its reasoning and scenario prompts), and metadata about the tradition,
 * provenance and changes.
 *
 * Mapping:
 * - criteria[i] / guidelines[i] → clause `<id>.criterion.<i+1>` /
 *   `<id>.guideline.<i+1>` in a section per list. Ids come from position, so
 *   re-importing the same file gives the same ids. Authority is "guideline"
 *   (the data gives none; a principle's own `authority` field wins). Text is
 *   the comparative principle, rationale the reasoning.
 * - Scenarios are prompts without responses, and an example needs a
 *   labelled response, so they are kept as a list in the clause text and
 *   reported.
 * - tradition, tradition_class and valence → tags on every clause (they are
 *   what a composed policy would filter by).
 * - summary + overview → summary, with an attribution line (CC BY requires
 *   credit). The rest (version, changelog, role, ...) is policy metadata
 *   with no place in content: reported with its value.
 */
import { z } from "../../zod.ts";
import { AUTHORITY_LEVELS, clauseIdSchema, type PolicyContentInput } from "../content.ts";
import { excerpt, finishImport, ImportError, type ImportResult, type NotMapped } from "./report.ts";

export interface ConstitutionOptions {
  /** Replaces the file's title. */
  title?: string;
  /** SPDX id; replaces the file's `license`, and is required when it has none. */
  licence?: string;
}

const principleSchema = z.looseObject({
  comparative: z.string().trim().min(1, "must not be empty"),
  reasoning: z.string().optional(),
  scenarios: z.array(z.string()).optional(),
  authority: z.enum(AUTHORITY_LEVELS).optional(),
});
type Principle = z.infer<typeof principleSchema>;

const constitutionSchema = z.looseObject({
  schema_version: z.string().optional(),
  id: z.string().trim().min(1, "must not be empty"),
  title: z.string().trim().min(1, "must not be empty"),
  version: z.string().optional(),
  role: z.string().optional(),
  in_basis: z.boolean().optional(),
  valence: z.string().optional(),
  tradition_class: z.string().optional(),
  tradition: z.string().optional(),
  summary: z.string().optional(),
  overview: z.string().optional(),
  criteria: z.array(principleSchema).min(1, "must list at least one criterion"),
  guidelines: z.array(principleSchema).optional(),
  license: z.string().optional(),
  provenance: z
    .looseObject({
      method: z.string().optional(),
      source_bundle: z.array(z.string()).optional(),
      researcher_pass: z.boolean().optional(),
      authored_by: z.array(z.string()).optional(),
      date: z.string().optional(),
    })
    .optional(),
  changelog: z.array(z.unknown()).optional(),
});
type Constitution = z.infer<typeof constitutionSchema>;

const LISTS = [
  { key: "criteria", section: "Criteria", clause: "criterion", tag: "criterion", label: "Criterion" },
  { key: "guidelines", section: "Guidelines", clause: "guideline", tag: "guideline", label: "Guideline" },
] as const;

/** Top-level fields the mapping reads; anything else is reported. */
const READ = new Set(["id", "title", "summary", "overview", "criteria", "guidelines", "license", "valence", "tradition", "tradition_class", "provenance"]);
/** Known fields that are metadata of the source, not content. */
const METADATA: Record<string, string> = {
  schema_version: "the version of the source format; it only tells this importer what to expect",
  version: "a published policy gets its own version number; the source's is not content",
  role: "the constitution's role in its source collection; no equivalent",
  in_basis: "whether the source collection counts it in its basis set; no equivalent",
  changelog: "a published policy keeps its own changelog; the source's is not content",
};
const PROVENANCE_METADATA: Record<string, string> = {
  method: "how the source was written; no place in policy content",
  source_bundle: "paths in the source repository; no place in policy content",
  researcher_pass: "a review flag of the source project; no place in policy content",
};

export function importConstitution(json: unknown, options: ConstitutionOptions = {}): ImportResult {
  const parsed = constitutionSchema.safeParse(json, { error: requiredMessage });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: jsonPath(issue.path), message: issue.message }));
    throw new ImportError("Not a constitution file (Constitutional-Evals JSON with id, title and criteria)", issues);
  }
  const source = parsed.data;
  const notMapped: NotMapped[] = [];
  const notes: string[] = [];
  const content = buildContent(source, options, notMapped, notes);
  reportMetadata(source, notMapped);
  return finishImport("constitution", content, notMapped, notes);
}

function buildContent(source: Constitution, options: ConstitutionOptions, notMapped: NotMapped[], notes: string[]): PolicyContentInput {
  const base = baseId(source.id, notes);
  const tags = policyTags(source, notMapped);
  const sections: NonNullable<PolicyContentInput["sections"]> = [];
  const clauses: NonNullable<PolicyContentInput["clauses"]> = [];
  for (const list of LISTS) {
    const principles = source[list.key] ?? [];
    if (principles.length === 0) continue;
    const section = `${base}.${list.key}`;
    sections.push({ id: section, title: list.section, parent: null, text: "" });
    principles.forEach((principle, i) => {
      const path = `${list.key}[${i}]`;
      reportUnknownKeys(principle, ["comparative", "reasoning", "scenarios", "authority"], path, notMapped);
      clauses.push({
        id: `${base}.${list.clause}.${i + 1}`,
        title: `${list.label} ${i + 1}`,
        section,
        authority: principle.authority ?? "guideline",
        text: principle.comparative,
        rationale: principle.reasoning?.trim() ?? "",
        examples: scenarioExamples(principle),
        tags: [list.tag, ...tags],
      });
    });
  }
  notes.push('Every principle has authority "guideline": the source gives no level, and comparative criteria are defaults a user or developer may adjust.');
  return { title: pick("title", options.title, source.title, notes) ?? source.title, summary: summary(source, notes), licence: licence(source, options, notes), sections, clauses };
}

/** The constitution id prefixes every clause id, so it must itself be a valid id. */
function baseId(id: string, notes: string[]): string {
  if (clauseIdSchema.safeParse(`${id}.criterion.1`).success) return id;
  const slug = id.toLowerCase().replace(/[^a-z0-9_.:-]+/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 80) || "constitution";
  notes.push(`The constitution id "${id}" cannot prefix clause ids; "${slug}" is used instead.`);
  return slug;
}

function policyTags(source: Constitution, notMapped: NotMapped[]): string[] {
  const tags: string[] = [];
  for (const key of ["tradition", "tradition_class", "valence"] as const) {
    const value = source[key]?.trim();
    if (!value) continue;
    const tag = `${key.replace("_", "-")}:${value}`;
    if (tag.length <= 50) tags.push(tag);
    else notMapped.push({ what: `${key}: ${JSON.stringify(value)}`, where: key, reason: "too long for a tag (50 characters)" });
  }
  return tags;
}

/** Each scenario is a user prompt the principle speaks to, with no responses yet. */
function scenarioExamples(principle: Principle) {
  return (principle.scenarios ?? [])
    .map((scenario) => scenario.trim())
    .filter(Boolean)
    .map((scenario) => ({ prompt: [{ role: "user" as const, content: scenario }], responses: [] }));
}

/** The summary, then the overview (unless it just repeats the summary), then who to credit. */
function summary(source: Constitution, notes: string[]): string {
  const short = source.summary?.trim() ?? "";
  const long = source.overview?.trim() ?? "";
  const parts = long.startsWith(short) ? [long] : [short, long];
  if (short !== "" && long.startsWith(short)) notes.push("The overview begins with the summary, so the summary is the overview alone.");
  parts.push(attribution(source));
  return parts.filter(Boolean).join("\n\n");
}

function attribution(source: Constitution): string {
  const authors = source.provenance?.authored_by ?? [];
  const by = authors.length > 0 ? ` by ${authors.join(", ")}` : "";
  const date = source.provenance?.date ? ` (${source.provenance.date})` : "";
  const version = source.version ? ` version ${source.version}` : "";
  const licence = source.license ? `, licensed ${source.license}` : "";
  return `Source: the "${source.title}" constitution (${source.id}${version})${by}${date}${licence}.`;
}

function licence(source: Constitution, options: ConstitutionOptions, notes: string[]): string {
  const chosen = pick("licence", options.licence, source.license, notes);
  if (chosen === undefined) throw new ImportError('The constitution has no "license" field; give its SPDX licence id (such as CC-BY-4.0)');
  return chosen;
}

/** A value the caller gives wins over the file's; the notes say so when they differ. */
function pick(name: string, given: string | undefined, fromFile: string | undefined, notes: string[]): string | undefined {
  if (given !== undefined && fromFile !== undefined && given !== fromFile) notes.push(`The ${name} given, "${given}", replaces the file's "${fromFile}".`);
  return given ?? fromFile;
}

function reportMetadata(source: Constitution, notMapped: NotMapped[]): void {
  for (const [key, value] of Object.entries(source)) {
    if (READ.has(key) || value === undefined) continue;
    const reason = METADATA[key] ?? "not part of the constitution format this importer knows";
    notMapped.push({ what: `${key}: ${excerpt(JSON.stringify(value), 120)}`, where: key, reason });
  }
  if (!source.provenance) return;
  for (const [key, value] of Object.entries(source.provenance)) {
    if (key === "authored_by" || key === "date" || value === undefined) continue;
    const reason = PROVENANCE_METADATA[key] ?? "not part of the constitution format this importer knows";
    notMapped.push({ what: `provenance.${key}: ${excerpt(JSON.stringify(value), 120)}`, where: `provenance.${key}`, reason });
  }
}

function reportUnknownKeys(object: Record<string, unknown>, known: string[], path: string, notMapped: NotMapped[]): void {
  for (const [key, value] of Object.entries(object)) {
    if (known.includes(key)) continue;
    notMapped.push({ what: `${key}: ${excerpt(JSON.stringify(value), 120)}`, where: `${path}.${key}`, reason: "not part of the constitution format this importer knows" });
  }
}

/** zod's "expected string, received undefined" for a missing field reads better as this. */
function requiredMessage(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === "invalid_type" && issue.input === undefined ? "is required" : undefined;
}

/** ["criteria", 0, "comparative"] → "criteria[0].comparative" */
function jsonPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`), "");
}
