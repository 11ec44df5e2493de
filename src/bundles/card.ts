/**
 * The dataset card (README.md) of a bundle: Hugging Face front matter and
 * prose that say what the data is, where every record's consent came from,
 * under which licences, and what was left out. Derived from the manifest's
 * facts alone, so `verify` rebuilds it byte for byte.
 */
import { FLAW_DESCRIPTIONS, FLAW_KINDS } from "../preferences/quality.ts";
import type { BundleManifest, ConsentSource, DatasetSummary } from "./derive.ts";
import { OPENAI_FILE, PROVENANCE_FILE, TRL_FILE } from "./derive.ts";

const HF_SIZE_CATEGORIES: [number, string][] = [
  [1_000, "n<1K"],
  [10_000, "1K<n<10K"],
  [100_000, "10K<n<100K"],
  [1_000_000, "100K<n<1M"],
  [10_000_000, "1M<n<10M"],
  [100_000_000, "10M<n<100M"],
  [1_000_000_000, "100M<n<1B"],
];

function sizeCategory(n: number): string {
  for (const [limit, name] of HF_SIZE_CATEGORIES) if (n < limit) return name;
  return "n>1B";
}

/**
 * Hugging Face licence ids are lowercase SPDX ids ("cc-by-4.0"); an SPDX
 * expression ("MIT OR Apache-2.0") has no id there and becomes "other" (the
 * exact licences are in the prose and the manifest).
 */
function hfLicence(spdx: string): string {
  return /^[A-Za-z0-9.+-]+$/.test(spdx) ? spdx.toLowerCase() : "other";
}

/** A YAML double-quoted scalar: JSON string syntax is a subset of it. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

const CONSENT_SOURCE_TEXT: Record<ConsentSource, string> = {
  rater: "given by a rater on the publishing instance, who chose the consent terms",
  "steward-declared": "declared by the community steward who imported a licensed data set (no rater was asked)",
  "policy-licence": "the policy's own GOOD/BAD examples, under the policy's licence, published by its community",
};

const MIT_TEXT = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

/** The notice a licence asks to travel with the data, for one data set. */
function licenceNotice(dataset: DatasetSummary): string[] {
  const licence = dataset.licence;
  const name = code(dataset.name);
  if (licence === null) return [`- ${name}: no licence declared; its records are here on their raters' consent alone.`];
  if (licence === "MIT") {
    return [
      `- ${name} is licensed under the MIT License:`,
      "",
      "  ```text",
      "  MIT License",
      "",
      `  ${dataset.copyright ?? "Copyright (c) the data set's authors (holder not recorded with the import; see the data set's source)"}`,
      "",
      ...MIT_TEXT.split("\n").map((line) => (line === "" ? "" : `  ${line}`)),
      "  ```",
    ];
  }
  const ccBy = /^CC-BY(-SA)?-(\d\.\d)$/.exec(licence);
  if (ccBy) {
    const path = `${ccBy[1] ? "by-sa" : "by"}/${ccBy[2]}`;
    return [
      `- ${name}${dataset.copyright ? ` (${dataset.copyright})` : ""} is licensed under ${licence.replace(/-/g, " ").replace("CC BY SA", "CC BY-SA")} ` +
        `(https://creativecommons.org/licenses/${path}/). Changes: records converted to preference pairs by Fedalign; ` +
        `only records allowed for training are included.${ccBy[1] ? " Adaptations must be shared under the same licence." : ""}`,
    ];
  }
  if (licence === "CC0-1.0" || licence === "PDDL-1.0") return [`- ${name}: ${code(licence)}, dedicated to the public domain; no notice is required.`];
  return [`- ${name}: ${code(licence)}; follow that licence's terms.`];
}

