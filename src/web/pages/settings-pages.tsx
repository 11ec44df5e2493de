/**
 * Your account: display name, password (the current one required; other
 * browsers are signed out after a change) and personal API tokens (listed,
 * created with the secret shown once, revoked). Forms act through the API.
 */
import { Hono, type Context } from "hono";
import { endOtherSessions } from "../../accounts/sessions.ts";
import { changeOwnPassword, createOwnToken, ownTokens, revokeOwnToken, updateProfile } from "../../app/accounts.ts";
import { OwnTokenRequest, PasswordChange, ProfileChanges } from "../../accounts/schemas.ts";
import { toTokenView } from "../../api/views.ts";
import { sessionCookie, signedIn } from "../accounts-components.tsx";
import { ActionButton, DateTime, Field, FormError, PostForm, SectionTitle } from "../components.tsx";
import type { WebEnv, WebSession } from "../context.ts";
import { formFields, redirectWithNotice, submitForm } from "../forms.ts";
import { IdParam } from "../../api/schemas.ts";
import { TokenView as TokenViewSchema } from "../../api/schemas/social.ts";
import type { z } from "zod";

type Errors = Record<string, string>;

type TokenView = z.output<typeof TokenViewSchema>;

function SettingsPage(props: {
  session: WebSession;
  displayName?: string;
  profileErrors?: Errors;
  passwordErrors?: Errors;
  error?: string;
}) {
  const { user } = props.session;
  const profileErrors = props.profileErrors ?? {};
  const passwordErrors = props.passwordErrors ?? {};
  return (
    <>
      <h1>Settings</h1>
      <FormError message={props.error} />
      <p>
        You are signed in as <strong>{user.username}</strong>
        {user.isAdmin ? " (an admin of this instance)" : ""}. Manage your <a href="/settings/tokens">API tokens</a> for the
        command line and other programs, and see <a href="/settings/preferences">your preference answers</a> and the uses
        you allowed for them.
      </p>
      <section aria-labelledby="profile-heading" class="card">
        <SectionTitle id="profile-heading">Profile</SectionTitle>
        <PostForm action="/settings/profile" label="Profile">
          <Field name="displayName" label="Display name" value={props.displayName ?? user.displayName} error={profileErrors.displayName} autocomplete="name" required />
          <button type="submit">Save display name</button>
        </PostForm>
      </section>
      <section aria-labelledby="password-heading" class="card">
        <SectionTitle id="password-heading">Password</SectionTitle>
        <PostForm action="/settings/password" label="Change password">
          <input type="text" name="username" value={user.username} autocomplete="username" hidden />
          <Field name="currentPassword" label="Current password" type="password" error={passwordErrors.currentPassword} autocomplete="current-password" required />
          <Field name="newPassword" label="New password" type="password" hint="At least 8 characters." error={passwordErrors.newPassword} autocomplete="new-password" required />
          <Field name="newPasswordRepeat" label="New password again" type="password" error={passwordErrors.newPasswordRepeat} autocomplete="new-password" required />
          <button type="submit">Change password</button>
        </PostForm>
        <p class="muted">Changing your password signs you out in other browsers. API tokens keep working until you revoke them.</p>
      </section>
    </>
  );
}

