/**
 * HTML from other servers (annotation and reply Notes, proposal texts in the
 * feed): the one place where what survives of it is decided. Only what
 * Mastodon itself keeps of remote HTML is displayed (paragraphs, breaks,
 * links, emphasis, code, lists, quotes, mention and hashtag classes), links
 * keep http(s) targets only and get rel="nofollow noopener".
 *
 * Cost: sanitize-html is linear in its input, and only the first
 * REMOTE_HTML_LIMIT characters are read (unclosed tags at the cut are closed
 * by the sanitiser), so a megabyte of nested tags costs what 64 KiB does.
 * Nothing we show from a remote object is anywhere near that long (an
 * annotation's text is at most 5000 characters).
 */
import sanitizeHtml from "sanitize-html";
import { isHttpUrl } from "./text.ts";

export const REMOTE_HTML_LIMIT = 64 * 1024;

/** Elements whose content is dropped with them, not kept as text. */
export const NON_TEXT_TAGS = ["script", "style", "textarea", "option", "noscript", "iframe", "object", "template", "title", "svg", "math"];
export const BLOCK_TAGS = new Set(["p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"]);

/** What Mastodon itself keeps of remote HTML. */
const DISPLAY: sanitizeHtml.IOptions = {
  allowedTags: ["p", "br", "span", "a", "del", "s", "pre", "code", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote"],
  allowedAttributes: { a: ["href", "rel", "class"], span: ["class"], ol: ["start"] },
  allowedClasses: { a: ["mention", "hashtag", "u-url"], span: ["h-card", "invisible", "ellipsis"] },
  allowedSchemes: ["http", "https"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  nonTextTags: NON_TEXT_TAGS,
  transformTags: {
    a: (_tag: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag => {
      if (!attribs.href || !isHttpUrl(attribs.href)) return { tagName: "span", attribs: {} };
      const kept: sanitizeHtml.Attributes = { href: new URL(attribs.href).href, rel: "nofollow noopener" };
      if (attribs.class) kept.class = attribs.class;
      return { tagName: "a", attribs: kept };
    },
  },
};

/** Normalises markup before text is read from it: only structure and link classes survive, text is escaped. */
const STRUCTURE_ONLY: sanitizeHtml.IOptions = {
  allowedTags: ["br", "a", "li", ...BLOCK_TAGS],
  allowedAttributes: { a: ["class"] },
  disallowedTagsMode: "discard",
  nonTextTags: NON_TEXT_TAGS,
};

/** Remote HTML as we display it. */
export function sanitizeRemoteHtml(html: string): string {
  return sanitizeHtml(html.slice(0, REMOTE_HTML_LIMIT), DISPLAY).trim();
}

/** Remote HTML reduced to block structure and links, for reading its text. */
export function remoteHtmlStructure(html: string): string {
  return sanitizeHtml(html.slice(0, REMOTE_HTML_LIMIT), STRUCTURE_ONLY);
}
