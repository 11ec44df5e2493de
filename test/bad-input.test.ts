/**
 * Bad invocations of `fedalign serve` and the admin commands end with one
 * line that says what to do, and leave the data directory as it was.
 */
import { createServer, type Server } from "node:net";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { closeDatabase, databasePath, openDatabase } from "../db/client.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { freePort, runCli } from "./harness.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "fedalign-bad-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function expectOneLineFailure(result: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(result.code).not.toBe(0);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fedalign: /);
  expect(lines[0]).toMatch(pattern);
}

describe("serve refuses bad input without touching data", () => {
  it("a wrong flag", async () => {
    const data = tempDir();
    const result = await runCli(["serve", "--prot", "8080", "--data", data]);
    expectOneLineFailure(result, /unknown option '--prot'/);
    expect(readdirSync(data)).toEqual([]);
  });

  it("an origin that is not a URL", async () => {
    const data = tempDir();
    const result = await runCli(["serve", "--origin", "fedalign.example", "--port", String(await freePort()), "--data", data]);
    expectOneLineFailure(result, /--origin "fedalign.example" is not a URL; use the form https:\/\//);
    expect(readdirSync(data)).toEqual([]);
  });

  it("an origin with a path", async () => {
    const result = await runCli(["serve", "--origin", "https://x.example/app", "--data", tempDir()]);
    expectOneLineFailure(result, /must be an origin only .* https:\/\/x\.example/);
  });

  it("a port that is not a number, from the environment", async () => {
    const result = await runCli(["serve", "--data", tempDir()], { env: { FEDALIGN_PORT: "eighty" } });
    expectOneLineFailure(result, /FEDALIGN_PORT must be a number/);
  });

  it("a password hash cost out of range, from the environment", async () => {
    const data = tempDir();
    const result = await runCli(["serve", "--port", String(await freePort()), "--data", data], { env: { FEDALIGN_PASSWORD_HASH_COST: "30" } });
    expectOneLineFailure(result, /FEDALIGN_PASSWORD_HASH_COST must be a whole number from 10 to 20 .*; it is "30"\./);
    expect(readdirSync(data)).toEqual([]);
  });

  it("a port in use", async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const data = tempDir();
      const result = await runCli(["serve", "--port", String(port), "--host", "127.0.0.1", "--data", data]);
      expectOneLineFailure(result, new RegExp(`Port ${port} is already in use: stop the other process or choose another port with --port`));
      expect(readdirSync(data)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it("a data directory whose parent does not exist", async () => {
    const data = join(tempDir(), "missing", "data");
    const result = await runCli(["serve", "--port", String(await freePort()), "--host", "127.0.0.1", "--data", data]);
    expectOneLineFailure(result, /its parent does not exist. Create it with `mkdir -p/);
    expect(existsSync(data)).toBe(false);
  });

  it("a database written by a newer Fedalign", async () => {
    const data = tempDir();
    closeDatabase(openInstanceDatabase(data, "create"));
    const db = openDatabase(databasePath(data));
    db.$client.raw.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', ?)").run(Date.now() + 10 ** 11);
    const before = db.$client.raw.prepare("SELECT name FROM sqlite_master ORDER BY name").all();
    const migrationsBefore = db.$client.raw.prepare("SELECT * FROM __drizzle_migrations ORDER BY id").all();
    closeDatabase(db);

    const result = await runCli(["serve", "--port", String(await freePort()), "--host", "127.0.0.1", "--data", data]);
    expectOneLineFailure(result, /written by a newer version of Fedalign; upgrade Fedalign/);
    const admin = await runCli(["admin", "community", "list", "--data", data]);
    expectOneLineFailure(admin, /newer version of Fedalign/);

    const after = openDatabase(databasePath(data));
    expect(after.$client.raw.prepare("SELECT name FROM sqlite_master ORDER BY name").all()).toEqual(before);
    expect(after.$client.raw.prepare("SELECT * FROM __drizzle_migrations ORDER BY id").all()).toEqual(migrationsBefore);
    // serve stopped before creating the instance actor.
    expect(after.$client.raw.prepare("SELECT COUNT(*) AS n FROM actors").get()).toEqual({ n: 0 });
    closeDatabase(after);
  });
});

describe("admin commands refuse a missing data directory", () => {
  it("says how to create one and creates nothing", async () => {
    const data = join(tempDir(), "nowhere");
    const result = await runCli(["admin", "user", "create", "alice", "--password-stdin", "--data", data], { input: "long password\n" });
    expectOneLineFailure(result, /No Fedalign data directory at .*nowhere: start the server once with `fedalign serve --data/);
    expect(existsSync(data)).toBe(false);
  });

  it("an empty directory is not an instance either", async () => {
    const data = tempDir();
    const result = await runCli(["admin", "token", "create", "alice", "--data", data]);
    expectOneLineFailure(result, /No Fedalign database in/);
    expect(readdirSync(data)).toEqual([]);
  });

  it("a user that does not exist", async () => {
    const data = tempDir();
    closeDatabase(openInstanceDatabase(data, "create"));
    const result = await runCli(["admin", "token", "create", "ghost", "--data", data]);
    expectOneLineFailure(result, /No user "ghost" on this instance/);
  });
});
