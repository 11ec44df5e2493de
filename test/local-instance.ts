/**
 * Fedalign instances inside the test process: the same `openInstance` that
 * `fedalign serve` runs, listening on a loopback port, so peers still talk
 * over real HTTP with real signatures, but without a process boot each
 * (about 2 s of CPU apiece) and with a clock the test controls. Tests that
 * are about the process itself (signals, crashes, the CLI's startup) keep
 * the spawned instances of ./harness.ts.
 */
import type { ServerType } from "@hono/node-server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, systemClock, type Clock } from "../src/app/clock.ts";
import { issueSetupCode } from "../src/accounts/registration.ts";
import { listen } from "../src/cli/serve.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { resolveServeConfig } from "../src/config.ts";
import { apiCall, createTestUser, freePort, runCli, type CliResult } from "./harness.ts";

export interface LocalInstance {
  port: number;
  origin: string;
  host: string;
  dataDir: string;
  /** The running instance (database, federation, use-case context); replaced by restart(). */
  instance: Instance;
  clock: Clock;
  /** Stops serving and closes the database. */
  stop(): Promise<void>;
  /** Opens the same data directory again on the same port. */
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** The `fedalign` command against this instance's data directory (spawned, as a user runs it). */
  cli(args: string[], options?: { input?: string }): Promise<CliResult>;
  /** A user with an API token, created directly in the database. */
  createUser(username: string, options?: { admin?: boolean }): Promise<{ username: string; token: string; actor: string }>;
  api<T = unknown>(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<{ status: number; body: T }>;
  actorUri(identifier: string): string;
  /** Carries out every recorded federation effect that is due (the dispatcher also runs by itself). */
  flushOutbox(): Promise<number>;
  /**
   * What `fedalign serve` prints on a first run: a new one-time setup code for
   * /setup while the instance has no users (replacing an earlier one), else undefined.
   */
  setupCode(): Promise<string | undefined>;
}

export async function startLocalInstance(
  options: {
    /** A ManualClock also stops the scheduler's own timer: scheduled jobs then run only on runScheduledJobs(). */
    clock?: Clock;
    dataDir?: string;
    port?: number;
    allowPrivateAddress?: boolean;
    /** Environment variables as `fedalign serve` reads them (FEDALIGN_HEADERS_TIMEOUT_MS, FEDALIGN_DELIVERIES_PER_HOST, …). */
    env?: Record<string, string>;
  } = {},
): Promise<LocalInstance> {
  const port = options.port ?? (await freePort());
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "fedalign-local-"));
  const clock = options.clock ?? systemClock;
  const config = resolveServeConfig({ data: dataDir }, { ...process.env, ...options.env });
  let server: ServerType | undefined;

  const local: LocalInstance = {
    port,
    origin,
    host: `127.0.0.1:${port}`,
    dataDir,
    instance: undefined as unknown as Instance,
    clock,
    async start() {
      const instance = await openInstance({ dataDir, origin, allowPrivateAddress: options.allowPrivateAddress ?? true, clock, scheduleJobs: !(clock instanceof ManualClock), trustProxy: config.trustProxy, delivery: config.delivery });
      local.instance = instance;
      // The same listen as `fedalign serve`: header and request timeouts, connection cap.
      try {
        server = await listen(instance.app.fetch, port, "127.0.0.1", config.limits);
      } catch (error) {
        await instance.close();
        throw error;
      }
      await instance.startQueue();
    },
    async stop() {
      if (!server) return;
      const closing = server;
      server = undefined;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        (closing as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await local.instance.close();
    },
    async destroy() {
      await local.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    cli: (args, cliOptions) => runCli(args, cliOptions),
    createUser: async (username, userOptions) => await createTestUser(local.instance.db, origin, username, userOptions),
    api: (method, path, apiOptions) => apiCall(origin, method, path, apiOptions),
    actorUri: (identifier) => `${origin}/actors/${identifier}`,
    flushOutbox: async () => await local.instance.outbox.dispatchDue(),
    setupCode: async () => await issueSetupCode(local.instance.db),
  };
  await local.start();
  return local;
}

export { ManualClock };
