/**
 * The instance admin's page: who may sign up (open, by invite, closed),
 * invite codes (create with a use limit and expiry, list, revoke) and the
 * local users. Admins only; everyone else gets a 403 page. Forms act through
 * the API (PUT /registration, POST and DELETE /invites).
 */
import { Hono, type Context } from "hono";
import type { RegistrationMode } from "../../accounts/schemas.ts";
import { REGISTRATION_MODES } from "../../accounts/schemas.ts";
import { invites, issueInvite, registration, setRegistration, users, withdrawInvite } from "../../app/accounts.ts";
import { IdParam } from "../../api/schemas.ts";
import { InviteView as InviteViewSchema, NewInvite, RegistrationSetting } from "../../accounts/schemas.ts";
import { UserView as UserViewSchema } from "../../api/schemas/social.ts";
import type { z } from "zod";
import { toInviteView, toUserView } from "../../api/views.ts";
import { adminOnly } from "../accounts-components.tsx";
import { firstSteps, type FirstSteps } from "../../app/onboarding.ts";
import { FirstStepsPanel } from "../first-steps.tsx";
import { Avatar } from "../avatar.tsx";
import { ActionButton, DateTime, Field, FormError, NoticeHere, PostForm, SectionTitle, Select } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, optional, redirectWithNotice, submitForm } from "../forms.ts";

type Errors = Record<string, string>;

type InviteView = z.output<typeof InviteViewSchema>;
type UserView = z.output<typeof UserViewSchema>;

const MODE_LABELS: Record<RegistrationMode, string> = {
  open: "Open: anyone can sign up",
  invite: "By invitation: sign-up needs an invite code",
  closed: "Closed: nobody can sign up (admins create accounts with the CLI)",
};

/** How long a new invite works, as the form offers it. */
const EXPIRY_CHOICES: { value: string; label: string; days?: number }[] = [
  { value: "never", label: "Never expires" },
  { value: "1d", label: "1 day", days: 1 },
  { value: "7d", label: "7 days", days: 7 },
  { value: "30d", label: "30 days", days: 30 },
];

