import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { createKeyring } from "../providers/keyring.ts";
import { rotateProviderKeys } from "../providers/rotate.ts";

/**
 * `rotate-secret`: re-encrypts every stored provider key with the key derived from PERPETUO_SECRET,
 * decrypting with whichever of PERPETUO_SECRET / PERPETUO_SECRET_PREVIOUS sealed it.
 * Throws RotationError (one line, exit 1) when some value no known secret can decrypt.
 */
export async function rotateSecretCommand(config: Config): Promise<{ reencrypted: number; version: string }> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, max: 1 });
  try {
    await migrate(db.sql);
    const keyring = createKeyring(config);
    const { reencrypted } = await rotateProviderKeys(db.sql, keyring);
    return { reencrypted, version: keyring.currentVersion };
  } finally {
    await db.close();
  }
}
