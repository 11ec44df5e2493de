/**
 * Issue 12, item 9: secrets at rest. A real instance's data directory is
 * 0700 and its database files 0600; a delivery waiting in the queue carries
 * no private key, and is still signed when it goes out.
 */
import Database from "better-sqlite3";
import { chmodSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, databasePath } from "../db/client.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { cleanupDir, startInstance, waitFor, type TestInstance } from "./harness.ts";
import { peerActor } from "./peers/peer-actor.ts";
import { PeerServer } from "./peers/peer-server.ts";

const mode = (path: string) => statSync(path).mode & 0o777;

let instance: TestInstance;
let peer: PeerServer;

beforeAll(async () => {
  [instance, peer] = await Promise.all([startInstance(), new PeerServer().start()]);
  await instance.createUser("alice");
  const created = await instance.cli(["admin", "community", "create", "nurses", "--name", "Nurses", "--steward", "alice", "--data", instance.dataDir]);
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([instance?.destroy(), peer?.stop()]);
});

describe.skipIf(process.platform === "win32")("file modes", () => {
  it("creates the data directory 0700 and the database, -wal and -shm 0600", () => {
    const file = databasePath(instance.dataDir);
    expect(mode(instance.dataDir)).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, mode(path)]).toEqual([path, 0o600]);
  });

  it("narrows wider modes left by hand or by an older version", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fedalign-modes-"));
    try {
      const dataDir = join(dir, "data");
      closeDatabase(openInstanceDatabase(dataDir, "create"));
      const file = databasePath(dataDir);
      chmodSync(dataDir, 0o755);
      chmodSync(file, 0o644);
      writeFileSync(`${file}-wal`, "");
      chmodSync(`${file}-wal`, 0o666);
      const db = openInstanceDatabase(dataDir, "must-exist");
      try {
        expect(mode(dataDir)).toBe(0o700);
        for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, mode(path)]).toEqual([path, 0o600]);
      } finally {
        closeDatabase(db);
      }
    } finally {
      cleanupDir(dir);
    }
  });
});

describe("queued deliveries", () => {
  it("carry no private key, and are signed with the key looked up at delivery", async () => {
    const pat = peerActor(peer, "pat");
    // Hold the Accept at the peer's inbox while we look at the queue row it came from.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    peer.use(async (request) => {
      if (request.path !== new URL(pat.inbox).pathname || request.headers["signature-input"]) return undefined;
      await held;
      return undefined;
    });
    const nurses = instance.actorUri("nurses");
    const followed = await pat.send(`${nurses}/inbox`, { id: peer.url("/follows/1"), type: "Follow", object: nurses });
    expect(followed.status).toBeLessThan(300);

    const db = new Database(databasePath(instance.dataDir), { readonly: true, fileMustExist: true });
    try {
      const rows = await waitFor(
        () => {
          const found = db.prepare("SELECT message FROM fedify_queue WHERE queue IN ('outbox', 'fanout')").all() as { message: string }[];
          return found.length > 0 ? found : undefined;
        },
        { what: "the Accept in the outbox queue" },
      );
      const secrets = (db.prepare("SELECT private_jwk FROM actor_keys").all() as { private_jwk: string }[]).map(
        (row) => (JSON.parse(row.private_jwk) as JsonWebKey).d!,
      );
      for (const { message } of rows) {
        const parsed = JSON.parse(message) as { keys: { keyId: string; privateKey?: unknown; publicKey?: unknown }[] };
        expect(parsed.keys.length).toBeGreaterThan(0);
        for (const key of parsed.keys) {
          expect(key.privateKey).toBeUndefined();
          expect(key.publicKey).toBeDefined();
        }
        for (const secret of secrets) expect(message).not.toContain(secret);
      }
    } finally {
      db.close();
      release();
    }

    const delivered = await waitFor(async () => (await pat.deliveries()).find((d) => (d.request.json as { type?: string })?.type === "Accept"), {
      what: "the Accept at the peer",
    });
    expect(delivered.verified).toEqual({ ok: true, keyId: `${nurses}#main-key` });
  });
});
