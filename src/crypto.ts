import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/** Independent subkeys from the master secret, so the JWT key never doubles as the encryption key. */
export function deriveKey(secret: string, label: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.alloc(0), Buffer.from(`perpetuo:${label}`), bytes));
}

export function hmac(key: Buffer, data: string): string {
  return createHmac("sha256", key).update(data).digest("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
