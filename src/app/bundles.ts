/**
 * Use cases of bundles an instance exports: the effective policy a choice of
 * held sources composes to (preview), and the bundle itself, signed by the
 * instance, as .tar.gz. Sources are this instance's policies or the mirrored
 * copies of followed ones (`sources=3@2,5`, highest precedence first), or
 * one local policy's newest version (`policy=3`). Both are reads: anyone may
 * make them, and they change nothing.
 *
 * `fedalign bundle pull` and `verify` need no instance: they are the domain
 * functions `pullBundle` (src/bundles/pull.ts, which fetches and checks
 * every remote document before writing anything) and `verifyBundle`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBundle, type CommunityKey } from "../bundles/bundle.ts";
import { parseTargetContext, targetContextSchema, toTargetContext, type EffectivePolicy, type TargetContext } from "../bundles/compose.ts";
import { composeHeld, contextString, heldSources, objectionsFor, ownerOf, preferenceCounts, sourcesSchema, type HeldSource, type PreferenceCounts } from "../bundles/instance.ts";
import { InvalidInputError } from "../errors.ts";
import { getPolicyById, isLocal } from "../policies/policies.ts";
import { multibaseFromPublicKey } from "../policies/proof.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import type { Viewer } from "./permissions.ts";

const facets = targetContextSchema.shape;

export const BundleQuery = z
  .object({
    policy: z.coerce.number().int().positive().optional().openapi({ description: "One local policy (its newest version)" }),
    sources: sourcesSchema.optional().openapi({ description: "Comma-separated <policy id> or <policy id>@<version>, highest precedence first", example: "3@2,5" }),
    context: z.string().optional().openapi({ description: "Target context as facet=value pairs, e.g. domain=health,locale=sw" }),
    domain: facets.domain,
    audience: facets.audience,
    locale: facets.locale,
    deployment: facets.deployment,
    preferences: z.enum(["true", "false"]).optional(),
    systemPrompt: z.enum(["compact", "full"]).optional().openapi({ description: "compact (default): clause ids and normative text; full: titles, rationale and examples too" }),
    keepFlawed: z.enum(["true", "false"]).optional().openapi({ description: "keep records a training pipeline would trip on (they are reported either way)" }),
  })
  .superRefine((query, ctx) => {
    if (query.policy === undefined && query.sources === undefined) ctx.addIssue({ code: "custom", path: ["sources"], message: "choose at least one policy" });
    if (query.policy !== undefined && query.sources !== undefined) ctx.addIssue({ code: "custom", path: ["sources"], message: "give policy or sources, not both" });
    const named = (["domain", "audience", "locale", "deployment"] as const).filter((facet) => query[facet] !== undefined);
    if (named.length && query.context !== undefined) ctx.addIssue({ code: "custom", path: ["context"], message: "give the context as one string or as facets, not both" });
  });
export type BundleQuery = z.output<typeof BundleQuery>;

export interface BundlePreview extends EffectivePolicy {
  /** The sources as chosen, named for people: policy title, and the community with its host when it is another instance's. */
  chosen: { policyId: number; version: number; iri: string; versionIri: string; local: boolean; title: string; community: { name: string; host: string | null } }[];
  /** What the preference files would hold, with and without preference data. */
  preferences: PreferenceCounts;
}

export interface BundleFile {
  fileName: string;
  bytes: Uint8Array<ArrayBuffer>;
}

function targetOf(query: BundleQuery): TargetContext {
  if (query.context !== undefined) return parseTargetContext(query.context);
  return toTargetContext({ domain: query.domain, audience: query.audience, locale: query.locale, deployment: query.deployment });
}

async function sourcesOf(ctx: AppContext, query: BundleQuery): Promise<HeldSource[]> {
  if (query.sources) return heldSources(ctx.db, query.sources);
  const policy = await getPolicyById(ctx.db, query.policy!);
  if (!isLocal(policy)) throw new InvalidInputError(`${policy.iri} belongs to another instance: pull it with \`fedalign bundle pull ${policy.iri}\`.`);
  return heldSources(ctx.db, [{ policyId: policy.id }]);
}

