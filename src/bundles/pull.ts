/**
 * Pulling a bundle without running an instance: fetch each source (a policy
 * or a version IRI) from its instance, check its hash and proof against the
 * community's published key, optionally fetch its consented preference
 * records (each page checked), compose the effective policy for a context,
 * and write the bundle with the community keys embedded so that `verify`
 * works offline afterwards.
 */
import { writeBundle, type BundleManifest } from "./bundle.ts";
import { parseTargetContext, type SystemPromptMode } from "./compose.ts";
import { datasetSources } from "./derive.ts";
import { fetchPages, fetchVersion, type CommunityKey, type VerifiedVersion } from "./fetch.ts";

export interface PullOptions {
  /** Policy or version IRIs, highest precedence first. */
  sources: string[];
  /** A version number, for a single policy source. */
  version?: number;
  /** "domain=health,audience=patients,locale=sw"; empty for any context. The policy and principles are composed for it. */
  context?: string;
  /** Further contexts, each with its own system prompt (system-prompt.2.txt, ...). */
  moreContexts?: string[];
  /** "compact" (default): clause ids and normative text by authority level; "full": titles, rationale and examples too. */
  systemPrompt?: SystemPromptMode;
  /** Keep records with flaws a training pipeline trips on (they are reported either way). */
  keepFlawed?: boolean;
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
  // Bad contexts fail before anything is fetched or written.
  for (const context of [options.context ?? "", ...(options.moreContexts ?? [])]) parseTargetContext(context);
  const keys = new Map<string, CommunityKey>();
  const versions: VerifiedVersion[] = [];
  for (const source of options.sources) {
    options.onProgress?.({ stage: "source", source });
    versions.push(await fetchVersion(source, options.sources.length === 1 ? options.version : undefined, keys));
  }
  const contexts = [options.context?.trim() ?? "", ...(options.moreContexts ?? []).map((c) => c.trim())];
  const withDataset = new Set(datasetSources(versions));
  const manifest = await writeBundle(
    options.out,
    {
      sources: options.sources,
      versions: versions.map((v) => ({ document: v.document, communityKey: { id: v.key.id, publicKeyMultibase: v.key.publicKeyMultibase } })),
      contexts: contexts.length === 1 && contexts[0] === "" ? [] : contexts,
      precedence: versions.map((v) => v.policy),
      systemPrompt: options.systemPrompt ?? "compact",
      keepFlawed: options.keepFlawed ?? false,
      ...(options.withPreferences
        ? {
            pages: (n: number) => {
              const version = versions[n - 1]!;
              if (!withDataset.has(n)) throw new Error(`source ${n} carries no dataset`);
              return fetchPages(version, keys, (count) => options.onProgress?.({ stage: "preferences", source: version.policy, count }));
            },
          }
        : {}),
      title: versions.map((v) => v.title).join(" + "),
    },
    options.tarGz ? { tarGz: options.tarGz } : undefined,
  );
  return { manifest, versions: versions.map((v) => ({ iri: v.iri, contentHash: v.contentHash, community: v.community })) };
}
