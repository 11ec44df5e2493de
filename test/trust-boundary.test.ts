/**
 * Issue 12, "Trust at the boundary": a hostile peer on loopback (no Fedify,
 * test/peers/hostile-peer.ts) sends what an attacker would to real
 * instances, and each test asserts that nothing in the receiving database
 * changed, then that the same machinery telling the truth is accepted.
 */
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { inboxDrained, logged, rows, snapshot } from "./db-snapshot.ts";
import { waitFor, type FollowView, type TestInstance } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { HostilePeer, jrd, type PeerActor } from "./peers/hostile-peer.ts";

/**
 * In-process instances (real HTTP, real signatures, the same key-ownership
 * checks): the boundary is what is tested, not the process. Their log is
 * this process's Fedalign loggers, captured while the file runs; A and B
 * share it, and the patterns below name documents only A is sent.
 */
const captured: string[] = [];
type Instance = LocalInstance & { log(): string };
async function startInstance(): Promise<Instance> {
  const local = await startLocalInstance();
  return Object.assign(local, { log: () => captured.join("\n") });
}

let a: Instance;
let b: Instance;
let hostile: HostilePeer;
let alice: { token: string };
let bob: { token: string; actor: string };
let nurses: string;
let inbox: string;
let bobFollow: string;

const follows = (instance: TestInstance) =>
  rows<{ follower_iri: string; followee_iri: string; state: string }>(instance, "SELECT follower_iri, followee_iri, state FROM follows ORDER BY id");

function undoOf(actor: string, followId: string, follower = actor) {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${actor}#undo/${crypto.randomUUID()}`,
    type: "Undo",
    actor,
    object: { id: followId, type: "Follow", actor: follower, object: nurses },
  };
}

function followOf(actor: string, id = `${actor}#follow/${crypto.randomUUID()}`) {
  return { "@context": "https://www.w3.org/ns/activitystreams", id, type: "Follow", actor, object: nurses };
}

/** Waits until the instance has handled what it received and carried out what earlier tests recorded. */
async function settled(instance: Instance) {
  await inboxDrained(instance);
  await instance.flushOutbox();
}

/** Sends, expects the status, waits for the inbox and requires an unchanged database. */
async function refusedWithoutChange(instance: Instance, send: () => Promise<Response>, status: number) {
  await settled(instance);
  const before = snapshot(instance);
  const response = await send();
  expect(response.status).toBe(status);
  await settled(instance);
  expect(snapshot(instance)).toEqual(before);
}

