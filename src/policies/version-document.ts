/**
 * The published form of a policy version: one JSON-LD document that is at
 * once a standard ActivityStreams `Article` (so Mastodon and others show its
 * name and readable HTML) and a `PolicyVersion` in Fedalign's namespace,
 * defined inline in `@context` so receivers never fetch a context document.
 * The normative content travels as a JSON literal; `contentHash` covers it
 * and the community's Ed25519 proof (FEP-8b32, eddsa-jcs-2022) covers the
 * whole document.
 */
import { z } from "../zod.ts";
import { policyContentSchema, type PolicyContent } from "./content.ts";
import { escapeHtml, textToHtml } from "../text.ts";

export const FEDALIGN_NAMESPACE = "https://fedalign.org/ns#";
export const PUBLIC_AUDIENCE = "https://www.w3.org/ns/activitystreams#Public";

export const FEDALIGN_CONTEXT = {
  fedalign: FEDALIGN_NAMESPACE,
  Policy: "fedalign:Policy",
  PolicyVersion: "fedalign:PolicyVersion",
  policy: { "@id": "fedalign:policy", "@type": "@id" },
  versions: { "@id": "fedalign:versions", "@type": "@id" },
  headVersion: { "@id": "fedalign:headVersion", "@type": "@id" },
  previousVersion: { "@id": "fedalign:previousVersion", "@type": "@id" },
  versionNumber: "fedalign:versionNumber",
  contentHash: "fedalign:contentHash",
  changelog: "fedalign:changelog",
  licence: "fedalign:licence",
  normativeContent: { "@id": "fedalign:normativeContent", "@type": "@json" },
  /** A fork's origin: the upstream version (id) and its contentHash. */
  forkedFrom: { "@id": "fedalign:forkedFrom" },
  /** The upstream version merged into this version (its second parent). */
  mergedFrom: { "@id": "fedalign:mergedFrom" },
  upstream: { "@id": "fedalign:upstream", "@type": "@id" },
  /** The proposals whose adoption this version publishes, each with its tally. */
  decisions: { "@id": "fedalign:decisions", "@type": "@json" },
  ChangeSet: "fedalign:ChangeSet",
  changes: { "@id": "fedalign:changes", "@type": "@json" },
  forks: { "@id": "fedalign:forks", "@type": "@id" },
} as const;

export const DOCUMENT_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/data-integrity/v1",
  FEDALIGN_CONTEXT,
] as const;

export interface VersionDocumentInput {
  iri: string;
  policyIri: string;
  ownerIri: string;
  ownerFollowersIri: string;
  number: number;
  previousIri: string | null;
  published: Date;
  changelog: string;
  content: PolicyContent;
  contentHash: string;
  /** Lineage of a fork: where it started, and the upstream version merged into this one. */
  forkedFrom?: VersionRef | null;
  mergedFrom?: VersionRef | null;
  decisions?: { proposal: string; tally: Record<string, unknown> }[] | null;
}

export interface VersionRef {
  id: string;
  contentHash: string;
}

function plainSummary(summary: string, changelog: string): string {
  const text = [summary.trim(), changelog.trim() ? `Changes: ${changelog.trim()}` : ""].filter(Boolean).join("\n\n");
  return textToHtml(text.length > 500 ? `${text.slice(0, 499)}…` : text);
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * What a microblog timeline shows of a version: its title, changelog, size
 * and a link to the whole policy. The full text stays out of `content` (a
 * long policy would be hundreds of kilobytes in every follower's timeline);
 * Fedalign receivers read `normativeContent`, browsers follow the link.
 */
export function versionTimelineHtml(input: { iri: string; number: number; changelog: string; content: PolicyContent }): string {
  const examples = input.content.clauses.reduce((sum, clause) => sum + clause.examples.length, 0);
  const counts = [plural(input.content.clauses.length, "clause"), plural(input.content.sections.length, "section"), plural(examples, "example")];
  const changelog = input.changelog.trim();
  return [
    `<p><strong>${escapeHtml(input.content.title)}</strong>, version ${input.number}</p>`,
    changelog ? `<p>Changes: ${escapeHtml(changelog.length > 500 ? `${changelog.slice(0, 499)}…` : changelog)}</p>` : "",
    `<p>${counts.join(", ")}.</p>`,
    `<p><a href="${escapeHtml(input.iri)}">Read the policy</a></p>`,
  ].join("");
}

export function buildVersionDocument(input: VersionDocumentInput): Record<string, unknown> {
  return {
    "@context": DOCUMENT_CONTEXT,
    id: input.iri,
    type: ["Article", "PolicyVersion"],
    attributedTo: input.ownerIri,
    name: `${input.content.title} (version ${input.number})`,
    // Mastodon shows an Article as its name, summary and a link.
    summary: plainSummary(input.content.summary, input.changelog),
    content: versionTimelineHtml({ iri: input.iri, number: input.number, changelog: input.changelog, content: input.content }),
    mediaType: "text/html",
    url: input.iri,
    published: input.published.toISOString(),
    to: [PUBLIC_AUDIENCE],
    cc: [input.ownerFollowersIri],
    policy: input.policyIri,
    versionNumber: input.number,
    previousVersion: input.previousIri,
    changelog: input.changelog,
    licence: input.content.licence,
    contentHash: input.contentHash,
    normativeContent: input.content,
    ...(input.forkedFrom ? { forkedFrom: input.forkedFrom } : {}),
    ...(input.mergedFrom ? { mergedFrom: input.mergedFrom } : {}),
    ...(input.decisions?.length ? { decisions: input.decisions } : {}),
  };
}

/** What a receiver needs from a version document; anything else in it is ignored. */
export const receivedVersionSchema = z
  .object({
    id: z.string().url(),
    type: z.union([z.string(), z.array(z.string())]),
    attributedTo: z.string().url(),
    published: z.string().datetime({ offset: true }),
    policy: z.string().url(),
    versionNumber: z.number().int().positive(),
    previousVersion: z.string().url().nullable().optional(),
    changelog: z.string().default(""),
    contentHash: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex digits>"),
    normativeContent: policyContentSchema,
    forkedFrom: z.object({ id: z.string().url(), contentHash: z.string() }).optional(),
    mergedFrom: z.object({ id: z.string().url(), contentHash: z.string() }).optional(),
    proof: z.object({ verificationMethod: z.string().url() }).passthrough(),
  })
  .passthrough();
export type ReceivedVersion = z.infer<typeof receivedVersionSchema>;

export function isVersionType(type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => t === "PolicyVersion" || t === "fedalign:PolicyVersion" || t === `${FEDALIGN_NAMESPACE}PolicyVersion`);
}
