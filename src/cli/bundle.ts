/**
 * `fedalign bundle pull` and `fedalign bundle verify`: for model operators,
 * no instance or token needed.
 */
import type { Command } from "commander";
import { FedalignError } from "../errors.ts";
import type { SystemPromptMode } from "../bundles/compose.ts";
import { printJson, printLine } from "./output.ts";
import { startProgress } from "./progress.ts";
import { clientFor } from "./client.ts";
import { writeFileSync } from "node:fs";
import type { z } from "zod";
import type { BundleQuery } from "../api/schemas/bundles.ts";

/** GET /bundles's query as the API reads it (every value a string). */
type BundleQueryString = { [K in keyof z.input<typeof BundleQuery>]?: string };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The key a community publishes under `keyId` (for online verification). */
async function fetchPublishedKey(keyId: string): Promise<CryptoKey | null> {
  const [{ getJson }, { publicKeyFromMultibase }] = await Promise.all([import("../bundles/fetch.ts"), import("../policies/proof.ts")]);
  try {
    const actor = await getJson(keyId.split("#")[0]!);
    const methods = (Array.isArray(actor.assertionMethod) ? actor.assertionMethod : [actor.assertionMethod]) as { id?: string; publicKeyMultibase?: string }[];
    const method = methods.find((m) => m?.id === keyId);
    return method?.publicKeyMultibase ? await publicKeyFromMultibase(method.publicKeyMultibase) : null;
  } catch {
    return null;
  }
}

async function systemPromptMode(value: string): Promise<SystemPromptMode> {
  const { SYSTEM_PROMPT_MODES } = await import("../bundles/compose.ts");
  if ((SYSTEM_PROMPT_MODES as readonly string[]).includes(value)) return value as SystemPromptMode;
  throw new FedalignError(`--system-prompt must be ${SYSTEM_PROMPT_MODES.join(" or ")}, not "${value}".`);
}

