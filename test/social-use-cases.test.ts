/**
 * The social use cases (src/app/follows.ts, accounts.ts) on a real database
 * with a stand-in federation port: each change and the activity it causes
 * are recorded together, an activity names what it needs even after its row
 * is gone (an unfollow), and a refused request changes nothing and sends
 * nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, type Db } from "../db/client.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { federatedActors, follows, outbox } from "../db/schema.ts";
import { createUser, type User } from "../src/accounts/users.ts";
import { updateProfile } from "../src/app/accounts.ts";
import { ManualClock } from "../src/app/clock.ts";
import { createNewCommunity } from "../src/app/communities.ts";
import type { AppContext, FederationPort } from "../src/app/context.ts";
import { answerFollowRequest, followTarget, unfollow } from "../src/app/follows.ts";
import { recordIncomingFollow } from "../src/follows.ts";
import { FedalignError } from "../src/errors.ts";

const ORIGIN = "https://align.example";
const REMOTE = "https://care.example/actors/nurses";
const FOLLOWER = "https://care.example/actors/mia";

let dir: string;
let db: Db;
let ctx: AppContext;
let alice: User;
let bob: User;

const effects = async () => await db.select({ kind: outbox.kind, payload: outbox.payload }).from(outbox);
const state = async () => ({ follows: await db.select().from(follows), effects: await effects() });

async function refused(action: () => unknown, status: number): Promise<void> {
  const before = await state();
  await expect(Promise.resolve().then(action)).rejects.toSatisfy((error) => error instanceof FedalignError && error.status === status);
  expect(await state()).toEqual(before);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fedalign-social-"));
  db = openInstanceDatabase(join(dir, "data"), "create");
  // What these use cases ask of the federation; anything else would be a surprise.
  const used: Partial<FederationPort> = {
    actorIri: (identifier) => `${ORIGIN}/actors/${identifier}`,
    followersIri: (identifier) => `${ORIGIN}/actors/${identifier}/followers`,
    async lookupFollowTarget(target) {
      if (target !== "@nurses@care.example" && target !== `${ORIGIN}/actors/alice`) throw new FedalignError(`Nothing found at ${target}.`, 404);
      return target.startsWith("@") ? { followeeIri: REMOTE, answererIri: REMOTE } : { followeeIri: target, answererIri: target };
    },
    annotationTargets: () => ({ clauseFromIri: async () => undefined, versionFromIri: async () => undefined }),
  };
  const port = new Proxy(used, {
    get: (target, name: string) =>
      target[name as keyof FederationPort] ??
      (() => {
        throw new Error(`the federation port's ${name} is not expected here`);
      }),
  }) as FederationPort;
  ctx = { db, origin: ORIGIN, clock: new ManualClock(new Date("2026-12-03T12:00:00Z")), federation: port };
  alice = await createUser(db, { username: "alice", password: "correct horse battery staple" });
  bob = await createUser(db, { username: "bob", password: "correct horse battery staple" });
  await createNewCommunity(ctx, alice, { handle: "garden", name: "Garden" });
  for (const iri of [REMOTE, FOLLOWER]) {
    await db.insert(federatedActors).values({ iri, type: "Group", inboxUrl: `${iri}/inbox`, fetchedAt: new Date() });
  }
});

afterAll(async () => {
  closeDatabase(db);
  rmSync(dir, { recursive: true, force: true });
});

describe("follow use cases", () => {
  it("record the Follow with the relation, and an Undo naming that Follow after the relation is gone", async () => {
    const follow = await followTarget(ctx, alice, { target: "@nurses@care.example", as: "garden" });
    expect(follow.state).toBe("pending");
    expect(follow.followerIri).toBe(`${ORIGIN}/actors/garden`);
    const [sent] = await effects();
    expect(sent).toMatchObject({ kind: "follow.sent", payload: { identifier: "garden", followeeIri: REMOTE, recipientIri: REMOTE, activityIri: follow.activityIri } });

    const removed = await unfollow(ctx, alice, follow.id, "garden");
    expect(removed.actor.iri).toBe(REMOTE);
    expect(await db.select().from(follows)).toEqual([]);
    expect((await effects())[1]).toMatchObject({ kind: "follow.undone", payload: { identifier: "garden", activityIri: follow.activityIri, recipientIri: REMOTE } });
  });

  it("refuse following yourself, acting for a community you do not steward, or signed out, changing nothing", async () => {
    await refused(async () => await followTarget(ctx, alice, { target: `${ORIGIN}/actors/alice` }), 400);
    await refused(async () => await followTarget(ctx, bob, { target: "@nurses@care.example", as: "garden" }), 403);
    await refused(async () => await followTarget(ctx, undefined, { target: "@nurses@care.example" }), 401);
    await refused(async () => await followTarget(ctx, alice, { target: "@nobody@care.example" }), 404);
  });

  it("answer a follow request for a community only as its steward, and send the answer to the follower", async () => {
    const request = await recordIncomingFollow(db, {
      followerIri: FOLLOWER,
      followeeIri: `${ORIGIN}/actors/garden`,
      activityIri: `${FOLLOWER}#follow/1`,
      autoAccept: false,
    });
    await refused(async () => await answerFollowRequest(ctx, bob, request.id, "accept", "garden"), 403);
    await refused(async () => await answerFollowRequest(ctx, alice, request.id, "accept"), 404);
    const accepted = await answerFollowRequest(ctx, alice, request.id, "accept", "garden");
    expect(accepted.state).toBe("accepted");
    expect((await effects()).at(-1)).toMatchObject({
      kind: "follow.answered",
      payload: { answer: "accept", identifier: "garden", recipientIri: FOLLOWER, activityIri: `${FOLLOWER}#follow/1` },
    });
  });
});

describe("profile use cases", () => {
  it("record an Update of the actor with a changed display name, and nothing for a refused one", async () => {
    const before = (await effects()).length;
    expect((await updateProfile(ctx, bob, { displayName: "Bob of the Night Shift" })).displayName).toBe("Bob of the Night Shift");
    expect((await effects()).slice(before)).toEqual([{ kind: "actor.updated", payload: { identifier: "bob" } }]);
    await refused(async () => await updateProfile(ctx, undefined, { displayName: "Nobody" }), 401);
  });
});
