/**
 * Bundles exported by this instance for its own policies: the same bundle
 * a `bundle pull` writes, plus a proof over the manifest by the instance
 * actor, delivered as a .tar.gz.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composePolicies, parseTargetContext, toMarkdown, toPrinciples, toSystemPrompt } from "../bundles/compose.ts";
import { writeBundle } from "../bundles/bundle.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { getPolicyById, headVersion, isLocal, versionContent } from "../policies/policies.ts";
import { multibaseFromPublicKey } from "../policies/proof.ts";
import type { PreferenceRecord } from "../preferences/record.ts";
import { trainableRecords } from "../preferences/store.ts";
import { communityProofKey } from "../../federation/policy-signing.ts";
import { ownerIdentifier } from "../../federation/policy-activities.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { problemResponse } from "./schemas.ts";

export function bundleRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  app.openapi(
    createRoute({
      method: "get",
      path: "/bundles",
      tags: ["bundles"],
      summary: "A bundle of one of this instance's policies (newest version), composed for a context, signed by the instance, as .tar.gz",
      request: {
        query: z.object({
          policy: z.coerce.number().int().positive(),
          context: z.string().optional(),
          preferences: z.enum(["true", "false"]).optional(),
        }),
      },
      responses: {
        200: { content: { "application/gzip": { schema: z.string().openapi({ format: "binary" }) } }, description: "The bundle" },
        400: problemResponse("Not a local policy, or a bad context"),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const policy = getPolicyById(db, query.policy);
      if (!isLocal(policy)) throw new InvalidInputError(`${policy.iri} belongs to another instance: pull it with \`fedalign bundle pull ${policy.iri}\`.`);
      const version = headVersion(db, policy);
      if (!version) throw new NotFoundError(`"${policy.title}" has no published version.`);
      const target = parseTargetContext(query.context ?? "");
      const ctx = fedContext(deps);
      const handle = ownerIdentifier(ctx, policy)!;
      const communityKey = await communityProofKey(ctx, handle);
      const instanceKey = await communityProofKey(ctx, "instance");
      const content = versionContent(version);
      const effective = composePolicies(
        [{ id: policy.iri, versionIri: version.iri, contentHash: version.contentHash, community: policy.ownerIri, instance: new URL(policy.iri).origin, title: content.title, content }],
        target,
      );
      // Anyone may download this: only records whose raters allow both training and leaving the instance.
      function* preferences(): Generator<PreferenceRecord> {
        if (query.preferences !== "true") return;
        for (const record of trainableRecords(db, { policyId: policy.id })) if (record.consent.federate) yield record;
      }
      const work = mkdtempSync(join(tmpdir(), "fedalign-export-"));
      try {
        const tarGz = join(work, "bundle.tar.gz");
        await writeBundle(
          join(work, "bundle"),
          {
            createdFrom: { sources: [version.iri], context: query.context?.trim() || null, precedence: [policy.iri] },
            versions: [
              {
                iri: version.iri,
                policy: policy.iri,
                community: policy.ownerIri,
                contentHash: version.contentHash,
                licence: content.licence,
                document: version.document,
                communityKey: { id: communityKey.keyId.href, publicKeyMultibase: await multibaseFromPublicKey(communityKey.publicKey) },
              },
            ],
            files: { "policy.md": toMarkdown(effective), "system-prompt.txt": toSystemPrompt(effective), "principles.json": toPrinciples(effective) },
            preferences: preferences(),
            clauseCount: effective.clauses.length,
            title: content.title,
          },
          { signer: { privateKey: instanceKey.privateKey, verificationMethod: instanceKey.keyId.href, created: version.publishedAt }, tarGz },
        );
        const bytes = readFileSync(tarGz);
        return c.body(bytes, 200, {
          "Content-Type": "application/gzip",
          "Content-Disposition": `attachment; filename="${handle}-${policy.slug}-v${version.number}.tar.gz"`,
        }) as never;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  );

  return app;
}
