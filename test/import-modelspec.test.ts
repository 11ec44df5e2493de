/**
 * The Model Spec importer against the real model_spec.md: every count the
 * importer reports is checked against one taken from the file here with
 * plain regular expressions, so the two cannot share a bug.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUTHORITY_LEVELS, policyContentSchema, type PolicyContent } from "../src/policies/content.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import type { ImportResult } from "../src/policies/import/report.ts";

// shared/ sits beside the repository, locally and in CI.
const specUrl = new URL("./fixtures/model_spec/model_spec.md", import.meta.url);
const exampleUrl = (name: string) => new URL(`./fixtures/model_spec/examples/${name}`, import.meta.url);
const markdown = readFileSync(specUrl, "utf8");

const started = performance.now();
const result: ImportResult = importModelSpec(markdown);
const elapsedMs = performance.now() - started;
const { content, report } = result;

const taggedHeading = /^#{1,6} .*\{#([^\s}]+)[^}]*\bauthority=(\w+)[^}]*\}\s*$/gm;
const comparisons = [...markdown.matchAll(/<comparison>([\s\S]*?)<\/comparison>/g)].map((m) => m[1]!);

function allTexts(c: PolicyContent): string[] {
  return [c.summary, ...c.sections.map((s) => s.text), ...c.clauses.map((cl) => cl.text)];
}

describe("importModelSpec on model_spec.md", () => {
  it("makes one clause per authority-tagged heading, per level", () => {
    const expected = Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, 0]));
    for (const m of markdown.matchAll(taggedHeading)) expected[m[2]!] = (expected[m[2]!] ?? 0) + 1;
    expect(report.kept.clausesByAuthority).toEqual(expected);
    expect(Object.values(expected).reduce((a, b) => a + b, 0)).toBe(content.clauses.length);
    expect(report.kept.clausesByAuthority).toEqual({ root: 22, system: 3, developer: 1, user: 15, guideline: 18 });
  });

  it("keeps every clause id and level from the file", () => {
    const byId = new Map(content.clauses.map((clause) => [clause.id, clause]));
    for (const m of markdown.matchAll(taggedHeading)) {
      expect(byId.get(m[1]!)?.authority, m[1]).toBe(m[2]);
    }
  });

  it("makes a section of every other heading with an id, nesting kept", () => {
    const untagged = [...markdown.matchAll(/^#{1,6} .*\{#([^\s}]+)\}\s*$/gm)].map((m) => m[1]);
    expect(content.sections.map((s) => s.id)).toEqual(untagged);
    const section = (id: string) => content.sections.find((s) => s.id === id);
    expect(section("prohibited_content")?.parent).toBe("disallowed_content");
    expect(section("disallowed_content")?.parent).toBe("stay_in_bounds");
    expect(section("stay_in_bounds")?.parent).toBeNull();
    const clause = (id: string) => content.clauses.find((c) => c.id === id);
    expect(clause("sexual_content_involving_minors")?.section).toBe("prohibited_content");
    expect(clause("transformation_exception")?.section).toBe("disallowed_content");
    expect(clause("comply_with_laws")?.section).toBe("stay_in_bounds");
    expect(clause("prioritize_teen_safety")?.tags).toEqual(["under_18"]);
  });

  it("does not take lines inside code fences for headings", () => {
    // "# functions" and "# [...] imports" are code inside examples.
    expect(content.sections.map((s) => s.title)).not.toContain("functions");
    expect(content.clauses.some((c) => c.examples.some((e) => e.prompt.some((m) => m.content.includes("# functions"))))).toBe(true);
  });

  it("keeps every comparison, and every two-sided one as a paired example", () => {
    const paired = comparisons.filter((c) => c.includes("<!-- GOOD") && c.includes("<!-- BAD")).length;
    expect(report.kept.examples).toBe(comparisons.length);
    expect(report.kept.pairedExamples).toBe(paired);
    expect(report.kept.oneSidedExamples).toBe(comparisons.length - paired);
    const responses = comparisons.reduce((n, c) => n + (c.match(/<!-- (GOOD|BAD|OK)/g)?.length ?? 0), 0);
    expect(report.kept.responses).toBe(responses);
  });

  it("takes the examples out of the clause texts", () => {
    for (const text of allTexts(content)) expect(text).not.toContain("<comparison>");
    for (const clause of content.clauses) {
      expect(clause.text, clause.id).not.toContain("~~~xml");
      expect(clause.text, clause.id).not.toMatch(/^\*\*Example\*\*/m);
    }
  });

  it("turns footnotes into notes, cross-references into titled links, admonitions into commentary, and decodes entities", () => {
    const sourceFootnotes = markdown.match(/\[\^[^\]\s]+\]/g)!.length;
    const sourceXrefs = markdown.match(/\[\?\]\(#[^)]+\)/g)!.length;
    const sourceAdmonitions = markdown.match(/^!!! meta/gm)!.length;
    expect([sourceFootnotes, sourceXrefs, sourceAdmonitions]).toEqual([116, 66, 28]);
    const notes = [...content.clauses, ...content.sections].reduce((n, item) => n + (item.notes?.length ?? 0), 0);
    // A label used twice in one clause is one note.
    expect(notes).toBe(new Set(content.clauses.flatMap((c) => (c.notes ?? []).map((note) => `${c.id}:${note.id}`))).size + content.sections.reduce((n, s) => n + (s.notes?.length ?? 0), 0));
    expect(notes).toBeGreaterThan(100);
    const commentaries = [...content.clauses, ...content.sections].filter((item) => item.commentary !== undefined);
    expect(commentaries.length).toBeGreaterThan(0);
    expect(content.clauses.find((c) => c.id === "ask_clarifying_questions")!.notes!.map((n) => n.id)).toContain("u3nx");
    // Every cross-reference names its target by title.
    const follow = content.clauses.find((c) => c.id === "follow_all_applicable_instructions")!;
    expect(follow.text).toContain("(see [Respect the letter and spirit of instructions](#letter_and_spirit))");
    const entityExample = content.clauses.flatMap((c) => c.examples).flatMap((e) => e.responses).find((r) => r.content.includes("def find_minimum"))!;
    expect(entityExample.content).toContain("-> float:");
    const joined = report.notes.join("\n");
    expect(joined).toContain(`Footnote references moved out of the text into their clause's or section's notes: ${sourceFootnotes}`);
    expect(joined).toContain(`Cross-references [?](#id) given the title of the clause or section they point to: ${sourceXrefs}.`);
    expect(joined).toContain(`moved into the non-normative commentary of their clause or section: ${sourceAdmonitions}.`);
    expect(joined).toMatch(/HTML entities decoded in \d+ lines of prose and [1-9]\d* messages or notes of examples/);
  });

  it("maps messages, labels and notes, and splits multi-turn comparisons", () => {
    const clause = content.clauses.find((c) => c.id === "protect_privacy")!;
    const parts = clause.examples.filter((e) => e.title?.startsWith("asking for an elected public official's contact info"));
    expect(parts.map((e) => e.title)).toEqual([
      "asking for an elected public official's contact info (comparison 1 of 2)",
      "asking for an elected public official's contact info (comparison 2 of 2)",
    ]);
    expect(parts[0]!.responses[0]).toMatchObject({ label: "bad", note: "violates #chain_of_command" });
    // The conversation goes on from the GOOD answer of the first comparison.
    expect(parts[1]!.prompt.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(parts[1]!.prompt[1]!.content).toMatch(/^Office of the Mayor:/);
    const knife = content.clauses.flatMap((c) => c.examples).find((e) => e.title?.startsWith("user in a video call wants help on knife"))!;
    expect(knife.responses.map((r) => [r.label, r.note])).toEqual([
      ["good", "clear directions for safe use"],
      ["bad", "warning without direction"],
      ["bad", "refuses to be helpful"],
    ]);
    const tool = content.clauses.find((c) => c.id === "ignore_untrusted_data")!.examples[0]!;
    expect(tool.prompt.map((m) => m.role)).toEqual(["assistant", "tool"]);
  });

  it("reports exactly what it could not map, and nothing else", () => {
    const kinds = report.notMapped.map((entry) => {
      if (/^label OK/.test(entry.what)) return "OK label";
      if (/^attribute /.test(entry.what)) return "message attribute";
      if (/between messages$/.test(entry.what)) return "elided turns";
      if (/^example /.test(entry.what) && entry.where.startsWith("section #definitions")) return "example in a section";
      return `unexpected: ${JSON.stringify(entry)}`;
    });
    const tally = Object.fromEntries([...new Set(kinds)].map((k) => [k, kinds.filter((x) => x === k).length]));
    expect(tally).toEqual({
      "example in a section": 2,
      "message attribute": 4,
      "OK label": markdown.match(/<!-- OK/g)?.length,
      "elided turns": 1,
    });
    // The examples that stay in a section are kept there verbatim.
    expect(content.sections.find((s) => s.id === "definitions")?.text).toContain('<assistant recipient="python" end_turn="false">');
  });

  it("uses the Model Spec's title and licence by default", () => {
    expect(content.title).toBe("OpenAI Model Spec");
    expect(content.licence).toBe("CC0-1.0");
    const custom = importModelSpec("# A {#a authority=root}\n\nText.", { title: "Mine", licence: "CC-BY-4.0" }).content;
    expect([custom.title, custom.licence]).toEqual(["Mine", "CC-BY-4.0"]);
  });

  it("round-trips through the policy schema", () => {
    const again = policyContentSchema.parse(JSON.parse(JSON.stringify(content)));
    expect(again).toEqual(content);
  });

  it("is fast", () => {
    console.info(`importModelSpec on model_spec.md (${markdown.length} characters): ${elapsedMs.toFixed(1)} ms`);
    expect(elapsedMs).toBeLessThan(2000);
  });
});

