/**
 * A strict, independent ActivityPub server for tests, written without Fedify
 * (node:http and node:crypto through ./peer-server.ts and
 * ./http-signatures.ts). It behaves the way widely deployed microblog
 * servers do, so that what it accepts is an outside opinion of our wire
 * format:
 *
 * - WebFinger and a Person actor with an RSA-2048 key (draft-cavage only);
 * - every POST to its inboxes is answered 202 at once and verified after,
 *   so a sender never learns from the status that its signature failed;
 * - a signature verifies only with the key named by keyId, fetched from its
 *   origin, that belongs to the activity's actor (same origin, listed by the
 *   actor's own document); anything else is dropped and logged;
 * - `Update` of an object it has never seen is dropped;
 * - when a follow is accepted it backfills the followed actor's outbox;
 * - it replies (Notes with inReplyTo), edits (Update) and deletes (Delete),
 *   addressed to the author and its followers, and votes in polls;
 * - `log` records everything it received and what it did with it.
 */
import { randomUUID } from "node:crypto";
import { generateRsaKeyPair, verifyRequest, type RsaKeyPair } from "./http-signatures.ts";
import { ACTIVITY_JSON, AS_CONTEXT, PeerServer, actorDocument, type ReceivedRequest } from "./peer-server.ts";

export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

type Json = Record<string, any>;

export type LogEntry =
  | { kind: "verified"; type: string; id: string; actor: string }
  | { kind: "signature-failure"; reason: string; path: string; type?: string }
  | { kind: "dropped"; type: string; id: string; reason: string }
  | { kind: "sent"; type: string; id: string; to: string; status: number };

/** What the user of this server sees in their home timeline. */
export interface TimelineEntry {
  /** How it arrived: pushed to the inbox, or read from an outbox on follow. */
  via: "inbox" | "backfill";
  activity: string;
  object: Json;
}

const ACCEPT_AP = `${ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`;

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  const id = (value as Json | undefined)?.id;
  return typeof id === "string" ? id : undefined;
}

function typeOf(value: unknown): string {
  const type = (value as Json | undefined)?.type;
  return Array.isArray(type) ? type.join(",") : String(type);
}

export class StrictPeer {
  /** Its own server, or one shared with other peers (several users of one host, one shared inbox). */
  readonly server: PeerServer;
  readonly log: LogEntry[] = [];
  readonly timeline: TimelineEntry[] = [];
  /** Objects this server knows (its own and those received), by id. */
  readonly objects = new Map<string, Json>();
  readonly followers = new Set<string>();
  /** Our follows: followee actor id -> the Follow and its state. */
  readonly following = new Map<string, { follow: Json; state: "pending" | "accepted" | "rejected" }>();
  /** Rejects received for activities we sent (e.g. a vote not counted), with their reason. */
  readonly rejections: { object: string; reason: string; actor: string }[] = [];
  /** Actors' documents received in Updates of their own profile, in arrival order. */
  readonly profileUpdates: Json[] = [];
  private readonly pending = new Set<Promise<void>>();
  private keys!: RsaKeyPair;
  private readonly actorCache = new Map<string, Json>();

  constructor(
    readonly username = "mia",
    server?: PeerServer,
  ) {
    this.server = server ?? new PeerServer();
  }

  get actor(): string {
    return this.server.url(`/users/${this.username}`);
  }
  get keyId(): string {
    return `${this.actor}#main-key`;
  }
  /** The fediverse handle, @name@host. */
  get acct(): string {
    return `@${this.username}@${this.server.host}`;
  }

