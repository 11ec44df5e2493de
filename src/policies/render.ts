/**
 * HTML from policy Markdown, for our own pages and for the `content` of the
 * `Article` that federates each version.
 *
 * Everything goes through markdown-it and then sanitize-html with an
 * allowlist; the sanitiser, not the Markdown parser, is the security boundary
 * (raw HTML passes through the parser). The allowlist keeps headings, paragraphs, lists, emphasis,
 * del, code blocks, blockquotes, tables (web only) and links. Links keep only
 * absolute http, https and mailto URLs, checked with the WHATWG URL parser
 * (what browsers use, so "JaVaScRiPt:" or " javascript:" cannot slip by), and
 * get rel="nofollow noopener"; relative and fragment links have no meaning in
 * a federated copy and become plain text. On our own pages a link to another
 * clause or section of the policy, `[title](#id)`, points to that clause's
 * element (`#clause-<id>`, which sections carry too). Images become links to the image,
 * labelled with their alt text: remote images would tell third parties who
 * reads a policy and when, and Mastodon drops <img> anyway.
 *
 * The federated form keeps to what Mastodon's sanitiser keeps (p, br, a, del,
 * pre, code, strong, em, ul, ol, li, blockquote; h1–h6 it turns into bold
 * paragraphs). Tables, which it would flatten into run-on text, become lists.
 * Note that Mastodon shows an `Article` as its name, summary and link, not its
 * content; software that shows content (Pleroma, Akkoma, Misskey, Friendica,
 * Lemmy…) gets this HTML.
 *
 * Cost: policy text arrives from other instances, so rendering it must not
 * let anyone stall the server. markdown-it parses in time linear in its input
 * and caps nesting (no recursion to overflow the stack), which marked did
 * not (16 KB of "*_a" took it 5 s, 64 KB 155 s; 50 000 "> " overflowed the
 * stack). Even linear, a megabyte of pathological emphasis takes a few
 * seconds, so a field longer than MARKDOWN_RENDER_LIMIT is not parsed as
 * Markdown: it is shown as escaped plain text, paragraph by paragraph.
 */
import MarkdownIt from "markdown-it";
import type { MarkdownIt as Parser, StateCore, Token } from "markdown-it";
import sanitizeHtml from "sanitize-html";
import { NON_TEXT_TAGS } from "../remote-html.ts";
import type { Clause, ContextOfUse, Example, PolicyContent, Section } from "./content.ts";

export interface RenderOptions {
  /** Added to every heading level (capped at h6), to nest Markdown under an outer heading. */
  headingOffset?: number;
  /** Keep to the HTML Mastodon keeps: no tables, no classes. */
  federated?: boolean;
}

const LINK_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
const IMAGE_PROTOCOLS = new Set(["http:", "https:"]);
const LINK_REL = "nofollow noopener";
const HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"] as const;
const FEDERATED_TAGS = ["p", "br", "a", "del", "s", "pre", "code", "strong", "em", "ul", "ol", "li", "blockquote", ...HEADINGS];
const WEB_TAGS = [...FEDERATED_TAGS, "hr", "table", "thead", "tbody", "tr", "th", "td"];

/** Longest Markdown field parsed as Markdown (characters); longer ones are shown as plain text. */
export const MARKDOWN_RENDER_LIMIT = 64 * 1024;

const webMarkdown = markdownParser(false);
const federatedMarkdown = markdownParser(true);

/** Markdown to sanitised HTML. Deterministic: the same input gives the same string. */
export function renderMarkdown(md: string, options: RenderOptions = {}): string {
  // Escaped text needs no sanitising (and sanitize-html reading a megabyte of entities would take a second).
  if (md.length > MARKDOWN_RENDER_LIMIT) return plainParagraphs(md);
  const key = `${options.federated ? "f" : "w"}${options.headingOffset ?? 0}\n${md}`;
  const cached = rendered.get(key);
  if (cached !== undefined) {
    // Most recently used last.
    rendered.delete(key);
    rendered.set(key, cached);
    return cached;
  }
  const html = (options.federated ? federatedMarkdown : webMarkdown).render(md);
  const clean = unwrapBareLinks(sanitizeHtml(html, sanitizeOptions(options))).trim();
  remember(key, clean);
  return clean;
}

