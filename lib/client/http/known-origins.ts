// Origins that asked for Negotiate and proved themselves, per pool key (pool.ts: origin, SPN, credential and every
// option that changes the token). A request under such a key carries its token from the first request (RFC 4559
// asks for no challenge before a client's first token: `preemptive: true` always relied on it), saving the 401 round
// trip; `preemptive: false` turns it
// off. Only a server that completed mutual authentication (its final token verified: it holds the key of that SPN)
// is remembered, so an unsolicited token only ever goes where our token went before, for the same credential. A 401
// answering such a token forgets the origin, and the request starts over as if it had never been seen.
// No secret is kept: keys and `true`.

/** Most origins remembered; the oldest is forgotten first. */
const MAX_KNOWN = 1024;

const known = new Map<string, true>();

export function isKnown(key: string): boolean {
  return known.has(key);
}

export function remember(key: string): void {
  known.delete(key);
  known.set(key, true);
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value!);
}

export function forget(key: string): void {
  known.delete(key);
}

/** Forgets every origin: for tests. */
export function forgetAll(): void {
  known.clear();
}
