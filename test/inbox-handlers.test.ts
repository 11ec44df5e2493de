/**
 * Inbox handlers one by one, with @fedify/testing's inbox context: no
 * server, no signatures (Fedify checks those before a handler runs; the
 * end-to-end tests in inbox-security, trust-* and the federation tests show
 * it). Each received activity is checked for the rows it leaves and the
 * outbox effects it records in the same transaction; each refused one for
 * leaving every row as it was and recording nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context, InboxContext } from "@fedify/fedify";
import { createContext, createInboxContext } from "@fedify/testing";
import { Accept, Create, Delete, Follow, Note, Person, Reject, Tombstone, Undo } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { snapshotOf } from "./db-snapshot.ts";
import { first, type Db } from "../db/client.ts";
import { closeDatabase } from "../db/client.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { annotations, communities, follows, outbox, partnerVotes } from "../db/schema.ts";
import { createUser } from "../src/accounts/users.ts";
import { ensureInstanceActor } from "../src/actors/local-actors.ts";
import { ManualClock } from "../src/app/clock.ts";
import { pendingEffects, recordEffect } from "../src/app/outbox.ts";
import { createCommunity, type Community } from "../src/communities.ts";
import { recordIncomingFollow, recordOutgoingFollow } from "../src/follows.ts";
import { createProposal, type Proposal } from "../src/participation/proposals.ts";
import { storeAnnotation } from "../src/policies/annotations.ts";
import { createPolicy, type Policy, type PolicyVersion } from "../src/policies/policies.ts";
import { publishDraft } from "../src/policies/publish.ts";
import { createFederationPort } from "../federation/app-port.ts";
import { createInstanceData, type InstanceData } from "../federation/context.ts";
import { createFedalignFederation } from "../federation/federation.ts";
import { createDocumentLoaders, USER_AGENT, type DocumentLoaders } from "../federation/fetch.ts";
import { isHeldAnnotation, onAnnotationCreated, onAnnotationDeleted, onAnnotationEdited } from "../federation/inbox/annotations.ts";
import { onActorDeleted } from "../federation/inbox/actors.ts";
import { onFollowAccepted, onFollowRejected, onFollowRequested, onFollowUndone } from "../federation/inbox/follows.ts";
import { onPartnerVote } from "../federation/inbox/participation.ts";
import { effectSenders } from "../federation/effect-senders.ts";
import { OutboxDispatcher } from "../federation/outbox-dispatcher.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";
import { persistActor } from "../federation/entities/actor.ts";
import { persistPolicyPlaceholder } from "../federation/entities/version.ts";
import { proposalIri, voteTarget } from "../federation/proposals.ts";
import { parse } from "./content-builders.ts";
import { rawSql } from "./harness.ts";

const ORIGIN = "https://align.example";
const REMOTE = "https://remote.example";
const MIA = `${REMOTE}/users/mia`;
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

let dataDir: string;
let db: Db;
let clock: ManualClock;
let data: InstanceData;
let federation: ReturnType<typeof createFedalignFederation>;
let garden: Community;
let policy: Policy;
let version: PolicyVersion;
let proposal: Proposal;
/** What a remote server serves, for handlers that fetch (a Note from its author's origin). */
const served = new Map<string, unknown>();
/** Activities a handler forwarded (Fedify's forwardActivity, as the mock records it). */
let forwarded: { forwarder: unknown; recipients: unknown }[] = [];

function inbox(recipient: string | null = null): InboxContext<InstanceData> {
  const real = federation.createContext(new URL(ORIGIN), data);
  return createInboxContext<InstanceData>({
    federation,
    data,
    url: new URL(ORIGIN),
    recipient,
    getActorUri: (identifier) => real.getActorUri(identifier),
    getFollowersUri: (identifier) => real.getFollowersUri(identifier),
    parseUri: (uri) => real.parseUri(uri),
    documentLoader: data.loaders.cached,
    contextLoader: data.loaders.context,
    forwardActivity: async (forwarder: unknown, recipients: unknown) => {
      forwarded.push({ forwarder, recipients });
    },
  } as Parameters<typeof createInboxContext<InstanceData>>[0]);
}

