/** Reading submitted forms and answering them (redirect with a notice, or re-render with errors). */
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { ZodError, type z } from "zod";
import { FedalignError, FieldError } from "../errors.ts";
import type { Notice, WebEnv } from "./context.ts";

export const NOTICE_COOKIE = "fedalign_notice";

/** The string fields of a submitted form (urlencoded or multipart); files are left out. */
export async function formFields(c: Context<WebEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: true });
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") fields[name] = first;
  }
  return fields;
}

/** Every value of a repeated field (checkbox groups, multi-selects). */
export async function formValues(c: Context<WebEnv>, name: string): Promise<string[]> {
  const body = await c.req.parseBody({ all: true });
  const value = body[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((item): item is string => typeof item === "string");
}

/** An uploaded file's text, or undefined when none was chosen. */
export async function formFileText(c: Context<WebEnv>, name: string): Promise<string | undefined> {
  const body = await c.req.parseBody({ all: true });
  const value = body[name];
  const file = Array.isArray(value) ? value[0] : value;
  if (!file || typeof file === "string" || file.size === 0) return undefined;
  return file.text();
}

/**
 * Post/redirect/get: the next page shows `text` once. Without `near` the
 * notice sits at the top of the page. With `near` (the id of the element it
 * is about, e.g. "edit-clause_7") the page opens scrolled to that element
 * (the id is added as the location's fragment) and shows the notice inside
 * it, where the page renders `<NoticeHere id={near} />`: a page that
 * redirects with `near` must render that slot.
 */
export function redirectWithNotice(c: Context<WebEnv>, location: string, text: string, kind: Notice["kind"] = "success", near?: string) {
  const notice: Notice = near ? { kind, text, near } : { kind, text };
  setCookie(c, NOTICE_COOKIE, Buffer.from(JSON.stringify(notice)).toString("base64url"), {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    maxAge: 60,
  });
  const target = near && !location.includes("#") ? `${location}#${encodeURIComponent(near)}` : location;
  return c.redirect(target, 303);
}

/** What an element id the notice points at may look like (clause ids use letters, digits and _ . : -). */
const NEAR_ID = /^[A-Za-z0-9_.:-]{1,300}$/;

export function readNotice(value: string | undefined): Notice | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<Notice>;
    if ((parsed.kind === "success" || parsed.kind === "error") && typeof parsed.text === "string") {
      const near = typeof parsed.near === "string" && NEAR_ID.test(parsed.near) ? parsed.near : undefined;
      return { kind: parsed.kind, text: parsed.text.slice(0, 1000), ...(near ? { near } : {}) };
    }
  } catch {
    // A mangled cookie is just no notice.
  }
  return undefined;
}

/** Empty form fields mean "not given" to the API. */
export function optional(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * A local path to come back to after signing in; anything else is dropped.
 * Browsers read "//host", "/\host" and "/<tab>/host" as another site (they
 * ignore tabs and newlines in URLs and treat a backslash as a slash), and
 * percent-encoding can hide any of these, so the value is checked both as
 * given and decoded, and must come back as a path on this origin.
 */
export function safeNext(value: string | undefined | null): string | undefined {
  if (!value || value.length > 2000 || !value.startsWith("/")) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  for (const form of [value, decoded]) {
    if (form.startsWith("//") || form.includes("\\") || /[\u0000-\u001f\u007f-\u009f]/.test(form)) return undefined;
  }
  const base = "http://next.invalid";
  const url = new URL(value, base);
  if (url.origin !== base) return undefined;
  return url.pathname + url.search + url.hash;
}

/** The path and query of the page being shown: where a button on it comes back to after its post. */
export function currentPath(c: Context<WebEnv>): string {
  const here = new URL(c.req.url);
  return here.pathname + here.search;
}

/**
 * Where to send someone who must sign in first: /login with the page they
 * were on (for a form post, the page the form was on) to come back to.
 */
export function signInPath(c: Context<WebEnv>): string {
  let here: string | undefined;
  if (c.req.method === "GET") {
    const url = new URL(c.req.url);
    here = url.pathname + url.search;
  } else {
    const referer = c.req.header("referer");
    try {
      const from = referer ? new URL(referer) : undefined;
      if (from && from.origin === new URL(c.req.url).origin) here = from.pathname + from.search;
    } catch {
      here = undefined;
    }
  }
  const next = safeNext(here);
  const pointless = !next || next === "/" || /^\/(login|logout|signup|setup)\b/.test(next);
  return pointless ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}

export interface FormProblem {
  status: number;
  title: string;
  detail: string;
}

export type FormOutcome<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; problem: FormProblem; fieldErrors: Record<string, string> };

/**
 * A form submission, validated by the same zod schema the JSON API uses for
 * that use case and then run. A refused field or a refused use case (a
 * FedalignError: not a steward, a conflict...) comes back as what the form
 * shows, with the field paths of the schema ("clauses.0.text"); anything
 * else is a bug and is thrown to the error page.
 */
export async function submitForm<S extends z.ZodType, R>(
  schema: S,
  input: unknown,
  run: (data: z.output<S>) => R | Promise<R>,
): Promise<FormOutcome<Awaited<R>>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  try {
    return { ok: true, data: await run(parsed.data) };
  } catch (error) {
    if (error instanceof ZodError) return invalid(error);
    if (error instanceof FedalignError) {
      const fieldErrors = error instanceof FieldError ? { [error.field]: error.fieldMessage } : {};
      return { ok: false, status: error.status, problem: { status: error.status, title: error.name, detail: error.message }, fieldErrors };
    }
    throw error;
  }
}

function invalid(error: ZodError): FormOutcome<never> {
  const fieldErrors: Record<string, string> = {};
  for (const issue of error.issues) fieldErrors[issue.path.map(String).join(".")] ??= issue.message;
  const detail = Object.entries(fieldErrors)
    .map(([path, message]) => (path ? `${path}: ${message}` : message))
    .join("; ");
  return { ok: false, status: 400, problem: { status: 400, title: "Invalid input", detail }, fieldErrors };
}
