/**
 * OpenAI Embeddings ⇄ provider wire formats, as pure functions (the gateway side is
 * src/gateway/embeddings.ts).
 *
 * - OpenAI and OpenAI-compatible: `POST {base}/embeddings`, the client's body with the model mapped.
 *   Only type `openai` is asked for `encoding_format: base64` (it is 4× smaller on the wire);
 *   compatible servers differ in whether they know it, so they are asked for floats and the
 *   gateway encodes. Either way the answer is converted to what the client asked for.
 * - Gemini: `POST /v1beta/models/{m}:batchEmbedContents`, one request per input (in calls of at
 *   most GEMINI_MAX_BATCH), `dimensions` as `outputDimensionality`. Gemini counts no tokens: usage is null and the gateway estimates it.
 *   Token-id inputs (number arrays) have no Gemini equivalent: UnsupportedFeatureError.
 * - Anthropic has no embeddings API: embeddingsAdapterFor returns null.
 */
import type { EmbeddingsRequest } from "../gateway/embeddings-model.ts";
import { PROVIDER_CATALOG, type ProviderType } from "../providers/catalog.ts";
import { postJson } from "./common.ts";
import { geminiAdapter, geminiHeaders, modelPath } from "./gemini.ts";
import { openaiAdapter, openaiHeaders } from "./openai.ts";
import { isRecord, num, str, UnsupportedFeatureError, upstreamError, UpstreamResponseError } from "./types.ts";
import type { Adapter, UpstreamRequest, UpstreamTarget } from "./types.ts";

export type { EmbeddingsRequest };
type EmbeddingsInput = EmbeddingsRequest["input"];
type EncodingFormat = "float" | "base64";

interface Embedding {
  object: "embedding";
  index: number;
  /** Floats, or base64 of little-endian float32s when the client asked for base64. */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: "list";
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

interface EmbeddingsContext {
  /** What the client asked for (reported when the upstream names no model). */
  requestedModel: string;
  targetModel: string;
  encoding: EncodingFormat;
}

interface EmbeddingsAdapter {
  /** One or more upstream calls (Gemini takes at most GEMINI_MAX_BATCH inputs per call), made in order. */
  buildEmbeddingsRequests(req: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest[];
  /**
   * The 2xx bodies of those calls, in the same order → the client's answer; promptTokens null when
   * the provider counts none. Throws UpstreamResponseError for malformed bodies.
   */
  parseEmbeddingsResponses(
    bodies: unknown[],
    ctx: EmbeddingsContext,
  ): { response: Omit<EmbeddingsResponse, "usage">; promptTokens: number | null };
  classifyError: Adapter["classifyError"];
}

// --- vectors ---------------------------------------------------------------------------------

/** Floats as OpenAI's base64: little-endian float32s. */
export function floatsToBase64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i]!, i * 4);
  return buf.toString("base64");
}

/** OpenAI's base64 back to floats; null when it is not a whole number of float32s. */
export function base64ToFloats(b64: string): number[] | null {
  const buf = Buffer.from(b64, "base64");
  if (buf.length % 4 !== 0) return null;
  const out = new Array<number>(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function malformed(message: string): UpstreamResponseError {
  return new UpstreamResponseError(upstreamError("server", `the provider's embeddings answer is malformed: ${message}`));
}

/** A 2xx answer's body as an object; some servers answer 200 with an error object. */
function answerObject(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw malformed("not a JSON object");
  if (isRecord(body.error))
    throw new UpstreamResponseError(upstreamError("server", str(body.error.message) ?? "the provider reported an error"));
  return body;
}

/** One vector from an upstream (floats or base64) in the encoding the client asked for. */
function encodeVector(raw: unknown, encoding: EncodingFormat, where: string): number[] | string {
  if (typeof raw === "string") {
    if (encoding === "base64") return raw;
    const floats = base64ToFloats(raw);
    if (!floats) throw malformed(`${where} is not base64 float32 data`);
    return floats;
  }
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === "number" && Number.isFinite(x)))
    throw malformed(`${where} is not a list of numbers`);
  return encoding === "base64" ? floatsToBase64(raw as number[]) : (raw as number[]);
}

