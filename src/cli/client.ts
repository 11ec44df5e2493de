/**
 * A small client for the JSON API, used by the member commands. Problem
 * details from the server become one-line errors.
 */
import type { Command } from "commander";
import { FedalignError } from "../errors.ts";

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
