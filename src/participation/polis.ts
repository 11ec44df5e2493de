/**
 * Polis conversation exports (the CSV bundle pol.is offers for download):
 * comments.csv, votes.csv, participants-votes.csv and summary.csv.
 *
 * Sign convention: in the *export* files 1 = agree and -1 = disagree (the
 * opposite of Polis' internal database, where -1 is agree). We follow the
 * export files, which is also the convention of {@link Vote}; the London
 * fixture test proves it by matching the per-comment agree/disagree counts of
 * votes.csv against comments.csv's `agrees`/`disagrees` columns.
 *
 * votes.csv is a log: a participant may appear twice for a statement (a
 * re-vote, or a double submit). We keep the vote with the greatest timestamp
 * per (statement, participant) pair; ties go to the later row in the file.
 * Polis' own agrees/disagrees in comments.csv count the raw rows (the London
 * export has two duplicated pairs, both counted twice there), so `rawVotes`
 * is kept alongside the deduplicated `votes`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { compareIds } from "./ids.ts";
import type { Vote } from "./opinions.ts";

export interface PolisStatement {
  id: string;
  author: string;
  body: string;
  /** Polis moderation: 1 accepted, 0 unmoderated, -1 moderated out. */
  moderated: number;
  agrees: number;
  disagrees: number;
  /** Creation time in ms since the epoch, when known. */
  timestamp?: number;
}

/** A vote with its timestamp (ms since the epoch), as found in votes.csv. */
export interface TimedVote extends Vote {
  timestamp?: number;
}

export interface PolisParticipant {
  id: string;
  /** Polis' group id (`group-id`), or null when Polis did not cluster them. */
  group: string | null;
}

export interface PolisExport {
  statements: PolisStatement[];
  /** Latest vote per (participant, statement) pair, in file order of first appearance. */
  votes: TimedVote[];
  participants: PolisParticipant[];
  summary: Record<string, string>;
  /** Number of data rows in votes.csv before the latest-per-pair dedupe. */
  rawVoteRows: number;
  /** Every vote row of votes.csv in file order (comments.csv's agrees/disagrees count these). */
  rawVotes: TimedVote[];
}

type Row = Record<string, string>;

function readCsv(path: string): Row[] {
  return parse(readFileSync(path, "utf8"), {
    columns: true,
    skip_empty_lines: true,
    relax_column_count: true,
    bom: true,
  }) as Row[];
}

function int(value: string | undefined, fallback = 0): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

function voteValue(raw: string | undefined): 1 | -1 | 0 | null {
  if (raw === undefined || raw.trim() === "") return null;
  const n = Number(raw);
  if (n === 1) return 1;
  if (n === -1) return -1;
  if (n === 0) return 0;
  throw new Error(`Invalid Polis vote value ${JSON.stringify(raw)}`);
}

/**
 * Latest vote per (participant, statement): greatest timestamp wins, ties (or
 * missing timestamps) go to the later one in input order.
 */
export function latestVotes<V extends TimedVote>(votes: Iterable<V>): V[] {
  const byPair = new Map<string, V>();
  for (const v of votes) {
    const key = `${v.participant}\u0000${v.statement}`;
    const prev = byPair.get(key);
    if (prev === undefined || (v.timestamp ?? Infinity) >= (prev.timestamp ?? -Infinity)) {
      byPair.set(key, v);
    }
  }
  return [...byPair.values()];
}

