/**
 * Starts real Fedalign instances as separate processes on loopback ports,
 * each with its own data directory, exactly as `fedalign serve` runs for a
 * user: real HTTP between them and real signature verification. Used by the
 * multi-instance tests and by scripts/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { and, eq } from "drizzle-orm";
import { first, closeDatabase, databasePath, openDatabase, type Db } from "../db/client.ts";
import { actorIri } from "../src/actors/iris.ts";
import { actorKeys, actors } from "../db/schema.ts";
import { importKeyPair } from "../src/actors/keys.ts";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser as createUserRow } from "../src/accounts/users.ts";
import type { FollowView as FollowViewSchema } from "../src/api/schemas/social.ts";
import type { z } from "zod";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
// The compiled CLI, as installed users run it; test/build-once.ts rebuilds it when sources change.
export const BIN = join(ROOT, "dist/src/bin/fedalign.js");
/** The password of every user the tests and `npm run demo` create (the demo prints it). */
export const TEST_PASSWORD = "correct horse battery staple";
const NODE_FLAGS = Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [];

/** A follow relation as the JSON API returns it. */
export type FollowView = z.output<typeof FollowViewSchema>;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `fedalign` command as a user would, with a time limit. */
export function runCli(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 100, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

export interface TestInstance {
  port: number;
  origin: string;
  host: string;
  dataDir: string;
  /** Everything the server wrote to stderr (its log). */
  log(): string;
  /** Starts (again) on the same port and data directory. */
  start(): Promise<void>;
  /** SIGTERM and wait; or SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Removes the data directory (after stop). */
  destroy(): Promise<void>;
  cli(args: string[], options?: { input?: string }): Promise<CliResult>;
  /** A user with a token, created in the data directory as the admin CLI does. */
  createUser(username: string, options?: { admin?: boolean }): Promise<{ username: string; token: string; actor: string }>;
  api<T = unknown>(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  actorUri(identifier: string): string;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startInstance(
  options: {
    dataDir?: string;
    port?: number;
    extraArgs?: string[];
    /** false starts it as in production, refusing private and loopback addresses (SSRF tests). */
    allowPrivateAddress?: boolean;
    /** Extra environment variables for the server process. */
    env?: Record<string, string>;
    /** The public origin, when it is not this process's own address (several processes behind one proxy). */
    origin?: string;
    /** `serve --role`: a worker listens nowhere and is ready when its log says it runs the queues. */
    role?: "web" | "worker";
    startTimeoutMs?: number;
  } = {},
): Promise<TestInstance> {
  const port = options.port ?? (await freePort());
  const origin = options.origin ?? `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "fedalign-test-"));
  let child: ChildProcess | undefined;
  let log = "";

  const instance: TestInstance = {
    port,
    origin,
    host: `127.0.0.1:${port}`,
    dataDir,
    log: () => log,
    async start() {
      const proc = spawn(
        process.execPath,
        [
          ...NODE_FLAGS,
          BIN,
          "serve",
          ...(options.role === "worker" ? [] : ["--port", String(port), "--host", "127.0.0.1"]),
          ...(options.role ? ["--role", options.role] : []),
          "--origin", origin,
          "--data", dataDir,
          ...(options.allowPrivateAddress === false ? [] : ["--allow-private-address"]),
          ...(options.extraArgs ?? []),
        ],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FEDALIGN_LOG_LEVEL: process.env.FEDALIGN_LOG_LEVEL ?? "info", ...options.env } },
      );
      child = proc;
      running.add(proc);
      proc.stdout!.on("data", (chunk) => (log += chunk));
      proc.stderr!.on("data", (chunk) => (log += chunk));
      const exited = new Promise<never>((_, reject) =>
        proc.once("exit", (code) => reject(new Error(`instance on port ${port} exited with ${code}:\n${log}`))),
      );
      exited.catch(() => {});
      proc.once("exit", () => running.delete(proc));
      await Promise.race([
        exited,
        options.role === "worker"
          ? waitFor(() => log.includes("worker is running"), { timeoutMs: options.startTimeoutMs ?? 30_000, what: "the worker to start" })
          : waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/instance`)).ok, {
              timeoutMs: options.startTimeoutMs ?? 30_000,
              what: `instance on ${port}`,
            }),
      ]);
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill(signal);
      await done;
    },
    async destroy() {
      await instance.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    cli: (args, cliOptions) => runCli(args, cliOptions),
    async createUser(username, userOptions = {}) {
      // What `admin user create` and `admin token create` do, on the data directory, without two command processes
      // (the commands themselves are tested in cli.test.ts).
      const db = openDatabase(databasePath(dataDir), { mustExist: true });
      try {
        return await createTestUser(db, origin, username, userOptions);
      } finally {
        closeDatabase(db);
      }
    },
    api: (method, path, apiOptions) => apiCall(origin, method, path, apiOptions),
    actorUri: (identifier) => `${origin}/actors/${identifier}`,
  };
  await instance.start();
  return instance;
}

