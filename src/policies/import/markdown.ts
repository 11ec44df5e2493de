/**
 * Just enough Markdown for the Model Spec: ATX headings with a `{#id key=value}`
 * attribute block, and fenced code blocks (inside which nothing is a heading:
 * the spec's examples contain lines such as "# functions"). Everything else
 * is kept as lines of text, untouched. A full Markdown parser would re-render
 * or normalise prose we want to keep byte for byte.
 */

export interface SourceLine {
  /** 1-based, for reports. */
  no: number;
  text: string;
}

export interface HeadingAnchor {
  id: string;
  /** `key=value` pairs after the id, in order. */
  attributes: [string, string][];
  /** Tokens in the attribute block that are not `key=value`. */
  stray: string[];
}

export type Block =
  | { kind: "heading"; line: SourceLine; level: number; title: string; anchor: HeadingAnchor | null }
  | { kind: "text"; line: SourceLine }
  | { kind: "fence"; open: SourceLine; info: string; body: SourceLine[]; close: SourceLine | null };

const fenceOpen = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const anchorBlock = /\s*\{#([^\s}]+)((?:\s+[^\s}]+)*)\s*\}$/;

export function toLines(markdown: string): SourceLine[] {
  const normalised = markdown.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  return normalised.split("\n").map((text, i) => ({ no: i + 1, text }));
}

export function tokenize(lines: SourceLine[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = line.text.match(fenceOpen);
    if (fence && !(fence[1]!.startsWith("`") && fence[2]!.includes("`"))) {
      const block = readFence(lines, i, fence[1]!, fence[2]!.trim());
      blocks.push(block);
      i += block.body.length + (block.close ? 1 : 0);
      continue;
    }
    blocks.push(headingOrText(line));
  }
  return blocks;
}

/** A fence closes on a line of the same character, at least as long, with nothing after it. */
function readFence(lines: SourceLine[], start: number, marker: string, info: string): Block & { kind: "fence" } {
  const closing = new RegExp(`^ {0,3}${marker[0] === "`" ? "`" : "~"}{${marker.length},}[ \\t]*$`);
  const body: SourceLine[] = [];
  for (let j = start + 1; j < lines.length; j++) {
    const line = lines[j]!;
    if (closing.test(line.text)) return { kind: "fence", open: lines[start]!, info, body, close: line };
    body.push(line);
  }
  return { kind: "fence", open: lines[start]!, info, body, close: null };
}

function headingOrText(line: SourceLine): Block {
  const match = line.text.match(atxHeading);
  if (!match) return { kind: "text", line };
  // A closing run of #s is not part of the title (CommonMark).
  const raw = (match[2] ?? "").replace(/[ \t]+#+$/, "").replace(/^#+$/, "");
  const anchor = raw.match(anchorBlock);
  const title = anchor ? raw.slice(0, anchor.index).trim() : raw.trim();
  return { kind: "heading", line, level: match[1]!.length, title, anchor: anchor ? parseAnchor(anchor[1]!, anchor[2]!) : null };
}

function parseAnchor(id: string, rest: string): HeadingAnchor {
  const attributes: [string, string][] = [];
  const stray: string[] = [];
  for (const token of rest.trim().split(/\s+/).filter(Boolean)) {
    const eq = token.indexOf("=");
    if (eq > 0) attributes.push([token.slice(0, eq), token.slice(eq + 1)]);
    else stray.push(token);
  }
  return { id, attributes, stray };
}

/** The source lines of a block, as they were. */
export function blockLines(block: Block): string[] {
  if (block.kind !== "fence") return [block.line.text];
  return [block.open.text, ...block.body.map((line) => line.text), ...(block.close ? [block.close.text] : [])];
}

export function firstLine(block: Block): number {
  return block.kind === "fence" ? block.open.no : block.line.no;
}

export function isBlank(block: Block): boolean {
  return block.kind === "text" && block.line.text.trim() === "";
}
