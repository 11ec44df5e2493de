/** Printing command results: JSON with --json, aligned text otherwise. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  process.stdout.write(`${line(headers)}\n${rows.map(line).join("\n")}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}
