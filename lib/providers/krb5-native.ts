// What the GSS-API cannot reach and the krb5 library beside it can. Initial tickets with per-handle options, which
// gss_acquire_cred_with_password cannot take: forwardable, renewable, lifetime. The TGT goes into a ccache of the handle's own (a private MEMORY cache unless the caller
// names one), which the GSS credential then reads through the credential store. Private caches are destroyed when
// the credential is released, so tickets and session keys do not outlive their handle.
import koffi from 'koffi';
import * as G from '../../ffi/gssapi.js';
import { credsLayout, krb5, KRB5_CREDS_BUFFER, type Krb5Functions } from '../../ffi/krb5.js';
import { isFailure, type Failure } from './failure.js';
import { adoptCred, gssFailure, ownFailure } from './gssapi-native.js';
import { checkCString } from '../facade/cstring.js';
import { callAsync } from './pool.js';
import { busy, nextTurn } from './slice.js';
import { GSS_S_FAILURE, GSS_S_UNAVAILABLE, gssError } from '../../ffi/gss-status.js';
import { copyOut } from '../../ffi/memory.js';

export interface LogonOptions {
  forwardable?: boolean;
  /** Renewable for this many seconds. */
  renewable?: number;
  /** Ticket lifetime in seconds. */
  lifetime?: number;
}

export function functions(): Krb5Functions | Failure {
  const { path, flavour } = G.gssapi();
  const k = krb5(path, flavour);
  return k ? k.fn : ownFailure(GSS_S_UNAVAILABLE, `no krb5 library beside ${path}: logon options (forwardable, renewable, lifetime) need one`);
}

/** A krb5 error code is a krb5 minor status: the status table maps it as the GSS library would. */
export function krb5Failure(code: number, what: string): Failure {
  return gssFailure(GSS_S_FAILURE, code, G.OIDS.MECH_KRB5, what, 'acquire');
}

/** A ticket's times (RFC 4120 §5.3, KerberosTime: whole seconds). `renewTill` only for a renewable ticket. */
export interface TicketTimes {
  start: Date;
  end: Date;
  renewTill?: Date;
}

/** The times in a krb5_creds we hold in `creds`. */
function ticketTimes(creds: Buffer): TicketTimes {
  const { times, timeType } = credsLayout(G.gssapi().flavour);
  const size = timeType === 'int64_t' ? 8 : 4;
  const at = (i: number) => Number(timeType === 'int64_t' ? creds.readBigInt64LE(times + i * size) : creds.readInt32LE(times + i * size)) * 1000;
  const [auth, start, end, renew] = [0, 1, 2, 3].map(at);
  const t: TicketTimes = { start: new Date(start || auth), end: new Date(end) };
  if (renew > end) t.renewTill = new Date(renew);
  return t;
}

/** A krb5_principal as text (krb5_unparse_name), or undefined. */
function principalText(fn: Krb5Functions, ctx: bigint | null, principal: bigint | null): string | undefined {
  const name: Array<bigint | null> = [null];
  if (!principal || fn.krb5_unparse_name(ctx, principal, name) || !name[0]) return undefined;
  const text = koffi.decode(name[0], 'char', -1) as string;
  fn.krb5_free_unparsed_name(ctx, name[0]);
  return text;
}

/**
 * The times of the TGT in `ccache` (null: the default cache), as krb5 stored them: krbtgt/REALM@REALM of the
 * cache's own realm, else the first krbtgt. undefined when the cache holds no TGT (or cannot be read).
 */