/** One top-level block of rendered Markdown (a paragraph, list, table, code block…) with the source it came from. */
export interface RenderedBlock {
  source: string;
  html: string;
}

/**
 * Markdown as its top-level blocks, each rendered and sanitised like
 * renderMarkdown's output (web form), for diffs that compare and collapse
 * paragraph by paragraph. The text is parsed once, so reference links
 * defined in one block still resolve in another. Text over the render
 * limit is split at blank lines and shown as plain text.
 */
export function renderMarkdownBlocks(md: string): RenderedBlock[] {
  if (md.length > MARKDOWN_RENDER_LIMIT) {
    return md
      .split(/\r?\n\s*\r?\n/)
      .filter((part) => part.trim() !== "")
      .map((part) => ({ source: part.trim(), html: `<p>${escapeText(part.trim())}</p>` }));
  }
  const env = {};
  const tokens = webMarkdown.parse(md, env);
  const lines = md.split("\n");
  const blocks: RenderedBlock[] = [];
  for (let start = 0; start < tokens.length; ) {
    let end = start + 1;
    if (tokens[start]!.nesting === 1) {
      for (let depth = 1; end < tokens.length && depth > 0; end++) depth += tokens[end]!.nesting;
    }
    const map = tokens[start]!.map;
    const html = unwrapBareLinks(sanitizeHtml(webMarkdown.renderer.render(tokens.slice(start, end), webMarkdown.options, env), sanitizeOptions({}))).trim();
    if (html) blocks.push({ source: map ? lines.slice(map[0], map[1]).join("\n").trim() : html, html });
    start = end;
  }
  return blocks;
}

/**
 * The words of Markdown, for places that show plain text (a title in a list,
 * a page title): emphasis, code marks, links and raw HTML reduced to their
 * text, paragraphs joined by a space. Longer than the render limit, the
 * source is returned with its whitespace collapsed.
 */
export function markdownToText(md: string): string {
  if (md.length > MARKDOWN_RENDER_LIMIT) return md.replace(/\s+/g, " ").trim();
  const words: string[] = [];
  for (const token of webMarkdown.parse(md, {})) {
    if (token.type === "fence" || token.type === "code_block") words.push(token.content);
    for (const child of token.children ?? []) {
      if (child.type === "text" || child.type === "code_inline") words.push(child.content);
      else if (child.type === "softbreak" || child.type === "hardbreak") words.push(" ");
      else if (child.type === "image") words.push(child.content);
    }
    if (token.type.endsWith("_close") && token.block) words.push(" ");
  }
  return words.join("").replace(/\s+/g, " ").trim();
}

/**
 * Rendered Markdown by source, so that pages showing the same clauses again
 * (every view of a policy) do not parse and sanitise them again: at most
 * RENDER_CACHE_CHARS characters of source and HTML, least recently used
 * dropped first. In memory only: a restart renders each text once more.
 */
const RENDER_CACHE_CHARS = 16 * 1024 * 1024;
const rendered = new Map<string, string>();
let renderedChars = 0;

function remember(key: string, html: string): void {
  rendered.set(key, html);
  renderedChars += key.length + html.length;
  for (const [oldKey, oldHtml] of rendered) {
    if (renderedChars <= RENDER_CACHE_CHARS) break;
    rendered.delete(oldKey);
    renderedChars -= oldKey.length + oldHtml.length;
  }
}

/** Text too long to parse, as escaped paragraphs (split at blank lines); linear in its length. */
function plainParagraphs(text: string): string {
  return text
    .split(/\r?\n\s*\r?\n/)
    .filter((part) => part.trim() !== "")
    .map((part) => `<p>${escapeText(part.trim())}</p>`)
    .join("\n");
}

/**
 * CommonMark with GFM tables and strikethrough, raw HTML passed on to the
 * sanitiser, and a nesting cap of 20 (deeper blocks and inlines stay text).
 * Strikethrough is written <del>, table alignment as the `align` attribute
 * (what the sanitiser keeps), and, federated, tables become lists.
 */
