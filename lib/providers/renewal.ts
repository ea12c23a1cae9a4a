// When a credential handle gets a new TGT, and what its calls use meanwhile: the schedule, single-flight, backoff and
// the events. How a TGT is obtained (a keytab logon, a KDC renewal) is the caller's `refresh`; this file only decides
// when, and never blocks the loop: `refresh` runs its KDC calls on the libuv pool (pool.ts).
//
// The threshold is MIT's own for client-keytab credentials (kg_cred_set_initial_refresh in MIT krb5's
// src/lib/gssapi/krb5/acquire_cred.c, documented in krb5.conf(5) under default_client_keytab_name: "refreshed ... when
// they are halfway to expiration"): a new TGT once half the current one's lifetime has passed. Half leaves the other
// half for retries against a KDC that is down, and costs one AS exchange per half-life (a 10-hour TGT: two a day).
import type { TicketTimes } from './krb5-native.js';
import { isFailure, type Failure } from './failure.js';
import { failureOf } from './gssapi-status.js';
import { GSS_S_CREDENTIALS_EXPIRED, GSS_S_FAILURE } from '../../ffi/gss-status.js';
import { SEC_E_OK, statusName, type GssStatusDetail } from '../vocabulary/status.js';

/** The share of a TGT's lifetime after which a new one is obtained. */
export const RENEW_AT = 0.5;
/**
 * The first retry after a failed renewal; each further one waits twice as long, up to RETRY_MAX_MS and to half the
 * time the TGT in use has left (so a KDC back before the expiry is used before it).
 */
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 60_000;
/** A TGT with less than this left is treated as expired: a TGS exchange started now could outlive it. */
export const EXPIRY_MARGIN_MS = 1000;

/** What a handle reports after each renewal attempt (no secrets: no keys, passwords, tickets or keytab bytes). */
export interface RenewalEvent {
  /** `renewed`: a new TGT is in use. `failed`: this attempt failed (the old TGT, if still valid, stays in use). */
  outcome: 'renewed' | 'failed';
  /** How: a new logon from the keytab, a KDC renewal of a renewable TGT, or a logon with a password from the callback. */
  method: 'keytab' | 'renew' | 'password';
  /** SEC_E_OK, or the failure's SEC_E_* code. */
  status: number;
  statusName: string;
  /** On failure: what the GSS or krb5 library said. */
  gss?: GssStatusDetail;
  detail?: string;
  /** When the attempt started, and how long it took. */
  started: Date;
  durationMs: number;
  /** Consecutive failed attempts before this one. */
  failuresBefore: number;
  /** The TGT in use before, and (renewed) the new one's times. */
  previous: TicketTimes;
  times?: TicketTimes;
  /**
   * On failure: whether the old TGT has expired (calls then fail with this status), and when the next try is due
   * (absent when none will be: a password TGT past its renew-till without a callback).
   */
  expired?: boolean;
  nextAttempt?: Date;
}

/** A TGT in use: its times, and whatever the provider keeps with it (a GSS credential, a ccache). */
export interface Renewable {
  times: TicketTimes;
  method: RenewalEvent['method'];
}

/**
 * One handle's TGT over time. `current()` is what a call uses: the TGT in use while it is valid (a renewal in
 * progress does not delay it), or, once it has expired, the outcome of a renewal the call waits for.
 */
export class Renewer<B extends Renewable> {
  private active: B;
  private inflight?: Promise<void>;
  private failures = 0;
  private lastFailure?: Failure;
  private retryAt = 0;
  private lastAttemptEnd = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private exhausted = false;

  constructor(
    initial: B,
    /** Obtains the next TGT (on the pool); `previous` is the one in use. */
    private readonly refresh: (previous: B) => Promise<B | Failure>,
    /** A new TGT replaced `old`: the provider releases `old` once no context uses it. */
    private readonly replaced: (old: B) => void,
    private readonly notify?: (event: RenewalEvent) => void,
    /** How the next attempt will obtain its TGT, for the event; undefined when no way is left (no more attempts). */
    private readonly method: (previous: B) => RenewalEvent['method'] | undefined = (previous) => previous.method,
  ) {
    this.active = initial;
    this.schedule();
  }