export function tgtTimes(ccache: string | null): TicketTimes | undefined {
  const fn = functions();
  if (isFailure(fn)) return undefined;
  const ctx: Array<bigint | null> = [null];
  if (fn.krb5_init_context(ctx)) return undefined;
  const cc: Array<bigint | null> = [null];
  const cursor: Array<bigint | null> = [null];
  const creds = Buffer.alloc(KRB5_CREDS_BUFFER);
  const { server } = credsLayout(G.gssapi().flavour);
  let found: TicketTimes | undefined;
  try {
    if ((ccache === null ? fn.krb5_cc_default(ctx[0], cc) : fn.krb5_cc_resolve(ctx[0], ccache, cc)) || !cc[0]) return undefined;
    if (fn.krb5_cc_start_seq_get(ctx[0], cc[0], cursor)) return undefined;
    while (!fn.krb5_cc_next_cred(ctx[0], cc[0], cursor, creds)) {
      const text = principalText(fn, ctx[0], koffi.decode(creds, server, 'void *') as bigint | null) ?? '';
      const tgt = /^krbtgt\/([^@]+)@(.+)$/.exec(text);
      if (tgt) {
        const times = ticketTimes(creds);
        // The cache's own realm's TGT wins over a cross-realm one found first.
        if (!found || tgt[1] === tgt[2]) found = times;
      }
      fn.krb5_free_cred_contents(ctx[0], creds);
      creds.fill(0);
      if (tgt && tgt[1] === tgt[2]) break;
    }
    fn.krb5_cc_end_seq_get(ctx[0], cc[0], cursor);
    return found;
  } finally {
    creds.fill(0);
    if (cc[0]) fn.krb5_cc_close(ctx[0], cc[0]);
    fn.krb5_free_context(ctx[0]);
  }
}

/**
 * Obtains a TGT for `principal` with a password or from a keytab, with `options`, into `ccache`; its times. The
 * keytab is opened afresh each time, so a key rotated on disk (a new kvno) is used by the next logon.
 */
export async function logon(
  principal: string,
  secret: { password?: Buffer; keytab?: string },
  ccache: string,
  options: LogonOptions,
): Promise<Failure | TicketTimes> {
  // Every one of these reaches krb5 as a C string.
  checkCString(principal, 'principal');
  checkCString(ccache, 'ccache');
  if (secret.keytab !== undefined) checkCString(secret.keytab, 'keytab');
  if (secret.password !== undefined) checkCString(secret.password, 'password');
  const fn = functions();
  if (isFailure(fn)) return fn;
  // A krb5 context reads krb5.conf (about 1 ms): twenty logons started together must not do it all in one turn.
  if (busy()) await nextTurn();
  const ctx: Array<bigint | null> = [null];
  let code = fn.krb5_init_context(ctx) as number;
  if (code) return krb5Failure(code, 'krb5_init_context failed');
  const client: Array<bigint | null> = [null];
  const opt: Array<bigint | null> = [null];
  const cc: Array<bigint | null> = [null];
  const kt: Array<bigint | null> = [null];
  const creds = Buffer.alloc(KRB5_CREDS_BUFFER);
  const password = secret.password ? Buffer.concat([secret.password, Buffer.from([0])]) : undefined;
  let got = false;
  try {
    if ((code = fn.krb5_parse_name(ctx[0], principal, client) as number)) return krb5Failure(code, `"${principal}" is not a principal name`);
    if ((code = fn.krb5_get_init_creds_opt_alloc(ctx[0], opt) as number)) return krb5Failure(code, 'krb5_get_init_creds_opt_alloc failed');
    if (options.forwardable !== undefined) fn.krb5_get_init_creds_opt_set_forwardable(opt[0], options.forwardable ? 1 : 0);
    if (options.renewable !== undefined) fn.krb5_get_init_creds_opt_set_renew_life(opt[0], options.renewable);
    if (options.lifetime !== undefined) fn.krb5_get_init_creds_opt_set_tkt_life(opt[0], options.lifetime);
    if ((code = fn.krb5_cc_resolve(ctx[0], ccache, cc) as number)) return krb5Failure(code, 'the ccache name cannot be resolved');
    if (password) {
      code = await callAsync(fn.krb5_get_init_creds_password, ctx[0], creds, client[0], password, null, null, 0, null, opt[0]);
    } else {
      if ((code = fn.krb5_kt_resolve(ctx[0], secret.keytab!, kt) as number)) return krb5Failure(code, 'the keytab name cannot be resolved');
      code = await callAsync(fn.krb5_get_init_creds_keytab, ctx[0], creds, client[0], kt[0], 0, null, opt[0]);
    }
    if (code) return krb5Failure(code, 'the KDC did not issue the initial ticket');
    got = true;
    // As kinit: the cache now holds this principal's TGT and nothing else.
    if ((code = fn.krb5_cc_initialize(ctx[0], cc[0], client[0]) as number)) return krb5Failure(code, 'the ccache cannot be initialized');
    if ((code = fn.krb5_cc_store_cred(ctx[0], cc[0], creds) as number)) return krb5Failure(code, 'the ticket cannot be stored');
    return ticketTimes(creds);
  } finally {
    password?.fill(0);
    if (got) fn.krb5_free_cred_contents(ctx[0], creds);
    creds.fill(0);
    if (kt[0]) fn.krb5_kt_close(ctx[0], kt[0]);
    if (cc[0]) fn.krb5_cc_close(ctx[0], cc[0]);
    if (opt[0]) fn.krb5_get_init_creds_opt_free(ctx[0], opt[0]);
    if (client[0]) fn.krb5_free_principal(ctx[0], client[0]);
    fn.krb5_free_context(ctx[0]);
  }
}

