/**
 * `fedalign serve`: open the instance, listen, start the queue, stop cleanly.
 * Flags, environment, port and data directory are checked before the
 * instance's modules (Fedify, the web layer) load, so a mistyped flag or a
 * wrong --data fails in a fraction of the time.
 */
import { serve, type ServerType } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { serverOptions, type ServerLimits } from "../http-edges.ts";
import { FedalignError } from "../errors.ts";
import { resolveServeConfig, runsWork, servesHttp, type ServeFlags } from "../config.ts";
import { configureLogging } from "../logging.ts";

const logger = getLogger(["fedalign", "server"]);

function listenError(error: NodeJS.ErrnoException, port: number, host: string): FedalignError {
  if (error.code === "EADDRINUSE") {
    return new FedalignError(`Port ${port} is already in use: stop the other process or choose another port with --port.`);
  }
  if (error.code === "EACCES") return new FedalignError(`Not allowed to listen on port ${port}: choose a port above 1023 with --port.`);
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return new FedalignError(`Cannot listen on ${host}: no such local address; fix --host.`);
  }
  return new FedalignError(`Cannot listen on ${host}:${port}: ${error.message}.`);
}

/** Listens with the server limits (timeouts, connection cap); also used by test/local-instance.ts. */
export function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, host: string, limits: ServerLimits): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host, serverOptions: serverOptions(limits) }, () => resolve(server));
    (server as Server).maxConnections = limits.maxConnections;
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, port, host)));
  });
}

/** Fails early when the port is taken, before the data directory is touched. */
async function assertPortFree(port: number, host: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, port, host)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export async function runServe(flags: ServeFlags): Promise<void> {
  const config = resolveServeConfig(flags);
  configureLogging(config.logLevel);
  const listens = servesHttp(config.role);
  if (listens && config.port !== 0) await assertPortFree(config.port, config.host);
  // Then the data directory: a missing parent or a database from a newer Fedalign fails before Fedify loads.
  const { openInstanceDatabase } = await import("../../db/open.ts");
  const db = openInstanceDatabase(config.dataDir, "create");
  const [{ openInstance }, { issueSetupCode }] = await Promise.all([import("../instance.ts"), import("../accounts/registration.ts")]);
  const instance = await openInstance({
    db,
    dataDir: config.dataDir,
    origin: config.origin,
    allowPrivateAddress: config.allowPrivateAddress,
    trustProxy: config.trustProxy,
    delivery: config.delivery,
  });
  let server: ServerType | undefined;
  if (listens) {
    try {
      server = await listen(instance.app.fetch, config.port, config.host, config.limits);
    } catch (error) {
      await instance.close();
      throw error;
    }
  }
  if (runsWork(config.role)) await instance.startQueue();
  if (config.role === "worker") {
    logger.info("Fedalign worker is running the queues and scheduled jobs of {origin} with data in {dataDir}.", {
      origin: config.origin,
      dataDir: config.dataDir,
    });
  } else {
    logger.info("Fedalign is serving {origin} on {host}:{port} with data in {dataDir}{roleNote}.", {
      origin: config.origin,
      host: config.host,
      port: config.port,
      dataDir: config.dataDir,
      roleNote: config.role === "web" ? " (web only: worker processes run the queues)" : "",
    });
  }
  // First run: whoever reads this log (the person who started the server) can create the first admin.
  const setupCode = listens ? await issueSetupCode(instance.db) : undefined;
  if (setupCode) {
    logger.warning(
      "This instance has no users yet. Create the first admin at {setupUrl} with the one-time setup code {setupCode}, " +
        "or run: fedalign admin user create <name> --admin --password-stdin --data {dataDir}",
      { setupUrl: new URL("/setup", config.origin).href, setupCode, dataDir: config.dataDir },
    );
  }
  if (config.allowPrivateAddress) {
    logger.warning("Fetching private and loopback addresses is allowed (--allow-private-address): use this only for local setups.");
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("Received {signal}; stopping.", { signal });
    server?.close();
    await instance.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
