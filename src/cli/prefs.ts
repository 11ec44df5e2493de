/**
 * `fedalign prefs ...` (import, export, stats, consent) and `fedalign
 * tasks ...` (create, list, answer, results), against any server.
 */
import type { Command } from "commander";
import { createReadStream, createWriteStream, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FedalignError } from "../errors.ts";
import type { z } from "zod";
import type { AnswerResult, ConsentResult, CreatedTasks, ImportReport, MyRecord, PreferenceStats, TaskList, TaskResults } from "../api/schemas/preferences.ts";
import { clientFor, type ApiClient, type Reply } from "./client.ts";
import { printJson, printLine, printTable } from "./output.ts";
import { startProgress } from "./progress.ts";


const client = clientFor;

async function policyId(api: ApiClient, ref: string): Promise<number> {
  return (await api.request<{ id: number }>("GET", "policies/lookup", undefined, { ref })).id;
}

/** Consent terms from a flag; the record module (and zod) load only when a command takes consent. */
async function consentFlag(terms: string): Promise<Record<string, boolean>> {
  const { parseConsent } = await import("../preferences/record.ts");
  try {
    return parseConsent(terms);
  } catch (error) {
    throw new FedalignError(`--consent: ${(error as Error).message}.`);
  }
}

/** The file as a web stream, counting bytes into the progress display. */
async function uploadStream(file: string): Promise<{ body: ReadableStream<Uint8Array>; done: () => void }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new FedalignError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  const progress = await startProgress({ label: "upload", unit: "bytes", total: size });
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      progress.update({ value: sent, detail: basename(file) });
      callback(null, chunk);
    },
  });
  const stream = createReadStream(file).pipe(counter);
  return { body: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, done: () => progress.stop() };
}

