import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

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

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `bytes` random bytes as a fixed-length base62 string (32 bytes → 43 characters, all 256 bits kept). */
export function randomBase62(bytes = 32): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const length = Math.ceil((bytes * 8) / Math.log2(62));
  let n = BigInt(`0x${randomBytes(bytes).toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = alphabet[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(length, "0");
}

/** AES-256-GCM output: ciphertext with the 16-byte tag appended, and the random 96-bit nonce. */
interface Sealed {
  ciphertext: Buffer;
  nonce: Buffer;
}

const GCM_TAG_BYTES = 16;

/** Encrypts under a 32-byte key with a fresh random nonce; `aad` binds the value to its context (e.g. its row). */
export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext: Buffer.concat([body, cipher.getAuthTag()]), nonce };
}

/** Reverses seal(); throws if the key, nonce, ciphertext, tag or aad differ in any bit. */
export function unseal(key: Buffer, sealed: Sealed, aad: string): string {
  const { ciphertext, nonce } = sealed;
  if (nonce.length !== 12 || ciphertext.length < GCM_TAG_BYTES) throw new Error("malformed ciphertext");
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
  const body = ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
}

/** A short, non-secret name for a derived key: which secret encrypted a value, found without trying each. */
export function keyFingerprint(key: Buffer): string {
  return sha256Hex(key).slice(0, 8);
}
