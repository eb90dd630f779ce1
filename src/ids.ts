/**
 * Ids minted on the gateway's hot path (request ids, completion ids). cuid2 hashes with SHA-3 and
 * big-number arithmetic, which costs more than the rest of a proxied request; these need only be
 * unique and unguessable, which 128 random bits are.
 */
export function fastId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's own x-request-id when it is sane, else a fresh one; answers and logs carry it. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && SANE_REQUEST_ID.test(given) ? given : `req_${fastId()}`;
}
