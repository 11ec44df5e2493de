/**
 * Fedalign policy JSON (the PolicyContent schema itself), plus the entry
 * point for all three formats: guess a file's format, parse JSON text with a
 * usable error, and dispatch.
 */
import { clauseIdSchema, parsePolicyContent } from "../content.ts";
import { importConstitution } from "./constitution.ts";
import { importModelSpec } from "./modelspec.ts";
import { countKept, ImportError, type ImportFormat, type ImportIssue, type ImportResult } from "./report.ts";

export interface ImportOptions {
  /** Replaces the source's title (and fills it in when there is none). */
  title?: string;
  /** SPDX id; replaces the source's licence (and fills it in when there is none). */
  licence?: string;
}

/** Our own format maps one to one: nothing is left unmapped, and every schema issue is an error. */
export function importPolicyJson(json: unknown, options: ImportOptions = {}): ImportResult {
  const notes: string[] = [];
  const input = applyOptions(json, options, notes);
  const parsed = parsePolicyContent(input);
  if (!parsed.ok) throw new ImportError("Not valid Fedalign policy JSON", withCrossReferenceIssues(parsed.issues, input));
  return { content: parsed.content, report: { format: "json", kept: countKept(parsed.content), notMapped: [], notes } };
}

/**
 * zod skips the schema's whole-document refinement (duplicate ids, unknown
 * sections) while any field is invalid, so a file with a bad locale would
 * hide its duplicate ids until the next attempt. A second parse of just the
 * ids and references, with every other field a valid placeholder, runs the
 * same refinement and brings those issues into the same error.
 */
function withCrossReferenceIssues(issues: ImportIssue[], input: unknown): ImportIssue[] {
  const skeleton = referenceSkeleton(input);
  if (!skeleton) return issues;
  const more = parsePolicyContent(skeleton);
  if (more.ok) return issues;
  const seen = new Set(issues.map((issue) => `${issue.path}\n${issue.message}`));
  return [...issues, ...more.issues.filter((issue) => !seen.has(`${issue.path}\n${issue.message}`))];
}

function referenceSkeleton(input: unknown): object | null {
  if (!isRecord(input)) return null;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return {
    title: "skeleton",
    licence: "CC0-1.0",
    sections: list(input.sections).map((s, i) => ({ id: usableId(field(s, "id"), `section-${i}`), title: "skeleton", parent: usableRef(field(s, "parent")) })),
    clauses: list(input.clauses).map((c, i) => ({ id: usableId(field(c, "id"), `clause-${i}`), section: usableRef(field(c, "section")), authority: "root", text: "skeleton" })),
  };
}

/** An invalid id is already reported by the first parse; a placeholder no real id can equal stands in for it. */
function usableId(value: unknown, placeholder: string): string {
  return clauseIdSchema.safeParse(value).success ? (value as string) : `0.not-an-id.${placeholder}`;
}

function usableRef(value: unknown): string | null {
  return clauseIdSchema.safeParse(value).success ? (value as string) : null;
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function applyOptions(json: unknown, options: ImportOptions, notes: string[]): unknown {
  if (!isRecord(json)) return json;
  const out: Record<string, unknown> = { ...json };
  for (const key of ["title", "licence"] as const) {
    const given = options[key];
    if (given === undefined) continue;
    if (out[key] !== undefined && out[key] !== given) notes.push(`The ${key} given, ${JSON.stringify(given)}, replaces the file's ${JSON.stringify(out[key])}.`);
    out[key] = given;
  }
  return out;
}

/**
 * The format of a file, from its name and then its content: Markdown is the
 * Model Spec; JSON with `criteria` and no `clauses` is a constitution.
 * Unparseable JSON counts as "json", whose import then reports the syntax error.
 */
export function detectFormat(filename: string, text: string): ImportFormat {
  const extension = filename.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension === "md" || extension === "markdown") return "modelspec";
  if (extension !== "json" && !stripBom(text).trimStart().startsWith("{")) return "modelspec";
  return looksLikeConstitution(text) ? "constitution" : "json";
}

function looksLikeConstitution(text: string): boolean {
  try {
    const value: unknown = JSON.parse(stripBom(text));
    return typeof value === "object" && value !== null && Array.isArray((value as Record<string, unknown>).criteria) && !("clauses" in value);
  } catch {
    return false;
  }
}

export function importPolicy(text: string, format: ImportFormat, options: ImportOptions = {}): ImportResult {
  switch (format) {
    case "modelspec":
      return importModelSpec(text, options);
    case "constitution":
      return importConstitution(parseJsonText(text), options);
    case "json":
      return importPolicyJson(parseJsonText(text), options);
    default:
      throw new ImportError(`Unknown import format ${JSON.stringify(format)}; use modelspec, constitution or json`);
  }
}

/** JSON.parse with an error that says where, as line and column. */
export function parseJsonText(text: string): unknown {
  const source = stripBom(text);
  try {
    return JSON.parse(source);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ImportError(`The file is not valid JSON${errorLocation(source, error.message)}: ${bareMessage(error.message)}`);
  }
}

/** V8 says "at position N" (Node 20) or "(line L column C)" (Node 22+), or nothing at the very end. */
function errorLocation(text: string, message: string): string {
  const lineColumn = message.match(/\(line (\d+) column (\d+)\)/);
  if (lineColumn) return ` at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = message.match(/at position (\d+)/);
  if (position) return ` at ${describePosition(text, Number(position[1]))}`;
  if (/end of JSON input/.test(message)) return ` at the end (${describePosition(text, text.length)})`;
  return "";
}

function describePosition(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return `line ${line}, column ${column}`;
}

function bareMessage(message: string): string {
  return message.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
}

function stripBom(text: string): string {
  return text.replace(/^\uFEFF/, "");
}
