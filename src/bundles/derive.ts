/**
 * Everything in a bundle that is not a signed source is derived here, from
 * the signed sources and the composition inputs, by one function that both
 * the writer (./bundle.ts) and the verifier (./verify.ts) run. The writer
 * sends the files to disk; the verifier hashes them and compares. So a file
 * that was edited after export (even with its hash changed in the manifest)
 * is found and named, and so is a manifest whose claims do not follow from
 * the sources.
 *
 * Signed inputs: `sources/<n>.json` (policy versions, each with its
 * community's eddsa-jcs-2022 proof) and `preferences/<n>.jsonl` (the
 * community's signed dataset pages of source n's policy, one per line, each
 * carrying its items' hash and a proof; records carry their own consent
 * terms and licence). Unsigned inputs, stated in the manifest (and signed
 * with it when an instance exports): the sources as named, the contexts,
 * precedence, system prompt mode, objections passed to composition,
 * `keepFlawed`, title and decisions.
 *
 * Derived: policy.md, system-prompt.txt (and system-prompt.<n>.txt for
 * every further context), principles.json, preferences.trl.jsonl,
 * preferences.openai.jsonl, preferences.provenance.jsonl, README.md and the
 * manifest itself (all but its proof).
 */
import { createHash } from "node:crypto";
import { policyContentSchema, type PolicyContent } from "../policies/content.ts";
import { canonicalJson } from "../policies/hash.ts";
import { recordsFromPolicyExamples } from "../preferences/formats/policy.ts";
import { toOpenAiLines, toTrlLines } from "../preferences/formats/writers.ts";
import { FLAW_KINDS, recordFlaws, type FlawKind } from "../preferences/quality.ts";
import type { Consent, PreferenceRecord } from "../preferences/record.ts";
import { datasetCard } from "./card.ts";
import {
  composePolicies,
  parseTargetContext,
  textSize,
  toMarkdown,
  toPrinciples,
  toSystemPrompt,
  type EffectivePolicy,
  type ObjectionAnnotation,
  type Source,
  type SystemPromptMode,
} from "./compose.ts";

export const BUNDLE_FORMAT_VERSION = 2;
export const MANIFEST_FILE = "manifest.json";
export const TRL_FILE = "preferences.trl.jsonl";
export const OPENAI_FILE = "preferences.openai.jsonl";
export const PROVENANCE_FILE = "preferences.provenance.jsonl";
/** Flawed records named in the card and manifest; all are counted. */
const MAX_FLAW_EXAMPLES = 20;

export interface CommunityKey {
  /** The key's IRI, as named by the proof's `verificationMethod`. */
  id: string;
  publicKeyMultibase: string;
}

export interface FileEntry {
  /** Lowercase hex SHA-256 of the file's bytes (as `sha256sum` prints it). */
  sha256: string;
  bytes: number;
}

/** What the operator asked for; recorded in the manifest as `createdFrom`. */
export interface BundleSpec {
  /** The sources as the caller named them (IRIs or instance specs). */
  sources: string[];
  /** Target contexts ("domain=health,locale=sw"); the first is the one composed for policy.md and principles.json; [] is any context. */
  contexts: string[];
  /** Policy ids, highest precedence first. */
  precedence: string[];
  systemPrompt: SystemPromptMode;
  keepFlawed: boolean;
  /** Objections passed to composition (shown as conflicts). */
  annotations: ObjectionAnnotation[];
}

export interface ManifestSource {
  iri: string;
  policy: string;
  community: string;
  contentHash: string;
  licence: string;
  /** Relative path of the stored document: "sources/<n>.json". */
  file: string;
  proof: unknown;
  communityKey: CommunityKey | null;
}

export type ConsentSource = "rater" | "steward-declared" | "policy-licence";
export const CONSENT_SOURCES: readonly ConsentSource[] = ["rater", "steward-declared", "policy-licence"];

export interface DatasetSummary {
  name: string;
  licence: string | null;
  consentSource: ConsentSource;
  /** Records written from it. */
  records: number;
  copyright: string | null;
}

