/**
 * Issue 12, item 6 (rendering): Markdown from policies and HTML from other
 * servers, in shapes that make parsers superlinear or recursive, at 1 MB and
 * at the largest size still parsed: each is handled in well under a second,
 * without a stack overflow, and the output is inert. marked, used before,
 * took 5 s on 16 KB of "*_a" and overflowed the stack on 100 KB of "> ".
 */
import { describe, expect, it } from "vitest";
import { htmlToText, parseAnnotationNote } from "../src/policies/annotation.ts";
import { policyContentSchema } from "../src/policies/content.ts";
import { MARKDOWN_RENDER_LIMIT, renderMarkdown, renderVersionHtml } from "../src/policies/render.ts";
import { REMOTE_HTML_LIMIT, sanitizeRemoteHtml } from "../src/remote-html.ts";

const MB = 1_000_000;
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

const HOSTILE_MARKDOWN: Record<string, (size: number) => string> = {
  "nested emphasis": (size) => fill("*_a", size),
  "emphasis runs": (size) => fill("*_**__a", size),
  "nested blockquotes": (size) => fill("> ", size),
  "nested lists": (size) => fill("- ", size),
  "deeply indented lists": (size) => Array.from({ length: 2_000 }, (_, i) => `${" ".repeat(i * 2)}- x`).join("\n").slice(0, size),
  "open brackets": (size) => fill("[", size),
  "links in links": (size) => `${fill("[", size / 2)}a${fill("](b)", size / 2)}`,
  "table cells": (size) => `${fill("|a", size / 2)}\n${fill("|-", size / 2)}`,
  "nested tags": (size) => fill("<div>", size),
  "script in nested tags": (size) => `${fill("<em>", size - 40)}<script>alert(1)</script>`,
};

const HOSTILE_HTML: Record<string, (size: number) => string> = {
  "nested tags": (size) => fill("<div>", size),
  "nested inline tags": (size) => fill('<em><a href="https://x.example/">', size),
  "unclosed attribute": (size) => fill('<a href="', size),
  "script after nesting": (size) => `${fill("<span>", size - 40)}<script>alert(1)</script>`,
};

/**
 * The CPU time (user + system, of this test process) a synchronous call
 * takes. These limits are about work: a superlinear parser shows as seconds
 * of CPU whatever the machine does, while wall-clock time also counts the
 * time other processes had the core (a loaded CI took 1.7 s of wall time
 * for a render of 0.35 s).
 */
function timed<T>(fn: () => T): { value: T; ms: number } {
  const started = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(started);
  return { value, ms: (used.user + used.system) / 1000 };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(started);
  return { value, ms: (used.user + used.system) / 1000 };
}

function expectInert(html: string): void {
  expect(html).not.toMatch(/<script|<div|<style|on\w+=/i);
}

describe("hostile Markdown", () => {
  for (const [name, make] of Object.entries(HOSTILE_MARKDOWN)) {
    for (const size of [MB, MARKDOWN_RENDER_LIMIT]) {
      it(`renders ${name} (${size} characters) in under a second, web and federated`, () => {
        const input = make(size);
        for (const federated of [false, true]) {
          const { value, ms } = timed(() => renderMarkdown(input, { federated }));
          expect(ms).toBeLessThan(1_000);
          expectInert(value);
        }
      });
    }
  }

  it("renders the same text once: a page view that shows it again does not parse it again", () => {
    const input = `${HOSTILE_MARKDOWN["emphasis runs"]!(MARKDOWN_RENDER_LIMIT - 100)} unique ${Math.random()}`;
    const first = timed(() => renderMarkdown(input));
    const again = timed(() => renderMarkdown(input));
    expect(again.value).toBe(first.value);
    expect(again.ms).toBeLessThan(first.ms / 10);
    expect(input.length).toBeLessThanOrEqual(MARKDOWN_RENDER_LIMIT);
  });

  it("shows a field over the limit as escaped text, paragraph by paragraph", () => {
    const text = `${fill("*a* ", MARKDOWN_RENDER_LIMIT)}\n\n<b>second</b>`;
    expect(renderMarkdown(text)).toBe(`<p>${fill("*a* ", MARKDOWN_RENDER_LIMIT).trim()}</p>\n<p>&lt;b&gt;second&lt;/b&gt;</p>`);
  });

  // A version document is at most 1 MiB (the body limit, and the size cap on fetched documents).
  it("renders a whole 1 MB version of hostile clauses in under a second", () => {
    const clauses = Object.entries(HOSTILE_MARKDOWN).map(([name, make], i) => ({
      id: `c${i}`,
      title: name,
      authority: "user",
      text: make(MARKDOWN_RENDER_LIMIT),
      rationale: make(24_000),
    }));
    const content = policyContentSchema.parse({ title: "Hostile", summary: fill("*_a", MARKDOWN_RENDER_LIMIT), licence: "CC-BY-4.0", clauses });
    expect(JSON.stringify(content).length).toBeLessThan(1_048_576);
    const { value, ms } = timed(() => renderVersionHtml(content, { versionNumber: 1, changelog: fill("> ", 100_000) }));
    expect(ms).toBeLessThan(1_000);
    expectInert(value);
  });
});

describe("hostile HTML from other servers", () => {
  for (const [name, make] of Object.entries(HOSTILE_HTML)) {
    for (const size of [MB, REMOTE_HTML_LIMIT]) {
      it(`sanitises and reads ${name} (${size} characters) in under a second`, () => {
        const input = make(size);
        const shown = timed(() => sanitizeRemoteHtml(input));
        expect(shown.ms).toBeLessThan(1_000);
        expectInert(shown.value);
        expect(timed(() => htmlToText(input)).ms).toBeLessThan(1_000);
      });
    }
  }

  it("parses a Note whose content is a megabyte of nested tags in under a second, and refuses it", async () => {
    const note = {
      type: "Note",
      id: "https://remote.example/notes/1",
      attributedTo: "https://remote.example/users/mallory",
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      published: "2026-01-01T00:00:00Z",
      inReplyTo: "https://here.example/v/1",
      content: fill("<div><em>", MB),
    };
    const lookup = {
      clauseFromIri: async () => undefined,
      versionFromIri: async (iri: string) => (iri === "https://here.example/v/1" ? { versionIri: iri, policyIri: "https://here.example/p" } : undefined),
    };
    const { value, ms } = await timedAsync(() => parseAnnotationNote(note, lookup));
    expect(ms).toBeLessThan(1_000);
    expect(value).toEqual({ ignored: "the Note has no text" });
  });
});
