-- Server-side sessions: a session token (JWT) is honoured only while its row here is live, so
-- logging out, "sign out everywhere" and a password change take effect before the token expires.
create table sessions (
  id         text primary key,            -- the token's jti
  user_id    text not null references users(id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
-- "Sign out everywhere".
create index sessions_user on sessions (user_id);
-- Expired rows are cleared a few at a time as new sessions open.
create index sessions_expiry on sessions (expires_at);
