/**
 * Issue 12, item 8: accounts. Password guessing is stopped per account and
 * per client address (429 with Retry-After, on the API and the web form);
 * `next=` leads only to a local path; passwords are hashed at OWASP's scrypt
 * strength unless FEDALIGN_PASSWORD_HASH_COST says otherwise, and weaker
 * hashes are raised on the next sign-in. In-process, with the instance
 * behind a trusted proxy so that requests can come from several addresses.
 */
import { randomBytes, scryptSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiTokens, users } from "../db/schema.ts";
import { DEFAULT_PASSWORD_HASH_COST, hashPassword, needsRehash, passwordHashCost, verifyPassword } from "../src/accounts/passwords.ts";
import { FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS } from "../src/accounts/sign-in.ts";
import { createUser } from "../src/accounts/users.ts";
import { resolveServeConfig } from "../src/config.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { safeNext } from "../src/web/forms.ts";
import { cleanupDir } from "./harness.ts";
import { countRows, first } from "../db/client.ts";

const ORIGIN = "http://127.0.0.1:9";
const PASSWORD = "a long enough passphrase";
let instance: Instance;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-sign-in-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false, trustProxy: true });
  await Promise.all(["ada", "bea", "cy", "dee"].map(async (username) => await createUser(instance.db, { username, password: PASSWORD })));
});

afterAll(async () => {
  await instance?.close();
  cleanupDir(dataDir);
});

function tokenRequest(username: string, password: string, address: string): Promise<Response> {
  return Promise.resolve(
    instance.app.request(`${ORIGIN}/api/v1/tokens`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Forwarded-For": `203.0.113.99, ${address}` },
      body: JSON.stringify({ username, password }),
    }),
  );
}

async function tokenCount(): Promise<number> {
  return await countRows(instance.db, apiTokens);
}

describe("sign-in rate limits", () => {
  it("locks an account after a handful of failures, from any address, with 429 and Retry-After", async () => {
    for (let i = 0; i < FAILURES_PER_ACCOUNT; i++) {
      expect((await tokenRequest("ada", "wrong guess", `198.51.100.${i}`)).status).toBe(401);
    }
    const before = await tokenCount();
    // Even the right password, from a fresh address, waits out the window.
    const locked = await tokenRequest("ada", PASSWORD, "198.51.100.200");
    expect(locked.status).toBe(429);
    const wait = Number(locked.headers.get("Retry-After"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    expect(((await locked.json()) as { detail: string }).detail).toMatch(/Too many failed sign-ins/);
    expect(await tokenCount()).toBe(before);
    // Other accounts are not affected.
    expect((await tokenRequest("bea", PASSWORD, "198.51.100.200")).status).toBe(201);
  });

  it("locks an address that tries many accounts, and only that address", async () => {
    const address = "192.0.2.7";
    for (let i = 0; i < FAILURES_PER_ADDRESS; i++) {
      expect((await tokenRequest(`nobody${i}`, "wrong guess", address)).status).toBe(401);
    }
    const locked = await tokenRequest("cy", PASSWORD, address);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await tokenRequest("cy", PASSWORD, "192.0.2.8")).status).toBe(201);
  });

  it("applies the same limits to the web sign-in form", async () => {
    const page = await instance.app.request(`${ORIGIN}/login`);
    const cookie = page.headers.getSetCookie().map((header) => header.split(";")[0]).join("; ");
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const post = (password: string) =>
      instance.app.request(`${ORIGIN}/login`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie, "X-Forwarded-For": "192.0.2.50" },
        body: new URLSearchParams({ csrf, username: "dee", password }).toString(),
      });
    for (let i = 0; i < FAILURES_PER_ACCOUNT; i++) expect((await post("wrong guess")).status).toBe(401);
    const locked = await post(PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await locked.text()).toContain("Too many failed sign-ins");
    expect(locked.headers.getSetCookie().some((header) => header.startsWith("fedalign_session="))).toBe(false);
  });
});

describe("next= after signing in", () => {
  it("keeps local paths and drops everything that could lead elsewhere", () => {
    expect(safeNext("/communities/nurses?tab=policies")).toBe("/communities/nurses?tab=policies");
    expect(safeNext("/policies/3#clause-a")).toBe("/policies/3#clause-a");
    const hostile = [
      "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "/%2F/evil.example",
      "/%2f%2fevil.example", "/%5Cevil.example", "/%09/evil.example", "/%0d%0aSet-Cookie:x=1", "https://evil.example/",
      "javascript:alert(1)", "evil.example", "/%E0%A4%A", "/\u0000", "%2F%2Fevil.example", "",
    ];
    for (const value of hostile) expect([value, safeNext(value)]).toEqual([value, undefined]);
  });

  it("sends a hostile next= home after a successful web sign-in", async () => {
    await createUser(instance.db, { username: "eve", password: PASSWORD });
    const page = await instance.app.request(`${ORIGIN}/login`);
    const cookie = page.headers.getSetCookie().map((header) => header.split(";")[0]).join("; ");
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    for (const next of ["/%2F/evil.example", "/\\evil.example", "/\t/evil.example"]) {
      const response = await instance.app.request(`${ORIGIN}/login`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie, "X-Forwarded-For": "192.0.2.60" },
        body: new URLSearchParams({ csrf, username: "eve", password: PASSWORD, next }).toString(),
      });
      expect([next, response.status, response.headers.get("Location")]).toEqual([next, 303, "/"]);
    }
  });
});

