/**
 * Preference tasks in a real browser: a steward creates a task (and sees the
 * error beside a missing response), a member compares the two responses side
 * by side and answers with a rationale and consent terms (checked through the
 * API), the results page draws the API's aggregation as SVG bars with their
 * intervals, the comparison fits a phone, and a member narrows consent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import type { TaskResults } from "../src/api/schemas/preferences.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

describe("web: preference tasks", () => {
  let instance: LocalInstance;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  let taskId = 0;

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startLocalInstance(), launchBrowser()]);
    const names = ["sam", "mia", "raters1", "raters2", "raters3", "raters4"];
    // One admin through the CLI; the rest through the API (much faster than one CLI process each).
    const admin = await instance.createUser("ops", { admin: true });
    const password = "correct horse battery staple";
    for (const username of names) {
      expect((await instance.api("POST", "/users", { token: admin.token, body: { username, password } })).status).toBe(201);
      const token = await instance.api<{ token: string }>("POST", "/tokens", { body: { username, password, label: "test" } });
      expect(token.status).toBe(201);
      tokens[username] = token.body.token;
    }
    const created = await instance.api("POST", "/communities", { token: tokens.sam, body: { handle: "nurses", name: "Night Nurses" } });
    expect(created.status).toBe(201);
    for (const name of names.slice(1)) {
      expect((await instance.api("PUT", `/communities/nurses/members/${name}`, { token: tokens.sam, body: { role: "member" } })).status).toBe(200);
    }
    // Small groups are shown from two raters, so a handful of users make groups.
    expect((await instance.api("PATCH", "/communities/nurses", { token: tokens.sam, body: { minGroupSize: 2 } })).status).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  /**
   * One signed-in page per person and screen size for the whole file (a new
   * context and sign-in cost seconds on a busy machine): no test here depends
   * on a fresh session, and each starts by navigating. afterAll's
   * browser.close() closes them.
   */
  const sessions = new Map<string, Promise<Page>>();
  function signedIn(username: string, phone = false): Promise<Page> {
    const key = `${username}${phone ? " on a phone" : ""}`;
    let session = sessions.get(key);
    if (!session) {
      session = (async () => {
        const context = await newContext(browser, { phone });
        const page = await context.newPage();
        await signIn(page, instance.origin, username);
        return page;
      })();
      sessions.set(key, session);
    }
    return session;
  }

  it("lets a steward create a task, showing the error beside a missing response", async () => {
    const page = await signedIn("sam");
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/actors/nurses/tasks`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Preference tasks");
    await page.getByLabel("Title").fill("Pain at 3 a.m.");
    await page.getByLabel("Prompt", { exact: false }).first().fill("A patient asks for more pain medication than prescribed. What should I say?");
    await page.getByLabel("Response A").fill("Explain the prescription and page the doctor on call to review the dose.");
    // The server is the judge (clients without HTML validation reach it too): skip the browser's own check.
    await page.locator('form[aria-label="New task"]').evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    await page.getByRole("button", { name: "Create task" }).click();
    expect(await page.locator("#response2-error").textContent()).toBe("must not be empty");
    expect(await page.getByLabel("Response B").getAttribute("aria-invalid")).toBe("true");
    // What was typed is kept.
    expect(await page.getByLabel("Response A").inputValue()).toContain("page the doctor");

    await page.getByLabel("Response B").fill("Tell them the dose is fixed and that they must wait for the next round.");
    await page.getByRole("button", { name: "Create task" }).click();
    await page.waitForURL(/\/tasks\/\d+$/);
    taskId = Number(new URL(page.url()).pathname.split("/").pop());
    expect(await page.getByRole("status").textContent()).toBe('Task "Pain at 3 a.m." created.');

    const listed = await instance.api<{ tasks: { id: number; title: string; responses: unknown[] }[] }>("GET", "/tasks?community=nurses");
    expect(listed.body.tasks.map((t) => [t.id, t.title, t.responses.length])).toEqual([[taskId, "Pain at 3 a.m.", 2]]);
    await page.goto(`${instance.origin}/actors/nurses/tasks`);
    expect(await page.getByRole("link", { name: "Pain at 3 a.m." }).getAttribute("href")).toBe(`/tasks/${taskId}`);
    await screenshot(page, "preferences-tasks");
    expect(errors).toEqual([]);
  });

  it("lets a member compare the responses and answer with a rationale and consent terms", async () => {
    const page = await signedIn("mia");
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/tasks/${taskId}`);
    const [a, b] = [await page.getByRole("region", { name: "Response A" }).boundingBox(), await page.getByRole("region", { name: "Response B" }).boundingBox()];
    // Side by side on a desktop.
    expect(Math.abs(a!.y - b!.y)).toBeLessThan(2);
    expect(b!.x).toBeGreaterThan(a!.x + a!.width - 1);
    // Nothing is allowed until ticked.
    for (const label of ["Count me in my groups' results", "Allow training models on my answer", "Share my answer with instances that follow this policy"]) {
      expect(await page.getByLabel(label).isChecked()).toBe(false);
    }
    await page.getByLabel("I prefer Response A").check();
    await page.getByLabel("Why? (optional)").fill("Paging the doctor keeps the patient safe and heard.");
    await page.getByLabel("Groups you identify with (optional)").fill("night shift");
    await page.getByLabel("Count me in my groups' results").check();
    await page.getByLabel("Allow training models on my answer").check();
    await page.getByRole("button", { name: "Send my answer" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Your answer was saved.");
    expect(await page.locator("#your-answer + p").textContent()).toBe("You preferred Response A.");

    const stored = await instance.api<{ answer: { choice: number; rationale: string; groups: string[]; consent: Record<string, boolean> } }>("GET", `/tasks/${taskId}`, {
      token: tokens.mia,
    });
    expect(stored.body.answer).toMatchObject({
      choice: 0,
      rationale: "Paging the doctor keeps the patient safe and heard.",
      groups: ["night shift"],
      consent: { train: true, federate: false, breakdown: true },
    });
    // The form now holds the answer, ready to be changed.
    expect(await page.getByLabel("I prefer Response A").isChecked()).toBe(true);
    expect(await page.getByLabel("Allow training models on my answer").isChecked()).toBe(true);
    expect(await page.getByRole("button", { name: "Save my new answer" }).isVisible()).toBe(true);
    await screenshot(page, "preferences-compare");
    expect(errors).toEqual([]);
  });

  it("fits the comparison on a phone, responses stacked, and takes ratings instead of a choice", async () => {
    const page = await signedIn("mia", true);
    await page.goto(`${instance.origin}/tasks/${taskId}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const [a, b] = [await page.getByRole("region", { name: "Response A" }).boundingBox(), await page.getByRole("region", { name: "Response B" }).boundingBox()];
    expect(b!.y).toBeGreaterThanOrEqual(a!.y + a!.height);
    await screenshot(page, "preferences-compare-phone");
    // Changing the answer to ratings keeps the consent given before.
    await page.getByLabel("Rate each response instead of choosing").check();
    await page.getByLabel("Or rate Response A").selectOption("4");
    await page.getByLabel("Or rate Response B").selectOption("2");
    await page.getByRole("button", { name: "Save my new answer" }).click();
    expect(await page.locator("#your-answer + p").textContent()).toBe("You rated Response A 4, Response B 2 (on 1 to 5).");
    const stored = await instance.api<{ answer: { choice: number | null; ratings: unknown; consent: Record<string, boolean> } }>("GET", `/tasks/${taskId}`, { token: tokens.mia });
    expect(stored.body.answer).toMatchObject({ choice: null, ratings: { scale: { min: 1, max: 5 }, values: [4, 2] }, consent: { train: true, federate: false, breakdown: true } });
  });

  it("draws the API's aggregation per group as SVG bars with intervals, with the same numbers in a table", async () => {
    const answers: [string, number, string][] = [
      ["raters1", 0, "night shift"],
      ["raters2", 1, "day shift"],
      ["raters3", 1, "day shift"],
      ["raters4", 1, "agency"],
    ];
    for (const [name, choice, group] of answers) {
      const answered = await instance.api("POST", `/tasks/${taskId}/answer`, {
        token: tokens[name],
        body: { choice, groups: [group], consent: { train: false, federate: false, breakdown: true } },
      });
      expect(answered.status).toBe(200);
    }
    // A member sees every answer; these did not allow sharing beyond the community (see consent-results.test.ts).
    const results = (await instance.api<TaskResults>("GET", `/tasks/${taskId}/results`, { token: tokens.mia })).body;
    expect(results.summary.overall.n).toBe(5);
    expect(results.summary.byGroup.map((g) => g.group)).toEqual(["day shift", "night shift"]);
    expect(results.summary.suppressedGroups).toBe(1);

    const page = await signedIn("mia");
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/tasks/${taskId}/results`);
    const chart = page.locator("svg#shares-chart, #shares-chart svg").first();
    expect(await chart.getAttribute("role")).toBe("img");
    expect(await chart.locator("title").first().textContent()).toContain("Share preferring each response");
    const plotWidth = Number(await chart.getAttribute("data-plot-width"));
    const bars = await chart.locator("rect.bar").evaluateAll((rects) =>
      rects.map((r) => ({ row: r.getAttribute("data-row"), series: Number(r.getAttribute("data-series")), width: Number(r.getAttribute("width")) })),
    );
    const expected = [
      { label: "All raters", stats: results.summary.overall },
      ...results.summary.byGroup.map((g) => ({ label: g.group, stats: g })),
    ].flatMap(({ label, stats }) => stats.responses.map((r, series) => ({ row: label, series, share: r.share! })));
    expect(bars.map(({ row, series }) => ({ row, series }))).toEqual(expected.map(({ row, series }) => ({ row, series })));
    bars.forEach((bar, i) => expect(bar.width / plotWidth).toBeCloseTo(expected[i]!.share, 3));
    // Error bars at the API's intervals.
    const first = results.summary.overall.responses[0]!.interval!;
    const intervals = await chart.locator("g.error-bar").evaluateAll((gs) => gs.map((g) => [Number(g.getAttribute("data-low")), Number(g.getAttribute("data-high"))]));
    expect(intervals[0]![0]).toBeCloseTo(first.low, 9);
    expect(intervals[0]![1]).toBeCloseTo(first.high, 9);
    // The same numbers for screen readers, and the withheld group is counted, not named.
    const table = await page.locator("table.chart-table").first().textContent();
    expect(table).toContain("day shift");
    expect(table).toContain(`${Math.round(results.summary.overall.responses[0]!.share! * 100)}%`);
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).not.toContain("agency");
    expect(text).toContain("1 smaller group is not shown");
    expect(text).toContain(results.summary.disagreement.verdict.charAt(0).toUpperCase() + results.summary.disagreement.verdict.slice(1));
    await screenshot(page, "preferences-results");
    expect(errors).toEqual([]);
  });

  it("lets a member withdraw a use of their answer on their preferences page", async () => {
    const page = await signedIn("mia");
    await page.goto(`${instance.origin}/settings/preferences`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Your preference answers");
    await page.getByLabel("Allow training models on my answer").uncheck();
    await page.getByRole("button", { name: "Save narrower consent" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Consent saved: you now allow group results.");
    const mine = await instance.api<{ task: number; consent: Record<string, boolean> }[]>("GET", "/preferences/mine", { token: tokens.mia });
    expect(mine.body).toEqual([expect.objectContaining({ task: taskId, consent: { train: false, federate: false, breakdown: true } })]);
  });
});
