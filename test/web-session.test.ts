/**
 * Browser sign-in: a login form protected against cross-site submission,
 * a session cookie, and sign-out. In-process, through the Hono app.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../src/accounts/users.ts";
import { openInstance, type Instance } from "../src/instance.ts";

const ORIGIN = "http://127.0.0.1:9";
/** The header's link to the signed-in user's settings. */
const SIGNED_IN_AS_ALICE = 'href="/settings">alice</a>';
let instance: Instance;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-web-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false });
  await createUser(instance.db, { username: "alice", password: "alice's password" });
});

afterAll(async () => {
  await instance.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function cookiesOf(response: Response): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(";");
    const [name, value] = pair!.split("=");
    jar[name!] = value ?? "";
  }
  return jar;
}

async function loginForm() {
  const response = await instance.app.request(`${ORIGIN}/login`);
  const html = await response.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  return { csrf: csrf!, cookies: cookiesOf(response) };
}

function post(path: string, form: Record<string, string>, cookie: string) {
  return instance.app.request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie },
    body: new URLSearchParams(form).toString(),
  });
}

describe("web sign-in", () => {
  it("tells a fresh instance how to create its first admin", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "fedalign-web-empty-"));
    const empty = await openInstance({ dataDir: fresh, origin: ORIGIN, allowPrivateAddress: false });
    try {
      const html = await (await empty.app.request(`${ORIGIN}/`)).text();
      expect(html).toContain("fedalign admin user create");
    } finally {
      await empty.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("signs in with the right password and out again", async () => {
    const { csrf, cookies } = await loginForm();
    const loginCookie = `fedalign_csrf=${cookies.fedalign_csrf}`;
    const response = await post("/login", { csrf, username: "alice", password: "alice's password" }, loginCookie);
    expect(response.status).toBe(303);
    const session = cookiesOf(response).fedalign_session;
    expect(session).toBeTruthy();

    const home = await (await instance.app.request(`${ORIGIN}/`, { headers: { Cookie: `fedalign_session=${session}` } })).text();
    expect(home).toContain(SIGNED_IN_AS_ALICE);
    const logoutCsrf = /action="\/logout"><input type="hidden" name="csrf" value="([^"]+)"/.exec(home)?.[1];

    const out = await post("/logout", { csrf: logoutCsrf! }, `fedalign_session=${session}`);
    expect(out.status).toBe(303);
    const after = await (await instance.app.request(`${ORIGIN}/`, { headers: { Cookie: `fedalign_session=${session}` } })).text();
    expect(after).not.toContain(SIGNED_IN_AS_ALICE);
  });

  it("refuses a wrong password without a session", async () => {
    const { csrf, cookies } = await loginForm();
    const response = await post("/login", { csrf, username: "alice", password: "wrong" }, `fedalign_csrf=${cookies.fedalign_csrf}`);
    expect(response.status).toBe(401);
    expect(await response.text()).toContain("Wrong username or password");
    expect(cookiesOf(response).fedalign_session).toBeUndefined();
  });

  it("refuses a login posted from another site (no matching CSRF cookie)", async () => {
    const { csrf } = await loginForm();
    const response = await post("/login", { csrf, username: "alice", password: "alice's password" }, "");
    expect(response.status).toBe(403);
    expect(cookiesOf(response).fedalign_session).toBeUndefined();
  });

  it("keeps the session when sign-out is posted without its CSRF token", async () => {
    const { csrf, cookies } = await loginForm();
    const login = await post("/login", { csrf, username: "alice", password: "alice's password" }, `fedalign_csrf=${cookies.fedalign_csrf}`);
    const session = cookiesOf(login).fedalign_session!;
    await post("/logout", {}, `fedalign_session=${session}`);
    const home = await (await instance.app.request(`${ORIGIN}/`, { headers: { Cookie: `fedalign_session=${session}` } })).text();
    expect(home).toContain(SIGNED_IN_AS_ALICE);
  });

  it("escapes what users typed", async () => {
    await instance.app.request(`${ORIGIN}/`);
    const { createCommunity } = await import("../src/communities.ts");
    const { findUserByUsername } = await import("../src/accounts/users.ts");
    await createCommunity(instance.db, { handle: "xss", name: "<script>alert(1)</script>", steward: (await findUserByUsername(instance.db, "alice"))! });
    const html = await (await instance.app.request(`${ORIGIN}/`)).text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;");
  });
});
