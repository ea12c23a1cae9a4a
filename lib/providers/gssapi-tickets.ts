// A credential handle's service tickets in memory, and the first leg on the event loop they allow (MIT only).
//
// MIT reads, and locks, a FILE ccache at every gss_init_sec_context, and a first leg ran on the libuv pool because it
// might reach a KDC. Here, in the spirit of Windows' LSA, each handle keeps a copy of its service tickets in a MEMORY
// cache of its own that only it writes, with a GSS credential over it. That cache holds service tickets alone: no TGT
// (local or cross-realm), no key, no password. Whatever MIT looks for with such a credential, it cannot ask a KDC:
// a TGS request needs a TGT's session key, an AS request a key or a password (krb5_get_credentials reports
// KRB5_CC_NOTFOUND on a miss: MIT's get_creds.c, begin_get_tgt). So a first leg whose ticket is in that cache runs on
// the calling thread, and a miss only fails: the leg then goes to the pool with the handle's own credential, as before.
//
// The copy follows the handle's cache (`source`): refilled when a FILE cache changes (a stat before each leg: an
// external kinit, kdestroy, k5start or sssd renewal is seen), after each first leg that went to the pool (the KDC's new
// ticket lands in the handle's own cache; MIT writes it there, and to the FILE where that is the cache, as before),
// and when a renewal puts the handle on a new TGT's cache. Its tickets are never written back anywhere.
import { statSync, type BigIntStats } from 'node:fs';
import * as G from '../../ffi/gssapi.js';
import { isFailure } from './failure.js';
import { acquireCredHere, releaseCred } from './gssapi-native.js';
import { privateCache } from './gssapi-sources.js';
import { copyServiceTickets, destroyCcache } from './krb5-native.js';

/**
 * What a copied ticket must have left: past MIT's 30-second refresh window (kg_cred_time_to_refresh, MIT's
 * acquire_cred.c), so that acquiring a credential over the cache never tries the client keytab.
 */
const COPY_MARGIN_MS = 35_000;
/**
 * The largest FILE cache copied on the loop. The copy reads every entry (about 75 us a ticket here: 1,000 tickets,
 * 0.6 MB, held the loop 74 ms; 20,000 held it 1.2 s) and runs again at each change, so a cache past this size keeps
 * its first legs on the pool, as before the copy. 32 KiB: a few dozen tickets, a few ms at most.
 */
const MAX_COPIED_BYTES = 32 * 1024;
/**
 * The most entries read from a cache on the loop, whatever its type: MAX_COPIED_BYTES bounds a FILE by its size, this
 * bounds our own MEMORY caches too (a keytab handle that talks to many services: each pool leg adds a ticket, and
 * each refill reads them all). 64 entries: about 5 ms at the rate above. A bigger cache keeps its legs on the pool
 * until it changes (a renewal's new cache, a FILE rewritten).
 */
const MAX_COPIED_ENTRIES = 64;
/** What a ticket must have left for a leg on the loop (MIT only wants it unexpired; ticket times are whole seconds). */
const LEASE_MARGIN_MS = 5_000;

let tried = 0;
let missedLegs = 0;

/** First legs tried on the loop, and those of them that missed (and ran on the pool): for tests and diagnostics. */
export function localFirstLegs(): { tried: number; missed: number } {
  return { tried, missed: missedLegs };
}

/** One MEMORY cache of service tickets for one principal, the GSS credential over it, and the contexts using it. */
export interface TicketCache {
  name: string;
  principal: string;
  /** null until the cache holds a ticket (a credential is never acquired over an empty cache). */
  cred: bigint | null;
  /** Server principal -> the ticket's end (ms). */
  tickets: Map<string, number>;
  refs: number;
  retired: boolean;
}

function free(cache: TicketCache): void {
  if (cache.cred) releaseCred(cache.cred);
  cache.cred = null;
  destroyCcache(cache.name);
}

/** Caches whose changes a stat shows: FILE (also the default type: a name without one). */
function filePath(ccache: string): string | undefined {
  const typed = /^([A-Za-z][A-Za-z0-9_-]+):(.*)$/s.exec(ccache);
  if (!typed) return ccache;
  return typed[1].toUpperCase() === 'FILE' ? typed[2] : undefined;
}

/** Our own MEMORY caches (keytab and optioned logons, renewals): only we write them, and we know when. */
function ours(ccache: string): boolean {
  return ccache.startsWith(`MEMORY:kerberos-negotiate-${process.pid}-`);
}

/**
 * What the source looks like now: a FILE's identity and change times (a missing file included), our MEMORY cache by
 * name; undefined for the caches this does not follow (KCM, KEYRING, DIR, API, MEMORY caches of others, a FILE name
 * that is no regular file): their first legs stay on the pool.
 */
