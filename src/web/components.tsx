/**
 * Building blocks for forms and pages. Every field has a visible label, its
 * error is linked with aria-describedby and shown right under it, and every
 * state-changing form carries the CSRF token.
 */
import type { Child } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import type { Notice, WebEnv } from "./context.ts";
import { signInPath } from "./forms.ts";
import { sanitizeRemoteHtml } from "../remote-html.ts";

export function CsrfField() {
  const c = useRequestContext<WebEnv>();
  return <input type="hidden" name="csrf" value={c.get("csrf")} />;
}

/**
 * A POST form with the CSRF token; `stacked` lays fields out one per line.
 * `anchor` is the id of the block the form lives in: it is the action's
 * fragment, so when the answer is the page again with this form's errors,
 * the browser opens it scrolled to the block (no script needed) instead of
 * at the top of a long page. A redirect whose location has no fragment of
 * its own keeps this one (browsers carry it over), so answer success with
 * redirectWithNotice(..., near) to the same page, or leave `anchor` out.
 */
export function PostForm(props: {
  action: string;
  children?: Child;
  class?: string;
  enctype?: "multipart/form-data";
  label?: string;
  anchor?: string;
}) {
  const action = props.anchor ? `${props.action}#${encodeURIComponent(props.anchor)}` : props.action;
  return (
    <form method="post" action={action} class={props.class ?? "stacked"} enctype={props.enctype} aria-label={props.label}>
      <CsrfField />
      {props.children}
    </form>
  );
}

/** A one-button form, e.g. "Unfollow" or "Publish". */
export function ActionButton(props: { action: string; label: string; fields?: Record<string, string>; variant?: "secondary" | "danger" }) {
  return (
    <form method="post" action={props.action} class="inline">
      <CsrfField />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.variant}>
        {props.label}
      </button>
    </form>
  );
}

interface FieldBase {
  name: string;
  label: string;
  /** The message shown under the field; also marks it aria-invalid. */
  error?: string;
  hint?: string;
  required?: boolean;
  /** Defaults to the name; must be unique on the page. */
  id?: string;
}

