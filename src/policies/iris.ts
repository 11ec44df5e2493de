/**
 * Where local policy objects live. Policies nest under their community's
 * actor IRI, so the address says who owns them:
 *   /actors/nurses/policies/care            the policy
 *   /actors/nurses/policies/care/versions   its versions (ordered collection)
 *   /actors/nurses/policies/care/versions/3 version 3
 *   /actors/nurses/policies                 the community's policies
 */
import { actorIri } from "../actors/iris.ts";

export function communityIri(origin: string, handle: string): string {
  return actorIri(origin, handle);
}

export function communityPoliciesIri(origin: string, handle: string): string {
  return `${communityIri(origin, handle)}/policies`;
}

export function policyIri(origin: string, handle: string, slug: string): string {
  return `${communityPoliciesIri(origin, handle)}/${slug}`;
}

export function versionsIri(policy: string): string {
  return `${policy}/versions`;
}

export function versionIri(policy: string, number: number): string {
  return `${versionsIri(policy)}/${number}`;
}

export function proposalIri(policy: string, proposalId: number): string {
  return `${policy}/proposals/${proposalId}`;
}

export function clauseIri(versionIri: string, clauseId: string): string {
  return `${versionIri}/clauses/${encodeURIComponent(clauseId)}`;
}
