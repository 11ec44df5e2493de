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

const effects = () => db.select({ kind: outbox.kind, payload: outbox.payload }).from(outbox).all();
const state = () => ({ follows: db.select().from(follows).all(), effects: effects() });

async function refused(action: () => unknown, status: number): Promise<void> {
  const before = state();
  await expect(Promise.resolve().then(action)).rejects.toSatisfy((error) => error instanceof FedalignError && error.status === status);
  expect(state()).toEqual(before);
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
    annotationTargets: () => ({ clauseFromIri: () => undefined, versionFromIri: () => undefined }),
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
    db.insert(federatedActors).values({ iri, type: "Group", inboxUrl: `${iri}/inbox`, fetchedAt: new Date() }).run();
  }
});

afterAll(() => {
  closeDatabase(db);
  rmSync(dir, { recursive: true, force: true });
});

describe("follow use cases", () => {
  it("record the Follow with the relation, and an Undo naming that Follow after the relation is gone", async () => {
    const follow = await followTarget(ctx, alice, { target: "@nurses@care.example", as: "garden" });
    expect(follow.state).toBe("pending");
    expect(follow.followerIri).toBe(`${ORIGIN}/actors/garden`);
    const [sent] = effects();
    expect(sent).toMatchObject({ kind: "follow.sent", payload: { identifier: "garden", followeeIri: REMOTE, recipientIri: REMOTE, activityIri: follow.activityIri } });

    const removed = unfollow(ctx, alice, follow.id, "garden");
    expect(removed.actor.iri).toBe(REMOTE);
    expect(db.select().from(follows).all()).toEqual([]);
    expect(effects()[1]).toMatchObject({ kind: "follow.undone", payload: { identifier: "garden", activityIri: follow.activityIri, recipientIri: REMOTE } });
  });

  it("refuse following yourself, acting for a community you do not steward, or signed out, changing nothing", async () => {
    await refused(() => followTarget(ctx, alice, { target: `${ORIGIN}/actors/alice` }), 400);
    await refused(() => followTarget(ctx, bob, { target: "@nurses@care.example", as: "garden" }), 403);
    await refused(() => followTarget(ctx, undefined, { target: "@nurses@care.example" }), 401);
    await refused(() => followTarget(ctx, alice, { target: "@nobody@care.example" }), 404);
  });

  it("answer a follow request for a community only as its steward, and send the answer to the follower", async () => {
    const request = recordIncomingFollow(db, {
      followerIri: FOLLOWER,
      followeeIri: `${ORIGIN}/actors/garden`,
      activityIri: `${FOLLOWER}#follow/1`,
      autoAccept: false,
    });
    await refused(() => answerFollowRequest(ctx, bob, request.id, "accept", "garden"), 403);
    await refused(() => answerFollowRequest(ctx, alice, request.id, "accept"), 404);
    const accepted = answerFollowRequest(ctx, alice, request.id, "accept", "garden");
    expect(accepted.state).toBe("accepted");
    expect(effects().at(-1)).toMatchObject({
      kind: "follow.answered",
      payload: { answer: "accept", identifier: "garden", recipientIri: FOLLOWER, activityIri: `${FOLLOWER}#follow/1` },
    });
  });
});

describe("profile use cases", () => {
  it("record an Update of the actor with a changed display name, and nothing for a refused one", async () => {
    const before = effects().length;
    expect(updateProfile(ctx, bob, { displayName: "Bob of the Night Shift" }).displayName).toBe("Bob of the Night Shift");
    expect(effects().slice(before)).toEqual([{ kind: "actor.updated", payload: { identifier: "bob" } }]);
    await refused(() => updateProfile(ctx, undefined, { displayName: "Nobody" }), 401);
  });
});
