/** `fedalign serve`: open the instance, listen, start the queue, stop cleanly. */
import { serve, type ServerType } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import { FedalignError } from "../errors.ts";
import { resolveServeConfig, type ServeFlags } from "../config.ts";
import { openInstance } from "../instance.ts";
import { configureLogging } from "../logging.ts";

const logger = getLogger(["fedalign", "server"]);

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, host: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host }, () => resolve(server));
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(new FedalignError(`Port ${port} is already in use: stop the other process or choose another port with --port.`));
      } else if (error.code === "EACCES") {
        reject(new FedalignError(`Not allowed to listen on port ${port}: choose a port above 1023 with --port.`));
      } else {
        reject(new FedalignError(`Cannot listen on ${host}:${port}: ${error.message}.`));
      }
    });
  });
}

export async function runServe(flags: ServeFlags): Promise<void> {
  const config = resolveServeConfig(flags);
  configureLogging(config.logLevel);
  const instance = await openInstance({
    dataDir: config.dataDir,
    origin: config.origin,
    allowPrivateAddress: config.allowPrivateAddress,
  });
  let server: ServerType;
  try {
    server = await listen(instance.app.fetch, config.port, config.host);
  } catch (error) {
    await instance.close();
    throw error;
  }
  instance.startQueue();
  logger.info("Fedalign is serving {origin} on {host}:{port} with data in {dataDir}.", {
    origin: config.origin,
    host: config.host,
    port: config.port,
    dataDir: config.dataDir,
  });
  if (config.allowPrivateAddress) {
    logger.warning("Fetching private and loopback addresses is allowed (--allow-private-address): use this only for local setups.");
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("Received {signal}; stopping.", { signal });
    server.close();
    await instance.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
