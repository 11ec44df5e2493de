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
 *
 * Reading keeps what it can: a row that cannot be used is left out and listed
 * (file, line, comment or voter id, why), columns beyond Polis' are named, and
 * a strict read refuses the export instead. Timestamps that are not known are
 * written back empty.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { FedalignError } from "../errors.ts";
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
  /** The external id Polis was given for them (`xid`), when any. */
  xid?: string | null;
}

/** A row that was not used, or a remark on one that was, with where it is. */
export interface ImportIssue {
  file: string;
  /** 1-based line of the file where the row starts (the header is line 1). */
  line: number;
  /** The comment id (comments.csv) or voter id (votes.csv, participants-votes.csv) of the row, when it has one. */
  id: string | null;
  problem: string;
}

export interface PolisExport {
  statements: PolisStatement[];
  /** Latest vote per (participant, statement) pair, in file order of first appearance. */
  votes: TimedVote[];
  participants: PolisParticipant[];
  /** summary.csv, key by key in file order. */
  summary: Record<string, string>;
  /** Number of data rows in votes.csv before the latest-per-pair dedupe. */
  rawVoteRows: number;
  /** Every vote row used from votes.csv in file order (comments.csv's agrees/disagrees count these). */
  rawVotes: TimedVote[];
  /** Rows that could not be used and were left out. */
  skipped: ImportIssue[];
  /** Rows kept with something missing (a comment without a timestamp). */
  notes: ImportIssue[];
  /** Columns a file has beyond those of a Polis export (their values are not imported). */
  extraColumns: { file: string; columns: string[] }[];
}

/** Thrown by a strict read when any row would be skipped; lists every one. */
export class PolisImportError extends FedalignError {
  constructor(readonly skipped: ImportIssue[]) {
    super(`Refused (--strict): ${skipped.length} row(s) cannot be used:\n${skipped.map(formatIssue).join("\n")}`);
  }
}

export function formatIssue(issue: ImportIssue): string {
  return `${issue.file}:${issue.line}${issue.id !== null ? ` (${issue.file === "comments.csv" ? "comment" : "voter"} ${issue.id})` : ""}: ${issue.problem}`;
}

type Row = Record<string, string>;
interface Located {
  row: Row;
  line: number;
}

const COMMENT_COLUMNS = ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"];
const VOTE_COLUMNS = ["timestamp", "datetime", "comment-id", "voter-id", "vote"];
const PARTICIPANT_COLUMNS = ["participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"];

/** The text of dir/name, or of dir/name.gz gunzipped; undefined when neither exists. */
function readText(dir: string, name: string): string | undefined {
  const plain = join(dir, name);
  if (existsSync(plain)) return readFileSync(plain, "utf8");
  if (existsSync(`${plain}.gz`)) return gunzipSync(readFileSync(`${plain}.gz`)).toString("utf8");
  return undefined;
}

/** Rows with the line each starts on, and the header. */
function readCsv(text: string, file: string): { header: string[]; rows: Located[] } {
  let records: { record: Row; raw: string; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true, bom: true, info: true, raw: true });
  } catch (error) {
    throw new FedalignError(`${file} is not readable CSV: ${(error as Error).message}`);
  }
  const header = parse(text.split(/\r?\n/, 1)[0] ?? "", { bom: true })[0] as string[] | undefined;
  const rows = records.map(({ record, raw, info }) => {
    const body = raw.replace(/^[\r\n]+/, "").replace(/\r?\n$/, "");
    return { row: record, line: info.lines - (body.match(/\n/g)?.length ?? 0) };
  });
  return { header: header ?? [], rows };
}

function requireColumns(header: string[], file: string, columns: string[]): void {
  const missing = columns.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new FedalignError(`${file} lacks the column(s) ${missing.join(", ")}; is this a Polis export?`);
}

/** A timestamp cell: undefined when empty, NaN when not a number. */
function timestampOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : NaN;
}

