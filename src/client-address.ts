/**
 * The address a request came from, for per-client limits (sign-in). Read
 * from the TCP connection; behind a reverse proxy (FEDALIGN_TRUST_PROXY)
 * from the last X-Forwarded-For entry, the one the proxy itself added.
 * Requests made in-process (tests, app.request) have no connection and
 * count as "local".
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { HonoRequest, MiddlewareHandler } from "hono";

// Keyed by Hono's request wrapper, which stays the same for the whole request
// (middleware such as the body limit may replace the raw Request inside it).
const addresses = new WeakMap<HonoRequest, string>();

export function recordClientAddress(trustProxy: boolean): MiddlewareHandler {
  return async (c, next) => {
    let address: string | undefined;
    if (trustProxy) address = c.req.header("x-forwarded-for")?.split(",").pop()?.trim() || undefined;
    try {
      address ??= getConnInfo(c).remote.address;
    } catch {
      // No Node connection behind this request.
    }
    addresses.set(c.req, address ?? "local");
    await next();
  };
}

export function clientAddress(request: HonoRequest): string {
  return addresses.get(request) ?? "local";
}
