/**
 * Whether any run of 8 characters of a secret shows in a text, as itself or in the forms an
 * upstream may echo it in: URL-encoded, JSON-escaped, base64 (of `key`, `:key`, `key:`) or hex.
 * Returns the first leaked run, for the failure message.
 */
export function leakedRun(text: string, secret: string): string | null {
  const views = [text, percentDecoded(text), jsonUnescaped(text), ...base64Decoded(text), ...hexDecoded(text)];
  for (let i = 0; i + 8 <= secret.length; i++) {
    const run = secret.slice(i, i + 8);
    if (views.some((v) => v.includes(run))) return run;
  }
  return null;
}

/** A body that echoes the key as a careless provider would: cut by a 300-character limit, encoded, base64, in Basic auth. */
export function echoOfKey(key: string): string {
  const allPercent = [...key].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");
  const parts = [
    `url ${allPercent}`,
    `b64 ${Buffer.from(key).toString("base64")}`,
    `basic ${Buffer.from(`:${key}`).toString("base64")}`,
    `basic2 ${Buffer.from(`user:${key}`).toString("base64")}`,
  ].join(" ; ");
  // The plain key straddles character 300, where messages used to be cut before redaction.
  return `${parts} ${"p".repeat(Math.max(0, 290 - parts.length - 1))} ${key} and more`;
}

function percentDecoded(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function jsonUnescaped(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(["\\/])/g, "$1");
}

function base64Decoded(text: string): string[] {
  const out: string[] = [];
  for (const token of text.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []) {
    // Every alignment, as a run may start anywhere inside a longer base64 text.
    for (let skip = 0; skip < 4; skip++)
      out.push(Buffer.from(token.slice(skip).replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("latin1"));
  }
  return out;
}

function hexDecoded(text: string): string[] {
  return (text.match(/(?:[0-9a-fA-F]{2}){8,}/g) ?? []).flatMap((h) => [
    Buffer.from(h, "hex").toString("latin1"),
    Buffer.from(h.slice(1), "hex").toString("latin1"),
  ]);
}
