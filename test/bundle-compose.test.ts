/**
 * Composition of policies into an effective policy for a context of use:
 * facet matching, selection, order, deduplication, conflicts, renderers.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  appliesTo,
  composePolicies,
  localeCovers,
  parseTargetContext,
  toMarkdown,
  toPrinciples,
  toSystemPrompt,
  type Source,
  type TargetContext,
} from "../src/bundles/compose.ts";
import { InvalidInputError } from "../src/errors.ts";
import type { ContextOfUse, PolicyContentInput } from "../src/policies/content.ts";
import { contentHash } from "../src/policies/hash.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import { parse } from "./content-builders.ts";

function source(id: string, input: PolicyContentInput, extra: Partial<Source> = {}): Source {
  const content = parse(input);
  return {
    id: `https://${id}.example/policies/p`,
    versionIri: `https://${id}.example/policies/p/versions/1`,
    contentHash: contentHash(content),
    community: `https://${id}.example/communities/c`,
    instance: `https://${id}.example`,
    title: content.title,
    content,
    ...extra,
  };
}

describe("parseTargetContext", () => {
  it("reads facets, canonicalises the locale", () => {
    expect(parseTargetContext("domain=health,audience=patients,locale=sw")).toEqual({ domain: "health", audience: "patients", locale: "sw" });
    expect(parseTargetContext(" Locale = pt-br , deployment=chat ")).toEqual({ locale: "pt-BR", deployment: "chat" });
    expect(parseTargetContext("")).toEqual({});
  });

  it.each([
    ["colour=red", /unknown facet "colour"/],
    ["domain", /not facet=value/],
    ["domain=a,domain=b", /more than once/],
    ["domain=", /empty value/],
    ["domain=a,,audience=b", /empty entry/],
    ["locale=not_a_locale!", /BCP 47/],
  ])("rejects %s", (text, message) => {
    expect(() => parseTargetContext(text)).toThrow(InvalidInputError);
    expect(() => parseTargetContext(text)).toThrow(message);
  });
});

describe("appliesTo", () => {
  const cases: [string, ContextOfUse, TargetContext, boolean][] = [
    ["empty context applies to anything", {}, { domain: "health", locale: "sw" }, true],
    ["empty context, empty target", {}, {}, true],
    ["missing facet = any", { audience: ["patients"] }, { domain: "health", audience: "patients" }, true],
    ["matching domain", { domain: ["health", "education"] }, { domain: "health" }, true],
    ["other domain", { domain: ["education"] }, { domain: "health" }, false],
    ["target leaves facet open", { domain: ["education"] }, {}, true],
    ["case-insensitive", { domain: ["Health"], audience: ["PATIENTS"] }, { domain: "health", audience: "Patients" }, true],
    ["pt covers pt-BR", { locale: ["pt"] }, { locale: "pt-BR" }, true],
    ["pt-BR does not cover pt", { locale: ["pt-BR"] }, { locale: "pt" }, false],
    ["pt does not cover ptx", { locale: ["pt"] }, { locale: "ptx" }, false],
    ["pt-BR does not cover pt-PT", { locale: ["pt-BR"] }, { locale: "pt-PT" }, false],
    ["locale case-insensitive", { locale: ["PT-br"] }, { locale: "pt-BR" }, true],
    ["one facet failing fails", { domain: ["health"], locale: ["sw"] }, { domain: "health", locale: "en" }, false],
    ["deployment", { deployment: ["api"] }, { deployment: "API" }, true],
  ];
  it.each(cases)("%s", (_name, context, target, expected) => {
    expect(appliesTo(context, target)).toBe(expected);
  });

  it("compares whole subtags", () => {
    expect(localeCovers("en", "en-Latn-US")).toBe(true);
    expect(localeCovers("en-US", "en-Latn-US")).toBe(false);
    expect(localeCovers("zh-Hant", "zh-Hant-TW")).toBe(true);
  });
});

const health = source("health", {
  title: "Health community policy",
  licence: "CC-BY-4.0",
  contexts: [{ domain: ["health"] }],
  clauses: [
    { id: "no-diagnosis", title: "No diagnosis", authority: "system", text: "Do not give a diagnosis.", rationale: "Safety." },
    { id: "cite-sources", authority: "guideline", text: "Cite medical sources." },
    { id: "sw-tone", authority: "user", text: "Use a warm tone in Swahili.", context: { locale: ["sw"] } },
    { id: "kids", authority: "user", text: "Use simple words.", context: { audience: ["children"] } },
    { id: "be-honest", authority: "root", text: "Be honest." },
    { id: "privacy", authority: "root", text: "Protect patient privacy." },
    { id: "share-records", authority: "developer", text: "Share records with clinicians on request.", tags: ["conflicts-with:privacy-strict"] },
  ],
});

const general = source("general", {
  title: "General assistant policy",
  licence: "CC0-1.0",
  clauses: [
    { id: "be-honest", authority: "root", text: "Be honest." },
    { id: "privacy", authority: "root", text: "Protect privacy of everyone." },
    { id: "privacy-strict", authority: "system", text: "Never share personal records." },
    { id: "edu-only", authority: "user", text: "Explain like a teacher.", context: { domain: ["education"] } },
    { id: "concise", authority: "guideline", text: "Prefer the response that is concise." },
  ],
});

const schools = source("schools", {
  title: "Schools policy",
  licence: "MIT",
  contexts: [{ domain: ["education"] }, { audience: ["children"], domain: ["play"] }],
  clauses: [{ id: "homework", authority: "user", text: "Do not do homework for students." }],
});

describe("composePolicies", () => {
  const target = parseTargetContext("domain=health,audience=patients,locale=sw");
  const effective = composePolicies([health, general, schools], target, {
    annotations: [
      { clauseId: "cite-sources", sourceId: health.id, motivation: "object", text: "Sources are often paywalled.", author: "https://x.example/u/a" },
      { clauseId: "cite-sources", sourceId: health.id, motivation: "comment", text: "Nice.", author: "https://x.example/u/b" },
      { clauseId: "homework", sourceId: schools.id, motivation: "object", text: "Not included anyway.", author: "https://x.example/u/c" },
    ],
  });
  const order = effective.clauses.map((c) => `${c.id}@${c.provenance[0]!.sourceId.split("/")[2]}`);

  it("picks exactly the applicable clauses in authority, source, position order", () => {
    expect(order).toEqual([
      "be-honest@health.example",
      "privacy@health.example",
      "privacy@general.example",
      "no-diagnosis@health.example",
      "privacy-strict@general.example",
      "share-records@health.example",
      "sw-tone@health.example",
      "cite-sources@health.example",
      "concise@general.example",
    ]);
    expect(effective.excludedClauses).toEqual([
      expect.objectContaining({ clauseId: "kids", sourceId: health.id, facet: "audience" }),
      expect.objectContaining({ clauseId: "edu-only", sourceId: general.id, facet: "domain" }),
    ]);
  });

  it("deduplicates identical clauses with both provenances", () => {
    const honest = effective.clauses.filter((c) => c.id === "be-honest");
    expect(honest).toHaveLength(1);
    expect(honest[0]!.provenance.map((p) => p.sourceId)).toEqual([health.id, general.id]);
    expect(honest[0]!.provenance[1]).toEqual({
      sourceId: general.id,
      versionIri: general.versionIri,
      contentHash: general.contentHash,
      community: general.community,
      instance: general.instance,
      clauseId: "be-honest",
    });
    expect(effective.summary.deduplicated).toBe(1);
  });

  it("lists conflicts: same id different text, declared tag, objection", () => {
    expect(effective.conflicts.map((c) => [c.kind, c.clauseId])).toEqual([
      ["same-id-different-text", "privacy"],
      ["declared", "share-records"],
      ["objection", "cite-sources"],
    ]);
    const [same, declared, objection] = effective.conflicts;
    expect(same).toMatchObject({ differs: ["text"], variants: [{ provenance: [{ sourceId: health.id }] }, { provenance: [{ sourceId: general.id }] }] });
    expect(declared).toMatchObject({ withClauseId: "privacy-strict", withProvenance: [{ sourceId: general.id }], mutual: false });
    expect(objection).toMatchObject({ objection: { author: "https://x.example/u/a" } });
    expect(effective.clauses.find((c) => c.id === "cite-sources")!.objections).toHaveLength(1);
    expect(effective.summary.conflictsByKind).toEqual({ "same-id-different-text": 1, declared: 1, objection: 1 });
  });

  it("excludes a source none of whose contexts applies", () => {
    expect(effective.excludedSources).toEqual([
      expect.objectContaining({ id: schools.id, reason: expect.stringContaining("domain: education") }),
    ]);
    expect(effective.sources.map((s) => [s.id, s.included, s.licence])).toEqual([
      [health.id, 6, "CC-BY-4.0"],
      [general.id, 4, "CC0-1.0"],
    ]);
    expect(effective.summary).toMatchObject({ sources: 3, includedSources: 2, excludedSources: 1, clauses: 9, excludedClauses: 2 });
    // With domain open, the schools policy applies again.
    const open = composePolicies([health, general, schools], {});
    expect(open.excludedSources).toEqual([]);
    expect(open.clauses.map((c) => c.id)).toContain("homework");
  });

  it("precedence option, then precedence numbers, change order among the same authority", () => {
    const first = (e: ReturnType<typeof composePolicies>) =>
      e.clauses.filter((c) => c.authority === "root").map((c) => `${c.id}@${c.provenance[0]!.sourceId.split("/")[2]}`);
    const byOption = composePolicies([health, general], target, { precedence: [general.id] });
    expect(first(byOption)).toEqual(["be-honest@general.example", "privacy@general.example", "privacy@health.example"]);
    expect(byOption.clauses[0]!.provenance.map((p) => p.sourceId)).toEqual([general.id, health.id]);
    const byNumber = composePolicies([health, { ...general, precedence: 5 }], target);
    expect(first(byNumber)).toEqual(first(byOption));
    expect(byNumber.sources.map((s) => s.id)).toEqual([general.id, health.id]);
  });

  it("reports mutual declared conflicts once, ignores same-source declarations", () => {
    const a = source("a", { title: "A", licence: "MIT", clauses: [{ id: "x", authority: "user", text: "X.", tags: ["conflicts-with:y", "conflicts-with:x2"] }, { id: "x2", authority: "user", text: "X2." }] });
    const b = source("b", { title: "B", licence: "MIT", clauses: [{ id: "y", authority: "user", text: "Y.", tags: ["conflicts-with:x"] }] });
    const e = composePolicies([a, b], {});
    expect(e.conflicts).toEqual([expect.objectContaining({ kind: "declared", clauseId: "x", withClauseId: "y", mutual: true })]);
  });

  it("rejects bad input", () => {
    expect(() => composePolicies([health, health], {})).toThrow(/more than once/);
    expect(() => composePolicies([health], { locale: "not a locale" })).toThrow(InvalidInputError);
  });

  it("renders deterministically", () => {
    const again = composePolicies([schools, general, health], target, {
      annotations: [{ clauseId: "cite-sources", sourceId: health.id, motivation: "object", text: "Sources are often paywalled.", author: "https://x.example/u/a" }],
      precedence: [health.id, general.id],
    });
    expect(toMarkdown(again)).toBe(toMarkdown(effective));
    expect(toSystemPrompt(again)).toBe(toSystemPrompt(effective));
    expect(toPrinciples(again)).toEqual(toPrinciples(effective));

    const md = toMarkdown(effective);
    expect(md.endsWith("\n") && !md.endsWith("\n\n") && !md.includes("\r")).toBe(true);
    for (const clause of effective.clauses) expect(md).toContain(clause.text);
    expect(md).toContain("## Root");
    expect(md).toContain("### No diagnosis (`no-diagnosis`)");
    expect(md).toContain("*Rationale:* Safety.");
    expect(md).toContain("*Context:* locale: sw");
    expect(md).toContain(`${general.versionIri}, \`${general.contentHash.slice(0, 19)}\``);
    expect(md).toContain("## Conflicts");
    expect(md).toContain("licence CC-BY-4.0");
    expect(md).toContain("Sources are often paywalled.");
    expect(md.indexOf("## Root")).toBeLessThan(md.indexOf("## System"));

    const prompt = toSystemPrompt(effective, "full");
    expect(prompt.startsWith("You are operating under a policy composed for domain=health, audience=patients, locale=sw.")).toBe(true);
    expect(prompt).toContain("1. [be-honest]: Be honest.");
    expect(prompt).toContain("4. No diagnosis [no-diagnosis]: Do not give a diagnosis.");
    expect(prompt).toContain("\nSources:\n- Health community policy");
    expect(prompt).not.toContain("sha256:");
    expect(prompt.endsWith("\n") && !prompt.endsWith("\n\n")).toBe(true);
    const compact = toSystemPrompt(effective);
    expect(compact).toBe(toSystemPrompt(effective, "compact"));
    expect(compact.startsWith("Policy for domain=health, audience=patients, locale=sw.")).toBe(true);
    expect(compact).toContain("# Root\n\n[be-honest] Be honest.\n");
    expect(compact).toContain("[no-diagnosis] Do not give a diagnosis.");
    expect(compact).not.toContain("Sources:");
    expect(compact.length).toBeLessThan(prompt.length);

    const principles = toPrinciples(effective);
    expect(principles[0]).toEqual({
      id: "be-honest",
      authority: "root",
      title: "",
      principle: "Choose the response that best follows the principle Be honest.",
      critique: "Identify specific ways in which the assistant's last response does not follow [be-honest]. Be honest.",
      revision: "Rewrite the assistant's last response so that it follows [be-honest], changing only what the critique found.",
      source: health.id,
    });
    expect(principles.at(-1)).toMatchObject({ id: "concise", authority: "guideline", principle: "Prefer the response that is concise.", source: general.id });
    expect(JSON.parse(JSON.stringify(principles))).toEqual(principles);
  });
});

describe("Model Spec", () => {
  it("composes with a small second policy", () => {
    const markdown = readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8");
    const { content } = importModelSpec(markdown);
    const spec: Source = {
      id: "https://openai.example/policies/model-spec",
      versionIri: "https://openai.example/policies/model-spec/versions/1",
      contentHash: contentHash(content),
      community: "https://openai.example/communities/openai",
      instance: "https://openai.example",
      title: content.title,
      content,
    };
    const local = source("local", {
      title: "Local health addendum",
      licence: "CC-BY-4.0",
      clauses: [{ id: "local-health", authority: "developer", text: "Refer patients to a clinic.", tags: [`conflicts-with:${content.clauses[0]!.id}`] }],
    });
    const effective = composePolicies([spec, local], parseTargetContext("domain=health,locale=sw"));
    expect(effective.clauses).toHaveLength(content.clauses.length + 1);
    expect(effective.conflicts.map((c) => c.kind)).toEqual(["declared"]);
    const levels = effective.clauses.map((c) => c.authority);
    expect([...levels].sort((a, b) => ["root", "system", "developer", "user", "guideline"].indexOf(a) - ["root", "system", "developer", "user", "guideline"].indexOf(b))).toEqual(levels);
    expect(toMarkdown(effective)).toContain("Refer patients to a clinic.");
    expect(toSystemPrompt(effective, "full")).toContain("Sources:\n- OpenAI Model Spec");
    expect(toPrinciples(effective)).toHaveLength(effective.clauses.length);
  });
});
