/**
 * Conversations as a scope: two Polis conversations imported into one
 * community stay apart, each analysed as it is alone, and together on request;
 * export then re-import keeps the matrix, groups, moderation and timestamps.
 */
import Database from "better-sqlite3";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, type Db } from "../db/client.ts";
import { MIGRATIONS_FOLDER } from "../db/migrate.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { createUser } from "../src/accounts/users.ts";
import { createCommunity, type Community } from "../src/communities.ts";
import { exportConversation, importConversation, listConversations, opinionInput, resolveScope } from "../src/participation/conversations.ts";
import { denseVotes, opinionGroups, voteMatrix } from "../src/participation/opinions.ts";
import { readPolisExport, writePolisExport, type PolisExport } from "../src/participation/polis.ts";
import { listStatements } from "../src/participation/statements.ts";

const FIXTURES = "test/fixtures/polis";
const LONDON = readPolisExport(join(FIXTURES, "london.youth.policing"));
const SEATTLE = readPolisExport(join(FIXTURES, "15-per-hour-seattle"));

let dir: string;
let db: Db;
let shared: Community;
let alone: Community[];

const payload = (community: Community, conversation: string, ex: PolisExport, mustBeNew = true) => ({
  community: community.handle,
  conversation,
  mustBeNew,
  summary: Object.entries(ex.summary),
  statements: ex.statements,
  votes: ex.votes,
  participants: ex.participants.map((p) => ({ id: p.id, group: p.group, xid: p.xid ?? null })),
});

/** Opinion groups of a scope, members named by their Polis participant id. */
async function groupsOf(community: Community, scope: { conversation?: string; across?: boolean }) {
  const input = await opinionInput(db, await resolveScope(db, community, scope));
  const result = opinionGroups(input.votes, { moderatedOut: input.moderatedOut });
  return { k: result.k, groups: result.groups.map((g) => g.members), participants: result.projection.length };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conversations-"));
  db = openInstanceDatabase(join(dir, "data"), "create");
  const steward = await createUser(db, { username: "stella", password: "a long passphrase" });
  shared = await createCommunity(db, { handle: "civic", name: "Civic", steward });
  alone = [await createCommunity(db, { handle: "london", name: "London", steward }), await createCommunity(db, { handle: "seattle", name: "Seattle", steward })];
  await importConversation(db, shared, payload(shared, "london", LONDON));
  await importConversation(db, shared, payload(shared, "seattle", SEATTLE));
  await importConversation(db, alone[0]!, payload(alone[0]!, "london", LONDON));
  await importConversation(db, alone[1]!, payload(alone[1]!, "seattle", SEATTLE));
});

afterAll(async () => {
  closeDatabase(db);
  rmSync(dir, { recursive: true, force: true });
});

describe("two conversations in one community", () => {
  it("stay apart: 39 + 54 = 93 statements, votes per conversation", async () => {
    const [london, seattle] = await listConversations(db, shared);
    expect([london!.name, seattle!.name]).toEqual(["london", "seattle"]);
    expect(await listStatements(db, [london!.id])).toHaveLength(39);
    expect(await listStatements(db, [seattle!.id])).toHaveLength(54);
    expect(await listStatements(db, [london!.id, seattle!.id])).toHaveLength(93);
    expect((await exportConversation(db, london!)).votes).toHaveLength(LONDON.votes.length);
    expect((await exportConversation(db, seattle!)).votes).toHaveLength(SEATTLE.votes.length);
    expect(london!.topic).toBe(LONDON.summary["topic"]);
    expect(seattle!.url).toBe("https://pol.is/2demo");
  });

  it("each conversation's opinions are what they are alone", async () => {
    for (const [name, community] of [["london", alone[0]!], ["seattle", alone[1]!]] as const) {
      const inShared = await groupsOf(shared, { conversation: name });
      const byItself = await groupsOf(community, {});
      expect(inShared).toEqual(byItself);
      expect(inShared.k).toBe(Number((name === "london" ? LONDON : SEATTLE).summary["groups"]));
    }
  });

  it("asks which conversation when there are several, and analyses all of them together on request", async () => {
    await expect(resolveScope(db, shared, {})).rejects.toThrow(/2 conversations \(london, seattle\)/);
    await expect(resolveScope(db, shared, { conversation: "nope" })).rejects.toThrow(/no conversation "nope"/);
    const across = await groupsOf(shared, { across: true });
    // Participant ids restart in every Polis conversation: across, they stay two people.
    expect(across.participants).toBe((await groupsOf(shared, { conversation: "london" })).participants + (await groupsOf(shared, { conversation: "seattle" })).participants);
    expect(across.groups.flat().filter((p) => p === "london/1" || p === "seattle/1")).toHaveLength(2);
  });

  it("refuses an import meant to start a conversation when the name is taken, changing nothing", async () => {
    await expect(importConversation(db, shared, payload(shared, "london", SEATTLE))).rejects.toThrow(/already has a conversation named "london"/);
    expect(await listStatements(db, (await listConversations(db, shared)).map((c) => c.id))).toHaveLength(93);
  });
});