/** Every input's text, for Gemini and for token estimates; null for token-id inputs. */
export function inputTexts(input: EmbeddingsInput): string[] | null {
  if (typeof input === "string") return [input];
  if (input.every((x) => typeof x === "string")) return input as string[];
  return null;
}

// --- OpenAI and compatible ---------------------------------------------------------------------

function openaiEmbeddings(askBase64: boolean): EmbeddingsAdapter {
  return {
    buildEmbeddingsRequests(req, target) {
      const body: Record<string, unknown> = { ...req, model: target.model };
      if (!askBase64) delete body.encoding_format;
      return [postJson(target, "/embeddings", openaiHeaders(target.apiKey), body)];
    },
    parseEmbeddingsResponses([raw], ctx) {
      const body = answerObject(raw);
      if (!Array.isArray(body.data)) throw malformed("no data list");
      const data: Embedding[] = body.data.map((d, i) => {
        if (!isRecord(d)) throw malformed(`data[${i}] is not an object`);
        return {
          object: "embedding",
          index: num(d.index) ?? i,
          embedding: encodeVector(d.embedding, ctx.encoding, `data[${i}].embedding`),
        };
      });
      data.sort((a, b) => a.index - b.index);
      const usage = isRecord(body.usage) ? (num(body.usage.prompt_tokens) ?? num(body.usage.total_tokens)) : undefined;
      const model = str(body.model) || ctx.targetModel || ctx.requestedModel;
      return { response: { object: "list", data, model }, promptTokens: usage ?? null };
    },
    classifyError: openaiAdapter.classifyError,
  };
}

// --- Gemini ----------------------------------------------------------------------------------

/** batchEmbedContents refuses larger batches. */
export const GEMINI_MAX_BATCH = 100;

const geminiEmbeddings: EmbeddingsAdapter = {
  buildEmbeddingsRequests(req, target) {
    const texts = inputTexts(req.input);
    if (!texts) throw new UnsupportedFeatureError("input", "Gemini embeds text only; token-id input (arrays of numbers) is not supported");
    const path = modelPath(target.model);
    const name = `models/${path}`;
    const headers = geminiHeaders(target.apiKey);
    const out: UpstreamRequest[] = [];
    for (let start = 0; start < texts.length; start += GEMINI_MAX_BATCH) {
      const requests = texts.slice(start, start + GEMINI_MAX_BATCH).map((text) => {
        const r: Record<string, unknown> = { model: name, content: { parts: [{ text }] } };
        if (req.dimensions !== undefined) r.outputDimensionality = req.dimensions;
        return r;
      });
      out.push(postJson(target, `/v1beta/${name}:batchEmbedContents`, headers, { requests }));
    }
    return out;
  },
  parseEmbeddingsResponses(bodies, ctx) {
    const data: Embedding[] = [];
    for (const raw of bodies) {
      const body = answerObject(raw);
      if (!Array.isArray(body.embeddings)) throw malformed("no embeddings list");
      for (const e of body.embeddings) {
        const i = data.length;
        if (!isRecord(e)) throw malformed(`embeddings[${i}] is not an object`);
        data.push({ object: "embedding", index: i, embedding: encodeVector(e.values, ctx.encoding, `embeddings[${i}].values`) });
      }
    }
    return { response: { object: "list", data, model: ctx.targetModel || ctx.requestedModel }, promptTokens: null };
  },
  classifyError: geminiAdapter.classifyError,
};

const openaiOwn = openaiEmbeddings(true);
const compatible = openaiEmbeddings(false);

/** The embeddings wire format of a provider type, or null when it has no embeddings API. */
export function embeddingsAdapterFor(type: string): EmbeddingsAdapter | null {
  if (type === "openai") return openaiOwn;
  const format = Object.hasOwn(PROVIDER_CATALOG, type) ? PROVIDER_CATALOG[type as ProviderType].format : "openai";
  // Groq and DeepSeek have no embeddings endpoint either, but their 404 falls back to the next entry.
  return format === "anthropic" ? null : format === "gemini" ? geminiEmbeddings : compatible;
}