const actorIri = (identifier: string) => `${ORIGIN}/actors/${identifier}`;

/** Every row the instance holds (test/db-snapshot.ts): equal before and after a refused activity. */
const snapshot = () => rawSql(db, (raw) => snapshotOf(raw));

const effects = async () => await db.select({ kind: outbox.kind, payload: outbox.payload }).from(outbox);

async function remoteActor(iri: string): Promise<void> {
  const url = new URL(iri);
  await persistActor(data, new Person({ id: url, inbox: new URL(`${url.href}/inbox`), preferredUsername: url.pathname.split("/").pop() }));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-inbox-unit-"));
  db = openInstanceDatabase(dataDir, "create");
  await ensureInstanceActor(db, new URL(ORIGIN).host);
  clock = new ManualClock(new Date("2026-12-03T12:00:00Z"));
  const kv = new SqliteKvStore(db);
  const network = createDocumentLoaders({ kv, allowPrivateAddress: false, userAgent: USER_AGENT });
  const fromServed = async (url: string) => {
    if (!served.has(url)) throw Object.assign(new Error(`not served: ${url}`), { response: { status: 404 } });
    return { contextUrl: null, document: structuredClone(served.get(url)), documentUrl: url };
  };
  const loaders: DocumentLoaders = { ...network, fresh: fromServed, cached: fromServed };
  data = createInstanceData(db, loaders, false, clock);
  federation = await createFedalignFederation({ db, origin: ORIGIN, allowPrivateAddress: false, loaders, kv });

  const alice = await createUser(db, { username: "alice", password: "correct horse battery" });
  garden = await createCommunity(db, { handle: "garden", name: "Garden", steward: alice });
  await db.update(communities).set({ partners: ["remote.example"] }).where(eq(communities.id, garden.id));
  const content = parse({ title: "Garden rules", licence: "CC0-1.0", clauses: [{ id: "tone", authority: "guideline", text: "Be kind." }] });
  policy = await createPolicy(db, { origin: ORIGIN, community: garden, slug: "rules", content });
  const port = createFederationPort(federation, ORIGIN, data);
  version = await publishDraft(db, { policy, ownerFollowersIri: port.followersIri("garden"), sign: port.signerFor("garden"), now: clock.now() });
  const clause = { id: "tone", title: "", section: null, authority: "guideline", text: "Be kind.", rationale: "", context: {}, examples: [], tags: [] };
  proposal = await createProposal(db, {
    policy,
    community: garden,
    author: alice,
    title: "Brevity",
    changes: { base: { contentHash: version.contentHash }, operations: [{ op: "edit", id: "tone", before: clause, after: { ...clause, text: "Be kind and brief." } }] },
    closesAt: new Date(clock.now().getTime() + 3 * 24 * 3_600_000),
    now: clock.now(),
  });
  await remoteActor(MIA);
});

afterAll(async () => {
  closeDatabase(db);
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await db.delete(outbox);
  forwarded = [];
});

