/**
 * Annotations on policy clauses: what anyone in the fediverse says about a
 * clause (or a whole version), and how it travels. Pure functions only; the
 * database and the inbox build on them.
 *
 * - **Input** (`annotationInputSchema`, `parseAnnotationInput`): what our API
 *   accepts. The annotation text is plain text (blank lines separate
 *   paragraphs), not Markdown: it must read the same whether it was written
 *   here or arrived as a Mastodon reply. `suggestedText`, for a suggested
 *   edit, is clause text and therefore Markdown; it replaces the quoted span
 *   when there is a quote, the whole clause text otherwise.
 *
 * - **Anchoring** (`selectorFor`, `anchor`, `isOutdated`): a quote is kept as
 *   a W3C Web Annotation TextQuoteSelector (exact text plus up to 32
 *   characters of context either side) over the clause's Markdown source.
 *   An annotation survives new versions: it follows its clause by id, and is
 *   outdated once the clause is gone or the quoted text no longer occurs in
 *   it. Matching ignores differences in whitespace (runs of spaces, tabs and
 *   newlines count as one space); anything else that changed the quoted
 *   words makes it outdated, on purpose: a comment on words that are no longer
 *   there should say so rather than float onto other words.
 *
 * - **Wire format** (`buildAnnotationNote`, `parseAnnotationNote`): an
 *   annotation is an ActivityStreams `Note` replying (`inReplyTo`) to the
 *   clause, so Mastodon and others show it as a reply with readable HTML.
 *   Our structured fields sit beside the standard ones, with their terms
 *   defined inline in `@context` (`ANNOTATION_CONTEXT`), so receivers never
 *   fetch a context document:
 *     - `motivation` is `oa:motivatedBy`, valued with an IRI: the Web
 *       Annotation motivation where one means the same (`oa:commenting`,
 *       `oa:questioning`, `oa:editing`), ours where none does
 *       (`fedalign:endorsing` and `fedalign:objecting`, both narrower than
 *       `oa:assessing`; `fedalign:contextualising`, narrower than
 *       `oa:describing`). Written as compact IRIs; full IRIs are read too.
 *     - `selector` is `oa:hasSelector` with a proper `oa:TextQuoteSelector`
 *       node (`exact`, `prefix`, `suffix`), not a JSON literal, so Web
 *       Annotation tools can read it as RDF. Empty `prefix`/`suffix` (a quote
 *       at the very start or end of the clause) are left out, as the model
 *       allows.
 *     - `clause` (the clause id, a plain string), `annotates` (the version
 *       IRI), `policy` (the policy IRI, reused from the version document) and
 *       `suggestedText` are in Fedalign's namespace.
 *     - The annotation text itself travels in the standard AS2 `source`
 *       (`{ content, mediaType: "text/plain" }`), so a receiver gets exactly
 *       what was typed rather than text scraped back out of HTML.
 *
 * `parseAnnotationNote` also takes a plain reply from Mastodon (or any
 * software) to a clause, version or policy: it becomes a "comment" with the
 * HTML turned back into text. It reads the compact form we (and Mastodon)
 * send, keyed by term names, and recognises our terms only when the Note's
 * `@context` declares Fedalign's namespace; it does no JSON-LD expansion.
 */
import { z } from "../zod.ts";
import { InvalidInputError } from "../errors.ts";
import { escapeHtml, isHttpUrl, textToHtml } from "../text.ts";
import { BLOCK_TAGS, remoteHtmlStructure, sanitizeRemoteHtml } from "../remote-html.ts";
import { clauseIdSchema } from "./content.ts";
import { renderMarkdown } from "./render.ts";
import { FEDALIGN_CONTEXT, FEDALIGN_NAMESPACE, PUBLIC_AUDIENCE } from "./version-document.ts";

// ---------------------------------------------------------------------------
// Domain

export const MOTIVATIONS = ["comment", "question", "endorse", "object", "suggest-edit", "context-note"] as const;
export type Motivation = (typeof MOTIVATIONS)[number];

