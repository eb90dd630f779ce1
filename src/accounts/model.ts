import * as v from "valibot";

export const Email = v.pipe(
  v.string("email must be a string"),
  v.trim(),
  v.nonEmpty("email is required"),
  v.maxLength(254, "email must be at most 254 characters"),
  v.email("email must be a valid email address"),
);
export const Password = v.pipe(
  v.string("password must be a string"),
  v.minLength(10, "password must be at least 10 characters"),
  v.maxLength(200, "password must be at most 200 characters"),
);

/** The token of an invitation link (/invite/<token>); checked against the stored hash, never parsed further. */
export const InvitationToken = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("must not be empty"),
  v.maxLength(200, "must be at most 200 characters"),
);

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
  password: v.pipe(v.string("password must be a string"), v.maxLength(200, "password must be at most 200 characters")),
});

export const PasswordChangeBody = v.object({
  current_password: v.pipe(
    v.string("current_password must be a string"),
    v.maxLength(200, "current_password must be at most 200 characters"),
  ),
  new_password: v.pipe(
    v.string("new_password must be a string"),
    v.minLength(10, "new_password must be at least 10 characters"),
    v.maxLength(200, "new_password must be at most 200 characters"),
  ),
});