/** The format of a JSONL file from the keys of its first record. */
async function sniffFormat(file: string): Promise<string | undefined> {
  const { readLines } = await import("../preferences/formats.ts");
  try {
    for await (const { text } of readLines(file)) {
      const first = JSON.parse(text) as Record<string, unknown>;
      if (typeof first.chosen === "string" && typeof first.rejected === "string" && first.prompt === undefined && first.chosen.includes("\n\nHuman:")) return "hh-rlhf";
      if ("chosen" in first && "rejected" in first) return "trl";
      if ("preferred_output" in first && "non_preferred_output" in first) return "openai";
      return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function registerPreferenceCommands(program: Command): void {
  const prefs = program.command("prefs").description("preference data: import, export, statistics, consent");

  prefs
    .command("import <community> <file>")
    .description("import preference data into a community you steward (HH-RLHF, TRL or OpenAI JSONL; .gz is fine)")
    .option("--format <format>", "hh-rlhf, trl or openai (default: guessed from the file name, then from its first record)")
    .option("--policy <policy>", "attach the records to this policy (id, community/slug or IRI)")
    .option("--licence <spdx>", "the data's licence, recorded on each record")
    .option("--consent <terms>", "consent terms for every record: any of train,federate,breakdown (default: what the licence allows)")
    .option("--on-error <mode>", "skip malformed lines and go on, or stop and import nothing", "skip")
    .option("--json", "print the report as JSON")
    .action(async function (this: Command, community: string, file: string, options: { format?: string; policy?: string; licence?: string; consent?: string; onError: string; json?: boolean }) {
      const { formatFromName } = await import("../preferences/formats.ts");
      const format = options.format ?? formatFromName(basename(file)) ?? (await sniffFormat(file));
      if (!format) throw new FedalignError(`Cannot tell the format of ${file}: pass --format hh-rlhf, trl or openai.`);
      if (options.consent !== undefined) await consentFlag(options.consent);
      if (!["skip", "stop"].includes(options.onError)) throw new FedalignError("--on-error must be skip or stop.");
      const api = client(this);
      const policy = options.policy ? String(await policyId(api, options.policy)) : undefined;
      const upload = await uploadStream(file);
      let result: Reply<typeof ImportReport>;
      try {
        const response = await api.raw("POST", "preferences/import", {
          query: { community, format, policy, licence: options.licence, consent: options.consent, onError: options.onError, source: basename(file) },
          body: upload.body,
          contentType: "application/octet-stream",
        });
        result = (await response.json()) as Reply<typeof ImportReport>;
      } finally {
        upload.done();
      }
      if (options.json) return printJson(result);
      printLine(`${result.read} lines read: ${result.imported} records imported, ${result.duplicates} already held, ${result.errors.length} malformed.`);
      if (result.consentNote) printLine(`Consent: ${result.consentNote}.`);
      for (const error of result.errors.slice(0, 20)) printLine(`  line ${error.line}: ${error.error}`);
      if (result.stopped) {
        printLine("Stopped at the first malformed line: nothing was imported.");
        process.exitCode = 1;
      }
    });

  prefs
    .command("import-examples <community> <version>")
    .description("turn a policy version's GOOD/BAD examples into preference records (one per good/bad pair)")
    .option("--consent <terms>", "consent terms for the records (default: what the policy's licence allows)")
    .option("--json", "print the report as JSON")
    .action(async function (this: Command, community: string, version: string, options: { consent?: string; json?: boolean }) {
      const report = await client(this).post<typeof ImportReport>("preferences/import-examples", { community, version, consent: options.consent });
      if (options.json) return printJson(report);
      printLine(`${report.imported} records from the examples (${report.duplicates} already held).`);
    });

  prefs
    .command("export <policy>")
    .description("write the records whose raters allowed training, as training data")
    .requiredOption("--format <format>", "trl or openai")
    .requiredOption("--out <file>", "where to write the JSONL")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { format: string; out: string; json?: boolean }) {
      if (!["trl", "openai"].includes(options.format)) throw new FedalignError("--format must be trl or openai.");
      const api = client(this, false);
      const response = await api.raw("GET", "preferences/export", { query: { policy: String(await policyId(api, ref)), format: options.format } });
      const progress = await startProgress({ label: "export", unit: "pairs" });
      // One pair per line: count lines as they stream past instead of reading the file back.
      let pairs = 0;
      let lastByte = 10;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          for (const byte of chunk) if (byte === 10) pairs++;
          if (chunk.length > 0) lastByte = chunk[chunk.length - 1]!;
          progress.update({ value: pairs, detail: options.out });
          callback(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(response.body as never), counter, createWriteStream(options.out));
      } finally {
        progress.stop();
      }
      if (lastByte !== 10) pairs++;
      if (options.json) return printJson({ file: options.out, pairs });
      printLine(`Wrote ${pairs} pairs to ${options.out}.`);
    });

  prefs
    .command("stats <policy>")
    .description("results of a policy's comparison tasks, per task and per clause, with group breakdowns")
    .option("--by-group", "show the per-group results")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, ref: string, options: { byGroup?: boolean; json?: boolean }) {
      const api = client(this, false);
      const stats = await api.get<typeof PreferenceStats>("preferences/stats", { policy: String(await policyId(api, ref)) });
      if (options.json) return printJson(stats);
      if (stats.tasks.length === 0) return printLine("No tasks yet.");
      for (const { task, summary } of stats.tasks) {
        const first = summary.overall.responses[0];
        const share = first?.share === null || first === undefined ? "no answers" : `${pct(first.share)} prefer response 1 ${interval(first.interval)}`;
        printLine(`task ${task.id} ${task.title}: ${summary.overall.n} raters, ${share}; ${summary.disagreement.verdict}`);
        if (options.byGroup) {
          for (const group of summary.byGroup) printLine(`    ${group.group}: ${group.n} raters, ${pct(group.responses[0]?.share ?? null)} ${interval(group.responses[0]?.interval ?? null)}`);
          if (summary.suppressedGroups > 0) printLine(`    (${summary.suppressedGroups} group(s) under ${stats.minGroupSize} raters not shown)`);
        }
      }
    });

  prefs
    .command("consent <record>")
    .description("narrow the consent of one of your judgements (see `prefs mine`)")
    .requiredOption("--consent <terms>", "what you still allow: any of train,federate,breakdown (empty for nothing)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, record: string, options: { consent: string; json?: boolean }) {
      const consent = await consentFlag(options.consent);
      const result = await client(this).patch<typeof ConsentResult>(`preferences/${encodeURIComponent(record)}/consent`, consent);
      if (options.json) return printJson(result);
      printLine(`Consent now: ${Object.entries(result.consent).filter(([, v]) => v).map(([k]) => k).join(", ") || "none"}.`);
    });

  prefs
    .command("mine")
    .description("your judgements and their consent")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { json?: boolean }) {
      const rows = await client(this).get<z.ZodArray<typeof MyRecord>>("preferences/mine");
      if (options.json) return printJson(rows);
      printTable(["ID", "TASK", "CONSENT"], rows.map((r) => [String(r.id), String(r.task ?? ""), Object.entries(r.consent).filter(([, v]) => v).map(([k]) => k).join(",") || "none"]));
    });

  const tasks = program.command("tasks").description("comparison tasks members answer");
  tasks
    .command("create <community>")
    .description("create tasks from a policy version's examples (--from-version) or a JSON file of tasks (--file)")
    .option("--from-version <iri>", "a version whose examples have two or more responses")
    .option("--file <file>", 'JSON array of { "title", "prompt": [{role, content}], "responses": [{content}], "clauseIds" }')
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, community: string, options: { fromVersion?: string; file?: string; json?: boolean }) {
      const list = options.file ? (JSON.parse(readFileSync(options.file, "utf8")) as unknown[]) : undefined;
      const result = await client(this).post<typeof CreatedTasks>("tasks", { community, fromVersion: options.fromVersion, tasks: list });
      if (options.json) return printJson(result);
      const ids = (tasks: { id: number }[]) => (tasks.length ? `: ${tasks.map((t) => t.id).join(", ")}` : "");
      printLine(`Created ${result.created.length} task(s)${ids(result.created)}; ${result.existing.length} already existed${ids(result.existing)}.`);
    });
  tasks
    .command("list <community>")
    .description("a community's tasks, a page at a time")
    .option("--page <n>", "which page (20 tasks each)", "1")
    .option("--unanswered", "only open tasks you have not answered")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, community: string, options: { page: string; unanswered?: boolean; json?: boolean }) {
      const query = { community, page: options.page, ...(options.unanswered ? { unanswered: "true" } : {}) };
      const list = await client(this, options.unanswered === true).get<typeof TaskList>("tasks", query);
      if (options.json) return printJson(list);
      printTable(["ID", "RESPONSES", "TITLE"], list.tasks.map((t) => [String(t.id), String(t.responses.length), t.title]));
      printLine(`Page ${list.page} of ${list.pages} (${list.total} task(s)).`);
    });
  tasks
    .command("answer <task>")
    .description("answer a task: which response you prefer (1-based), with your consent terms")
    .requiredOption("--choice <n>", "the response you prefer, counting from 1")
    .requiredOption("--consent <terms>", "any of train,federate,breakdown (empty for nothing)")
    .option("--rationale <text>", "why")
    .option("--groups <labels>", "groups you identify with, comma-separated (shown only in groups large enough)")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, task: string, options: { choice: string; consent: string; rationale?: string; groups?: string; json?: boolean }) {
      const choice = Number(options.choice) - 1;
      if (!Number.isInteger(choice) || choice < 0) throw new FedalignError("--choice must be the number of a response: 1, 2, ...");
      const consent = await consentFlag(options.consent);
      const groups = options.groups ? options.groups.split(",").map((g) => g.trim()).filter(Boolean) : [];
      const result = await client(this).post<typeof AnswerResult>(`tasks/${encodeURIComponent(task)}/answer`, { choice, consent, rationale: options.rationale ?? "", groups });
      if (options.json) return printJson(result);
      printLine(`Answered task ${task}.`);
    });
  tasks
    .command("results <task>")
    .description("a task's results, overall and per group")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, task: string, options: { json?: boolean }) {
      const result = await client(this, false).get<typeof TaskResults>(`tasks/${encodeURIComponent(task)}/results`);
      if (options.json) return printJson(result);
      const s = result.summary;
      s.overall.responses.forEach((r, i) => printLine(`response ${i + 1}: ${pct(r.share)} ${interval(r.interval)} of ${s.overall.n} raters`));
      for (const group of s.byGroup) printLine(`  ${group.group}: ${pct(group.responses[0]?.share ?? null)} prefer response 1 (${group.n} raters)`);
      if (s.suppressedGroups > 0) printLine(`  ${s.suppressedGroups} group(s) too small to show`);
      printLine(`groups: ${s.disagreement.verdict}`);
    });
}

function pct(share: number | null): string {
  return share === null ? "–" : `${Math.round(share * 100)}%`;
}

function interval(value: { low: number; high: number } | null): string {
  return value ? `[${Math.round(value.low * 100)}–${Math.round(value.high * 100)}%]` : "";
}
