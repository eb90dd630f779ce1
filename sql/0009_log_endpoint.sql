-- Which gateway endpoint a log row is for (issue 14): 'chat' for /v1/chat/completions (every row
-- written before this migration), 'embeddings' for /v1/embeddings, and whatever later endpoints use.
alter table request_logs add column endpoint text not null default 'chat';