describe("export then re-import", () => {
  it("gives the same matrix, groups, moderation, summary and timestamps", async () => {
    const [london] = await listConversations(db, shared);
    const out = join(dir, "export");
    writePolisExport(out, await exportConversation(db, london!));
    const back = readPolisExport(out);
    expect(back.skipped).toEqual([]);
    expect(denseVotes(voteMatrix(back.votes))).toEqual(denseVotes(voteMatrix(LONDON.votes)));
    expect(back.votes.map((v) => `${v.participant}/${v.statement}/${v.timestamp}`).sort()).toEqual(LONDON.votes.map((v) => `${v.participant}/${v.statement}/${v.timestamp}`).sort());
    const key = (s: { id: string; moderated: number; timestamp?: number; body: string; author: string }) => [s.id, s.moderated, s.timestamp, s.body, s.author];
    expect(back.statements.map(key)).toEqual(LONDON.statements.map(key));
    expect(back.participants.map((p) => [p.id, p.group]).sort()).toEqual(LONDON.participants.map((p) => [p.id, p.group]).sort());
    expect(back.summary).toEqual(LONDON.summary);

    // And into the database again: a new conversation with the same contents.
    await importConversation(db, shared, payload(shared, "london-again", back));
    const again = (await listConversations(db, shared)).find((c) => c.name === "london-again")!;
    const strip = ({ conversation: _, ...rest }: Awaited<ReturnType<typeof exportConversation>>) => rest;
    expect(strip(await exportConversation(db, again))).toEqual(strip(await exportConversation(db, london!)));
  });

  it("writes an unknown timestamp empty, never 1970, and keeps Polis' unmoderated (0) apart from accepted (1)", async () => {
    const out = join(dir, "partial");
    writePolisExport(out, {
      statements: [
        { id: "1", author: "a", body: "Known", moderated: 1, agrees: 1, disagrees: 0, timestamp: 1_600_000_000_000 },
        { id: "2", author: "a", body: "Unknown", moderated: 0, agrees: 0, disagrees: 0 },
      ],
      votes: [{ participant: "p", statement: "1", value: 1, timestamp: 1_600_000_001_000 }],
    });
    const back = readPolisExport(out);
    expect(back.statements.map((s) => [s.id, s.moderated, s.timestamp])).toEqual([["1", 1, 1_600_000_000_000], ["2", 0, undefined]]);
    expect(back.notes).toEqual([{ file: "comments.csv", line: 3, id: "2", problem: expect.stringMatching(/no timestamp/) }]);
    await importConversation(db, shared, payload(shared, "partial", back));
    const exported = await exportConversation(db, (await listConversations(db, shared)).find((c) => c.name === "partial")!);
    expect(exported.statements.map((s) => [s.id, s.moderated, s.timestamp])).toEqual([["1", 1, 1_600_000_000_000], ["2", 0, undefined]]);
  });
});

describe("the conversations migration", () => {
  it("keeps every existing statement and vote, in a 'main' conversation per community", () => {
    const sqlite = new Database(":memory:");
    sqlite.pragma("foreign_keys = ON");
    const files = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).sort();
    const at = files.indexOf("0012_conversations.sql");
    expect(at).toBeGreaterThan(0);
    // Migrations run in one transaction, where foreign keys stay on (as drizzle's migrator does).
    const run = (file: string) => {
      for (const statement of readFileSync(join(MIGRATIONS_FOLDER, file), "utf8").split("--> statement-breakpoint")) if (statement.trim()) sqlite.exec(statement);
    };
    sqlite.transaction(() => files.slice(0, at).forEach(run))();
    sqlite.pragma("foreign_keys = OFF");
    sqlite.exec("INSERT INTO communities (id, actor_id, handle) VALUES (1, 1, 'a'), (2, 2, 'b')");
    sqlite.pragma("foreign_keys = ON");
    sqlite.exec(`INSERT INTO statements (id, community_id, external_id, body, author, moderation, created_at) VALUES (1, 1, '0', 'x', 'p', 'accepted', 5), (2, 1, NULL, 'y', 'p', 'pending', 6), (3, 2, '0', 'z', 'q', 'accepted', 7)`);
    sqlite.exec("INSERT INTO statement_votes VALUES (1, 'p1', 1, 10), (1, 'p2', -1, 11), (3, 'p1', 0, 12)");
    sqlite.transaction(() => run(files[at]!))();
    expect(sqlite.prepare("SELECT community_id, name, source FROM conversations ORDER BY id").all()).toEqual([
      { community_id: 1, name: "main", source: "local" },
      { community_id: 2, name: "main", source: "local" },
    ]);
    expect(sqlite.prepare("SELECT s.id, c.community_id, c.name, s.created_at FROM statements s JOIN conversations c ON c.id = s.conversation_id ORDER BY s.id").all()).toEqual([
      { id: 1, community_id: 1, name: "main", created_at: 5 },
      { id: 2, community_id: 1, name: "main", created_at: 6 },
      { id: 3, community_id: 2, name: "main", created_at: 7 },
    ]);
    expect(sqlite.prepare("SELECT * FROM statement_votes ORDER BY statement_id, participant").all()).toEqual([
      { statement_id: 1, participant: "p1", value: 1, at: 10 },
      { statement_id: 1, participant: "p2", value: -1, at: 11 },
      { statement_id: 3, participant: "p1", value: 0, at: 12 },
    ]);
    // Votes still cascade with their statement.
    sqlite.exec("DELETE FROM statements WHERE id = 1");
    expect(sqlite.prepare("SELECT COUNT(*) AS n FROM statement_votes").get()).toEqual({ n: 1 });
    sqlite.close();
  });
});
