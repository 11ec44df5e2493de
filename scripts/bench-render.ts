/**
 * Rendering hostile Markdown and HTML: how long renderMarkdown (policy text,
 * web and federated) and sanitizeRemoteHtml (HTML from other servers) take
 * on 1 MB of pathological input, and on the largest input that is parsed
 * (MARKDOWN_RENDER_LIMIT, REMOTE_HTML_LIMIT). Target: under 1 s each,
 * never a stack overflow.
 *
 *   npm run bench:render -- [--runs 5]
 *
 * Baseline measured in the same run: rendering the same number of bytes of
 * ordinary prose (the Model Spec's text), so the ratios say how much worse
 * than normal text each hostile shape is. Medians of --runs.
 */
import "../src/polyfills.ts";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MARKDOWN_RENDER_LIMIT, renderMarkdown } from "../src/policies/render.ts";
import { REMOTE_HTML_LIMIT, sanitizeRemoteHtml } from "../src/remote-html.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(args.runs);
const MB = 1_000_000;
const PROSE = readFileSync(fileURLToPath(new URL("../test/fixtures/model_spec/model_spec.md", import.meta.url)), "utf8");

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Hostile shapes known to make Markdown parsers or sanitisers superlinear or recursive. */
export const HOSTILE_MARKDOWN: Record<string, (size: number) => string> = {
  "nested emphasis *_a": (size) => fill("*_a", size),
  "emphasis runs *_**__a": (size) => fill("*_**__a", size),
  "nested blockquotes > > >": (size) => fill("> ", size),
  "nested lists - - -": (size) => fill("- ", size),
  "open brackets [[[": (size) => fill("[", size),
  "table cells |a": (size) => `${fill("|a", size / 2)}\n${fill("|-", size / 2)}`,
  "nested tags <div>": (size) => fill("<div>", size),
};
export const HOSTILE_HTML: Record<string, (size: number) => string> = {
  "nested tags <div>": (size) => fill("<div>", size),
  "nested inline tags <em><a>": (size) => fill('<em><a href="https://x.example/">', size),
  "unclosed attributes": (size) => fill('<a href="', size),
};

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function time(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

function row(label: string, ms: number, baseline: number): void {
  console.log(`${label.padEnd(58)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / baseline).toFixed(1).padStart(6)} x prose`);
}

function main(): void {
  console.log(`Medians of ${RUNS} runs. Markdown parsed up to ${MARKDOWN_RENDER_LIMIT} characters, remote HTML read up to ${REMOTE_HTML_LIMIT}.\n`);
  for (const size of [MARKDOWN_RENDER_LIMIT, MB]) {
    const prose = fill(PROSE, Math.min(size, MARKDOWN_RENDER_LIMIT));
    const baseline = time(() => renderMarkdown(prose));
    row(`Markdown, ordinary prose, ${prose.length} chars (baseline)`, baseline, baseline);
    for (const [name, make] of Object.entries(HOSTILE_MARKDOWN)) {
      const input = make(size);
      row(`Markdown, ${name}, ${input.length} chars`, time(() => renderMarkdown(input)), baseline);
      row(`  federated`, time(() => renderMarkdown(input, { federated: true })), baseline);
    }
    for (const [name, make] of Object.entries(HOSTILE_HTML)) {
      const input = make(size);
      row(`Remote HTML, ${name}, ${input.length} chars`, time(() => sanitizeRemoteHtml(input)), baseline);
    }
    console.log("");
  }
}

main();
