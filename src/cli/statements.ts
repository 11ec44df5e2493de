/** `fedalign statements import-polis|export-polis|add|vote` and `fedalign opinions`. */
import type { Command } from "commander";
import { existsSync, mkdirSync } from "node:fs";
import { FedalignError } from "../errors.ts";
import type { writePolisExport } from "../participation/polis.ts";
import { clientFor } from "./client.ts";
import { printJson, printLine } from "./output.ts";


const client = clientFor;

interface Opinions {
  participants: number;
  k?: number;
  groups: { id: number; size: number }[];
  consensus: { statement: string; body: string }[];
  bridging: { statement: string; body: string; intercept: number }[];
}

export function registerStatementCommands(program: Command): void {
  const statements = program.command("statements").description("statements members vote agree / disagree / pass on");

  statements
    .command("import-polis <community> <dir>")
    .description("import a Polis conversation export (comments.csv, votes.csv) as statements and votes (stewards)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, community: string, dir: string, options: { json?: boolean }) {
      if (!existsSync(dir)) throw new FedalignError(`No directory ${dir}.`);
      const { readPolisExport } = await import("../participation/polis.ts");
      let data;
      try {
        data = readPolisExport(dir);
      } catch (error) {
        throw new FedalignError(`Cannot read a Polis export in ${dir}: ${(error as Error).message}`);
      }
      const result = await client(this).request<{ statements: number; votes: number }>("POST", "statements/import", {
        community,
        statements: data.statements.map((s) => ({ id: s.id, author: s.author, body: s.body, moderated: s.moderated, ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}) })),
        votes: data.votes.map((v) => ({ participant: v.participant, statement: v.statement, value: v.value, ...(v.timestamp !== undefined ? { timestamp: v.timestamp } : {}) })),
      });
      if (options.json) return printJson(result);
      printLine(`Imported ${result.statements} statements and ${result.votes} votes.`);
    });

  statements
    .command("export-polis <community> <dir>")
    .description("write the community's statements and votes as Polis export CSV files")
    .action(async function (this: Command, community: string, dir: string) {
      const data = await client(this).request<Parameters<typeof writePolisExport>[1]>("GET", "statements/export", undefined, { community });
      mkdirSync(dir, { recursive: true });
      (await import("../participation/polis.ts")).writePolisExport(dir, data);
      printLine(`Wrote ${data.statements.length} statements and ${data.votes.length} votes to ${dir}.`);
    });

  statements
    .command("add <community> <text>")
    .description("submit a statement (stewards moderate it)")
    .option("--json", "print the statement as JSON")
    .action(async function (this: Command, community: string, text: string, options: { json?: boolean }) {
      const statement = await client(this).request<{ id: number }>("POST", "statements", { community, body: text });
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
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, target: string, options: { json?: boolean }) {
      const api = client(this, false);
      // A policy (id, community/slug or IRI) stands for the community that owns it.
      let community = target;
      if (/[/:]/.test(target) || /^\d+$/.test(target)) {
        const policy = await api.request<{ community: string }>("GET", "policies/lookup", undefined, { ref: target });
        community = new URL(policy.community).pathname.split("/").pop()!;
      }
      const result = await api.request<Opinions>("GET", "opinions", undefined, { community });
      if (options.json) return printJson(result);
      if (result.participants === 0) return printLine("No votes yet.");
      printLine(`${result.participants} participants in ${result.k} opinion groups: ${result.groups.map((g) => g.size).join(", ")}`);
      printLine("Consensus across groups:");
      for (const s of result.consensus.slice(0, 5)) printLine(`  ${s.statement}: ${s.body}`);
      printLine("Bridging (liked across the divide):");
      for (const s of result.bridging.slice(0, 5)) printLine(`  ${s.statement} (${s.intercept.toFixed(2)}): ${s.body}`);
    });
}
