/**
 * Errors thrown by the runtime's fetch (refused, reset, DNS, TLS) in plain words. Bun's own text
 * carries hints meant for a developer ("pass `verbose: true` in the second argument to fetch()"),
 * which mean nothing to a client and must not reach one; the error class is decided elsewhere.
 */

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: "the provider refused the connection",
  ConnectionRefused: "the provider refused the connection",
  ECONNRESET: "the provider closed the connection unexpectedly",
  ConnectionClosed: "the provider closed the connection unexpectedly",
  EPIPE: "the provider closed the connection unexpectedly",
  UND_ERR_SOCKET: "the provider closed the connection unexpectedly",
  ENOTFOUND: "the provider's host name could not be resolved",
  EAI_AGAIN: "the provider's host name could not be resolved",
  ETIMEDOUT: "the connection to the provider timed out",
  EHOSTUNREACH: "the provider's address cannot be reached",
  ENETUNREACH: "the provider's address cannot be reached",
  FailedToOpenSocket: "the connection to the provider could not be opened",
};

const codeOf = (err: unknown) => (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string" ? err.code : "");

/** The connection was closed under the request: on a pooled connection, the provider had just let it go idle. */
export const connectionClosed = (err: unknown) => BY_CODE[codeOf(err)] === BY_CODE.ECONNRESET;

export function networkErrorMessage(err: unknown): string {
  const code = codeOf(err);
  if (Object.hasOwn(BY_CODE, code)) return BY_CODE[code];
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(?:VERIFY|GET)/i.test(code)) return "the provider's TLS certificate could not be verified";
  const message = err instanceof Error ? err.message : "";
  // src/net/fetch.ts resolves names itself; its message names the host, never the runtime.
  const unresolved = /^could not resolve ([^\s:]+)/.exec(message);
  if (unresolved) return `could not resolve ${unresolved[1]}`;
  return "the connection to the provider failed";
}