function fingerprint(source: string): string | undefined {
  if (ours(source)) return source;
  const path = filePath(source);
  if (path === undefined || path === '') return undefined;
  let st: BigIntStats | undefined;
  try {
    st = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    // ENOTDIR, ELOOP, ENAMETOOLONG, EACCES ...: nothing to follow here; the pool leg gives MIT's own answer.
    return undefined;
  }
  if (!st) return `${source}|missing`;
  // Only a regular file is read on the loop: opening a FIFO with no writer blocks until one comes (open(2)), and a
  // directory, a device or a socket is no cache to copy; nor a big one (MAX_COPIED_BYTES). Their legs go to the pool.
  if (!st.isFile() || st.size > MAX_COPIED_BYTES) return undefined;
  return `${source}|${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The server principal a principal-form target names (`svc/host`: the default realm; `svc/host@REALM`). */
function lookup(tickets: Map<string, number>, target: string): number | undefined {
  if (target.includes('@')) return tickets.get(target);
  // No realm: the library's default one. Any realm matches here; a ticket of another realm only makes the local
  // attempt miss (the pool leg follows, and the miss is remembered).
  let end: number | undefined;
  for (const [server, until] of tickets) if (server.startsWith(`${target}@`) && (end === undefined || until > end)) end = until;
  return end;
}

/** The most targets whose local miss is remembered (a peer never chooses them: the caller does). */
const MISSES_MAX = 256;

export class LocalTickets {
  private current?: TicketCache;
  /** The source's fingerprint at the last fill. */
  private seen?: string;
  /** A first leg went to the pool since the last fill: the handle's cache may hold a new ticket. */
  private stale = true;
  /** Targets whose local attempt missed, with the end of the ticket it was made with: not tried again with it. */
  private readonly misses = new Map<string, number>();
  private released = false;
  /** The fingerprint of a source found to hold more than MAX_COPIED_ENTRIES: not read again until it changes. */
  private tooBig?: string;

  /**
   * The ticket cache for a first leg to `target` (a principal-form name) when it holds a ticket for it that is
   * valid for a while yet, retained for the context; undefined otherwise (the leg goes to the pool). `source` is the
   * handle's own cache now. The refill, when the source changed, runs here, on the loop.
   */
  lease(target: string, source: string): TicketCache | undefined {
    if (this.released) return undefined;
    const seen = fingerprint(source);
    if (seen === undefined || seen === this.tooBig) return undefined;
    if (this.stale || seen !== this.seen) this.refill(source, seen);
    const cache = this.current;
    if (!cache?.cred) return undefined;
    const end = lookup(cache.tickets, target);
    if (end === undefined || end - Date.now() < LEASE_MARGIN_MS || this.misses.get(target) === end) return undefined;
    cache.refs++;
    tried++;
    return cache;
  }

  /** The local first leg to `target` with `cache` failed: the same ticket is not tried again. */
  missed(target: string, cache: TicketCache): void {
    missedLegs++;
    const end = lookup(cache.tickets, target);
    if (end === undefined) return;
    if (this.misses.size >= MISSES_MAX) this.misses.clear();
    this.misses.set(target, end);
  }

  /** A context begun with `cache` is gone. */
  drop(cache: TicketCache): void {
    if (--cache.refs === 0 && cache.retired) free(cache);
  }

  /** A first leg went to the pool: a ticket the KDC gave is in the handle's cache, copied at the next leg. */
  changed(): void {
    this.stale = true;
  }

  /** The handle is freed: its ticket cache goes now, or with the last context that uses it. */
  release(): void {
    this.released = true;
    this.retire();
  }

  private retire(): void {
    const cache = this.current;
    this.current = undefined;
    if (!cache) return;
    cache.retired = true;
    if (cache.refs === 0) free(cache);
  }

  /**
   * Copies the source's service tickets into the handle's cache: in place for the same principal (the credential
   * over it stays valid), into a new cache for another one (kinit as someone else; the old one is retired). A source
   * with no ticket to copy (none yet, kdestroy, a missing file) leaves no cache: one is made for the first ticket.
   */
  private refill(source: string, seen: string): void {
    // The fingerprint is taken before the read: a change during it shows at the next leg.
    this.seen = seen;
    this.stale = false;
    let fresh: TicketCache | undefined;
    const copied = copyServiceTickets(source, Date.now() + COPY_MARGIN_MS, (principal) => {
      if (this.current?.principal === principal) return this.current.name;
      fresh = { name: privateCache(), principal, cred: null, tickets: new Map(), refs: 0, retired: false };
      return fresh.name;
    }, MAX_COPIED_ENTRIES);
    if (copied === 'too-many') this.tooBig = seen;
    if (copied === 'too-many' || !copied?.size) {
      if (fresh) destroyCcache(fresh.name);
      this.retire();
      return;
    }
    if (fresh) {
      this.retire();
      this.current = fresh;
    }
    const cache = this.current!;
    cache.tickets = copied;
    if (!cache.cred) {
      const got = acquireCredHere([G.OIDS.MECH_KRB5], { ccache: cache.name });
      if (!isFailure(got)) cache.cred = got.cred;
    }
  }
}
