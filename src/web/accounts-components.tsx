/** Pieces the account pages share: starting a session, and the gates for signed-in and admin pages. */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, SESSION_LIFETIME_MS, createSession } from "../accounts/sessions.ts";
import { findUserByUsername, type User } from "../accounts/users.ts";
import type { WebEnv, WebSession } from "./context.ts";
import { redirectWithNotice, signInPath } from "./forms.ts";
import { ErrorPage } from "./pages/error-page.tsx";

/** Signs the browser in as `user` (after sign-in, sign-up or setup). */
export async function startSession(c: Context<WebEnv>, user: User): Promise<void> {
  const { db, origin } = c.get("deps");
  const created = await createSession(db, user.id);
  setCookie(c, SESSION_COOKIE, created.cookieValue, {
    httpOnly: true,
    sameSite: "Lax",
    secure: origin.startsWith("https:"),
    path: "/",
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
}

/** Signs in the account an API call just created, by its username. */
export async function startSessionFor(c: Context<WebEnv>, username: string): Promise<User> {
  const user = await findUserByUsername(c.get("deps").db, username);
  if (!user) throw new Error(`The account ${username} was created but cannot be found.`);
  await startSession(c, user);
  return user;
}

export function sessionCookie(c: Context<WebEnv>): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The signed-in session, or a response sending the visitor to sign in first. */
export function signedIn(c: Context<WebEnv>, what: string): WebSession | Response {
  const session = c.get("session");
  if (session) return session;
  return redirectWithNotice(c, signInPath(c), `Sign in to see ${what}.`, "error");
}

/** The signed-in admin, or a 403 page for everyone else. */
export function adminOnly(c: Context<WebEnv>): WebSession | Response | Promise<Response> {
  const session = c.get("session");
  if (session?.user.isAdmin) return session;
  c.status(403);
  return c.render(
    <ErrorPage
      title="Admins only"
      detail={
        session
          ? "This page is for the instance's admins, and your account is not one."
          : "This page is for the instance's admins: sign in with an admin account."
      }
    />,
    { title: "Admins only" },
  );
}

/** The CLI alternative to creating accounts in the browser. */
export function CliCommand(props: { children: string }) {
  return (
    <pre class="cli-command">
      <code>{props.children}</code>
    </pre>
  );
}

export const FIRST_ADMIN_COMMAND = "fedalign admin user create <name> --admin --password-stdin --data <dir>";
