/**
 * A policy's preference dataset, federated: the records whose raters allow
 * federation, published as a paged `OrderedCollection` attached to the
 * policy. Each page carries the hash of its items and the community's
 * Ed25519 proof, so a mirror checks every page before keeping anything.
 * Changes reach followers as `Update` of the collection (mirrors sync again)
 * and, when a rater withdraws federation consent, as `Delete` of the record.
 */
import { Delete, OrderedCollection, Tombstone, Update } from "@fedify/vocab";
import { isActor } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { and, eq, notInArray } from "drizzle-orm";
import { createHash } from "node:crypto";
import { mirroredPreferences } from "../db/schema.ts";
import { canonicalJson } from "../src/policies/hash.ts";
import { findPolicyByIri, isLocal, type Policy } from "../src/policies/policies.ts";
import { signDocument, verifyDocument } from "../src/policies/proof.ts";
import { DOCUMENT_CONTEXT, PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { PreferenceRecord } from "../src/preferences/record.ts";
import { REMOTE_LIMITS } from "../src/limits.ts";
import type { FedCtx } from "./context.ts";
import { loadDocument } from "./fetch.ts";
import { newActivityIri } from "./outgoing.ts";
import { communityProofKey } from "./policy-signing.ts";
import { ownerIdentifier, policyAudience } from "./policy-activities.ts";
import { first } from "../db/client.ts";

const logger = getLogger(["fedalign", "federation", "preferences"]);

export const PAGE_SIZE = 100;
/** A mirror reads at most this many pages in one sync. */
const MAX_PAGES = 10_000;

const DATASET_CONTEXT = [...DOCUMENT_CONTEXT, { PreferenceRecord: "fedalign:PreferenceRecord", preference: { "@id": "fedalign:preference", "@type": "@json" } }];

export function datasetIri(policy: Pick<Policy, "iri">): string {
  return `${policy.iri}/preferences`;
}

export function recordIri(policy: Pick<Policy, "iri">, id: number): string {
  return `${datasetIri(policy)}/${id}`;
}

/** What leaves the instance: group labels only with breakdown consent, never the member's account. */
export function publicRecord(record: PreferenceRecord): Record<string, unknown> {
  const { groups, ...rest } = record;
  return record.consent.breakdown ? { ...rest, groups } : { ...rest, groups: [] };
}

interface Row {
  id: number;
  record: string;
  updated_at: number;
}

/** Keyset paging (records after an id), so page N costs the same as page 1. */
async function federatedRows(ctx: FedCtx, policy: Policy, afterId: number, limit: number): Promise<Row[]> {
  const client = ctx.data.db.$client;
  return await client.exclusive(
    () =>
      client.raw
        .prepare("SELECT id, record, updated_at FROM preference_records WHERE policy_id = ? AND consent_federate = 1 AND id > ? ORDER BY id LIMIT ?")
        .all(policy.id, afterId, limit) as Row[],
  );
}

async function federatedCount(ctx: FedCtx, policy: Policy): Promise<number> {
  const client = ctx.data.db.$client;
  return await client.exclusive(
    () => (client.raw.prepare("SELECT COUNT(*) AS n FROM preference_records WHERE policy_id = ? AND consent_federate = 1").get(policy.id) as { n: number }).n,
  );
}

function itemsHash(items: unknown[]): string {
  return `sha256:${createHash("sha256").update(canonicalJson(items)).digest("hex")}`;
}

export async function datasetCollection(ctx: FedCtx, policy: Policy): Promise<Record<string, unknown>> {
  const total = await federatedCount(ctx, policy);
  return {
    "@context": DATASET_CONTEXT,
    id: datasetIri(policy),
    type: "OrderedCollection",
    attributedTo: policy.ownerIri,
    policy: policy.iri,
    totalItems: total,
    ...(total > 0 ? { first: `${datasetIri(policy)}?after=0` } : {}),
  };
}

/**
 * Signed pages, kept per database (one per instance, several in one test
 * process) and per page, with a fingerprint of the rows they were made from:
 * the ids and stored JSON of the page's rows, the id of the row after them
 * (it decides `next`) and the signing key. Any change to a record, its
 * consent, or the rows around it changes the fingerprint, so a stale page is
 * never served; an unchanged page is served without parsing, hashing or
 * signing again. Bounded by the size of the rows' JSON (least recently used
 * pages go first).
 */
const PAGE_CACHE_BYTES = 64 * 1024 * 1024;
interface CachedPage {
  fingerprint: string;
  /** The signed page as served: JSON text is compact in memory and needs no serialising per request. */
  json: string;
  bytes: number;
}
const pageCaches = new WeakMap<object, { pages: Map<string, CachedPage>; bytes: number }>();

function cacheFor(ctx: FedCtx): { pages: Map<string, CachedPage>; bytes: number } {
  let cache = pageCaches.get(ctx.data.db);
  if (!cache) pageCaches.set(ctx.data.db, (cache = { pages: new Map(), bytes: 0 }));
  return cache;
}

function remember(ctx: FedCtx, key: string, entry: CachedPage): void {
  const cache = cacheFor(ctx);
  const old = cache.pages.get(key);
  if (old) cache.bytes -= old.bytes;
  cache.pages.delete(key);
  cache.pages.set(key, entry);
  cache.bytes += entry.bytes;
  for (const [oldest, value] of cache.pages) {
    if (cache.bytes <= PAGE_CACHE_BYTES) break;
    cache.pages.delete(oldest);
    cache.bytes -= value.bytes;
  }
}

function fingerprint(rows: Row[], keyId: string): string {
  const hash = createHash("sha256").update(keyId);
  for (const row of rows) hash.update(`\0${row.id}\0${row.updated_at}\0${row.record}`);
  return hash.digest("base64url");
}

/** The page of records after a record id, hashed and signed by the owning community, as JSON text. */
export async function datasetPageJson(ctx: FedCtx, policy: Policy, afterId: number): Promise<string | undefined> {
  return (await signedPage(ctx, policy, afterId))?.json;
}

async function signedPage(ctx: FedCtx, policy: Policy, afterId: number): Promise<{ json: string; nextAfter: number | undefined } | undefined> {
  const rows = await federatedRows(ctx, policy, afterId, PAGE_SIZE + 1);
  if (rows.length === 0 && afterId > 0) return undefined;
  const handle = ownerIdentifier(ctx, policy);
  if (!handle) return undefined;
  const key = await communityProofKey(ctx, handle);
  const nextAfter = rows.length > PAGE_SIZE ? rows[PAGE_SIZE - 1]!.id : undefined;
  const cacheKey = `${policy.id}:${afterId}`;
  const print = fingerprint(rows, key.keyId.href);
  const cached = cacheFor(ctx).pages.get(cacheKey);
  if (cached?.fingerprint === print) {
    remember(ctx, cacheKey, cached);
    return { json: cached.json, nextAfter };
  }
  const items = rows.slice(0, PAGE_SIZE).map((row) => ({
    id: recordIri(policy, row.id),
    type: "PreferenceRecord",
    preference: publicRecord(JSON.parse(row.record) as PreferenceRecord),
  }));
  const page = await signDocument(
    {
      "@context": DATASET_CONTEXT,
      id: `${datasetIri(policy)}?after=${afterId}`,
      type: "OrderedCollectionPage",
      partOf: datasetIri(policy),
      attributedTo: policy.ownerIri,
      orderedItems: items,
      contentHash: itemsHash(items),
      ...(nextAfter !== undefined ? { next: `${datasetIri(policy)}?after=${nextAfter}` } : {}),
    },
    // The proof's date is the newest change to its records, so the same records always give the same page, byte for byte.
    { privateKey: key.privateKey, verificationMethod: key.keyId.href, created: new Date(rows.slice(0, PAGE_SIZE).reduce((n, row) => Math.max(n, row.updated_at), 0)) },
  );
  const json = JSON.stringify(page);
  remember(ctx, cacheKey, { fingerprint: print, json, bytes: json.length });
  return { json, nextAfter };
}

/** Every page of a local policy's dataset, in order, as pullers get them. */
export async function* datasetPages(ctx: FedCtx, policy: Policy): AsyncGenerator<Record<string, unknown>> {
  let after: number | undefined = 0;
  while (after !== undefined) {
    const result = await signedPage(ctx, policy, after);
    if (!result) return;
    yield JSON.parse(result.json) as Record<string, unknown>;
    after = result.nextAfter;
  }
}

/** Tells the policy's audience that its dataset changed; they sync again. */
export async function announceDatasetChanged(ctx: FedCtx, policy: Policy): Promise<void> {
  const recipients = await policyAudience(ctx, policy);
  const handle = ownerIdentifier(ctx, policy);
  if (recipients.length === 0 || !handle) return;
  const update = new Update({
    id: newActivityIri(ctx, handle, "update"),
    actor: ctx.getActorUri(handle),
    object: new OrderedCollection({ id: new URL(datasetIri(policy)) }),
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier: handle }, recipients, update, { preferSharedInbox: true });
}

/** A rater withdrew federation consent: mirrors must drop the record. */
export async function sendRecordWithdrawn(ctx: FedCtx, policy: Policy, id: number): Promise<void> {
  const recipients = await policyAudience(ctx, policy);
  const handle = ownerIdentifier(ctx, policy);
  if (recipients.length === 0 || !handle) return;
  const del = new Delete({
    id: newActivityIri(ctx, handle, "delete"),
    actor: ctx.getActorUri(handle),
    object: new Tombstone({ id: new URL(recordIri(policy, id)) }),
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier: handle }, recipients, del, { preferSharedInbox: true });
}

async function ownerKey(ctx: FedCtx, owner: string, method: string): Promise<CryptoKey | null> {
  const actor = await ctx.lookupObject(owner);
  if (!isActor(actor)) return null;
  for await (const key of actor.getAssertionMethods(ctx)) {
    if (key.id?.href === method && key.controllerId?.href === owner) return key.publicKey;
  }
  return null;
}

class RefusedPage extends Error {}

/**
 * Mirrors a policy's dataset: every page must come from the community's
 * origin, match its hash and carry the community's proof; only then are the
 * records kept, and records no longer published are dropped. A page that
 * fails leaves the mirror as it was.
 */
export async function syncDataset(ctx: FedCtx, collectionIri: string, announcer: string): Promise<number | undefined> {
  const policyIri = collectionIri.replace(/\/preferences$/, "");
  const policy = await findPolicyByIri(ctx.data.db, policyIri);
  if (!policy || isLocal(policy) || policy.ownerIri !== announcer || new URL(collectionIri).origin !== new URL(announcer).origin) {
    return undefined;
  }
  try {
    const items: { iri: string; record: PreferenceRecord }[] = [];
    const { document } = await loadDocument(ctx, collectionIri, { fresh: true });
    let next = (document as { first?: string }).first;
    let key: CryptoKey | null = null;
    for (let page = 0; next && page < MAX_PAGES; page++) {
      if (new URL(next).origin !== new URL(announcer).origin) throw new RefusedPage(`page ${next} is on another origin`);
      const doc = (await loadDocument(ctx, next, { fresh: true })).document as {
        attributedTo?: string; partOf?: string; orderedItems?: { id: string; preference: PreferenceRecord }[]; contentHash?: string; next?: string; proof?: { verificationMethod?: string };
      };
      if (doc.attributedTo !== announcer || doc.partOf !== collectionIri) throw new RefusedPage(`page ${next} is not part of ${collectionIri}`);
      const pageItems = doc.orderedItems ?? [];
      if (itemsHash(pageItems) !== doc.contentHash) throw new RefusedPage(`page ${next}: items do not match its hash`);
      key ??= doc.proof?.verificationMethod ? await ownerKey(ctx, announcer, doc.proof.verificationMethod) : null;
      if (!key) throw new RefusedPage(`page ${next}: no proof key of ${announcer}`);
      const verified = await verifyDocument(doc as Record<string, unknown>, key);
      if (!verified.ok) throw new RefusedPage(`page ${next}: proof does not verify (${verified.reason})`);
      if (items.length + pageItems.length > REMOTE_LIMITS.mirroredRecordsPerPolicy) {
        throw new RefusedPage(`over ${REMOTE_LIMITS.mirroredRecordsPerPolicy} records, the limit for one mirrored dataset`);
      }
      for (const item of pageItems) {
        if (!item.id.startsWith(`${collectionIri}/`)) throw new RefusedPage(`page ${next}: item ${item.id} is not of this dataset`);
        items.push({ iri: item.id, record: item.preference });
      }
      next = doc.next;
    }
    await storeMirror(ctx, policy, items);
    logger.info("Mirrored {count} preference records of {policy}.", { count: items.length, policy: policy.iri });
    return items.length;
  } catch (error) {
    if (error instanceof RefusedPage) {
      logger.info("Refused the preference dataset {dataset} of {actor}: {reason}.", { dataset: collectionIri, actor: announcer, reason: error.message });
      return undefined;
    }
    throw error;
  }
}

async function storeMirror(ctx: FedCtx, policy: Policy, items: { iri: string; record: PreferenceRecord }[]): Promise<void> {
  const db = ctx.data.db;
  await db.transaction(async (tx) => {
    const now = new Date();
    for (const item of items) {
      const values = {
        policyIri: policy.iri,
        record: item.record as unknown as Record<string, unknown>,
        consentTrain: Boolean(item.record.consent?.train),
        consentBreakdown: Boolean(item.record.consent?.breakdown),
        receivedAt: now,
      };
      await tx.insert(mirroredPreferences).values({ iri: item.iri, ...values }).onConflictDoUpdate({ target: mirroredPreferences.iri, set: values });
    }
    const kept = items.map((item) => item.iri);
    const gone = kept.length > 0 ? and(eq(mirroredPreferences.policyIri, policy.iri), notInArray(mirroredPreferences.iri, kept)) : eq(mirroredPreferences.policyIri, policy.iri);
    await tx.delete(mirroredPreferences).where(gone);
  });
}

/** The owning community withdrew a record from its dataset. */
export async function dropMirroredRecord(ctx: FedCtx, iri: string, actorIri: string): Promise<boolean> {
  const row = await first(ctx.data.db.select().from(mirroredPreferences).where(eq(mirroredPreferences.iri, iri)).limit(1));
  if (!row) return false;
  const policy = await findPolicyByIri(ctx.data.db, row.policyIri);
  if (!policy || policy.ownerIri !== actorIri) return false;
  await ctx.data.db.delete(mirroredPreferences).where(eq(mirroredPreferences.id, row.id));
  return true;
}

export async function mirroredRecords(ctx: FedCtx, policyIri: string) {
  return await ctx.data.db.select().from(mirroredPreferences).where(eq(mirroredPreferences.policyIri, policyIri));
}
