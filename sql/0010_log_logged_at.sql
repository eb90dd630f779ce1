-- When a log row reached the database (issue 15, the logs page's live mode). created_at is the
-- request's start, so a long stream is written long after shorter requests that started later:
-- "rows new since the last look" must be asked of the write time, not the start time.
-- now() is stable, so existing rows take the migration's time without a table rewrite. No index:
-- live polls also bound created_at to the last hour and walk request_logs_recent.
alter table request_logs add column logged_at timestamptz not null default now();