function FieldFrame(props: FieldBase & { children?: Child }) {
  const id = props.id ?? props.name;
  return (
    <div class="field">
      <label for={id}>
        {props.label}
        {props.required ? <span class="muted"> (required)</span> : null}
      </label>
      {props.hint ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      {props.children}
      {props.error ? (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(props: FieldBase): string | undefined {
  const id = props.id ?? props.name;
  const ids = [props.hint ? `${id}-hint` : "", props.error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function Field(
  props: FieldBase & { type?: string; value?: string | number; autocomplete?: string; placeholder?: string; min?: number; max?: number; step?: string },
) {
  const id = props.id ?? props.name;
  return (
    <FieldFrame {...props}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value === undefined ? undefined : String(props.value)}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        step={props.step}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(props)}
      />
    </FieldFrame>
  );
}

export function TextArea(props: FieldBase & { value?: string; rows?: number }) {
  const id = props.id ?? props.name;
  return (
    <FieldFrame {...props}>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 5}
        required={props.required}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy(props)}
      >
        {props.value ?? ""}
      </textarea>
    </FieldFrame>
  );
}

export function Select(props: FieldBase & { options: (string | { value: string; label: string })[]; value?: string }) {
  const id = props.id ?? props.name;
  return (
    <FieldFrame {...props}>
      <select id={id} name={props.name} required={props.required} aria-invalid={props.error ? "true" : undefined} aria-describedby={describedBy(props)}>
        {props.options.map((option) => {
          const { value, label } = typeof option === "string" ? { value: option, label: option } : option;
          return (
            <option value={value} selected={value === props.value}>
              {label}
            </option>
          );
        })}
      </select>
    </FieldFrame>
  );
}

/** A field's problem as a failed form's summary lists it: the field's id (to link to), its label and the message. */
export interface FieldProblem {
  id: string;
  label: string;
  message: string;
}

/**
 * The summary of a failed submission, at the top of its form: the message,
 * and with `fields` a list of the fields to fix, each a link to the field
 * (whose own message sits beside it), so a long form's problem is in view.
 */
export function FormError(props: { message?: string; fields?: FieldProblem[] }) {
  const fields = props.fields ?? [];
  if (!props.message && fields.length === 0) return null;
  return (
    <div class="notice notice-error form-error" role="alert">
      <p>{props.message ?? (fields.length === 1 ? "Not saved: one field needs a change." : `Not saved: ${fields.length} fields need a change.`)}</p>
      {fields.length ? (
        <ul>
          {fields.map((field) => (
            <li>
              <a href={`#${field.id}`}>{field.label}</a>: {field.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** A one-shot notice (what the last form did), as the layout or NoticeHere shows it. */
export function NoticeBox(props: { notice: Notice }) {
  return (
    <p class={`notice notice-${props.notice.kind}`} role={props.notice.kind === "error" ? "alert" : "status"}>
      {props.notice.text}
    </p>
  );
}

/**
 * Where a notice about this block appears: the last request's notice when it
 * was left `near` this id (redirectWithNotice), else nothing.
 */
export function NoticeHere(props: { id: string }) {
  const notice = useRequestContext<WebEnv>().get("notice");
  return notice?.near === props.id ? <NoticeBox notice={notice} /> : null;
}

/** HTML from another instance, sanitised; never pass it anywhere else raw. */
export function RemoteHtml(props: { html: string; class?: string }) {
  return <div class={`remote-content ${props.class ?? ""}`.trim()} dangerouslySetInnerHTML={{ __html: sanitizeRemoteHtml(props.html) }} />;
}

export function DateTime(props: { value: Date | string | null | undefined }) {
  if (!props.value) return null;
  const date = typeof props.value === "string" ? new Date(props.value) : props.value;
  return <time datetime={date.toISOString()}>{date.toISOString().slice(0, 16).replace("T", " ")} UTC</time>;
}

/** A section heading with an optional count, e.g. "Members (3)". */
export function SectionTitle(props: { children?: Child; count?: number; id?: string }) {
  return (
    <h2 id={props.id}>
      {props.children}
      {props.count === undefined ? null : <span class="muted"> ({props.count})</span>}
    </h2>
  );
}

/** "Sign in" that comes back to this page afterwards. */
export function SignInLink(props: { children?: Child }) {
  const c = useRequestContext<WebEnv>();
  return <a href={signInPath(c)}>{props.children ?? "Sign in"}</a>;
}

/**
 * Previous and next links between the pages of a long list. A counted list
 * passes `pages` and also says where the reader is ("Page 2 of 5"); a list
 * read newest first without a count (the feed, notifications) passes `more`
 * and words of time ("Newer", "Older"). `href(page)` keeps the list's other
 * query parameters. Nothing is shown when there is nowhere to go.
 */
/** The pager's words for lists read newest first. */
export const NEWER_OLDER = ["Newer", "Older"] as const;

export function Pager(props: { page: number; href: (page: number) => string; label: string; pages?: number; more?: boolean; words?: readonly [string, string] }) {
  const { page, pages } = props;
  const hasNext = props.more ?? (pages !== undefined && page < pages);
  if (page <= 1 && !hasNext) return null;
  const [previous, next] = props.words ?? ["← Previous page", "Next page →"];
  return (
    <nav class="pager" aria-label={props.label}>
      {page > 1 ? (
        <a href={props.href(page - 1)} rel="prev">
          {previous}
        </a>
      ) : null}
      {pages !== undefined ? (
        <span>
          Page {page} of {pages}
        </span>
      ) : null}
      {hasNext ? (
        <a href={props.href(page + 1)} rel="next">
          {next}
        </a>
      ) : null}
    </nav>
  );
}
