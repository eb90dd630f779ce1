import type { Config } from "../config.ts";
import { deriveKey, keyFingerprint, seal, unseal } from "../crypto.ts";

/** A provider key as stored: AES-256-GCM ciphertext (tag appended), its nonce, and which key sealed it. */
export interface EncryptedValue {
  ciphertext: Buffer;
  nonce: Buffer;
  version: string;
}

export class KeyringError extends Error {}

export interface Keyring {
  /** Fingerprint of the key derived from the current PERPETUO_SECRET; new values are sealed with it. */
  readonly currentVersion: string;
  /** Every version this process can decrypt (current first). */
  readonly versions: readonly string[];
  encrypt(plaintext: string, aad: string): EncryptedValue;
  /** Throws KeyringError for an unknown version or a value that fails authentication. */
  decrypt(value: EncryptedValue, aad: string): string;
}

const LABEL = "provider-keys";

/**
 * Provider-key encryption keys derived from PERPETUO_SECRET and PERPETUO_SECRET_PREVIOUS. Each key is
 * known by a fingerprint stored next to every value, so the right one is found without trying them
 * in order; re-encrypting to the current one is `bun run rotate-secret`.
 */
export function createKeyring(config: Pick<Config, "secret" | "previousSecrets">): Keyring {
  const keys = new Map<string, Buffer>();
  for (const secret of [config.secret, ...config.previousSecrets]) {
    const key = deriveKey(secret, LABEL);
    const version = keyFingerprint(key);
    if (!keys.has(version)) keys.set(version, key);
  }
  const currentKey = deriveKey(config.secret, LABEL);
  const currentVersion = keyFingerprint(currentKey);
  return {
    currentVersion,
    versions: [...keys.keys()],
    encrypt(plaintext, aad) {
      return { ...seal(currentKey, plaintext, aad), version: currentVersion };
    },
    decrypt(value, aad) {
      const key = keys.get(value.version);
      if (!key) {
        throw new KeyringError(
          `this value was encrypted with key version ${value.version}, which neither PERPETUO_SECRET nor PERPETUO_SECRET_PREVIOUS derives (known: ${[...keys.keys()].join(", ")}); add the secret it was encrypted with to PERPETUO_SECRET_PREVIOUS`,
        );
      }
      try {
        return unseal(key, value, aad);
      } catch {
        throw new KeyringError(
          `this value (key version ${value.version}) failed authentication: it is corrupt or was copied from another row`,
        );
      }
    },
  };
}