function AdminPage(props: {
  steps: FirstSteps | undefined;
  origin: string;
  mode: RegistrationMode;
  invites: InviteView[];
  users: UserView[];
  inviteValues?: Record<string, string>;
  inviteErrors?: Errors;
  error?: string;
}) {
  const inviteValues = props.inviteValues ?? {};
  const inviteErrors = props.inviteErrors ?? {};
  return (
    <>
      <h1>Administration</h1>
      <FirstStepsPanel steps={props.steps} />
      {/* A failed invite's error is shown with the invite form, where the page opens. */}
      {props.inviteValues ? null : <FormError message={props.error} />}
      <section aria-labelledby="registration-heading" class="card">
        <SectionTitle id="registration-heading">Registrations</SectionTitle>
        <PostForm action="/admin/registration" label="Registration mode">
          <Select
            name="mode"
            label="Who may sign up"
            value={props.mode}
            options={REGISTRATION_MODES.map((mode) => ({ value: mode, label: MODE_LABELS[mode] }))}
          />
          <button type="submit">Save registration mode</button>
        </PostForm>
        <p class="muted">
          The same from the server's shell: <code>fedalign admin registrations &lt;open|invite|closed&gt;</code>.
        </p>
      </section>

      <section aria-labelledby="invites-heading" class="card" id="invites">
        <SectionTitle id="invites-heading" count={props.invites.length}>
          Invites
        </SectionTitle>
        {props.mode !== "invite" ? (
          <p class="muted">Invite codes are asked for only while registrations are by invitation.</p>
        ) : null}
        <NoticeHere id="invites" />
        <PostForm action="/admin/invites" label="Create an invite" anchor="invites">
          {props.inviteValues ? <FormError message={props.error} /> : null}
          <Field
            name="maxUses"
            label="Number of uses"
            type="number"
            min={1}
            value={inviteValues.maxUses}
            hint="How many accounts it can create; leave empty for no limit."
            error={inviteErrors.maxUses}
          />
          <Select name="expiresIn" label="Expires after" value={inviteValues.expiresIn ?? "7d"} options={EXPIRY_CHOICES} error={inviteErrors.expiresAt} />
          <button type="submit">Create invite</button>
        </PostForm>
        {props.invites.length === 0 ? (
          <p class="muted">No invites yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="invites">
              <thead>
                <tr>
                  <th scope="col">Code and sign-up link</th>
                  <th scope="col">Uses</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.invites.map((invite) => (
                  <tr>
                    <td>
                      <code>{invite.code}</code>
                      <br />
                      <span class="muted invite-link">{`${props.origin}/signup?invite=${encodeURIComponent(invite.code)}`}</span>
                    </td>
                    <td>
                      {invite.uses} of {invite.maxUses ?? "unlimited"}
                    </td>
                    <td>{invite.expiresAt ? <DateTime value={invite.expiresAt} /> : "never"}</td>
                    <td>{invite.state}</td>
                    <td>
                      <DateTime value={invite.createdAt} />
                      {invite.createdBy ? ` by ${invite.createdBy}` : ""}
                    </td>
                    <td>
                      {invite.state === "revoked" ? null : (
                        <ActionButton action={`/admin/invites/${invite.id}/revoke`} label={`Revoke ${invite.code}`} variant="danger" />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="muted">
          From the shell: <code>fedalign admin invite create [--uses N] [--expires ISO]</code>.
        </p>
      </section>

      <section aria-labelledby="users-heading">
        <SectionTitle id="users-heading" count={props.users.length}>
          Users
        </SectionTitle>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Display name</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
              </tr>
            </thead>
            <tbody>
              {props.users.map((user) => (
                <tr>
                  <td>
                    <Avatar seed={user.actor} kind="person" />
                    {user.handle}
                  </td>
                  <td>{user.displayName}</td>
                  <td>{user.isAdmin ? "admin" : "member"}</td>
                  <td>
                    <DateTime value={user.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

export function adminPages() {
  const pages = new Hono<WebEnv>();

  const renderAdmin = async (c: Context<WebEnv>, props: { inviteValues?: Record<string, string>; inviteErrors?: Errors; error?: string } = {}) => {
    const { context, origin } = c.get("deps");
    const viewer = c.get("session")?.user;
    const mode = (await registration(context)).mode;
    const inviteRows = (await invites(context, viewer)).map(toInviteView);
    const userRows = (await users(context, viewer)).map((user) => toUserView(origin, user));
    return c.render(<AdminPage steps={await firstSteps(context, viewer)} origin={origin} mode={mode} invites={inviteRows} users={userRows} {...props} />, { title: "Administration" });
  };

  pages.get("/admin", async (c) => {
    const admin = adminOnly(c);
    if (!("user" in admin)) return admin;
    return await renderAdmin(c);
  });

  pages.post("/admin/registration", async (c) => {
    const admin = adminOnly(c);
    if (!("user" in admin)) return admin;
    const form = await formFields(c);
    const result = await submitForm(RegistrationSetting, { mode: form.mode ?? "" }, async ({ mode }) => await setRegistration(c.get("deps").context, admin.user, mode));
    if (!result.ok) {
      c.status(result.status as 400);
      return await renderAdmin(c, { error: result.fieldErrors.mode ? `Registration mode ${result.fieldErrors.mode}` : result.problem.detail });
    }
    return redirectWithNotice(c, "/admin", `Registrations are now ${MODE_LABELS[result.data].split(":")[0]!.toLowerCase()}.`);
  });

  pages.post("/admin/invites", async (c) => {
    const admin = adminOnly(c);
    if (!("user" in admin)) return admin;
    const form = await formFields(c);
    const uses = optional(form.maxUses);
    const days = EXPIRY_CHOICES.find((choice) => choice.value === form.expiresIn)?.days;
    const body = {
      ...(uses === undefined ? {} : { maxUses: /^\d+$/.test(uses) ? Number(uses) : uses }),
      ...(days === undefined ? {} : { expiresAt: new Date(c.get("deps").context.clock.now().getTime() + days * 86_400_000).toISOString() }),
    };
    const result = await submitForm(NewInvite, body, async (input) => await issueInvite(c.get("deps").context, admin.user, input));
    if (!result.ok) {
      c.status(result.status as 400);
      const error = Object.keys(result.fieldErrors).length ? "The invite was not created: see the fields below." : result.problem.detail;
      return await renderAdmin(c, { inviteValues: form, inviteErrors: result.fieldErrors, error });
    }
    return redirectWithNotice(c, "/admin", `Created the invite ${result.data.code}.`, "success", "invites");
  });

  pages.post("/admin/invites/:id/revoke", async (c) => {
    const admin = adminOnly(c);
    if (!("user" in admin)) return admin;
    const id = c.req.param("id");
    if (!/^\d+$/.test(id)) return redirectWithNotice(c, "/admin", "No such invite.", "error", "invites");
    const result = await submitForm(IdParam, { id }, async (input) => await withdrawInvite(c.get("deps").context, admin.user, input.id));
    if (!result.ok) return redirectWithNotice(c, "/admin", result.problem.detail, "error", "invites");
    return redirectWithNotice(c, "/admin", `Revoked the invite ${result.data.code}: it no longer works.`, "success", "invites");
  });

  return pages;
}
