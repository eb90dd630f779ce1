import * as v from "valibot";
import { text } from "../http/fields.ts";

export const Email = v.pipe(
  v.string("email must be a string"),
  v.trim(),
  v.nonEmpty("email is required"),
  v.maxLength(254, "email must be at most 254 characters"),
  v.email("email must be a valid email address"),
);
const anyPassword = (field: string) =>
  v.pipe(v.string(`${field} must be a string`), v.maxLength(200, `${field} must be at most 200 characters`));
/** A password being chosen. */
const newPassword = (field: string) => v.pipe(anyPassword(field), v.minLength(10, `${field} must be at least 10 characters`));
export const Password = newPassword("password");

/** The token of an invitation link (/invite/<token>); checked against the stored hash, never parsed further. */
export const InvitationToken = text(200);

export const SignupBody = v.object({
  email: Email,
  password: Password,
  name: v.optional(v.pipe(v.string("name must be a string"), v.trim(), v.maxLength(100, "name must be at most 100 characters"))),
  /** An invitation's token: creates the account even when SIGNUP=invite, and joins its workspace. */
  invitation: v.optional(InvitationToken),
});

export const LoginBody = v.object({
  email: Email,
  // Any length: a wrong password must get the same 401 as a wrong email, not a validation hint.
  password: anyPassword("password"),
});

export const PasswordChangeBody = v.object({
  current_password: anyPassword("current_password"),
  new_password: newPassword("new_password"),
});
