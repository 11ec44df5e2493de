/** `fedalign fork`, `upstream` and `merge`: forks and taking in upstream changes. */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { FedalignError } from "../errors.ts";
import { clientFor, type ApiClient } from "./client.ts";
import { printJson, printLine } from "./output.ts";
import type { ConflictView, ForkView, MergeOutcome, UpstreamStatusView } from "../api/schemas/forks.ts";
import type { PolicyLookup } from "../api/schemas/policies.ts";
import type { z } from "zod";


const client = clientFor;

async function policyId(api: ApiClient, ref: string): Promise<number> {
  return (await api.get<typeof PolicyLookup>("policies/lookup", { ref })).id;
}

function printConflicts(conflicts: z.output<typeof ConflictView>[]): void {
  for (const conflict of conflicts) {
    printLine(`  conflict ${conflict.key} (${conflict.kind}${conflict.fields?.length ? `: ${conflict.fields.join(", ")}` : ""})`);
  }
}

export function registerForkCommands(program: Command): void {
  program
    .command("fork <version>")
    .description("fork a policy version (its IRI, on any instance) into a community you steward")
    .requiredOption("--into <community>", "the community that will own the fork")
    .option("--slug <slug>", "last part of the fork's IRI (default: from the title)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, version: string, options: { into: string; slug?: string; json?: boolean }) {
      const fork = await client(this).post<typeof ForkView>("policies/fork", { version, into: options.into, slug: options.slug });
      if (options.json) return printJson(fork);
      printLine(`${fork.id} ${fork.iri}`);
    });

  program
    .command("upstream <policy>")
    .description("a fork's pending upstream changes, and which of them would conflict with the fork's draft")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { json?: boolean }) {
      const api = client(this, false);
      const status = await api.get<typeof UpstreamStatusView>(`policies/${await policyId(api, ref)}/upstream`);
      if (options.json) return printJson(status);
      printLine(`upstream ${status.upstream}`);
      printLine(`merged up to version ${status.base.number}${status.pendingMerge ? `; a merge of ${status.pendingMerge} awaits publishing` : ""}`);
      if (status.upToDate || !status.merge || !status.head) return printLine("Up to date.");
      const summary = status.changes?.summary ?? {};
      printLine(`upstream has changes: version ${status.head.number} (${Object.entries(summary).map(([k, v]) => `${v} ${k}`).join(", ")})`);
      printLine(`  merge cleanly: ${status.merge.clean.fromTheirs.join(", ") || "none"}`);
      printConflicts(status.merge.conflicts);
    });

  program
    .command("merge <policy>")
    .description("merge upstream's newest version into the fork's draft; conflicts need --resolve")
    .option("--resolve <file>", 'JSON file: { "<clause id>": "ours" | "theirs" | {clause} | null, ... }')
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { resolve?: string; json?: boolean }) {
      let resolutions: unknown;
      if (options.resolve) {
        try {
          resolutions = JSON.parse(readFileSync(options.resolve, "utf8"));
        } catch (error) {
          throw new FedalignError(`Cannot read ${options.resolve} as JSON: ${(error as Error).message}.`);
        }
      }
      const api = client(this);
      const result = await api.post<typeof MergeOutcome>(`policies/${await policyId(api, ref)}/merge`, { resolutions });
      if (options.json) return printJson(result);
      printLine(`Merged ${result.pendingMerge} into the draft; publish it with \`fedalign policy publish ${ref}\`.`);
    });
}
