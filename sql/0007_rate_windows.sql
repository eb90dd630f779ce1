-- Governance (issue 13): requests and tokens admitted per scope ('key:<id>' or 'workspace:<id>') and
-- UTC minute, summed over every instance. Each instance adds what it admitted since its last sync and
-- reads the totals back in the same statement, a few times a second; rows older than a few minutes
-- are deleted (src/governance/sync.ts).
create table rate_windows (
  scope        text not null,
  window_start timestamptz not null,
  requests     bigint not null default 0,
  tokens       bigint not null default 0,
  primary key (scope, window_start)
);
create index rate_windows_window_start on rate_windows (window_start);
