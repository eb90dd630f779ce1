import { describe, expect, test } from "bun:test";
import { deriveKey, keyFingerprint, randomBase62, seal, sha256Hex, unseal } from "../src/crypto.ts";
import { createKeyring, KeyringError } from "../src/providers/keyring.ts";

const SECRET_A = "secret-A-0123456789-abcdefghijklmnopqrstuvwxyz";
const SECRET_B = "secret-B-0123456789-abcdefghijklmnopqrstuvwxyz";
const SECRET_C = "secret-C-0123456789-abcdefghijklmnopqrstuvwxyz";
const KEY = "sk-proj-THIS-IS-THE-PLAINTEXT-0123456789";

const flip = (buf: Buffer, index: number) => {
  const copy = Buffer.from(buf);
  copy[index] ^= 0x01;
  return copy;
};

describe("AES-256-GCM seal/unseal", () => {
  const key = deriveKey(SECRET_A, "provider-keys");

  test("round-trips a value", () => {
    const sealed = seal(key, KEY, "row-1");
    expect(sealed.nonce.length).toBe(12);
    expect(sealed.ciphertext.length).toBe(Buffer.byteLength(KEY) + 16);
    expect(unseal(key, sealed, "row-1")).toBe(KEY);
  });

  test("a random nonce gives a different ciphertext every time", () => {
    const a = seal(key, KEY, "row-1");
    const b = seal(key, KEY, "row-1");
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  test("the ciphertext does not contain the plaintext", () => {
    const { ciphertext } = seal(key, KEY, "row-1");
    expect(ciphertext.includes(Buffer.from(KEY))).toBe(false);
    expect(ciphertext.includes(Buffer.from(KEY.slice(0, 8)))).toBe(false);
  });

  test.each([
    ["the first ciphertext byte", (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, ciphertext: flip(s.ciphertext, 0) })],
    [
      "the last body byte",
      (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, ciphertext: flip(s.ciphertext, s.ciphertext.length - 17) }),
    ],
    ["a tag byte", (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, ciphertext: flip(s.ciphertext, s.ciphertext.length - 1) })],
    ["a nonce byte", (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, nonce: flip(s.nonce, 5) })],
    [
      "a truncated tag",
      (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, ciphertext: s.ciphertext.subarray(0, s.ciphertext.length - 1) }),
    ],
    ["a short nonce", (s: { ciphertext: Buffer; nonce: Buffer }) => ({ ...s, nonce: s.nonce.subarray(0, 8) })],
  ])("a flipped or cut %s makes decryption throw", (_what, tamper) => {
    const sealed = seal(key, KEY, "row-1");
    expect(() => unseal(key, tamper(sealed), "row-1")).toThrow();
  });

  test("another AAD (a ciphertext copied to another row) makes decryption throw", () => {
    const sealed = seal(key, KEY, "row-1");
    expect(() => unseal(key, sealed, "row-2")).toThrow();
  });

  test("another key makes decryption throw", () => {
    const sealed = seal(key, KEY, "row-1");
    expect(() => unseal(deriveKey(SECRET_B, "provider-keys"), sealed, "row-1")).toThrow();
  });

  test("keys derived for different purposes differ", () => {
    expect(deriveKey(SECRET_A, "provider-keys").equals(deriveKey(SECRET_A, "jwt"))).toBe(false);
  });
});

describe("keyring", () => {
  test("the version is the first 8 hex characters of the derived key's SHA-256, and never the key", () => {
    const ring = createKeyring({ secret: SECRET_A, previousSecrets: [] });
    const derived = deriveKey(SECRET_A, "provider-keys");
    expect(ring.currentVersion).toBe(sha256Hex(derived).slice(0, 8));
    expect(ring.currentVersion).toBe(keyFingerprint(derived));
    expect(ring.currentVersion).toMatch(/^[0-9a-f]{8}$/);
    expect(derived.toString("hex")).not.toContain(ring.currentVersion);
  });

  test("encrypts with the current secret and stamps its version", () => {
    const ring = createKeyring({ secret: SECRET_A, previousSecrets: [SECRET_B] });
    const value = ring.encrypt(KEY, "row-1");
    expect(value.version).toBe(ring.currentVersion);
    expect(ring.decrypt(value, "row-1")).toBe(KEY);
  });

  test("decrypts values sealed under any previous secret, found by version whatever their order", () => {
    const old = createKeyring({ secret: SECRET_B, previousSecrets: [] }).encrypt(KEY, "row-1");
    const older = createKeyring({ secret: SECRET_C, previousSecrets: [] }).encrypt(KEY, "row-2");
    const ring = createKeyring({ secret: SECRET_A, previousSecrets: [SECRET_C, SECRET_B] });
    expect(ring.versions).toHaveLength(3);
    expect(ring.versions[0]).toBe(ring.currentVersion);
    expect(ring.decrypt(old, "row-1")).toBe(KEY);
    expect(ring.decrypt(older, "row-2")).toBe(KEY);
  });

  test("an unknown version is a clear error naming the version and what to do", () => {
    const old = createKeyring({ secret: SECRET_B, previousSecrets: [] }).encrypt(KEY, "row-1");
    const ring = createKeyring({ secret: SECRET_A, previousSecrets: [] });
    expect(() => ring.decrypt(old, "row-1")).toThrow(KeyringError);
    expect(() => ring.decrypt(old, "row-1")).toThrow(new RegExp(`key version ${old.version}.*PERPETUO_SECRET_PREVIOUS`));
  });

  test("a tampered value or a wrong AAD is a KeyringError that names no secret", () => {
    const ring = createKeyring({ secret: SECRET_A, previousSecrets: [] });
    const value = ring.encrypt(KEY, "row-1");
    let message = "";
    try {
      ring.decrypt(value, "row-2");
    } catch (err) {
      expect(err).toBeInstanceOf(KeyringError);
      message = (err as Error).message;
    }
    expect(message).toContain("failed authentication");
    expect(message).not.toContain(SECRET_A);
    expect(message).not.toContain(KEY);
    expect(() => ring.decrypt({ ...value, ciphertext: flip(value.ciphertext, 3) }, "row-1")).toThrow(KeyringError);
  });
});

describe("random tokens", () => {
  test("32 random bytes become 43 base62 characters, different every time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = randomBase62(32);
      expect(t).toMatch(/^[0-9A-Za-z]{43}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(200);
  });

  test("all 62 characters turn up, so no alphabet slot is dead", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) for (const c of randomBase62(32)) seen.add(c);
    expect(seen.size).toBe(62);
  });
});
