/**
 * A bare ActivityPub origin for tests, with no Fedify inside: plain node:http
 * on a loopback port. Tests put documents at paths (actors, keys, objects,
 * WebFinger answers), see every request it received, and send signed
 * requests from it. The strict peer and the hostile peers build on this.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signRequest, type RsaKeyPair } from "./http-signatures.ts";

export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
export const SECURITY_CONTEXT = "https://w3id.org/security/v1";
export const ACTIVITY_JSON = "application/activity+json";

export interface ReceivedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
  receivedAt: Date;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering (for slow-peer tests; bounded by the caller). */
  delayMs?: number;
}

/** Answers a request, or returns undefined to fall through to the stored documents. */
export type Handler = (request: ReceivedRequest, response: ServerResponse) => Reply | undefined | Promise<Reply | undefined>;

export class PeerServer {
  readonly requests: ReceivedRequest[] = [];
  private readonly documents = new Map<string, Reply>();
  private readonly handlers: Handler[] = [];
  private server?: Server;
  origin = "";
  host = "";

  /** Listens on a free port, or on `port` (to come back where it was after stop()). Documents and handlers stay. */
  async start(listenPort = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(listenPort, "127.0.0.1", resolve);
    });
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.host = `127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  url(path: string): string {
    return new URL(path, this.origin).href;
  }

  /** Serves a JSON document at a path (activity+json unless told otherwise). */
  serveJson(path: string, document: unknown, options: { contentType?: string; status?: number } = {}): void {
    this.documents.set(path, {
      status: options.status ?? 200,
      headers: { "content-type": options.contentType ?? ACTIVITY_JSON },
      body: JSON.stringify(document),
    });
  }

  serve(path: string, reply: Reply): void {
    this.documents.set(path, reply);
  }

  unserve(path: string): void {
    this.documents.delete(path);
  }

  /** Handlers run first, newest first. */
  use(handler: Handler): void {
    this.handlers.unshift(handler);
  }

  received(filter: (request: ReceivedRequest) => boolean = () => true): ReceivedRequest[] {
    return this.requests.filter(filter);
  }

  /** POSTs an activity to an inbox, signed draft-cavage with the given key. */
  async post(inbox: string, activity: unknown, key: { keyId: string; pair: RsaKeyPair }): Promise<Response> {
    const body = JSON.stringify(activity);
    const headers = signRequest({
      method: "POST",
      url: inbox,
      body,
      keyId: key.keyId,
      privateKey: key.pair.privateKey,
      headers: { "content-type": ACTIVITY_JSON },
    });
    return fetch(inbox, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let json: unknown;
    try {
      json = body.length > 0 ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      json = undefined;
    }
    const request: ReceivedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body, json, receivedAt: new Date() };
    this.requests.push(request);
    let reply: Reply | undefined;
    for (const handler of this.handlers) {
      reply = await handler(request, res);
      if (reply || res.headersSent) break;
    }
    if (res.headersSent) return;
    reply ??= this.documents.get(new URL(request.path, this.origin).pathname + new URL(request.path, this.origin).search) ??
      this.documents.get(new URL(request.path, this.origin).pathname) ?? { status: 404, body: "not found" };
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply!.delayMs));
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.end(reply.body ?? "");
  }
}

/** An actor document with an RSA key in the usual Mastodon shape. */
export function actorDocument(options: {
  id: string;
  type?: string;
  preferredUsername: string;
  inbox: string;
  sharedInbox?: string;
  outbox?: string;
  followers?: string;
  keyId: string;
  publicKeyPem: string;
  name?: string;
}): Record<string, unknown> {
  return {
    "@context": [AS_CONTEXT, SECURITY_CONTEXT],
    id: options.id,
    type: options.type ?? "Person",
    preferredUsername: options.preferredUsername,
    name: options.name ?? options.preferredUsername,
    inbox: options.inbox,
    outbox: options.outbox ?? `${options.id}/outbox`,
    followers: options.followers ?? `${options.id}/followers`,
    ...(options.sharedInbox ? { endpoints: { sharedInbox: options.sharedInbox } } : {}),
    publicKey: { id: options.keyId, owner: options.id, publicKeyPem: options.publicKeyPem },
  };
}
