/**
 * Pulling a bundle without running an instance: fetch each source (a policy
 * or a version IRI) from its instance, check its hash and proof against the
 * community's published key, optionally fetch its consented preference
 * records (each page checked), compose the effective policy for a context,
 * and write the bundle with the community keys embedded so that `verify`
 * works offline afterwards.
 */
import { composePolicies, parseTargetContext, toMarkdown, toPrinciples, toSystemPrompt, type Source } from "./compose.ts";
import { writeBundle, type BundleManifest } from "./bundle.ts";
import { fetchPreferences, fetchVersion, type CommunityKey, type VerifiedVersion } from "./fetch.ts";
import type { PreferenceRecord } from "../preferences/record.ts";

export interface PullOptions {
  /** Policy or version IRIs, highest precedence first. */
  sources: string[];
  /** A version number, for a single policy source. */
  version?: number;
  /** "domain=health,audience=patients,locale=sw"; empty for any context. */
  context?: string;
  withPreferences?: boolean;
  out: string;
  tarGz?: string;
  onProgress?: (event: { stage: "source" | "preferences"; source: string; count?: number }) => void;
}

export interface PullResult {
  manifest: BundleManifest;
  versions: { iri: string; contentHash: string; community: string }[];
}

export async function pullBundle(options: PullOptions): Promise<PullResult> {
  if (options.sources.length === 0) throw new Error("Name at least one source (a policy or version IRI).");
  const target = parseTargetContext(options.context ?? "");
  const keys = new Map<string, CommunityKey>();
  const versions: VerifiedVersion[] = [];
  for (const source of options.sources) {
    options.onProgress?.({ stage: "source", source });
    versions.push(await fetchVersion(source, options.sources.length === 1 ? options.version : undefined, keys));
  }
  const sources: Source[] = versions.map((v) => ({
    id: v.policy,
    versionIri: v.iri,
    contentHash: v.contentHash,
    community: v.community,
    instance: new URL(v.iri).origin,
    title: v.title,
    content: v.content,
  }));
  const effective = composePolicies(sources, target, { precedence: versions.map((v) => v.policy) });
  const preferences = options.withPreferences ? allPreferences(versions, keys, options) : emptyPreferences();
  const manifest = await writeBundle(
    options.out,
    {
      createdFrom: { sources: options.sources, context: options.context?.trim() || null, precedence: versions.map((v) => v.policy) },
      versions: versions.map((v) => ({
        iri: v.iri,
        policy: v.policy,
        community: v.community,
        contentHash: v.contentHash,
        licence: v.licence,
        document: v.document,
        communityKey: { id: v.key.id, publicKeyMultibase: v.key.publicKeyMultibase },
      })),
      files: { "policy.md": toMarkdown(effective), "system-prompt.txt": toSystemPrompt(effective), "principles.json": toPrinciples(effective) },
      preferences,
      clauseCount: effective.clauses.length,
      title: versions.map((v) => v.title).join(" + "),
    },
    options.tarGz ? { tarGz: options.tarGz } : undefined,
  );
  return { manifest, versions: versions.map((v) => ({ iri: v.iri, contentHash: v.contentHash, community: v.community })) };
}

async function* allPreferences(versions: VerifiedVersion[], keys: Map<string, CommunityKey>, options: PullOptions): AsyncGenerator<PreferenceRecord> {
  const seen = new Set<string>();
  for (const version of versions) {
    // One dataset per policy, however many of its versions are sources.
    if (seen.has(version.policy)) continue;
    seen.add(version.policy);
    for await (const record of fetchPreferences(version, keys, (count) => options.onProgress?.({ stage: "preferences", source: version.policy, count }))) {
      if (record.consent?.train === true) yield record;
    }
  }
}

async function* emptyPreferences(): AsyncGenerator<PreferenceRecord> {}
