/**
 * zod helpers shared by the API routes (bodies, responses, problems, path
 * parameters); they also generate the OpenAPI document. Each area's request
 * and response schemas live in ./schemas/<area>.ts.
 */
import { z } from "@hono/zod-openapi";
import { identifierSchema } from "../actors/local-actors.ts";

/** Routes that need a personal API token. */
export const security = [{ bearer: [] }];

/** A JSON object whose shape the route documents in prose (diffs, reports, summaries). */

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export const problemResponse = (description: string) => ({
  content: { "application/problem+json": { schema: Problem } },
  description,
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

export const Handle = identifierSchema.openapi({ example: "nurses" });

export const IdParam = z.object({ id: z.coerce.number().int().positive().openapi({ param: { name: "id", in: "path" } }) });
export const HandleParam = z.object({ handle: Handle.openapi({ param: { name: "handle", in: "path" } }) });