beforeAll(async () => {
  await configure({
    reset: true,
    sinks: { capture: (record: LogRecord) => captured.push(record.message.map(String).join("")) },
    loggers: [
      { category: ["fedalign"], lowestLevel: "info", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  [a, b, hostile] = await Promise.all([startInstance(), startInstance(), HostilePeer.start()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  nurses = a.actorUri("nurses");
  inbox = `${nurses}/inbox`;
  // The victim: Bob on B really follows the community on A.
  const followed = await b.api<FollowView>("POST", "follows", { token: bob.token, body: { target: `@nurses@${a.host}` } });
  expect(followed.status).toBe(202);
  await waitFor(() => follows(a).some((f) => f.follower_iri === bob.actor && f.state === "accepted"), { what: "Bob's follow" });
  bobFollow = rows<{ activity_iri: string }>(a, "SELECT activity_iri FROM follows WHERE follower_iri = ?", bob.actor)[0]!.activity_iri;
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy(), hostile?.stop()]);
  await reset();
});

describe("1. identity: only the actor's own key, listed by the actor on its origin, speaks for it", () => {
  it("refuses a third-origin CryptographicKey whose owner claims the victim", async () => {
    const key = hostile.claimKey("/keys/claims-bob", bob.actor, "CryptographicKey");
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(bob.actor, bobFollow), key), 401);
    await logged(a, /Refused remote document .*keys\/claims-bob.*claims owner/);
  });

  it("refuses each incident of the issue sent with such a key: a retraction, an annotation deletion, an inbox move, a vote", async () => {
    const key = hostile.claimKey("/keys/claims-bob-again", bob.actor);
    const as = "https://www.w3.org/ns/activitystreams";
    const forged = [
      { "@context": as, id: `${bob.actor}#del/1`, type: "Delete", actor: bob.actor, object: `${nurses}/policies/triage/versions/1` },
      { "@context": as, id: `${bob.actor}#del/2`, type: "Delete", actor: bob.actor, object: `${b.origin}/annotations/1` },
      { "@context": as, id: `${bob.actor}#upd/1`, type: "Update", actor: bob.actor, object: { id: bob.actor, type: "Person", inbox: hostile.url("/stolen/inbox") } },
      { "@context": as, id: `${bob.actor}#vote/1`, type: "Create", actor: bob.actor, object: { id: `${bob.actor}#vote/1/note`, type: "Note", attributedTo: bob.actor, name: "yes", inReplyTo: `${nurses}/proposals/1` } },
    ];
    for (const activity of forged) await refusedWithoutChange(a, () => hostile.post(inbox, activity, key), 401);
  });

  it("refuses a third-origin key typed Key whose owner claims the victim", async () => {
    const key = hostile.claimKey("/keys/claims-bob-as-key", bob.actor, "Key");
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(bob.actor, bobFollow), key), 401);
  });

  it("refuses a foreign-origin Multikey whose controller claims the victim, with no HTTP signature", async () => {
    const key = hostile.claimMultikey("/keys/multikey-claims-bob", bob.actor);
    await refusedWithoutChange(a, () => hostile.postWithProof(inbox, undoOf(bob.actor, bobFollow), key), 401);
  });

  it("refuses a key document typed both ways, honest as a key and lying as a Multikey", async () => {
    const dualId = hostile.url("/keys/dual");
    const owner = hostile.actor("dual", (doc) => ({ ...doc, publicKey: dualId, assertionMethod: dualId }));
    const key = hostile.dualKey("/keys/dual", { owner: owner.id, controller: bob.actor });
    await refusedWithoutChange(a, () => hostile.postWithProof(inbox, undoOf(bob.actor, bobFollow), key), 401);
    await logged(a, /Refused remote document .*keys\/dual.*claims owner .*actors\/bob, on another origin/);
  });

  it("refuses an actor document that embeds a key it says the victim owns", async () => {
    const mallory = hostile.actor("mallory", (doc) => ({ ...doc, publicKey: { ...(doc.publicKey as object), owner: bob.actor } }));
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(bob.actor, bobFollow), mallory), 401);
  });

  it("refuses a key on the actor's own origin that the actor's document does not list", async () => {
    const eve = hostile.actor("eve");
    const extra = hostile.claimKey("/keys/eve-extra", eve.id);
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(eve.id), extra), 401);
  });

  it("refuses an embedded object that claims another author, even when the sender's signature is genuine", async () => {
    const trudy = hostile.actor("trudy");
    // Trudy signs as herself but embeds a Follow by Bob in her Undo.
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(trudy.id, bobFollow, bob.actor), trudy), 202);
    await logged(a, /Refused .*trudy.*its embedded .* claims .*bob/);
    expect(follows(a).some((f) => f.follower_iri === bob.actor)).toBe(true);
  });

  it("accepts the same machinery telling the truth: an actor's own listed key, on its origin", async () => {
    const honest = hostile.actor("honest");
    const response = await hostile.post(inbox, followOf(honest.id), honest);
    expect(response.status).toBe(202);
    await waitFor(() => follows(a).some((f) => f.follower_iri === honest.id && f.state === "accepted"), { what: "the honest follow" });
  });
});

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

function note(author: PeerActor, path: string, inReplyTo: string, text = "A remark.") {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: hostile.url(path),
    type: "Note",
    attributedTo: author.id,
    to: PUBLIC,
    published: new Date().toISOString(),
    inReplyTo,
    content: `<p>${text}</p>`,
  };
}