describe("a Follow", () => {
  it("of a community is kept as accepted and its Accept recorded with it", async () => {
    await onFollowRequested(inbox("garden"), new Follow({ id: new URL(`${REMOTE}/follows/1`), actor: new URL(MIA), object: new URL(actorIri("garden")) }));
    const row = await first(db.select().from(follows).where(eq(follows.activityIri, `${REMOTE}/follows/1`)).limit(1));
    expect(row).toMatchObject({ followerIri: MIA, followeeIri: actorIri("garden"), state: "accepted" });
    expect(await effects()).toEqual([
      {
        kind: "follow.answered",
        payload: { identifier: "garden", answer: "accept", activityIri: `${REMOTE}/follows/1`, followerIri: MIA, followeeIri: actorIri("garden"), recipientIri: MIA },
      },
    ]);
  });

  it("of one of our policies is answered by its community", async () => {
    await onFollowRequested(inbox(null), new Follow({ id: new URL(`${REMOTE}/follows/2`), actor: new URL(MIA), object: new URL(policy.iri) }));
    expect((await first(db.select().from(follows).where(eq(follows.activityIri, `${REMOTE}/follows/2`)).limit(1)))?.state).toBe("accepted");
    expect(await effects()).toMatchObject([{ kind: "follow.answered", payload: { identifier: "garden", answer: "accept" } }]);
  });

  it("of the instance actor is refused, and the Reject recorded with the refusal", async () => {
    await onFollowRequested(inbox("instance"), new Follow({ id: new URL(`${REMOTE}/follows/3`), actor: new URL(MIA), object: new URL(actorIri("instance")) }));
    expect((await first(db.select().from(follows).where(eq(follows.activityIri, `${REMOTE}/follows/3`)).limit(1)))?.state).toBe("rejected");
    expect(await effects()).toMatchObject([{ kind: "follow.answered", payload: { identifier: "instance", answer: "reject" } }]);
  });

  it("of nobody we hold, or undone before it arrived, changes nothing", async () => {
    const before = await snapshot();
    await onFollowRequested(inbox(null), new Follow({ id: new URL(`${REMOTE}/follows/4`), actor: new URL(MIA), object: new URL(actorIri("nobody")) }));
    await onFollowUndone(inbox("garden"), new Undo({ id: new URL(`${REMOTE}/undo/5`), actor: new URL(MIA), object: new URL(`${REMOTE}/follows/5`) }));
    const undoneAt = await snapshot();
    await onFollowRequested(inbox("garden"), new Follow({ id: new URL(`${REMOTE}/follows/5`), actor: new URL(MIA), object: new URL(actorIri("garden")) }));
    expect(await snapshot()).toEqual(undoneAt);
    // Only the remembered Undo was written.
    expect({ ...undoneAt, undone_follows: [] }).toEqual({ ...before, undone_follows: [] });
    expect(await effects()).toEqual([]);
  });
});

describe("an answer to one of our follows", () => {
  let remotePolicy: Policy;
  const OWNER = `${REMOTE}/actors/orchard`;
  beforeAll(async () => {
    await remoteActor(OWNER);
    remotePolicy = await persistPolicyPlaceholder(inbox(), { id: `${REMOTE}/actors/orchard/policies/care`, attributedTo: OWNER });
  });
  const ourFollow = async (n: number) =>
    await recordOutgoingFollow(db, { followerIri: actorIri("garden"), followeeIri: remotePolicy.iri, activityIri: `${actorIri("garden")}#follows/${n}` });

  it("an Accept from the followed community makes it accepted and records the backfill and the dataset mirror", async () => {
    const follow = await ourFollow(1);
    await onFollowAccepted(inbox("garden"), new Accept({ id: new URL(`${REMOTE}/accept/1`), actor: new URL(OWNER), object: new URL(follow.activityIri) }));
    expect((await first(db.select().from(follows).where(eq(follows.id, follow.id)).limit(1)))?.state).toBe("accepted");
    expect(await effects()).toEqual([
      { kind: "inbox.follow.backfill", payload: { followeeIri: remotePolicy.iri } },
      { kind: "inbox.dataset.mirror", payload: { datasetIri: `${remotePolicy.iri}/preferences`, ownerIri: OWNER } },
    ]);
    // A second Accept of the same follow records nothing more.
    await db.delete(outbox);
    await onFollowAccepted(inbox("garden"), new Accept({ id: new URL(`${REMOTE}/accept/2`), actor: new URL(OWNER), object: new URL(follow.activityIri) }));
    expect(await effects()).toEqual([]);
  });

  it("an Accept or Reject from anyone but the followee changes nothing", async () => {
    await db.delete(follows).where(eq(follows.followeeIri, remotePolicy.iri));
    const follow = await ourFollow(2);
    const before = await snapshot();
    await onFollowAccepted(inbox("garden"), new Accept({ id: new URL(`${REMOTE}/accept/3`), actor: new URL(MIA), object: new URL(follow.activityIri) }));
    expect(await onFollowRejected(inbox("garden"), new Reject({ id: new URL(`${REMOTE}/reject/3`), actor: new URL(MIA), object: new URL(follow.activityIri) }))).toBe(false);
    expect(await snapshot()).toEqual(before);
  });

  it("a Reject from the followee makes it rejected and records nothing", async () => {
    const follow = await ourFollow(3);
    expect(await onFollowRejected(inbox("garden"), new Reject({ id: new URL(`${REMOTE}/reject/4`), actor: new URL(OWNER), object: new URL(follow.activityIri) }))).toBe(true);
    expect((await first(db.select().from(follows).where(eq(follows.id, follow.id)).limit(1)))?.state).toBe("rejected");
    expect(await effects()).toEqual([]);
  });
});