export interface BundleManifest {
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  title?: string;
  createdFrom: {
    sources: string[];
    /** The first context, or null for any context. */
    context: string | null;
    contexts: string[];
    precedence: string[];
    systemPrompt: SystemPromptMode;
    keepFlawed: boolean;
    annotations: ObjectionAnnotation[];
  };
  files: Record<string, FileEntry>;
  sources: ManifestSource[];
  /** The signed preference pages carried, per source whose policy's data was included. */
  datasets: { source: number; policy: string; file: string; pages: number; records: number }[];
  systemPrompts: { file: string; context: string | null; mode: SystemPromptMode; words: number; approxTokens: number }[];
  /** Sorted, distinct licences of the source versions. */
  licences: string[];
  /** Sorted, distinct licences of the written preference records (policy examples included; undeclared left out). */
  preferenceLicences: string[];
  decisions: unknown[];
  counts: {
    sources: number;
    clauses: number;
    preferenceRecords: number;
    policyExampleRecords: number;
    preferencePairs: number;
    skippedWithoutTrainConsent: number;
    recordsWithoutPairs: number;
    flawedRecords: number;
  };
  preferences: {
    datasets: DatasetSummary[];
    byConsentSource: Record<ConsentSource, number>;
    languages: string[];
    recordsWithoutLanguage: number;
    flaws: Record<FlawKind, number>;
    flawExamples: { record: string; flaws: FlawKind[] }[];
  };
  proof?: unknown;
}

/** One line of preferences.provenance.jsonl, describing the pair on the same line of the training files. */
export interface PairProvenance {
  origin: "policy" | "dataset";
  /** The record's IRI in its community's dataset; for a policy example, the version IRI and clause id. */
  record: string;
  clauseIds: string[];
  dataset: string;
  licence: string | null;
  consentSource: ConsentSource;
  consent: Consent;
}

export interface SourceInput {
  /** The signed version document exactly as published, including `proof`. */
  document: Record<string, unknown>;
  communityKey: CommunityKey | null;
}

/** Where derived files go: to disk (writer) or to a comparison (verifier). */
export interface BundleSink {
  text(path: string, content: string): Promise<FileEntry>;
  lines(path: string): Promise<LineSink>;
}

export interface LineSink {
  write(line: string): Promise<void>;
  close(): Promise<FileEntry>;
}

export interface DeriveInput {
  title?: string;
  spec: BundleSpec;
  sources: SourceInput[];
  /** Whether preference data is included at all. */
  withPreferences: boolean;
  /** The signed pages of source n's (1-based) policy's dataset, in order. */
  pages: (source: number) => AsyncIterable<Record<string, unknown>>;
  decisions?: unknown[];
  /** Whether the manifest will carry the exporter's proof (the card says so). */
  signed: boolean;
}

/** Data sets whose facts the importer does not record: language and copyright line. */
const KNOWN_DATASETS: { prefix: string; language: string; copyright: string }[] = [
  { prefix: "hh-rlhf", language: "en", copyright: "Copyright (c) 2022 Anthropic" },
];

function knownDataset(name: string): (typeof KNOWN_DATASETS)[number] | undefined {
  return KNOWN_DATASETS.find((d) => name === d.prefix || name.startsWith(`${d.prefix}:`));
}

function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

export function sourceFile(n: number): string {
  return `sources/${n}.json`;
}

export function datasetFile(n: number): string {
  return `preferences/${n}.jsonl`;
}

/** "system-prompt.txt" for the first context, "system-prompt.2.txt" and so on for the others. */
export function systemPromptFile(i: number): string {
  return i === 0 ? "system-prompt.txt" : `system-prompt.${i + 1}.txt`;
}

/** Which sources carry a dataset: one per policy, at its first (highest-precedence) version. */
export function datasetSources(sources: { policy: string }[]): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  sources.forEach((s, i) => {
    if (seen.has(s.policy)) return;
    seen.add(s.policy);
    out.push(i + 1);
  });
  return out;
}

function manifestSource(input: SourceInput, n: number, content: PolicyContent): ManifestSource {
  const doc = input.document;
  return {
    iri: String(doc.id),
    policy: String(doc.policy),
    community: String(doc.attributedTo),
    contentHash: String(doc.contentHash),
    licence: content.licence,
    file: sourceFile(n),
    proof: doc.proof ?? null,
    communityKey: input.communityKey ? { id: input.communityKey.id, publicKeyMultibase: input.communityKey.publicKeyMultibase } : null,
  };
}

/** The normative content of a source document; throws with the file's name when it is malformed. */
export function sourceContent(document: Record<string, unknown>, file: string): PolicyContent {
  const parsed = policyContentSchema.safeParse(document.normativeContent);
  if (!parsed.success) throw new Error(`${file}: its normativeContent is not valid policy content`);
  return parsed.data;
}

function compose(sources: ManifestSource[], contents: PolicyContent[], spec: BundleSpec, context: string): EffectivePolicy {
  const composed: Source[] = sources.map((s, i) => ({
    id: s.policy,
    versionIri: s.iri,
    contentHash: s.contentHash,
    community: s.community,
    instance: new URL(s.iri).origin,
    title: contents[i]!.title,
    content: contents[i]!,
  }));
  return composePolicies(composed, parseTargetContext(context), { precedence: spec.precedence, annotations: spec.annotations });
}