describe("password hashing", () => {
  /** Runs with FEDALIGN_PASSWORD_HASH_COST set to `cost` (undefined: unset), as an operator sets it. */
  async function withCost<T>(cost: string | undefined, run: () => Promise<T>): Promise<T> {
    const before = process.env.FEDALIGN_PASSWORD_HASH_COST;
    if (cost === undefined) delete process.env.FEDALIGN_PASSWORD_HASH_COST;
    else process.env.FEDALIGN_PASSWORD_HASH_COST = cost;
    try {
      return await run();
    } finally {
      if (before === undefined) delete process.env.FEDALIGN_PASSWORD_HASH_COST;
      else process.env.FEDALIGN_PASSWORD_HASH_COST = before;
    }
  }
  const storedHash = async (username: string) => (await first(instance.db.select({ hash: users.passwordHash }).from(users).where(eq(users.username, username)).limit(1)))!.hash;

  it("hashes with scrypt N=2^17, r=8, p=1 when FEDALIGN_PASSWORD_HASH_COST is not set", async () => {
    const stored = await withCost(undefined, () => hashPassword(PASSWORD));
    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(needsRehash(stored, DEFAULT_PASSWORD_HASH_COST)).toBe(false);
    expect(await verifyPassword(PASSWORD, stored)).toBe(true);
    expect(await verifyPassword("not it", stored)).toBe(false);
  });

  it("takes the cost from FEDALIGN_PASSWORD_HASH_COST and refuses values outside 10 to 20, naming the variable", async () => {
    expect(await withCost("11", () => hashPassword(PASSWORD))).toMatch(/^scrypt\$2048\$8\$1\$/);
    for (const value of ["9", "21", "12.5", "high"]) {
      const message = `FEDALIGN_PASSWORD_HASH_COST must be a whole number from 10 to 20 (log2 of scrypt's N; the default is 17); it is "${value}".`;
      expect(() => passwordHashCost({ FEDALIGN_PASSWORD_HASH_COST: value })).toThrow(message);
      expect(() => resolveServeConfig({ data: dataDir }, { FEDALIGN_PASSWORD_HASH_COST: value })).toThrow(message);
    }
    expect(resolveServeConfig({ data: dataDir }, { FEDALIGN_PASSWORD_HASH_COST: "15" }).passwordHashCost).toBe(15);
    expect(resolveServeConfig({ data: dataDir }, {}).passwordHashCost).toBe(17);
  });

  it("verifies a hash made at one cost after the setting changes, and raises it on the next successful sign-in", async () => {
    await withCost("10", () => createUser(instance.db, { username: "raised", password: PASSWORD }));
    const made = await storedHash("raised");
    expect(made).toMatch(/^scrypt\$1024\$8\$1\$/);

    await withCost("12", async () => {
      expect(needsRehash(made)).toBe(true);
      // A wrong password changes nothing.
      expect((await tokenRequest("raised", "wrong guess", "192.0.2.71")).status).toBe(401);
      expect(await storedHash("raised")).toBe(made);
      expect((await tokenRequest("raised", PASSWORD, "192.0.2.71")).status).toBe(201);
    });
    const raised = await storedHash("raised");
    expect(raised).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect(await verifyPassword(PASSWORD, raised)).toBe(true);

    // Lowering the setting later keeps the stronger hash, which still verifies.
    await withCost("10", async () => {
      expect(needsRehash(raised)).toBe(false);
      expect((await tokenRequest("raised", PASSWORD, "192.0.2.71")).status).toBe(201);
    });
    expect(await storedHash("raised")).toBe(raised);
  });

  it("raises a hash from before the setting (N=2^15) on sign-in when the cost is the default", async () => {
    await createUser(instance.db, { username: "old", password: PASSWORD });
    const salt = randomBytes(16);
    const weak = ["scrypt", 2 ** 15, 8, 1, salt.toString("base64url"), scryptSync(PASSWORD, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString("base64url")].join("$");
    await instance.db.update(users).set({ passwordHash: weak }).where(eq(users.username, "old"));

    await withCost(undefined, async () => {
      expect((await tokenRequest("old", "wrong guess", "192.0.2.70")).status).toBe(401);
      expect(await storedHash("old")).toBe(weak);
      expect((await tokenRequest("old", PASSWORD, "192.0.2.70")).status).toBe(201);
    });
    expect(await storedHash("old")).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifyPassword(PASSWORD, await storedHash("old"))).toBe(true);
  });

  it("refuses a stored hash that asks for more memory than we would ever use", async () => {
    expect(await verifyPassword(PASSWORD, `scrypt$${2 ** 24}$8$1$AAAA$AAAA`)).toBe(false);
  });
});