describe("an Undo of a Follow", () => {
  it("by the follower ends the follow; by anyone else it changes nothing", async () => {
    const follow = await recordIncomingFollow(db, { followerIri: MIA, followeeIri: actorIri("alice"), activityIri: `${REMOTE}/follows/undo-me`, autoAccept: true });
    const before = await snapshot();
    await onFollowUndone(inbox("alice"), new Undo({ id: new URL("https://elsewhere.example/undo/1"), actor: new URL("https://elsewhere.example/users/eve"), object: new URL(follow.activityIri) }));
    expect(await snapshot()).toEqual(before);
    await onFollowUndone(inbox("alice"), new Undo({ id: new URL(`${REMOTE}/undo/1`), actor: new URL(MIA), object: new URL(follow.activityIri) }));
    expect(await first(db.select().from(follows).where(eq(follows.id, follow.id)).limit(1))).toBeUndefined();
  });
});

describe("a partner's vote", () => {
  const voteOf = (voter: string, value: string, n: number) => {
    const note = new Note({ id: new URL(`${new URL(voter).origin}/votes/${n}`), attribution: new URL(voter), name: value, replyTarget: new URL(proposalIri(policy, proposal)) });
    return { note, create: new Create({ id: new URL(`${new URL(voter).origin}/create/${n}`), actor: new URL(voter), object: note }) };
  };
  const votes = async () => await db.select({ actorIri: partnerVotes.actorIri, value: partnerVotes.value }).from(partnerVotes);

  it("from a partner instance is counted, and nothing is sent back", async () => {
    const { note, create } = voteOf(MIA, "yes", 1);
    const target = await voteTarget(inbox("garden"), note);
    expect(target).toBeDefined();
    await onPartnerVote(inbox("garden"), create, note, target!);
    expect(await votes()).toEqual([{ actorIri: MIA, value: "yes" }]);
    expect(await effects()).toEqual([]);
  });

  it("from a server that is not a partner is not counted, and the refusal is recorded for its server", async () => {
    const eve = "https://elsewhere.example/users/eve";
    const { note, create } = voteOf(eve, "no", 2);
    const before = await snapshot();
    await onPartnerVote(inbox("garden"), create, note, (await voteTarget(inbox("garden"), note))!);
    expect({ ...await snapshot(), outbox: [] }).toEqual({ ...before, outbox: [] });
    expect(await effects()).toEqual([
      {
        kind: "inbox.vote.refuse",
        payload: { identifier: "garden", createIri: create.id!.href, voterIri: eve, reason: expect.stringContaining("not a partner") },
      },
    ]);
  });

  it("that is not an option, or attributed to someone else, is refused and changes no vote", async () => {
    const { note, create } = voteOf(MIA, "maybe", 3);
    const forged = new Note({ id: new URL(`${REMOTE}/votes/4`), attribution: new URL(`${REMOTE}/users/other`), name: "no", replyTarget: new URL(proposalIri(policy, proposal)) });
    const before = await votes();
    await onPartnerVote(inbox("garden"), create, note, (await voteTarget(inbox("garden"), note))!);
    await onPartnerVote(inbox("garden"), new Create({ id: new URL(`${REMOTE}/create/4`), actor: new URL(MIA), object: forged }), forged, (await voteTarget(inbox("garden"), forged))!);
    expect(await votes()).toEqual(before);
    expect((await effects()).map((e) => [e.kind, (e.payload as { reason: string }).reason])).toEqual([
      ["inbox.vote.refuse", expect.stringContaining("not an option")],
      ["inbox.vote.refuse", expect.stringContaining("not attributed")],
    ]);
  });

  it("after the proposal closed (by the instance's clock) is refused", async () => {
    const later = new ManualClock(new Date(clock.now().getTime() + 4 * 24 * 3_600_000));
    const saved = data.clock;
    data.clock = later;
    try {
      const { note, create } = voteOf(MIA, "no", 5);
      await onPartnerVote(inbox("garden"), create, note, (await voteTarget(inbox("garden"), note))!);
    } finally {
      data.clock = saved;
    }
    expect(await votes()).toEqual([{ actorIri: MIA, value: "yes" }]);
    expect(await effects()).toMatchObject([{ kind: "inbox.vote.refuse", payload: { reason: expect.stringContaining("closed") } }]);
  });
});

