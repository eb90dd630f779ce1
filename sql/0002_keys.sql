-- Provider keys (BYOK, encrypted) and gateway API keys (hashed).

create table provider_keys (
  id             text primary key,
  workspace_id   text not null references workspaces(id) on delete cascade,
  name           text not null,
  type           text not null,
  -- null: the type's default (src/providers/catalog.ts)
  base_url       text,
  -- AES-256-GCM of the provider's API key (16-byte tag appended), its 96-bit nonce, and the
  -- fingerprint of the key that sealed it; all three null when the entry has no key.
  key_ciphertext bytea,
  key_nonce      bytea,
  key_version    text,
  key_last4      text check (key_last4 is null or char_length(key_last4) = 4),
  priority       integer not null,
  enabled        boolean not null default true,
  models         text[] not null default '{}',
  model_map      jsonb not null default '{}'::jsonb,
  timeout_ms     integer not null default 60000,
  pricing        jsonb not null default '{}'::jsonb,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  constraint provider_keys_key_complete check (
    (key_ciphertext is null and key_nonce is null and key_version is null and key_last4 is null)
    or (key_ciphertext is not null and key_nonce is not null and key_version is not null)
  )
);
create unique index provider_keys_name on provider_keys (workspace_id, lower(name));
create index provider_keys_order on provider_keys (workspace_id, priority, created_at);

create table api_keys (
  id           text primary key,
  workspace_id text not null references workspaces(id) on delete cascade,
  name         text not null,
  -- `prp_` and the first 6 characters, for recognising a key in lists; the key itself is never stored.
  prefix       text not null,
  -- hex SHA-256 of the whole key
  key_hash     text not null,
  created_by   text references users(id) on delete set null,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  expires_at   timestamptz
);
create unique index api_keys_hash on api_keys (key_hash);
create index api_keys_workspace on api_keys (workspace_id, created_at);