export function datasetCard(manifest: BundleManifest, signed: boolean): string {
  const title = manifest.title ?? "Fedalign alignment bundle";
  const prefs = manifest.preferences;
  const allLicences = sortedDistinct([...manifest.licences, ...manifest.preferenceLicences]);
  const hf = sortedDistinct(allLicences.map(hfLicence));
  const lines: string[] = ["---"];
  if (hf.length === 0) lines.push("license: other");
  else if (hf.length === 1) lines.push(`license: ${yamlString(hf[0]!)}`);
  else lines.push("license:", ...hf.map((l) => `- ${yamlString(l)}`));
  if (prefs.languages.length > 0) lines.push("language:", ...prefs.languages.map((l) => `- ${yamlString(l)}`));
  lines.push(`pretty_name: ${yamlString(title)}`);
  if (prefs.datasets.length > 0) lines.push("source_datasets:", ...prefs.datasets.map((d) => `- ${yamlString(d.name)}`));
  lines.push(
    "task_categories:",
    "- text-generation",
    "tags:",
    "- alignment",
    "- preference",
    "- dpo",
    "- fedalign",
    "size_categories:",
    `- ${yamlString(sizeCategory(manifest.counts.preferencePairs))}`,
    "configs:",
    "- config_name: trl",
    "  default: true",
    "  data_files:",
    "  - split: train",
    `    path: ${TRL_FILE}`,
    "- config_name: openai",
    "  data_files:",
    "  - split: train",
    `    path: ${OPENAI_FILE}`,
    "---",
    "",
    `# ${title}`,
    "",
    "An alignment bundle exported by Fedalign: community alignment policies composed into one policy for a context",
    "of use, the policies' own examples as preference pairs, and the preference data its raters or stewards allowed",
    "to be used for training. It contains:",
    "",
    "- `policy.md`: the composed policy, readable, with commentary and notes;",
    ...manifest.systemPrompts.map(
      (p) => `- \`${p.file}\`: the ${p.mode} system prompt for ${p.context === null ? "any context" : code(p.context)} (${p.words} words, about ${p.approxTokens} tokens);`,
    ),
    "- `principles.json`: one short principle per clause, with critique and revision requests (Constitutional AI);",
    `- \`${TRL_FILE}\`: preference pairs in Hugging Face TRL conversational format (\`prompt\`, \`chosen\`, \`rejected\`);`,
    `- \`${OPENAI_FILE}\`: the same pairs, in the same order, in OpenAI preference fine-tuning format (\`input\`, \`preferred_output\`, \`non_preferred_output\`);`,
    `- \`${PROVENANCE_FILE}\`: for each pair, on the same line number: where it came from (policy example with its clause id, or data set), its licence and its consent;`,
    "- `sources/<n>.json`: each source policy version exactly as its community signed it;",
    "- `preferences/<n>.jsonl`: the preference data of source n's policy as its community signed it, one page per line;",
    "- `manifest.json`: the SHA-256 and size of every other file, the sources, signing keys and composition inputs" + (signed ? ", signed by the exporting instance." : "."),
    "",
    "## Sources",
    "",
  );
  if (manifest.sources.length === 0) lines.push("None.");
  for (const s of manifest.sources) {
    lines.push(
      `- ${code(s.iri)} (${code(s.file)})`,
      `  - policy: ${code(s.policy)}`,
      `  - community: ${code(s.community)}`,
      `  - content hash: ${code(s.contentHash)}`,
      `  - licence: ${code(s.licence)}`,
      `  - signing key: ${s.communityKey ? code(s.communityKey.id) : "not embedded"}`,
    );
  }
  const from = manifest.createdFrom;
  lines.push("", `Composed from ${from.sources.map(code).join(", ") || "no sources"}`);
  if (from.context !== null) lines.push(`for the context ${code(from.context)}`);
  if (from.precedence.length > 0) lines.push(`with precedence (highest first) ${from.precedence.map(code).join(", ")}`);
  lines[lines.length - 1] += ".";
  lines.push("", "## Preference data", "");
  lines.push("| source data set | licence | consent | records |", "| --- | --- | --- | --- |");
  for (const d of prefs.datasets) lines.push(`| ${code(d.name)} | ${d.licence ? code(d.licence) : "none declared"} | ${d.consentSource} | ${d.records} |`);
  if (prefs.datasets.length === 0) lines.push("| (none) | | | 0 |");
  lines.push("", "Records by where their consent came from:", "");
  for (const [source, text] of Object.entries(CONSENT_SOURCE_TEXT) as [ConsentSource, string][]) {
    lines.push(`- ${source} (${text}): ${prefs.byConsentSource[source]}`);
  }
  lines.push(
    "",
    `Languages: ${prefs.languages.length > 0 ? prefs.languages.map(code).join(", ") : "none declared"}` +
      `${prefs.recordsWithoutLanguage > 0 ? `; ${prefs.recordsWithoutLanguage} records come from data sets that declare no language` : ""}.`,
    "",
    "## Licences",
    "",
    `Source policies: ${manifest.licences.map(code).join(", ") || "none"}.`,
    `Preference data: ${manifest.preferenceLicences.map(code).join(", ") || "none declared"}.`,
    "Where several licences are listed, each part of the bundle stays under its own licence. Notices:",
    "",
  );
  if (prefs.datasets.length === 0) lines.push("None.");
  for (const d of prefs.datasets) lines.push(...licenceNotice(d));
  lines.push(
    "",
    "## Counts",
    "",
    `- sources: ${manifest.counts.sources}`,
    `- clauses: ${manifest.counts.clauses}`,
    `- preference records: ${manifest.counts.preferenceRecords} (of which policy examples: ${manifest.counts.policyExampleRecords})`,
    `- preference pairs (lines in each JSONL file): ${manifest.counts.preferencePairs}`,
    `- records left out for lack of training consent: ${manifest.counts.skippedWithoutTrainConsent}`,
    `- records left out because they yield no pair (tied ratings): ${manifest.counts.recordsWithoutPairs}`,
    `- records with flaws a training pipeline would trip on: ${manifest.counts.flawedRecords}, ${from.keepFlawed ? "kept (--keep-flawed)" : "left out"}`,
    "",
    "## Data quality",
    "",
  );
  const findings = FLAW_KINDS.filter((kind) => prefs.flaws[kind] > 0);
  if (findings.length === 0) lines.push("No record has an empty answer, non-alternating roles or a tool message without a call.");
  for (const kind of findings) lines.push(`- ${kind} (${FLAW_DESCRIPTIONS[kind]}): ${prefs.flaws[kind]}`);
  if (prefs.flawExamples.length > 0) {
    lines.push("", "First flawed records:", "");
    for (const example of prefs.flawExamples) lines.push(`- ${code(example.record)}: ${example.flaws.join(", ")}`);
  }
  lines.push(
    "",
    "## Consent",
    "",
    "Only records whose consent terms allow training (`train`) are in the training files. The JSONL files hold only",
    "prompts and responses: no rater ids, groups or rationales. A record's consent terms and licence travel with it in",
    "the community's signed pages (`preferences/<n>.jsonl`), so changing either breaks that page's proof.",
    "",
    "## How to verify",
    "",
    "`fedalign bundle verify <dir>` (or `verifyBundle(dir)`) checks every source's content hash and proof, every",
    "preference page's hash and proof (with pinned keys, else the community keys the manifest embeds, else fetched",
    "ones), then derives every other file again from those signed sources and the composition inputs in the",
    "manifest and compares bytes. An edited file fails, even with its hash updated in the manifest.",
    "",
    "An embedded community key proves that the documents were not changed since they were signed with it; that the",
    "key belongs to the community is for you to check, e.g. against the community's actor document.",
    "",
  );
  return lines.join("\n");
}