function voteValue(raw: string | undefined): 1 | -1 | 0 | null {
  const n = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return n === 1 ? 1 : n === -1 ? -1 : n === 0 ? 0 : null;
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

interface Collector {
  skipped: ImportIssue[];
  notes: ImportIssue[];
  extraColumns: { file: string; columns: string[] }[];
}

function readComments(text: string, c: Collector): PolisStatement[] {
  const file = "comments.csv";
  const { header, rows } = readCsv(text, file);
  requireColumns(header, file, ["comment-id", "comment-body"]);
  const extra = header.filter((h) => !COMMENT_COLUMNS.includes(h));
  if (extra.length > 0) c.extraColumns.push({ file, columns: extra });
  const firstLine = new Map<string, number>();
  const statements: PolisStatement[] = [];
  for (const { row, line } of rows) {
    const id = (row["comment-id"] ?? "").trim();
    const skip = (problem: string) => c.skipped.push({ file, line, id: id === "" ? null : id, problem });
    if (id === "") { skip("no comment-id"); continue; }
    if (firstLine.has(id)) { skip(`duplicate comment-id (first on line ${firstLine.get(id)})`); continue; }
    const body = row["comment-body"] ?? "";
    if (body.trim() === "") { skip("empty comment-body"); continue; }
    const moderatedRaw = (row["moderated"] ?? "").trim();
    const moderated = moderatedRaw === "" ? 0 : Number(moderatedRaw);
    if (moderated !== 1 && moderated !== 0 && moderated !== -1) { skip(`moderated is ${JSON.stringify(moderatedRaw)}, not 1, 0 or -1`); continue; }
    const timestamp = timestampOf(row["timestamp"]);
    if (Number.isNaN(timestamp)) { skip(`timestamp ${JSON.stringify(row["timestamp"])} is not a number`); continue; }
    firstLine.set(id, line);
    const s: PolisStatement = { id, author: String(row["author-id"] ?? ""), body, moderated, agrees: Number(row["agrees"]) || 0, disagrees: Number(row["disagrees"]) || 0 };
    if (timestamp === undefined) c.notes.push({ file, line, id, problem: "no timestamp: kept, with its creation time unknown" });
    else s.timestamp = timestamp;
    statements.push(s);
  }
  return statements;
}

function readVotes(text: string, known: Set<string>, c: Collector): TimedVote[] {
  const file = "votes.csv";
  const { header, rows } = readCsv(text, file);
  requireColumns(header, file, ["comment-id", "voter-id", "vote"]);
  const extra = header.filter((h) => !VOTE_COLUMNS.includes(h));
  if (extra.length > 0) c.extraColumns.push({ file, columns: extra });
  const votes: TimedVote[] = [];
  for (const { row, line } of rows) {
    const voter = (row["voter-id"] ?? "").trim();
    const comment = (row["comment-id"] ?? "").trim();
    const skip = (problem: string) => c.skipped.push({ file, line, id: voter === "" ? null : voter, problem });
    if (voter === "") { skip("no voter-id"); continue; }
    if (!known.has(comment)) { skip(comment === "" ? "no comment-id" : `unknown comment ${comment} (not in comments.csv, or skipped there)`); continue; }
    const value = voteValue(row["vote"]);
    if (value === null) { skip(`vote is ${JSON.stringify(row["vote"] ?? "")}, not 1, -1 or 0`); continue; }
    const timestamp = timestampOf(row["timestamp"]);
    if (timestamp === undefined) { skip("missing timestamp (needed to keep the latest of repeated votes)"); continue; }
    if (Number.isNaN(timestamp)) { skip(`timestamp ${JSON.stringify(row["timestamp"])} is not a number`); continue; }
    votes.push({ participant: voter, statement: comment, value, timestamp });
  }
  return votes;
}

function readParticipants(text: string, known: Set<string>, c: Collector): PolisParticipant[] {
  const file = "participants-votes.csv";
  const { header, rows } = readCsv(text, file);
  requireColumns(header, file, ["participant"]);
  // Besides Polis' own columns there is one per comment id; a column named
  // like a comment that comments.csv skipped is still a comment column.
  const extra = header.filter((h) => !PARTICIPANT_COLUMNS.includes(h) && !known.has(h) && !/^\d+$/.test(h));
  if (extra.length > 0) c.extraColumns.push({ file, columns: extra });
  const participants: PolisParticipant[] = [];
  const seen = new Set<string>();
  for (const { row, line } of rows) {
    const id = (row["participant"] ?? "").trim();
    if (id === "") { c.skipped.push({ file, line, id: null, problem: "no participant id" }); continue; }
    if (seen.has(id)) { c.skipped.push({ file, line, id, problem: "participant listed twice" }); continue; }
    seen.add(id);
    const g = (row["group-id"] ?? "").trim();
    const xid = (row["xid"] ?? "").trim();
    participants.push({ id, group: g === "" ? null : g, ...(xid !== "" ? { xid } : {}) });
  }
  return participants;
}

function readSummary(text: string): Record<string, string> {
  const summary: Record<string, string> = {};
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  for (const row of rows) if (row[0] !== undefined) summary[row[0]] = row[1] ?? "";
  return summary;
}

/**
 * Reads a Polis export directory (each file plain or gzipped, `name.csv.gz`).
 * comments.csv and votes.csv are required; participants-votes.csv and
 * summary.csv optional. Rows that cannot be used are left out and listed in
 * `skipped` with their file, line and id; with `strict`, any such row refuses
 * the whole export instead (PolisImportError).
 */
export function readPolisExport(dir: string, options: { strict?: boolean } = {}): PolisExport {
  const c: Collector = { skipped: [], notes: [], extraColumns: [] };
  const commentsText = readText(dir, "comments.csv");
  const votesText = readText(dir, "votes.csv");
  if (commentsText === undefined || votesText === undefined) {
    throw new FedalignError(`${dir} is not a Polis export: it needs comments.csv and votes.csv (plain or .gz).`);
  }
  const statements = readComments(commentsText, c);
  const known = new Set(statements.map((s) => s.id));
  const raw = readVotes(votesText, known, c);
  const participantsText = readText(dir, "participants-votes.csv");
  const participants = participantsText === undefined ? [] : readParticipants(participantsText, known, c);
  const summaryText = readText(dir, "summary.csv");
  const summary = summaryText === undefined ? {} : readSummary(summaryText);
  if (options.strict && c.skipped.length > 0) throw new PolisImportError(c.skipped);
  const rawVoteRows = raw.length + c.skipped.filter((i) => i.file === "votes.csv").length;
  return { statements, votes: latestVotes(raw), participants, summary, rawVoteRows, rawVotes: raw, ...c };
}

export interface WritePolisOptions {
  statements: PolisStatement[];
  votes: TimedVote[];
  participants?: PolisParticipant[];
  summary?: Record<string, string>;
}

function datetime(ts: number | undefined): string {
  if (ts === undefined) return "";
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
 * Statements' `agrees`/`disagrees` are written as given. An unknown timestamp
 * is written empty. participants-votes.csv lists every participant who voted
 * (plus any given in `participants`) with their group and xid, and one column
 * per statement that is not moderated out.
 */
export function writePolisExport(dir: string, data: WritePolisOptions): void {
  mkdirSync(dir, { recursive: true });
  const votes = latestVotes(data.votes);

  const commentRows = data.statements.map((s) => [s.timestamp ?? "", datetime(s.timestamp), s.id, s.author, s.agrees, s.disagrees, s.moderated, s.body]);
  writeFileSync(
    join(dir, "comments.csv"),
    stringify(commentRows, {
      header: true,
      columns: ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"],
    }),
  );

  const voteRows = votes.map((v) => [v.timestamp ?? "", datetime(v.timestamp), v.statement, v.participant, v.value]);
  writeFileSync(
    join(dir, "votes.csv"),
    stringify(voteRows, { header: true, columns: ["timestamp", "datetime", "comment-id", "voter-id", "vote"] }),
  );

  // participants-votes.csv
  const columns = data.statements.filter((s) => s.moderated >= 0).map((s) => s.id).sort(compareIds);
  const known = new Map((data.participants ?? []).map((p) => [p.id, p]));
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
      known.get(id)?.xid ?? "",
      known.get(id)?.group ?? "",
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
