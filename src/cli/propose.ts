/** `fedalign propose`, `vote` and `proposals`. */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { FedalignError } from "../errors.ts";
import { clientFor } from "./client.ts";
import { printJson, printLine } from "./output.ts";
import type { NewProposal, ProposalView, SentVoteView as RemoteVoteView } from "../api/schemas/participation.ts";

const client = clientFor;

export function registerProposalCommands(program: Command): void {
  program
    .command("propose <policy>")
    .description("propose changes to a policy of your community: a change set, or an edited copy of the policy JSON")
    .requiredOption("--changes <file>", "a change set JSON, or the whole policy as you want it (Fedalign policy JSON)")
    .option("--title <text>", "what the proposal is about", "Proposed changes")
    .option("--summary <text>", "why")
    .option("--close-at <iso>", "when voting closes (default: the decision rule's minimum open time)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { changes: string; title: string; summary?: string; closeAt?: string; json?: boolean }) {
      let file: Record<string, unknown>;
      try {
        file = JSON.parse(readFileSync(options.changes, "utf8")) as Record<string, unknown>;
      } catch (error) {
        throw new FedalignError(`Cannot read ${options.changes} as JSON: ${(error as Error).message}.`);
      }
      const api = client(this);
      const policy = await api.request<{ id: number; headVersion: number | null }>("GET", "policies/lookup", undefined, { ref });
      let changes: unknown = file;
      if (!("operations" in file)) {
        // A whole policy: the change set is what differs from the newest version.
        if (policy.headVersion === null) throw new FedalignError("The policy has no published version to propose changes to.");
        const [{ changeSetFromContents }, { policyContentSchema }] = await Promise.all([import("../policies/changeset.ts"), import("../policies/content.ts")]);
        const head = await api.request<{ content: unknown }>("GET", `policies/${policy.id}/versions/${policy.headVersion}`);
        const wanted = policyContentSchema.safeParse(file);
        if (!wanted.success) throw new FedalignError(`${options.changes} is neither a change set nor valid policy JSON (${wanted.error.issues[0]?.path.join(".")}: ${wanted.error.issues[0]?.message}).`);
        changes = changeSetFromContents(policyContentSchema.parse(head.content), wanted.data);
      }
      if (options.closeAt !== undefined && Number.isNaN(Date.parse(options.closeAt))) throw new FedalignError("--close-at must be an ISO date and time, e.g. 2026-12-01T18:00:00Z.");
      const body: NewProposal = {
        title: options.title,
        summary: options.summary,
        changes: changes as NewProposal["changes"],
        closesAt: options.closeAt ? new Date(options.closeAt).toISOString() : undefined,
      };
      const proposal = await api.request<ProposalView>("POST", `policies/${policy.id}/proposals`, body);
      if (options.json) return printJson(proposal);
      printLine(`Proposal ${proposal.id} (${proposal.changes}) is open until ${proposal.closesAt}: ${proposal.iri}`);
    });

  program
    .command("vote <proposal> <value>")
    .description("vote on a proposal: yes, no, abstain or block (you can change your vote until it closes)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, proposal: string, value: string, options: { json?: boolean }) {
      if (!["yes", "no", "abstain", "block"].includes(value)) throw new FedalignError(`Vote yes, no, abstain or block, not "${value}".`);
      const api = client(this);
      // Another instance's proposal: vote as a member of a partner instance.
      if (/^https?:\/\//.test(proposal) && new URL(proposal).origin !== api.base.origin) {
        const sent = await api.request<RemoteVoteView>("POST", "proposals/remote-vote", { proposal, value });
        if (options.json) return printJson(sent);
        return printLine(
          `Vote sent to ${new URL(proposal).host}; it counts if your instance is a partner of that community (\`fedalign votes ${proposal}\` shows a refusal).`,
        );
      }
      const id = proposal.split("/").pop()!;
      const result = await api.request<ProposalView>("POST", `proposals/${encodeURIComponent(id)}/vote`, { value });
      if (options.json) return printJson(result);
      printLine(result.description);
    });

  program
    .command("votes [proposal]")
    .description("your votes on other instances' proposals: sent, or refused with the community's reason")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, proposal: string | undefined, options: { json?: boolean }) {
      const rows = await client(this).request<RemoteVoteView[]>("GET", "proposals/remote-votes", undefined, proposal ? { proposal } : undefined);
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLine("No votes sent to other instances.");
      for (const row of rows) {
        printLine(`${row.sentAt} ${row.value.padEnd(7)} ${row.proposal} ${row.state === "refused" ? `REFUSED: ${row.reason}` : "sent (no refusal received)"}`);
      }
    });

  program
    .command("proposals <policy>")
    .description("a policy's proposals with their tallies")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { json?: boolean }) {
      const api = client(this, false);
      const { id } = await api.request<{ id: number }>("GET", "policies/lookup", undefined, { ref });
      const rows = await api.request<ProposalView[]>("GET", `policies/${id}/proposals`);
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLine("No proposals.");
      for (const row of rows) printLine(`${row.id} ${row.state.padEnd(8)} ${row.title} (${row.changes}) — ${row.description}${row.resultVersion ? ` → ${row.resultVersion}` : ""}`);
    });
}
