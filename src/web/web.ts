/**
 * Server-rendered pages: the instance home, sign-in and sign-out, and the
 * HTML view of an actor (browsers asking for an actor IRI land here). The
 * full web UI grows from this in its own issue.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "../../db/client.ts";
import { SESSION_COOKIE, SESSION_LIFETIME_MS, createSession, deleteSession, sessionUser } from "../accounts/sessions.ts";
import { authenticate, countUsers } from "../accounts/users.ts";
import { findActorByIdentifier } from "../actors/local-actors.ts";
import { findCommunityByActorId, listCommunities, listMembers } from "../communities.ts";
import { countFollowers } from "../follows.ts";
import { actorIri, fediverseHandle } from "../api/views.ts";
import { layout } from "./layout.ts";
import { createPolicyPages } from "./policy-pages.ts";

const LOGIN_CSRF_COOKIE = "fedalign_login_csrf";

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createWeb(deps: { db: Db; origin: string }) {
  const { db, origin } = deps;
  const instanceName = new URL(origin).host;
  const secure = origin.startsWith("https:");
  const web = new Hono();

  const session = (c: Context) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    return cookie ? sessionUser(db, cookie) : undefined;
  };
  const page = (c: Context, title: string, body: Parameters<typeof layout>[1], status: 200 | 400 | 401 | 403 | 404 = 200) => {
    const current = session(c);
    return c.html(
      layout({ title, instanceName, signedInAs: current?.user.username, csrfToken: current?.csrfToken }, body),
      status,
    );
  };

  web.get("/", (c) => {
    const communities = listCommunities(db);
    const firstRun = countUsers(db) === 0;
    return page(
      c,
      "Home",
      html`<h1>${instanceName}</h1>
      <p>A Fedalign instance: communities here host alignment policies for language models and their members' preference data, and federate them over ActivityPub.</p>
      ${firstRun
        ? html`<p><strong>This instance has no users yet.</strong> Create the first admin with:</p>
          <pre>fedalign admin user create &lt;name&gt; --admin --password-stdin --data &lt;data dir&gt;</pre>`
        : ""}
      <h2>Communities</h2>
      ${communities.length === 0
        ? html`<p>No communities yet.</p>`
        : html`<ul>${communities.map(
            (community) =>
              html`<li><a href="/actors/${community.handle}">${community.name}</a> (${fediverseHandle(origin, community.handle)})</li>`,
          )}</ul>`}
      <p>API: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a></p>`,
    );
  });

  web.get("/login", (c) => {
    const csrf = randomBytes(18).toString("base64url");
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: "Lax", secure, path: "/login", maxAge: 3600 });
    return page(c, "Sign in", loginForm(csrf));
  });

  web.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const csrf = typeof form.csrf === "string" ? form.csrf : undefined;
    if (!sameToken(csrf, getCookie(c, LOGIN_CSRF_COOKIE))) {
      return page(c, "Sign in", html`<p class="error">The form expired; <a href="/login">load it again</a>.</p>`, 403);
    }
    const username = typeof form.username === "string" ? form.username.trim() : "";
    const password = typeof form.password === "string" ? form.password : "";
    const user = username && password ? await authenticate(db, username, password) : undefined;
    if (!user) return page(c, "Sign in", loginForm(csrf ?? "", "Wrong username or password."), 401);
    const created = createSession(db, user.id);
    setCookie(c, SESSION_COOKIE, created.cookieValue, {
      httpOnly: true,
      sameSite: "Lax",
      secure,
      path: "/",
      maxAge: SESSION_LIFETIME_MS / 1000,
    });
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: "/login" });
    return c.redirect("/", 303);
  });

  web.post("/logout", async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const current = cookie ? sessionUser(db, cookie) : undefined;
    const form = await c.req.parseBody();
    if (cookie && current && sameToken(typeof form.csrf === "string" ? form.csrf : undefined, current.csrfToken)) {
      deleteSession(db, cookie);
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
    }
    return c.redirect("/", 303);
  });

  web.get("/@:identifier", (c) => c.redirect(`/actors/${c.req.param("identifier")}`, 301));

  web.get("/actors/:identifier", (c) => {
    const actor = findActorByIdentifier(db, c.req.param("identifier"));
    if (!actor) return page(c, "Not found", html`<h1>Not found</h1><p>No such actor on this instance.</p>`, 404);
    const iri = actorIri(origin, actor.identifier);
    const community = actor.kind === "community" ? findCommunityByActorId(db, actor.id) : undefined;
    return page(
      c,
      actor.name,
      html`<h1>${actor.name}</h1>
      <p>${fediverseHandle(origin, actor.identifier)} · ${actor.kind} · ${countFollowers(db, iri)} followers
      ${actor.manuallyApprovesFollowers ? " · approves followers by hand" : ""}</p>
      ${actor.summary ? html`<p>${actor.summary}</p>` : ""}
      ${community
        ? html`<h2>Members</h2><ul>${listMembers(db, community).map((m) => html`<li>${m.displayName} (${m.role})</li>`)}</ul>`
        : ""}
      <p>Follow from any fediverse account by searching for <code>${fediverseHandle(origin, actor.identifier)}</code>.</p>`,
    );
  });

  web.route("/", createPolicyPages({ db, instanceName }));
  return web;
}

function loginForm(csrf: string, error?: string) {
  return html`<h1>Sign in</h1>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
  <form method="post" action="/login">
    <input type="hidden" name="csrf" value="${csrf}">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <div><button>Sign in</button></div>
  </form>`;
}