function markdownParser(federated: boolean): Parser {
  const parser = new MarkdownIt("default", { html: true, linkify: false, typographer: false, maxNesting: 20 });
  // Every link becomes a link here and the sanitiser decides (see transformLink): a refused link keeps its text only.
  parser.validateLink = () => true;
  parser.renderer.rules.s_open = () => "<del>";
  parser.renderer.rules.s_close = () => "</del>";
  parser.core.ruler.push("align_attribute", alignAttributes);
  if (federated) parser.core.ruler.push("table_as_list", (state) => tablesAsLists(parser, state));
  return parser;
}

function alignAttributes(state: StateCore): void {
  for (const token of state.tokens) {
    if (token.type !== "th_open" && token.type !== "td_open") continue;
    const align = /^text-align:(left|center|right)$/.exec(String(token.attrGet("style") ?? ""))?.[1];
    token.attrs = align ? [["align", align]] : null;
  }
}

/** Replaces each table's tokens by one HTML block: a list of rows, "Header: cell; Header: cell", for readers that drop tables. */
function tablesAsLists(parser: Parser, state: StateCore): void {
  const out: Token[] = [];
  const tokens = state.tokens;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.type !== "table_open") {
      out.push(tokens[i]!);
      continue;
    }
    const headers: string[] = [];
    const rows: string[][] = [];
    let inHead = false;
    for (i++; i < tokens.length && tokens[i]!.type !== "table_close"; i++) {
      const token = tokens[i]!;
      if (token.type === "thead_open") inHead = true;
      else if (token.type === "thead_close") inHead = false;
      else if (token.type === "tr_open" && !inHead) rows.push([]);
      else if (token.type === "inline") {
        const html = parser.renderer.renderInline(token.children ?? [], parser.options, state.env);
        if (inHead) headers.push(html);
        else rows[rows.length - 1]!.push(html);
      }
    }
    const items = rows.map((cells) => `<li>${cells.map((cell, j) => (headers[j] ? `<strong>${headers[j]}:</strong> ${cell}` : cell)).join("; ")}</li>`);
    const block = new state.Token("html_block", "", 0);
    block.content = `<ul>${items.join("")}</ul>\n`;
    out.push(block);
  }
  state.tokens = out;
}

/**
 * Links whose target was refused come out of the sanitiser as a bare `<a>`
 * (see transformLink); this drops those tags and their matching `</a>`,
 * keeping the text. (Renaming them to a disallowed tag instead leaves
 * sanitize-html's element stack one off, so that the next closing tag comes
 * out as `</span>` and an `<em>` before it is never closed.) Sanitised
 * output escapes `<` and `>` in text and attribute values, so the tags
 * matched here are real tags.
 */
function unwrapBareLinks(html: string): string {
  const kept: boolean[] = [];
  return html.replace(/<a\b[^>]*>|<\/a>/g, (tag) => {
    if (tag === "</a>") return kept.pop() ? tag : "";
    const keep = tag !== "<a>";
    kept.push(keep);
    return keep ? tag : "";
  });
}

function sanitizeOptions(options: RenderOptions): sanitizeHtml.IOptions {
  const federated = options.federated ?? false;
  const align = [{ name: "align", multiple: false, values: ["left", "center", "right"] }];
  return {
    allowedTags: federated ? FEDERATED_TAGS : WEB_TAGS,
    allowedAttributes: federated
      ? { a: ["href", "rel"], ol: ["start"] }
      : { a: ["href", "rel"], ol: ["start"], th: align, td: align, code: ["class"] },
    allowedClasses: federated ? {} : { code: ["language-*"] },
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    nonTextTags: NON_TEXT_TAGS,
    transformTags: { a: federated ? transformLink : transformWebLink, img: transformImage, ...headingShift(options.headingOffset ?? 0) },
  };
}

