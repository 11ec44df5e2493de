/**
 * Follow / Accept / Undo between two real instances over loopback HTTP,
 * with signatures verified on both sides (in-process instances: the
 * process itself does not matter here).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectionItems, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

let a: LocalInstance;
let b: LocalInstance;
let alice: { token: string };
let bob: { token: string; actor: string };

beforeAll(async () => {
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  const created = await a.api("POST", "communities", { token: alice.token, body: { handle: "nurses", name: "Nurses' Union" } });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe("a member of B follows a community on A", () => {
  it("is accepted, listed in A's followers collection, and removed by Undo", async () => {
    const followed = await b.api<FollowView>("POST", "follows", {
      token: bob.token,
      body: { target: `@nurses@${a.host}` },
    });
    expect(followed.status).toBe(202);
    expect(followed.body.actor.iri).toBe(a.actorUri("nurses"));

    // B records the Accept that A sends back.
    const accepted = await waitFor(
      async () => {
        const list = await b.api<FollowView[]>("GET", "follows", { token: bob.token });
        return list.body.find((f) => f.actor.iri === a.actorUri("nurses") && f.state === "accepted");
      },
      { what: "B to record the Accept" },
    );
    expect(accepted.actor.handle).toBe(`@nurses@${a.host}`);

    // A's public followers collection lists B's member, and the steward sees it too.
    expect(await collectionItems(`${a.actorUri("nurses")}/followers`)).toEqual([bob.actor]);
    const asSteward = await a.api<FollowView[]>("GET", "followers?as=nurses", { token: alice.token });
    expect(asSteward.body.map((f) => [f.actor.iri, f.state])).toEqual([[bob.actor, "accepted"]]);
    expect(await collectionItems(`${bob.actor}/following`)).toEqual([a.actorUri("nurses")]);

    const undone = await b.api("DELETE", `follows/${accepted.id}`, { token: bob.token });
    expect(undone.status).toBe(200);
    await waitFor(async () => (await collectionItems(`${a.actorUri("nurses")}/followers`)).length === 0, {
      what: "A to remove the follower after Undo",
    });
    expect((await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body).toEqual([]);
  });

  it("waits for a steward when the community approves followers by hand", async () => {
    const changed = await a.api("PATCH", "communities/nurses", { token: alice.token, body: { manuallyApprovesFollowers: true } });
    expect(changed.status).toBe(200);
    await b.api("POST", "follows", { token: bob.token, body: { target: a.actorUri("nurses") } });
    const pending = await waitFor(
      async () => (await a.api<FollowView[]>("GET", "followers?as=nurses&state=pending", { token: alice.token })).body[0],
      { what: "the follow request to arrive" },
    );
    expect(pending.actor.iri).toBe(bob.actor);
    expect((await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state).toBe("pending");
    expect(await collectionItems(`${a.actorUri("nurses")}/followers`)).toEqual([]);

    const approved = await a.api<FollowView>("POST", `followers/${pending.id}/accept?as=nurses`, { token: alice.token });
    expect(approved.body.state).toBe("accepted");
    await waitFor(
      async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted",
      { what: "B to see the approval" },
    );
    expect(await collectionItems(`${a.actorUri("nurses")}/followers`)).toEqual([bob.actor]);
  });

  it("keeps followers' copies current when the community or a person renames themselves", async () => {
    // Bob follows the community (accepted in the test above); alice follows bob.
    const followBob = await a.api<FollowView>("POST", "follows", { token: alice.token, body: { target: bob.actor } });
    expect(followBob.status).toBe(202);
    await waitFor(async () => (await a.api<FollowView[]>("GET", "follows", { token: alice.token })).body[0]?.state === "accepted", {
      what: "alice's follow of bob to be accepted",
    });

    const renamed = await a.api("PATCH", "communities/nurses", { token: alice.token, body: { name: "Nurses' Union of the North" } });
    expect(renamed.status).toBe(200);
    await waitFor(
      async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.actor.name === "Nurses' Union of the North",
      { what: "B to see the community's new name" },
    );

    const profile = await b.api("PATCH", "me", { token: bob.token, body: { displayName: "Bob of the Night Shift" } });
    expect(profile.status).toBe(200);
    await waitFor(
      async () => (await a.api<FollowView[]>("GET", "follows", { token: alice.token })).body[0]?.actor.name === "Bob of the Night Shift",
      { what: "A to see bob's new display name" },
    );
  });
});
