/**
 * Small builders for policy content in tests: each returns new, parsed
 * content and leaves its input alone.
 */
import { policyContentSchema, type Clause, type PolicyContent, type PolicyContentInput } from "../src/policies/content.ts";

export type ClauseInput = NonNullable<PolicyContentInput["clauses"]>[number];

export function parse(content: PolicyContentInput): PolicyContent {
  return policyContentSchema.parse(content);
}

export function clauseOf(content: PolicyContent, id: string): Clause {
  const found = content.clauses.find((c) => c.id === id);
  if (!found) throw new Error(`no clause ${id}`);
  return found;
}

export function edit(content: PolicyContent, id: string, changes: Partial<ClauseInput>): PolicyContent {
  return parse({ ...content, clauses: content.clauses.map((c) => (c.id === id ? { ...c, ...changes } : c)) });
}

export function without(content: PolicyContent, ...ids: string[]): PolicyContent {
  return parse({ ...content, clauses: content.clauses.filter((c) => !ids.includes(c.id)) });
}

export function withClause(content: PolicyContent, clause: ClauseInput, after: string | null): PolicyContent {
  const clauses: ClauseInput[] = [...content.clauses];
  clauses.splice(after === null ? 0 : clauses.findIndex((c) => c.id === after) + 1, 0, clause);
  return parse({ ...content, clauses });
}

export function ordered(content: PolicyContent, ids: string[]): PolicyContent {
  return parse({ ...content, clauses: ids.map((id) => clauseOf(content, id)) });
}

export const ids = (content: PolicyContent) => content.clauses.map((c) => c.id);
