/**
 * Rules for a provider's base_url. Perpetuo sends a provider key to whatever this names, so it must
 * be a plain http(s) endpoint and never a cloud metadata service (which would hand out the host's own
 * credentials). Loopback and private addresses are allowed only with ALLOW_PRIVATE_BASE_URLS
 * (privateBaseUrlProblem); the address a name resolves to is checked again at connect time (src/net/).
 * `new URL` has already turned decimal, octal and hex IPv4 forms into dotted quads and IPv6 into its
 * compressed hex form, so the checks below only see canonical addresses.
 */

import { hostTier, isIpLiteral, METADATA_HOSTS } from "../net/address.ts";

/** Why this base_url is not allowed whatever the configuration, or null when it is not refused outright. */
export function baseUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a valid URL such as https://api.example.com/v1";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must start with http:// or https://";
  if (url.username || url.password) return "must not contain credentials (user:pass@); put the key in api_key";
  if (raw.includes("?") || raw.includes("#")) return "must not contain a query string or fragment";
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (!host) return "must name a host";
  if (METADATA_HOSTS.has(host)) return "must not point at a cloud metadata service";
  if (hostTier(host) === "metadata") return "must not point at a link-local or cloud metadata address";
  return null;
}

/** With private addresses not allowed: why this (valid) base_url is refused, or null. */
export function privateBaseUrlProblem(raw: string): string | null {
  const host = new URL(raw).hostname.toLowerCase().replace(/\.+$/, "");
  if (hostTier(host) !== "private") return null;
  const what = isIpLiteral(host) ? "a loopback, private or reserved address" : "a local host name";
  return `must not point at ${what} (${host}) unless the operator sets ALLOW_PRIVATE_BASE_URLS=true`;
}

/** The stored form: what `new URL` makes of it, without trailing slashes. */
export function normalizeBaseUrl(raw: string): string {
  return new URL(raw).href.replace(/\/+$/, "");
}
