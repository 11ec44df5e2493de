/**
 * Bundles exported by this instance: the same bundle a `bundle pull` writes,
 * plus a proof over the manifest by the instance actor, delivered as a
 * .tar.gz. Sources are this instance's policies or the mirrored copies of
 * followed ones (`sources=3@2,5`, highest precedence first), or one local
 * policy's newest version (`policy=3`). `/bundles/preview` answers the
 * effective policy and its conflicts as JSON, for choosing before
 * downloading.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isActor } from "@fedify/vocab";
import { parseTargetContext, targetContextSchema, toTargetContext, type TargetContext } from "../bundles/compose.ts";
import { composeHeld, contextString, heldSources, objectionsFor, sourcesSchema, type HeldSource } from "../bundles/instance.ts";
import { writeBundle } from "../bundles/bundle.ts";
import { InvalidInputError } from "../errors.ts";
import { getPolicyById, isLocal } from "../policies/policies.ts";
import { multibaseFromPublicKey } from "../policies/proof.ts";
import { datasetPages } from "../../federation/preference-datasets.ts";
import { communityProofKey } from "../../federation/policy-signing.ts";
import { ownerIdentifier } from "../../federation/policy-activities.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import type { CommunityKey } from "../bundles/bundle.ts";
import { jsonResponse, Loose, problemResponse } from "./schemas.ts";

const facets = targetContextSchema.shape;

const BundleQuery = z
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
type BundleQuery = z.output<typeof BundleQuery>;

function targetOf(query: BundleQuery): TargetContext {
  if (query.context !== undefined) return parseTargetContext(query.context);
  return toTargetContext({ domain: query.domain, audience: query.audience, locale: query.locale, deployment: query.deployment });
}

export function bundleRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  const sourcesOf = (query: BundleQuery): HeldSource[] => {
    if (query.sources) return heldSources(db, query.sources);
    const policy = getPolicyById(db, query.policy!);
    if (!isLocal(policy)) throw new InvalidInputError(`${policy.iri} belongs to another instance: pull it with \`fedalign bundle pull ${policy.iri}\`.`);
    return heldSources(db, [{ policyId: policy.id }]);
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/bundles/preview",
      tags: ["bundles"],
      summary: "The effective policy a bundle would hold: clauses in precedence order with provenance, conflicts, and what was left out",
      request: { query: BundleQuery },
      responses: { 200: jsonResponse(Loose, "The effective policy"), 400: problemResponse("Bad sources or context"), 404: problemResponse("A source is not held here") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const held = sourcesOf(query);
      const effective = composeHeld(db, held, targetOf(query));
      return c.json(
        {
          ...effective,
          chosen: held.map((h) => ({ policyId: h.policy.id, version: h.version.number, iri: h.policy.iri, versionIri: h.version.iri, local: isLocal(h.policy) })),
        } as unknown as Record<string, unknown>,
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/bundles",
      tags: ["bundles"],
      summary: "A bundle of policies held here (local or followed), composed for a context, signed by the instance, as .tar.gz",
      request: { query: BundleQuery },
      responses: {
        200: { content: { "application/gzip": { schema: z.string().openapi({ format: "binary" }) } }, description: "The bundle" },
        400: problemResponse("Bad sources or context"),
        404: problemResponse("A source is not held here"),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const held = sourcesOf(query);
      const target = targetOf(query);
      const ctx = fedContext(deps);
      const instanceKey = await communityProofKey(ctx, "instance");
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
            annotations: objectionsFor(db, held),
            // Anyone may download this: the community's signed pages hold only records whose raters allow them to leave the instance.
            ...(query.preferences === "true" ? { pages: (n: number) => signedPages(ctx, held[n - 1]!) } : {}),
            title: held.map((h) => h.source.title).join(" + "),
          },
          { signer: { privateKey: instanceKey.privateKey, verificationMethod: instanceKey.keyId.href, created: newest }, tarGz },
        );
        const bytes = readFileSync(tarGz);
        const first = held[0]!;
        const name = held.length === 1 ? `${first.policy.slug}-v${first.version.number}` : `${first.policy.slug}-and-${held.length - 1}-more`;
        return c.body(bytes, 200, {
          "Content-Type": "application/gzip",
          "Content-Disposition": `attachment; filename="${bundleFileName(ctx, first, name)}.tar.gz"`,
        }) as never;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  );

  return app;
}

/** A local policy's dataset as its community signs it for federation; a followed policy's records are not ours to sign. */
async function* signedPages(ctx: ReturnType<typeof fedContext>, held: HeldSource): AsyncGenerator<Record<string, unknown>> {
  if (!isLocal(held.policy)) return;
  yield* datasetPages(ctx, held.policy);
}

function bundleFileName(ctx: ReturnType<typeof fedContext>, first: HeldSource, name: string): string {
  const handle = ownerIdentifier(ctx, first.policy) ?? new URL(first.policy.ownerIri).pathname.split("/").filter(Boolean).pop() ?? "bundle";
  return `${handle}-${name}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

/**
 * The key the source's community signed it with, embedded so the bundle
 * verifies offline: ours for local policies, the community actor's published
 * key for mirrored ones (left out when it cannot be fetched; verifiers then
 * fetch it themselves).
 */
async function sourceKey(ctx: ReturnType<typeof fedContext>, held: HeldSource): Promise<CommunityKey | undefined> {
  const handle = ownerIdentifier(ctx, held.policy);
  if (handle) {
    const key = await communityProofKey(ctx, handle);
    return { id: key.keyId.href, publicKeyMultibase: await multibaseFromPublicKey(key.publicKey) };
  }
  const method = (held.version.document.proof as { verificationMethod?: string } | undefined)?.verificationMethod;
  if (!method) return undefined;
  try {
    const owner = await ctx.lookupObject(held.policy.ownerIri);
    if (!isActor(owner)) return undefined;
    for await (const key of owner.getAssertionMethods(ctx)) {
      if (key.id?.href === method && key.publicKey) return { id: method, publicKeyMultibase: await multibaseFromPublicKey(key.publicKey) };
    }
  } catch {
    // Unreachable community: the bundle still verifies with a fetched or pinned key.
  }
  return undefined;
}
