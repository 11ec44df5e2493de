/**
 * Annotations across three real instances and a Mastodon-like peer:
 * B and C annotate a clause of A's policy; A lists and re-shares them;
 * forgeries are refused; the author's deletion reaches every copy; a plain
 * Mastodon reply becomes a comment; a new version marks quotes outdated.
 * The instances run in the test process (the CLI commands are spawned).
 */
import { signRequest } from "@fedify/fedify";
import { generateKeyPairSync, webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { fedifyQueue } from "../db/schema.ts";
import { pendingEffects } from "../src/app/outbox.ts";
import { freePort, rsaKeyOf, runCli, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

interface AnnotationView {
  iri: string;
  author: string;
  clause: string | null;
  motivation: string;
  text: string;
  quote: string | null;
  outdated: boolean;
}

const CONTENT = {
  title: "Triage Assistant Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", authority: "root", text: "Always tell the user to call emergency services when they describe chest pain." },
    { id: "tone", authority: "guideline", text: "Be calm and brief." },
  ],
};

let a: LocalInstance;
let b: LocalInstance;
let c: LocalInstance;
let alice: { token: string };
let bob: { token: string; actor: string };
let carol: { token: string; actor: string };
let policyId: number;
let policyIri: string;
let clauseIri: string;
let bobNote: string;
let carolNote: string;
const servers: Server[] = [];

const queued = async (instance: LocalInstance, queue: string) =>
  (await instance.instance.db.select({ id: fedifyQueue.id }).from(fedifyQueue).where(eq(fedifyQueue.queue, queue))).length;

/**
 * Whether what `from` sent has reached A and A has handled it: no effect
 * waits in `from`'s outbox, nothing in its delivery queues (a delivered
 * message is in A's inbox queue before A answers), and A's inbox is empty.
 */
const handledByA = async (from: LocalInstance) =>
  (await pendingEffects(from.instance.db)).length === 0 && await queued(from, "outbox") + await queued(from, "fanout") === 0 && await queued(a, "inbox") === 0;

const annotationsAt = async (instance: LocalInstance, target = clauseIri) =>
  (await instance.api<AnnotationView[]>("GET", `annotations?target=${encodeURIComponent(target)}`)).body;

beforeAll(async () => {
  [a, b, c] = await Promise.all([startLocalInstance(), startLocalInstance(), startLocalInstance()]);
  [alice, bob, carol] = await Promise.all([a.createUser("alice"), b.createUser("bob"), c.createUser("carol")]);
  expect((await a.api("POST", "communities", { token: alice.token, body: { handle: "nurses", name: "Nurses" } })).status).toBe(201);
  const created = await a.api<{ id: number; iri: string }>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "triage", content: CONTENT } });
  policyId = created.body.id;
  policyIri = created.body.iri;
  const v1 = await a.api<{ iri: string }>("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
  clauseIri = `${v1.body.iri}/clauses/escalate`;
  for (const [instance, user] of [[b, bob], [c, carol]] as const) {
    await instance.api("POST", "follows", { token: user.token, body: { target: policyIri } });
  }
  // A follow brings no old versions; the first test publishes v2, which brings both.
});

afterAll(async () => {
  for (const server of servers) server.close();
  await Promise.all([a?.destroy(), b?.destroy(), c?.destroy()]);
});

