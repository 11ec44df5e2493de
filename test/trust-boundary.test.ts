/**
 * Issue 12, "Trust at the boundary": a hostile peer on loopback (no Fedify,
 * test/peers/hostile-peer.ts) sends what an attacker would to real
 * instances, and each test asserts that nothing in the receiving database
 * changed, then that the same machinery telling the truth is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboxDrained, rows, snapshot } from "./db-snapshot.ts";
import { startInstance, waitFor, type FollowView, type TestInstance } from "./harness.ts";
import { HostilePeer, jrd, type PeerActor } from "./peers/hostile-peer.ts";

let a: TestInstance;
let b: TestInstance;
let hostile: HostilePeer;
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

/** Sends, expects the status, waits for the inbox and requires an unchanged database. */
async function refusedWithoutChange(instance: TestInstance, send: () => Promise<Response>, status: number) {
  await inboxDrained(instance);
  const before = snapshot(instance);
  const response = await send();
  expect(response.status).toBe(status);
  await inboxDrained(instance);
  expect(snapshot(instance)).toEqual(before);
}

beforeAll(async () => {
  [a, b, hostile] = await Promise.all([startInstance(), startInstance(), HostilePeer.start()]);
  [, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  const created = await a.cli(["admin", "community", "create", "nurses", "--name", "Nurses", "--steward", "alice", "--data", a.dataDir]);
  expect(created.code, created.stderr).toBe(0);
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
});

describe("1. identity: only the actor's own key, listed by the actor on its origin, speaks for it", () => {
  it("refuses a third-origin CryptographicKey whose owner claims the victim", async () => {
    const key = hostile.claimKey("/keys/claims-bob", bob.actor, "CryptographicKey");
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(bob.actor, bobFollow), key), 401);
    expect(a.log()).toMatch(/Refused remote document .*keys\/claims-bob.*claims owner/);
  });

  it("refuses a third-origin key typed Key whose owner claims the victim", async () => {
    const key = hostile.claimKey("/keys/claims-bob-as-key", bob.actor, "Key");
    await refusedWithoutChange(a, () => hostile.post(inbox, undoOf(bob.actor, bobFollow), key), 401);
  });

  it("refuses a foreign-origin Multikey whose controller claims the victim, with no HTTP signature", async () => {
    const key = hostile.claimMultikey("/keys/multikey-claims-bob", bob.actor);
    await refusedWithoutChange(a, () => hostile.postWithProof(inbox, undoOf(bob.actor, bobFollow), key), 401);
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
    expect(a.log()).toMatch(/Refused .*trudy.*its embedded .* claims .*bob/);
    expect(follows(a).some((f) => f.follower_iri === bob.actor)).toBe(true);
  });

  it("accepts the same machinery telling the truth: an actor's own listed key, on its origin", async () => {
    const honest = hostile.actor("honest");
    const response = await hostile.post(inbox, followOf(honest.id), honest);
    expect(response.status).toBe(202);
    await waitFor(() => follows(a).some((f) => f.follower_iri === honest.id && f.state === "accepted"), { what: "the honest follow" });
  });
});

export { jrd, type PeerActor };
