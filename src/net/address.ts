/**
 * Which network addresses Perpetuo may send a provider key to. Two tiers:
 * - "metadata": cloud metadata services and link-local ranges (169.254/16 also hosts AWS ECS task
 *   credentials at 169.254.170.2). They hand out the host's own credentials, so they are refused always.
 * - "private": loopback, private, CGNAT, NAT64 local-use, reserved, multicast… Refused unless the
 *   operator sets ALLOW_PRIVATE_BASE_URLS (self-hosted Ollama or vLLM live there, but on a shared
 *   gateway they are the internal network).
 * IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by
 * that IPv4 address too, so [64:ff9b::a9fe:a9fe] is 169.254.169.254.
 */

import { isIP } from "node:net";

export type AddressTier = "metadata" | "private";

export const METADATA_HOSTS = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

type V4Range = [a: number, b: number, c: number, d: number, bits: number];

const V4_METADATA: V4Range[] = [
  [169, 254, 0, 0, 16], // link-local: AWS/GCP/Azure/OCI/DigitalOcean 169.254.169.254, ECS 169.254.170.2
  [100, 100, 100, 200, 32], // Alibaba Cloud
  [192, 0, 0, 192, 32], // Oracle Cloud (classic)
];

const V4_PRIVATE: V4Range[] = [
  [0, 0, 0, 0, 8], // "this network"; 0.0.0.0 reaches the host itself on Linux
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10], // CGNAT, also used by Tailscale and cloud internal services
  [127, 0, 0, 0, 8],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24], // IETF protocol assignments
  [192, 0, 2, 0, 24], // documentation
  [192, 88, 99, 0, 24], // 6to4 relay anycast
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15], // benchmarking
  [198, 51, 100, 0, 24], // documentation
  [203, 0, 113, 0, 24], // documentation
  [224, 0, 0, 0, 4], // multicast
  [240, 0, 0, 0, 4], // reserved, and 255.255.255.255
];

const toInt = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

function inV4(ip: number, ranges: V4Range[]): boolean {
  return ranges.some(([a, b, c, d, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (ip & mask) >>> 0 === (toInt(a, b, c, d) & mask) >>> 0;
  });
}

/** Dotted-quad IPv4 (the canonical form `new URL` and DNS give) as four numbers, or null. */
function parseIPv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** Eight 16-bit groups, or null. Accepts compressed forms and a dotted IPv4 tail; a zone id (%eth0) is dropped. */
function parseIPv6(text: string): number[] | null {
  let s = text.toLowerCase().replace(/%.*$/, "");
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const v4 = parseIPv4(tail[1]);
    if (!v4) return null;
    s = s.slice(0, -tail[1].length) + `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part ? part.split(":") : []);
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const groups = all.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  return groups.some(Number.isNaN) ? null : groups;
}

const worst = (a: AddressTier | null, b: AddressTier | null): AddressTier | null =>
  a === "metadata" || b === "metadata" ? "metadata" : (a ?? b);

function tierOfV4(ip: number): AddressTier | null {
  if (inV4(ip, V4_METADATA)) return "metadata";
  if (inV4(ip, V4_PRIVATE)) return "private";
  return null;
}

function tierOfV6(g: number[]): AddressTier | null {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => tierOfV4(((hi << 16) | lo) >>> 0);
  if ((g[0] & 0xffc0) === 0xfe80) return "metadata"; // fe80::/10 link-local
  if (g[0] === 0xfd00 && g[1] === 0x0ec2) return "metadata"; // AWS IMDS, DNS and NTP over IPv6 (fd00:ec2::254…)
  // IPv4 inside IPv6: mapped ::ffff:a.b.c.d, translated ::ffff:0:a.b.c.d, compatible ::a.b.c.d
  // (:: and ::1 land here too, as 0.0.0.0 and 0.0.0.1: both private).
  // DNS never needs these for a real provider, so they count as private whatever they embed.
  if ((zero(0, 5) && (g[5] === 0xffff || g[5] === 0)) || (zero(0, 4) && g[4] === 0xffff && g[5] === 0))
    return worst("private", v4(g[6], g[7]));
  // NAT64: the well-known prefix 64:ff9b::/96 reaches the embedded IPv4; the local-use 64:ff9b:1::/48
  // is the operator's own network (RFC 8215), and may embed the IPv4 at /48 (RFC 6052) or /96.
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) {
    return worst("private", worst(v4(g[6], g[7]), v4(g[3], ((g[4] & 0xff) << 8) | (g[5] >> 8))));
  }
  if (g[0] === 0x2002) return worst("private", v4(g[1], g[2])); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return worst("private", worst(v4(g[2], g[3]), v4(g[6] ^ 0xffff, g[7] ^ 0xffff))); // Teredo
  if ((g[0] & 0xfe00) === 0xfc00) return "private"; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfec0) return "private"; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return "private"; // multicast
  if (g[0] === 0x0100 && zero(1, 4)) return "private"; // 100::/64 discard-only
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "private"; // documentation
  return null;
}

/** The tier of an IP address literal (IPv4 dotted quad or IPv6, brackets allowed); null = public. Not an IP: null. */
export function addressTier(ip: string): AddressTier | null {
  const text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const v4 = parseIPv4(text);
  if (v4) return tierOfV4(toInt(v4[0], v4[1], v4[2], v4[3]));
  const g = isIP(text.replace(/%.*$/, "")) === 6 ? parseIPv6(text) : null;
  return g ? tierOfV6(g) : null;
}

export const isIpLiteral = (host: string) =>
  parseIPv4(host) !== null || (host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 6);

/**
 * The tier of a URL host as written (lower-case, no trailing dot, IPv6 in brackets), before any DNS:
 * IP literals by address, metadata host names, and `localhost` names (which never leave the machine).
 */
export function hostTier(host: string): AddressTier | null {
  const h = host.toLowerCase().replace(/\.+$/, "");
  if (METADATA_HOSTS.has(h)) return "metadata";
  if (h === "localhost" || h.endsWith(".localhost")) return "private";
  return addressTier(h);
}

/** Why an address of this tier is refused, for messages that name the setting. */
export function tierProblem(tier: AddressTier, what: string): string {
  return tier === "metadata"
    ? `${what} is a link-local or cloud metadata address, which is always refused`
    : `${what} is a loopback, private or reserved address; the operator must set ALLOW_PRIVATE_BASE_URLS=true to allow it`;
}