function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Derives every file into `sink` and returns the manifest (without proof). */
export async function deriveBundle(input: DeriveInput, sink: BundleSink): Promise<BundleManifest> {
  const files: Record<string, FileEntry> = {};
  const put = async (path: string, text: string) => {
    files[path] = await sink.text(path, text);
  };
  const contents = input.sources.map((s, i) => sourceContent(s.document, sourceFile(i + 1)));
  const sources = input.sources.map((s, i) => manifestSource(s, i + 1, contents[i]!));
  for (const [i, s] of input.sources.entries()) await put(sourceFile(i + 1), pretty(s.document));

  const contexts = input.spec.contexts.length === 0 ? [""] : input.spec.contexts;
  const effective = compose(sources, contents, input.spec, contexts[0]!);
  await put("policy.md", toMarkdown(effective));
  const systemPrompts: BundleManifest["systemPrompts"] = [];
  for (const [i, context] of contexts.entries()) {
    const prompt = toSystemPrompt(i === 0 ? effective : compose(sources, contents, input.spec, context), input.spec.systemPrompt);
    const file = systemPromptFile(i);
    await put(file, prompt);
    systemPrompts.push({ file, context: context.trim() === "" ? null : context.trim(), mode: input.spec.systemPrompt, ...textSize(prompt) });
  }
  await put("principles.json", pretty(toPrinciples(effective)));

  const prefs = await derivePreferences(input, sources, contents, effective, sink);
  Object.assign(files, prefs.files);

  const manifest: BundleManifest = {
    formatVersion: BUNDLE_FORMAT_VERSION,
    ...(input.title === undefined ? {} : { title: input.title }),
    createdFrom: {
      sources: input.spec.sources,
      context: contexts[0]!.trim() === "" ? null : contexts[0]!.trim(),
      contexts: input.spec.contexts,
      precedence: input.spec.precedence,
      systemPrompt: input.spec.systemPrompt,
      keepFlawed: input.spec.keepFlawed,
      annotations: input.spec.annotations,
    },
    files: {},
    sources,
    datasets: prefs.datasets,
    systemPrompts,
    licences: sortedDistinct(sources.map((s) => s.licence)),
    preferenceLicences: sortedDistinct(prefs.summary.datasets.flatMap((d) => (d.licence ? [d.licence] : []))),
    decisions: input.decisions ?? [],
    counts: { sources: sources.length, clauses: effective.clauses.length, ...prefs.counts },
    preferences: prefs.summary,
  };
  await put("README.md", datasetCard(manifest, input.signed));
  manifest.files = Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return manifest;
}

interface Candidate {
  record: PreferenceRecord;
  origin: "policy" | "dataset";
  /** Record IRI, or "<version IRI>#<clause id>" for a policy example. */
  ref: string;
  languages: string[];
}

/** The effective policy's own GOOD/BAD examples, as records, clause by clause in effective order. */
function* policyExampleCandidates(effective: EffectivePolicy, sources: ManifestSource[], contents: PolicyContent[]): Generator<Candidate> {
  for (const clause of effective.clauses) {
    const from = clause.provenance[0]!;
    const i = sources.findIndex((s) => s.iri === from.versionIri);
    const content = contents[i]!;
    const locales = clause.context.locale ?? content.contexts.flatMap((c) => c.locale ?? []);
    const records = recordsFromPolicyExamples({ ...content, clauses: [clause] }, from.versionIri, { createdAt: "1970-01-01T00:00:00Z" });
    for (const record of records) {
      yield { record, origin: "policy", ref: `${from.versionIri}#${clause.id}`, languages: sortedDistinct(locales) };
    }
  }
}

function consentSourceOf(candidate: Candidate): ConsentSource {
  if (candidate.origin === "policy") return "policy-licence";
  const name = candidate.record.source?.name;
  return name === undefined || name.startsWith("task:") ? "rater" : "steward-declared";
}

function datasetName(candidate: Candidate, policy: string): string {
  if (candidate.origin === "policy") return `policy:${candidate.record.policyVersion}`;
  const name = candidate.record.source?.name;
  // Members' answers to comparison tasks: the community's own data set.
  return name === undefined || name.startsWith("task:") ? `${policy}/preferences` : name;
}