describe("annotations from other instances", () => {
  it("arrive at A, are listed there, and are re-shared to the other follower", async () => {
    for (const [instance, user] of [[b, bob], [c, carol]] as const) {
      await waitFor(async () => (await instance.api<{ state: string }[]>("GET", "follows", { token: user.token })).body[0]?.state === "accepted", {
        what: "the follow to be accepted",
      });
    }
    // A small edit brings v2 to both followers, who then also fetch v1 (history).
    const draft = structuredClone(CONTENT);
    draft.clauses[1]!.text = "Be calm, warm and brief.";
    await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft });
    await a.api("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
    for (const instance of [b, c]) {
      await waitFor(async () => (await instance.api<{ versions: unknown[] }>("GET", `policies/lookup?ref=${encodeURIComponent(policyIri)}`)).body.versions?.length === 2, {
        what: "the mirror to hold both versions",
      });
    }

    const byBob = await runCli([
      "--server", b.origin, "--token", bob.token, "annotate", clauseIri,
      "--motivation", "object", "--text", "Not every chest pain is an emergency; ask about symptoms first.", "--quote", "chest pain",
    ]);
    expect(byBob.code, byBob.stderr).toBe(0);
    bobNote = byBob.stdout.trim();
    const byCarol = await c.api<AnnotationView>("POST", "annotations", {
      token: carol.token,
      body: { target: clauseIri, motivation: "endorse", text: "Yes: this saved a life on our ward." },
    });
    expect(byCarol.status, JSON.stringify(byCarol.body)).toBe(201);
    carolNote = byCarol.body.iri;

    const atA = await waitFor(async () => {
      const list = await annotationsAt(a);
      return list.length === 2 ? list : undefined;
    }, { what: "A to hold both annotations" });
    expect(atA.map((x) => [x.author, x.motivation])).toEqual([
      [bob.actor, "object"],
      [carol.actor, "endorse"],
    ]);
    expect(atA[0]!.quote).toBe("chest pain");

    // Re-shared by A: each follower also holds the other's annotation.
    await waitFor(async () => (await annotationsAt(b)).some((x) => x.iri === carolNote), { what: "B to receive C's annotation" });
    await waitFor(async () => (await annotationsAt(c)).some((x) => x.iri === bobNote), { what: "C to receive B's annotation" });
    const listed = await runCli(["--server", a.origin, "annotations", clauseIri]);
    expect(listed.stdout).toContain("object on escalate");
    expect(listed.stdout).toContain("> chest pain");
  });

  it("marks an annotation outdated when the span it quotes is gone from a newer version", async () => {
    const draft = structuredClone(CONTENT);
    draft.clauses[0]!.text = "Always tell the user to call emergency services when symptoms may be life-threatening.";
    draft.clauses[1]!.text = "Be calm, warm and brief.";
    await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft });
    await a.api("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
    const list = await annotationsAt(a);
    expect(list.find((x) => x.iri === bobNote)!.outdated).toBe(true);
    expect(list.find((x) => x.iri === carolNote)!.outdated).toBe(false);
  });
});

describe("forged annotations are refused", () => {
  async function deliver(actor: string, key: { keyId: URL; privateKey: CryptoKey }, note: Record<string, unknown>) {
    const body = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${actor}#creates/${crypto.randomUUID()}`,
      type: "Create",
      actor,
      object: note,
    });
    const request = new Request(`${a.origin}/inbox`, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body });
    return fetch(await signRequest(request, key.privateKey, key.keyId));
  }

  it("when the actor is not the signer", async () => {
    const key = await rsaKeyOf(b, "bob");
    const note = { id: `${carol.actor}/notes/forged`, type: "Note", attributedTo: carol.actor, inReplyTo: clauseIri, content: "<p>forged</p>", to: ["https://www.w3.org/ns/activitystreams#Public"] };
    expect((await deliver(carol.actor, key, note)).status).toBe(401);
    expect((await annotationsAt(a)).map((x) => x.iri).sort()).toEqual([bobNote, carolNote].sort());
  });

  it("when the Note is on another origin than its actor", async () => {
    const port = await freePort();
    const fakeNote = `http://127.0.0.1:${port}/notes/1`;
    const server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: fakeNote, type: "Note", attributedTo: bob.actor, inReplyTo: clauseIri, content: "<p>planted</p>", to: ["https://www.w3.org/ns/activitystreams#Public"], published: new Date().toISOString() }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const response = await deliver(bob.actor, await rsaKeyOf(b, "bob"), { id: fakeNote, type: "Note", attributedTo: bob.actor, inReplyTo: clauseIri, content: "<p>planted</p>" });
    expect(response.status).toBe(202);
    await waitFor(async () => await queued(a, "inbox") === 0, { what: "A to handle the planted note" });
    expect((await annotationsAt(a)).some((x) => x.iri === fakeNote)).toBe(false);
  });
});

