/** Who may sign up. Kept apart from the zod schemas so the CLI's help can list them without loading zod. */
export const REGISTRATION_MODES = ["open", "invite", "closed"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];