/** The effective policy a bundle would hold: clauses in precedence order with provenance, conflicts, and what was left out. */
export async function previewBundle(ctx: AppContext, _viewer: Viewer, query: BundleQuery): Promise<BundlePreview> {
  const held = await sourcesOf(ctx, query);
  const effective = await composeHeld(ctx.db, held, targetOf(query));
  return {
    ...effective,
    chosen: await Promise.all(held.map(async (h) => ({
      policyId: h.policy.id,
      version: h.version.number,
      iri: h.policy.iri,
      versionIri: h.version.iri,
      local: isLocal(h.policy),
      title: h.source.title,
      community: await ownerOf(ctx.db, h.policy),
    }))),
    preferences: await preferenceCounts(ctx.db, held, effective),
  };
}

/**
 * The bundle of the chosen sources, composed for the context, its manifest
 * signed by the instance, as .tar.gz. With `preferences`, each local
 * policy's dataset as its community signs it for federation (only records
 * whose raters allow them to leave the instance, so anyone may download it).
 */
export async function exportBundle(ctx: AppContext, _viewer: Viewer, query: BundleQuery): Promise<BundleFile> {
  const held = await sourcesOf(ctx, query);
  const target = targetOf(query);
  const instanceKey = await ctx.federation.proofKey("instance");
  const keys: (CommunityKey | undefined)[] = [];
  for (const h of held) keys.push(await sourceKey(ctx, h));
  const newest = held.map((h) => h.version.publishedAt).reduce((a, b) => (a > b ? a : b));
  const work = mkdtempSync(join(tmpdir(), "fedalign-export-"));
  try {
    const tarGz = join(work, "bundle.tar.gz");
    const context = query.context?.trim() || contextString(target);
    await writeBundle(
      join(work, "bundle"),
      {
        sources: held.map((h) => h.version.iri),
        versions: held.map((h, i) => ({ document: h.version.document, ...(keys[i] ? { communityKey: keys[i] } : {}) })),
        contexts: context ? [context] : [],
        precedence: held.map((h) => h.policy.iri),
        systemPrompt: query.systemPrompt ?? "compact",
        keepFlawed: query.keepFlawed === "true",
        annotations: await objectionsFor(ctx.db, held),
        ...(query.preferences === "true" ? { pages: (n: number) => signedPages(ctx, held[n - 1]!) } : {}),
        title: held.map((h) => h.source.title).join(" + "),
      },
      { signer: { privateKey: instanceKey.privateKey, verificationMethod: instanceKey.keyId, created: newest }, tarGz },
    );
    return { fileName: `${bundleFileName(ctx, held)}.tar.gz`, bytes: readFileSync(tarGz) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A local policy's dataset as its community signs it for federation; a followed policy's records are not ours to sign. */
async function* signedPages(ctx: AppContext, held: HeldSource): AsyncGenerator<Record<string, unknown>> {
  if (!isLocal(held.policy)) return;
  yield* ctx.federation.datasetPages(held.policy);
}

function bundleFileName(ctx: AppContext, held: HeldSource[]): string {
  const first = held[0]!;
  const name = held.length === 1 ? `${first.policy.slug}-v${first.version.number}` : `${first.policy.slug}-and-${held.length - 1}-more`;
  const handle = ctx.federation.localOwner(first.policy) ?? new URL(first.policy.ownerIri).pathname.split("/").filter(Boolean).pop() ?? "bundle";
  return `${handle}-${name}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

/**
 * The key the source's community signed it with, embedded so the bundle
 * verifies offline: ours for local policies, the community actor's published
 * key for mirrored ones (left out when it cannot be fetched; verifiers then
 * fetch it themselves).
 */
async function sourceKey(ctx: AppContext, held: HeldSource): Promise<CommunityKey | undefined> {
  const handle = ctx.federation.localOwner(held.policy);
  if (handle) {
    const key = await ctx.federation.proofKey(handle);
    return { id: key.keyId, publicKeyMultibase: await multibaseFromPublicKey(key.publicKey) };
  }
  const method = (held.version.document.proof as { verificationMethod?: string } | undefined)?.verificationMethod;
  if (!method) return undefined;
  const key = await ctx.federation.remoteAssertionKey(held.policy.ownerIri, method);
  return key ? { id: method, publicKeyMultibase: await multibaseFromPublicKey(key) } : undefined;
}