/** The URL if it is absolute and uses one of the protocols, normalised as a browser would read it. */
function safeUrl(value: string | undefined, protocols: Set<string>): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return protocols.has(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

// A bare <a>, which unwrapBareLinks then removes, keeping the text.
const UNWRAP = { tagName: "a", attribs: {} };

function transformLink(_tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const href = safeUrl(attribs.href, LINK_PROTOCOLS);
  return href ? { tagName: "a", attribs: { href, rel: LINK_REL } } : UNWRAP;
}

const POLICY_FRAGMENT = /^#([A-Za-z0-9][A-Za-z0-9_.:-]*)$/;

function transformWebLink(tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const fragment = POLICY_FRAGMENT.exec(attribs.href ?? "");
  return fragment ? { tagName: "a", attribs: { href: `#clause-${fragment[1]}` } } : transformLink(tag, attribs);
}

function transformImage(_tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const src = safeUrl(attribs.src, IMAGE_PROTOCOLS);
  const label = attribs.alt?.trim() || "image";
  return src ? { tagName: "a", attribs: { href: src, rel: LINK_REL }, text: label } : { ...UNWRAP, text: attribs.alt ?? "" };
}

function headingShift(offset: number): Record<string, string> {
  if (offset <= 0) return {};
  return Object.fromEntries(HEADINGS.map((tag, i) => [tag, HEADINGS[Math.min(i + offset, 5)]!]));
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Plain text as HTML, line breaks kept. */
function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!).replace(/\r?\n/g, "<br>");
}

export interface VersionMeta {
  versionNumber: number;
  changelog: string;
}

/**
 * A whole policy version as readable HTML for the `content` of its
 * `Article`: title, summary, changelog, then sections and clauses in order,
 * each clause with its authority level, context of use, rationale and
 * examples. Deterministic, so the signed document can be rebuilt and checked.
 * At most VERSION_MARKDOWN_BUDGET characters of Markdown are parsed, in
 * document order (the whole Model Spec is 270 KB); fields past that are
 * shown as plain text, so no version takes long to render.
 */
export function renderVersionHtml(content: PolicyContent, meta: VersionMeta): string {
  const budget: Budget = { left: VERSION_MARKDOWN_BUDGET };
  const parts = [
    `<h1>${escapeText(content.title)}</h1>`,
    `<p>Version ${meta.versionNumber} · Licence: ${escapeText(content.licence)}</p>`,
    md(content.summary, 1, budget),
    ...policyContexts(content.contexts),
    ...(meta.changelog.trim() ? [`<h2>Changes in version ${meta.versionNumber}</h2>`, md(meta.changelog, 2, budget)] : []),
    ...body(content, budget),
  ];
  return parts.filter((part) => part !== "").join("\n");
}

/** Markdown characters a version may have parsed; past them its fields are shown as plain text. */
export const VERSION_MARKDOWN_BUDGET = 384 * 1024;

interface Budget {
  left: number;
}

function md(text: string, headingOffset: number, budget: Budget): string {
  if (text.length > budget.left) return plainParagraphs(text);
  budget.left -= text.length;
  return renderMarkdown(text, { federated: true, headingOffset });
}

function policyContexts(contexts: ContextOfUse[]): string[] {
  if (contexts.length === 0) return [];
  const items = contexts.map((context) => `<li>${escapeText(describeContext(context))}</li>`);
  return ["<p><strong>Written for:</strong></p>", `<ul>${items.join("")}</ul>`];
}

/** "domain: medical, legal; locale: en, sw", or "any context". */
function describeContext(context: ContextOfUse): string {
  const facets = (["domain", "audience", "locale", "deployment"] as const).flatMap((facet) => {
    const values = context[facet];
    return values?.length ? [`${facet}: ${values.join(", ")}`] : [];
  });
  return facets.length ? facets.join("; ") : "any context";
}

/**
 * Sections depth first in document order, each followed by its clauses;
 * clauses outside any section come first. Anything not reachable from the
 * top (a parent cycle, which the schema does not rule out) is appended, so no
 * clause is ever left out.
 */
