import { z } from "zod";

// No `new Function` probing: the host serves the app under a strict CSP
// (no 'unsafe-eval'), where even a caught attempt is reported as a violation.
z.config({ jitless: true });

// Client-side checks mirror the server's (SPEC §11: password ≥ 8 chars);
// the server remains the authority and its field errors are shown too.
const email = z.string().trim().min(1, "Enter your e-mail address.").email("Enter a valid e-mail address.");
const newPassword = z
  .string()
  .min(8, "Use at least 8 characters.")
  .max(1024, "That password is too long.");
const anyPassword = z.string().min(1, "Enter your password.");

export const loginSchema = z.object({ email, password: anyPassword });
export type LoginValues = z.infer<typeof loginSchema>;

export const signupSchema = z
  .object({ email, password: newPassword, confirm_password: z.string() })
  .refine((v) => v.password === v.confirm_password, {
    path: ["confirm_password"],
    message: "The passwords do not match.",
  });
export type SignupValues = z.infer<typeof signupSchema>;

/** An address to mail a link to (forgot password, new verification link). */
export const emailOnlySchema = z.object({ email });
export type EmailOnlyValues = z.infer<typeof emailOnlySchema>;

export const resetSchema = z
  .object({ new_password: newPassword, confirm_password: z.string() })
  .refine((v) => v.new_password === v.confirm_password, {
    path: ["confirm_password"],
    message: "The passwords do not match.",
  });
export type ResetValues = z.infer<typeof resetSchema>;

export const changePasswordSchema = z
  .object({ current_password: anyPassword, new_password: newPassword, confirm_password: z.string() })
  .refine((v) => v.new_password === v.confirm_password, {
    path: ["confirm_password"],
    message: "The passwords do not match.",
  });
export type ChangePasswordValues = z.infer<typeof changePasswordSchema>;

export const changeEmailSchema = z.object({ new_email: email, password: anyPassword });
export type ChangeEmailValues = z.infer<typeof changeEmailSchema>;

export const deleteAccountSchema = z.object({ password: anyPassword });
export type DeleteAccountValues = z.infer<typeof deleteAccountSchema>;

export const endpointSchema = z.object({
  name: z.string().trim().min(1, "Give the endpoint a name.").max(100, "Use at most 100 characters."),
});
export type EndpointValues = z.infer<typeof endpointSchema>;

export const batchDeleteSchema = z.object({
  older_than_days: z
    .number({ error: "Enter a number of days." })
    .int("Use a whole number of days.")
    .min(0, "Use 0 or more days.")
    .max(36500, "That is more than a century."),
});
export type BatchDeleteValues = z.infer<typeof batchDeleteSchema>;

const optionalPriority = z.union([z.literal(""), z.coerce.number().int().min(1).max(5)]);

/** The messages filter bar; values are strings as the inputs hold them. */
export const messageFilterSchema = z
  .object({
    endpoint_id: z.string(),
    q: z.string(),
    group: z.string(),
    tag: z.string(),
    priority_min: optionalPriority,
    priority_max: optionalPriority,
    since: z.string(),
    until: z.string(),
    /** Only messages whose deliveries still wait for their scheduled time. */
    scheduled: z.boolean(),
  })
  .refine((v) => v.priority_min === "" || v.priority_max === "" || Number(v.priority_min) <= Number(v.priority_max), {
    path: ["priority_max"],
    message: "Max must be at least min.",
  })
  .refine((v) => !v.since || !v.until || new Date(v.since) < new Date(v.until), {
    path: ["until"],
    message: "“Until” must be after “since”.",
  });
export type MessageFilterValues = z.input<typeof messageFilterSchema>;
