-- Request logs (one row per gateway request) and per-day usage counters.
-- Both are written only by the log queue (src/telemetry/log-queue.ts), in one statement per batch,
-- so a counter never disagrees with the rows it counts.

create table request_logs (
  id                text primary key,
  request_id        text not null,
  workspace_id      text not null references workspaces(id) on delete cascade,
  -- No foreign keys below: a deleted gateway key or provider entry keeps its history.
  api_key_id        text,
  provider_id       text,
  provider_name     text,
  provider_type     text,
  model_requested   text not null,
  model_used        text,
  stream            boolean not null default false,
  status            integer not null,
  error_class       text,
  error_message     text,
  latency_ms        integer not null,
  ttft_ms           integer,
  prompt_tokens     integer not null default 0,
  completion_tokens integer not null default 0,
  cached_tokens     integer not null default 0,
  reasoning_tokens  integer not null default 0,
  usage_estimated   boolean not null default false,
  cost_usd          numeric,          -- null = unknown price (never 0 for unknown)
  attempts          jsonb not null default '[]'::jsonb,
  request_body      text,             -- only with workspace setting log_content
  response_body     text,
  created_at        timestamptz not null default now()
);

-- Every list is "newest first in one workspace": the keyset order (created_at, id) is the index
-- order, so any page is a short index range scan. Time filters and retention use it too.
create index request_logs_recent on request_logs (workspace_id, created_at desc, id desc);
-- Errors are a few percent of traffic: walking the main index for them would read ~30 rows per
-- hit. A partial index holds only error rows (cheap to maintain: successes never touch it).
-- The predicate must match the queries' text exactly for the planner to use it.
create index request_logs_errors on request_logs (workspace_id, created_at desc, id desc)
  where status >= 400 or error_class is not null;
-- A gateway key, a provider entry or a model may carry a tiny share of a workspace's traffic;
-- without these a filter on it degenerates into a walk through the whole workspace. The
-- workspace leads so a count over the filter is an index-only scan of that workspace's entries.
create index request_logs_key on request_logs (workspace_id, api_key_id, created_at desc, id desc) where api_key_id is not null;
create index request_logs_provider on request_logs (workspace_id, provider_id, created_at desc, id desc) where provider_id is not null;
create index request_logs_model on request_logs (workspace_id, model_requested, created_at desc, id desc);

-- One row per (workspace, UTC day, provider entry, model). provider_id is '' for requests no
-- provider answered; model is the model that answered (model_used), else the one requested.
-- Kept when retention deletes old logs.
create table usage_daily (
  workspace_id      text not null references workspaces(id) on delete cascade,
  day               date not null,
  provider_id       text not null default '',
  model             text not null,
  requests          bigint not null default 0,
  errors            bigint not null default 0,
  prompt_tokens     bigint not null default 0,
  completion_tokens bigint not null default 0,
  cached_tokens     bigint not null default 0,
  reasoning_tokens  bigint not null default 0,
  cost_usd          numeric not null default 0,
  -- Requests that used tokens but whose model has no known price: cost_usd leaves them out.
  unpriced_requests bigint not null default 0,
  primary key (workspace_id, day, provider_id, model)
);
