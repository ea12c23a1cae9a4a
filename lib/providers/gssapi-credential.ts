// The GSS provider's credential handle: what it acquired, the default credential bound for reuse (MIT), a renewing
// handle's TGT in use with the contexts that hold it, and its service tickets in memory for first legs on the loop
// (gssapi-tickets.ts). How a credential is obtained is gssapi-sources.ts.
import * as G from '../../ffi/gssapi.js';
import { isFailure, type Failure } from './failure.js';
import { acquireCred, releaseCred } from './gssapi-native.js';
import { mechFor } from './gssapi-ntlm.js';
import type { Acquired } from './gssapi-sources.js';
import { LocalTickets, type TicketCache } from './gssapi-tickets.js';
import { defaultCcacheName, destroyCcache, tgtTimes, type TicketTimes } from './krb5-native.js';
import type { CredentialSource, ProviderCredential } from './provider.js';
import type { Renewable, Renewer } from './renewal.js';

/**
 * A TGT in use by a renewing handle: the GSS credential over the private cache that holds it. Contexts begun with it
 * hold a reference (their later legs pass this gss_cred_id_t); once replaced by a renewal it is freed, with its cache,
 * when the last of them goes.
 */
export interface Binding extends Renewable {
  cred: bigint;
  cache: string;
  refs: number;
  retired: boolean;
}

function freeBinding(b: Binding): void {
  releaseCred(b.cred);
  destroyCcache(b.cache);
}

export class GssCredential implements ProviderCredential {
  /** For keytab and lasting password handles: the TGT in use, renewed on schedule (renewal.ts). */
  renewer?: Renewer<Binding>;

  /**
   * The default credential bound for reuse (MIT): GSS_C_NO_CREDENTIAL makes MIT acquire and select a ccache at every
   * gss_init_sec_context, about 0.1-0.25 ms of a 0.5 ms first leg. A credential acquired once binds to the default
   * ccache and principal at its first use; MIT still reads the cache at each use, so a renewal by kinit is seen.
   * It is dropped when KRB5CCNAME changes and when it stops serving (initializeContext, gssapi-initialize.ts, then retries unbound).
   */
  private bound?: Promise<{ cred: bigint | null }>;
  /** The KRB5CCNAME `bound` was made under. */
  private boundFor?: string;
  /** Bound credentials replaced since: contexts begun with them may still pass them, so they go with the handle. */
  private readonly retired: Array<Promise<{ cred: bigint | null }>> = [];
  private released = false;
  /**
   * Its service tickets in memory (MIT, the krb5 mechanism: our SPNEGO or Kerberos): a first leg whose ticket is
   * there runs on the calling thread. Heimdal and the library's SPNEGO keep every first leg on the pool.
   */
  private readonly local: LocalTickets | undefined;

  constructor(
    readonly source: CredentialSource,
    /** Resolves once: the acquired credential (null = the library's default) or why it failed. */
    readonly acquired: Promise<Acquired | Failure>,
  ) {
    this.local = G.gssapi().flavour === 'mit' && mechFor(source) === G.OIDS.MECH_KRB5 && !source.impersonator ? new LocalTickets() : undefined;
  }

  /**
   * For a first leg to `target` (a principal-form name): the handle's ticket cache when it holds the ticket, retained
   * for the context (give it back with dropTickets); undefined when the leg must go to the pool. The handle's cache
   * now: a renewing handle's TGT in use, our private cache, the ccache named, or the default one. A password handle
   * without logon options has its tickets in a cache of MIT's own, which we cannot name: its legs stay on the pool.
   */
  ticketsFor(target: string, acquired: Acquired, held?: Binding): TicketCache | undefined {
    if (!this.local) return undefined;
    const source = held?.cache ?? acquired.privateCache ?? this.source.ccache ?? (acquired.cred === null ? defaultCcache() : undefined);
    return source === undefined ? undefined : this.local.lease(target, source);
  }

  /** The local first leg with `cache` failed (the ticket was not what MIT looked for): not tried again with it. */
  missedTickets(target: string, cache: TicketCache): void {
    this.local?.missed(target, cache);
  }

  /** A context begun with `cache` is gone. */
  dropTickets(cache: TicketCache): void {
    this.local?.drop(cache);
  }

