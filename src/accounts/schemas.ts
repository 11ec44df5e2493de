/**
 * What account forms and the account API accept, in one place: the web pages
 * act through the API, so a sign-up in the browser and a POST /api/v1/signup
 * are checked by the same schema and the errors name the same fields.
 */
import { z } from "../zod.ts";
import { identifierSchema } from "../actors/local-actors.ts";
import { passwordSchema } from "./users.ts";

import { REGISTRATION_MODES } from "./registration-modes.ts";

export { REGISTRATION_MODES, type RegistrationMode } from "./registration-modes.ts";

const displayNameSchema = z.string().trim().max(100, "must be at most 100 characters");

/** The optional repeat of a password must match it (web forms always send one). */
function repeatMatches<T extends Record<string, unknown>>(password: keyof T & string, repeat: keyof T & string): [(value: T) => boolean, { path: string[]; message: string }] {
  return [(value: T) => value[repeat] === undefined || value[repeat] === value[password], { path: [repeat], message: "does not match the password" }];
}

export const SignupBody = z
  .object({
    username: identifierSchema,
    displayName: displayNameSchema.optional(),
    password: passwordSchema,
    passwordRepeat: z.string().max(1024).optional(),
    inviteCode: z.string().trim().max(100).optional(),
  })
  .strict()
  .refine(...repeatMatches<{ password: string; passwordRepeat?: string }>("password", "passwordRepeat"))
  .openapi("Signup");
export type SignupInput = z.infer<typeof SignupBody>;

export const SetupBody = z
  .object({
    setupCode: z.string().trim().min(1, "is required: the server printed it in its log at start").max(100),
    username: identifierSchema,
    displayName: displayNameSchema.optional(),
    password: passwordSchema,
    passwordRepeat: z.string().max(1024).optional(),
  })
  .strict()
  .refine(...repeatMatches<{ password: string; passwordRepeat?: string }>("password", "passwordRepeat"))
  .openapi("Setup");
export type SetupInput = z.infer<typeof SetupBody>;

export const ProfileChanges = z
  .object({ displayName: displayNameSchema.min(1, "must not be empty") })
  .strict()
  .openapi("ProfileChanges");

export const PasswordChange = z
  .object({
    currentPassword: z.string().min(1, "is required"),
    newPassword: passwordSchema,
    newPasswordRepeat: z.string().max(1024).optional(),
  })
  .strict()
  .refine(...repeatMatches<{ newPassword: string; newPasswordRepeat?: string }>("newPassword", "newPasswordRepeat"))
  .openapi("PasswordChange");

export const OwnTokenRequest = z
  .object({ label: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters") })
  .strict()
  .openapi("OwnTokenRequest");

export const RegistrationSetting = z.object({ mode: z.enum(REGISTRATION_MODES) }).strict().openapi("Registration");

export const NewInvite = z
  .object({
    maxUses: z.number().int().min(1, "must be at least 1").max(100_000, "must be at most 100000").optional(),
    expiresAt: z.string().datetime({ offset: true, message: "must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z" }).optional(),
  })
  .strict()
  .openapi("NewInvite");

export const INVITE_STATES = ["active", "used up", "expired", "revoked"] as const;

export const InviteView = z
  .object({
    id: z.number().int(),
    code: z.string(),
    maxUses: z.number().int().nullable(),
    uses: z.number().int(),
    expiresAt: z.string().datetime().nullable(),
    revokedAt: z.string().datetime().nullable(),
    createdAt: z.string().datetime(),
    createdBy: z.string().nullable(),
    state: z.enum(INVITE_STATES),
  })
  .openapi("Invite");
