/**
 * What our queues do to Fedify's messages on their way into the database
 * and back out.
 *
 * Private keys stay out of queued rows. Fedify 2.3.6 puts the sender's
 * private keys, as JWK, into every outbox and fan-out message, even when
 * `sendActivity` is given only the sender's identifier; a copy of the
 * queue table (a backup, a support dump) would then carry them. The codec
 * below replaces each private key by its public part before the row is
 * written, and puts the private key back from `actor_keys` when the message
 * is handled. A key that is gone by then (the actor was deleted) makes the
 * delivery impossible; the message is dropped with a log line.
 *
 * Incoming activities are ordered per sending server: Fedify enqueues them
 * without an ordering key, so the key is taken from the activity's actor.
 * One key per origin (not per actor) keeps one server's activities in the
 * order they arrived (a Follow and its Undo, a version and the annotation
 * that replies to it) and lets a slow server hold at most one of the
 * inbox's workers, so the other servers' activities go on.
 *
 * Outgoing deliveries are limited per remote host (see deliveryHost).
 */
import { sql } from "drizzle-orm";
import { first, type Db } from "../db/client.ts";
import { actorKeys } from "../db/schema.ts";
import { UndeliverableMessage, type MessageCodec } from "./message-queue.ts";

interface QueuedKey {
  keyId: string;
  privateKey?: JsonWebKey;
  /** The public half, enough to find the key again (RSA `n`, Ed25519 `x`). */
  publicKey?: Pick<JsonWebKey, "kty" | "crv" | "n" | "x">;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function queuedKeys(message: unknown): QueuedKey[] | undefined {
  if (!isRecord(message) || !Array.isArray(message.keys)) return undefined;
  return message.keys as QueuedKey[];
}

function publicPart(key: JsonWebKey): QueuedKey["publicKey"] {
  return key.kty === "RSA" ? { kty: key.kty, n: key.n } : { kty: key.kty, crv: key.crv, x: key.x };
}

const KEY_CACHE_MS = 60_000;
const KEY_CACHE_SIZE = 1_000;

/** The codec for the outbox and fan-out queues (inbox messages carry no keys and pass unchanged). */
export function keyReferenceCodec(db: Db): MessageCodec {
  // A fan-out is thousands of deliveries signed with the same key: look each
  // key up once a minute, not once per delivery (the lookup scans actor_keys).
  const found = new Map<string, { privateKey: JsonWebKey | undefined; until: number }>();
  const lookUp = async (component: string, field: string): Promise<JsonWebKey | undefined> =>
    (await first(
      db
        .select({ privateJwk: actorKeys.privateJwk })
        .from(actorKeys)
        .where(sql`json_extract(${actorKeys.publicJwk}, ${field}) = ${component}`)
        .limit(1),
    ))?.privateJwk;
  const findPrivate = async (publicKey: QueuedKey["publicKey"]): Promise<JsonWebKey | undefined> => {
    const component = publicKey?.kty === "RSA" ? publicKey.n : publicKey?.x;
    if (!component) return undefined;
    const now = Date.now();
    const cached = found.get(component);
    if (cached && cached.until > now) return cached.privateKey;
    const privateKey = await lookUp(component, publicKey?.kty === "RSA" ? "$.n" : "$.x");
    if (found.size >= KEY_CACHE_SIZE) found.clear();
    found.set(component, { privateKey, until: now + KEY_CACHE_MS });
    return privateKey;
  };
  return {
    encode(message) {
      const keys = queuedKeys(message);
      if (!keys) return message;
      return {
        ...(message as Record<string, unknown>),
        keys: keys.map((key) => (key.privateKey ? { keyId: key.keyId, publicKey: publicPart(key.privateKey) } : key)),
      };
    },
    async decode(message) {
      const keys = queuedKeys(message);
      if (!keys) return message;
      const restored = [];
      for (const key of keys) {
        if (key.privateKey) {
          restored.push(key);
          continue;
        }
        const privateKey = await findPrivate(key.publicKey);
        if (!privateKey) throw new UndeliverableMessage(`the signing key ${key.keyId} no longer exists`);
        restored.push({ keyId: key.keyId, privateKey });
      }
      return { ...(message as Record<string, unknown>), keys: restored };
    },
  };
}

/** The origin of an incoming activity's actor, as the inbox queue's ordering key. */
export function inboxOrderingKey(message: unknown): string | undefined {
  if (!isRecord(message) || message.type !== "inbox" || !isRecord(message.activity)) return undefined;
  const actor = message.activity.actor;
  const iri = typeof actor === "string" ? actor : isRecord(actor) && typeof actor.id === "string" ? actor.id : undefined;
  if (!iri) return undefined;
  try {
    return `sender:${new URL(iri).origin}`;
  } catch {
    return undefined;
  }
}

/**
 * The host a queued delivery (Fedify's outbox message) goes to, for the
 * outbox queue's per-host limit; undefined for anything else. Host with
 * port, as Fedify's circuit breaker keys its state.
 */
export function deliveryHost(message: unknown): string | undefined {
  if (!isRecord(message) || message.type !== "outbox" || typeof message.inbox !== "string") return undefined;
  try {
    return new URL(message.inbox).host;
  } catch {
    return undefined;
  }
}