describe("an annotation", () => {
  const clauseIri = () => `${version.iri}/clauses/tone`;
  const noteDoc = (n: number, author = MIA, content = "Kind, yes; brief, too.", updated?: string) => ({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${REMOTE}/notes/${n}`,
    type: "Note",
    attributedTo: author,
    inReplyTo: clauseIri(),
    content: `<p>${content}</p>`,
    published: "2026-12-03T12:00:00Z",
    ...(updated ? { updated } : {}),
    to: [PUBLIC],
  });
  beforeAll(async () => {
    // A follower of the community, to whom re-shares and forwards go.
    await remoteActor(`${REMOTE}/users/reader`);
    await recordIncomingFollow(db, { followerIri: `${REMOTE}/users/reader`, followeeIri: actorIri("garden"), activityIri: `${REMOTE}/follows/reader`, autoAccept: true });
  });

  it("received is kept, and its re-share by the community recorded with it", async () => {
    served.set(`${REMOTE}/notes/1`, noteDoc(1));
    await onAnnotationCreated(inbox("garden"), `${REMOTE}/notes/1`, MIA);
    expect(await first(db.select().from(annotations).where(eq(annotations.iri, `${REMOTE}/notes/1`)).limit(1))).toMatchObject({ authorIri: MIA, clauseId: "tone", text: "Kind, yes; brief, too." });
    expect(await effects()).toEqual([{ kind: "inbox.annotation.reshare", payload: { policyIri: policy.iri, noteIri: `${REMOTE}/notes/1`, authorIri: MIA } }]);
  });

  it("sent by someone other than its author, or naming a clause that does not exist, changes nothing", async () => {
    served.set(`${REMOTE}/notes/2`, noteDoc(2, `${REMOTE}/users/other`));
    served.set(`${REMOTE}/notes/3`, { ...noteDoc(3), inReplyTo: `${version.iri}/clauses/nope` });
    const before = await snapshot();
    await onAnnotationCreated(inbox("garden"), `${REMOTE}/notes/2`, MIA);
    await onAnnotationCreated(inbox("garden"), `${REMOTE}/notes/3`, MIA);
    await onAnnotationCreated(inbox("garden"), "https://elsewhere.example/notes/4", MIA);
    expect(await snapshot()).toEqual(before);
  });

  it("edited by its author is updated, and the edit forwarded to the community's followers in the same transaction", async () => {
    expect(await isHeldAnnotation(inbox("garden"), `${REMOTE}/notes/1`, MIA)).toBe(true);
    served.set(`${REMOTE}/notes/1`, noteDoc(1, MIA, "Kind and brief.", "2026-12-03T13:00:00Z"));
    await onAnnotationEdited(inbox("garden"), `${REMOTE}/notes/1`, MIA);
    expect((await first(db.select().from(annotations).where(eq(annotations.iri, `${REMOTE}/notes/1`)).limit(1)))?.text).toBe("Kind and brief.");
    expect(forwarded).toHaveLength(1);
    expect((forwarded[0]!.recipients as { id: URL }[]).map((r) => r.id.href)).toContain(`${REMOTE}/users/reader`);
    expect(await effects()).toEqual([]);
  });

  it("deleted by anyone but its author stays, and nothing is forwarded", async () => {
    const before = await snapshot();
    const eve = "https://elsewhere.example/users/eve";
    expect(await onAnnotationDeleted(inbox("garden"), new Delete({ id: new URL("https://elsewhere.example/delete/1"), actor: new URL(eve), object: new Tombstone({ id: new URL(`${REMOTE}/notes/1`) }) }))).toBe(false);
    expect(await snapshot()).toEqual(before);
    expect(forwarded).toEqual([]);
  });

  it("deleted by its author goes, and the deletion is forwarded", async () => {
    expect(await onAnnotationDeleted(inbox("garden"), new Delete({ id: new URL(`${REMOTE}/delete/1`), actor: new URL(MIA), object: new Tombstone({ id: new URL(`${REMOTE}/notes/1`) }) }))).toBe(true);
    expect(await first(db.select().from(annotations).where(eq(annotations.iri, `${REMOTE}/notes/1`)).limit(1))).toBeUndefined();
    expect(forwarded).toHaveLength(1);
  });

  it("whose forward cannot be queued is not deleted either", async () => {
    await storeAnnotation(db, { noteId: `${REMOTE}/notes/9`, author: MIA, versionIri: version.iri, policyIri: policy.iri, clauseId: "tone", motivation: "comment", text: "x", selector: null, suggestedText: null, published: clock.now(), updated: null, sourceHtml: "x", wire: "plain" } as never, noteDoc(9), false);
    const ctx = inbox("garden");
    const failing = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, {
      forwardActivity: async () => {
        throw new Error("queue unavailable");
      },
    }) as InboxContext<InstanceData>;
    const before = await snapshot();
    await expect(onAnnotationDeleted(failing, new Delete({ id: new URL(`${REMOTE}/delete/9`), actor: new URL(MIA), object: new Tombstone({ id: new URL(`${REMOTE}/notes/9`) }) }))).rejects.toThrow("queue unavailable");
    expect(await snapshot()).toEqual(before);
  });
});

describe("an actor deleting itself", () => {
  it("takes its follows and our copy of it", async () => {
    const gone = `${REMOTE}/users/leaving`;
    await remoteActor(gone);
    await recordIncomingFollow(db, { followerIri: gone, followeeIri: actorIri("garden"), activityIri: `${REMOTE}/follows/leaving`, autoAccept: true });
    const rowsOf = async () => (await db.select().from(follows).where(eq(follows.followerIri, gone))).length;
    expect(await rowsOf()).toBe(1);
    await onActorDeleted(inbox(null), new Delete({ id: new URL(`${REMOTE}/delete/me`), actor: new URL(gone), object: new URL(gone) }));
    expect(await rowsOf()).toBe(0);
    expect(await rawSql(db, (raw) => raw.prepare("SELECT count(*) AS n FROM federated_actors WHERE iri = ?").get(gone))).toEqual({ n: 0 });
  });
});

describe("the recorded effects, carried out by the outbox dispatcher", () => {
  let sent: { sender: unknown; recipients: unknown; activity: unknown }[];
  let dispatcher: OutboxDispatcher;
  beforeAll(() => {
    dispatcher = new OutboxDispatcher({
      db,
      clock,
      senders: effectSenders,
      contextOf: () => {
        const real = federation.createContext(new URL(ORIGIN), data);
        return createContext<InstanceData>({
          federation,
          data,
          url: new URL(ORIGIN),
          getActorUri: (identifier) => real.getActorUri(identifier),
          getFollowersUri: (identifier) => real.getFollowersUri(identifier),
          parseUri: (uri) => real.parseUri(uri),
          documentLoader: data.loaders.cached,
          contextLoader: data.loaders.context,
          sendActivity: (async (sender: unknown, recipients: unknown, activity: unknown) => {
            sent.push({ sender, recipients, activity });
          }) as Context<InstanceData>["sendActivity"],
        } as Parameters<typeof createContext<InstanceData>>[0]) as Context<InstanceData>;
      },
    });
  });
  beforeEach(() => {
    sent = [];
  });

  it("a Follow's answer is an Accept, by the followed actor, embedding the Follow, to the follower's inbox", async () => {
    await onFollowRequested(inbox("garden"), new Follow({ id: new URL(`${REMOTE}/follows/answered`), actor: new URL(MIA), object: new URL(actorIri("garden")) }));
    expect(await dispatcher.dispatchDue()).toBe(1);
    expect(sent).toHaveLength(1);
    const accept = sent[0]!.activity as Accept;
    expect(accept).toBeInstanceOf(Accept);
    expect(accept.actorId?.href).toBe(actorIri("garden"));
    expect(accept.objectId?.href).toBe(`${REMOTE}/follows/answered`);
    expect((sent[0]!.recipients as { inboxId: URL }).inboxId.href).toBe(`${MIA}/inbox`);
    expect(await pendingEffects(db)).toEqual([]);
  });

  it("a backfill whose fetch fails is tried again later, and then done", async () => {
    const writer = `${REMOTE}/users/writer`;
    await db.transaction(async () => await recordEffect(db, { kind: "inbox.follow.backfill", followeeIri: writer }, clock.now()));
    expect(await dispatcher.dispatchDue()).toBe(0);
    expect(await pendingEffects(db)).toMatchObject([{ kind: "inbox.follow.backfill", attempts: 1, lastError: expect.stringContaining("not served") }]);
    // Not due again before its backoff has passed.
    expect(await dispatcher.dispatchDue()).toBe(0);
    served.set(writer, { "@context": "https://www.w3.org/ns/activitystreams", id: writer, type: "Person", inbox: `${writer}/inbox`, outbox: `${writer}/outbox` });
    served.set(`${writer}/outbox`, { "@context": "https://www.w3.org/ns/activitystreams", id: `${writer}/outbox`, type: "OrderedCollection", orderedItems: [] });
    clock.advance(31_000);
    expect(await dispatcher.dispatchDue()).toBe(1);
    expect(await pendingEffects(db)).toEqual([]);
  });

  it("a vote's refusal is a Reject of the vote's Create, with the reason, to the voter", async () => {
    const eve = "https://elsewhere.example/users/eve";
    await remoteActor(eve);
    const note = new Note({ id: new URL("https://elsewhere.example/votes/9"), attribution: new URL(eve), name: "no", replyTarget: new URL(proposalIri(policy, proposal)) });
    const create = new Create({ id: new URL("https://elsewhere.example/create/9"), actor: new URL(eve), object: note });
    await onPartnerVote(inbox("garden"), create, note, (await voteTarget(inbox("garden"), note))!);
    expect(await dispatcher.dispatchDue()).toBe(1);
    const reject = sent[0]!.activity as Reject;
    expect(reject).toBeInstanceOf(Reject);
    expect(reject.objectId?.href).toBe("https://elsewhere.example/create/9");
    expect(reject.summary?.toString()).toContain("not a partner");
    expect((sent[0]!.recipients as { id: URL }).id.href).toBe(eve);
  });
});