async function derivePreferences(
  input: DeriveInput,
  sources: ManifestSource[],
  contents: PolicyContent[],
  effective: EffectivePolicy,
  sink: BundleSink,
): Promise<{
  files: Record<string, FileEntry>;
  datasets: BundleManifest["datasets"];
  counts: Omit<BundleManifest["counts"], "sources" | "clauses">;
  summary: BundleManifest["preferences"];
}> {
  const trl = await sink.lines(TRL_FILE);
  const openai = await sink.lines(OPENAI_FILE);
  const provenance = await sink.lines(PROVENANCE_FILE);
  const counts = { preferenceRecords: 0, policyExampleRecords: 0, preferencePairs: 0, skippedWithoutTrainConsent: 0, recordsWithoutPairs: 0, flawedRecords: 0 };
  const flaws = Object.fromEntries(FLAW_KINDS.map((k) => [k, 0])) as Record<FlawKind, number>;
  const flawExamples: BundleManifest["preferences"]["flawExamples"] = [];
  const byConsentSource = Object.fromEntries(CONSENT_SOURCES.map((s) => [s, 0])) as Record<ConsentSource, number>;
  const datasets = new Map<string, DatasetSummary>();
  const languages = new Set<string>();
  let recordsWithoutLanguage = 0;

  const take = async (candidate: Candidate, policy: string): Promise<void> => {
    const { record } = candidate;
    if (record?.consent?.train !== true) {
      counts.skippedWithoutTrainConsent++;
      return;
    }
    const found = recordFlaws(record);
    if (found.length > 0) {
      counts.flawedRecords++;
      for (const kind of found) flaws[kind]++;
      if (flawExamples.length < MAX_FLAW_EXAMPLES) flawExamples.push({ record: candidate.ref, flaws: found });
      if (!input.spec.keepFlawed) return;
    }
    const trlLines = toTrlLines(record);
    if (trlLines.length === 0) {
      counts.recordsWithoutPairs++;
      return;
    }
    const openaiLines = toOpenAiLines(record);
    const consentSource = consentSourceOf(candidate);
    const name = datasetName(candidate, policy);
    const licence = record.source?.licence ?? null;
    const known = knownDataset(name);
    const langs = candidate.languages.length > 0 ? candidate.languages : known ? [known.language] : [];
    if (langs.length === 0) recordsWithoutLanguage++;
    for (const l of langs) languages.add(l);
    const key = canonicalJson([name, licence, consentSource]);
    const summary = datasets.get(key) ?? { name, licence, consentSource, records: 0, copyright: known?.copyright ?? null };
    summary.records++;
    datasets.set(key, summary);
    byConsentSource[consentSource]++;
    counts.preferenceRecords++;
    if (candidate.origin === "policy") counts.policyExampleRecords++;
    counts.preferencePairs += trlLines.length;
    const line: PairProvenance = {
      origin: candidate.origin,
      record: candidate.ref,
      clauseIds: record.clauseIds,
      dataset: name,
      licence,
      consentSource,
      consent: record.consent,
    };
    const provenanceLine = `${JSON.stringify(line)}\n`;
    for (const [i, text] of trlLines.entries()) {
      await trl.write(text);
      await openai.write(openaiLines[i]!);
      await provenance.write(provenanceLine);
    }
  };

  for (const candidate of policyExampleCandidates(effective, sources, contents)) await take(candidate, sources[0]?.policy ?? "");

  const datasetEntries: BundleManifest["datasets"] = [];
  const files: Record<string, FileEntry> = {};
  if (input.withPreferences) {
    for (const n of datasetSources(sources)) {
      const source = sources[n - 1]!;
      const file = datasetFile(n);
      const pageSink = await sink.lines(file);
      let pages = 0;
      let records = 0;
      for await (const page of input.pages(n)) {
        pages++;
        await pageSink.write(`${JSON.stringify(page)}\n`);
        const items = Array.isArray(page.orderedItems) ? (page.orderedItems as { id?: unknown; preference?: unknown }[]) : [];
        for (const item of items) {
          records++;
          const ref = typeof item.id === "string" ? item.id : `${file}#${records}`;
          await take({ record: item.preference as PreferenceRecord, origin: "dataset", ref, languages: [] }, source.policy);
        }
      }
      files[file] = await pageSink.close();
      datasetEntries.push({ source: n, policy: source.policy, file, pages, records });
    }
  }
  files[TRL_FILE] = await trl.close();
  files[OPENAI_FILE] = await openai.close();
  files[PROVENANCE_FILE] = await provenance.close();
  const sortedDatasets = [...datasets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.licence ?? "") < (b.licence ?? "") ? -1 : 1));
  return {
    files,
    datasets: datasetEntries,
    counts,
    summary: { datasets: sortedDatasets, byConsentSource, languages: sortedDistinct(languages), recordsWithoutLanguage, flaws, flawExamples },
  };
}

/** The hash a dataset page carries of its items (federation/preference-datasets.ts signs it). */
export function pageItemsHash(items: unknown[]): string {
  return `sha256:${createHash("sha256").update(canonicalJson(items)).digest("hex")}`;
}
