/**
 * Reading pages: median warm server time and HTML size of the pages a
 * reader of a large policy opens, on a fresh instance in this process
 * (requests go through the Hono app's fetch, so no socket is measured).
 *
 * Set-up: the OpenAI Model Spec (59 clauses, 21 sections, ~150 KB of
 * examples) imported and published as version 1, one clause edited and
 * published as version 2, a few annotations, and a Polis conversation
 * (london.youth.policing by default) imported for the opinions page.
 *
 *   npm run bench:pages -- [--runs 20] [--polis /work/shared/data/polis/london.youth.policing]
 *
 * Baseline in the same run: the policy page with every example and
 * annotation in the page (?details=all, what the page carried before
 * examples moved to the clause pages) next to the default page.
 * Targets: the Model Spec policy page under 50 ms warm and under 150 KiB.
 */
import "../src/polyfills.ts";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createSession, SESSION_COOKIE } from "../src/accounts/sessions.ts";
import { createUser } from "../src/accounts/users.ts";
import { annotate } from "../src/app/annotations.ts";
import { importCommunityPolicy, publishVersion } from "../src/app/policies.ts";
import { importStatements } from "../src/app/statements.ts";
import { createCommunity } from "../src/communities.ts";
import { openInstance } from "../src/instance.ts";
import { configureLogging } from "../src/logging.ts";
import { readPolisExport } from "../src/participation/polis.ts";
import { getDraft, getPolicyById, saveDraft } from "../src/policies/policies.ts";
import { clauseIri } from "../src/policies/iris.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    polis: { type: "string", default: "/work/shared/data/polis/london.youth.policing" },
  },
});
const RUNS = Number(args.runs);
const SPEC = fileURLToPath(new URL("../test/fixtures/model_spec/model_spec.md", import.meta.url));
const POLIS = existsSync(args.polis) ? args.polis : fileURLToPath(new URL("../test/fixtures/polis/london.youth.policing", import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const peakRss = () => Math.round(process.resourceUsage().maxRSS / 1024);

configureLogging("error");
const dataDir = mkdtempSync(join(tmpdir(), "fedalign-bench-pages-"));
const origin = "http://127.0.0.1:9";
const instance = await openInstance({ dataDir, origin, allowPrivateAddress: true });
try {
  const { context, db } = instance;
  const steward = await createUser(db, { username: "stella", password: "correct horse battery staple" });
  const community = await createCommunity(db, { handle: "spec", name: "Model Spec readers", steward });

  const setupStarted = performance.now();
  const { policy } = await importCommunityPolicy(context, steward, { community: "spec", source: readFileSync(SPEC, "utf8"), format: "modelspec" });
  const v1 = await publishVersion(context, steward, policy.id, { message: "Imported." });
  const draft = getDraft(await getPolicyById(db, policy.id));
  const edited = draft.clauses[Math.floor(draft.clauses.length / 2)]!;
  edited.text = `${edited.text}\n\nStewards review this clause every quarter.`;
  await saveDraft(db, await getPolicyById(db, policy.id), draft);
  const v2 = await publishVersion(context, steward, policy.id, { message: "Review every quarter." });
  for (const clause of draft.clauses.slice(0, 10)) {
    await annotate(context, steward, { target: clauseIri(v2.iri, clause.id), motivation: "comment", text: `A note on ${clause.id}: worth discussing with the ward.` });
  }
  const ex = readPolisExport(POLIS);
  await importStatements(context, steward, {
    community: community.handle,
    conversation: "main",
    mustBeNew: false,
    summary: Object.entries(ex.summary),
    statements: ex.statements,
    votes: ex.votes,
    participants: ex.participants.map((p) => ({ id: p.id, group: p.group, xid: p.xid ?? null })),
  });
  await instance.outbox.dispatchDue();
  const setupMs = performance.now() - setupStarted;

  const cookie = `${SESSION_COOKIE}=${(await createSession(db, steward.id)).cookieValue}`;
  const get = async (path: string, signedIn: boolean) => {
    const started = performance.now();
    const response = await instance.app.fetch(new Request(`${origin}${path}`, { headers: signedIn ? { cookie } : {} }));
    const body = await response.arrayBuffer();
    const ms = performance.now() - started;
    return { ms, bytes: body.byteLength, status: response.status };
  };
  const measure = async (label: string, path: string, signedIn = false) => {
    const first = await get(path, signedIn); // warm-up: caches, JIT
    if (first.status !== 200) {
      console.log(`${label.padEnd(52)} HTTP ${first.status}`);
      return { ms: NaN, bytes: NaN };
    }
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const result = await get(path, signedIn);
      times.push(result.ms);
      bytes = result.bytes;
    }
    console.log(`${label.padEnd(52)} ${median(times).toFixed(1).padStart(7)} ms ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
    return { ms: median(times), bytes };
  };

  console.log(
    `Pages benchmark: the Model Spec (${draft.clauses.length} clauses, versions ${v1.number} and ${v2.number}), Polis ${POLIS.split("/").pop()} (${ex.statements.length} statements, ${ex.votes.length} votes); set-up ${(setupMs / 1000).toFixed(1)} s; medians of ${RUNS} warm requests, Node ${process.version}.\n`,
  );
  console.log(`${"page".padEnd(52)} ${"server".padStart(10)} ${"HTML".padStart(12)}`);
  const p = policy.id;
  const page = await measure("policy page (signed out)", `/policies/${p}`);
  await measure("policy page (signed in, steward)", `/policies/${p}`, true);
  await measure("policy page, all examples and annotations (?details=all)", `/policies/${p}?details=all`);
  await measure("clause page", `/policies/${p}/clauses/${encodeURIComponent(edited.id)}`);
  await measure("clause page, pinned to version 1", `/policies/${p}/versions/1/clauses/${encodeURIComponent(edited.id)}`);
  await measure("policy page ?authority=root", `/policies/${p}?authority=root`);
  await measure("policy page ?domain=…&authority=guideline", `/policies/${p}?authority=guideline&authority=user`);
  await measure("search in the policy (\"privacy\")", `/policies/${p}/search?q=privacy`);
  await measure("search across the instance (\"harmful instructions\")", `/search?q=${encodeURIComponent("harmful instructions")}`);
  await measure("diff between versions 1 and 2", `/policies/${p}/diff?from=1&to=2`);
  await measure("feed", "/feed", true);
  await measure("opinions page", `/actors/${community.handle}/opinions`);
  console.log(
    `\nTarget for the policy page: under 50 ms and 150 KiB: ${page.ms < 50 && page.bytes < 150 * 1024 ? "met" : "NOT met"}. Peak RSS ${peakRss()} MiB.`,
  );
} finally {
  await instance.close();
  rmSync(dataDir, { recursive: true, force: true });
}
