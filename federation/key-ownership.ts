/**
 * Key ownership, checked where keys enter the process: in the document
 * loader that Fedify's HTTP-signature, Linked-Data-signature and
 * integrity-proof checks all fetch keys through.
 *
 * Fedify 2.3.6 takes a key's `owner` (or a Multikey's `controller`) at its
 * word: a key served from any origin that claims a victim as owner would be
 * accepted as the victim's. So every fetched document that is a key must be
 * on its owner's origin and be listed (`publicKey` / `assertionMethod`) by
 * the owner's own document, fetched from the owner's origin; and an actor
 * document may only embed keys that it owns, on its own origin. Anything
 * else is refused, so the key never reaches Fedify's ownership test or its
 * key cache, and the signature it was meant to verify fails (401).
 */
import { CryptographicKey, Multikey, Object as ASObject, isActor, type Actor, type DocumentLoader } from "@fedify/vocab";
import { RefusedDocumentError } from "./fetch.ts";

/** Parsing must not fetch: everything checked here is in the document itself. */
const noFetch: DocumentLoader = async (url) => {
  throw new Error(`not fetched while checking key ownership: ${url}`);
};

type Parsed = ASObject | CryptographicKey | Multikey;

/**
 * Every reading Fedify's key fetch could make of the document. It reads it
 * as an object first (an actor embedding keys); only when that fails does it
 * read it as the key class it wants: a CryptographicKey (`owner`) for
 * signatures, a Multikey (`controller`) for proofs. So both key readings are
 * checked, and a claim in one cannot hide behind an honest other.
 */
async function readings(document: unknown, contextLoader: DocumentLoader): Promise<Parsed[]> {
  const options = { documentLoader: noFetch, contextLoader };
  const found: Parsed[] = [];
  for (const cls of [ASObject, CryptographicKey, Multikey] as const) {
    try {
      found.push(await cls.fromJsonLd(document, options));
      if (cls === ASObject) return found;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }
  return found;
}

/** The actor a key owner's document describes, if it is one. */
async function parseActor(document: unknown, contextLoader: DocumentLoader): Promise<Actor | undefined> {
  const parsed = (await readings(document, contextLoader))[0];
  return parsed && isActor(parsed) ? parsed : undefined;
}

function keyOwner(key: CryptographicKey | Multikey): URL | null {
  return key instanceof CryptographicKey ? key.ownerId : key.controllerId;
}

/**
 * Stands in for a key the actor lists only by IRI: nothing is fetched, and
 * the stand-in claims no owner, so only its id's origin is checked here (the
 * key document itself is checked when it is fetched). The actor parsed here
 * is thrown away, so the stand-ins never reach Fedify.
 */
function standIn(type: "CryptographicKey" | "Multikey"): DocumentLoader {
  const context = type === "Multikey" ? "https://w3id.org/security/multikey/v1" : "https://w3id.org/security/v1";
  return async (url) => ({ contextUrl: null, documentUrl: url, document: { "@context": context, id: url, type } });
}

async function* embeddedKeys(actor: Actor, contextLoader: DocumentLoader): AsyncIterable<CryptographicKey | Multikey> {
  yield* actor.getPublicKeys({ documentLoader: standIn("CryptographicKey"), contextLoader, suppressError: true });
  yield* actor.getAssertionMethods({ documentLoader: standIn("Multikey"), contextLoader, suppressError: true });
}

/** An actor document may only carry keys it owns, on its own origin. */
async function checkActorKeys(actor: Actor, url: string, contextLoader: DocumentLoader): Promise<void> {
  const id = actor.id;
  if (!id) return;
  for await (const key of embeddedKeys(actor, contextLoader)) {
    const owner = keyOwner(key);
    if (owner && owner.href !== id.href) {
      throw new RefusedDocumentError(url, `actor ${id.href} embeds key ${key.id?.href ?? "(no id)"} owned by ${owner.href}`);
    }
    if (key.id && key.id.origin !== id.origin) {
      throw new RefusedDocumentError(url, `actor ${id.href} lists key ${key.id.href} from another origin`);
    }
  }
}

/** A key document must be on its owner's origin and listed by the owner's own document. */
async function checkKey(key: CryptographicKey | Multikey, url: string, loader: DocumentLoader, contextLoader: DocumentLoader): Promise<void> {
  const owner = keyOwner(key);
  if (!owner) return; // Fedify then asks the activity's actor whether it lists the key.
  if (!key.id) throw new RefusedDocumentError(url, `key claiming owner ${owner.href} has no id`);
  if (key.id.origin !== owner.origin || new URL(url).origin !== owner.origin) {
    throw new RefusedDocumentError(url, `key ${key.id.href} claims owner ${owner.href}, on another origin`);
  }
  const { document } = await loader(owner.href);
  const actor = await parseActor(document, contextLoader);
  if (!actor || actor.id?.href !== owner.href) {
    throw new RefusedDocumentError(url, `key ${key.id.href} claims owner ${owner.href}, which is not an actor`);
  }
  const listed = [...actor.publicKeyIds, ...actor.assertionMethodIds].some((id) => id.href === key.id!.href);
  if (!listed) throw new RefusedDocumentError(url, `key ${key.id.href} claims owner ${owner.href}, whose document does not list it`);
}

/**
 * Throws RefusedDocumentError when a fetched document is a key its claimed
 * owner does not list, or an actor embedding a key it does not own.
 * `loader` fetches the owner's document (through the same checks).
 */
export async function assertKeyOwnership(document: unknown, url: string, loader: DocumentLoader, contextLoader: DocumentLoader): Promise<void> {
  for (const parsed of await readings(document, contextLoader)) {
    if (parsed instanceof CryptographicKey || parsed instanceof Multikey) await checkKey(parsed, url, loader, contextLoader);
    else if (isActor(parsed)) await checkActorKeys(parsed, url, contextLoader);
  }
}
