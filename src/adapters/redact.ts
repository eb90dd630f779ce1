/**
 * Masking provider keys in anything that leaves the gateway: relayed errors, attempt messages,
 * log rows and log lines.
 */

// The upstream may echo a key back (OpenAI does, partially masked); none may reach a client or log.
// Known key prefixes, Bearer tokens, ?key= query values and session JWTs, whoever's they are.
const KEY_PATTERN =
  /\b(?:sk-[A-Za-z0-9_*-]{4,}|AIza[0-9A-Za-z_-]{8,}|prp_[A-Za-z0-9_-]{4,}|gsk_[A-Za-z0-9]{8,}|xai-[A-Za-z0-9]{8,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)|\bBearer\s+[^\s"',;]+|([?&](?:key|api_key|apikey)=)[^&\s"']+/gi;

/** Any run of this many characters of a known key counts as a leak (so does the whole key, if shorter). */
const KEY_RUN = 8;

/**
 * The forms a key travels in, besides itself: base64 at each of the three byte alignments (so
 * `:key`, `key:` and `user:key` as in Basic auth are covered whatever precedes it; only the
 * characters that depend on the key alone), base64url, and hex.
 */
function keyForms(key: string): string[] {
  const bytes = Buffer.from(key);
  const forms = [key, bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift, 0x3a), bytes]).toString("base64");
    const core = b64.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4);
    forms.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

// Runs are found with a rolling hash over character codes (a Set of 8-character slices costs a
// string per position, too slow for the 16 KiB bodies logged on the hot path), then compared.
const BASE = 31;

function hashAt(codes: ArrayLike<number>, start: number, width: number): number {
  let h = 0;
  for (let i = 0; i < width; i++) h = (Math.imul(h, BASE) + codes[start + i]) | 0;
  return h;
}

const runsCache = new Map<string, Map<number, string[]>>();

function keyRuns(key: string, width: number): Map<number, string[]> {
  let runs = runsCache.get(key);
  if (runs) return runs;
  runs = new Map();
  for (const f of keyForms(key)) {
    const codes = Array.from(f, (c) => c.charCodeAt(0));
    for (let i = 0; i + width <= f.length; i++) {
      const h = hashAt(codes, i, width);
      const list = runs.get(h);
      if (list) list.push(f.slice(i, i + width));
      else runs.set(h, [f.slice(i, i + width)]);
    }
  }
  // Keys are few and long-lived (one per provider entry); the bound only stops a slow leak.
  if (runsCache.size > 1000) runsCache.clear();
  runsCache.set(key, runs);
  return runs;
}

const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
const JSON_ESCAPES: Record<string, number> = { '"': 34, "\\": 92, "/": 47, b: 8, f: 12, n: 10, r: 13, t: 9 };

/**
 * The text's character codes with one level of %XX (URL) and \uXXXX / \" (JSON) escapes undone,
 * and for each decoded character the span it came from, so a match in the decoded text masks the original.
 */
function unescapedView(text: string): { codes: Uint16Array; length: number; from: Int32Array; to: Int32Array } {
  const codes = new Uint16Array(text.length);
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; ) {
    let c = text.charCodeAt(i);
    let len = 1;
    if (c === 37 /* % */ && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      c = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      len = 3;
    } else if (c === 92 /* \ */ && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === "u" && i + 5 < text.length) {
        const d = [2, 3, 4, 5].map((k) => hexValue(text.charCodeAt(i + k)));
        if (d.every((x) => x >= 0)) {
          c = ((d[0] * 16 + d[1]) * 16 + d[2]) * 16 + d[3];
          len = 6;
        }
      } else if (Object.hasOwn(JSON_ESCAPES, next)) {
        c = JSON_ESCAPES[next];
        len = 2;
      }
    }
    codes[n] = c;
    from[n] = i;
    to[n] = i + len;
    n++;
    i += len;
  }
  return { codes, length: n, from, to };
}

/** Masks every run of KEY_RUN characters of the key, in any of its forms, plain or escaped. */
function redactKey(text: string, key: string): string {
  const width = Math.min(KEY_RUN, key.length);
  const runs = keyRuns(key, width);
  const { codes, length, from, to } = unescapedView(text);
  if (length < width) return text;
  const spans: Array<[number, number]> = [];
  let pow = 1;
  for (let i = 1; i < width; i++) pow = Math.imul(pow, BASE);
  let h = hashAt(codes, 0, width);
  for (let i = 0; ; i++) {
    const candidates = runs.get(h);
    if (candidates && candidates.some((run) => sameRun(codes, i, run))) {
      const start = from[i];
      const end = to[i + width - 1];
      const last = spans[spans.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else spans.push([start, end]);
    }
    if (i + width >= length) break;
    h = (Math.imul(h - Math.imul(codes[i], pow), BASE) + codes[i + width]) | 0;
  }
  if (spans.length === 0) return text;
  let out = "";
  let at = 0;
  for (const [s, e] of spans) {
    out += `${text.slice(at, s)}[redacted]`;
    at = e;
  }
  return out + text.slice(at);
}

function sameRun(codes: Uint16Array, at: number, run: string): boolean {
  for (let k = 0; k < run.length; k++) if (codes[at + k] !== run.charCodeAt(k)) return false;
  return true;
}

/**
 * The one redaction: every error relayed from a provider, attempt message, log row and log line
 * goes through it. With the provider's key, any run of 8 of its characters is masked (so a cut
 * never leaves most of it), as are its URL-encoded, JSON-escaped, base64 and hex forms; always,
 * anything shaped like a known credential. Redact first, truncate after.
 */
export function redactSecrets(text: string, key?: string | null): string {
  const out = key && key.length >= 4 ? redactKey(text, key) : text;
  return out.replace(KEY_PATTERN, (m, query: string | undefined) =>
    query ? `${query}[redacted]` : m.startsWith("Bearer") || m.startsWith("bearer") ? "Bearer [redacted]" : "[redacted]",
  );
}