/** A user with a password and an API token, written straight to an instance's database (as the admin commands do). */
export async function createTestUser(
  db: Db,
  origin: string,
  username: string,
  options: { admin?: boolean } = {},
): Promise<{ username: string; token: string; actor: string }> {
  const user = await createUserRow(db, { username, password: TEST_PASSWORD, isAdmin: options.admin ?? false });
  return { username, token: (await createToken(db, user.id, "test")).token, actor: actorIri(origin, username) };
}

/** One JSON API call over HTTP, with a bearer token when given; the body is parsed JSON (or undefined). */
export async function apiCall<T = unknown>(
  origin: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${origin}/api/v1/${path.replace(/^\//, "")}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Fetches an ActivityPub document as another server would. */
export async function fetchAp<T = Record<string, unknown>>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/activity+json" } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** Every item of an ActivityPub collection, following its pages. */
export async function collectionItems(url: string): Promise<string[]> {
  const collection = await fetchAp<{ first?: string | { id: string }; orderedItems?: unknown[]; items?: unknown[] }>(url);
  const ids = (items: unknown[] | undefined) =>
    (items ?? []).map((item) => (typeof item === "string" ? item : (item as { id: string }).id));
  if (!collection.first) return ids(collection.orderedItems ?? collection.items);
  const result: string[] = [];
  let next: string | undefined = typeof collection.first === "string" ? collection.first : collection.first.id;
  while (next) {
    const pageDoc: { orderedItems?: unknown[]; items?: unknown[]; next?: string } = await fetchAp(next);
    result.push(...ids(pageDoc.orderedItems ?? pageDoc.items));
    next = pageDoc.next;
  }
  return result;
}

/**
 * The RSA key an instance signs HTTP requests with for one of its actors,
 * read from its database: tests use it to forge or replay deliveries.
 */
export async function rsaKeyOf(instance: Pick<TestInstance, "dataDir" | "origin" | "actorUri">, identifier: string): Promise<{ keyId: URL; privateKey: CryptoKey }> {
  const db = openDatabase(databasePath(instance.dataDir), { mustExist: true });
  try {
    const row = await first(
      db
        .select({ key: actorKeys })
        .from(actorKeys)
        .innerJoin(actors, eq(actors.id, actorKeys.actorId))
        .where(and(eq(actors.identifier, identifier), eq(actorKeys.algorithm, "RSASSA-PKCS1-v1_5")))
        .limit(1),
    );
    if (!row) throw new Error(`${identifier} has no RSA key on ${instance.origin}`);
    const doc = await fetchAp<{ publicKey: { id: string } }>(instance.actorUri(identifier));
    return { keyId: new URL(doc.publicKey.id), privateKey: (await importKeyPair(row.key)).privateKey };
  } finally {
    closeDatabase(db);
  }
}

export function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Raw SQL on an in-process instance's connection, with the connection held
 * (so it never lands inside a transaction another flow has open).
 */
export function rawSql<T>(db: Db, fn: (raw: Db["$client"]["raw"]) => T): Promise<T> {
  return db.$client.exclusive(() => fn(db.$client.raw));
}
