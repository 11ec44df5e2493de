/**
 * Web forms act through the JSON API in-process, as the signed-in user, so a
 * form is validated by the same zod schema and the same rules as the API
 * call it stands for, and federation happens exactly as it does there. The
 * user travels in the request's env bindings, which only in-process calls
 * can set (see src/api/auth.ts).
 */
import type { Context } from "hono";
import type { WebEnv } from "./context.ts";

export interface ApiProblem {
  status: number;
  title: string;
  detail: string;
  issues?: { path: string; message: string }[];
}

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; problem: ApiProblem; fieldErrors: Record<string, string> };

export interface WebCallOptions {
  body?: unknown;
  /** Act anonymously even when someone is signed in (for public reads). */
  anonymous?: boolean;
  /** Extra headers, e.g. Accept for a non-JSON download. */
  headers?: Record<string, string>;
}

/** Env key read by the API's authentication; not reachable from outside. */
export const WEB_USER_BINDING = "fedalignWebUser";

export async function callApi<T = unknown>(
  c: Context<WebEnv>,
  method: string,
  path: string,
  options: WebCallOptions = {},
): Promise<ApiResult<T>> {
  const response = await rawApi(c, method, path, options);
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : undefined;
  if (response.ok) return { ok: true, status: response.status, data: parsed as T };
  const problem = toProblem(response.status, parsed, text);
  return { ok: false, status: response.status, problem, fieldErrors: fieldErrorsOf(problem) };
}

/** The API's Response itself, for downloads that are not JSON. */
export function rawApi(c: Context<WebEnv>, method: string, path: string, options: WebCallOptions = {}): Promise<Response> {
  const session = c.get("session");
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const env = session && !options.anonymous ? { [WEB_USER_BINDING]: session.user } : {};
  return Promise.resolve(
    c.get("deps").api.request(
      path.startsWith("/") ? path : `/${path}`,
      { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) },
      env,
    ),
  );
}

/** Like callApi, but throws on failure: for reads a page cannot do without. */
export async function readApi<T>(c: Context<WebEnv>, path: string, options: WebCallOptions = {}): Promise<T> {
  const result = await callApi<T>(c, "GET", path, options);
  if (!result.ok) throw new WebApiError(result.problem);
  return result.data;
}

/** A failed API read, rendered by the web error handler as its status and detail. */
export class WebApiError extends Error {
  constructor(readonly problem: ApiProblem) {
    super(problem.detail);
    this.name = "WebApiError";
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toProblem(status: number, parsed: unknown, text: string): ApiProblem {
  if (parsed && typeof parsed === "object" && "detail" in parsed) {
    const p = parsed as Partial<ApiProblem>;
    return { status, title: p.title ?? "Error", detail: p.detail ?? "", issues: p.issues };
  }
  return { status, title: "Error", detail: text.slice(0, 500) || `The request failed with status ${status}.` };
}

/** "handle" -> message, "clauses.0.text" -> message: what forms show next to fields. */
function fieldErrorsOf(problem: ApiProblem): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of problem.issues ?? []) errors[issue.path] ??= issue.message;
  return errors;
}
