/**
 * A programmable hostile peer (no Fedify): an origin on loopback that lies.
 * It can serve keys that claim someone else as their owner, Multikeys that
 * claim a foreign controller, actor documents that embed a victim's key or
 * point their inbox elsewhere, documents that are too big, too slow, of the
 * wrong media type or redirected to another origin, and WebFinger answers
 * that name the wrong account; and it POSTs activities signed with whatever
 * key a test chooses. Every actor it serves honestly is the baseline the
 * tests compare against: the same machinery, telling the truth, is accepted.
 */
import { ACTIVITY_JSON, AS_CONTEXT, PeerServer, SECURITY_CONTEXT, actorDocument } from "./peer-server.ts";
import { generateRsaKeyPair, type RsaKeyPair } from "./http-signatures.ts";
import { DATA_INTEGRITY_CONTEXT, MULTIKEY_CONTEXT, attachProof, generateEd25519KeyPair, multikeyDocument, type Ed25519KeyPair } from "./integrity-proofs.ts";

export interface Signer {
  keyId: string;
  pair: RsaKeyPair;
}

export interface PeerActor extends Signer {
  id: string;
  name: string;
  inbox: string;
  document: Record<string, unknown>;
}

export class HostilePeer {
  readonly server = new PeerServer();

  static async start(): Promise<HostilePeer> {
    const peer = new HostilePeer();
    await peer.server.start();
    return peer;
  }

  get origin(): string {
    return this.server.origin;
  }

  get host(): string {
    return this.server.host;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  url(path: string): string {
    return this.server.url(path);
  }

  /**
   * An actor on this origin whose document lists its own key. `edit` may
   * rewrite the document before it is served (to make it lie).
   */
  actor(name: string, edit: (document: Record<string, unknown>) => Record<string, unknown> = (d) => d): PeerActor {
    const id = this.url(`/users/${name}`);
    const pair = generateRsaKeyPair();
    const keyId = `${id}#main-key`;
    const inbox = `${id}/inbox`;
    const document = edit(actorDocument({ id, preferredUsername: name, inbox, keyId, publicKeyPem: pair.publicKeyPem }));
    this.server.serveJson(`/users/${name}`, document);
    this.server.serve(`/users/${name}/inbox`, { status: 202 });
    return { id, name, inbox, keyId, pair, document };
  }

  /** A key document on this origin claiming `owner` (on any origin) as its owner. */
  claimKey(path: string, owner: string, type: "CryptographicKey" | "Key" = "CryptographicKey"): Signer {
    const pair = generateRsaKeyPair();
    const keyId = this.url(path);
    this.server.serveJson(path, { "@context": SECURITY_CONTEXT, id: keyId, type, owner, publicKeyPem: pair.publicKeyPem });
    return { keyId, pair };
  }

  /** A Multikey on this origin claiming `controller` (on any origin). */
  claimMultikey(path: string, controller: string): { keyId: string; key: Ed25519KeyPair } {
    const key = generateEd25519KeyPair();
    const keyId = this.url(path);
    this.server.serveJson(path, multikeyDocument(keyId, controller, key));
    return { keyId, key };
  }

  /**
   * One document typed both CryptographicKey and Multikey: an honest `owner`
   * for readers that take it as a key, a false `controller` for readers that
   * take it as a Multikey.
   */
  dualKey(path: string, claims: { owner: string; controller: string }): { keyId: string; key: Ed25519KeyPair } {
    const key = generateEd25519KeyPair();
    const keyId = this.url(path);
    this.server.serveJson(path, {
      "@context": [SECURITY_CONTEXT, MULTIKEY_CONTEXT],
      id: keyId,
      type: ["CryptographicKey", "Multikey"],
      owner: claims.owner,
      controller: claims.controller,
      publicKeyMultibase: key.publicKeyMultibase,
    });
    return { keyId, key };
  }

  /** POSTs an activity signed (draft-cavage) with the given key. */
  post(inbox: string, activity: unknown, signer: Signer): Promise<Response> {
    return this.server.post(inbox, activity, signer);
  }

  /** POSTs an activity with an integrity proof and no HTTP signature at all. */
  postWithProof(inbox: string, activity: Record<string, unknown>, proof: { keyId: string; key: Ed25519KeyPair }): Promise<Response> {
    const withContext = { ...activity, "@context": [AS_CONTEXT, DATA_INTEGRITY_CONTEXT] };
    const body = JSON.stringify(attachProof(withContext, proof.keyId, proof.key));
    return fetch(inbox, { method: "POST", headers: { "content-type": ACTIVITY_JSON }, body, signal: AbortSignal.timeout(15_000) });
  }

  /** Serves a JSON document padded to at least `bytes` bytes. */
  serveOversize(path: string, document: Record<string, unknown>, bytes: number): void {
    this.server.serve(path, { headers: { "content-type": ACTIVITY_JSON }, body: JSON.stringify({ ...document, padding: "x".repeat(bytes) }) });
  }

  /** Serves a JSON document with the given Content-Type. */
  serveAs(path: string, document: unknown, contentType: string): void {
    this.server.serveJson(path, document, { contentType });
  }

  /** Answers only after `delayMs`. */
  serveSlow(path: string, document: unknown, delayMs: number): void {
    this.server.serve(path, { headers: { "content-type": ACTIVITY_JSON }, body: JSON.stringify(document), delayMs });
  }

  /** Redirects a path to any URL (another origin, a private address...). */
  redirect(path: string, location: string): void {
    this.server.serve(path, { status: 302, headers: { location } });
  }

  /** Answers WebFinger for `acct:user@host` with whatever JRD the test writes. */
  webfinger(resource: string, jrd: Record<string, unknown>): void {
    this.server.serve(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, {
      headers: { "content-type": "application/jrd+json" },
      body: JSON.stringify(jrd),
    });
  }

  /** Requests this peer received (e.g. deliveries that must not have happened). */
  received(path?: string) {
    return this.server.received((request) => path === undefined || new URL(request.path, this.origin).pathname === path);
  }
}

/** A JRD whose self link points at `actor`. */
export function jrd(subject: string, actor: string): Record<string, unknown> {
  return { subject, links: [{ rel: "self", type: ACTIVITY_JSON, href: actor }] };
}
