/** `fedalign annotate`, `annotations` and moderation of annotations. */
import type { Command } from "commander";
import type { AnnotationView as AnnotationViewSchema } from "../api/schemas/social.ts";
import { clientFor, type Reply } from "./client.ts";
import { printJson, printLine } from "./output.ts";


type AnnotationView = Reply<typeof AnnotationViewSchema>;

const client = clientFor;

export function registerAnnotationCommands(program: Command): void {
  program
    .command("annotate <clause>")
    .description("annotate a clause (its IRI: …/versions/N/clauses/ID) of a policy version held on your server")
    .requiredOption("--motivation <m>", "comment, question, endorse, object, suggest-edit or context-note")
    .requiredOption("--text <text>", "what you want to say")
    .option("--quote <text>", "the span of the clause you are talking about")
    .option("--suggest <text>", "the replacement text (with --motivation suggest-edit)")
    .option("--as <community>", "annotate as a community you steward")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, clause: string, options: { motivation: string; text: string; quote?: string; suggest?: string; as?: string; json?: boolean }) {
      const annotation = await client(this).request<AnnotationView>("POST", "annotations", {
        target: clause,
        motivation: options.motivation,
        text: options.text,
        quote: options.quote,
        suggestedText: options.suggest,
        as: options.as,
      });
      if (options.json) return printJson(annotation);
      printLine(annotation.iri);
    });

  program
    .command("annotations <target>")
    .description("annotations of a clause, version or policy (by IRI), oldest first")
    .option("--hidden", "include hidden ones (stewards of the policy's community)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, target: string, options: { hidden?: boolean; json?: boolean }) {
      const rows = await client(this, Boolean(options.hidden)).request<AnnotationView[]>("GET", "annotations", undefined, {
        target,
        hidden: options.hidden ? "true" : undefined,
      });
      if (options.json) return printJson(rows);
      if (rows.length === 0) return printLine("No annotations.");
      for (const row of rows) {
        const flags = [row.outdated ? "outdated" : "", row.hidden ? "hidden" : ""].filter(Boolean).join(", ");
        printLine(`${row.published.slice(0, 10)} ${row.motivation} on ${row.clause ?? "the whole version"} by ${row.author}${flags ? ` (${flags})` : ""}`);
        if (row.quote) printLine(`  > ${row.quote}`);
        printLine(`  ${row.text.replace(/\n/g, "\n  ")}`);
        if (row.suggestedText) printLine(`  suggests: ${row.suggestedText}`);
      }
    });

  const annotation = program.command("annotation").description("your annotations, and moderation of those on your community's policies");
  annotation
    .command("delete <iri>")
    .description("delete one of your annotations, everywhere it was shared")
    .action(async function (this: Command, iri: string) {
      await client(this).request("DELETE", "annotations", { iri });
      printLine(`Deleted ${iri}.`);
    });
  annotation
    .command("edit <iri>")
    .description("change the text of one of your annotations")
    .requiredOption("--text <text>", "the new text")
    .action(async function (this: Command, iri: string, options: { text: string }) {
      await client(this).request("PATCH", "annotations", { iri, text: options.text });
      printLine(`Edited ${iri}.`);
    });
  annotation
    .command("hide <iri>")
    .description("hide an annotation on your community's policy (stewards); --show to show it again")
    .option("--show", "show it again")
    .action(async function (this: Command, iri: string, options: { show?: boolean }) {
      await client(this).request("POST", "annotations/hide", { iri, hidden: !options.show });
      printLine(`${options.show ? "Shown" : "Hidden"}: ${iri}.`);
    });

  program
    .command("block <target>")
    .description("stop taking annotations and offers from an actor (IRI) or a whole instance (host)")
    .requiredOption("--as <community>", "the community you steward")
    .option("--undo", "lift the block")
    .action(async function (this: Command, target: string, options: { as: string; undo?: boolean }) {
      await client(this).request(options.undo ? "DELETE" : "POST", `communities/${encodeURIComponent(options.as)}/blocks`, { target });
      printLine(`${options.undo ? "Unblocked" : "Blocked"} ${target} for ${options.as}.`);
    });
}
