/** Signing in and out. */
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE, SESSION_LIFETIME_MS, createSession, deleteSession } from "../../accounts/sessions.ts";
import { authenticate } from "../../accounts/users.ts";
import { Field, FormError, PostForm } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, redirectWithNotice } from "../forms.ts";

function LoginForm(props: { username?: string; error?: string }) {
  return (
    <>
      <h1>Sign in</h1>
      <FormError message={props.error} />
      <PostForm action="/login" label="Sign in">
        <Field name="username" label="Username" value={props.username} autocomplete="username" required />
        <Field name="password" label="Password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </PostForm>
    </>
  );
}

export function accountPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/login", (c) => c.render(<LoginForm />, { title: "Sign in" }));

  pages.post("/login", async (c) => {
    const { db, origin } = c.get("deps");
    const form = await formFields(c);
    const username = form.username?.trim() ?? "";
    const user = username && form.password ? await authenticate(db, username, form.password) : undefined;
    if (!user) {
      c.status(401);
      return c.render(<LoginForm username={username} error="Wrong username or password." />, { title: "Sign in" });
    }
    const created = createSession(db, user.id);
    setCookie(c, SESSION_COOKIE, created.cookieValue, {
      httpOnly: true,
      sameSite: "Lax",
      secure: origin.startsWith("https:"),
      path: "/",
      maxAge: SESSION_LIFETIME_MS / 1000,
    });
    return redirectWithNotice(c, "/", `Signed in as ${user.username}.`);
  });

  pages.post("/logout", (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) deleteSession(c.get("deps").db, cookie);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return redirectWithNotice(c, "/", "Signed out.");
  });

  return pages;
}