  async start(): Promise<this> {
    if (!this.server.origin) await this.server.start();
    this.keys = generateRsaKeyPair();
    this.server.serveJson(
      `/users/${this.username}`,
      actorDocument({
        id: this.actor,
        preferredUsername: this.username,
        inbox: `${this.actor}/inbox`,
        sharedInbox: this.server.url("/inbox"),
        outbox: `${this.actor}/outbox`,
        followers: `${this.actor}/followers`,
        keyId: this.keyId,
        publicKeyPem: this.keys.publicKeyPem,
      }),
    );
    this.server.serveJson(`/users/${this.username}/outbox`, { "@context": AS_CONTEXT, id: `${this.actor}/outbox`, type: "OrderedCollection", totalItems: 0, orderedItems: [] });
    this.server.use((request) => this.route(request));
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** Waits until every inbox delivery received so far has been verified and handled. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  signatureFailures(): LogEntry[] {
    return this.log.filter((entry) => entry.kind === "signature-failure");
  }

  verified(type?: string): Extract<LogEntry, { kind: "verified" }>[] {
    return this.log.filter((entry): entry is Extract<LogEntry, { kind: "verified" }> => entry.kind === "verified" && (!type || entry.type === type));
  }

  private route(request: ReceivedRequest) {
    const url = new URL(request.path, this.server.origin);
    if (url.pathname === "/.well-known/webfinger") {
      const wanted = `acct:${this.username}@${this.server.host}`;
      // Another user of a shared server may be asked for: let its handler answer.
      if (url.searchParams.get("resource") !== wanted) return undefined;
      return {
        status: 200,
        headers: { "content-type": "application/jrd+json" },
        body: JSON.stringify({ subject: wanted, links: [{ rel: "self", type: ACTIVITY_JSON, href: this.actor }] }),
      };
    }
    if (request.method === "POST" && (url.pathname === `/users/${this.username}/inbox` || url.pathname === "/inbox")) {
      // Answer first, verify later: a failed signature is never reported to the sender.
      const work = this.receive(request).finally(() => this.pending.delete(work));
      this.pending.add(work);
      return { status: 202, body: "" };
    }
    return undefined;
  }

  // ---------------------------------------------------------------- fetching

  /** GETs an ActivityPub document, unsigned (as most servers serve public objects). */
  async fetchJson(url: string): Promise<Json | undefined> {
    const response = await fetch(url, { headers: { accept: ACCEPT_AP }, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return undefined;
    return (await response.json()) as Json;
  }

  async fetchActor(id: string): Promise<Json | undefined> {
    const cached = this.actorCache.get(id);
    if (cached) return cached;
    const actor = await this.fetchJson(id);
    if (!actor || actor.id !== id || typeof actor.inbox !== "string") return undefined;
    this.actorCache.set(id, actor);
    return actor;
  }

  /**
   * The PEM of `keyId` if it is `actorId`'s own key: the key document comes
   * from the actor's origin, names the actor as owner, and the actor's
   * document lists it.
   */
  private async actorKey(keyId: string, actorId: string): Promise<string | undefined> {
    if (new URL(keyId).origin !== new URL(actorId).origin) return undefined;
    const actor = await this.fetchActor(actorId);
    const listed = asArray(actor?.publicKey).find((key) => idOf(key) === keyId) as Json | undefined;
    if (!listed) return undefined;
    const key = typeof listed.publicKeyPem === "string" ? listed : await this.fetchJson(keyId);
    if (!key || idOf(key.owner) !== actorId || typeof key.publicKeyPem !== "string") return undefined;
    return key.publicKeyPem;
  }

  // --------------------------------------------------------------- receiving

  private async receive(request: ReceivedRequest): Promise<void> {
    const activity = request.json as Json | undefined;
    if (!activity || typeof activity.actor !== "string" || typeof activity.id !== "string") {
      this.log.push({ kind: "signature-failure", reason: "not an activity with an actor", path: request.path });
      return;
    }
    const actorId = activity.actor as string;
    let result;
    try {
      result = await verifyRequest({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        fetchPublicKeyPem: (keyId) => this.actorKey(keyId, actorId),
      });
    } catch (error) {
      result = { ok: false as const, reason: `verification failed: ${(error as Error).message}` };
    }
    if (!result.ok) {
      this.log.push({ kind: "signature-failure", reason: result.reason, path: request.path, type: typeOf(activity) });
      return;
    }
    this.log.push({ kind: "verified", type: typeOf(activity), id: activity.id, actor: actorId });
    await this.handle(activity, actorId);
  }

  private drop(activity: Json, reason: string): void {
    this.log.push({ kind: "dropped", type: typeOf(activity), id: String(activity.id), reason });
  }

  private async handle(activity: Json, actorId: string): Promise<void> {
    switch (activity.type) {
      case "Follow":
        return this.onFollow(activity, actorId);
      case "Undo":
        return this.onUndo(activity, actorId);
      case "Accept":
      case "Reject":
        return this.onAnswer(activity, actorId);
      case "Create":
        return this.onCreate(activity, actorId, "inbox");
      case "Update":
        return this.onUpdate(activity, actorId);
      case "Delete":
        return this.onDelete(activity, actorId);
      case "Announce":
        // Boosts are shown by reference; the object is fetched from its own origin.
        return this.drop(activity, "boosts are not shown by this peer");
      default:
        return this.drop(activity, "unsupported activity type");
    }
  }

  private async onFollow(activity: Json, actorId: string): Promise<void> {
    if (idOf(activity.object) !== this.actor) return this.drop(activity, "Follow of someone else");
    const follower = await this.fetchActor(actorId);
    if (!follower) return this.drop(activity, "follower could not be fetched");
    this.followers.add(actorId);
    await this.send(follower.inbox, { "@context": AS_CONTEXT, id: `${this.actor}#accepts/${randomUUID()}`, type: "Accept", actor: this.actor, object: activity });
  }

  private onUndo(activity: Json, actorId: string): void {
    const object = activity.object as Json;
    if (typeOf(object) !== "Follow" || idOf(object.object) !== this.actor || idOf(object.actor) !== actorId) return this.drop(activity, "Undo of something else");
    this.followers.delete(actorId);
  }

  private async onAnswer(activity: Json, actorId: string): Promise<void> {
    const objectId = idOf(activity.object);
    const follow = this.following.get(actorId);
    if (follow && (objectId === follow.follow.id || idOf((activity.object as Json)?.actor) === this.actor)) {
      follow.state = activity.type === "Accept" ? "accepted" : "rejected";
      if (follow.state === "accepted") await this.backfill(actorId);
      return;
    }
    if (activity.type === "Reject" && objectId && this.objects.has(objectId)) {
      this.rejections.push({ object: objectId, actor: actorId, reason: String(activity.summary ?? activity.content ?? "") });
      return;
    }
    this.drop(activity, "answer to nothing we sent");
  }

  /** A post is shown only if it comes from its author, on the author's origin. */
  private postOf(activity: Json, actorId: string): Json | undefined {
    const object = activity.object as Json;
    if (typeof object !== "object" || typeof object?.id !== "string") return undefined;
    if (new URL(object.id).origin !== new URL(actorId).origin || idOf(object.attributedTo) !== actorId) return undefined;
    return object;
  }

  private onCreate(activity: Json, actorId: string, via: TimelineEntry["via"]): void {
    const object = this.postOf(activity, actorId);
    if (!object) return this.drop(activity, "object missing, or not by the actor on its origin");
    if (this.objects.has(object.id)) return this.drop(activity, "already known");
    this.objects.set(object.id, object);
    this.timeline.push({ via, activity: activity.id, object });
  }

  private onUpdate(activity: Json, actorId: string): void {
    // An actor's Update of its own profile refreshes our copy, as microblog servers do.
    if (typeof activity.object === "object" && activity.object?.id === actorId) {
      this.actorCache.set(actorId, activity.object);
      this.profileUpdates.push(activity.object);
      return;
    }
    const object = this.postOf(activity, actorId);
    if (!object) return this.drop(activity, "object missing, or not by the actor on its origin");
    // What widely deployed servers do: an edit of something never seen is dropped.
    if (!this.objects.has(object.id)) return this.drop(activity, "Update of an unknown object");
    this.objects.set(object.id, object);
  }

  private onDelete(activity: Json, actorId: string): void {
    const id = idOf(activity.object);
    const known = id ? this.objects.get(id) : undefined;
    if (!id || !known || idOf(known.attributedTo) !== actorId) return this.drop(activity, "Delete of an unknown object or by someone else");
    this.objects.delete(id);
    const index = this.timeline.findIndex((entry) => entry.object.id === id);
    if (index >= 0) this.timeline.splice(index, 1);
  }

  /** Reads the first pages of a newly followed actor's outbox into the timeline. */
  private async backfill(actorId: string): Promise<void> {
    const actor = await this.fetchActor(actorId);
    if (typeof actor?.outbox !== "string" || new URL(actor.outbox).origin !== new URL(actorId).origin) return;
    const collection = await this.fetchJson(actor.outbox);
    let next = idOf(collection?.first);
    let items = asArray(collection?.orderedItems);
    for (let page = 0; page < 5; page++) {
      for (const item of items) if (typeOf(item) === "Create") this.onCreate(item as Json, actorId, "backfill");
      if (!next || new URL(next).origin !== new URL(actorId).origin) break;
      const doc = await this.fetchJson(next);
      items = asArray(doc?.orderedItems ?? doc?.items);
      next = idOf(doc?.next);
    }
  }

  // ----------------------------------------------------------------- sending

  /** POSTs a signed activity (draft-cavage, as this kind of server does). */
  async send(inbox: string, activity: Json): Promise<number> {
    const response = await this.server.post(inbox, activity, { keyId: this.keyId, pair: this.keys });
    await response.body?.cancel();
    this.log.push({ kind: "sent", type: typeOf(activity), id: String(activity.id), to: inbox, status: response.status });
    return response.status;
  }

  /** Sends to each actor's inbox (the author and our followers, say), once each. */
  private async sendTo(actorIds: Iterable<string>, activity: Json): Promise<void> {
    const inboxes = new Set<string>();
    for (const id of actorIds) {
      const actor = await this.fetchActor(id);
      if (actor) inboxes.add(actor.endpoints?.sharedInbox ?? actor.inbox);
    }
    for (const inbox of inboxes) await this.send(inbox, activity);
  }

  async follow(target: string): Promise<Json> {
    const actor = await this.fetchActor(target);
    if (!actor) throw new Error(`cannot fetch ${target}`);
    const follow = { "@context": AS_CONTEXT, id: `${this.actor}#follows/${randomUUID()}`, type: "Follow", actor: this.actor, object: target };
    this.following.set(target, { follow, state: "pending" });
    await this.send(actor.inbox, follow);
    return follow;
  }

  async unfollow(target: string): Promise<void> {
    const follow = this.following.get(target);
    const actor = await this.fetchActor(target);
    if (!follow || !actor) throw new Error(`not following ${target}`);
    this.following.delete(target);
    await this.send(actor.inbox, { "@context": AS_CONTEXT, id: `${this.actor}#undo/${randomUUID()}`, type: "Undo", actor: this.actor, object: follow.follow });
  }

  /** A public reply to `inReplyTo`, by `author`, sent to the author and our followers; the Note is served at its id. */
  async reply(inReplyTo: string, author: string, text: string): Promise<Json> {
    const id = `${this.actor}/statuses/${randomUUID()}`;
    const note = {
      "@context": AS_CONTEXT,
      id,
      type: "Note",
      attributedTo: this.actor,
      inReplyTo,
      content: `<p>${text}</p>`,
      published: new Date().toISOString(),
      to: [PUBLIC],
      cc: [`${this.actor}/followers`, author],
      tag: [{ type: "Mention", href: author }],
    };
    this.publish(note);
    await this.sendTo([author, ...this.followers], { "@context": AS_CONTEXT, id: `${id}/activity`, type: "Create", actor: this.actor, to: note.to, cc: note.cc, object: withoutContext(note) });
    return note;
  }

  async edit(id: string, text: string): Promise<void> {
    const note = this.objects.get(id);
    if (!note) throw new Error(`no post ${id}`);
    const edited = { ...note, content: `<p>${text}</p>`, updated: new Date(Date.now() + 1000).toISOString() };
    this.publish(edited);
    await this.sendTo([...mentioned(note), ...this.followers], this.updateOf(id, edited));
  }

  /** The post's page starts answering 410 without a Delete being sent (an account wiped, a server restored from backup). */
  vanish(id: string): void {
    this.server.serveJson(new URL(id).pathname, { "@context": AS_CONTEXT, id, type: "Tombstone" }, { status: 410 });
  }

  /** Sends the post's Update again as it was last edited, e.g. a re-delivery after a retry. */
  async redeliverUpdate(id: string): Promise<void> {
    const note = this.objects.get(id);
    if (!note) throw new Error(`no post ${id}`);
    await this.sendTo(mentioned(note), this.updateOf(id, note));
  }

  /** An Update of one of our posts, addressed as the post is. */
  private updateOf(id: string, note: Record<string, unknown>): Record<string, unknown> {
    return {
      "@context": AS_CONTEXT,
      id: `${id}#updates/${Date.now()}`,
      type: "Update",
      actor: this.actor,
      to: note.to,
      cc: note.cc,
      object: withoutContext(note),
    };
  }

  async delete(id: string): Promise<void> {
    const note = this.objects.get(id);
    if (!note) throw new Error(`no post ${id}`);
    this.objects.delete(id);
    this.server.serveJson(new URL(id).pathname, { "@context": AS_CONTEXT, id, type: "Tombstone" }, { status: 410 });
    await this.sendTo([...asArray(note.cc).map(String).filter((iri) => !iri.endsWith("/followers")), ...this.followers], {
      "@context": AS_CONTEXT,
      id: `${id}#delete`,
      type: "Delete",
      actor: this.actor,
      to: [PUBLIC],
      object: { id, type: "Tombstone" },
    });
  }

  /** Answers a poll the way microblog servers do: a Note named after the option, replying to the Question, to its author only. */
  async vote(question: Json, option: string): Promise<Json> {
    const author = idOf(question.attributedTo)!;
    const id = `${this.actor}#votes/${randomUUID()}`;
    const note = { id, type: "Note", name: option, attributedTo: this.actor, inReplyTo: question.id, to: author };
    const create = { "@context": AS_CONTEXT, id: `${id}/activity`, type: "Create", actor: this.actor, to: author, object: note };
    this.objects.set(create.id, create);
    await this.sendTo([author], create);
    return create;
  }

  private publish(note: Json): void {
    this.objects.set(note.id, note);
    this.server.serveJson(new URL(note.id).pathname, note);
  }
}

function withoutContext(object: Json): Json {
  const { "@context": _context, ...rest } = object;
  return rest;
}

/** The actors a post is addressed to by name (its cc without follower collections). */
function mentioned(note: Record<string, unknown>): string[] {
  return asArray(note.cc).map(String).filter((iri) => !iri.endsWith("/followers"));
}
