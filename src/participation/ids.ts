/**
 * Ordering of participant and statement ids, shared by the opinion maths and
 * the Polis files. Kept apart from opinions.ts so that reading or writing a
 * Polis export does not load the numeric libraries.
 */

/** Compares ids numerically when both are finite numbers, else as strings. */
export function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
