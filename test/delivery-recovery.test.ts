/**
 * A delivery queued while the recipient is down survives a crash of the
 * sender: the queue lives in the sender's SQLite file, and Fedify's retry
 * picks it up after both instances restart.
 */
import { gt } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeDatabase, countRows, databasePath, openDatabase } from "../db/client.ts";
import { fedifyQueue } from "../db/schema.ts";
import { startInstance, waitFor, type TestInstance, type FollowView } from "./harness.ts";

let a: TestInstance;
let b: TestInstance;

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance(), startInstance()]);
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

async function delayedMessages(instance: TestInstance): Promise<number> {
  const db = openDatabase(databasePath(instance.dataDir), { mustExist: true });
  try {
    return await countRows(db, fedifyQueue, gt(fedifyQueue.deliverAt, Date.now()));
  } finally {
    closeDatabase(db);
  }
}

it("reaches B after A is killed with SIGKILL and both restart", async () => {
  const [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  const created = await a.cli([
    "admin", "community", "create", "nurses", "--name", "Nurses", "--steward", "alice", "--approve-followers", "--data", a.dataDir,
  ]);
  expect(created.code, created.stderr).toBe(0);

  await b.api("POST", "follows", { token: bob.token, body: { target: a.actorUri("nurses") } });
  const request = await waitFor(
    async () => (await a.api<FollowView[]>("GET", "followers?as=nurses&state=pending", { token: alice.token })).body[0],
    { what: "the follow request to reach A" },
  );

  await b.stop("SIGKILL");
  // The steward approves while B is down: the Accept cannot be delivered.
  const approved = await a.api<FollowView>("POST", `followers/${request.id}/accept?as=nurses`, { token: alice.token });
  expect(approved.status).toBe(200);
  // Wait until the first attempt has failed and a retry sits in A's queue.
  await waitFor(async () => await delayedMessages(a) > 0, { what: "a retry to be queued" });

  await a.stop("SIGKILL");
  await b.start();
  await a.start();

  await waitFor(
    async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted",
    { what: "the Accept to reach B", timeoutMs: 40_000 },
  );
});
