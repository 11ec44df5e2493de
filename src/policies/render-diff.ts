/**
 * Differences between two Markdown texts as formatted HTML: what a reader
 * sees is the rendered text, with inserted words in <ins> and deleted words
 * in <del>, and unchanged paragraphs set apart so a page can fold them away.
 *
 * Both texts are rendered and sanitised first (src/policies/render.ts); the
 * diff then works on the sanitised HTML, split into tags and words. Its
 * output keeps exactly the tags of the new text, in order, and adds only
 * <ins> and <del> around runs of text between two tags, so it stays as
 * well-formed and as safe as the sanitiser's output. Deleted text keeps its
 * words but not its tags (a deleted link shows as deleted words).
 */
import { diffArrays } from "diff";
import { renderMarkdownBlocks } from "./render.ts";

export type TextDiffSegment =
  /** Top-level blocks (paragraphs, lists, tables…) the same in both texts. */
  | { kind: "same"; html: string; blocks: number }
  /** Blocks that differ, as the new ones with word marks. */
  | { kind: "changed"; html: string };

/** Past this many edited tokens a changed stretch is shown as all deleted, then all inserted (as diffWords does). */
const MAX_TOKEN_EDITS = 2000;

/** Block by block, then word by word inside the changed blocks. */
export function markdownDiff(before: string, after: string): TextDiffSegment[] {
  const from = renderMarkdownBlocks(before);
  const to = renderMarkdownBlocks(after);
  const segments: TextDiffSegment[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    if (removed.length || added.length) segments.push({ kind: "changed", html: diffHtml(removed.join("\n"), added.join("\n")) });
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  for (const change of diffArrays(from.map((b) => b.source), to.map((b) => b.source))) {
    const count = change.value.length;
    if (change.removed) removed.push(...from.slice(i, (i += count)).map((b) => b.html));
    else if (change.added) added.push(...to.slice(j, (j += count)).map((b) => b.html));
    else {
      flush();
      segments.push({ kind: "same", html: to.slice(j, j + count).map((b) => b.html).join("\n"), blocks: count });
      i += count;
      j += count;
    }
  }
  flush();
  return segments;
}

const TOKEN = /<[^>]*>|&[#\w]+;|[\p{L}\p{N}\p{M}_]+|\s+|[^]/gu;

function tokens(html: string): string[] {
  return html.match(TOKEN) ?? [];
}

const isTag = (token: string) => token.startsWith("<");

/**
 * Sanitised HTML `after`, with the words that differ from `before` marked.
 * Both must be sanitiser output (text escaped, so "<" starts a real tag).
 */
export function diffHtml(before: string, after: string): string {
  const a = tokens(before);
  const b = tokens(after);
  const changes = diffArrays(a, b, { maxEditLength: MAX_TOKEN_EDITS }) ?? [
    { value: a, removed: true, added: false, count: a.length },
    { value: b, added: true, removed: false, count: b.length },
  ];
  let out = "";
  let deleted: string[] = [];
  let inserted: string[] = [];
  changes.forEach((change, k) => {
    if (change.removed) deleted.push(...change.value);
    else if (change.added) inserted.push(...change.value);
    else if ((deleted.length || inserted.length) && k < changes.length - 1 && onlySpacing(change.value)) {
      // "a, b" between two changes reads better as part of one deleted and one inserted stretch than as shared.
      deleted.push(...change.value);
      inserted.push(...change.value);
    } else {
      out += mark(deleted, "del", false) + mark(inserted, "ins", true) + change.value.join("");
      deleted = [];
      inserted = [];
    }
  });
  return out + mark(deleted, "del", false) + mark(inserted, "ins", true);
}

/** Whitespace and punctuation only: too little in common to show as unchanged between two changes. */
function onlySpacing(parts: string[]): boolean {
  return parts.every((part) => !isTag(part) && /^[\s\p{P}]*$/u.test(part));
}

/** Text runs wrapped in the mark; tags kept (inserted) or dropped (deleted). Whitespace-only runs are left unmarked. */
function mark(parts: string[], tag: "ins" | "del", keepTags: boolean): string {
  let out = "";
  let run = "";
  const close = () => {
    out += run.trim() === "" ? (keepTags ? run : "") : `<${tag}>${run}</${tag}>`;
    run = "";
  };
  for (const part of parts) {
    if (!isTag(part)) run += part;
    else {
      close();
      // A dropped tag (a paragraph's end, say) still separates words.
      if (keepTags) out += part;
      else if (out && !out.endsWith(" ")) out += " ";
    }
  }
  close();
  return out;
}
