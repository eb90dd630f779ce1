/**
 * What one gateway call is made of (its inputs, its attempt context, its answers and log record
 * pieces), shared by the attempt loop (proxy.ts) and the stream relay (stream.ts, chat-stream.ts)
 * so that neither imports the other.
 */
import {
  type Adapter,
  type ChatCompletion,
  type ChatRequest,
  type ResponseContext,
  type UnsupportedFeatureError,
  type UpstreamError,
  type UpstreamRequest,
  type Usage,
} from "../adapters/types.ts";
import type { SSEEvent } from "../adapters/sse.ts";
import type { AttemptRecord, RequestRecord } from "../telemetry/types.ts";
import type { GatewayKey, WorkspaceRuntime } from "./cache.ts";
import type { Candidate } from "./router.ts";
import type { Failed } from "./attempt.ts";
import type { GatewayServices } from "./services.ts";

export type ProxyDeps = Pick<GatewayServices, "cooldowns" | "sink" | "fetch" | "draining" | "logger">;

/** What a governed call's route hands to the proxy: who asked, for which workspace, and when. */
export interface CallBase {
  key: GatewayKey;
  runtime: WorkspaceRuntime;
  requestId: string;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  startedAt: number;
}

export interface ChatCall extends CallBase {
  body: ChatRequest;
  /**
   * The body as one entry gets it, for callers that translate from another dialect (POST
   * /v1/messages): it may drop what that entry's wire format cannot take, or throw
   * UnsupportedFeatureError to skip the entry like an adapter does.
   */
  forCandidate?: (body: ChatRequest, cand: Candidate) => ChatRequest;
  /** The log rows' `endpoint` when the client spoke another API than chat ('responses', 'messages'). */
  endpoint?: string;
  /** Set when some providers speak the client's own API: they get its request as sent (see RelayFormat). */
  relay?: RelayFormat;
}

export type AttemptOutcome = { ok: true; response: Response } | Failed;

/**
 * A client API that some provider types speak too (OpenAI's Responses API, Anthropic's Messages):
 * their entries get the client's body as sent, only `model` mapped, and the client gets their
 * answer as it came (relay.ts). It runs inside the attempt loop, so fallback to translated entries
 * still works. The format supplies only what differs: the request, and how its answers are read.
 */
export interface RelayFormat {
  /** The upstream request for an entry that speaks the format, or null to translate as chat. */
  request(cand: Candidate): UpstreamRequest | null;
  /** Why the translated chat request cannot carry the client's request, if it cannot: other entries are skipped. */
  untranslatable?: UnsupportedFeatureError | null;
  /** What a JSON answer says for the log row; throws UpstreamResponseError when the answer is a failure. */
  read(json: unknown, a: AttemptContext): AnswerRead;
  /** How a streamed answer is read and relayed. */
  dialect(a: AttemptContext): StreamDialect;
  /** Whether a JSON answer carries x-perpetuo-cost (the README says OpenAI's relayed Responses answers do not). */
  costHeader: boolean;
}

export type AnswerRead = {
  model: string | null;
  usage: Usage | null;
  /** The answer's text and call arguments, for estimates and the log; a function where costly to build. */
  output: string | (() => string);
  /** What the log keeps of the answer when not its text (a JSON body). */
  logged?: string;
};

/** A completion's text and call arguments, for estimates and the log. */
export const completionText = (completion: ChatCompletion) =>
  completion.choices
    .map((c) => (c.message.content ?? "") + (c.message.tool_calls?.map((t) => t.function.name + t.function.arguments).join("") ?? ""))
    .join("");

/** An error as the client's last event shows it (already redacted and cut). */
export type ShownError = { message: string; type: string; code: string | null };

/** What the stream relay (stream.ts) needs to know of one kind of upstream stream, and what the client gets of it. */
export interface StreamDialect {
  /** A slice of the provider's bytes before it is parsed (a byte-for-byte relay keeps it). */
  raw?(chunk: Uint8Array): void;
  /** One upstream event. */
  event(ev: SSEEvent): void;
  /** The provider closed the stream (after the parser's last events). */
  eof(): void;
  /** Content the client should see arrived: no fallback from here on. */
  readonly committed: boolean;
  /** The provider's stream came to its proper end. */
  readonly terminal: boolean;
  /** What the provider reported as an error (an error event, data that is not JSON). */
  readonly failure: UpstreamError | null;
  /** What the client gets of what arrived since the last call; empty when nothing. */
  take(): string | Uint8Array[];
  /** What closes a complete stream ("data: [DONE]"), "" when nothing does. */
  done(): string;
  /** The provider's own error events reach the client as they came: its failures need no second one. */
  readonly relaysFailures?: boolean;
  /** Our own last event for a stream that broke after content was sent. */
  errorEvent(e: ShownError): string;
  /** What the provider's stream missing its end marker is called. */
  readonly cutMessage: string;
  /** For the log row. */
  result(): AnswerRead;
}

export const CLIENT_CLOSED = 499;
/** What a request cut by shutdown's drain deadline tells its client and its log row. */
export const SHUTDOWN = {
  status: 503,
  class: "shutdown",
  message: "the gateway is shutting down; retry the request",
  type: "server_error",
  param: null,
  code: "server_shutting_down",
};

export type Recorder = (r: Partial<RequestRecord> & { status: number }) => void;

export function successHeaders(requestId: string, cand: Candidate): Record<string, string> {
  return { "x-request-id": requestId, "x-perpetuo-provider": cand.provider.name };
}

/** One try of one candidate: everything the attempt functions need. */
export interface AttemptContext {
  deps: ProxyDeps;
  call: ChatCall;
  cand: Candidate;
  adapter: Adapter;
  upstream: UpstreamRequest;
  ctx: ResponseContext;
  attempt: AttemptRecord;
  started: number;
  record: Recorder;
}