function createOf(author: PeerActor, object: unknown) {
  return { "@context": "https://www.w3.org/ns/activitystreams", id: `${author.id}#create/${crypto.randomUUID()}`, type: "Create", actor: author.id, to: PUBLIC, object };
}

const annotationCount = () => rows<{ n: number }>(a, "SELECT count(*) AS n FROM annotations")[0]!.n;

describe("2. fetched documents: timeout, size, media type and origin", () => {
  let clauseIri: string;
  let writer: PeerActor;

  beforeAll(async () => {
    const content = { title: "Triage", licence: "CC-BY-4.0", clauses: [{ id: "escalate", authority: "root", text: "Tell the user to call emergency services." }] };
    const created = await a.api<{ id: number }>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "triage", content } });
    expect(created.status).toBe(201);
    const v1 = await a.api<{ iri: string }>("POST", `policies/${created.body.id}/publish`, { token: alice.token, body: {} });
    clauseIri = `${v1.body.iri}/clauses/escalate`;
    writer = hostile.actor("writer");
  });

  it("refuses an actor document over 1 MiB (the key cannot be fetched: 401)", async () => {
    const big = hostile.actor("big");
    hostile.serveOversize("/users/big", big.document, 1024 * 1024);
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(big.id), big), 401);
    await logged(a, /Refused remote document .*users\/big.*over the 1048576-byte limit/);
  });

  it("refuses an actor document served as text/html or plain JSON", async () => {
    const html = hostile.actor("html");
    hostile.serveAs("/users/html", html.document, "text/html");
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(html.id), html), 401);
    const json = hostile.actor("json");
    hostile.serveAs("/users/json", json.document, "application/json");
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(json.id), json), 401);
    await logged(a, /Refused remote document .*users\/html.*Content-Type "text\/html" is not ActivityStreams JSON/);
  });

  it("refuses a redirect to another origin that serves a document claiming the first origin", async () => {
    const elsewhere = await HostilePeer.start();
    try {
      const moved = hostile.actor("moved");
      elsewhere.server.serveJson("/users/moved", moved.document);
      hostile.redirect("/users/moved", elsewhere.url("/users/moved"));
      await refusedWithoutChange(a, () => hostile.post(inbox, followOf(moved.id), moved), 401);
      await logged(a, /Refused remote document .*users\/moved.*names itself .* but was served from/);
    } finally {
      await elsewhere.stop();
    }
  });

  it("refuses an object fetched directly by a handler (an annotation) when its media type is wrong, and takes it when right", async () => {
    const path = "/notes/wrong-type";
    hostile.serveAs(path, note(writer, path, clauseIri), "text/plain");
    await refusedWithoutChange(a, () => hostile.post(inbox, createOf(writer, hostile.url(path)), writer), 202);
    expect(annotationCount()).toBe(0);
    await logged(a, /Refused remote document .*notes\/wrong-type.*Content-Type "text\/plain"/);

    const good = "/notes/right-type";
    hostile.serveAs(good, note(writer, good, clauseIri), 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"');
    expect((await hostile.post(inbox, createOf(writer, hostile.url(good)), writer)).status).toBe(202);
    await waitFor(() => annotationCount() === 1, { what: "the annotation served with the right media type" });
  });
});

/** A's own published version, moved (ids rewritten) onto the hostile origin as `actor`'s. */
async function versionOn(actor: PeerActor, path: string, edit: (doc: Record<string, unknown>) => void = () => {}) {
  const iri = rows<{ iri: string }>(a, "SELECT iri FROM policy_versions ORDER BY id LIMIT 1")[0]!.iri;
  const original = await (await fetch(iri, { headers: { Accept: "application/activity+json" } })).text();
  const doc = JSON.parse(original.replaceAll(nurses, actor.id).replaceAll(a.origin, hostile.origin)) as Record<string, unknown>;
  doc.id = hostile.url(path);
  edit(doc);
  hostile.server.serveJson(path, doc);
  return doc;
}