describe("importModelSpec structure rules", () => {
  const md = [
    "Intro before any heading.",
    "",
    "# Part {#part}",
    "Part prose.[^n1]",
    "",
    "[^n1]: A footnote defined here.",
    "",
    "## Rule {#rule authority=developer}",
    "Rule text.",
    "",
    "### Detail {#detail}",
    "Detail prose belongs to the rule.",
    "",
    "### Inner rule {#inner authority=guideline tags=a,b}",
    "Inner text.",
    "",
    "**Example**: one-sided",
    "",
    "~~~xml",
    "<user>",
    "Hi",
    "</user>",
    "<comparison>",
    "<assistant> <!-- GOOD -->",
    "Hello",
    "</assistant>",
    "</comparison>",
    "~~~",
    "",
    "After the example.",
    "",
    "~~~",
    "# not a heading",
    "~~~",
    "",
    "## Odd {#odd authority=boss}",
    "Odd prose.",
    "",
    "**Example**: in a section",
    "",
    "~~~xml",
    "<user>",
    "Hi",
    "</user>",
    "~~~",
  ].join("\n");
  const { content, report } = importModelSpec(md);

  it("keeps untagged sub-headings in the clause and starts a clause at a nested tagged heading", () => {
    expect(content.clauses.map((c) => [c.id, c.section, c.authority])).toEqual([
      ["rule", "part", "developer"],
      ["inner", "part", "guideline"],
    ]);
    const rule = content.clauses[0]!;
    expect(rule.text).toBe("Rule text.\n\n### Detail {#detail}\nDetail prose belongs to the rule.");
    const inner = content.clauses[1]!;
    expect(inner.tags).toEqual(["a", "b"]);
    expect(inner.text).toBe("Inner text.\n\nAfter the example.\n\n~~~\n# not a heading\n~~~");
    expect(inner.examples).toEqual([{ title: "one-sided", prompt: [{ role: "user", content: "Hi" }], responses: [{ content: "Hello", label: "good" }] }]);
    expect(report.kept).toMatchObject({ examples: 1, pairedExamples: 0, oneSidedExamples: 1 });
  });

  it("keeps the preamble, footnote definitions and examples it cannot map, and reports them", () => {
    expect(content.summary).toBe("Intro before any heading.");
    expect(content.sections.find((s) => s.id === "part")).toMatchObject({ text: "Part prose.", notes: [{ id: "n1", text: "A footnote defined here." }] });
    expect(content.sections.map((s) => s.id)).toEqual(["part", "odd"]);
    expect(content.sections.find((s) => s.id === "odd")?.text).toContain("~~~xml\n<user>\nHi\n</user>\n~~~");
    expect(report.notMapped.map((e) => e.what)).toEqual(["authority=boss", 'example "in a section"']);
    expect(report.notMapped[1]!.reason).toMatch(/only clauses hold examples; it has no <comparison> either/);
    expect(report.notes).toContain("The text before the first section heading became the summary.");
  });

  it("keeps code blocks byte for byte, blank lines included", () => {
    const code = "~~~python\nx = 1\n\n\ny = 2\n~~~";
    const { content: c } = importModelSpec(`# R {#r authority=user}\n\nText.\n\n\n${code}\n`);
    expect(c.clauses[0]!.text).toBe(`Text.\n\n${code}`);
  });

  it("reports the prompt-only examples of the examples/ files instead of dropping them", () => {
    const file = readFileSync(exampleUrl("092i.md"), "utf8");
    const { content: c, report: r } = importModelSpec(file);
    // Four prompt-only examples, and the file's own footnote reference in its (summary) first line.
    expect(r.notMapped).toHaveLength(5 + 1);
    expect(r.notMapped.at(-1)!.what).toBe("footnote references [^092i]");
    expect(r.kept.examples).toBe(0);
    expect(c.summary).toContain("What's the German word for 'Gypsy'?");
  });
});
