/**
 * Limits at the HTTP edge of an instance, in front of every route (API, web
 * pages, ActivityPub):
 *
 * - Request bodies: at most 1 MiB, except routes that read their body as a
 *   stream and bound what they keep (preference imports), and the two
 *   whole-document imports (a policy, a Polis conversation), which get 32 MiB:
 *   real Polis exports run to several megabytes of votes. A larger body is
 *   refused with 413 before it is read.
 * - Control characters: a path or query that contains one (raw or
 *   percent-encoded: CR, LF, NUL, ...) is refused with 400, as is a form
 *   field with one other than tab, CR and LF (multi-line text keeps its line
 *   breaks; single-line fields refuse them in their own validation). None of
 *   them has a meaning in our URLs, and passed on they end up in headers,
 *   logs and redirects.
 * - The Node server: time limits for a request's headers and for the whole
 *   request, and a cap on open connections (`serverLimits`), so that slow or
 *   many clients cannot hold the server's sockets.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ServerOptions } from "node:http";

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const IMPORT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Routes that stream their body and bound it themselves. */
const STREAMING_ROUTES = new Set(["/api/v1/preferences/import"]);
/** Routes that take one whole document to import, read at once. */
const IMPORT_ROUTES = new Set(["/api/v1/policies/import", "/api/v1/statements/import"]);

function sizeLimit(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => refuse(c.req.path, 413, `The request body is larger than ${maxSize / 1024 / 1024} MiB.`),
  });
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A 413 leaves the rest of the body unread on the socket, so the connection
 * cannot carry another request: say so, or a client's next request on it
 * fails with "other side closed".
 */
export const CLOSE_AFTER_REFUSAL = { Connection: "close" } as const;

function refuse(path: string, status: 400 | 413, detail: string): Response {
  const close = status === 413 ? CLOSE_AFTER_REFUSAL : {};
  if (path.startsWith("/api/")) {
    const title = status === 413 ? "Request body too large" : "Invalid request";
    return Response.json({ type: "about:blank", title, status, detail }, { status, headers: { "Content-Type": "application/problem+json", ...close } });
  }
  return new Response(`${detail}\n`, { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...close } });
}

export function limitBodies(): MiddlewareHandler {
  const limit = sizeLimit(BODY_LIMIT_BYTES);
  const importLimit = sizeLimit(IMPORT_BODY_LIMIT_BYTES);
  return (c, next) => {
    if (STREAMING_ROUTES.has(c.req.path)) return next();
    return IMPORT_ROUTES.has(c.req.path) ? importLimit(c, next) : limit(c, next);
  };
}

/** The path and query as the application will read them, or undefined when they do not decode. */
function decodedTarget(url: URL): string[] | undefined {
  try {
    const parts = [decodeURIComponent(url.pathname)];
    for (const [name, value] of url.searchParams) parts.push(name, value);
    return parts;
  } catch {
    return undefined;
  }
}

export function refuseControlCharacters(): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const parts = decodedTarget(url);
    if (!parts) return refuse(url.pathname, 400, "The address has a malformed percent-encoding.");
    if (parts.some((part) => CONTROL.test(part))) return refuse(url.pathname, 400, "The address contains a control character.");
    const type = c.req.header("content-type") ?? "";
    if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
      let fields: Record<string, unknown>;
      try {
        fields = await c.req.parseBody({ all: true });
      } catch {
        return refuse(url.pathname, 400, "The form could not be read.");
      }
      const texts = Object.entries(fields).flatMap(([name, value]) => [name, ...(Array.isArray(value) ? value : [value])]);
      if (texts.some((text) => typeof text === "string" && CONTROL_IN_TEXT.test(text))) {
        return refuse(url.pathname, 400, "A form field contains a control character.");
      }
    }
    return next();
  };
}

export interface ServerLimits {
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** Open connections at most; more are closed at once. */
  maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = { headersTimeoutMs: 15_000, requestTimeoutMs: 120_000, maxConnections: 1024 };

/** Options for node:http's createServer. */
export function serverOptions(limits: ServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks those timeouts on this interval (30 s by default, longer than the limits themselves).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 2)),
  };
}