  /** A first leg ran on the pool: the KDC's ticket, if it gave one, is in the handle's cache (copied at the next leg). */
  ticketsChanged(): void {
    this.local?.changed();
  }

  /** For a default source: a bound credential, or null (GSS_C_NO_CREDENTIAL) where binding is not possible. */
  async defaultCred(mechs: string[]): Promise<bigint | null> {
    if (this.released || G.gssapi().flavour !== 'mit') return null;
    const ccname = process.env.KRB5CCNAME;
    // Single-flight: the binding is decided before any await, so concurrent first legs share one acquisition
    // (each used to start its own and overwrite the last: n concurrent legs leaked n - 1 credentials).
    if (this.bound && this.boundFor !== ccname) this.unbind();
    if (!this.bound) {
      this.boundFor = ccname;
      this.bound = acquireCred(null, mechs).then((r) => ({ cred: isFailure(r) ? null : r.cred }));
    }
    const binding = this.bound;
    const { cred } = await binding;
    // Not bound (the acquisition failed): unbound this time, and the next use tries again.
    if (!cred && this.bound === binding) this.bound = undefined;
    return cred;
  }

  /** Drops the bound default credential: the next use binds again. It is freed with the handle, not before. */
  unbind(): void {
    if (this.bound) this.retired.push(this.bound);
    this.bound = undefined;
  }

  /** The binding a new context uses (a renewing handle), retained for it; or a failure once the TGT has expired. */
  async take(): Promise<Binding | Failure | undefined> {
    if (!this.renewer) return undefined;
    const b = await this.renewer.current();
    if (!isFailure(b)) b.refs++;
    return b;
  }

  /** A context begun with `b` is gone. */
  drop(b: Binding): void {
    if (--b.refs === 0 && b.retired) freeBinding(b);
  }

  /** A renewal replaced `b`: freed now, or by the last context that uses it. */
  retire(b: Binding): void {
    b.retired = true;
    if (b.refs === 0) freeBinding(b);
  }

  release(): void {
    this.released = true;
    this.local?.release();
    // Called once no context of this handle is left (handles.ts counts them), so no native call can still use these.
    for (const b of [...this.retired.splice(0), ...(this.bound ? [this.bound] : [])]) void b.then((x) => x.cred && releaseCred(x.cred));
    this.bound = undefined;
    if (this.renewer) {
      // Every binding but the one in use went with its last context; an attempt still running frees its own result.
      this.retire(this.renewer.stop());
      return;
    }
    void this.acquired.then((r) => {
      if (isFailure(r)) return;
      if (r.cred) releaseCred(r.cred);
      // Our own MEMORY cache (keytab and optioned logons): its tickets and keys go with the handle.
      if (r.privateCache) destroyCcache(r.privateCache);
    });
  }
}

/**
 * SECPKG_ATTR_LIFESPAN of a credential: the TGT's end as GSS reports it, with its start and renew-till where the
 * cache holding it is known (a renewing handle's own, a named cache, the default one) and holds that very TGT.
 */
export function lifespan(credential: GssCredential, acquired: Acquired, expiry: Date, held?: TicketTimes): { expiry: Date; start?: Date; renewTill?: Date } {
  const source = credential.source;
  let times: TicketTimes | undefined = held;
  if (!times && acquired.privateCache) times = tgtTimes(acquired.privateCache);
  // A cache named, or the default one, read as GSS would: not a collection searched for a principal.
  else if (!times && !source.keytab && !source.password && !source.impersonator && !source.principal) times = tgtTimes(source.ccache ?? null);
  // Only when the cache's TGT is the one GSS reports (a collection may hold others).
  if (!times || Math.abs(times.end.getTime() - expiry.getTime()) > 2000) return { expiry };
  const value: { expiry: Date; start?: Date; renewTill?: Date } = { expiry: times.end, start: times.start };
  if (times.renewTill) value.renewTill = times.renewTill;
  return value;
}

let defaultName: { ccname: string | undefined; name: string | undefined } | undefined;

/** The default ccache's name for the KRB5CCNAME of this moment (resolved once per value: it reads krb5.conf). */
function defaultCcache(): string | undefined {
  const ccname = process.env.KRB5CCNAME;
  if (!defaultName || defaultName.ccname !== ccname) defaultName = { ccname, name: defaultCcacheName() };
  return defaultName.name;
}
