/**
 * The `fedalign` command loads only what a command uses: `--help` and member
 * commands (which talk HTTP to a server) never load Fedify, the web layer,
 * the database layer or the numeric libraries, and run in one process; only
 * `serve` is restarted with Node 20's JSON flag.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandName, needsJsonFlagRelaunch } from "../src/cli/launch.ts";
import { BIN, ROOT, runCli } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const RECORDER = join(ROOT, "test/fixtures/modules/record.mjs");
/** What a member command must not load: Fedify, our federation and web code, the server, SQLite, the numeric libraries. */
const HEAVY = [/\/@fedify\//, /\/dist\/federation\//, /\/dist\/src\/web\//, /\/dist\/src\/instance\.js/, /\/node_modules\/hono\//, /\/drizzle-orm\//, /\/better-sqlite3\//, /\/ml-[a-z-]+\//];

let work: string;
/** The server the commands talk to runs in the test process: what is measured is the command's process. */
let server: LocalInstance;
let token: string;

/** Runs a command in plain Node (no flags, as a user's shell does) and lists the modules it loaded. */
function modulesLoadedBy(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const log = join(work, `modules-${Math.random().toString(36).slice(2)}.log`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", RECORDER, BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env, FEDALIGN_MODULE_LOG: log } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      let modules: string[] = [];
      try {
        modules = readFileSync(log, "utf8").split("\n").filter(Boolean);
      } catch {
        // Nothing loaded through the module loader.
      }
      resolve({ code, stdout, stderr, modules });
    });
  });
}

function heavyIn(modules: string[]): string[] {
  return modules.filter((url) => HEAVY.some((pattern) => pattern.test(url)));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "fedalign-startup-"));
  server = await startLocalInstance();
  token = (await server.createUser("alice", { admin: true })).token;
});

afterAll(async () => {
  await server?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("what a command loads", () => {
  it("sees every module a process loads (the recorder works: Fedify shows up when imported)", async () => {
    const log = join(work, "fedify.log");
    const probe = spawn(process.execPath, ["--import", RECORDER, "--input-type=module", "-e", 'await import("@fedify/fedify")'], {
      cwd: ROOT,
      env: { ...process.env, FEDALIGN_MODULE_LOG: log },
    });
    await new Promise((resolve) => probe.on("close", resolve));
    expect(heavyIn(readFileSync(log, "utf8").split("\n")).length).toBeGreaterThan(0);
  });

  it("--help loads the command table only", async () => {
    const result = await modulesLoadedBy(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("serve");
    expect(heavyIn(result.modules)).toEqual([]);
    expect(result.modules.filter((url) => /\/zod\//.test(url))).toEqual([]);
  });

  it("a member command talks to the server without loading Fedify, the web layer, the database or the numeric libraries", async () => {
    const result = await modulesLoadedBy(["--server", server.origin, "--token", token, "whoami"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("@alice@");
    expect(result.modules.some((url) => url.endsWith("/dist/src/cli/member.js"))).toBe(true);
    expect(heavyIn(result.modules)).toEqual([]);
  });

  it("policy commands and the Polis files load their own modules, still without the heavy ones", async () => {
    const schema = await modulesLoadedBy(["policy", "schema"]);
    expect(schema.code).toBe(0);
    expect(JSON.parse(schema.stdout)).toHaveProperty("properties");
    expect(heavyIn(schema.modules)).toEqual([]);
    // Reading a Polis export (before the server refuses the unknown community) needs the CSV code, not the opinion maths.
    const polis = await modulesLoadedBy(["--server", server.origin, "--token", token, "statements", "import-polis", "nobody", join(ROOT, "test/fixtures/polis/london.youth.policing")]);
    expect(polis.code).toBe(1);
    expect(polis.modules.some((url) => url.endsWith("/dist/src/participation/polis.js"))).toBe(true);
    expect(heavyIn(polis.modules)).toEqual([]);
  });
});

describe("--json where a command's output is data", () => {
  it("prints a submitted statement and a Polis import's counts as JSON", async () => {
    expect((await runCli(["admin", "community", "create", "youth", "--name", "Youth", "--steward", "alice", "--data", server.dataDir])).code).toBe(0);
    const member = ["--server", server.origin, "--token", token];
    const imported = await runCli([...member, "statements", "import-polis", "youth", join(ROOT, "test/fixtures/polis/london.youth.policing"), "--json"]);
    expect(imported.stderr).toBe("");
    expect(JSON.parse(imported.stdout)).toMatchObject({ conversation: "london.youth.policing", created: true, statements: 39, votes: 638, skipped: [] });
    const added = await runCli([...member, "statements", "add", "youth", "Street lighting helps everyone.", "--json"]);
    expect(added.stderr).toBe("");
    expect(JSON.parse(added.stdout)).toMatchObject({ id: expect.any(Number) });
  });
});

describe("the Node 20 JSON flag", () => {
  it("finds the command after global options", () => {
    expect(commandName(["--server", "https://a.example", "--token", "t", "whoami"])).toBe("whoami");
    expect(commandName(["--help"])).toBeUndefined();
    expect(commandName(["serve", "--port", "8080"])).toBe("serve");
  });

  it("restarts only serve, only on Node 20 and 21, and only without the flag", () => {
    expect(needsJsonFlagRelaunch(["serve"], "20.19.0", [])).toBe(true);
    expect(needsJsonFlagRelaunch(["serve"], "20.19.0", ["--harmony-json-parse-with-source"])).toBe(false);
    expect(needsJsonFlagRelaunch(["serve"], "22.12.0", [])).toBe(false);
    expect(needsJsonFlagRelaunch(["serve"], "24.11.0", [])).toBe(false);
    for (const argv of [["--help"], ["whoami"], ["policy", "show", "x"], ["bundle", "verify", "d"], ["admin", "user", "create", "a"]]) {
      expect(needsJsonFlagRelaunch(argv, "20.19.0", [])).toBe(false);
    }
  });
});