/**
 * Renews the renewable TGT in `from` at the KDC (krb5_get_renewed_creds: RFC 4120 §3.3.3, no password or key) into
 * `to`, a new cache holding the renewed TGT alone; its times. The TGT must still be valid and renewable.
 */
export async function renewTgt(principal: string, from: string, to: string): Promise<Failure | TicketTimes> {
  const fn = functions();
  if (isFailure(fn)) return fn;
  if (!fn.krb5_get_renewed_creds) return ownFailure(GSS_S_UNAVAILABLE, 'the krb5 library has no krb5_get_renewed_creds');
  if (busy()) await nextTurn();
  const ctx: Array<bigint | null> = [null];
  let code = fn.krb5_init_context(ctx) as number;
  if (code) return krb5Failure(code, 'krb5_init_context failed');
  const client: Array<bigint | null> = [null];
  const src: Array<bigint | null> = [null];
  const dst: Array<bigint | null> = [null];
  const creds = Buffer.alloc(KRB5_CREDS_BUFFER);
  let got = false;
  try {
    if ((code = fn.krb5_parse_name(ctx[0], principal, client) as number)) return krb5Failure(code, `"${principal}" is not a principal name`);
    if ((code = fn.krb5_cc_resolve(ctx[0], from, src) as number)) return krb5Failure(code, 'the ccache name cannot be resolved');
    if ((code = fn.krb5_cc_resolve(ctx[0], to, dst) as number)) return krb5Failure(code, 'the ccache name cannot be resolved');
    code = await callAsync(fn.krb5_get_renewed_creds, ctx[0], creds, client[0], src[0], null);
    if (code) return krb5Failure(code, 'the KDC did not renew the ticket');
    got = true;
    if ((code = fn.krb5_cc_initialize(ctx[0], dst[0], client[0]) as number)) return krb5Failure(code, 'the ccache cannot be initialized');
    if ((code = fn.krb5_cc_store_cred(ctx[0], dst[0], creds) as number)) return krb5Failure(code, 'the ticket cannot be stored');
    return ticketTimes(creds);
  } finally {
    if (got) fn.krb5_free_cred_contents(ctx[0], creds);
    creds.fill(0);
    if (dst[0]) fn.krb5_cc_close(ctx[0], dst[0]);
    if (src[0]) fn.krb5_cc_close(ctx[0], src[0]);
    if (client[0]) fn.krb5_free_principal(ctx[0], client[0]);
    fn.krb5_free_context(ctx[0]);
  }
}

/**
 * A GSS credential over a ccache, for libraries without credential stores (Heimdal): gss_krb5_import_cred on a
 * krb5 handle of the cache. Heimdal's import keeps the cache by name, so our handle is closed right after.
 */
