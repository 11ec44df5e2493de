/**
 * First-run setup (the first admin, with the one-time code from the server's
 * log) and sign-up (as the instance's registration mode allows). Both act
 * through the API (POST /setup, POST /signup), then sign the browser in.
 */
import { Hono, type Context } from "hono";
import { getRegistrationMode, needsSetup } from "../../accounts/registration.ts";
import type { RegistrationMode } from "../../accounts/schemas.ts";
import { setUpInstance, signUpUser } from "../../app/accounts.ts";
import { SetupBody, SignupBody } from "../../accounts/schemas.ts";
import { CliCommand, FIRST_ADMIN_COMMAND, startSessionFor } from "../accounts-components.tsx";
import { Field, FormError, PostForm, SignInLink } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, optional, redirectWithNotice, submitForm } from "../forms.ts";

type Errors = Record<string, string>;

function SetupDone() {
  return (
    <>
      <h1>This instance is set up</h1>
      <p>It already has an admin, so the setup code is no longer valid.</p>
      <p>
        <SignInLink /> or <a href="/signup">sign up</a> (if its admin allows sign-up).
      </p>
    </>
  );
}

function SetupForm(props: { values?: Record<string, string>; errors?: Errors; error?: string }) {
  const values = props.values ?? {};
  const errors = props.errors ?? {};
  return (
    <>
      <h1>Set up this instance</h1>
      <p>
        This instance has no accounts yet. Create its first admin here with the <strong>one-time setup code</strong> the server
        printed in its log when it started (look for “setup code”). The code proves you run the server, so nobody else who
        finds the instance first can take it over.
      </p>
      <FormError message={props.error} />
      <PostForm action="/setup" label="Create the first admin">
        <Field
          name="setupCode"
          label="Setup code"
          value={values.setupCode}
          hint="From the server's log, e.g. 1a2b-3c4d-5e6f-7a8b-9c0d. Restarting the server prints a new one."
          error={errors.setupCode}
          autocomplete="off"
          required
        />
        <AccountFields values={values} errors={errors} />
        <button type="submit">Create the admin account</button>
      </PostForm>
      <h2>Or use the command line</h2>
      <p>On the server's machine, with the password on standard input:</p>
      <CliCommand>{FIRST_ADMIN_COMMAND}</CliCommand>
    </>
  );
}

/** Username, display name and the password twice. */
function AccountFields(props: { values: Record<string, string>; errors: Errors }) {
  const { values, errors } = props;
  return (
    <>
      <Field
        name="username"
        label="Username"
        value={values.username}
        hint="Lower-case letters a-z, digits and underscores; it is part of your address and cannot be changed."
        error={errors.username}
        autocomplete="username"
        required
      />
      <Field name="displayName" label="Display name" value={values.displayName} hint="The name others see; you can change it later." error={errors.displayName} autocomplete="name" />
      <Field name="password" label="Password" type="password" hint="At least 8 characters." error={errors.password} autocomplete="new-password" required />
      <Field name="passwordRepeat" label="Password again" type="password" error={errors.passwordRepeat} autocomplete="new-password" required />
    </>
  );
}

const MODE_TEXT: Record<RegistrationMode, string> = {
  open: "Anyone can create an account on this instance.",
  invite: "Sign-up on this instance is by invitation: you need an invite code from its admin.",
  closed: "Sign-up is closed on this instance: ask its admin for an account.",
};

function SignupForm(props: { mode: RegistrationMode; values?: Record<string, string>; errors?: Errors; error?: string }) {
  const values = props.values ?? {};
  const errors = props.errors ?? {};
  return (
    <>
      <h1>Sign up</h1>
      <p>{MODE_TEXT[props.mode]}</p>
      <FormError message={props.error} />
      {props.mode === "closed" ? (
        <p>
          Already have an account? <SignInLink />.
        </p>
      ) : (
        <>
          <PostForm action="/signup" label="Sign up">
            {props.mode === "invite" ? (
              <Field name="inviteCode" label="Invite code" value={values.inviteCode} error={errors.inviteCode} autocomplete="off" required />
            ) : null}
            <AccountFields values={values} errors={errors} />
            <button type="submit">Create my account</button>
          </PostForm>
          <p>
            Already have an account? <SignInLink />.
          </p>
        </>
      )}
    </>
  );
}

function accountBody(form: Record<string, string>) {
  return {
    username: form.username?.trim() ?? "",
    displayName: optional(form.displayName),
    password: form.password ?? "",
    passwordRepeat: form.passwordRepeat ?? "",
  };
}

/** Form values to show again after an error: never the passwords. */
function keep(form: Record<string, string>): Record<string, string> {
  const { password: _p, passwordRepeat: _r, csrf: _c, ...rest } = form;
  return rest;
}

export function setupPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/setup", async (c) => {
    if (!await needsSetup(c.get("deps").db)) return c.render(<SetupDone />, { title: "Set up" });
    return c.render(<SetupForm />, { title: "Set up this instance" });
  });

  pages.post("/setup", async (c) => {
    if (!await needsSetup(c.get("deps").db)) {
      c.status(409);
      return c.render(<SetupDone />, { title: "Set up" });
    }
    const form = await formFields(c);
    const input = { ...accountBody(form), setupCode: form.setupCode?.trim() ?? "" };
    const result = await submitForm(SetupBody, input, async (data) => await setUpInstance(c.get("deps").context, data));
    if (!result.ok) {
      if (result.status === 409 && !result.fieldErrors.username) return c.render(<SetupDone />, { title: "Set up" });
      c.status(result.status as 400);
      const error = Object.keys(result.fieldErrors).length ? "The admin account was not created: see the fields below." : result.problem.detail;
      return c.render(<SetupForm values={keep(form)} errors={result.fieldErrors} error={error} />, { title: "Set up this instance" });
    }
    const user = await startSessionFor(c, result.data.username);
    return redirectWithNotice(c, "/admin", `Welcome, ${user.displayName}: you are this instance's admin. The first steps below take you from here to a published policy; sign-up stays closed until you open it.`);
  });

  const renderSignup = async (c: Context<WebEnv>, props: Omit<Parameters<typeof SignupForm>[0], "mode"> = {}) =>
    c.render(<SignupForm mode={await getRegistrationMode(c.get("deps").db)} {...props} />, { title: "Sign up" });

  pages.get("/signup", async (c) => {
    const { db } = c.get("deps");
    if (await needsSetup(db)) return c.redirect("/setup", 303);
    if (c.get("session")) return redirectWithNotice(c, "/", "You are already signed in.");
    const invite = c.req.query("invite");
    return await renderSignup(c, { values: invite ? { inviteCode: invite } : {} });
  });

  pages.post("/signup", async (c) => {
    const form = await formFields(c);
    const mode = await getRegistrationMode(c.get("deps").db);
    const body = { ...accountBody(form), ...(mode === "invite" ? { inviteCode: form.inviteCode?.trim() ?? "" } : {}) };
    const result = await submitForm(SignupBody, body, async (data) => await signUpUser(c.get("deps").context, data));
    if (!result.ok) {
      c.status(result.status as 400);
      const error = Object.keys(result.fieldErrors).length ? "Your account was not created: see the fields below." : result.problem.detail;
      return await renderSignup(c, { values: keep(form), errors: result.fieldErrors, error });
    }
    const user = await startSessionFor(c, result.data.username);
    return redirectWithNotice(c, "/", `Welcome, ${user.displayName}! Your account is ready and you are signed in.`);
  });

  return pages;
}
