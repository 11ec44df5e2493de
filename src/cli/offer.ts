/**
 * `fedalign offer <policy> --to-upstream`, `fedalign offers <policy>` and
 * `fedalign offer accept|reject <offer IRI>`: amendments between forks and
 * their upstream.
 */
import type { Command } from "commander";
import { FedalignError } from "../errors.ts";
import { clientFor } from "./client.ts";
import { printJson, printLine } from "./output.ts";
import type { OfferView } from "../api/schemas/participation.ts";

const client = clientFor;

function printOffer(offer: OfferView): void {
  const who = offer.direction === "incoming" ? `from ${offer.from}` : `to ${offer.target}`;
  printLine(`${offer.state.padEnd(8)} ${offer.direction} ${who}: ${offer.summary}${offer.message ? ` — ${offer.message}` : ""}`);
  printLine(`         ${offer.iri}`);
  if (offer.reason) printLine(`         reason: ${offer.reason}`);
  for (const conflict of offer.preview?.conflicts ?? []) printLine(`         would conflict: ${conflict.id} (${conflict.reason})`);
}

export function registerOfferCommands(program: Command): void {
  program
    .command("offer <policy-or-decision> [offer]")
    .description("offer a fork's changes upstream (`offer <policy> --to-upstream`), or decide on one (`offer accept|reject <offer IRI>`)")
    .option("--to-upstream", "offer to the fork's upstream community")
    .option("--clause <id...>", "offer only these clauses' changes")
    .option("--message <text>", "what the offer is about")
    .option("--reason <text>", "why an offer is rejected")
    .option("--as-proposal", "accept into a proposal the members vote on, instead of straight into the draft")
    .option("--json", "print the result as JSON")
    .action(async function (
      this: Command,
      first: string,
      second: string | undefined,
      options: { toUpstream?: boolean; clause?: string[]; message?: string; reason?: string; asProposal?: boolean; json?: boolean },
    ) {
      const api = client(this);
      if (first === "accept" || first === "reject") {
        if (!second) throw new FedalignError(`Name the offer: \`fedalign offer ${first} <offer IRI>\`.`);
        const offer = await api.request<OfferView>("POST", `offers/${first}`, { offer: second, reason: options.reason, asProposal: options.asProposal });
        if (options.json) return printJson(offer);
        const accepted = options.asProposal ? "Accepted as a proposal for the members to vote on" : "Accepted; the changes are in the draft";
        return printLine(`${offer.state === "accepted" ? accepted : "Rejected"}: ${offer.iri}`);
      }
      if (!options.toUpstream) throw new FedalignError("Say where the offer goes: `fedalign offer <policy> --to-upstream`.");
      if (second) throw new FedalignError(`Unexpected argument "${second}".`);
      const { id } = await api.request<{ id: number }>("GET", "policies/lookup", undefined, { ref: first });
      const offer = await api.request<OfferView>("POST", `policies/${id}/offers`, { message: options.message, clauses: options.clause });
      if (options.json) return printJson(offer);
      printLine(offer.iri);
    });

  program
    .command("offers <policy>")
    .description("offers received for a policy, and offers made from it")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { json?: boolean }) {
      const api = client(this, false);
      const { id } = await api.request<{ id: number }>("GET", "policies/lookup", undefined, { ref });
      const offers = await api.request<OfferView[]>("GET", `policies/${id}/offers`);
      if (options.json) return printJson(offers);
      if (offers.length === 0) return printLine("No offers.");
      offers.forEach(printOffer);
    });
}
