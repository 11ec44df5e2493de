/**
 * Preference tasks at scale, in a real browser and through the API: a
 * steward makes tasks from a policy's 25 examples twice and gets no
 * duplicates ("0 created, 25 already existed"), nor do two identical API
 * posts at once; titles name the clause in plain words (no ids, no
 * Markdown); the list comes 20 to a page with an "Unanswered by me" filter;
 * a member goes from task to task with "Next unanswered task", and the API
 * list gives the same pages, filter and next task. The list and a task fit
 * a 390 px phone and pass the accessibility audit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import type { CreatedTasks, TaskDetail, TaskList } from "../src/api/schemas/preferences.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const EXAMPLES = 25;
const password = "correct horse battery staple";

/** 25 clauses, each with one GOOD/BAD example; titles with Markdown emphasis. */
function policyContent() {
  return {
    title: "Ward Manners",
    licence: "CC-BY-4.0",
    clauses: Array.from({ length: EXAMPLES }, (_, i) => ({
      id: `manner-${i + 1}`,
      title: `**Kindness** rule ${i + 1}`,
      authority: "guideline",
      text: `Be kind to patients, rule ${i + 1}.`,
      examples: [
        {
          prompt: [{ role: "user", content: `Question ${i + 1}?` }],
          responses: [
            { content: `A kind answer ${i + 1}.`, label: "good" },
            { content: `A curt answer ${i + 1}.`, label: "bad" },
          ],
        },
      ],
    })),
  };
}