describe("3. delivery SSRF: an actor's inboxes must be on its own origin (see also trust-ssrf.test.ts)", () => {
  it("refuses an actor whose inbox or shared inbox is on another origin, and stores an honest one", async () => {
    const sidestep = hostile.actor("sidestep", (doc) => ({ ...doc, inbox: `${bob.actor}/inbox` }));
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(sidestep.id), sidestep), 202);
    await logged(a, /Refused actor .*sidestep.*its inbox .*actors\/bob\/inbox is not on its origin/);
    const shared = hostile.actor("shared", (doc) => ({ ...doc, endpoints: { sharedInbox: "http://10.0.0.8/inbox" } }));
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(shared.id), shared), 202);
    await logged(a, /Refused actor .*shared.*its shared inbox http:\/\/10\.0\.0\.8\/inbox is not on its origin/);

    const straight = hostile.actor("straight");
    expect((await hostile.post(inbox, followOf(straight.id), straight)).status).toBe(202);
    await waitFor(() => rows(a, "SELECT 1 FROM federated_actors WHERE iri = ? AND inbox_url = ?", straight.id, straight.inbox).length === 1, { what: "the honest actor" });
  });
});

describe("4. WebFinger: the answer must be about the account asked for, and its actor on the queried host", () => {
  const followAs = (target: string) => a.api<{ title?: string }>("POST", "follows", { token: alice.token, body: { target } });

  it("refuses an answer whose subject is another account", async () => {
    const liar = hostile.actor("liar");
    // The subject names an account on a host that does not answer (port 1 refuses connections).
    hostile.webfinger(`acct:liar@${hostile.host}`, jrd("acct:someone@127.0.0.1:1", liar.id));
    await refusedWithoutChange(a, () => followAs(`@liar@${hostile.host}`).then((r) => new Response(null, { status: r.status })), 502);
    await logged(a, /Refused WebFinger answer for .*acct:liar@.*about acct:someone@127.0.0.1:1, which its own host does not confirm/);
  });

  it("refuses a self link to an actor on another host that its own host does not confirm", async () => {
    const elsewhere = await HostilePeer.start();
    try {
      const ghost = elsewhere.actor("ghost");
      hostile.webfinger(`acct:ghost@${hostile.host}`, jrd(`acct:ghost@${hostile.host}`, ghost.id));
      await refusedWithoutChange(a, () => followAs(`@ghost@${hostile.host}`).then((r) => new Response(null, { status: r.status })), 502);
      await logged(a, /Refused WebFinger answer for .*acct:ghost@.*on another host and that host does not confirm it/);
    } finally {
      await elsewhere.stop();
    }
  });

  it("follows a delegated handle whose actor's own host confirms it, and a plain honest one", async () => {
    hostile.webfinger(`acct:bob@${hostile.host}`, jrd(`acct:bob@${hostile.host}`, bob.actor));
    const delegated = await followAs(`@bob@${hostile.host}`);
    expect(delegated.status).toBe(202);
    expect(rows(a, "SELECT 1 FROM follows WHERE followee_iri = ?", bob.actor)).toHaveLength(1);
    const plain = hostile.actor("plain");
    hostile.webfinger(`acct:plain@${hostile.host}`, jrd(`acct:plain@${hostile.host}`, plain.id));
    expect((await followAs(`@plain@${hostile.host}`)).status).toBe(202);
    // An alias whose answer names the canonical account, which confirms itself.
    hostile.webfinger(`acct:alias@${hostile.host}`, jrd(`acct:plain@${hostile.host}`, plain.id));
    expect((await followAs(`@alias@${hostile.host}`)).status).toBe(202);
    // Bob's server answers the delegated follow: wait for it, so no later test sees it arrive.
    await waitFor(() => rows(a, "SELECT 1 FROM follows WHERE followee_iri = ? AND state = 'accepted'", bob.actor).length === 1, {
      what: "B's Accept of the follow by a delegated handle",
    });
  });
});

