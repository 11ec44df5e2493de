/**
 * Searching the clauses of the policies this instance holds (its own and
 * those it follows), in one policy or across all. Every published version
 * is public, so anyone may search; the index is src/policies/search.ts.
 */
import { inArray } from "drizzle-orm";
import { policies, policyVersions } from "../../db/schema.ts";
import { NotFoundError } from "../errors.ts";
import { findPolicyById, type Policy } from "../policies/policies.ts";
import { queryTerms, searchClauses, type ClauseHit } from "../policies/search.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";

export const SearchQuery = z
  .object({
    q: z.string().max(500, "must be at most 500 characters").default(""),
    policy: z.coerce.number().int().positive().optional(),
  })
  .strict();
export type SearchInput = z.output<typeof SearchQuery>;

export interface SearchResult {
  /** The words searched for, as understood (punctuation and search syntax dropped). */
  terms: string[];
  total: number;
  hits: (ClauseHit & { policy: Policy; versionNumber: number })[];
}

export const SEARCH_LIMIT = 50;

export async function searchPolicies(ctx: AppContext, input: SearchInput): Promise<SearchResult> {
  if (input.policy !== undefined && !await findPolicyById(ctx.db, input.policy)) throw new NotFoundError(`No policy with id ${input.policy} on this instance.`);
  const terms = queryTerms(input.q);
  const { hits, total } = await searchClauses(ctx.db, terms, { policyId: input.policy, limit: SEARCH_LIMIT });
  if (hits.length === 0) return { terms, total, hits: [] };
  const policyRows = await ctx.db.select().from(policies).where(inArray(policies.id, [...new Set(hits.map((hit) => hit.policyId))]));
  const versionRows = await ctx.db
    .select({ id: policyVersions.id, number: policyVersions.number })
    .from(policyVersions)
    .where(inArray(policyVersions.id, [...new Set(hits.map((hit) => hit.versionId))]));
  const policyOf = new Map(policyRows.map((row) => [row.id, row]));
  const numberOf = new Map(versionRows.map((row) => [row.id, row.number]));
  return {
    terms,
    total,
    hits: hits.flatMap((hit) => {
      const policy = policyOf.get(hit.policyId);
      const versionNumber = numberOf.get(hit.versionId);
      return policy && versionNumber !== undefined ? [{ ...hit, policy, versionNumber }] : [];
    }),
  };
}
