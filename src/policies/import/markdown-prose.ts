/**
 * The Markdown debris of a policy source, turned into structure: footnote
 * references and definitions, `[?](#id)` cross-references, `!!! kind "Title"`
 * admonitions (Python-Markdown / MkDocs syntax), horizontal rules and HTML
 * entities. Works line by line on prose (never inside fences) and leaves
 * inline code spans alone, as Markdown itself does.
 */
import { decodeHTML } from "entities";

/** `[^id]` (a definition `[^id]:` at the start of a line is read before this applies). */
const FOOTNOTE_REF = /\[\^([^\]\s]+)\]/g;
/** `[^id]: text` at the start of a line. */
export const FOOTNOTE_DEF = /^ {0,3}\[\^([^\]\s]+)\]:[ \t]*(.*)$/;
/** `[?](#id)` and `[](#id)`: a link whose text is to be the target's title. */
const BARE_XREF = /\[\??\]\(#([A-Za-z0-9][A-Za-z0-9_.:-]*)\)/g;
/** A thematic break (CommonMark): three or more -, * or _ , optionally spaced. */
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
/** `!!! meta "Commentary"`, `!!! note`, `???+ tip "Title"` (collapsible variants). */
export const ADMONITION = /^ {0,3}(?:!!!|\?\?\?\+?)[ \t]+([A-Za-z][\w-]*)(?:[ \t]+"([^"]*)")?[ \t]*$/;
const ENTITY = /&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});/;

export function isRule(line: string): boolean {
  return RULE.test(line);
}

/** Applies `fn` to the parts of a line outside inline code spans. */
function outsideCode(line: string, fn: (text: string) => string): string {
  if (!line.includes("`")) return fn(line);
  return line
    .split(/(`+[^`]*?`+)/)
    .map((part, i) => (i % 2 === 1 ? part : fn(part)))
    .join("");
}

/** HTML entities decoded, outside code spans. */
export function decodeEntities(line: string): string {
  return ENTITY.test(line) ? outsideCode(line, (text) => decodeHTML(text)) : line;
}

/** Entities decoded everywhere (message and response bodies are plain text, not Markdown). */
export function decodeAll(text: string): string {
  return ENTITY.test(text) ? decodeHTML(text) : text;
}

/** The line without its footnote references, and the labels removed, in order. */
export function takeFootnoteRefs(line: string): { text: string; refs: string[] } {
  const refs: string[] = [];
  const text = outsideCode(line, (part) =>
    part.replace(FOOTNOTE_REF, (_m, id: string) => {
      refs.push(id);
      return "";
    }),
  );
  return { text: refs.length > 0 ? text.trimEnd() : text, refs };
}

/**
 * `[?](#id)` becomes `[<title>](#id)` with the title of the clause or section
 * `id`; an unknown id becomes `[id](#id)` and is reported through `unknown`.
 */
export function resolveCrossRefs(line: string, titles: ReadonlyMap<string, string>, unknown: (id: string) => void): { text: string; count: number } {
  let count = 0;
  const text = outsideCode(line, (part) =>
    part.replace(BARE_XREF, (_m, id: string) => {
      count++;
      const title = titles.get(id);
      if (title === undefined) unknown(id);
      return `[${escapeLinkText(title ?? id)}](#${id})`;
    }),
  );
  return { text, count };
}

function escapeLinkText(text: string): string {
  return text.replace(/([[\]\\])/g, "\\$1");
}

/** Counts of what remains unconverted in a text: the fidelity check's measure. */
export function debrisCounts(text: string): { footnotes: number; bareLinks: number; admonitions: number; entities: number } {
  const lines = text.split("\n");
  return {
    footnotes: (text.match(/\[\^[^\]\s]+\]/g) ?? []).length,
    bareLinks: (text.match(/\[\??\]\(#[^)]*\)/g) ?? []).length,
    admonitions: lines.filter((line) => ADMONITION.test(line)).length,
    entities: (text.match(new RegExp(ENTITY.source, "g")) ?? []).length,
  };
}
