-- Accounts and workspaces.
create table users (
  id            text primary key,
  email         text not null,
  password_hash text not null,
  name          text,
  created_at    timestamptz not null default now()
);
-- Emails are unique regardless of case: Alice@x.com and alice@x.com are one account.
create unique index users_email_lower on users (lower(email));

create table workspaces (
  id         text primary key,
  name       text not null,
  settings   jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table workspace_members (
  workspace_id text not null references workspaces(id) on delete cascade,
  user_id      text not null references users(id) on delete cascade,
  role         text not null check (role in ('owner', 'admin', 'member')),
  created_at   timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index workspace_members_user on workspace_members (user_id);