export function registerBundleCommands(program: Command): void {
  const bundle = program.command("bundle").description("signed policy bundles for model operators");

  bundle
    .command("pull [source]")
    .description("fetch policies (policy or version IRIs) from any Fedalign instance, check every hash and proof, and write a bundle")
    .option("--source <iri>", "another source, lower precedence than the ones before (repeatable)", collect)
    .option("--version <n>", "this version of a single policy source (default: its newest)")
    .option("--context <facets>", "target context of use, e.g. domain=health,audience=patients,locale=sw; repeat for one system prompt per context (the first is composed into policy.md and principles.json)", collect)
    .option("--system-prompt <mode>", "compact (clause ids and normative text, the default) or full (titles, rationale and examples too)", "compact")
    .option("--with-preferences", "include the policies' consented preference records")
    .option("--keep-flawed", "keep records a training pipeline would trip on (empty answers, roles out of turn, tool messages without a call); they are reported either way")
    .requiredOption("--out <dir>", "directory to write (must be empty or absent)")
    .option("--tar <file>", "also write the bundle as a .tar.gz")
    .option("--json", "print the manifest as JSON")
    .action(async (source: string | undefined, options: { source?: string[]; version?: string; context?: string[]; systemPrompt: string; withPreferences?: boolean; keepFlawed?: boolean; out: string; tar?: string; json?: boolean }) => {
      const sources = [...(source ? [source] : []), ...(options.source ?? [])];
      if (sources.length === 0) throw new FedalignError("Name a policy or version IRI to pull.");
      const version = options.version !== undefined ? Number(options.version) : undefined;
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new FedalignError("--version must be a version number: 1, 2, ...");
      const systemPrompt = await systemPromptMode(options.systemPrompt);
      const contexts = options.context ?? [];
      // Bundle code loads when a command needs it (README, "Fast commands").
      const [{ PullError }, { pullBundle }] = await Promise.all([import("../bundles/fetch.ts"), import("../bundles/pull.ts")]);
      const progress = await startProgress({ label: "pull", unit: "records" });
      try {
        const result = await pullBundle({
          sources,
          version,
          context: contexts[0],
          moreContexts: contexts.slice(1),
          systemPrompt,
          keepFlawed: options.keepFlawed,
          withPreferences: options.withPreferences,
          out: options.out,
          tarGz: options.tar,
          onProgress: (event) => {
            progress.update({ value: event.count ?? 0, stage: event.stage, detail: event.source });
          },
        });
        progress.stop();
        if (options.json) return printJson(result.manifest);
        const counts = result.manifest.counts;
        printLine(`Wrote ${options.out}: ${counts.clauses} clauses, ${counts.preferencePairs} preference pairs (${counts.policyExampleRecords} from the policies' own examples).`);
        for (const prompt of result.manifest.systemPrompts) {
          printLine(`  ${prompt.file}: ${prompt.mode} system prompt for ${prompt.context ?? "any context"}, ${prompt.words} words, about ${prompt.approxTokens} tokens`);
        }
        if (counts.flawedRecords > 0) printLine(`  ${counts.flawedRecords} flawed records ${options.keepFlawed ? "kept" : "left out"} (see README.md, "Data quality").`);
        for (const v of result.versions) printLine(`  ${v.iri} ${v.contentHash} (verified)`);
      } catch (error) {
        progress.stop();
        if (error instanceof PullError) throw new FedalignError(error.message);
        if (error instanceof Error && !(error instanceof FedalignError)) throw new FedalignError(error.message);
        throw error;
      }
    });

  bundle
    .command("export <policy>")
    .description("download a bundle of a server's own policy, signed by that instance, as .tar.gz (needs --server)")
    .option("--context <facets>", "target context of use, e.g. domain=health,locale=sw")
    .option("--system-prompt <mode>", "compact (the default) or full", "compact")
    .option("--with-preferences", "include the consented preference records")
    .option("--keep-flawed", "keep records a training pipeline would trip on")
    .requiredOption("--out <file>", "where to write the .tar.gz")
    .action(async function (this: Command, ref: string, options: { context?: string; systemPrompt: string; withPreferences?: boolean; keepFlawed?: boolean; out: string }) {
      const api = clientFor(this, false);
      const systemPrompt = await systemPromptMode(options.systemPrompt);
      const { id } = await api.request<{ id: number }>("GET", "policies/lookup", undefined, { ref });
      const query: BundleQueryString = { policy: String(id), context: options.context, systemPrompt, preferences: options.withPreferences ? "true" : undefined, keepFlawed: options.keepFlawed ? "true" : undefined };
      const response = await api.raw("GET", "bundles", { query });
      writeFileSync(options.out, Buffer.from(await response.arrayBuffer()));
      printLine(`Wrote ${options.out}; unpack it with \`tar -xzf ${options.out} -C <dir>\` and check it with \`fedalign bundle verify <dir> --online\`.`);
    });

  bundle
    .command("verify <dir>")
    .description("check every file of a bundle against its manifest and every proof; offline with embedded or pinned keys")
    .option("--key <keyId=multibase>", "pin a key (repeatable); a pinned key overrides the embedded one", collect)
    .option("--online", "fetch keys that are neither pinned nor embedded from their communities")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, options: { key?: string[]; online?: boolean; json?: boolean }) => {
      const keys: Record<string, string> = {};
      for (const pin of options.key ?? []) {
        const at = pin.lastIndexOf("=");
        if (at <= 0) throw new FedalignError(`--key must be keyId=multibase, not "${pin}".`);
        keys[pin.slice(0, at)] = pin.slice(at + 1);
      }
      const { verifyBundle } = await import("../bundles/verify.ts");
      const report = await verifyBundle(dir, { keys, fetchKey: options.online ? fetchPublishedKey : undefined });
      if (options.json) printJson(report);
      else {
        for (const check of report.checks.filter((c) => !c.ok)) printLine(`FAIL ${check.what}${check.file ? ` ${check.file}` : ""}: ${check.detail}`);
        printLine(report.ok ? `OK: ${report.checks.length} checks passed.` : `${report.checks.filter((c) => !c.ok).length} of ${report.checks.length} checks failed.`);
      }
      if (!report.ok) process.exitCode = 1;
    });
}
