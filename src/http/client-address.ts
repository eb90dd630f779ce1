import { BlockList, isIP } from "node:net";

interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`; null for anything else. */
export function parseCidr(entry: string): Cidr | null {
  const [address, bits, extra] = entry.trim().split("/");
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

const lists = new WeakMap<readonly string[], BlockList>();

function blockList(trusted: readonly string[]): BlockList {
  let list = lists.get(trusted);
  if (!list) {
    list = new BlockList();
    for (const entry of trusted) {
      const cidr = parseCidr(entry);
      if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    lists.set(trusted, list);
  }
  return list;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; brackets and a port (`[::1]:80`, `1.2.3.4:80`) dropped; null when not an address. */
function normalize(raw: string): string | null {
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1];
  return isIP(s) ? s.toLowerCase() : null;
}

const isTrusted = (list: BlockList, address: string) => list.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");

type Server = { requestIP(r: Request): { address: string } | null } | null | undefined;

/**
 * The client's address for rate limits. `X-Forwarded-For` counts only when the connection comes
 * from a trusted proxy (TRUSTED_PROXIES), and then only as far as the chain is trusted: walking
 * from the right, each hop written by a trusted proxy is believed, and the first address that is
 * not itself a trusted proxy is the client. Anything a client prepends stays to the left, unread.
 */
export function clientAddress(request: Request, server: Server, trusted: readonly string[]): string {
  const peer = server?.requestIP(request)?.address;
  let client = peer ? (normalize(peer) ?? peer) : "unknown";
  if (!peer || trusted.length === 0) return client;
  const list = blockList(trusted);
  if (!isTrusted(list, client)) return client;
  const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").filter((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]);
    // A trusted proxy wrote something that is not an address: believe no further than that proxy.
    if (!hop) return client;
    client = hop;
    if (!isTrusted(list, hop)) return client;
  }
  return client;
}

/**
 * The key rate limits count an address under. An IPv6 client usually holds a whole /64, so one
 * /64 is one client; otherwise a single host could take a fresh address for every attempt.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  if (right.at(-1)?.includes(".")) right.splice(-1, 1, "0", "0");
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}
