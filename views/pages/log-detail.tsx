import type { ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { TagList } from "../components/limits.tsx";
import { nav } from "../components/hx.ts";
import { Badge, PageHeader, Text, Time } from "../components/ui.tsx";
import { formatCost, formatInt, formatMs } from "../components/format.ts";
import { StatusBadge } from "./logs.tsx";
import type { LogDetail } from "../../src/logs/service.ts";
import { providerTypeLabel } from "../../src/providers/catalog.ts";
import { ChatView, RawBody } from "../components/chat-view.tsx";
import { prettyJson, requestConversation, responseConversation } from "../components/conversation.ts";

export function LogDetailPage(props: { ctx: ViewContext; log: LogDetail; back: string }) {
  const { ctx, log } = props;
  const w = ctx.workspace!;
  const answeredBy: string = log.provider_name
    ? `${log.provider_name}${log.provider_type ? ` (${providerTypeLabel(log.provider_type)})` : ""}`
    : "no provider";
  return (
    <Layout ctx={ctx} title={`Request ${log.request_id} · ${w.name}`} section="logs">
      <p class="breadcrumb">
        <a {...nav(props.back)}>← Logs</a>
      </p>
      <PageHeader title={`${log.model_requested}`} subtitle={`Request ${log.request_id}`}>
        <StatusBadge row={log} />
      </PageHeader>
      {!!log.error_message && (
        <div class="alert alert-error" role="note">
          <strong>Error:</strong> <span safe>{log.error_message}</span>
        </div>
      )}
      <section class="panel">
        <h2>Summary</h2>
        <dl class="details">
          <dt>Time</dt>
          <dd>
            <Time value={log.created_at} />
          </dd>
          <dt>API key</dt>
          <dd safe>{log.api_key_name ?? "—"}</dd>
          <dt>Tags</dt>
          <dd>{log.tags.length ? <TagList tags={log.tags} /> : <span class="muted">—</span>}</dd>
          <dt>Endpoint</dt>
          <Text tag="dd" class="mono" text={endpointPath(log.endpoint)} />
          <dt>Model</dt>
          <Text
            tag="dd"
            class="mono"
            text={
              log.model_used && log.model_used !== log.model_requested ? `${log.model_requested} → ${log.model_used}` : log.model_requested
            }
          />
          <dt>Answered by</dt>
          <dd safe>{answeredBy}</dd>
          <dt>Latency</dt>
          <dd safe>{latencyText(log)}</dd>
          <dt>Tokens</dt>
          <Text
            tag="dd"
            text={`${formatInt(log.prompt_tokens)} in (${formatInt(log.cached_tokens)} cached) · ${formatInt(log.completion_tokens)} out (${formatInt(log.reasoning_tokens)} reasoning)${log.usage_estimated ? " · estimated" : ""}`}
          />
          <dt>Cost</dt>
          <dd safe>{log.cost_usd === null ? "unknown price" : formatCost(log.cost_usd)}</dd>
        </dl>
      </section>
      <section class="panel">
        <h2>Attempts</h2>
        {log.attempts.length === 0 ? (
          <p class="muted">No provider was tried (no enabled provider serves this model).</p>
        ) : (
          <ol class="attempts">
            {log.attempts.map((a, i) => {
              const ok = a.error_class === null && a.status !== null && a.status < 400;
              return (
                <li class={ok ? "attempt attempt-ok" : "attempt attempt-fail"}>
                  <span class="attempt-n" aria-hidden="true">
                    {i + 1}
                  </span>
                  <div class="attempt-body">
                    <p>
                      <strong safe>{a.provider_name}</strong> <span class="muted" safe>{`(${providerTypeLabel(a.provider_type)})`}</span> ·{" "}
                      <Text tag="code" class="mono" text={a.model} />
                    </p>
                    <p>
                      <Badge tone={ok ? "ok" : "error"} label={`${a.status ?? "no response"}${a.error_class ? ` ${a.error_class}` : ""}`} />{" "}
                      <Text class="muted" text={formatMs(a.latency_ms)} />
                    </p>
                    <Text tag="p" class="attempt-message" text={a.message} />
                  </div>
                </li>
              );
            })}
          </ol>
        )}
      </section>
      <section class="panel">
        <h2>Content</h2>
        {log.request_body === null && log.response_body === null ? (
          <p class="muted">
            Content logging is off for this workspace, so only metadata was kept. Turn it on in{" "}
            <a {...nav(`/app/w/${encodeURIComponent(w.id)}/settings`)}>Settings</a>.
          </p>
        ) : (
          <>
            <h3>Request</h3>
            <Body which="request" log={log} />
            <h3>Response</h3>
            <Body which="response" log={log} />
          </>
        )}
      </section>
    </Layout>
  );
}

/**
 * One stored body: as a conversation when it can be read as one, with the raw text (pretty-printed
 * JSON) behind a disclosure; raw and open when it cannot (cut at the log limit, or an unknown shape).
 */
function Body(props: { which: "request" | "response"; log: LogDetail }) {
  const { which, log } = props;
  const request = which === "request";
  const text = request ? log.request_body : log.response_body;
  if (text === null) return <p class="muted">Not stored.</p>;
  const truncated = request ? log.request_body_truncated : log.response_body_truncated;
  const conversation = request ? requestConversation(text, log.endpoint) : responseConversation(text, log.endpoint, log.stream);
  const raw = conversation && !truncated ? prettyJson(text) : text;
  return (
    <>
      {!!conversation && <ChatView conversation={conversation} label={request ? "Request messages" : "Response"} />}
      {!request && log.stream && !!conversation && <p class="hint">Streamed: stored as the text the client received.</p>}
      {truncated && <p class="hint">Cut at the log size limit, so shown as stored.</p>}
      <RawBody id={`raw-${which}`} label={request ? "Raw request" : "Raw response"} text={raw} open={!conversation} />
    </>
  );
}

/**
 * Total time, and for a streamed answer when its first token arrived. A non-streamed answer
 * arrives all at once, so a "first token" figure there would only contradict the total.
 */
function latencyText(log: Pick<LogDetail, "latency_ms" | "ttft_ms" | "stream">): string {
  const total = formatMs(log.latency_ms);
  if (!log.stream) return `${total} · not streamed`;
  return log.ttft_ms !== null && log.ttft_ms <= log.latency_ms
    ? `${total} · streamed, first token after ${formatMs(log.ttft_ms)}`
    : `${total} · streamed`;
}

/** The gateway path a log row's endpoint stands for (the name itself when it is not a known one). */
function endpointPath(endpoint: string | undefined): string {
  const e = endpoint ?? "chat";
  return e === "chat" ? "/v1/chat/completions" : e === "embeddings" ? "/v1/embeddings" : e;
}
