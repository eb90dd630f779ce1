/**
 * Ids minted on the gateway's hot path (request ids, completion ids). cuid2 hashes with SHA-3 and
 * big-number arithmetic, which costs more than the rest of a proxied request; these need only be
 * unique and unguessable, which 128 random bits are.
 */
export function fastId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}