/** Short labels, as shown at the head of a federated annotation. */
export const MOTIVATION_LABELS: Readonly<Record<Motivation, string>> = {
  comment: "Comment",
  question: "Question",
  endorse: "Endorsement",
  object: "Objection",
  "suggest-edit": "Suggested edit",
  "context-note": "Context note",
};

export const OA_NAMESPACE = "http://www.w3.org/ns/oa#";

/** The `oa:motivatedBy` value of each motivation, as a compact IRI under ANNOTATION_CONTEXT. */
export const MOTIVATION_TERMS: Readonly<Record<Motivation, string>> = {
  comment: "oa:commenting",
  question: "oa:questioning",
  endorse: "fedalign:endorsing",
  object: "fedalign:objecting",
  "suggest-edit": "oa:editing",
  "context-note": "fedalign:contextualising",
};

/** The full IRI of a motivation. */
export function motivationIri(motivation: Motivation): string {
  return expandCompact(MOTIVATION_TERMS[motivation]);
}

export const ANNOTATION_TEXT_MAX = 5000;
export const QUOTE_MAX = 1000;
/** Suggested clause text can be as long as a long clause. */
export const SUGGESTED_TEXT_MAX = 20_000;
/** Characters of context kept either side of a quote. */
export const SELECTOR_CONTEXT_LENGTH = 32;

/** A W3C Web Annotation TextQuoteSelector over a clause's Markdown text; prefix and suffix may be "". */
export interface TextQuoteSelector {
  exact: string;
  prefix: string;
  suffix: string;
}

// ---------------------------------------------------------------------------
// Input through our API

