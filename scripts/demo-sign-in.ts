/**
 * What `npm run demo` prints as soon as its instances are up: where each one
 * is, who to sign in as, and the password, so a visitor can open a browser
 * while the demo is still importing.
 */

export interface DemoAccount {
  /** A, B, C: how the demo's story names the instance. */
  label: string;
  origin: string;
  username: string;
  /** What this person does in the demo, in a few words. */
  role: string;
}

export function signInDetails(accounts: DemoAccount[], password: string): string {
  const width = Math.max(...accounts.map((account) => `${account.origin}/login`.length));
  const rows = accounts.map(
    (account) => `  ${account.label}  ${`${account.origin}/login`.padEnd(width)}  user ${account.username.padEnd(6)} ${account.role}`,
  );
  return [
    "Sign in to any instance in your browser (each one is its own server):",
    ...rows,
    `  Password for every account: ${password}`,
    "  Each account is its instance's admin; its home page lists the first steps.",
    "",
  ].join("\n");
}
