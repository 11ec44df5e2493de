/**
 * Accounts: signing in and out here; first-run setup and sign-up, settings
 * and API tokens, and the admin page in their own modules, mounted below.
 */
import { Hono } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { SESSION_COOKIE, deleteSession } from "../../accounts/sessions.ts";
import { signIn } from "../../accounts/sign-in.ts";
import { clientAddress } from "../../client-address.ts";
import { TooManyRequestsError } from "../../errors.ts";
import { startSession } from "../accounts-components.tsx";
import { adminPages } from "./admin-pages.tsx";
import { settingsPages } from "./settings-pages.tsx";
import { setupPages } from "./setup-pages.tsx";
import { Field, FormError, PostForm } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, redirectWithNotice, safeNext } from "../forms.ts";

function LoginForm(props: { username?: string; error?: string; next?: string }) {
  return (
    <>
      <h1>Sign in</h1>
      <FormError message={props.error} />
      <PostForm action="/login" label="Sign in">
        {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
        <Field name="username" label="Username" value={props.username} autocomplete="username" required />
        <Field name="password" label="Password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </PostForm>
      <p>
        No account yet? <a href="/signup">Sign up</a> (if this instance allows it).
      </p>
    </>
  );
}

export function accountPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/login", (c) => c.render(<LoginForm next={safeNext(c.req.query("next"))} />, { title: "Sign in" }));

  pages.post("/login", async (c) => {
    const { db } = c.get("deps");
    const form = await formFields(c);
    const username = form.username?.trim() ?? "";
    let user;
    try {
      user = username && form.password ? await signIn(db, { username, password: form.password, clientAddress: clientAddress(c.req) }) : undefined;
    } catch (error) {
      if (!(error instanceof TooManyRequestsError)) throw error;
      c.status(429);
      c.header("Retry-After", String(error.retryAfterSeconds));
      return c.render(<LoginForm username={username} error={error.message} next={safeNext(form.next)} />, { title: "Sign in" });
    }
    if (!user) {
      c.status(401);
      return c.render(<LoginForm username={username} error="Wrong username or password." next={safeNext(form.next)} />, { title: "Sign in" });
    }
    await startSession(c, user);
    return redirectWithNotice(c, safeNext(form.next) ?? "/", `Signed in as ${user.username}.`);
  });

  pages.post("/logout", async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) await deleteSession(c.get("deps").db, cookie);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return redirectWithNotice(c, "/", "Signed out.");
  });

  pages.route("/", setupPages());
  pages.route("/", settingsPages());
  pages.route("/", adminPages());
  return pages;
}
