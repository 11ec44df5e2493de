/**
 * Reading policies from any Fedalign instance over HTTP, without running an
 * instance: plain ActivityPub GETs, with every version's hash and proof and
 * every dataset page's hash and proof checked against the key the community
 * publishes in its actor document.
 */
import { contentHash } from "../policies/hash.ts";
import { publicKeyFromMultibase, verifyDocument } from "../policies/proof.ts";
import { policyContentSchema, type PolicyContent } from "../policies/content.ts";
import type { PreferenceRecord } from "../preferences/record.ts";
import { canonicalJson } from "../policies/hash.ts";
import { createHash } from "node:crypto";

export class PullError extends Error {}

const ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

export async function getJson(url: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: ACCEPT }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new PullError(`Cannot fetch ${url}${cause ? ` (${cause})` : ""}.`);
  }
  if (!response.ok) throw new PullError(`${url} answered ${response.status}.`);
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    throw new PullError(`${url} is not JSON.`);
  }
}

function types(doc: Record<string, unknown>): string[] {
  return (Array.isArray(doc.type) ? doc.type : [doc.type]).map(String);
}

export interface CommunityKey {
  id: string;
  publicKeyMultibase: string;
  key: CryptoKey;
}

/** The community's Multikey named by a proof, from its own actor document. */
export async function communityKey(community: string, keyId: string, cache: Map<string, CommunityKey>): Promise<CommunityKey> {
  const cached = cache.get(keyId);
  if (cached) return cached;
  if (new URL(keyId).origin !== new URL(community).origin) throw new PullError(`Key ${keyId} is not on ${community}'s server.`);
  const actor = await getJson(community);
  const methods = (Array.isArray(actor.assertionMethod) ? actor.assertionMethod : [actor.assertionMethod]) as { id?: string; controller?: string; publicKeyMultibase?: string }[];
  const method = methods.find((m) => m?.id === keyId && m.controller === community);
  if (!method?.publicKeyMultibase) throw new PullError(`${community} publishes no key ${keyId}.`);
  const found = { id: keyId, publicKeyMultibase: method.publicKeyMultibase, key: await publicKeyFromMultibase(method.publicKeyMultibase) };
  cache.set(keyId, found);
  return found;
}

export interface VerifiedVersion {
  iri: string;
  policy: string;
  community: string;
  number: number;
  contentHash: string;
  licence: string;
  title: string;
  content: PolicyContent;
  document: Record<string, unknown>;
  key: CommunityKey;
}

/** A version IRI, or a policy IRI (its head, or version N), to a checked version document. */
export async function fetchVersion(ref: string, version: number | undefined, keys: Map<string, CommunityKey>): Promise<VerifiedVersion> {
  let doc = await getJson(ref);
  if (types(doc).includes("Policy")) {
    const iri = version !== undefined ? `${String(doc.versions ?? `${ref}/versions`)}/${version}` : doc.headVersion;
    if (typeof iri !== "string") throw new PullError(`${ref} has no published version.`);
    doc = await getJson(iri);
  }
  if (!types(doc).includes("PolicyVersion")) throw new PullError(`${ref} is neither a policy nor a policy version.`);
  const iri = String(doc.id);
  const community = String(doc.attributedTo);
  if (new URL(iri).origin !== new URL(community).origin) throw new PullError(`${iri} claims a community on another server.`);
  const content = policyContentSchema.safeParse(doc.normativeContent);
  if (!content.success) throw new PullError(`${iri}: its normative content is malformed.`);
  if (contentHash(doc.normativeContent as never) !== doc.contentHash) throw new PullError(`${iri}: content hash does not match its content.`);
  const proof = doc.proof as { verificationMethod?: string } | undefined;
  if (!proof?.verificationMethod) throw new PullError(`${iri} has no integrity proof.`);
  const key = await communityKey(community, proof.verificationMethod, keys);
  const verified = await verifyDocument(doc, key.key);
  if (!verified.ok) throw new PullError(`${iri}: integrity proof does not verify (${verified.reason}).`);
  return {
    iri,
    policy: String(doc.policy),
    community,
    number: Number(doc.versionNumber),
    contentHash: String(doc.contentHash),
    licence: content.data.licence,
    title: content.data.title,
    content: content.data,
    document: doc,
    key,
  };
}

/** Every record of a policy's dataset, page by page, each page checked before its records are used. */
export async function* fetchPreferences(version: VerifiedVersion, keys: Map<string, CommunityKey>, onPage?: (records: number) => void): AsyncGenerator<PreferenceRecord> {
  const collection = await getJson(`${version.policy}/preferences`);
  let next = typeof collection.first === "string" ? collection.first : undefined;
  let count = 0;
  while (next) {
    if (new URL(next).origin !== new URL(version.community).origin) throw new PullError(`Dataset page ${next} is on another server.`);
    const page = await getJson(next);
    const items = (page.orderedItems ?? []) as { preference: PreferenceRecord }[];
    const hash = `sha256:${createHash("sha256").update(canonicalJson(items)).digest("hex")}`;
    if (page.attributedTo !== version.community || hash !== page.contentHash) throw new PullError(`Dataset page ${next}: items do not match its hash.`);
    const proof = page.proof as { verificationMethod?: string } | undefined;
    if (!proof?.verificationMethod) throw new PullError(`Dataset page ${next} has no proof.`);
    const key = await communityKey(version.community, proof.verificationMethod, keys);
    const verified = await verifyDocument(page, key.key);
    if (!verified.ok) throw new PullError(`Dataset page ${next}: proof does not verify (${verified.reason}).`);
    for (const item of items) yield item.preference;
    count += items.length;
    onPage?.(count);
    next = typeof page.next === "string" ? page.next : undefined;
  }
}