  /** When the next renewal is due: RENEW_AT of the lifetime, or the retry time after a failure. */
  dueAt(): number {
    const { start, end } = this.active.times;
    const due = start.getTime() + RENEW_AT * (end.getTime() - start.getTime());
    return Math.max(due, this.retryAt);
  }

  private expired(now = Date.now()): boolean {
    return this.active.times.end.getTime() - now <= EXPIRY_MARGIN_MS;
  }

  /** What a call uses now. Starts a renewal when one is due; waits for it only when the TGT in use has expired. */
  async current(): Promise<B | Failure> {
    const now = Date.now();
    if (!this.expired(now)) {
      if (now >= this.dueAt()) this.start();
      return this.active;
    }
    // Expired: every call may try again (at most one attempt at a time, at most one a second), so a KDC that comes
    // back is used at once rather than after the backoff.
    if (!this.inflight && now - this.lastAttemptEnd >= RETRY_MIN_MS) this.start();
    if (this.inflight) await this.inflight;
    if (!this.expired()) return this.active;
    return this.lastFailure ?? this.refused();
  }

  /** Renews now unless a renewal is running (single-flight). */
  start(): Promise<void> {
    if (this.stopped || this.exhausted) return this.inflight ?? Promise.resolve();
    this.inflight ??= this.attempt().finally(() => {
      this.inflight = undefined;
      this.schedule();
    });
    return this.inflight;
  }

  private async attempt(): Promise<void> {
    const previous = this.active;
    const way = this.method(previous);
    // Nothing left to try (a password TGT past its renew-till, no callback): one attempt reports it, then none.
    if (!way) this.exhausted = true;
    const method = way ?? 'renew';
    const started = new Date();
    let got: B | Failure;
    try {
      got = await this.refresh(previous);
    } catch (err) {
      got = failureOf({ major: GSS_S_FAILURE, minor: 0, majorText: '', minorText: (err as Error).message }, 'the renewal threw');
    }
    const durationMs = Date.now() - started.getTime();
    this.lastAttemptEnd = Date.now();
    const base = { method, started, durationMs, failuresBefore: this.failures, previous: previous.times };
    if (isFailure(got)) {
      this.failures++;
      this.lastFailure = got;
      // Backoff, but never past half the time the TGT in use has left: the last tries come before it expires.
      const left = this.active.times.end.getTime() - Date.now();
      this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1), Math.max(RETRY_MIN_MS, left / 2));
      this.emit({
        ...base, outcome: 'failed', status: got.status, statusName: statusName(got.status), gss: got.gss, detail: got.detail,
        expired: this.expired(), ...(this.exhausted ? {} : { nextAttempt: new Date(this.retryAt) }),
      });
      return;
    }
    if (this.stopped) {
      // The handle went while the logon ran: the new TGT is not used by anyone.
      this.replaced(got);
      return;
    }
    this.active = got;
    this.failures = 0;
    this.lastFailure = undefined;
    this.retryAt = 0;
    this.replaced(previous);
    this.emit({ ...base, outcome: 'renewed', status: SEC_E_OK, statusName: 'SEC_E_OK', times: got.times });
  }

  private emit(event: RenewalEvent): void {
    try {
      this.notify?.(event);
    } catch {
      // An observer's exception is not the credential's failure.
    }
  }

  /** The next proactive attempt, on a timer that does not keep the process alive. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped || this.exhausted) return;
    const delay = Math.max(0, this.dueAt() - Date.now());
    // setTimeout takes at most 2^31 - 1 ms: a longer wait is re-armed when it fires.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() >= this.dueAt()) void this.start();
      else this.schedule();
    }, Math.min(delay, 0x7fffffff));
    this.timer.unref?.();
  }

  /** The handle is released: no more attempts. Returns the TGT in use, for the provider to release. */
  stop(): B {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.active;
  }

  /** Waits for a renewal in progress (tests, and release). */
  settled(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  private refused(): Failure {
    const why = 'the TGT expired and no renewal succeeded';
    return failureOf({ major: GSS_S_CREDENTIALS_EXPIRED, minor: 0, majorText: 'The referenced credential has expired', minorText: why }, why);
  }
}
