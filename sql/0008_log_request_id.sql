-- The logs filter by x-request-id (?request_id=) looks up one workspace's rows by exact id.
create index request_logs_request_id on request_logs (workspace_id, request_id);
