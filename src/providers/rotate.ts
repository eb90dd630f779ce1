import type { Sql } from "../db/client.ts";
import { KeyringError, type Keyring } from "./keyring.ts";
import { providerKeyAad, storedKey, type ProviderRow } from "./service.ts";

export class RotationError extends Error {}

/**
 * Re-encrypts every provider key not sealed with the current secret's key (`bun run rotate-secret`).
 * Works in batches, each in its own transaction with the rows locked, so it can run while the
 * server serves and can be re-run after a failure. Throws RotationError naming the first entry no
 * known secret can decrypt; batches before it stay committed.
 */
export async function rotateProviderKeys(sql: Sql, keyring: Keyring, opts: { batchSize?: number } = {}): Promise<{ reencrypted: number }> {
  const batchSize = opts.batchSize ?? 100;
  let reencrypted = 0;
  for (;;) {
    const n = await sql.begin(async (tx) => {
      const rows = await tx<ProviderRow[]>`
        select * from provider_keys
        where key_version is not null and key_version <> ${keyring.currentVersion}
        order by id limit ${batchSize} for update`;
      for (const row of rows) {
        const aad = providerKeyAad(row.id);
        let plaintext: string;
        try {
          plaintext = keyring.decrypt(storedKey(row)!, aad);
        } catch (err) {
          const why = err instanceof KeyringError ? err.message : String(err);
          throw new RotationError(`provider '${row.name}' (${row.id}, workspace ${row.workspace_id}) cannot be re-encrypted: ${why}`);
        }
        const sealed = keyring.encrypt(plaintext, aad);
        await tx`
          update provider_keys set key_ciphertext = ${sealed.ciphertext}, key_nonce = ${sealed.nonce}, key_version = ${sealed.version}
          where id = ${row.id}`;
      }
      return rows.length;
    });
    reencrypted += n;
    if (n < batchSize) return { reencrypted };
  }
}
