/** Pieces the participation pages share: the community a page belongs to, vote buttons, the tally. */
import type { PageCommunity } from "./context.ts";
import type { Db } from "../../db/client.ts";
import { findCommunity, type Community } from "../communities.ts";
import { NotFoundError } from "../errors.ts";
import { links } from "./links.ts";
import { CsrfField } from "./components.tsx";

export async function communityOrThrow(db: Db, handle: string): Promise<Community> {
  const community = await findCommunity(db, handle);
  if (!community) throw new NotFoundError(`There is no community "${handle}" on this instance.`);
  return community;
}

export function pageCommunity(community: Community): PageCommunity {
  return { name: community.name, handle: community.handle, href: links.community(community.handle) };
}

/**
 * A row of one-click choices (yes / no / abstain / block, agree / disagree /
 * pass): each a small form posting `value`. The current choice is marked in
 * words and with aria-pressed, not by colour alone.
 */
export function ChoiceButtons(props: { action: string; choices: { value: string; label: string }[]; current?: string | null; label: string }) {
  return (
    <div class="choice-row" role="group" aria-label={props.label}>
      {props.choices.map((choice) => {
        const chosen = props.current === choice.value;
        return (
          <form method="post" action={props.action} class="inline">
            <CsrfField />
            <input type="hidden" name="value" value={choice.value} />
            <button type="submit" class={chosen ? "choice-current" : "secondary"} aria-pressed={chosen ? "true" : "false"}>
              {choice.label}
              {chosen ? " ✓" : ""}
            </button>
          </form>
        );
      })}
    </div>
  );
}

export interface Counts {
  yes: number;
  no: number;
  abstain: number;
  block: number;
}

/** Vote counts as a small table with a bar per answer. */
export function TallyTable(props: { counts: Counts; voters: number; members: number }) {
  const total = Math.max(1, props.counts.yes + props.counts.no + props.counts.abstain + props.counts.block);
  const rows: [keyof Counts, string][] = [
    ["yes", "Yes"],
    ["no", "No"],
    ["abstain", "Abstain"],
    ["block", "Block"],
  ];
  return (
    <div class="table-wrap">
      <table class="tally">
        <caption class="muted">
          {props.voters} of {props.members} member{props.members === 1 ? "" : "s"} voted
        </caption>
        <thead>
          <tr>
            <th scope="col">Answer</th>
            <th scope="col">Votes</th>
            <th scope="col">
              <span class="visually-hidden">Share</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([key, label]) => (
            <tr>
              <th scope="row">{label}</th>
              <td>{props.counts[key]}</td>
              <td class="tally-bar-cell">
                <svg class={`tally-bar tally-${key}`} viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                  <rect x="0" y="0" width={Math.round((100 * props.counts[key]) / total)} height="10" />
                </svg>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A share (0 to 1, as the API and the database keep quorums) as people read it: "30%". */
export function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

/** A share as a percentage field shows it: 0.3 -> "30" (no float noise such as 30.000000000000004). */
export function percentNumber(share: number): string {
  return String(Number((share * 100).toFixed(1)));
}

/**
 * A percentage typed in a form ("30", "30 %", "12.5") as the share the API
 * takes (0.3); NaN when it is not a number, left for the schema to refuse.
 */
export function shareFromPercent(text: string | undefined): number {
  const trimmed = (text ?? "").trim().replace(/\s*%$/, "");
  return trimmed === "" ? Number.NaN : Number(trimmed) / 100;
}
