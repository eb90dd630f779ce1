-- Server-side sessions: a session token (JWT) is honoured only while its row here is live, so
-- logging out, "sign out everywhere" and a password change take effect before the token expires.
create table sessions (
  id         text primary key,            -- the token's jti
  user_id    text not null references users(id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
-- "Sign out everywhere" and the per-user clean-up of expired rows.
create index sessions_user on sessions (user_id);
