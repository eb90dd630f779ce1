-- Invitations to join a workspace: a one-time link for one email and role.
create table invitations (
  id           text primary key,
  workspace_id text not null references workspaces(id) on delete cascade,
  email        text not null,
  role         text not null check (role in ('owner', 'admin', 'member')),
  -- hex SHA-256 of the link's token; the token itself is never stored.
  token_hash   text not null,
  invited_by   text references users(id) on delete set null,
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null,
  accepted_at  timestamptz,
  accepted_by  text references users(id) on delete set null,
  revoked_at   timestamptz
);
create unique index invitations_token on invitations (token_hash);
create index invitations_workspace on invitations (workspace_id, created_at);