describe("a plain Mastodon reply", () => {
  it("becomes a comment annotation on the version", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const actor = `${base}/users/mallory`;
    const noteId = `${base}/users/mallory/statuses/1`;
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const key = await webcrypto.subtle.importKey(
      "pkcs8",
      privateKey.export({ type: "pkcs8", format: "der" }),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      ["sign"],
    );
    const versions = (await a.api<{ versions: { iri: string }[] }>("GET", `policies/${policyId}`)).body.versions;
    const versionIri = versions.at(-1)!.iri;
    const note = {
      "@context": ["https://www.w3.org/ns/activitystreams", { ostatus: "http://ostatus.org#", atomUri: "ostatus:atomUri", sensitive: "as:sensitive", toot: "http://joinmastodon.org/ns#" }],
      id: noteId,
      type: "Note",
      summary: null,
      inReplyTo: versionIri,
      published: new Date().toISOString(),
      url: `${base}/@mallory/1`,
      attributedTo: actor,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: [`${actor}/followers`, `${a.origin}/actors/nurses`],
      sensitive: false,
      atomUri: noteId,
      content: `<p><span class="h-card"><a href="${a.origin}/actors/nurses" class="u-url mention">@<span>nurses</span></a></span> Does this apply to children too?</p>`,
      tag: [{ type: "Mention", href: `${a.origin}/actors/nurses`, name: `@nurses@${a.host}` }],
    };
    const server = createServer((req, res) => {
      const body =
        req.url === "/users/mallory"
          ? { "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"], id: actor, type: "Person", preferredUsername: "mallory", inbox: `${actor}/inbox`, publicKey: { id: `${actor}#main-key`, owner: actor, publicKeyPem: pem } }
          : req.url === "/users/mallory/statuses/1"
            ? note
            : undefined;
      res.writeHead(body ? 200 : 404, { "Content-Type": "application/activity+json" });
      res.end(body ? JSON.stringify(body) : "");
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

    const create = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${noteId}/activity`, type: "Create", actor, published: note.published, to: note.to, cc: note.cc, object: note });
    const request = new Request(`${a.origin}/inbox`, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body: create });
    expect((await fetch(await signRequest(request, key, new URL(`${actor}#main-key`)))).status).toBe(202);

    const comment = await waitFor(async () => (await annotationsAt(a, versionIri)).find((x) => x.iri === noteId), { what: "the reply to become an annotation" });
    expect(comment).toMatchObject({ author: actor, motivation: "comment", clause: null, text: "Does this apply to children too?" });
  });
});

describe("deletion by the author", () => {
  it("removes the annotation at A and wherever A re-shared it", async () => {
    const deleted = await runCli(["--server", b.origin, "--token", bob.token, "annotation", "delete", bobNote]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitFor(async () => !(await annotationsAt(a)).some((x) => x.iri === bobNote), { what: "A to drop the annotation" });
    await waitFor(async () => !(await annotationsAt(c)).some((x) => x.iri === bobNote), { what: "C to drop the annotation" });
    expect((await annotationsAt(b)).some((x) => x.iri === bobNote)).toBe(false);
  });
});

describe("moderation and edits", () => {
  it("carries the author's edit to the community", async () => {
    const edited = await runCli(["--server", c.origin, "--token", carol.token, "annotation", "edit", carolNote, "--text", "Yes: this saved two lives on our ward."]);
    expect(edited.code, edited.stderr).toBe(0);
    await waitFor(async () => (await annotationsAt(a)).find((x) => x.iri === carolNote)?.text === "Yes: this saved two lives on our ward.", {
      what: "A to see the edit",
    });
  });

  it("lets a steward hide an annotation on the community's policy, and only a steward", async () => {
    const refused = await b.api("POST", "annotations/hide", { token: bob.token, body: { iri: carolNote } });
    // B holds a copy, but the policy belongs to A's community.
    expect(refused.status).toBe(403);
    const hidden = await runCli(["--server", a.origin, "--token", alice.token, "annotation", "hide", carolNote]);
    expect(hidden.code, hidden.stderr).toBe(0);
    expect((await annotationsAt(a)).some((x) => x.iri === carolNote)).toBe(false);
    const withHidden = await a.api<AnnotationView[]>("GET", `annotations?target=${encodeURIComponent(clauseIri)}&hidden=true`, { token: alice.token });
    expect(withHidden.body.some((x) => x.iri === carolNote)).toBe(true);
  });

  it("refuses annotations from a blocked instance", async () => {
    const blocked = await runCli(["--server", a.origin, "--token", alice.token, "block", c.host, "--as", "nurses"]);
    expect(blocked.code, blocked.stderr).toBe(0);
    const again = await c.api<AnnotationView>("POST", "annotations", {
      token: carol.token,
      body: { target: clauseIri, motivation: "question", text: "Are we still welcome?" },
    });
    expect(again.status).toBe(201);
    await waitFor(async () => await handledByA(c), { what: "A to handle the blocked instance's annotation" });
    expect((await annotationsAt(a)).some((x) => x.iri === again.body.iri)).toBe(false);
  });
});
