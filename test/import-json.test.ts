/**
 * Fedalign policy JSON: a valid document imports as it is; an invalid one is
 * refused with every issue and its path, in one error. Also the format
 * guess and the dispatcher shared by all three formats.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { detectFormat, importPolicy, importPolicyJson, parseJsonText } from "../src/policies/import/json.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import { ImportError } from "../src/policies/import/report.ts";

const specUrl = new URL("./fixtures/model_spec/model_spec.md", import.meta.url);

function validDocument() {
  return {
    title: "Clinic assistant",
    summary: "How the assistant talks to patients.",
    licence: "CC-BY-4.0",
    contexts: [{ domain: ["health"], locale: ["sw", "en-GB"] }],
    sections: [{ id: "care", title: "Care", parent: null, text: "" }],
    clauses: [
      {
        id: "care.referral",
        title: "Refer",
        section: "care",
        authority: "developer",
        text: "Refer urgent symptoms to a clinician.",
        examples: [
          {
            prompt: [{ role: "user", content: "My chest hurts." }],
            responses: [
              { content: "Please call emergency services now.", label: "good" },
              { content: "Try resting.", label: "bad", note: "delays care" },
            ],
          },
        ],
      },
      { id: "care.tone", authority: "guideline", text: "Be warm." },
    ],
  };
}

function thrown(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ImportError) return error;
    throw error;
  }
  throw new Error("expected an ImportError");
}

describe("importPolicyJson", () => {
  it("imports a valid document, defaults filled in, nothing unmapped", () => {
    const { content, report } = importPolicyJson(validDocument());
    expect(content.clauses[1]).toMatchObject({ id: "care.tone", title: "", section: null, rationale: "", examples: [], tags: [] });
    expect(report).toMatchObject({ format: "json", notMapped: [], notes: [] });
    expect(report.kept).toMatchObject({ sections: 1, clauses: 2, examples: 1, pairedExamples: 1, oneSidedExamples: 0, responses: 2 });
    expect(report.kept.clausesByAuthority).toEqual({ root: 0, system: 0, developer: 1, user: 0, guideline: 1 });
  });

  it("takes back what the Model Spec importer produced", () => {
    const spec = importModelSpec(readFileSync(specUrl, "utf8")).content;
    const again = importPolicy(JSON.stringify(spec), "json");
    expect(again.content).toEqual(spec);
    expect(again.report.kept.clauses).toBe(spec.clauses.length);
  });

  it("refuses an invalid document with every issue and its path", () => {
    const doc = validDocument() as Record<string, unknown> & ReturnType<typeof validDocument>;
    doc.contexts[0]!.locale = ["sw", "not a locale!"];
    (doc.clauses[1] as { authority: string }).authority = "boss";
    doc.clauses.push({ id: "care.referral", authority: "user", text: "Again." });
    doc.clauses.push({ id: "care.empty", authority: "user", text: "   " });
    const error = thrown(() => importPolicyJson(doc));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Not valid Fedalign policy JSON: /);
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: "contexts.0.locale.1", message: expect.stringMatching(/not a BCP 47 language tag/) },
        { path: "clauses.1.authority", message: expect.stringMatching(/unknown authority level "boss"/) },
        { path: "clauses.2.id", message: 'duplicate clause id "care.referral"' },
        { path: "clauses.3.text", message: "must not be empty" },
      ]),
    );
    expect(error.issues).toHaveLength(4);
  });

  it("reports unknown sections and extra fields", () => {
    const doc = { ...validDocument(), extra: 1 };
    doc.clauses[0]!.section = "nowhere";
    const paths = thrown(() => importPolicyJson(doc)).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["", "clauses.0.section"]));
  });

  it("lets the caller set title and licence, and says when that replaces the file's", () => {
    const doc: Record<string, unknown> = validDocument();
    delete doc.licence;
    const { content, report } = importPolicyJson(doc, { title: "Renamed", licence: "CC0-1.0" });
    expect([content.title, content.licence]).toEqual(["Renamed", "CC0-1.0"]);
    expect(report.notes).toEqual(['The title given, "Renamed", replaces the file\'s "Clinic assistant".']);
  });
});

describe("JSON text, format detection and dispatch", () => {
  it("says where invalid JSON breaks, by line and column", () => {
    expect(thrown(() => parseJsonText('{\n  "title": "x",\n}')).message).toMatch(/^The file is not valid JSON at line 3, column 1: /);
    expect(thrown(() => parseJsonText("")).message).toMatch(/at the end \(line 1, column 1\)/);
    expect(thrown(() => importPolicy("[1, 2", "json")).message).toMatch(/not valid JSON at line 1, column 6/);
  });

  it("guesses the format from the name, then the content", () => {
    const constitution = JSON.stringify({ id: "x", title: "X", criteria: [] });
    const policy = JSON.stringify(validDocument());
    expect(detectFormat("model_spec.md", "# Overview")).toBe("modelspec");
    expect(detectFormat("spec.markdown", "{")).toBe("modelspec");
    expect(detectFormat("ubuntu.json", constitution)).toBe("constitution");
    expect(detectFormat("policy.json", policy)).toBe("json");
    expect(detectFormat("upload", ` ${constitution}`)).toBe("constitution");
    expect(detectFormat("upload", policy)).toBe("json");
    expect(detectFormat("broken.json", "{ nope")).toBe("json");
    expect(detectFormat("notes.txt", "Some prose")).toBe("modelspec");
  });

  it("dispatches to each importer", () => {
    expect(importPolicy("# R {#r authority=root}\n\nText.", "modelspec").report.format).toBe("modelspec");
    expect(importPolicy(JSON.stringify(validDocument()), "json").report.format).toBe("json");
    expect(thrown(() => importPolicy("{}", "yaml" as never)).message).toMatch(/Unknown import format "yaml"/);
  });
});