describe("5. bounds on remote objects", () => {
  it("refuses an actor whose name is over the length limit, storing nothing", async () => {
    const verbose = hostile.actor("verbose", (doc) => ({ ...doc, name: "n".repeat(400) }));
    await refusedWithoutChange(a, () => hostile.post(inbox, followOf(verbose.id), verbose), 202);
    await logged(a, /Refused actor .*verbose.*its name is 400 characters, over the limit of 300/);
  });

  it("refuses a policy version from a community nobody here follows (unsolicited)", async () => {
    const rogue = hostile.actor("rogue");
    const version = await versionOn(rogue, "/users/rogue/policies/triage/versions/1");
    await refusedWithoutChange(a, () => hostile.post(inbox, createOf(rogue, version.id), rogue), 202);
    await logged(a, /Refused policy version announced by .*rogue.*unsolicited/);
  });

  it("refuses a version with more clauses than the limit, even from a followed community", async () => {
    const followed = hostile.actor("followed");
    expect((await a.api("POST", "follows", { token: alice.token, body: { target: followed.id } })).status).toBe(202);
    const version = await versionOn(followed, "/users/followed/policies/triage/versions/1", (doc) => {
      const content = doc.normativeContent as { clauses: { id: string }[] };
      content.clauses = Array.from({ length: 1001 }, (_, i) => ({ ...content.clauses[0]!, id: `c${i}` }));
    });
    await refusedWithoutChange(a, () => hostile.post(inbox, createOf(followed, version.id), followed), 202);
    await logged(a, /Refused policy version .*1001 clauses, over the limit of 1000/);
  });

  it("does not store a Create that replies to nothing we hold", async () => {
    const stray = hostile.actor("stray");
    const path = "/notes/stray";
    hostile.server.serveJson(path, note(stray, path, "https://elsewhere.example/notes/1"));
    await refusedWithoutChange(a, () => hostile.post(inbox, createOf(stray, hostile.url(path)), stray), 202);
  });
});

describe("11. blocks match the canonical host", () => {
  it("treats Example.ORG. and example.org:443 as one block, and refuses a blocked host's annotations", async () => {
    const block = (target: string) => a.api<{ target: string }>("POST", "communities/nurses/blocks", { token: alice.token, body: { target } });
    expect((await block("Example.ORG.")).body.target).toBe("example.org");
    expect((await block("example.org:443")).body.target).toBe("example.org");
    expect((await block("BÜCHER.example")).body.target).toBe("xn--bcher-kva.example");
    const listed = await a.api<{ target: string }[]>("GET", "communities/nurses/blocks", { token: alice.token });
    expect(listed.body.filter((b) => b.target === "example.org")).toHaveLength(1);

    const iri = rows<{ iri: string }>(a, "SELECT iri FROM policy_versions WHERE iri LIKE ? ORDER BY id LIMIT 1", `${a.origin}%`)[0]!.iri;
    const blocked = hostile.actor("blocked");
    expect((await block(hostile.host.toUpperCase())).body.target).toBe(hostile.host);
    const path = "/notes/blocked";
    hostile.server.serveJson(path, note(blocked, path, `${iri}/clauses/escalate`));
    await refusedWithoutChange(a, () => hostile.post(inbox, createOf(blocked, hostile.url(path)), blocked), 202);
    await logged(a, /blocked by the community/);
    expect((await a.api("DELETE", "communities/nurses/blocks", { token: alice.token, body: { target: hostile.host } })).status).toBe(200);
  });
});

describe("12. order: an Undo that arrives before its Follow is remembered", () => {
  it("does not let the late Follow revive the relation, and a new Follow still works", async () => {
    const late = hostile.actor("late");
    const follow = followOf(late.id);
    expect((await hostile.post(inbox, undoOf(late.id, follow.id), late)).status).toBe(202);
    await refusedWithoutChange(a, () => hostile.post(inbox, follow, late), 202);
    expect(follows(a).some((f) => f.follower_iri === late.id)).toBe(false);
    await logged(a, /Ignored Follow .* from .*late.*undone before it arrived/);

    expect((await hostile.post(inbox, followOf(late.id), late)).status).toBe(202);
    await waitFor(() => follows(a).some((f) => f.follower_iri === late.id && f.state === "accepted"), { what: "the new follow" });
  });
});
