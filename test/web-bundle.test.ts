/**
 * The bundle page in a real browser, signed out: choose two policies held on
 * the instance and a context, see the effective clauses rendered with their
 * provenance (named by policy title and community) and a same-id conflict,
 * see a bad locale refused next to its field, choose what the bundle holds
 * (a required choice that counts the preference data beforehand and warns
 * of empty preference files), then download the bundle and verify it with
 * the bundle verifier (the manifest proof checked against the instance's
 * published key). Across two instances: B composes its own policy with A's
 * followed one and names A's community, title and host, never a URL; the
 * page fits a 390 px phone and passes the accessibility audit.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, watchPageErrors } from "./browser.ts";
import { cleanupDir, fetchAp, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { verifyBundle } from "../src/bundles/verify.ts";
import { publicKeyFromMultibase } from "../src/policies/proof.ts";

let instance: LocalInstance;
let b: LocalInstance;
let browser: Browser;
const ids: Record<string, number> = {};
const work = mkdtempSync(join(tmpdir(), "fedalign-web-bundle-"));

async function publish(token: string, slug: string, content: unknown, on: LocalInstance = instance, community = "nurses"): Promise<number> {
  const created = await on.api<{ id: number }>("POST", "policies", { token, body: { community, slug, content } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const published = await on.api<{ iri: string }>("POST", `policies/${created.body.id}/publish`, { token, body: {} });
  expect(published.status).toBe(201);
  versions[slug] = published.body.iri;
  return created.body.id;
}
const versions: Record<string, string> = {};

beforeAll(async () => {
  [instance, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  const ada = await instance.createUser("ada");
  await createCommunity(instance.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(instance.instance.db, "ada") });
  ids.care = await publish(ada.token, "care", {
    title: "Care Policy",
    licence: "CC-BY-4.0",
    clauses: [
      {
        id: "urgent",
        title: "Urgent *cases*",
        authority: "root",
        text: "Refer urgent cases to a **human** clinician.",
        examples: [
          {
            prompt: [{ role: "user", content: "My chest hurts." }],
            responses: [
              { content: "Call emergency services now; I will stay with you.", label: "good" },
              { content: "Try resting for a while.", label: "bad" },
            ],
          },
        ],
      },
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
  // One member's answer to a task from Care's example, allowed to train and to leave the instance: the preference data.
  const tasks = await instance.api<{ created: { id: number }[] }>("POST", "tasks", { token: ada.token, body: { community: "nurses", fromVersion: versions.care } });
  expect(tasks.status).toBe(201);
  const answered = await instance.api("POST", `tasks/${tasks.body.created[0]!.id}/answer`, { token: ada.token, body: { choice: 0, consent: { train: true, federate: true, breakdown: false } } });
  expect(answered.status).toBe(200);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([instance?.destroy(), b?.destroy()]);
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
    expect(await clauses.locator(".clause-id").allTextContents()).toEqual(["urgent", "urgent", "language", "brief"]);
    // Rendered, not raw Markdown: the title in plain words, the text with its emphasis.
    expect(await clauses.nth(0).locator("strong").first().textContent()).toBe("Urgent cases");
    expect(await clauses.nth(0).locator(".md strong").textContent()).toBe("human");
    expect(await clauses.nth(0).textContent()).not.toContain("**");
    expect(await clauses.nth(0).locator(".provenance").textContent()).toBe("From Care Policy v1, Nurses");
    expect(await clauses.nth(1).locator(".provenance").textContent()).toBe("From Triage Rules v1, Nurses");
    const conflicts = await page.locator("ul.bundle-conflicts > li").allTextContents();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toContain("Same clause, different text: urgent differs in text between Care Policy, Nurses and Triage Rules, Nurses");
    expect(await page.getByText("swahili").first().textContent()).toBeTruthy();

    // What the bundle holds is a choice to make, counted beforehand.
    const dataChoice = page.getByRole("group", { name: "What the bundle holds" });
    expect(await dataChoice.getByLabel(/^The policy only/).isChecked()).toBe(false);
    expect(await dataChoice.getByLabel(/^The policy and preference data/).isChecked()).toBe(false);
    expect(await page.locator("#preferences-false-hint").textContent()).toContain("and 1 preference pair from its own examples");
    expect(await page.locator("#preferences-true-hint").textContent()).toContain("Also 1 record from members' answers and imports whose raters allowed training and sharing.");
    await screenshot(page, "bundle-page");
    expect(await accessibilityProblems(page)).toEqual([]);

    // Without a choice the server says so beside it (the browser's own check is skipped: clients without it reach the server too).
    await page.locator("form#download").evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    const refused = page.waitForResponse((response) => response.url().includes("/bundle/download"));
    await page.getByRole("button", { name: "Download bundle (.tar.gz)" }).click();
    expect((await refused).status()).toBe(400);
    expect(await page.locator("#preferences-error").textContent()).toBe("Choose whether the bundle holds the policy only or preference data too.");

    await page.getByLabel(/^The policy and preference data/).check();
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
      counts: { sources: number; clauses: number; preferenceRecords: number; policyExampleRecords: number };
    };
    expect(manifest.createdFrom.context).toBe("locale=en");
    // The page's counts were what came: one pair from the example, one member's record.
    expect(manifest.counts).toMatchObject({ sources: 2, clauses: 4, preferenceRecords: 2, policyExampleRecords: 1 });
    expect(manifest.createdFrom.precedence[0]).toMatch(/\/care$/);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe("bundle page across two instances", () => {
  it("warns before download when the preference files would be empty", async () => {
    const context = await newContext(browser, {});
    const page = await context.newPage();
    await page.goto(`${instance.origin}/bundle?source=${ids.triage}`);
    expect(await page.locator("#preferences-false-hint").textContent()).toContain("its preference files are empty");
    expect(await page.locator("#preferences-true-hint").textContent()).toContain("Also 0 records");
    expect(await page.locator("#preferences-true-hint").textContent()).toContain("the preference files would still be empty");
    await context.close();
  });

  it("names a followed policy by its community, title and host on B, never by URL, and fits a phone", async () => {
    const bob = await b.createUser("bob");
    await createCommunity(b.instance.db, { handle: "clinic", name: "Harbour Clinic", steward: await getUserByUsername(b.instance.db, "bob") });
    await publish(
      bob.token,
      "rules",
      {
        title: "Clinic Rules",
        licence: "CC-BY-4.0",
        clauses: [
          { id: "urgent", authority: "root", text: "Send urgent cases to the clinic's **on-call** nurse." },
          { id: "hours", authority: "guideline", text: "Say when the clinic is open: see [the hours](https://clinic.example/hours-and-a-very-long-address-that-must-wrap-on-phones)." },
        ],
      },
      b,
      "clinic",
    );
    const careIri = `${instance.origin}/actors/nurses/policies/care`;
    expect((await b.api<FollowView>("POST", "follows", { token: bob.token, body: { target: careIri } })).status).toBe(202);
    const mirrored = await waitFor(
      async () => {
        const found = await b.api<{ id: number; versions: unknown[] }>("GET", `policies/lookup?ref=${encodeURIComponent(careIri)}`);
        return found.status === 200 && found.body.versions.length > 0 ? found.body : undefined;
      },
      { what: "B to hold A's Care Policy" },
    );
    const rules = (await b.api<{ id: number }>("GET", `policies/lookup?ref=${encodeURIComponent(`${b.origin}/actors/clinic/policies/rules`)}`)).body.id;

    for (const phone of [false, true]) {
      const context = await newContext(browser, { phone });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      await page.goto(`${b.origin}/bundle`);
      // The sources list says whose each policy is, with A's host for the followed one.
      expect(await page.getByRole("checkbox", { name: /^Care Policy/ }).evaluate((box) => box.closest("label")!.textContent)).toContain(
        `Care Policy (Nurses (${instance.host}), followed)`,
      );
      await page.getByRole("checkbox", { name: /^Clinic Rules/ }).check();
      await page.getByRole("checkbox", { name: /^Care Policy/ }).check();
      await page.getByRole("button", { name: "Show effective policy" }).click();
      expect(page.url()).toContain(`source=${rules}`);
      expect(page.url()).toContain(`source=${mirrored.id}`);
      const effective = page.locator("section.bundle-effective");
      const conflict = (await page.locator("ul.bundle-conflicts > li").allTextContents()).join("\n");
      expect(conflict).toContain(`between Clinic Rules, Harbour Clinic and Care Policy, Nurses (${instance.host})`);
      const provenance = await page.locator("ol.effective-clauses .provenance").allTextContents();
      expect(provenance).toContain(`From Care Policy v1, Nurses (${instance.host})`);
      expect(provenance).toContain("From Clinic Rules v1, Harbour Clinic");
      // No URL is shown as a name anywhere in the effective policy, only as link targets.
      expect((await effective.textContent()) ?? "").not.toMatch(/https?:\/\/127\.0\.0\.1/);
      expect(await page.locator("#preferences-true-hint").textContent()).toContain("Followed policies' preference data is their own instance's to give");
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(phone ? 390 : 1280);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, phone ? "bundle-two-instances-phone" : "bundle-two-instances");
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
