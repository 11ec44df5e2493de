/**
 * Preference records from a policy's own examples (the Model Spec's GOOD /
 * BAD comparisons, or any clause example with labelled responses).
 *
 * - Every example with at least one good and one bad response yields one
 *   record per (good, bad) pair, in the order they are written: responses
 *   [good, bad], choice 0. One-sided examples and scenarios yield nothing.
 * - clauseIds = [the clause's id]; policyVersion = the version IRI; source
 *   {name: "policy:<version IRI>", licence: the policy's licence}, no line.
 * - rationale: "Good: <note>" and "Bad: <note>" for the notes given, then
 *   the example's "why", separated by blank lines (cut to the schema's
 *   10,000 characters). The example title is not carried.
 * - Consent defaults to what the policy's licence allows
 *   (`consentFromLicence`); the rater id to `importRaterId` of the source
 *   name: the policy's authors are the raters, and no person is named.
 */
import type { PolicyContent } from "../../policies/content.ts";
import { consentFromLicence, preferenceRecordSchema, type Consent, type PreferenceRecord } from "../record.ts";
import { importRaterId } from "./common.ts";

export interface PolicyExampleDefaults {
  /** ISO 8601 date-time with offset, e.g. the version's publication time. */
  createdAt: string;
  consent?: Consent;
  raterId?: string;
}

const MAX_RATIONALE = 10_000;

export function recordsFromPolicyExamples(content: PolicyContent, versionIri: string, defaults: PolicyExampleDefaults): PreferenceRecord[] {
  const name = `policy:${versionIri}`;
  const consent = defaults.consent ?? consentFromLicence(content.licence).consent;
  const raterId = defaults.raterId ?? importRaterId(name);
  const records: PreferenceRecord[] = [];
  for (const clause of content.clauses) {
    for (const example of clause.examples) {
      const good = example.responses.filter((r) => r.label === "good");
      const bad = example.responses.filter((r) => r.label === "bad");
      for (const g of good) {
        for (const b of bad) {
          const parts = [g.note && `Good: ${g.note}`, b.note && `Bad: ${b.note}`, example.why].filter((p): p is string => Boolean(p?.trim()));
          let rationale = parts.join("\n\n");
          if (rationale.length > MAX_RATIONALE) rationale = `${rationale.slice(0, MAX_RATIONALE - 1)}…`;
          records.push(
            preferenceRecordSchema.parse({
              prompt: example.prompt.map((m) => ({ role: m.role, content: m.content })),
              responses: [{ content: g.content }, { content: b.content }],
              choice: 0,
              rationale,
              clauseIds: [clause.id],
              policyVersion: versionIri,
              raterId,
              createdAt: defaults.createdAt,
              consent,
              source: { name, licence: content.licence },
            }),
          );
        }
      }
    }
  }
  return records;
}
