/**
 * `fedalign policy ...`: import, edit, publish, show and diff policies on
 * any server (with a token), and recompute a version's content hash offline.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { FedalignError } from "../errors.ts";
import type { DiffView, ImportReportView, ImportResult, PolicyLookup, PolicyView, VersionDetail, VersionView } from "../api/schemas/policies.ts";
import type { z } from "zod";
import { clientFor, type ApiClient } from "./client.ts";
import { printJson, printLine, printTable } from "./output.ts";

const client = clientFor;

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new FedalignError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}

function lookup(api: ApiClient, ref: string): Promise<z.output<typeof PolicyLookup>> {
  return api.get<typeof PolicyLookup>("policies/lookup", { ref });
}

function printReport(report: z.output<typeof ImportReportView>): void {
  const parts = Object.entries(report.kept)
    .filter(([, value]) => typeof value === "number")
    .map(([key, value]) => `${value} ${key.replace(/([A-Z])/g, " $1").toLowerCase()}`);
  printLine(`Kept: ${parts.join(", ")}`);
  const { notMapped } = report;
  if (notMapped.length === 0) printLine("Everything in the file was mapped.");
  else {
    printLine(`Not mapped (${notMapped.length}):`);
    for (const item of notMapped) printLine(`  - ${item.what} at ${item.where}: ${item.reason}`);
  }
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command("policy").description("alignment policies: import, edit, publish, show, diff");

  policy
    .command("import <community> <file>")
    .description("import a policy file into a community you steward, as a new draft; prints its id and IRI")
    .option("--format <format>", "modelspec, constitution or json (default: guessed from the file)")
    .option("--slug <slug>", "last part of the policy's IRI (default: from its title)")
    .option("--title <text>", "title, when the file has none")
    .option("--licence <spdx>", "SPDX licence id, when the file has none")
    .option("--json", "print the policy and the import report as JSON")
    .action(async function (this: Command, community: string, file: string, options: { format?: string; slug?: string; title?: string; licence?: string; json?: boolean }) {
      const source = readText(file);
      // Domain modules load when a command needs them (README, "Fast commands").
      const { detectFormat } = await import("../policies/import/json.ts");
      const format = options.format ?? detectFormat(basename(file), source);
      if (!["modelspec", "constitution", "json"].includes(format)) {
        throw new FedalignError(`--format must be modelspec, constitution or json, not "${format}".`);
      }
      const result = await client(this).post<typeof ImportResult>("policies/import", {
        community,
        format,
        source,
        slug: options.slug,
        title: options.title,
        licence: options.licence,
      });
      if (options.json) return printJson(result);
      printLine(`${result.policy.id} ${result.policy.iri}`);
      printReport(result.report);
    });

  policy
    .command("list")
    .description("list the policies of a community, or the mirrored copies of others' policies")
    .option("--community <handle>", "only this community's policies")
    .option("--mirrored", "policies of other instances that this one holds copies of")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { community?: string; mirrored?: boolean; json?: boolean }) {
      const rows = await client(this, false).get<z.ZodArray<typeof PolicyView>>("policies", {
        community: options.community,
        mirrored: options.mirrored ? "true" : undefined,
      });
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLine("No policies.");
      printTable(["ID", "HEAD", "TITLE", "IRI"], rows.map((p) => [String(p.id), p.headVersion ? `v${p.headVersion}` : "draft", p.title, p.iri]));
    });

  policy
    .command("publish <policy>")
    .description("publish the draft as a new signed version; prints the version IRI and its content hash")
    .option("--message <text>", "changelog (default: a summary of the changes)")
    .option("--json", "print the version as JSON")
    .action(async function (this: Command, ref: string, options: { message?: string; json?: boolean }) {
      const api = client(this);
      const found = await lookup(api, ref);
      const version = await api.post<typeof VersionView>(`policies/${found.id}/publish`, { message: options.message });
      if (options.json) return printJson(version);
      printLine(`${version.iri} ${version.contentHash}`);
    });

  policy
    .command("retract <policy> <number>")
    .description("retract a published version; followers are told")
    .action(async function (this: Command, ref: string, number: string) {
      const api = client(this);
      const found = await lookup(api, ref);
      const version = await api.delete<typeof VersionView>(`policies/${found.id}/versions/${encodeURIComponent(number)}`);
      printLine(`Retracted ${version.iri}.`);
    });

  policy
    .command("show <policy>")
    .description("show a policy (id, community/slug or IRI) or one version (version IRI, or --version)")
    .option("--version <n>", "show this version's content")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { version?: string; json?: boolean }) {
      const api = client(this, false);
      const found = await lookup(api, ref);
      const number = options.version ?? (found.version ? String(found.version) : undefined);
      if (number === undefined) {
        if (options.json) return printJson(found);
        printLine(`${found.title} (${found.local ? "local" : "mirrored"}, ${found.licence})`);
        printLine(`${found.iri}`);
        printLine(`community ${found.community}`);
        if (found.versions.length === 0) return printLine("No published versions yet.");
        printTable(
          ["VERSION", "PUBLISHED", "HASH", "CHANGELOG"],
          found.versions.map((v) => [`v${v.number}${v.retracted ? " (retracted)" : ""}`, v.publishedAt.slice(0, 10), v.contentHash.slice(0, 19), v.changelog.split("\n")[0] ?? ""]),
        );
        return;
      }
      const version = await api.get<typeof VersionDetail>(`policies/${found.id}/versions/${encodeURIComponent(number)}`);
      if (options.json) return printJson(version);
      printLine(`${found.title}, version ${version.number}${version.retracted ? " (retracted)" : ""}`);
      printLine(`${version.iri}\n${version.contentHash}\n${version.changelog}`);
      printTable(["CLAUSE", "AUTHORITY", "TITLE"], version.content.clauses.map((clause) => [clause.id, clause.authority, clause.title]));
    });

  policy
    .command("diff <policy> <from> <to>")
    .description("differences between two versions (numbers, or 'draft'): clauses added, removed, moved and edited word by word")
    .option("--json", "print the diff as JSON")
    .action(async function (this: Command, ref: string, from: string, to: string, options: { json?: boolean }) {
      const api = client(this, false);
      const found = await lookup(api, ref);
      const diff = await api.get<typeof DiffView>(`policies/${found.id}/diff`, {
        from: from.replace(/^v/, ""),
        to: to.replace(/^v/, ""),
      });
      if (options.json) return printJson(diff);
      const { diffToText } = await import("../policies/diff.ts");
      process.stdout.write(diffToText(diff));
    });

  const draft = policy.command("draft").description("the working draft of a policy");
  draft
    .command("get <policy>")
    .description("print the draft as Fedalign policy JSON")
    .action(async function (this: Command, ref: string) {
      const api = client(this);
      const found = await lookup(api, ref);
      printJson(await api.request("GET", `policies/${found.id}/draft`));
    });
  draft
    .command("set <policy> <file>")
    .description("replace the draft with a Fedalign policy JSON file")
    .action(async function (this: Command, ref: string, file: string) {
      let content: unknown;
      try {
        content = JSON.parse(readText(file));
      } catch (error) {
        if (error instanceof FedalignError) throw error;
        throw new FedalignError(`${file} is not valid JSON: ${(error as Error).message}.`);
      }
      const api = client(this);
      const found = await lookup(api, ref);
      await api.request("PUT", `policies/${found.id}/draft`, content);
      printLine(`Saved the draft of ${found.title}.`);
    });

  policy
    .command("schema")
    .description("print the JSON Schema of the Fedalign policy JSON format (what `draft set` and `import --format json` accept)")
    .action(async () => printJson((await import("../policies/content.ts")).policyJsonSchema()));

  policy
    .command("hash <file>")
    .description("recompute a version's content hash from its JSON (a version document or bare policy content), offline")
    .option("--json", "print the result as JSON")
    .action(async (file: string, options: { json?: boolean }) => {
      const [{ policyContentSchema }, { contentHash }] = await Promise.all([import("../policies/content.ts"), import("../policies/hash.ts")]);
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(readText(file)) as Record<string, unknown>;
      } catch (error) {
        if (error instanceof FedalignError) throw error;
        throw new FedalignError(`${file} is not valid JSON: ${(error as Error).message}.`);
      }
      const content = (json.normativeContent ?? json.content ?? json) as unknown;
      const parsed = policyContentSchema.safeParse(content);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new FedalignError(`${file} holds no policy content (${issue?.path.join(".")}: ${issue?.message}).`);
      }
      // A version document's content is hashed exactly as published.
      const hash = contentHash((json.normativeContent ?? parsed.data) as never);
      const claimed = typeof json.contentHash === "string" ? json.contentHash : undefined;
      if (options.json) return printJson({ contentHash: hash, claimed: claimed ?? null, matches: claimed ? claimed === hash : null });
      printLine(hash);
      if (claimed && claimed !== hash) {
        process.stderr.write(`fedalign: the file claims ${claimed}, which does not match.\n`);
        process.exitCode = 1;
      }
    });
}