function requiredString(what: string) {
  return z.string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`) });
}

const motivationSchema = z.enum(MOTIVATIONS, {
  error: (issue) =>
    issue.input === undefined
      ? `motivation is required; use one of ${MOTIVATIONS.join(", ")}`
      : `unknown motivation ${JSON.stringify(issue.input)}; use one of ${MOTIVATIONS.join(", ")}`,
});

/**
 * The body of "annotate this clause". Checks shape and lengths, and that
 * `suggestedText` comes with (and only with) a suggested edit. Whether the
 * clause exists and the quote occurs in it needs the clause:
 * `parseAnnotationInput` checks that too.
 */
export const annotationInputSchema = z
  .object({
    clauseId: clauseIdSchema,
    motivation: motivationSchema,
    text: requiredString("text")
      .trim()
      .min(1, "must not be empty")
      .max(ANNOTATION_TEXT_MAX, `must be at most ${ANNOTATION_TEXT_MAX} characters`),
    /** A span of the clause text to anchor to; whitespace may differ from the clause's. */
    quote: requiredString("quote")
      .trim()
      .min(1, "must not be empty; leave quote out to annotate the whole clause")
      .max(QUOTE_MAX, `must be at most ${QUOTE_MAX} characters`)
      .optional(),
    /** Markdown replacing the quote, or the whole clause text without one. Only for "suggest-edit". */
    suggestedText: requiredString("suggestedText")
      .trim()
      .min(1, "must not be empty")
      .max(SUGGESTED_TEXT_MAX, `must be at most ${SUGGESTED_TEXT_MAX} characters`)
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.motivation === "suggest-edit" && value.suggestedText === undefined) {
      ctx.addIssue({ code: "custom", path: ["suggestedText"], message: 'is required when the motivation is "suggest-edit"' });
    }
    if (value.motivation !== "suggest-edit" && value.suggestedText !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["suggestedText"],
        message: `is only allowed when the motivation is "suggest-edit" (this one is "${value.motivation}")`,
      });
    }
  })
  .openapi("AnnotationInput");
export type AnnotationInput = z.output<typeof annotationInputSchema>;

export type AnnotationInputResult =
  | { ok: true; annotation: AnnotationInput; selector: TextQuoteSelector | null }
  | { ok: false; issues: { path: string; message: string }[] };

/**
 * Validates an annotation against the version it is for: `clauseText` gives
 * the Markdown text of a clause of that version, or undefined if it has no
 * such clause. On success, also the selector for the quote (null without
 * one). Issues come as parsePolicyContent gives them.
 */
export function parseAnnotationInput(input: unknown, clauseText: (clauseId: string) => string | undefined): AnnotationInputResult {
  const result = annotationInputSchema.safeParse(input);
  if (!result.success) {
    return { ok: false, issues: result.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })) };
  }
  const annotation = result.data;
  const text = clauseText(annotation.clauseId);
  if (text === undefined) {
    return { ok: false, issues: [{ path: "clauseId", message: `this version has no clause "${annotation.clauseId}"` }] };
  }
  const span = annotation.quote === undefined ? null : findQuote(text, annotation.quote);
  if (annotation.quote !== undefined && !span) {
    return {
      ok: false,
      issues: [{ path: "quote", message: `does not occur in the text of clause "${annotation.clauseId}" (quote its Markdown text; whitespace may differ)` }],
    };
  }
  const selector = span ? selectorAt(text, span.start, span.end) : null;
  if (annotation.suggestedText !== undefined) {
    const current = selector ? selector.exact : text;
    if (collapseWhitespace(annotation.suggestedText.trim()) === collapseWhitespace(current.trim())) {
      return {
        ok: false,
        issues: [{ path: "suggestedText", message: selector ? "is the same as the quoted text" : "is the same as the clause text" }],
      };
    }
  }
  return { ok: true, annotation, selector };
}

// ---------------------------------------------------------------------------
// Text-quote selectors

/** Runs of whitespace as one space. */
function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ");
}

/** Text with whitespace runs collapsed, and for each of its characters the [start, end) it covers in the original. */
interface Collapsed {
  text: string;
  starts: number[];
  ends: number[];
}

function collapseWithMap(original: string): Collapsed {
  let text = "";
  const starts: number[] = [];
  const ends: number[] = [];
  for (const match of original.matchAll(/\s+|\S+/g)) {
    const at = match.index;
    if (/^\s/.test(match[0])) {
      text += " ";
      starts.push(at);
      ends.push(at + match[0].length);
    } else {
      text += match[0];
      for (let i = 0; i < match[0].length; i++) {
        starts.push(at + i);
        ends.push(at + i + 1);
      }
    }
  }
  return { text, starts, ends };
}

/** Where each occurrence of `needle` (already collapsed) starts in the collapsed haystack; overlaps included. */
function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  if (needle === "") return found;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** The span in the original text of the collapsed range [from, from + length). */
function originalSpan(collapsed: Collapsed, from: number, length: number): { start: number; end: number } {
  return { start: collapsed.starts[from]!, end: collapsed.ends[from + length - 1]! };
}

/** The first occurrence of the (trimmed) quote, whitespace-tolerant, as a span of the clause text. */
function findQuote(clauseText: string, quote: string): { start: number; end: number } | null {
  const needle = collapseWhitespace(quote.trim());
  const collapsed = collapseWithMap(clauseText);
  const [first] = occurrences(collapsed.text, needle);
  return first === undefined ? null : originalSpan(collapsed, first, needle.length);
}

/** Up to `length` UTF-16 units, never starting or ending inside a surrogate pair. */
function contextBefore(text: string, start: number): string {
  let from = Math.max(0, start - SELECTOR_CONTEXT_LENGTH);
  if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from++;
  return text.slice(from, start);
}

function contextAfter(text: string, end: number): string {
  let to = Math.min(text.length, end + SELECTOR_CONTEXT_LENGTH);
  if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to--;
  return text.slice(end, to);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function selectorAt(clauseText: string, start: number, end: number): TextQuoteSelector {
  return { exact: clauseText.slice(start, end), prefix: contextBefore(clauseText, start), suffix: contextAfter(clauseText, end) };
}

/**
 * The selector for a quote from a clause's (Markdown) text: `exact` is the
 * span as it stands in the clause, which may differ from the quote in
 * whitespace; the quote is trimmed first. `prefix` and `suffix` hold up to 32
 * characters either side ("" at the start or end of the text). If the quote
 * occurs several times this selects the FIRST occurrence: to annotate a later
 * one, quote a longer span that is unique. Throws InvalidInputError if the
 * quote is empty or does not occur.
 */
export function selectorFor(clauseText: string, quote: string): TextQuoteSelector {
  if (quote.trim() === "") throw new InvalidInputError("The quote is empty: quote some words of the clause, or none to annotate the whole clause.");
  const span = findQuote(clauseText, quote);
  if (!span) {
    const shown = quote.trim().length > 60 ? `${quote.trim().slice(0, 59)}…` : quote.trim();
    throw new InvalidInputError(`The quote "${shown}" does not occur in the clause text.`);
  }
  return selectorAt(clauseText, span.start, span.end);
}

export type Anchor = { found: true; start: number; end: number } | { found: false };

/** How many characters at the end of `a` and of `b` agree. */
function commonTail(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** How many characters at the start of `a` and of `b` agree. */
function commonHead(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * Finds the quoted span in a clause's current text: [start, end) in
 * `clauseText`. Whitespace differences do not matter. If `exact` occurs
 * several times, the occurrence whose surroundings agree with the most
 * characters of `prefix` and `suffix` wins; on a tie, the first. Not found
 * when `exact` no longer occurs (or is empty).
 */
export function anchor(clauseText: string, selector: TextQuoteSelector): Anchor {
  const exact = collapseWhitespace(selector.exact);
  if (exact.trim() === "") return { found: false };
  const collapsed = collapseWithMap(clauseText);
  const candidates = occurrences(collapsed.text, exact);
  if (candidates.length === 0) return { found: false };
  const prefix = collapseWhitespace(selector.prefix);
  const suffix = collapseWhitespace(selector.suffix);
  let best = candidates[0]!;
  let bestScore = -1;
  for (const at of candidates) {
    const before = collapsed.text.slice(Math.max(0, at - prefix.length), at);
    const after = collapsed.text.slice(at + exact.length, at + exact.length + suffix.length);
    const score = commonTail(before, prefix) + commonHead(after, suffix);
    if (score > bestScore) {
      best = at;
      bestScore = score;
    }
  }
  return { found: true, ...originalSpan(collapsed, best, exact.length) };
}

/**
 * Whether an annotation no longer fits its clause in some version: the
 * clause is gone (`clauseTextNow` undefined), or the annotation quotes a span
 * that no longer occurs. Without a quote, only a gone clause makes it
 * outdated.
 */
export function isOutdated(selector: TextQuoteSelector | null, clauseTextNow: string | undefined): boolean {
  if (clauseTextNow === undefined) return true;
  if (selector === null) return false;
  return !anchor(clauseTextNow, selector).found;
}

// ---------------------------------------------------------------------------
// Wire format

/** Our terms, inline. Reuses the version document's terms (for `policy` and the namespace). */
export const ANNOTATION_TERMS = {
  ...FEDALIGN_CONTEXT,
  oa: OA_NAMESPACE,
  motivation: { "@id": "oa:motivatedBy", "@type": "@id" },
  selector: { "@id": "oa:hasSelector" },
  TextQuoteSelector: "oa:TextQuoteSelector",
  exact: "oa:exact",
  prefix: "oa:prefix",
  suffix: "oa:suffix",
  clause: "fedalign:clause",
  annotates: { "@id": "fedalign:annotates", "@type": "@id" },
  suggestedText: "fedalign:suggestedText",
} as const;

export const ANNOTATION_CONTEXT = ["https://www.w3.org/ns/activitystreams", ANNOTATION_TERMS] as const;

const PREFIXES: Record<string, string> = { oa: OA_NAMESPACE, fedalign: FEDALIGN_NAMESPACE };

function expandCompact(value: string): string {
  const colon = value.indexOf(":");
  const prefix = PREFIXES[value.slice(0, colon)];
  return colon > 0 && prefix ? prefix + value.slice(colon + 1) : value;
}

export interface Mention {
  /** The actor's IRI. */
  href: string;
  /** "@user@host". */
  name: string;
}

export interface AnnotationNoteInput {
  /** The Note's IRI. */
  id: string;
  /** The annotating actor's IRI. */
  author: string;
  /** The IRI the Note replies to. */
  clauseIri: string;
  versionIri: string;
  policyIri: string;
  clauseId: string;
  motivation: Motivation;
  /** Plain text. */
  text: string;
  selector?: TextQuoteSelector | null;
  /** Markdown; required for (and only for) "suggest-edit". */
  suggestedText?: string | null;
  published: Date;
  updated?: Date | null;
  to: string[];
  cc: string[];
  /** Actors to notify (typically the community that owns the policy); linked at the start of the content, as Mastodon does. */
  mentions?: Mention[];
}


/** A link (its URL as a browser reads it, escaped), or plain text if the URL is not http(s). */
function link(href: string, html: string, attrs = ""): string {
  return isHttpUrl(href) ? `<a href="${escapeHtml(new URL(href).href)}"${attrs}>${html}</a>` : html;
}

/** "@nurses@a.example" shown as "@nurses", in the markup Mastodon uses for mentions. */
function mentionHtml(mention: Mention): string {
  const user = mention.name.replace(/^@/, "").split("@")[0] || mention.name;
  return `<span class="h-card">${link(mention.href, `@<span>${escapeHtml(user)}</span>`, ' class="u-url mention"')}</span>`;
}

/** Readable HTML for software that shows `content` (Mastodon and the rest). */
function annotationHtml(input: AnnotationNoteInput): string {
  const selector = input.selector ?? null;
  const mentions = (input.mentions ?? []).map(mentionHtml).join(" ");
  const head = `${mentions ? `${mentions} ` : ""}<strong>${escapeHtml(MOTIVATION_LABELS[input.motivation])}</strong> on clause ${link(
    input.clauseIri,
    escapeHtml(input.clauseId),
  )}${selector ? ":" : ""}`;
  const parts = [`<p>${head}</p>`];
  if (selector) parts.push(`<blockquote>${textToHtml(selector.exact)}</blockquote>`);
  parts.push(textToHtml(input.text));
  if (input.suggestedText) {
    const what = selector ? "Suggested replacement for the quoted text" : "Suggested text for the clause";
    parts.push(`<p><strong>${what}:</strong></p>`, `<blockquote>${renderMarkdown(input.suggestedText, { federated: true })}</blockquote>`);
  }
  return parts.join("");
}

function selectorNode(selector: TextQuoteSelector): Record<string, string> {
  return {
    type: "TextQuoteSelector",
    exact: selector.exact,
    ...(selector.prefix ? { prefix: selector.prefix } : {}),
    ...(selector.suffix ? { suffix: selector.suffix } : {}),
  };
}

/**
 * The Note that carries an annotation. Deterministic: the same input gives
 * the same document, key order included. The content is built from escaped
 * text and sanitised Markdown only. Throws if `suggestedText` is missing for
 * a suggested edit or given for anything else (the API never lets that
 * through). Addressing is the caller's: a Note not addressed to the public is
 * not taken as an annotation by `parseAnnotationNote`.
 */
export function buildAnnotationNote(input: AnnotationNoteInput): Record<string, unknown> {
  const suggestedText = input.suggestedText ?? null;
  if ((input.motivation === "suggest-edit") !== (suggestedText !== null)) {
    throw new Error(`suggestedText must be given exactly when the motivation is "suggest-edit" (motivation: ${input.motivation})`);
  }
  const selector = input.selector ?? null;
  const mentions = input.mentions ?? [];
  return {
    "@context": ANNOTATION_CONTEXT,
    id: input.id,
    type: "Note",
    attributedTo: input.author,
    inReplyTo: input.clauseIri,
    content: annotationHtml(input),
    source: { content: input.text, mediaType: "text/plain" },
    published: input.published.toISOString(),
    ...(input.updated ? { updated: input.updated.toISOString() } : {}),
    to: input.to,
    cc: input.cc,
    ...(mentions.length ? { tag: mentions.map((mention) => ({ type: "Mention", href: mention.href, name: mention.name })) } : {}),
    motivation: MOTIVATION_TERMS[input.motivation],
    policy: input.policyIri,
    annotates: input.versionIri,
    clause: input.clauseId,
    ...(selector ? { selector: selectorNode(selector) } : {}),
    ...(suggestedText !== null ? { suggestedText } : {}),
  };
}

// ---------------------------------------------------------------------------
// Parsing what arrives

export interface AnnotationLookup {
  /** A clause IRI we know (local, or of a policy we mirror). */
  clauseFromIri(iri: string): Promise<{ versionIri: string; policyIri: string; clauseId: string } | undefined>;
  /** A version IRI we know; the caller may also map a policy IRI (or article URL) to its head version. */
  versionFromIri(iri: string): Promise<{ versionIri: string; policyIri: string } | undefined>;
}

export interface ParsedAnnotation {
  noteId: string;
  author: string;
  versionIri: string;
  policyIri: string;
  /** Null for a reply to the whole version. */
  clauseId: string | null;
  motivation: Motivation;
  /** Plain text, trimmed. */
  text: string;
  selector: TextQuoteSelector | null;
  suggestedText: string | null;
  published: Date;
  updated: Date | null;
  /** The Note's content HTML, sanitised (Mastodon's tags; http(s) links only): safe to show. */
  sourceHtml: string;
  /** "fedalign" when the Note carried our terms, "plain" for an ordinary reply. */
  format: "fedalign" | "plain";
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** IRIs of a property that holds an IRI, an object with an id, or an array of either. */
function iris(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) => {
    if (typeof item === "string") return [item];
    if (isRecord(item) && typeof item.id === "string") return [item.id];
    return [];
  });
}

function hasType(value: unknown, ...names: string[]): boolean {
  const types = Array.isArray(value) ? value : [value];
  return types.some((type) => typeof type === "string" && names.includes(type));
}

/** Whether the `@context` defines a term as Fedalign's namespace (so our terms mean what we mean). */
function declaresFedalign(context: unknown): boolean {
  const entries = Array.isArray(context) ? context : [context];
  return entries.some((entry) => isRecord(entry) && Object.values(entry).includes(FEDALIGN_NAMESPACE));
}

const PUBLIC_ADDRESSES = [PUBLIC_AUDIENCE, "as:Public", "Public"];

function isPublic(note: Json): boolean {
  return [...iris(note.to), ...iris(note.cc)].some((iri) => PUBLIC_ADDRESSES.includes(iri));
}

const isoDate = z.iso.datetime({ offset: true });

function parseDate(value: unknown): Date | null {
  return isoDate.safeParse(value).success ? new Date(value as string) : null;
}

/** The content HTML: `content`, else the first entry of `contentMap`. */
function contentHtml(note: Json): string {
  if (typeof note.content === "string") return note.content;
  if (isRecord(note.contentMap)) {
    const first = Object.values(note.contentMap).find((value) => typeof value === "string");
    if (typeof first === "string") return first;
  }
  return "";
}

const receivedSelectorSchema = z.object({
  type: z.unknown().refine((type) => hasType(type, "TextQuoteSelector", "oa:TextQuoteSelector", `${OA_NAMESPACE}TextQuoteSelector`), {
    message: "must be a TextQuoteSelector",
  }),
  exact: z.string().min(1, "must not be empty").max(QUOTE_MAX, `must be at most ${QUOTE_MAX} characters`),
  prefix: z.string().max(QUOTE_MAX).default(""),
  suffix: z.string().max(QUOTE_MAX).default(""),
});

/** Our terms as they arrive; everything else in the Note is read separately or ignored. */
const receivedTermsSchema = z.object({
  motivation: z.string().optional(),
  clause: clauseIdSchema.optional(),
  annotates: z.string().refine(isHttpUrl, "must be an http(s) IRI").optional(),
  policy: z.string().refine(isHttpUrl, "must be an http(s) IRI").optional(),
  selector: receivedSelectorSchema.optional(),
  suggestedText: z.string().trim().max(SUGGESTED_TEXT_MAX, `must be at most ${SUGGESTED_TEXT_MAX} characters`).optional(),
  source: z.object({ content: z.string(), mediaType: z.string().optional() }).optional(),
});

function motivationFromWire(value: string | undefined): Motivation | undefined {
  if (value === undefined) return undefined;
  const iri = expandCompact(value);
  return MOTIVATIONS.find((motivation) => motivationIri(motivation) === iri);
}

/**
 * Reads a Note that may be an annotation. Accepts our own Notes (with our
 * terms, checked) and plain replies, as Mastodon sends them, to a clause,
 * version or policy we know (a plain reply is a "comment"; replying to a
 * version or policy gives `clauseId` null). Returns `{ ignored: reason }` for
 * anything else: not a Note; no http(s) `id` or `attributedTo`, or the two on
 * different origins (an actor speaks only for itself; the caller must still
 * check that the activity's signer is the author); not addressed to the public
 * (a direct or followers-only reply must not become a public annotation); no
 * valid `published`; no `inReplyTo` we know; invalid or inconsistent terms
 * of ours; an empty text or one over 5000 characters.
 *
 * A Note of ours that replies to a version or policy but names a `clause`
 * is taken as being on that clause; whether the version has it is the
 * caller's to check (`isOutdated` with the clause text, or undefined).
 *
 * Leniency: an unknown or missing motivation in a Note of ours is read as
 * "comment" (a newer Fedalign may have more motivations), and `suggestedText`
 * is dropped unless the motivation is "suggest-edit".
 */
export async function parseAnnotationNote(json: unknown, lookup: AnnotationLookup): Promise<ParsedAnnotation | { ignored: string }> {
  if (!isRecord(json)) return { ignored: "not a JSON object" };
  if (!hasType(json.type, "Note")) return { ignored: "not a Note" };
  const noteId = typeof json.id === "string" && isHttpUrl(json.id) ? json.id : null;
  if (!noteId) return { ignored: "the Note has no http(s) id" };
  const author = iris(json.attributedTo).find(isHttpUrl);
  if (!author) return { ignored: "the Note has no attributedTo" };
  if (new URL(author).origin !== new URL(noteId).origin) {
    return { ignored: `the Note ${noteId} is not on the origin of its author ${author}` };
  }
  if (!isPublic(json)) return { ignored: "the Note is not addressed to the public" };
  const published = parseDate(json.published);
  if (!published) return { ignored: "the Note has no valid published date" };
  const updated = json.updated === undefined || json.updated === null ? null : parseDate(json.updated);

  const replyTargets = iris(json.inReplyTo);
  let target: { versionIri: string; policyIri: string; clauseId: string | null } | undefined;
  for (const iri of replyTargets) {
    target = (await lookup.clauseFromIri(iri)) ?? withNullClause(await lookup.versionFromIri(iri));
    if (target) break;
  }
  if (!target) {
    return { ignored: replyTargets.length ? `inReplyTo ${replyTargets.join(", ")} is no clause, version or policy we know` : "the Note replies to nothing" };
  }

  const html = contentHtml(json);
  const sourceHtml = sanitizeRemoteHtml(html);
  let result: ParsedAnnotation;

  if (declaresFedalign(json["@context"])) {
    const parsed = receivedTermsSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ");
      return { ignored: `invalid Fedalign annotation terms: ${detail}` };
    }
    const terms = parsed.data;
    if (terms.annotates !== undefined && terms.annotates !== target.versionIri) {
      const annotated = await lookup.versionFromIri(terms.annotates);
      if (!annotated) return { ignored: `annotates ${terms.annotates}, a version we do not know` };
      // A reply to a clause fixes the version; a reply to a policy may name any of its versions.
      if (target.clauseId !== null || annotated.policyIri !== target.policyIri) {
        return { ignored: `annotates ${terms.annotates} but replies to ${replyTargets.join(", ")}` };
      }
      target = { ...annotated, clauseId: null };
    }
    if (terms.policy !== undefined && terms.policy !== target.policyIri) {
      return { ignored: `names policy ${terms.policy} but replies to one of ${target.policyIri}` };
    }
    if (terms.clause !== undefined) {
      if (target.clauseId !== null && terms.clause !== target.clauseId) {
        return { ignored: `names clause "${terms.clause}" but replies to clause "${target.clauseId}"` };
      }
      target = { ...target, clauseId: terms.clause };
    }
    const selector = terms.selector ? { exact: terms.selector.exact, prefix: terms.selector.prefix, suffix: terms.selector.suffix } : null;
    if (selector && target.clauseId === null) return { ignored: "quotes text but names no clause" };
    const motivation = motivationFromWire(terms.motivation) ?? "comment";
    const suggestedText = motivation === "suggest-edit" ? terms.suggestedText || null : null;
    if (motivation === "suggest-edit" && suggestedText === null) return { ignored: "a suggested edit without suggestedText" };
    const typed = terms.source && (terms.source.mediaType === undefined || terms.source.mediaType === "text/plain") ? terms.source.content : undefined;
    result = {
      noteId,
      author,
      ...target,
      motivation,
      text: typed ?? htmlToText(html, { dropLeadingMentions: true }),
      selector,
      suggestedText,
      published,
      updated,
      sourceHtml,
      format: "fedalign",
    };
  } else {
    result = {
      noteId,
      author,
      ...target,
      motivation: "comment",
      text: htmlToText(html, { dropLeadingMentions: true }),
      selector: null,
      suggestedText: null,
      published,
      updated,
      sourceHtml,
      format: "plain",
    };
  }
  const text = result.text.trim();
  if (text === "") return { ignored: "the Note has no text" };
  if (text.length > ANNOTATION_TEXT_MAX) return { ignored: `the text is longer than ${ANNOTATION_TEXT_MAX} characters (${text.length})` };
  return { ...result, text };
}

function withNullClause(found: { versionIri: string; policyIri: string } | undefined) {
  return found ? { versionIri: found.versionIri, policyIri: found.policyIri, clauseId: null } : undefined;
}

// ---------------------------------------------------------------------------
// HTML from the fediverse

function decodeEscapes(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

/**
 * Plain text from a Note's HTML: tags stripped, entities decoded, `<br>` a
 * newline, paragraphs and other blocks separated by a blank line, list items
 * on lines of their own starting "- ". Mastodon's shortened links give their
 * full URL back, mentions and hashtags their "@name" / "#tag" text. With
 * `dropLeadingMentions`, mention links before any other text are left out:
 * Mastodon puts the mention of whoever is replied to (here, the community)
 * there by itself. Mentions further on stay.
 */
export function htmlToText(html: string, options: { dropLeadingMentions?: boolean } = {}): string {
  // After sanitising, "<" and ">" occur only in tags, so a regular expression can read them.
  const clean = remoteHtmlStructure(html);
  const out: string[] = [];
  let started = false;
  let skipping = false;
  let inPre = 0;
  for (const match of clean.matchAll(/<(\/?)([a-z0-9]+)([^>]*)>|([^<]+)/gi)) {
    const [, slash, name, attrs, textPart] = match;
    if (textPart !== undefined) {
      if (skipping) continue;
      const text = inPre > 0 ? decodeEscapes(textPart) : decodeEscapes(textPart).replace(/\s+/g, " ");
      if (text.trim()) started = true;
      out.push(text);
      continue;
    }
    const tag = name!.toLowerCase();
    const closing = slash === "/";
    if (tag === "a") {
      const classes = (/class="([^"]*)"/.exec(attrs ?? "")?.[1] ?? "").split(/\s+/);
      if (closing) skipping = false;
      else if (options.dropLeadingMentions && !started && classes.includes("mention") && !classes.includes("hashtag")) skipping = true;
    } else if (tag === "br") {
      out.push("\n");
    } else if (tag === "li") {
      if (!closing) out.push("\n- ");
    } else if (BLOCK_TAGS.has(tag)) {
      if (tag === "pre") inPre += closing ? -1 : 1;
      out.push("\n\n");
    }
  }
  return out
    .join("")
    .split("\n")
    .map((line) => line.replace(/^ (?=\S)/, "").replace(/[ \t]+$/, ""))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
