/**
 * Bundles exported by this instance (src/app/bundles.ts): `/bundles/preview`
 * answers the effective policy and its conflicts as JSON, for choosing
 * before downloading; `/bundles` is the bundle itself, signed by the
 * instance, as .tar.gz.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { exportBundle, previewBundle } from "../app/bundles.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonResponse, problemResponse } from "./schemas.ts";
import { BundlePreview, BundleQuery } from "./schemas/bundles.ts";

const previewRoute = createRoute({
  method: "get",
  path: "/bundles/preview",
  tags: ["bundles"],
  summary: "The effective policy a bundle would hold: clauses in precedence order with provenance, conflicts, and what was left out",
  request: { query: BundleQuery },
  responses: { 200: jsonResponse(BundlePreview, "The effective policy"), 400: problemResponse("Bad sources or context"), 404: problemResponse("A source is not held here") },
});

const bundleRoute = createRoute({
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
});

export function bundleRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();

  app.openapi(previewRoute, async (c) => c.json(await previewBundle(context, await optionalUser(c, db), c.req.valid("query")), 200));

  app.openapi(bundleRoute, async (c) => {
    const file = await exportBundle(context, await optionalUser(c, db), c.req.valid("query"));
    return c.body(file.bytes, 200, {
      "Content-Type": "application/gzip",
      "Content-Disposition": `attachment; filename="${file.fileName}"`,
    }) as never;
  });

  return app;
}
