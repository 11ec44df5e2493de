/**
 * The transactional outbox: an effect recorded with its change is carried
 * out once, whatever moment the process is killed at. A strict independent
 * server follows a community; the community's profile changes in a process
 * that dies by SIGKILL at each point of the outbox's work; after a restart
 * on the same data directory the follower has received the Update exactly
 * once.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNull } from "drizzle-orm";
import { closeDatabase, databasePath, openDatabase } from "../db/client.ts";
import { fedifyQueue, outbox } from "../db/schema.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { updateCommunityProfile } from "../src/app/communities.ts";
import { pendingEffects, recordEffect } from "../src/app/outbox.ts";
import { createCommunity } from "../src/communities.ts";
import { ROOT, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { StrictPeer } from "./peers/strict-peer.ts";

const NODE_FLAGS = Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [];
const CRASH_POINTS = ["before-dispatch", "after-claim", "before-commit", "after-commit"] as const;

let a: LocalInstance;
let peer: StrictPeer;
let communityIri: string;

function runCrashingProcess(point: string, name: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, "--import", "tsx", "test/fixtures/scripts/outbox-crash.ts", a.dataDir, a.origin, "stella", "garden", name, point],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, FEDALIGN_LOG_LEVEL: "error" } },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code, signal) => (signal ? resolve(signal) : reject(new Error(`exited ${code}: ${stderr}`))));
  });
}

/** What the data directory holds while no process has it open. */
async function snapshot() {
  const db = openDatabase(databasePath(a.dataDir), { mustExist: true });
  try {
    return {
      pending: (await db.select().from(outbox).where(isNull(outbox.dispatchedAt))).length,
      dispatched: (await db.select().from(outbox)).filter((row) => row.dispatchedAt).length,
      queued: (await db.select().from(fedifyQueue)).length,
    };
  } finally {
    closeDatabase(db);
  }
}

const profilesNamed = (name: string) => peer.profileUpdates.filter((actor) => actor.name === name).length;

beforeAll(async () => {
  peer = await new StrictPeer("mia").start();
  a = await startLocalInstance();
  const steward = await a.createUser("stella");
  await createCommunity(a.instance.db, { handle: "garden", name: "Garden", steward: await getUserByUsername(a.instance.db, steward.username) });
  communityIri = a.actorUri("garden");
  await peer.follow(communityIri);
  await waitFor(() => peer.following.get(communityIri)?.state === "accepted", { what: "the follow to be accepted" });
});

afterAll(async () => {
  await Promise.all([a?.destroy(), peer?.stop()]);
});

describe("the transactional outbox", () => {
  it("sends a profile change to followers after the commit, and never from inside the request", async () => {
    const before = peer.verified("Update").length;
    await updateCommunityProfile(a.instance.context, await getUserByUsername(a.instance.db, "stella"), "garden", { name: "Garden (live)" });
    await waitFor(() => peer.verified("Update").length === before + 1, { what: "the Update to reach the follower" });
    expect(profilesNamed("Garden (live)")).toBe(1);
    expect(await pendingEffects(a.instance.db)).toEqual([]);
  });

  it("refuses to record an effect outside the transaction of its change", async () => {
    await expect(recordEffect(a.instance.db, { kind: "actor.updated", identifier: "garden" }, new Date())).rejects.toThrow(/inside the transaction/);
    expect(await pendingEffects(a.instance.db)).toEqual([]);
  });

  it("rolls the effect back with a change that fails", async () => {
    await expect(
      a.instance.db.transaction(async () => {
        await recordEffect(a.instance.db, { kind: "actor.updated", identifier: "garden" }, new Date());
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await pendingEffects(a.instance.db)).toEqual([]);
  });

  for (const point of CRASH_POINTS) {
    it(`delivers exactly once when the process is killed ${point.replace("-", " ")}`, async () => {
      await peer.settled();
      const before = peer.verified("Update").length;
      const name = `Garden (${point})`;
      await a.stop();
      expect(await runCrashingProcess(point, name)).toBe("SIGKILL");

      const afterCrash = await snapshot();
      if (point === "after-commit") {
        // The effect is marked and its message is in Fedify's queue: only the queue delivers it.
        expect(afterCrash).toMatchObject({ pending: 0, queued: 1 });
      } else {
        // Nothing was queued; the effect waits (a claim's lease runs out).
        expect(afterCrash).toMatchObject({ pending: 1, queued: 0 });
      }

      // The restarted instance finishes the job; a crashed claim is taken again once its lease runs out.
      await a.start();
      if (point === "after-claim" || point === "before-commit") {
        // The lease is 5 minutes of the instance's clock: move its due time instead of waiting.
        await a.instance.db.update(outbox).set({ dueAt: new Date(0) }).where(isNull(outbox.dispatchedAt));
      }
      await a.flushOutbox();
      await waitFor(async () => peer.verified("Update").length > before && (await a.instance.db.select().from(fedifyQueue)).length === 0, {
        what: "the Update to be delivered",
      });
      await peer.settled();
      expect(peer.verified("Update").length).toBe(before + 1);
      expect(profilesNamed(name)).toBe(1);
      expect(await pendingEffects(a.instance.db)).toEqual([]);
    });
  }
});
