/**
 * Rules for a provider's base_url. Perpetuo sends a provider key to whatever this names, so it must
 * be a plain http(s) endpoint and never a cloud metadata service (which would hand out the host's own
 * credentials). Loopback and private addresses stay allowed: self-hosted Ollama and vLLM live there.
 * `new URL` has already turned decimal, octal and hex IPv4 forms into dotted quads and IPv6 into its
 * compressed hex form, so the checks below only see canonical addresses.
 */

const METADATA_HOSTS = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"]);

/** Why this base_url is not allowed, or null when it is. */
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
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    if (!groups) return "must be a valid URL such as https://api.example.com/v1";
    if (isBlockedIPv6(groups)) return "must not point at a link-local or cloud metadata address";
    return null;
  }
  const v4 = parseIPv4(host);
  if (v4 && isBlockedIPv4(v4)) return "must not point at a link-local or cloud metadata address";
  return null;
}

/** The stored form: what `new URL` makes of it, without trailing slashes. */
export function normalizeBaseUrl(raw: string): string {
  return new URL(raw).href.replace(/\/+$/, "");
}

function parseIPv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

// 169.254.0.0/16: link-local, home of 169.254.169.254 (AWS, GCP, Azure, OCI, DigitalOcean…).
const isBlockedIPv4 = (a: number[]) => a[0] === 169 && a[1] === 254;

/** Eight 16-bit groups, or null. Accepts the compressed hex form `new URL` produces (and a dotted tail). */
export function parseIPv6(text: string): number[] | null {
  let s = text.toLowerCase();
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

function isBlockedIPv6(g: number[]): boolean {
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if (g.join(":") === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(":")) return true; // AWS metadata over IPv6
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // IPv6 forms that carry an IPv4 address: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d,
  // translated ::ffff:0:a.b.c.d, NAT64 64:ff9b::a.b.c.d, and 6to4 2002:AABB:CCDD::.
  const embedded: number[] = [];
  if (zero(0, 5) && (g[5] === 0xffff || g[5] === 0)) embedded.push(g[6]);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) embedded.push(g[6]);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) embedded.push(g[6]);
  if (g[0] === 0x2002) embedded.push(g[1]);
  return embedded.some((hi) => hi === 0xa9fe); // 169.254.x.x
}
