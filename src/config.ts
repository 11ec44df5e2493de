/**
 * Server configuration from flags and environment, checked with zod. Flags
 * win over environment variables, which win over defaults. Every message
 * says what to change.
 */
import { z } from "./zod.ts";
import { resolve } from "node:path";
import { InvalidInputError } from "./errors.ts";
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from "./http-edges.ts";
import { DEFAULT_DELIVERY, type DeliveryOptions } from "../federation/delivery-options.ts";
import { passwordHashCost } from "./accounts/passwords.ts";

const booleanFromEnv = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((value) => ["true", "1", "yes"].includes(value));

export const portSchema = z.coerce
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

export const originSchema = z
  .string()
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a URL; use the form https://fedalign.example` });
      return z.NEVER;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      ctx.addIssue({ code: "custom", message: `"${value}" must start with https:// (or http:// for local use)` });
      return z.NEVER;
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
      ctx.addIssue({ code: "custom", message: `"${value}" must be an origin only (scheme, host and port), such as ${url.origin}` });
      return z.NEVER;
    }
    return url.origin;
  });

const positiveInteger = z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1, "must be at least 1");

export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/**
 * What a `serve` process does (README, "Running at scale"): `web` answers
 * HTTP (pages, API, inboxes, which only queue what arrives); `worker` runs
 * the queues, the outbox dispatcher, the scheduled jobs and pruning, and
 * listens nowhere; `all`, the default, is both in one process.
 */
export const ROLES = ["web", "worker", "all"] as const;
export type Role = (typeof ROLES)[number];

export function servesHttp(role: Role): boolean {
  return role !== "worker";
}

export function runsWork(role: Role): boolean {
  return role !== "web";
}

export interface ServeConfig {
  port: number;
  /** Host name or address to listen on. */
  host: string;
  origin: string;
  dataDir: string;
  allowPrivateAddress: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  role: Role;
  /** Behind a reverse proxy: take the client's address from X-Forwarded-For (FEDALIGN_TRUST_PROXY). */
  trustProxy: boolean;
  /** Header and request timeouts and the connection cap of the HTTP server. */
  limits: ServerLimits;
  /** How deliveries to other servers are spread (FEDALIGN_DELIVERY_*, FEDALIGN_CIRCUIT_*). */
  delivery: DeliveryOptions;
  /**
   * log2 of scrypt's N for new password hashes (FEDALIGN_PASSWORD_HASH_COST).
   * src/accounts/passwords.ts reads the variable itself, since admin commands
   * hash passwords too; it is checked here so that `serve` fails at start-up.
   */
  passwordHashCost: number;
}

export interface ServeFlags {
  port?: string;
  host?: string;
  origin?: string;
  data?: string;
  allowPrivateAddress?: boolean;
  logLevel?: string;
  role?: string;
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${what} ${result.error.issues[0]?.message ?? "is invalid"}.`);
  return result.data;
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.FEDALIGN_DATA ?? "./data");
}

export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const portSource = flags.port !== undefined ? "--port" : "FEDALIGN_PORT";
  const port = check(portSchema, flags.port ?? env.FEDALIGN_PORT ?? "8080", portSource);
  const originValue = flags.origin ?? env.FEDALIGN_ORIGIN ?? `http://localhost:${port}`;
  const origin = check(originSchema, originValue, flags.origin !== undefined ? "--origin" : "FEDALIGN_ORIGIN");
  const allowPrivateAddress =
    flags.allowPrivateAddress ??
    check(booleanFromEnv, (env.FEDALIGN_ALLOW_PRIVATE_ADDRESS ?? "").toLowerCase(), "FEDALIGN_ALLOW_PRIVATE_ADDRESS (true or false)");
  const logLevel = check(z.enum(LOG_LEVELS), flags.logLevel ?? env.FEDALIGN_LOG_LEVEL ?? "info", "--log-level (debug, info, warning or error)");
  const role = check(z.enum(ROLES), flags.role ?? env.FEDALIGN_ROLE ?? "all", `${flags.role !== undefined ? "--role" : "FEDALIGN_ROLE"} (web, worker or all)`);
  return {
    port,
    host: flags.host ?? env.FEDALIGN_HOST ?? "0.0.0.0",
    origin,
    dataDir: resolveDataDir(flags.data, env),
    allowPrivateAddress,
    logLevel,
    role,
    limits: {
      headersTimeoutMs: check(positiveInteger, env.FEDALIGN_HEADERS_TIMEOUT_MS ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs, "FEDALIGN_HEADERS_TIMEOUT_MS"),
      requestTimeoutMs: check(positiveInteger, env.FEDALIGN_REQUEST_TIMEOUT_MS ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs, "FEDALIGN_REQUEST_TIMEOUT_MS"),
      maxConnections: check(positiveInteger, env.FEDALIGN_MAX_CONNECTIONS ?? DEFAULT_SERVER_LIMITS.maxConnections, "FEDALIGN_MAX_CONNECTIONS"),
    },
    trustProxy: check(booleanFromEnv, (env.FEDALIGN_TRUST_PROXY ?? "").toLowerCase(), "FEDALIGN_TRUST_PROXY (true or false)"),
    delivery: resolveDelivery(env),
    passwordHashCost: passwordHashCost(env),
  };
}

function resolveDelivery(env: NodeJS.ProcessEnv): DeliveryOptions {
  const setting = (name: string, fallback: number) => check(positiveInteger, env[name] ?? fallback, name);
  return {
    concurrency: setting("FEDALIGN_DELIVERY_CONCURRENCY", DEFAULT_DELIVERY.concurrency),
    perHost: setting("FEDALIGN_DELIVERIES_PER_HOST", DEFAULT_DELIVERY.perHost),
    circuitFailures: setting("FEDALIGN_CIRCUIT_FAILURES", DEFAULT_DELIVERY.circuitFailures),
    circuitCooldownMs: setting("FEDALIGN_CIRCUIT_COOLDOWN_SECONDS", DEFAULT_DELIVERY.circuitCooldownMs / 1000) * 1000,
    leaseMs: setting("FEDALIGN_QUEUE_LEASE_SECONDS", DEFAULT_DELIVERY.leaseMs / 1000) * 1000,
  };
}
