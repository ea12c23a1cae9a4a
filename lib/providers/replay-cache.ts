// A replay cache of authenticators, in memory, per acceptor credential handle. Heimdal 7.8's acceptor keeps none (a
// replayed AP-REQ is accepted again: observed), so the GSS acceptor keeps this one on Heimdal; MIT has its own
// (the `rcache` of the credential store). An authenticator is acceptable only within the clock skew of its time
// (RFC 4120 §5.5.1: 5 minutes by default), so a key is kept for twice that on either side.

/** How long a key is remembered: the default skew (300 s) each way. */
export const REPLAY_WINDOW_MS = 2 * 300_000;
/** At most this many authenticators remembered; past it new ones are refused (evicting one would re-admit it). */
export const REPLAY_CACHE_MAX = 200_000;

export type Claim = 'new' | 'replay' | 'full';

export class ReplayCache {
  /** key -> when it may be forgotten. Insertion order is time order, so expired keys are at the front. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = REPLAY_WINDOW_MS,
    private readonly max = REPLAY_CACHE_MAX,
  ) {}

  /** Claims `key` before the library sees the token: concurrent copies of one AP-REQ find it claimed. */
  claim(key: string, now = Date.now()): Claim {
    for (const [k, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(k);
    }
    if (this.seen.has(key)) return 'replay';
    if (this.seen.size >= this.max) return 'full';
    this.seen.set(key, now + this.windowMs);
    return 'new';
  }

  /** The library refused the token: it was never accepted, so it may come again (a retry after a KDC hiccup). */
  forget(key: string): void {
    this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }
}
