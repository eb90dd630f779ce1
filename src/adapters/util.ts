/** Small readers for untrusted JSON, shared by the adapters and the inbound translations. */

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Cuts an already redacted text for display. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Why a model name cannot go into a URL path, or null. Encoding is not enough for dot segments:
 * URL parsers resolve `..`, `%2e%2e` and `.%2E` alike, so `../../admin` would leave base_url.
 */
export function modelNameProblem(model: string): string | null {
  if (/[\x00-\x1f\x7f]/.test(model)) return "must not contain control characters";
  // A lone surrogate cannot be percent-encoded into a URL path (Gemini's): refused here, not a 500 there.
  if (!model.isWellFormed()) return "must be valid Unicode (no lone surrogate)";
  if (model.split("/").some((s) => /^(?:\.|%2e){1,2}$/i.test(s))) return "must not contain '.' or '..' path segments";
  return null;
}

export function joinUrl(baseUrl: string, path: string): string {
  let end = baseUrl.length;
  while (end > 0 && baseUrl.charCodeAt(end - 1) === 47 /* / */) end--;
  return baseUrl.slice(0, end) + path;
}
