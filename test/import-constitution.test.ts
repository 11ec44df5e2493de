/**
 * The constitution importer against the real ubuntu.json: every principle
 * becomes a clause, its reasoning the rationale, its scenarios kept; what
 * has no place in policy content is reported, and a file of another shape
 * is refused with every problem named.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { policyContentSchema } from "../src/policies/content.ts";
import { importConstitution } from "../src/policies/import/constitution.ts";
import { detectFormat, importPolicy } from "../src/policies/import/json.ts";
import { ImportError } from "../src/policies/import/report.ts";

// shared/ sits beside the repository, locally and in CI.
const fileUrl = new URL("./fixtures/constitutions/ubuntu.json", import.meta.url);
const text = readFileSync(fileUrl, "utf8");

interface Principle {
  comparative: string;
  reasoning: string;
  scenarios: string[];
}
const source = JSON.parse(text) as { criteria: Principle[]; guidelines: Principle[]; overview: string; license: string };
const { content, report } = importConstitution(JSON.parse(text));

function thrown(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ImportError) return error;
    throw error;
  }
  throw new Error("expected an ImportError");
}

describe("importConstitution on ubuntu.json", () => {
  it("makes every criterion and guideline a clause with its reasoning as rationale", () => {
    const principles = [...source.criteria, ...source.guidelines];
    expect(content.clauses).toHaveLength(principles.length);
    expect(source.criteria).toHaveLength(12);
    expect(source.guidelines).toHaveLength(5);
    principles.forEach((principle, i) => {
      const clause = content.clauses[i]!;
      expect(clause.text.startsWith(principle.comparative)).toBe(true);
      expect(clause.rationale).toBe(principle.reasoning);
      expect(clause.authority).toBe("guideline");
    });
    expect(report.kept.clausesByAuthority.guideline).toBe(17);
  });

  it("gives ids from the constitution id and position, in a section per list", () => {
    expect(content.clauses[0]!.id).toBe("ubuntu.criterion.1");
    expect(content.clauses[12]!.id).toBe("ubuntu.guideline.1");
    expect(content.sections.map((s) => s.id)).toEqual(["ubuntu.criteria", "ubuntu.guidelines"]);
    expect(new Set(content.clauses.map((c) => c.section))).toEqual(new Set(["ubuntu.criteria", "ubuntu.guidelines"]));
    expect(importConstitution(JSON.parse(text)).content.clauses.map((c) => c.id)).toEqual(content.clauses.map((c) => c.id));
  });

  it("keeps every scenario as a prompt-only example of its clause", () => {
    const principles = [...source.criteria, ...source.guidelines];
    principles.forEach((principle, i) => {
      const prompts = content.clauses[i]!.examples.map((example) => example.prompt[0]!.content);
      expect(prompts).toEqual(principle.scenarios.map((scenario) => scenario.trim()));
      for (const example of content.clauses[i]!.examples) expect(example.responses).toEqual([]);
    });
    const total = principles.reduce((sum, principle) => sum + principle.scenarios.length, 0);
    expect(report.kept.scenarios).toBe(total);
    expect(report.notMapped.filter((e) => e.where.endsWith(".scenarios"))).toEqual([]);
  });

  it("keeps title, summary, licence, credit and tradition tags", () => {
    expect(content.title).toBe("Ubuntu");
    expect(content.licence).toBe(source.license);
    expect(content.summary).toContain(source.overview);
    expect(content.summary).toContain("Anand Shanker, Juan Cadile");
    expect(content.clauses[0]!.tags).toEqual(["criterion", "tradition:Ubuntu", "tradition-class:philosophical", "valence:aligned"]);
  });

  it("reports each metadata field it does not map, with its value", () => {
    const fields = report.notMapped.filter((e) => !e.where.endsWith(".scenarios")).map((e) => e.where);
    expect(fields).toEqual(["schema_version", "version", "role", "in_basis", "changelog", "provenance.method", "provenance.source_bundle", "provenance.researcher_pass"]);
    expect(report.notMapped.find((e) => e.where === "version")?.what).toBe('version: "1.0.0"');
  });

  it("reports fields it does not know instead of dropping them", () => {
    const json = JSON.parse(text);
    json.audience = "everyone";
    json.criteria[0].weight = 2;
    const r = importConstitution(json).report;
    expect(r.notMapped.map((e) => e.where)).toEqual(expect.arrayContaining(["audience", "criteria[0].weight"]));
  });

  it("is valid policy content, and is found by format detection", () => {
    expect(policyContentSchema.parse(JSON.parse(JSON.stringify(content)))).toEqual(content);
    expect(detectFormat("ubuntu.json", text)).toBe("constitution");
    expect(importPolicy(text, "constitution").content).toEqual(content);
  });
});

describe("importConstitution refuses other shapes", () => {
  it("names every problem with its path", () => {
    const json = JSON.parse(text);
    delete json.criteria;
    json.title = 7;
    json.guidelines[1].comparative = " ";
    const error = thrown(() => importConstitution(json));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Not a constitution file/);
    expect(error.issues.map((i) => i.path)).toEqual(["title", "criteria", "guidelines[1].comparative"]);
    expect(error.issues.find((i) => i.path === "criteria")?.message).toBe("is required");
  });

  it("refuses something that is not an object", () => {
    expect(thrown(() => importConstitution([1, 2])).message).toMatch(/^Not a constitution file.*\(root\): .*expected object/);
  });

  it("asks for a licence when the file has none", () => {
    const json = JSON.parse(text);
    delete json.license;
    expect(thrown(() => importConstitution(json)).message).toMatch(/no "license" field/);
    expect(importConstitution(json, { licence: "CC-BY-4.0" }).content.licence).toBe("CC-BY-4.0");
  });

  it("says where invalid JSON text breaks", () => {
    expect(thrown(() => importPolicy('{\n  "id": "x",\n  "title": "y"\n  "criteria": []\n}', "constitution")).message).toMatch(/not valid JSON at line 4, column 3/);
  });
});
