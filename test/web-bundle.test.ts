/**
 * The bundle page in a real browser, signed out: choose two policies held on
 * the instance and a context, see the effective clauses with their
 * provenance and a same-id conflict, see a bad locale refused next to its
 * field, then download the bundle and verify it with the bundle verifier
 * (the manifest proof checked against the instance's published key).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, newContext, screenshot, watchPageErrors } from "./browser.ts";
import { cleanupDir, fetchAp } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { verifyBundle } from "../src/bundles/verify.ts";
import { publicKeyFromMultibase } from "../src/policies/proof.ts";

let instance: LocalInstance;
let browser: Browser;
const ids: Record<string, number> = {};
const work = mkdtempSync(join(tmpdir(), "fedalign-web-bundle-"));

async function publish(token: string, slug: string, content: unknown): Promise<number> {
  const created = await instance.api<{ id: number }>("POST", "policies", { token, body: { community: "nurses", slug, content } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await instance.api("POST", `policies/${created.body.id}/publish`, { token, body: {} })).status).toBe(201);
  return created.body.id;
}

beforeAll(async () => {
  [instance, browser] = await Promise.all([startLocalInstance(), launchBrowser()]);
  const ada = await instance.createUser("ada");
  await createCommunity(instance.instance.db, { handle: "nurses", name: "Nurses", steward: getUserByUsername(instance.instance.db, "ada") });
  ids.care = await publish(ada.token, "care", {
    title: "Care Policy",
    licence: "CC-BY-4.0",
    clauses: [
      { id: "urgent", authority: "root", text: "Refer urgent cases to a human clinician." },
      { id: "language", authority: "user", text: "Answer in the language the patient writes in." },
      { id: "swahili", authority: "guideline", text: "Use plain Swahili medical terms.", context: { locale: ["sw"] } },
    ],
  });
  ids.triage = await publish(ada.token, "triage", {
    title: "Triage Rules",
    licence: "CC-BY-4.0",
    clauses: [
      { id: "urgent", authority: "root", text: "Call emergency services for urgent cases." },
      { id: "brief", authority: "guideline", text: "Keep answers brief." },
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await instance?.destroy();
  cleanupDir(work);
});

describe("bundle page", () => {
  it("shows the effective policy and its conflicts, refuses a bad locale beside the field, and downloads a bundle that verifies", async () => {
    const context = await newContext(browser, {});
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/bundle`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Bundle");

    // Nothing chosen: the error is beside the sources.
    await page.getByRole("button", { name: "Show effective policy" }).click();
    expect(await page.locator("#sources-error").textContent()).toBe("Choose at least one policy.");

    await page.getByRole("checkbox", { name: /^Triage Rules/ }).check();
    await page.getByRole("checkbox", { name: /^Care Policy/ }).check();
    await page.getByLabel("Precedence of Care Policy").fill("1");
    await page.getByLabel("Precedence of Triage Rules").fill("2");
    await page.getByLabel("Locale").fill("not a locale!");
    await page.getByRole("button", { name: "Show effective policy" }).click();
    expect(await page.locator("#locale-error").textContent()).toContain("is not a BCP 47 language tag");
    expect(await page.getByRole("checkbox", { name: /^Care Policy/ }).isChecked()).toBe(true);

    await page.getByLabel("Locale").fill("en");
    await page.getByRole("button", { name: "Show effective policy" }).click();
    const clauses = page.locator("ol.effective-clauses > li");
    // Both variants of "urgent" (root first, Care ranked above Triage), then "language" (user), then "brief" (guideline); "swahili" left out for en.
    expect(await clauses.locator("code").allTextContents()).toEqual(["urgent", "urgent", "language", "brief"]);
    expect(await clauses.nth(0).textContent()).toContain("Refer urgent cases to a human clinician.");
    expect(await clauses.nth(0).locator(".provenance").textContent()).toContain("Care Policy v1");
    expect(await clauses.nth(1).locator(".provenance").textContent()).toContain("Triage Rules v1");
    const conflicts = await page.locator("ul.bundle-conflicts > li").allTextContents();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toContain("Same clause, different text: urgent differs in text between Care Policy and Triage Rules");
    expect(await page.getByText("swahili").first().textContent()).toBeTruthy();
    await screenshot(page, "bundle-page");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download bundle (.tar.gz)" }).click()]);
    expect(download.suggestedFilename()).toBe("nurses-care-and-1-more.tar.gz");
    const tarGz = join(work, "bundle.tar.gz");
    await download.saveAs(tarGz);
    const dir = join(work, "bundle");
    execFileSync("mkdir", ["-p", dir]);
    execFileSync("tar", ["-xzf", tarGz, "-C", dir]);

    const fetchKey = async (keyId: string) => {
      const actor = await fetchAp<{ assertionMethod?: { id: string; publicKeyMultibase: string }[] | { id: string; publicKeyMultibase: string } }>(keyId.split("#")[0]!);
      const methods = Array.isArray(actor.assertionMethod) ? actor.assertionMethod : actor.assertionMethod ? [actor.assertionMethod] : [];
      const method = methods.find((m) => m.id === keyId);
      return method ? publicKeyFromMultibase(method.publicKeyMultibase) : null;
    };
    const report = await verifyBundle(dir, { fetchKey, requireManifestProof: true });
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    const manifest = JSON.parse(execFileSync("cat", [join(dir, "manifest.json")]).toString()) as {
      createdFrom: { context: string; precedence: string[] };
      counts: { sources: number; clauses: number };
    };
    expect(manifest.createdFrom.context).toBe("locale=en");
    expect(manifest.counts).toMatchObject({ sources: 2, clauses: 4 });
    expect(manifest.createdFrom.precedence[0]).toMatch(/\/care$/);
    expect(errors).toEqual([]);
    await context.close();
  });
});