function TokensPage(props: { tokens: TokenView[]; created?: { label: string; token: string }; label?: string; errors?: Errors }) {
  const active = props.tokens.filter((token) => !token.revokedAt);
  const revoked = props.tokens.filter((token) => token.revokedAt);
  return (
    <>
      <h1>API tokens</h1>
      <p>
        A token lets a program (the <code>fedalign</code> command line, a script) act as you through the{" "}
        <a href="/api/v1/openapi.json">JSON API</a>, sent as <code>Authorization: Bearer &lt;token&gt;</code>. Revoke any you
        no longer use. <a href="/settings">Back to settings</a>.
      </p>
      {props.created ? (
        <section class="card token-created" aria-labelledby="new-token-heading">
          <h2 id="new-token-heading">Your new token “{props.created.label}”</h2>
          <div class="field">
            <label for="new-token">Token (copy it now: it is not shown again)</label>
            <input id="new-token" class="token-value" type="text" readonly value={props.created.token} aria-describedby="new-token-hint" spellcheck={false} />
            <p class="hint" id="new-token-hint">
              Select the field and copy its text. Use it as <code>Authorization: Bearer &lt;token&gt;</code>.
            </p>
          </div>
        </section>
      ) : null}
      <section aria-labelledby="create-heading" class="card">
        <SectionTitle id="create-heading">Create a token</SectionTitle>
        <PostForm action="/settings/tokens" label="Create a token">
          <Field name="label" label="Name" value={props.label} hint="What the token is for, e.g. “laptop CLI”." error={props.errors?.label} required />
          <button type="submit">Create token</button>
        </PostForm>
      </section>
      <SectionTitle count={active.length}>Active tokens</SectionTitle>
      {active.length === 0 ? (
        <p class="muted">You have no active tokens.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {active.map((token) => (
                <tr>
                  <td>{token.label}</td>
                  <td>
                    <DateTime value={token.createdAt} />
                  </td>
                  <td>{token.lastUsedAt ? <DateTime value={token.lastUsedAt} /> : <span class="muted">never</span>}</td>
                  <td>
                    <ActionButton action={`/settings/tokens/${token.id}/revoke`} label={`Revoke ${token.label}`} variant="danger" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoked.length > 0 ? (
        <details>
          <summary>Revoked tokens ({revoked.length})</summary>
          <ul>
            {revoked.map((token) => (
              <li>
                {token.label}, revoked <DateTime value={token.revokedAt} />
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </>
  );
}

export function settingsPages() {
  const pages = new Hono<WebEnv>();

  const renderSettings = (c: Context<WebEnv>, props: Parameters<typeof SettingsPage>[0]) => c.render(<SettingsPage {...props} />, { title: "Settings" });

  pages.get("/settings", (c) => {
    const session = signedIn(c, "your settings");
    if (session instanceof Response) return session;
    return renderSettings(c, { session });
  });

  pages.post("/settings/profile", async (c) => {
    const session = signedIn(c, "your settings");
    if (session instanceof Response) return session;
    const form = await formFields(c);
    const result = await submitForm(ProfileChanges, { displayName: form.displayName ?? "" }, async (changes) =>
      await updateProfile(c.get("deps").context, session.user, changes),
    );
    if (!result.ok) {
      c.status(result.status as 400);
      return renderSettings(c, { session, displayName: form.displayName, profileErrors: result.fieldErrors, error: fieldless(result) });
    }
    return redirectWithNotice(c, "/settings", "Your display name is saved.");
  });

  pages.post("/settings/password", async (c) => {
    const session = signedIn(c, "your settings");
    if (session instanceof Response) return session;
    const form = await formFields(c);
    const input = { currentPassword: form.currentPassword ?? "", newPassword: form.newPassword ?? "", newPasswordRepeat: form.newPasswordRepeat ?? "" };
    const result = await submitForm(PasswordChange, input, async (change) => await changeOwnPassword(c.get("deps").context, session.user, change));
    if (!result.ok) {
      c.status(result.status as 400);
      return renderSettings(c, { session, passwordErrors: result.fieldErrors, error: fieldless(result) ?? "Your password was not changed: see the fields below." });
    }
    await endOtherSessions(c.get("deps").db, session.user.id, sessionCookie(c));
    return redirectWithNotice(c, "/settings", "Your password is changed; other browsers have been signed out.");
  });

  const renderTokens = async (c: Context<WebEnv>, props: Omit<Parameters<typeof TokensPage>[0], "tokens"> = {}) =>
    c.render(<TokensPage tokens={(await ownTokens(c.get("deps").context, c.get("session")?.user)).map(toTokenView)} {...props} />, { title: "API tokens" });

  pages.get("/settings/tokens", async (c) => {
    const session = signedIn(c, "your API tokens");
    if (session instanceof Response) return session;
    return await renderTokens(c);
  });

  pages.post("/settings/tokens", async (c) => {
    const session = signedIn(c, "your API tokens");
    if (session instanceof Response) return session;
    const form = await formFields(c);
    const result = await submitForm(OwnTokenRequest, { label: form.label ?? "" }, async ({ label }) => await createOwnToken(c.get("deps").context, session.user, label));
    if (!result.ok) {
      c.status(result.status as 400);
      return await renderTokens(c, { label: form.label, errors: result.fieldErrors });
    }
    // Rendered, not redirected: the secret must never travel in a cookie or a URL.
    c.header("Cache-Control", "no-store");
    return await renderTokens(c, { created: { label: result.data.record.label, token: result.data.token } });
  });

  pages.post("/settings/tokens/:id/revoke", async (c) => {
    const session = signedIn(c, "your API tokens");
    if (session instanceof Response) return session;
    const id = c.req.param("id");
    if (!/^\d+$/.test(id)) return redirectWithNotice(c, "/settings/tokens", "No such token.", "error");
    const result = await submitForm(IdParam, { id }, async (input) => await revokeOwnToken(c.get("deps").context, session.user, input.id));
    if (!result.ok) return redirectWithNotice(c, "/settings/tokens", result.problem.detail, "error");
    return redirectWithNotice(c, "/settings/tokens", `Revoked the token “${result.data.label}”: it no longer works.`);
  });

  return pages;
}

function fieldless(result: { fieldErrors: Errors; problem: { detail: string } }): string | undefined {
  return Object.keys(result.fieldErrors).length ? undefined : result.problem.detail;
}