export function importCcache(ccache: string): { cred: bigint } | Failure {
  checkCString(ccache, 'ccache');
  const fn = functions();
  if (isFailure(fn)) return fn;
  const gss = G.gssapi().fn;
  if (!gss.gss_krb5_import_cred) return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has neither gss_acquire_cred_from nor gss_krb5_import_cred: ccache and keytab sources need one');
  const ctx: Array<bigint | null> = [null];
  let code = fn.krb5_init_context(ctx) as number;
  if (code) return krb5Failure(code, 'krb5_init_context failed');
  const cc: Array<bigint | null> = [null];
  try {
    if ((code = fn.krb5_cc_resolve(ctx[0], ccache, cc) as number)) return krb5Failure(code, 'the ccache name cannot be resolved');
    // A cache that does not exist or is empty: krb5's own code (KRB5_FCC_NOFILE ...), not the importer's errno.
    const owner: Array<bigint | null> = [null];
    if ((code = fn.krb5_cc_get_principal(ctx[0], cc[0], owner) as number)) {
      // Heimdal answers a missing FILE cache with the bare errno ENOENT (a row of the status table too).
      return krb5Failure(code, 'the ccache holds no credentials');
    }
    fn.krb5_free_principal(ctx[0], owner[0]);
    const minor = [0];
    const out: Array<bigint | null> = [null];
    const major = gss.gss_krb5_import_cred(minor, cc[0], null, null, out) as number;
    if (gssError(major) || !out[0]) return gssFailure(major, minor[0], G.OIDS.MECH_KRB5, 'the ccache cannot be used', 'acquire');
    return { cred: adoptCred(out[0]) };
  } finally {
    if (cc[0]) fn.krb5_cc_close(ctx[0], cc[0]);
    fn.krb5_free_context(ctx[0]);
  }
}

/** Destroys a ccache we created (its tickets and keys leave memory). Best effort: nothing to report to anyone. */
export function destroyCcache(name: string): void {
  const fn = functions();
  if (isFailure(fn)) return;
  const ctx: Array<bigint | null> = [null];
  if (fn.krb5_init_context(ctx)) return;
  const cc: Array<bigint | null> = [null];
  if (!fn.krb5_cc_resolve(ctx[0], name, cc) && cc[0]) fn.krb5_cc_destroy(ctx[0], cc[0]);
  fn.krb5_free_context(ctx[0]);
}

/** Heimdal's krb5_keyblock: { int32 keytype; size_t length; void *data } (heim_octet_string after the int). */
const KEYBLOCK_LENGTH_OFFSET = 8;
const KEYBLOCK_DATA_OFFSET = 16;

/**
 * The context's current key (acceptor subkey, else initiator subkey, else the ticket session key) through Heimdal's
 * gsskrb5_get_subkey: what MIT gives for GSS_C_INQ_SSPI_SESSION_KEY, which Heimdal does not answer.
 */
export function heimdalSubkey(ctx: bigint | null): { sessionKey: Buffer; keyType: number } | Failure {
  const gss = G.gssapi().fn;
  const fn = functions();
  if (isFailure(fn)) return fn;
  if (!gss.gsskrb5_get_subkey || !fn.krb5_free_keyblock) return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library gives no session key');
  const minor = [0];
  const out: Array<bigint | null> = [null];
  const major = gss.gsskrb5_get_subkey(minor, ctx, out) as number;
  if (gssError(major) || !out[0]) return gssFailure(major, minor[0], G.OIDS.MECH_KRB5, 'the mechanism did not give the session key');
  const kctx: Array<bigint | null> = [null];
  try {
    const keyType = koffi.decode(out[0], 'int32_t') as number;
    const length = Number(koffi.decode(out[0], KEYBLOCK_LENGTH_OFFSET, 'size_t'));
    const data = koffi.decode(out[0], KEYBLOCK_DATA_OFFSET, 'void *') as bigint;
    return { sessionKey: copyOut(data, length), keyType };
  } finally {
    if (!fn.krb5_init_context(kctx)) {
      fn.krb5_free_keyblock(kctx[0], out[0]);
      fn.krb5_free_context(kctx[0]);
    }
  }
}

/**
 * The default ccache's name as the libraries resolve it now: KRB5CCNAME, else krb5.conf's default_ccache_name, else
 * the built-in FILE:/tmp/krb5cc_%{uid}, with its tokens expanded. A fresh krb5 context, so the environment of this
 * moment is read (a context keeps the name it first resolved).
 */
export function defaultCcacheName(): string | undefined {
  const fn = functions();
  if (isFailure(fn)) return undefined;
  const ctx: Array<bigint | null> = [null];
  if (fn.krb5_init_context(ctx)) return undefined;
  try {
    return (fn.krb5_cc_default_name(ctx[0]) as string | null) ?? undefined;
  } finally {
    fn.krb5_free_context(ctx[0]);
  }
}

let loopCtx: bigint | null | undefined;

