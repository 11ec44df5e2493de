/** `fedalign statements import-polis|export-polis|add|vote` and `fedalign opinions`. */
import type { Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { FedalignError } from "../errors.ts";
import type { PolisExport, writePolisExport } from "../participation/polis.ts";
import { clientFor } from "./client.ts";
import { printJson, printLine } from "./output.ts";
import type { OpinionsView as Opinions, StatementImportResult, SubmittedStatement } from "../api/schemas/participation.ts";

const client = clientFor;

type ExportedConversation = Parameters<typeof writePolisExport>[1] & { conversation: string };

/** A conversation name from an export directory's name ("london.youth.policing"). */
function defaultConversationName(dir: string): string {
  const name = basename(resolve(dir)).replace(/[^\p{L}\p{N}._-]+/gu, "-").replace(/^[^\p{L}\p{N}]+/u, "");
  return name === "" ? "polis" : name.slice(0, 100);
}

/** What was left out or kept with something missing, row by row; nothing is dropped silently. */
function printImportReport(data: PolisExport, formatIssue: (issue: PolisExport["skipped"][number]) => string): void {
  if (data.skipped.length > 0) {
    printLine(`Skipped ${data.skipped.length} row(s) that cannot be used:`);
    for (const issue of data.skipped) printLine(`  ${formatIssue(issue)}`);
  }
  if (data.notes.length > 0) {
    printLine(`Kept ${data.notes.length} row(s) with something missing:`);
    for (const issue of data.notes) printLine(`  ${formatIssue(issue)}`);
  }
  for (const extra of data.extraColumns) printLine(`${extra.file} has column(s) a Polis export does not, not imported: ${extra.columns.join(", ")}`);
}

async function writeConversation(dir: string, data: ExportedConversation): Promise<void> {
  mkdirSync(dir, { recursive: true });
  (await import("../participation/polis.ts")).writePolisExport(dir, data);
  printLine(`Wrote conversation "${data.conversation}": ${data.statements.length} statements and ${data.votes.length} votes to ${dir}.`);
}

export function registerStatementCommands(program: Command): void {
  const statements = program.command("statements").description("statements members vote agree / disagree / pass on");

  statements
    .command("import-polis <community> <dir>")
    .description("import a Polis conversation export (comments.csv, votes.csv, participants-votes.csv, summary.csv; each may be .gz) as a conversation of the community (stewards)")
    .option("--conversation <name>", "import into this conversation (created if missing, filled if it exists); default: a new conversation named after the directory")
    .option("--strict", "refuse the whole export if any row cannot be used (default: skip such rows and report them)")
    .option("--json", "print the result and the report as JSON")
    .action(async function (this: Command, community: string, dir: string, options: { conversation?: string; strict?: boolean; json?: boolean }) {
      if (!existsSync(dir)) throw new FedalignError(`No directory ${dir}.`);
      const { readPolisExport, formatIssue } = await import("../participation/polis.ts");
      const data = readPolisExport(dir, { strict: options.strict === true });
      const name = options.conversation ?? defaultConversationName(dir);
      const result = await client(this).request<StatementImportResult>("POST", "statements/import", {
        community,
        conversation: name,
        mustBeNew: options.conversation === undefined,
        summary: Object.entries(data.summary),
        statements: data.statements.map((s) => ({ id: s.id, author: s.author, body: s.body, moderated: s.moderated, ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}) })),
        votes: data.votes,
        participants: data.participants.map((p) => ({ id: p.id, group: p.group, xid: p.xid ?? null })),
      });
      if (options.json) return printJson({ ...result, skipped: data.skipped, notes: data.notes, extraColumns: data.extraColumns });
      printLine(`Imported ${result.statements} statements and ${result.votes} votes into ${result.created ? "the new" : "the"} conversation "${result.conversation}".`);
      printImportReport(data, formatIssue);
    });

  statements
    .command("export-polis <community> <dir>")
    .description("write a conversation's statements, votes, participants and summary as Polis export CSV files")
    .option("--conversation <name>", "the conversation (needed when the community has several)")
    .option("--all", "every conversation of the community, each in a subdirectory of <dir> named after it")
    .action(async function (this: Command, community: string, dir: string, options: { conversation?: string; all?: boolean }) {
      const api = client(this);
      if (options.all) {
        const data = await api.request<{ conversations: ExportedConversation[] }>("GET", "statements/export", undefined, { community, across: "true" });
        for (const conversation of data.conversations) await writeConversation(join(dir, conversation.conversation), conversation);
        return;
      }
      const query: Record<string, string> = { community };
      if (options.conversation) query.conversation = options.conversation;
      await writeConversation(dir, await api.request<ExportedConversation>("GET", "statements/export", undefined, query));
    });

  statements
    .command("add <community> <text>")
    .description("submit a statement (stewards moderate it)")
    .option("--conversation <name>", "the conversation it belongs to (default: main)")
    .option("--json", "print the statement as JSON")
    .action(async function (this: Command, community: string, text: string, options: { conversation?: string; json?: boolean }) {
      const statement = await client(this).request<SubmittedStatement>("POST", "statements", { community, body: text, ...(options.conversation ? { conversation: options.conversation } : {}) });
      if (options.json) return printJson(statement);
      printLine(`Statement ${statement.id} submitted for moderation.`);
    });

  statements
    .command("vote <statement> <value>")
    .description("agree, disagree or pass on a statement")
    .action(async function (this: Command, statement: string, value: string) {
      if (!["agree", "disagree", "pass"].includes(value)) throw new FedalignError(`Vote agree, disagree or pass, not "${value}".`);
      await client(this).request("POST", `statements/${encodeURIComponent(statement)}/vote`, { value });
      printLine(`Recorded: ${value}.`);
    });

  program
    .command("opinions <community-or-policy>")
    .description("opinion groups, group-informed consensus and bridging statements of a community (or of a policy's community)")
    .option("--conversation <name>", "one conversation (needed when the community has several)")
    .option("--across", "all the community's conversations together")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, target: string, options: { json?: boolean; conversation?: string; across?: boolean }) {
      const api = client(this, false);
      // A policy (id, community/slug or IRI) stands for the community that owns it.
      let community = target;
      if (/[/:]/.test(target) || /^\d+$/.test(target)) {
        const policy = await api.request<{ community: string }>("GET", "policies/lookup", undefined, { ref: target });
        community = new URL(policy.community).pathname.split("/").pop()!;
      }
      const query: Record<string, string> = { community };
      if (options.conversation) query.conversation = options.conversation;
      if (options.across) query.across = "true";
      const result = await api.request<Opinions>("GET", "opinions", undefined, query);
      if (options.json) return printJson(result);
      if (result.participants === 0) return printLine("No votes yet.");
      printLine(`${result.conversations.join(", ")}: ${result.participants} participants in ${result.k} opinion groups: ${result.groups.map((g) => g.size).join(", ")}`);
      printLine("Consensus across groups:");
      for (const s of result.consensus.slice(0, 5)) printLine(`  ${s.statement}: ${s.body}`);
      printLine("Bridging (liked across the divide):");
      for (const s of result.bridging.slice(0, 5)) printLine(`  ${s.statement} (${s.intercept.toFixed(2)}): ${s.body}`);
    });
}
