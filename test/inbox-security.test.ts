/**
 * What a hostile or broken peer can send to an inbox. Requests are signed
 * here with the real keys of B's users (read from B's database), so a 401 is
 * the verifier's doing, not a harness artefact: the last test shows the same
 * machinery getting a genuine Follow accepted.
 */
import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INBOX_BODY_LIMIT } from "../federation/hono.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { collectionItems, rsaKeyOf, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

// In-process instances (real HTTP and signatures): what is tested here is the inbox, not the process.
let a: LocalInstance;
let b: LocalInstance;
let alice: { token: string };
let bob: { actor: string };
let carol: { actor: string };
let bobKey: { keyId: URL; privateKey: CryptoKey };
let inbox: string;

function follow(actor: string, id = `${actor}#follows/${crypto.randomUUID()}`) {
  return { "@context": "https://www.w3.org/ns/activitystreams", id, type: "Follow", actor, object: a.actorUri("nurses") };
}

function post(body: string | Uint8Array, headers: Record<string, string> = {}) {
  return new Request(inbox, {
    method: "POST",
    headers: { "Content-Type": "application/activity+json", ...headers },
    body: body as BodyInit,
  });
}

async function signed(body: unknown, key = bobKey) {
  return signRequest(post(JSON.stringify(body)), key.privateKey, key.keyId);
}

async function followerState() {
  const listed = await collectionItems(`${a.actorUri("nurses")}/followers`);
  const requests = await a.api<unknown[]>("GET", "followers?as=nurses", { token: alice.token });
  return { listed, requests: requests.body };
}

const NOTHING = { listed: [], requests: [] };

beforeAll(async () => {
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
  [alice, bob, carol] = await Promise.all([a.createUser("alice"), b.createUser("bob"), b.createUser("carol")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  bobKey = await rsaKeyOf(b, "bob");
  inbox = `${a.actorUri("nurses")}/inbox`;
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe("forged activities get 401 and change nothing", () => {
  it("refuses a Follow signed with a key that is not the actor's", async () => {
    const impostor = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    const request = await signed(follow(bob.actor), { keyId: bobKey.keyId, privateKey: impostor.privateKey });
    expect((await fetch(request)).status).toBe(401);
    expect(await followerState()).toEqual(NOTHING);
  });

  it("refuses a Follow whose body was altered after signing", async () => {
    const activity = follow(bob.actor);
    const original = await signed(activity);
    // Same actor and signer, so only the digest of the body can catch this.
    const altered = { ...activity, id: `${activity.id}-altered` };
    const tampered = post(JSON.stringify(altered), Object.fromEntries(original.headers));
    expect((await fetch(tampered)).status).toBe(401);
    expect(await followerState()).toEqual(NOTHING);
  });

  it("refuses a Follow whose actor is not the signer", async () => {
    const request = await signed(follow(carol.actor));
    expect((await fetch(request)).status).toBe(401);
    expect(await followerState()).toEqual(NOTHING);
  });

  it("refuses an unsigned Follow", async () => {
    expect((await fetch(post(JSON.stringify(follow(bob.actor))))).status).toBe(401);
    expect(await followerState()).toEqual(NOTHING);
  });
});

describe("malformed input gets a 4xx and changes nothing", () => {
  it("refuses a body that is not JSON", async () => {
    const response = await fetch(await signRequest(post("{not json"), bobKey.privateKey, bobKey.keyId));
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    expect(await followerState()).toEqual(NOTHING);
  });

  it("refuses a body over the size limit", async () => {
    const huge = { ...follow(bob.actor), padding: "x".repeat(INBOX_BODY_LIMIT) };
    const response = await fetch(await signed(huge));
    expect(response.status).toBe(413);
    expect(await followerState()).toEqual(NOTHING);
  });

  it("refuses an activity of an unknown type", async () => {
    const response = await fetch(await signed({ ...follow(bob.actor), type: "Frobnicate" }));
    expect(response.status).toBe(400);
    expect((await response.json()).title).toBe("Unknown activity type");
    expect(await followerState()).toEqual(NOTHING);
  });
});

describe("a genuine Follow signed the same way", () => {
  it("is accepted, and delivering it again changes nothing", async () => {
    const activity = follow(bob.actor);
    expect((await fetch(await signed(activity))).status).toBe(202);
    await waitFor(async () => (await followerState()).listed.length === 1, { what: "the follow to be processed" });
    const before = await followerState();
    expect(before.listed).toEqual([bob.actor]);

    expect((await fetch(await signed(activity))).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await followerState()).toEqual(before);
  });
});