/**
 * A krb5 context kept for the process, for the ccache work done on the event loop before a first leg (a krb5_context
 * is not thread-safe: it is never handed to the pool). Creating one reads krb5.conf, too slow to do per leg.
 */
function loopContext(fn: Krb5Functions): bigint | null {
  if (loopCtx === undefined) {
    const ctx: Array<bigint | null> = [null];
    loopCtx = fn.krb5_init_context(ctx) ? null : ctx[0];
  }
  return loopCtx;
}

/** A TGT, local or cross-realm (RFC 4120 §7.3): with one, a credential can ask a KDC for more tickets. */
const TGT = /^krbtgt\//;
/** krb5's configuration entries stored in a ccache (krb5_ccache_conf_data/...@X-CACHECONF:): not tickets. */
const CONFIG = /@X-CACHECONF:$|^krb5_ccache_conf_data\//;

/**
 * Copies the service tickets of the ccache `from` that end after `validAfter` (ms) into the cache `into(principal)`
 * names, asked for at the first such ticket and initialized then (as kinit does: it holds these and nothing else). Only
 * the tickets of the cache's own principal, neither TGTs nor configuration entries: without a TGT and without a key, a
 * GSS credential over that cache cannot ask a KDC for anything (gssapi-tickets.ts). Gives the server principals
 * copied, with their ends (ms): none, and `into` never asked, when `from` has no such ticket; undefined when `from`
 * names no principal (missing, empty, unreadable) or the copy failed; 'too-many' when `from` holds more than
 * `maxEntries` entries (the read stops there; what was copied is the caller's to discard). Runs on the loop: a MEMORY cache, or a FILE
 * read (local I/O, never the network).
 */
export function copyServiceTickets(from: string, validAfter: number, into: (principal: string) => string, maxEntries = Infinity): Map<string, number> | 'too-many' | undefined {
  const fn = functions();
  if (isFailure(fn)) return undefined;
  const ctx = loopContext(fn);
  if (!ctx) return undefined;
  const { client, server } = credsLayout(G.gssapi().flavour);
  const src: Array<bigint | null> = [null];
  const dst: Array<bigint | null> = [null];
  const owner: Array<bigint | null> = [null];
  const cursor: Array<bigint | null> = [null];
  const creds = Buffer.alloc(KRB5_CREDS_BUFFER);
  try {
    if (fn.krb5_cc_resolve(ctx, from, src) || !src[0]) return undefined;
    if (fn.krb5_cc_get_principal(ctx, src[0], owner) || !owner[0]) return undefined;
    const principal = principalText(fn, ctx, owner[0]);
    if (!principal) return undefined;
    const tickets = new Map<string, number>();
    if (fn.krb5_cc_start_seq_get(ctx, src[0], cursor)) return tickets;
    let failed = false;
    let entries = 0;
    let tooMany = false;
    while (!failed && !fn.krb5_cc_next_cred(ctx, src[0], cursor, creds)) {
      if (++entries > maxEntries) {
        tooMany = true;
        fn.krb5_free_cred_contents(ctx, creds);
        break;
      }
      const to = principalText(fn, ctx, koffi.decode(creds, server, 'void *') as bigint | null);
      const end = ticketTimes(creds).end.getTime();
      if (to && !TGT.test(to) && !CONFIG.test(to) && end > validAfter
        && principalText(fn, ctx, koffi.decode(creds, client, 'void *') as bigint | null) === principal) {
        if (!dst[0]) failed = !!fn.krb5_cc_resolve(ctx, into(principal), dst) || !dst[0] || !!fn.krb5_cc_initialize(ctx, dst[0], owner[0]);
        if (!failed && !fn.krb5_cc_store_cred(ctx, dst[0], creds)) tickets.set(to, Math.max(end, tickets.get(to) ?? 0));
      }
      fn.krb5_free_cred_contents(ctx, creds);
      creds.fill(0);
    }
    fn.krb5_cc_end_seq_get(ctx, src[0], cursor);
    if (tooMany) return 'too-many';
    return failed ? undefined : tickets;
  } finally {
    creds.fill(0);
    if (owner[0]) fn.krb5_free_principal(ctx, owner[0]);
    if (dst[0]) fn.krb5_cc_close(ctx, dst[0]);
    if (src[0]) fn.krb5_cc_close(ctx, src[0]);
  }
}
