-- Governance (issue 13): limits on a gateway key and on a whole workspace, tags on keys, spend per key.
-- A null limit means no limit. Budgets are in USD over a UTC period: 'day', 'month' (calendar) or 'total'.

alter table api_keys
  add column rpm_limit      integer check (rpm_limit > 0),
  add column tpm_limit      integer check (tpm_limit > 0),
  add column budget_usd     numeric check (budget_usd > 0),
  add column budget_period  text check (budget_period in ('day', 'month', 'total')),
  -- Model patterns the key may ask for ('gpt-4o*', 'claude-*'); empty = any model.
  add column allowed_models text[] not null default '{}',
  -- Free-form labels ('team:search', 'env:prod'), copied onto every log row of the key.
  add column tags           text[] not null default '{}',
  add constraint api_keys_budget_complete check ((budget_usd is null) = (budget_period is null));

alter table workspaces
  add column rpm_limit     integer check (rpm_limit > 0),
  add column tpm_limit     integer check (tpm_limit > 0),
  add column budget_usd    numeric check (budget_usd > 0),
  add column budget_period text check (budget_period in ('day', 'month', 'total')),
  add constraint workspaces_budget_complete check ((budget_usd is null) = (budget_period is null));

-- The key's tags when the request was made (null when it had none).
alter table request_logs add column tags text[];

-- Usage per gateway key and UTC day, written by the log writer with usage_daily (exactly once per row).
create table usage_key_daily (
  workspace_id      text not null references workspaces(id) on delete cascade,
  day               date not null,
  api_key_id        text not null,
  requests          bigint not null default 0,
  errors            bigint not null default 0,
  prompt_tokens     bigint not null default 0,
  completion_tokens bigint not null default 0,
  cost_usd          numeric not null default 0,
  unpriced_requests bigint not null default 0,
  primary key (workspace_id, api_key_id, day)
);
