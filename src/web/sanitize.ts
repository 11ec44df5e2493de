/**
 * Everything that arrives from another instance (annotation and comment
 * HTML, names, summaries) passes through here before it is rendered: only
 * plain formatting survives, links keep http(s)/mailto targets and get
 * rel="nofollow noopener ugc". Text rendered through JSX is escaped anyway;
 * this is for HTML we must keep as HTML.
 */
import sanitizeHtml from "sanitize-html";

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ["p", "br", "a", "em", "strong", "b", "i", "code", "pre", "ul", "ol", "li", "blockquote", "span", "del", "ins"],
  allowedAttributes: { a: ["href", "title"], span: ["class"] },
  allowedClasses: { span: ["h-card", "mention", "hashtag", "invisible", "ellipsis"] },
  allowedSchemes: ["http", "https", "mailto"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: "nofollow noopener ugc" } }),
  },
};

export function sanitizeRemoteHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
