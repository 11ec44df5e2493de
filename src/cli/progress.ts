/**
 * Progress of long CLI operations, on standard error so that standard output
 * stays data: a live bar on a terminal, and plain lines when piped or logged.
 * Plain lines start only once the operation has run for the interval (a quick
 * command prints its result and nothing else, and a failure stays one line);
 * then one whenever the stage changes, at most one per interval in between,
 * and the last, so a log shows how far a long run got without a flood.
 */
import type { SingleBar } from "cli-progress";

export interface ProgressUpdate {
  /** Count so far, in the unit given at the start. */
  value: number;
  /** What is being done now ("policies", "preferences", ...); a change prints a line when piped. */
  stage?: string;
  /** Where (a source IRI, a file). */
  detail?: string;
}

export interface Progress {
  update(update: ProgressUpdate): void;
  /** Prints the final state (plain) or clears the bar (terminal). */
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  unit: string;
  /** Known total, for a percentage; unknown when absent. */
  total?: number;
  stream?: NodeJS.WriteStream;
  /** Time before the first plain line, and the minimum between lines of the same stage. */
  intervalMs?: number;
  now?: () => number;
}

/** A bar on a terminal, plain lines otherwise. */
export async function startProgress(options: ProgressOptions): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY ? terminalProgress(options, stream) : plainProgress(options, stream);
}

async function terminalProgress(options: ProgressOptions, stream: NodeJS.WriteStream): Promise<Progress> {
  const { SingleBar } = await import("cli-progress");
  const format =
    options.total !== undefined
      ? `${options.label} {bar} {percentage}% | {value}/{total} ${options.unit} {stage} {detail}`
      : `${options.label} {value} ${options.unit} {stage} {detail}`;
  const bar: SingleBar = new SingleBar({ format, stream, hideCursor: true, clearOnComplete: false });
  bar.start(options.total ?? 0, 0, { stage: "", detail: "" });
  return {
    update: ({ value, stage, detail }) => bar.update(value, { stage: stage ?? "", detail: detail ?? "" }),
    stop: () => bar.stop(),
  };
}

function plainProgress(options: ProgressOptions, stream: NodeJS.WriteStream): Progress {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 2000;
  const startedAt = now();
  let last: ProgressUpdate | undefined;
  let printedAt = -Infinity;
  let printedStage: string | undefined;
  let printedValue: number | undefined;
  const print = (update: ProgressUpdate) => {
    const of = options.total !== undefined ? `/${options.total}` : "";
    const stage = update.stage ? ` ${update.stage}` : "";
    const detail = update.detail ? ` (${update.detail})` : "";
    stream.write(`${options.label}:${stage} ${update.value}${of} ${options.unit}${detail}\n`);
    printedAt = now();
    printedStage = update.stage;
    printedValue = update.value;
  };
  return {
    update(update) {
      last = update;
      const time = now();
      if (time - startedAt < interval) return;
      if (update.stage !== printedStage || time - printedAt >= interval) print(update);
    },
    stop() {
      const printedAny = printedAt > -Infinity;
      if (printedAny && last && (last.value !== printedValue || last.stage !== printedStage)) print(last);
    },
  };
}
