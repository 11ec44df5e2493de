/**
 * An actor on a PeerServer: its document and RSA key served from the peer's
 * origin, its inbox recorded by the peer, and signed POSTs from it. A
 * delivery to its inbox is checked as a strict draft-cavage server checks it
 * (an RFC 9421 first knock gets 401, as from servers that speak only
 * draft-cavage, so the sender falls back).
 */
import { createPublicKey } from "node:crypto";
import { generateRsaKeyPair, verifyRequest, type RsaKeyPair, type VerifyResult } from "./http-signatures.ts";
import { actorDocument, type PeerServer, type ReceivedRequest } from "./peer-server.ts";

export interface PeerActor {
  id: string;
  keyId: string;
  inbox: string;
  pair: RsaKeyPair;
  /** Signed POST of an activity from this actor. */
  send(inbox: string, activity: Record<string, unknown>): Promise<Response>;
  /** Deliveries that reached the inbox (after any fallback), with their signature check. */
  deliveries(): Promise<{ request: ReceivedRequest; verified: VerifyResult }[]>;
}

export function peerActor(peer: PeerServer, name: string): PeerActor {
  const id = peer.url(`/users/${name}`);
  const inboxPath = `/users/${name}/inbox`;
  const actor: PeerActor = {
    id,
    keyId: `${id}#main-key`,
    inbox: peer.url(inboxPath),
    pair: generateRsaKeyPair(),
    send: (inbox, activity) => peer.post(inbox, { "@context": "https://www.w3.org/ns/activitystreams", actor: id, ...activity }, actor),
    async deliveries() {
      const posts = peer.received((r) => r.method === "POST" && r.path === inboxPath && !r.headers["signature-input"]);
      return Promise.all(
        posts.map(async (request) => ({
          request,
          verified: await verifyRequest({ ...request, fetchPublicKeyPem: fetchPublicKeyPem }),
        })),
      );
    },
  };
  peer.serveJson(
    `/users/${name}`,
    actorDocument({ id, preferredUsername: name, inbox: actor.inbox, keyId: actor.keyId, publicKeyPem: actor.pair.publicKeyPem }),
  );
  // Handlers run newest first: the 401 for RFC 9421 before the 202.
  peer.use((request) => (request.path === inboxPath && request.method === "POST" ? { status: 202 } : undefined));
  peer.use((request) => (request.path === inboxPath && request.headers["signature-input"] ? { status: 401, body: "draft-cavage only" } : undefined));
  return actor;
}

/** The PEM of a key id, from the actor document it belongs to (as Mastodon fetches it). */
async function fetchPublicKeyPem(keyId: string): Promise<string | undefined> {
  const response = await fetch(keyId, { headers: { Accept: "application/activity+json" } });
  if (!response.ok) return undefined;
  const doc = (await response.json()) as { publicKey?: { id: string; publicKeyPem: string } | { id: string; publicKeyPem: string }[] };
  const keys = Array.isArray(doc.publicKey) ? doc.publicKey : doc.publicKey ? [doc.publicKey] : [];
  const pem = keys.find((key) => key.id === keyId)?.publicKeyPem;
  return pem ? createPublicKey(pem).export({ type: "spki", format: "pem" }).toString() : undefined;
}
