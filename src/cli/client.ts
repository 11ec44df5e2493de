/**
 * A small client for the JSON API, used by the member commands. Problem
 * details from the server become one-line errors.
 *
 * Responses are typed by the API's own zod schemas (src/api/schemas/<area>.ts),
 * so a renamed field fails to compile here instead of printing `undefined`:
 *
 *   import type { PolicyDetail } from "../api/schemas/policies.ts";
 *   const policy = await api.get<typeof PolicyDetail>("policies/lookup", { ref });
 *
 * Import the schemas with `import type` only: the CLI must not load zod, Hono
 * or the database layer at run time (test/cli-startup.test.ts), and the server
 * already validates what it sends against the same schemas (the OpenAPI routes).
 */
import type { Command } from "commander";
import type { z } from "zod";
import { FedalignError } from "../errors.ts";

/** What a request with this response schema resolves to: `Reply<typeof PolicyDetail>`. */
export type Reply<S extends z.ZodType> = z.output<S>;

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | undefined>;

export interface ClientOptions {
  server?: string;
  token?: string;
}

export class ApiClient {
  readonly base: URL;
  private readonly token: string | undefined;

  constructor(options: ClientOptions, requireToken = true) {
    const server = options.server ?? process.env.FEDALIGN_SERVER;
    if (!server) {
      throw new FedalignError("No server given: pass --server https://your.instance or set FEDALIGN_SERVER.");
    }
    try {
      this.base = new URL("/api/v1/", server);
    } catch {
      throw new FedalignError(`--server "${server}" is not a URL; use the form https://your.instance.`);
    }
    this.token = options.token ?? process.env.FEDALIGN_TOKEN;
    if (requireToken && !this.token) {
      throw new FedalignError("No token given: pass --token or set FEDALIGN_TOKEN (get one with `fedalign login` or `fedalign admin token create`).");
    }
  }

  /** A raw request (streamed body or streamed response); failures become one-line errors. */
  async raw(method: string, path: string, init: { query?: Record<string, string | undefined>; body?: ReadableStream<Uint8Array>; contentType?: string } = {}): Promise<Response> {
    const url = new URL(path.replace(/^\//, ""), this.base);
    for (const [key, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (init.contentType) headers["Content-Type"] = init.contentType;
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: init.body, duplex: init.body ? "half" : undefined } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new FedalignError(`Cannot reach ${this.base.origin} (${cause?.code ?? cause?.message ?? String(error)}): check --server and that the instance is running.`);
    }
    if (!response.ok) {
      const text = await response.text();
      const detail = (safeJson(text) as { detail?: string } | undefined)?.detail ?? `${response.status} ${response.statusText}`;
      throw new FedalignError(detail);
    }
    return response;
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string | undefined>): Promise<T> {
    const url = new URL(path.replace(/^\//, ""), this.base);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new FedalignError(`Cannot reach ${this.base.origin} (${cause?.code ?? cause?.message ?? String(error)}): check --server and that the instance is running.`);
    }
    const text = await response.text();
    const payload = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const detail = (payload as { detail?: string } | undefined)?.detail ?? `${response.status} ${response.statusText}`;
      throw new FedalignError(`${detail}`);
    }
    return payload as T;
  }

  /** GET, typed by the response schema: `api.get<typeof PolicyDetail>("policies/lookup", { ref })`. */
  get<S extends z.ZodType>(path: string, query?: Query): Promise<Reply<S>> {
    return this.request<Reply<S>>("GET", path, undefined, query);
  }

  /** POST a JSON body (typed by the request schema when given), typed by the response schema. */
  post<S extends z.ZodType, B = unknown>(path: string, body?: B, query?: Query): Promise<Reply<S>> {
    return this.request<Reply<S>>("POST", path, body, query);
  }

  put<S extends z.ZodType, B = unknown>(path: string, body?: B, query?: Query): Promise<Reply<S>> {
    return this.request<Reply<S>>("PUT", path, body, query);
  }

  patch<S extends z.ZodType, B = unknown>(path: string, body?: B, query?: Query): Promise<Reply<S>> {
    return this.request<Reply<S>>("PATCH", path, body, query);
  }

  delete<S extends z.ZodType>(path: string, body?: unknown, query?: Query): Promise<Reply<S>> {
    return this.request<Reply<S>>("DELETE", path, body, query);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The client for a command, from its --server and --token (or the environment). */
export function clientFor(command: Command, requireToken = true): ApiClient {
  return new ApiClient(command.optsWithGlobals<ClientOptions>(), requireToken);
}