describe("web: preference tasks at scale", () => {
  let instance: LocalInstance;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  let versionIri = "";

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startLocalInstance(), launchBrowser()]);
    const admin = await instance.createUser("ops", { admin: true });
    for (const username of ["sam", "mia"]) {
      expect((await instance.api("POST", "/users", { token: admin.token, body: { username, password } })).status).toBe(201);
      tokens[username] = (await instance.api<{ token: string }>("POST", "/tokens", { body: { username, password, label: "test" } })).body.token;
    }
    expect((await instance.api("POST", "/communities", { token: tokens.sam, body: { handle: "ward", name: "Ward Seven" } })).status).toBe(201);
    expect((await instance.api("PUT", "/communities/ward/members/mia", { token: tokens.sam, body: { role: "member" } })).status).toBe(200);
    const policy = await instance.api<{ id: number }>("POST", "/policies", { token: tokens.sam, body: { community: "ward", slug: "manners", content: policyContent() } });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    const published = await instance.api<{ iri: string }>("POST", `/policies/${policy.body.id}/publish`, { token: tokens.sam, body: {} });
    expect(published.status).toBe(201);
    versionIri = published.body.iri;
  });
  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  async function signedIn(username: string, phone = false): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await newContext(browser, { phone });
    const page = await context.newPage();
    await signIn(page, instance.origin, username);
    return { page, close: () => context.close() };
  }

  const list = async (query: string, token?: string) => (await instance.api<TaskList>("GET", `/tasks?community=ward${query}`, { token })).body;

  it("creates tasks from a policy's examples once, however often the steward asks", async () => {
    const { page, close } = await signedIn("sam");
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/actors/ward/tasks`);
    await page.getByRole("button", { name: "Create tasks from its examples" }).click();
    expect(await page.getByRole("status").textContent()).toBe(`${EXAMPLES} tasks created from the examples.`);
    await page.getByRole("button", { name: "Create tasks from its examples" }).click();
    expect(await page.getByRole("status").textContent()).toBe(`0 tasks created from the examples, ${EXAMPLES} already existed.`);
    expect((await list("")).total).toBe(EXAMPLES);

    // Titles in plain words: the clause's title without its Markdown, no clause id.
    const titles = await page.locator(".task-list h2").allTextContents();
    expect(titles[0]).toBe("Kindness rule 1");
    for (const title of titles) {
      expect(title).not.toContain("*");
      expect(title).not.toMatch(/manner-\d/);
    }
    expect(errors).toEqual([]);
    await close();
  });

  it("adds a task once when two identical requests arrive together, and says which already existed", async () => {
    const body = {
      community: "ward",
      tasks: [{ title: "Night call", prompt: [{ role: "user", content: "Can I call at night?" }], responses: [{ content: "Yes, always." }, { content: "Only if urgent." }] }],
    };
    const [one, two] = await Promise.all([0, 1].map(() => instance.api<CreatedTasks>("POST", "/tasks", { token: tokens.sam, body })));
    expect([one!.status, two!.status].sort()).toEqual([200, 201]);
    expect(one!.body.created.length + two!.body.created.length).toBe(1);
    expect(one!.body.existing.length + two!.body.existing.length).toBe(1);
    expect(one!.body.created[0]?.id ?? one!.body.existing[0]!.id).toBe(two!.body.created[0]?.id ?? two!.body.existing[0]!.id);
    // From-examples again through the API: all held.
    const again = await instance.api<CreatedTasks>("POST", "/tasks", { token: tokens.sam, body: { community: "ward", fromVersion: versionIri } });
    expect(again.status).toBe(200);
    expect([again.body.created.length, again.body.existing.length]).toEqual([0, EXAMPLES]);
    expect((await list("")).total).toBe(EXAMPLES + 1);
  });

  it("pages the list, filters what the member has not answered, and leads from task to task", async () => {
    const { page, close } = await signedIn("mia");
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/actors/ward/tasks`);
    expect(await page.locator(".task-list > li").count()).toBe(20);
    const pager = page.getByRole("navigation", { name: "Pages of tasks" });
    expect(await pager.textContent()).toContain("Page 1 of 2");
    await screenshot(page, "tasks-list");
    await pager.getByRole("link", { name: "Next page →" }).click();
    expect(new URL(page.url()).search).toBe("?page=2");
    expect(await page.locator(".task-list > li").count()).toBe(EXAMPLES + 1 - 20);

    // The first unanswered task, answered; the page then offers the next one.
    await page.getByRole("link", { name: "Next unanswered task" }).click();
    const first = await list("&perPage=1", tokens.mia);
    expect(page.url()).toBe(`${instance.origin}/tasks/${first.tasks[0]!.id}`);
    expect(first.nextUnanswered).toBe(first.tasks[0]!.id);
    await page.getByLabel("I prefer Response A").check();
    await page.getByRole("button", { name: "Send my answer" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Your answer was saved.");
    await page.getByRole("link", { name: "Next unanswered task" }).click();
    const second = Number(new URL(page.url()).pathname.split("/").pop());
    expect(second).toBeGreaterThan(first.tasks[0]!.id);
    expect((await instance.api<TaskDetail>("GET", `/tasks/${first.tasks[0]!.id}`, { token: tokens.mia })).body.nextUnanswered).toBe(second);
    // Skipping moves on too (and wraps round to the skipped one only at the end).
    await page.getByRole("link", { name: "Skip to the next unanswered task" }).click();
    expect(Number(new URL(page.url()).pathname.split("/").pop())).toBeGreaterThan(second);

    // The filter leaves out the answered task; the count says what is left.
    await page.goto(`${instance.origin}/actors/ward/tasks`);
    expect(await page.getByText(`${EXAMPLES} open tasks you have not answered`).isVisible()).toBe(true);
    await page.getByRole("navigation", { name: "Which tasks" }).getByRole("link", { name: "Unanswered by me" }).click();
    expect(new URL(page.url()).search).toBe("?unanswered=true");
    expect(await page.getByRole("link", { name: "Unanswered by me" }).getAttribute("aria-current")).toBe("page");
    const shown = await page.locator(".task-list h2 a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(shown).not.toContain(`/tasks/${first.tasks[0]!.id}`);
    expect(await page.locator(".task-list .tag-user").count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it("gives the API the same pages, filter and next task", async () => {
    const unanswered = await list("&unanswered=true&perPage=10&page=3", tokens.mia);
    expect(unanswered).toMatchObject({ page: 3, perPage: 10, total: EXAMPLES, pages: 3, unanswered: true, unansweredCount: EXAMPLES });
    expect(unanswered.tasks).toHaveLength(5);
    expect(unanswered.tasks.every((t) => t.answered === false)).toBe(true);
    const all = await list("&perPage=5", tokens.mia);
    expect(all.tasks[0]!.answered).toBe(true);
    expect(all.nextUnanswered).toBe(all.tasks[1]!.id);
    // Signed out: no answers to speak of, and no "unanswered by me".
    const signedOut = await list("");
    expect(signedOut.tasks[0]!.answered).toBeNull();
    expect(signedOut.nextUnanswered).toBeNull();
    expect((await instance.api("GET", "/tasks?community=ward&unanswered=true")).status).toBe(401);
    expect((await instance.api("GET", "/tasks?community=ward&perPage=101")).status).toBe(400);
  });

  it("fits the list and a task on a 390 px phone and passes the audit", async () => {
    const { page, close } = await signedIn("mia", true);
    for (const path of ["/actors/ward/tasks", `/tasks/${(await list("", tokens.mia)).nextUnanswered}`]) {
      await page.goto(`${instance.origin}${path}`);
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);
      expect(await accessibilityProblems(page)).toEqual([]);
    }
    await screenshot(page, "tasks-task-phone");
    await page.goto(`${instance.origin}/actors/ward/tasks`);
    await screenshot(page, "tasks-list-phone");
    await close();
  });

  it("names the clause in words in the titles of tasks made before titles did", async () => {
    // Titles as task creation wrote them before: "<clause id>: <example title>" and "<clause id>, example N".
    const tasks = ["manner-3: A *night* visit", "manner-4, example 2"].map((title, i) => ({
      title,
      prompt: [{ role: "user", content: `Older question ${i}?` }],
      responses: [{ content: "One." }, { content: "Two." }],
      clauseIds: [title.split(/[:,]/)[0]!],
    }));
    const made = await instance.api<CreatedTasks>("POST", "/tasks", { token: tokens.sam, body: { community: "ward", version: versionIri, tasks } });
    expect(made.body.created.map((t) => t.title)).toEqual(["Kindness rule 3: A night visit", "Kindness rule 4, example 2"]);
    const shown = await instance.api<TaskDetail>("GET", `/tasks/${made.body.created[0]!.id}`);
    expect(shown.body.title).toBe("Kindness rule 3: A night visit");
  });
});