/** Reads a Polis export directory. summary.csv and participants-votes.csv are optional. */
export function readPolisExport(dir: string): PolisExport {
  const statements: PolisStatement[] = readCsv(join(dir, "comments.csv")).map((r) => {
    const ts = r["timestamp"];
    const s: PolisStatement = {
      id: String(r["comment-id"] ?? ""),
      author: String(r["author-id"] ?? ""),
      body: r["comment-body"] ?? "",
      moderated: int(r["moderated"]),
      agrees: int(r["agrees"]),
      disagrees: int(r["disagrees"]),
    };
    if (ts !== undefined && ts.trim() !== "") s.timestamp = Number(ts);
    return s;
  });

  const voteRows = readCsv(join(dir, "votes.csv"));
  const raw: TimedVote[] = [];
  for (const r of voteRows) {
    const value = voteValue(r["vote"]);
    if (value === null) continue;
    const v: TimedVote = { participant: String(r["voter-id"]), statement: String(r["comment-id"]), value };
    const ts = r["timestamp"];
    if (ts !== undefined && ts.trim() !== "") v.timestamp = Number(ts);
    raw.push(v);
  }
  const votes = latestVotes(raw);

  let participants: PolisParticipant[] = [];
  try {
    participants = readCsv(join(dir, "participants-votes.csv")).map((r) => {
      const g = r["group-id"];
      return { id: String(r["participant"]), group: g === undefined || g.trim() === "" ? null : g };
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }

  const summary: Record<string, string> = {};
  try {
    const rows = parse(readFileSync(join(dir, "summary.csv"), "utf8"), {
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as string[][];
    for (const row of rows) if (row[0] !== undefined) summary[row[0]] = row[1] ?? "";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }

  return { statements, votes, participants, summary, rawVoteRows: voteRows.length, rawVotes: raw };
}

export interface WritePolisOptions {
  statements: PolisStatement[];
  votes: TimedVote[];
  participants?: PolisParticipant[];
  summary?: Record<string, string>;
}

/** Deterministic fallback timestamps: 2020-01-01T00:00:00Z plus one second per row. */
const FALLBACK_EPOCH = Date.UTC(2020, 0, 1);

function datetime(ts: number): string {
  // Polis writes e.g. "Wed Jul 27 22:09:49 WIB 2022"; we write the UTC equivalent.
  const d = new Date(ts);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${day} ${mon} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/**
 * Writes comments.csv, votes.csv, participants-votes.csv and summary.csv in
 * Polis' export column shapes. Votes are deduplicated (latest per pair) first.
 * Statements' `agrees`/`disagrees` are written as given. Missing timestamps get
 * a deterministic fallback. participants-votes.csv lists every participant who
 * voted (plus any given in `participants`), with one column per statement that
 * is not moderated out.
 */
export function writePolisExport(dir: string, data: WritePolisOptions): void {
  mkdirSync(dir, { recursive: true });
  const votes = latestVotes(data.votes);

  const commentRows = data.statements.map((s, i) => {
    const ts = s.timestamp ?? FALLBACK_EPOCH + i * 1000;
    return [ts, datetime(ts), s.id, s.author, s.agrees, s.disagrees, s.moderated, s.body];
  });
  writeFileSync(
    join(dir, "comments.csv"),
    stringify(commentRows, {
      header: true,
      columns: ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"],
    }),
  );

  const voteRows = votes.map((v, i) => {
    const ts = v.timestamp ?? FALLBACK_EPOCH + i * 1000;
    return [ts, datetime(ts), v.statement, v.participant, v.value];
  });
  writeFileSync(
    join(dir, "votes.csv"),
    stringify(voteRows, { header: true, columns: ["timestamp", "datetime", "comment-id", "voter-id", "vote"] }),
  );

  // participants-votes.csv
  const columns = data.statements.filter((s) => s.moderated >= 0).map((s) => s.id).sort(compareIds);
  const groupOf = new Map<string, string | null>();
  for (const p of data.participants ?? []) groupOf.set(p.id, p.group);
  const byParticipant = new Map<string, Map<string, 1 | -1 | 0>>();
  for (const p of data.participants ?? []) byParticipant.set(p.id, new Map());
  for (const v of votes) {
    let m = byParticipant.get(v.participant);
    if (m === undefined) byParticipant.set(v.participant, (m = new Map()));
    m.set(v.statement, v.value);
  }
  const authored = new Map<string, number>();
  for (const s of data.statements) authored.set(s.author, (authored.get(s.author) ?? 0) + 1);
  const pvRows = [...byParticipant.keys()].sort(compareIds).map((id) => {
    const m = byParticipant.get(id)!;
    let agree = 0;
    let disagree = 0;
    for (const value of m.values()) {
      if (value === 1) agree++;
      else if (value === -1) disagree++;
    }
    return [
      id,
      "",
      groupOf.get(id) ?? "",
      authored.get(id) ?? 0,
      m.size,
      agree,
      disagree,
      ...columns.map((c) => {
        const value = m.get(c);
        return value === undefined ? "" : value;
      }),
    ];
  });
  writeFileSync(
    join(dir, "participants-votes.csv"),
    stringify(pvRows, {
      header: true,
      columns: ["participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree", ...columns],
    }),
  );

  const summary = data.summary ?? {
    voters: String(byParticipant.size),
    comments: String(columns.length),
  };
  writeFileSync(join(dir, "summary.csv"), stringify(Object.entries(summary)));
}
