/**
 * Reading policies from any Fedalign instance over HTTP, without running an
 * instance: plain ActivityPub GETs, with every version's hash and proof and
 * every dataset page's hash and proof checked against the key the community
 * publishes in its actor document.
 */
import { contentHash } from "../policies/hash.ts";
import { publicKeyFromMultibase, verifyDocument } from "../policies/proof.ts";
import { policyContentSchema, type PolicyContent } from "../policies/content.ts";
import { pageItemsHash } from "./derive.ts";

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

/**
 * Every page of a policy's dataset, in order, each checked (origin, hash of
 * its items, the community's proof) before it is handed on. The pages go
 * into the bundle as they are, so `verify` checks them again offline.
 */
export async function* fetchPages(version: VerifiedVersion, keys: Map<string, CommunityKey>, onPage?: (records: number) => void): AsyncGenerator<Record<string, unknown>> {
  const collection = await getJson(`${version.policy}/preferences`);
  let next = typeof collection.first === "string" ? collection.first : undefined;
  let count = 0;
  const seen = new Set<string>();
  while (next) {
    if (new URL(next).origin !== new URL(version.community).origin) throw new PullError(`Dataset page ${next} is on another server.`);
    if (seen.has(next)) throw new PullError(`Dataset page ${next} comes round again: the pages loop.`);
    seen.add(next);
    const page = await getJson(next);
    const items = (Array.isArray(page.orderedItems) ? page.orderedItems : []) as unknown[];
    if (page.id !== next || page.attributedTo !== version.community || page.partOf !== `${version.policy}/preferences`) {
      throw new PullError(`Dataset page ${next} is not a page of ${version.policy}'s dataset.`);
    }
    if (pageItemsHash(items) !== page.contentHash) throw new PullError(`Dataset page ${next}: items do not match its hash.`);
    const proof = page.proof as { verificationMethod?: string } | undefined;
    if (!proof?.verificationMethod) throw new PullError(`Dataset page ${next} has no proof.`);
    const key = await communityKey(version.community, proof.verificationMethod, keys);
    const verified = await verifyDocument(page, key.key);
    if (!verified.ok) throw new PullError(`Dataset page ${next}: proof does not verify (${verified.reason}).`);
    yield page;
    count += items.length;
    onPage?.(count);
    next = typeof page.next === "string" ? page.next : undefined;
  }
}
