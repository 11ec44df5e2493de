/**
 * Bundles an instance composes from the policies it holds: its own and the
 * mirrored copies of followed ones (each version stored exactly as its
 * community signed it). Sources are named "<policy id>" (newest live
 * version) or "<policy id>@<version number>", highest precedence first.
 * Objections (annotations with motivation "object") held for a source's
 * version are passed to composition, so they show as conflicts.
 */
import { and, count, eq, inArray, isNull } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { annotations, preferenceRecords } from "../../db/schema.ts";
import { consentFromLicence } from "../preferences/record.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { policyOwner } from "../policies/owner.ts";
import { findVersion, getPolicyById, headVersion, isLocal, versionContent, type Policy, type PolicyVersion } from "../policies/policies.ts";
import { z } from "../zod.ts";
import { composePolicies, formatTargetContext, type EffectivePolicy, type ObjectionAnnotation, type Source, type TargetContext } from "./compose.ts";

export const SOURCE_SPEC = /^(\d+)(?:@(\d+))?$/;

/** "3@2,5": comma-separated sources, highest precedence first. */
export const sourcesSchema = z
  .string()
  .trim()
  .min(1, "choose at least one policy")
  .transform((value, ctx) => {
    const specs = value.split(",").map((part) => part.trim());
    const parsed: { policyId: number; version?: number }[] = [];
    for (const spec of specs) {
      const match = SOURCE_SPEC.exec(spec);
      if (!match) {
        ctx.addIssue({ code: "custom", message: `"${spec}" is not <policy id> or <policy id>@<version>` });
        return z.NEVER;
      }
      const policyId = Number(match[1]);
      if (parsed.some((p) => p.policyId === policyId)) {
        ctx.addIssue({ code: "custom", message: `policy ${policyId} is named twice; one version per policy` });
        return z.NEVER;
      }
      parsed.push({ policyId, version: match[2] === undefined ? undefined : Number(match[2]) });
    }
    return parsed;
  });

export interface HeldSource {
  policy: Policy;
  version: PolicyVersion;
  source: Source;
}

/** The versions named, as composition sources, in the order given. */
export async function heldSources(db: Db, specs: { policyId: number; version?: number }[]): Promise<HeldSource[]> {
  const held: HeldSource[] = [];
  // One after another: the first source that cannot be used is the one reported.
  for (const { policyId, version: number } of specs) {
    const policy = await getPolicyById(db, policyId);
    const version = number === undefined ? await headVersion(db, policy) : await findVersion(db, policy, number);
    if (!version) throw new NotFoundError(number === undefined ? `"${policy.title}" has no published version held here.` : `"${policy.title}" has no version ${number} held here.`);
    if (version.retractedAt) throw new InvalidInputError(`Version ${version.number} of "${policy.title}" was retracted.`);
    const content = versionContent(version);
    held.push({
      policy,
      version,
      source: {
        id: policy.iri,
        versionIri: version.iri,
        contentHash: version.contentHash,
        community: policy.ownerIri,
        instance: new URL(policy.iri).origin,
        title: content.title,
        content,
      },
    });
  }
  return held;
}

/** Objections held here against the sources' versions. */
export async function objectionsFor(db: Db, held: HeldSource[]): Promise<ObjectionAnnotation[]> {
  const out: ObjectionAnnotation[] = [];
  for (const { policy, version } of held) {
    const rows = await db
      .select()
      .from(annotations)
      .where(and(eq(annotations.versionIri, version.iri), eq(annotations.motivation, "object"), isNull(annotations.hiddenAt)));
    for (const row of rows) {
      if (row.clauseId) out.push({ clauseId: row.clauseId, sourceId: policy.iri, motivation: "object", text: row.text, author: row.authorIri });
    }
  }
  return out;
}

export async function composeHeld(db: Db, held: HeldSource[], target: TargetContext): Promise<EffectivePolicy> {
  return composePolicies(
    held.map((h) => h.source),
    target,
    { precedence: held.map((h) => h.policy.iri), annotations: await objectionsFor(db, held) },
  );
}

/** The target as the manifest records it ("domain=health,locale=sw"), or null for any context. */
export function contextString(target: TargetContext): string | null {
  const text = formatTargetContext(target);
  return text === "any context" ? null : text.replace(/, /g, ",");
}

/** Who a held policy belongs to, in words: the community's name, and the host it lives on when that is another instance. */
export async function ownerOf(db: Db, policy: Policy): Promise<{ name: string; host: string | null }> {
  const owner = await policyOwner(db, policy);
  return owner.local ? { name: owner.name, host: null } : { name: owner.name ?? owner.handle, host: owner.host };
}

/** What a bundle's preference files would hold, counted before it is made. */
export interface PreferenceCounts {
  /**
   * Pairs from the effective clauses' own GOOD/BAD examples (every good
   * response against every bad one), where the source's licence allows
   * training. In every bundle.
   */
  examplePairs: number;
  /**
   * Records of the chosen local policies' datasets (members' answers and
   * imports) whose raters allowed training and sharing beyond the
   * instance. Only in bundles that ask for preference data.
   */
  datasetRecords: number;
  /** Chosen policies of this instance, whose datasets can be included. */
  localSources: number;
  /** Chosen followed policies: their datasets are their own instance's to give. */
  followedSources: number;
}

export async function preferenceCounts(db: Db, held: HeldSource[], effective: EffectivePolicy): Promise<PreferenceCounts> {
  const byVersion = new Map(held.map((h) => [h.version.iri, h.source.content]));
  let examplePairs = 0;
  for (const clause of effective.clauses) {
    const content = byVersion.get(clause.provenance[0]!.versionIri);
    if (!content || !consentFromLicence(content.licence).consent.train) continue;
    for (const example of clause.examples) {
      examplePairs += example.responses.filter((r) => r.label === "good").length * example.responses.filter((r) => r.label === "bad").length;
    }
  }
  const local = held.filter((h) => isLocal(h.policy)).map((h) => h.policy.id);
  const datasetRecords = local.length
    ? ((await first(db
        .select({ n: count() })
        .from(preferenceRecords)
        .where(and(inArray(preferenceRecords.policyId, local), eq(preferenceRecords.consentFederate, true), eq(preferenceRecords.consentTrain, true))).limit(1)))?.n ?? 0)
    : 0;
  return { examplePairs, datasetRecords, localSources: local.length, followedSources: held.length - local.length };
}
