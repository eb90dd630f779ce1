/**
 * fetch for anything that carries a provider key. The host is resolved here, every address it
 * resolves to is checked (src/net/address.ts), and the request goes to the checked IP itself with
 * the original Host header and, for https, the original name for SNI and certificate checks
 * (`tls.serverName`). So a name that resolves to 127.0.0.1 or 169.254.169.254 is refused, and DNS
 * rebinding cannot swap the address between the check and the connection. Redirects are never
 * followed: the key would travel to an unchecked place.
 */

import { lookup as dnsLookup } from "node:dns/promises";
import { addressTier, hostTier, isIpLiteral, tierProblem, type AddressTier } from "./address.ts";

interface ResolvedAddress {
  address: string;
  family: number;
}
/** Every address a host name resolves to; injectable so tests can play DNS. */
export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

/** fetch's shape; `tls` (Bun's extension) is passed on, with serverName set to the URL's host. */
export type UpstreamFetch = (url: string, init?: BunFetchRequestInit) => Promise<Response>;

export class BlockedAddressError extends Error {
  readonly code = "blocked_address";
  constructor(
    message: string,
    readonly tier: AddressTier,
  ) {
    super(message);
    this.name = "BlockedAddressError";
  }
}

export const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

interface GuardOptions {
  allowPrivate: boolean;
  lookup?: Lookup;
  /** How long a resolution is reused; the hot path must not wait on DNS per request. */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 30_000;
const MAX_CACHED_HOSTS = 1_000;

/** Rejects with the signal's reason when it aborts first (a DNS lookup ignores signals). */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function createUpstreamFetch(opts: GuardOptions): UpstreamFetch {
  const lookup = opts.lookup ?? systemLookup;
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { until: number; address: Promise<string> }>();

  const refuse = (tier: AddressTier | null) => tier !== null && (tier === "metadata" || !opts.allowPrivate);

  /** One checked address for a host name, IPv4 first (many hosts have no IPv6 route out). */
  async function resolve(host: string): Promise<string> {
    let found: ResolvedAddress[];
    try {
      found = await lookup(host);
    } catch (err) {
      throw new Error(`could not resolve ${host}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (found.length === 0) throw new Error(`could not resolve ${host}: no addresses`);
    for (const a of found) {
      const tier = addressTier(a.address);
      // One bad address refuses the name: round-robin answers must not sneak one past the check.
      if (refuse(tier)) throw new BlockedAddressError(tierProblem(tier!, `${host} resolves to ${a.address}, which`), tier!);
    }
    const chosen = found.find((a) => a.family === 4) ?? found[0];
    return chosen.family === 6 ? `[${chosen.address}]` : chosen.address;
  }

  function cached(host: string): Promise<string> {
    const hit = cache.get(host);
    if (hit && hit.until > now()) return hit.address;
    if (cache.size >= MAX_CACHED_HOSTS) cache.clear();
    const address = resolve(host);
    cache.set(host, { until: now() + ttlMs, address });
    // Failures are not remembered: the next request asks again.
    address.catch(() => cache.get(host)?.address === address && cache.delete(host));
    return address;
  }

  return async (raw, init = {}) => {
    const url = new URL(raw);
    const host = url.hostname.toLowerCase().replace(/\.+$/, "");
    const named = hostTier(host);
    if (refuse(named)) throw new BlockedAddressError(tierProblem(named!, host), named!);
    const request: BunFetchRequestInit = { ...init, redirect: "manual" };
    if (!isIpLiteral(host)) {
      const ip = await raceSignal(cached(host), init.signal);
      const headers = new Headers(init.headers);
      headers.set("host", url.host);
      request.headers = headers;
      // Bun verifies the certificate against serverName (and sends it as SNI), not the IP we dial;
      // its keep-alive pool is keyed by it too, so hosts sharing an address keep separate connections.
      if (url.protocol === "https:") request.tls = { ...init.tls, serverName: url.hostname };
      url.hostname = ip;
    }
    return fetch(url.href, request);
  };
}
