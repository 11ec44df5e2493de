/**
 * What every importer hands back: the policy content plus a report that
 * accounts for the whole source. Nothing may be dropped silently: whatever
 * an importer could not map to PolicyContent is listed in `notMapped` with
 * where it was and why, and every judgement call (a default, a lossy label,
 * text kept verbatim instead of structured) is stated in `notes`.
 */
import { InvalidInputError } from "../../errors.ts";
import {
  AUTHORITY_LEVELS,
  policyContentSchema,
  type AuthorityLevel,
  type PolicyContent,
  type PolicyContentInput,
} from "../content.ts";

export type ImportFormat = "modelspec" | "constitution" | "json";

export interface NotMapped {
  /** The piece of the source, quoted or described. */
  what: string;
  /** Where it is: a heading and line for Markdown, a JSON path for JSON. */
  where: string;
  reason: string;
}

export interface KeptCounts {
  sections: number;
  clauses: number;
  /** All examples, whatever their labels. */
  examples: number;
  /** Examples with at least one good and one bad response: usable as preference pairs. */
  pairedExamples: number;
  /** Examples whose responses are all good or all bad. Kept, but yield no pair. */
  oneSidedExamples: number;
  /** Examples with a prompt and no responses yet (scenarios). */
  scenarios: number;
  responses: number;
  clausesByAuthority: Record<AuthorityLevel, number>;
}

export interface ImportReport {
  format: ImportFormat;
  kept: KeptCounts;
  notMapped: NotMapped[];
  notes: string[];
}

export interface ImportResult {
  content: PolicyContent;
  report: ImportReport;
}

export interface ImportIssue {
  path: string;
  message: string;
}

/**
 * The source cannot be imported. A 400-class error (the API answers
 * problem+json) that also carries every issue, so a caller can show them all
 * instead of one at a time.
 */
export class ImportError extends InvalidInputError {
  readonly issues: ImportIssue[];
  constructor(summary: string, issues: ImportIssue[] = []) {
    super(issues.length === 0 ? summary : `${summary}: ${issues.map(formatIssue).join("; ")}`);
    this.issues = issues;
  }
}

function formatIssue(issue: ImportIssue): string {
  return `${issue.path === "" ? "(root)" : issue.path}: ${issue.message}`;
}

/** Counts are taken from the final content, so the report cannot disagree with it. */
export function countKept(content: PolicyContent): KeptCounts {
  const clausesByAuthority = Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, 0])) as Record<AuthorityLevel, number>;
  const counts: KeptCounts = {
    sections: content.sections.length,
    clauses: content.clauses.length,
    examples: 0,
    pairedExamples: 0,
    oneSidedExamples: 0,
    scenarios: 0,
    responses: 0,
    clausesByAuthority,
  };
  for (const clause of content.clauses) {
    clausesByAuthority[clause.authority] += 1;
    for (const example of clause.examples) {
      counts.examples += 1;
      counts.responses += example.responses.length;
      const labels = new Set(example.responses.map((response) => response.label));
      if (labels.has("good") && labels.has("bad")) counts.pairedExamples += 1;
      else if (labels.size === 0) counts.scenarios += 1;
      else counts.oneSidedExamples += 1;
    }
  }
  return counts;
}

/**
 * Validates what an importer built and wraps it with its report. Content
 * that fails the schema here comes from a source the importer could read but
 * not fit (a 600-character title, say), so the error names every issue.
 */
export function finishImport(
  format: ImportFormat,
  input: PolicyContentInput,
  notMapped: NotMapped[],
  notes: string[],
): ImportResult {
  const parsed = policyContentSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
    throw new ImportError(`The ${format} import produced content that is not valid policy content`, issues);
  }
  const content = parsed.data;
  return { content, report: { format, kept: countKept(content), notMapped, notes } };
}

/** A short quote of source text for `what`, on one line. */
export function excerpt(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