function body(content: PolicyContent, budget: Budget): string[] {
  const clausesBySection = groupBy(content.clauses, (clause) => clause.section);
  const children = groupBy(content.sections, (section) => section.parent);
  const done = new Set<string>();
  const out: string[] = (clausesBySection.get(null) ?? []).map((clause) => renderClause(clause, 2, budget));
  const visit = (section: Section, level: number): void => {
    if (done.has(section.id)) return;
    done.add(section.id);
    out.push(renderSection(section, level, budget));
    for (const clause of clausesBySection.get(section.id) ?? []) out.push(renderClause(clause, level + 1, budget));
    for (const child of children.get(section.id) ?? []) visit(child, level + 1);
  };
  for (const section of children.get(null) ?? []) visit(section, 2);
  for (const section of content.sections) visit(section, 2);
  const sectionIds = new Set(content.sections.map((section) => section.id));
  for (const clause of content.clauses) {
    if (clause.section !== null && !sectionIds.has(clause.section)) out.push(renderClause(clause, 2, budget));
  }
  return out;
}

function groupBy<T>(items: T[], key: (item: T) => string | null): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

function heading(level: number, text: string): string {
  const tag = HEADINGS[Math.min(level, 6) - 1]!;
  return `<${tag}>${escapeText(text)}</${tag}>`;
}

function renderSection(section: Section, level: number, budget: Budget): string {
  return [heading(level, section.title), md(section.text, level, budget), ...extras(section, level, budget)].filter(Boolean).join("\n");
}

/** Commentary (marked as not normative) and notes, for readers; nothing when a clause or section has neither. */
function extras(item: { commentary?: string; notes?: { id: string; text: string }[] }, level: number, budget: Budget): string[] {
  const out: string[] = [];
  if (item.commentary?.trim()) out.push("<p><strong>Commentary (not normative):</strong></p>", md(item.commentary, level, budget));
  if (item.notes?.length) out.push("<p><strong>Notes:</strong></p>", `<ol>${item.notes.map((note) => `<li>${escapeText(note.id)}: ${escapeText(note.text)}</li>`).join("")}</ol>`);
  return out;
}

function renderClause(clause: Clause, level: number, budget: Budget): string {
  return [
    heading(level, clause.title || clause.id),
    `<p>${clauseFacts(clause)}</p>`,
    md(clause.text, level, budget),
    ...(clause.rationale.trim() ? ["<p><strong>Rationale:</strong></p>", md(clause.rationale, level, budget)] : []),
    ...extras(clause, level, budget),
    ...clause.examples.map((example, i) => renderExample(example, i + 1, clause.examples.length)),
  ]
    .filter(Boolean)
    .join("\n");
}

/** Authority, context of use, id and tags on one line. */
function clauseFacts(clause: Clause): string {
  const facts = [
    `<strong>Authority:</strong> ${escapeText(clause.authority)}`,
    `<strong>Applies to:</strong> ${escapeText(describeContext(clause.context))}`,
    `<strong>Clause:</strong> <code>${escapeText(clause.id)}</code>`,
  ];
  if (clause.tags.length) facts.push(`<strong>Tags:</strong> ${escapeText(clause.tags.join(", "))}`);
  return facts.join(" · ");
}

function renderExample(example: Example, n: number, total: number): string {
  const label = total > 1 ? `Example ${n}` : "Example";
  const title = example.title ? `: ${escapeText(example.title)}` : "";
  const prompt = example.prompt.map((message) => `<p><strong>${capitalise(message.role)}:</strong> ${escapeText(message.content)}</p>`);
  const responses = example.responses.map((response) => {
    const verdict = response.label === "good" ? "✅ Good response" : "❌ Bad response";
    const note = response.note ? `<br><em>${escapeText(response.note)}</em>` : "";
    return `<li><strong>${verdict}:</strong> ${escapeText(response.content)}${note}</li>`;
  });
  return [
    `<p><strong>${label}${title}</strong></p>`,
    `<blockquote>${prompt.join("")}</blockquote>`,
    `<ul>${responses.join("")}</ul>`,
    example.why ? `<p><em>Why:</em> ${escapeText(example.why)}</p>` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
