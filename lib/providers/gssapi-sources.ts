// Where an outbound credential comes from, and how it is obtained: the credential-source strategy of the GSS
// provider (ccache, keytab, password, logon options, S4U2Self, the default credential) and a renewing handle's next
// TGT. The credential object itself, with its default-credential binding, is gssapi-credential.ts.
import * as G from '../../ffi/gssapi.js';
import { GSS_S_CREDENTIALS_EXPIRED, GSS_S_NO_CRED, GSS_S_UNAVAILABLE, KRB5_ERROR_BASE } from '../../ffi/gss-status.js';
import { checkCString } from '../facade/cstring.js';
import { isFailure, type Failure } from './failure.js';
import type { Binding, GssCredential } from './gssapi-credential.js';
import { GssName, acquireCred, gssFailure, impersonate, inquireCred, ownFailure, releaseCred } from './gssapi-native.js';
import { mechsFor, refusesNtlm, restrictToKerberos } from './gssapi-ntlm.js';
import { destroyCcache, importCcache, logon, renewTgt, tgtTimes, type TicketTimes } from './krb5-native.js';
import { KRB_AP_ERR_TKT_EXPIRED } from '../protocol/krb5-token.js';
import type { CredentialSource } from './provider.js';
import { EXPIRY_MARGIN_MS, type RenewalEvent } from './renewal.js';

let memoryCaches = 0;

/**
 * Sources chosen per handle go through MIT's credential store, never process.env or per-thread globals, so handles
 * with different sources work side by side. A keytab logon keeps its tickets in a private MEMORY cache unless a
 * ccache is named, so the default cache is never written.
 */
export function privateCache(): string {
  return `MEMORY:kerberos-negotiate-${process.pid}-${++memoryCaches}`;
}

/** How many private cache names have been given out (the highest number in use): for tests that count the caches. */
export function privateCachesNamed(): number {
  return memoryCaches;
}

function credentialStore(source: CredentialSource, cache?: string): Record<string, string> | undefined {
  if (source.keytab) return { client_keytab: source.keytab, ccache: source.ccache ?? cache! };
  return source.ccache ? { ccache: source.ccache } : undefined;
}

/** What an acquisition gives: the credential (null: the library's default), its end, our private cache. */
export type Acquired = { cred: bigint | null; expiry?: Date; privateCache?: string };

/** A credential imported from a ccache, checked to be `principal`'s when one is named (as a cred store would). */
async function imported(ccache: string, principal?: string): Promise<Acquired | Failure> {
  const got = importCcache(ccache);
  if (isFailure(got)) return got;
  const info = await inquireCred(got.cred);
  if (isFailure(info) || (principal && info.name !== principal && info.name?.split('@')[0] !== principal)) {
    releaseCred(got.cred);
    return isFailure(info) ? info : ownFailure(GSS_S_NO_CRED, `the ccache holds ${info.name ?? 'no principal'}, not ${principal}`);
  }
  if (info.expiry.getTime() <= Date.now()) {
    // As MIT reports it (GSS_S_CREDENTIALS_EXPIRED, KRB5KRB_AP_ERR_TKT_EXPIRED), where Heimdal only finds no ticket.
    releaseCred(got.cred);
    return gssFailure(GSS_S_CREDENTIALS_EXPIRED, KRB5_ERROR_BASE + KRB_AP_ERR_TKT_EXPIRED, G.OIDS.MECH_KRB5, 'the tickets in this ccache have expired', 'acquire');
  }
  return { cred: got.cred, expiry: info.expiry };
}

/**
 * A credential for a source (impersonation aside). With a credential store (MIT): gss_acquire_cred_from, or
 * _with_password. Otherwise (Heimdal) caches are imported (gss_krb5_import_cred) and keytabs logged on. Logons with
 * options, or into a named cache, are krb5's own (krb5-native.ts), then GSS reads that cache.
 */
async function obtain(source: CredentialSource, name: GssName | null, mechs: string[], cache?: string): Promise<Acquired | Failure> {
  const stores = G.gssapi().fn.gss_acquire_cred_from !== undefined;
  if (source.logon || (source.password && source.ccache) || (source.keytab && !stores)) {
    if (!source.principal) return ownFailure(GSS_S_UNAVAILABLE, 'a keytab source without a principal needs gss_acquire_cred_from');
    const target = (source.ccache ?? cache)!;
    const failed = await logon(source.principal, { password: source.password, keytab: source.keytab }, target, source.logon ?? {});
    if (isFailure(failed)) return failed;
    return stores ? acquireCred(name, mechs, undefined, { ccache: target }) : imported(target, source.principal);
  }
  if (source.ccache && !stores) return imported(source.ccache, source.principal);
  return acquireCred(name, mechs, source.password, credentialStore(source, cache));
}

/**
 * The credential for a source, acquired once at AcquireCredentialsHandle (and again by a renewal's logon): a password
 * callback asked, the default credential left to the library, a service acting for a user (S4U2Self), or obtain().
 */
export async function acquire(source: CredentialSource): Promise<Acquired | Failure> {
  if (source.passwordCallback && !source.password) {
    // Asked for at each logon, copied, and the caller's bytes zeroed at once; ours are zeroed after the logon.
    let given: Uint8Array;
    try {
      given = await source.passwordCallback();
      if (!(given instanceof Uint8Array)) throw new TypeError('not a Uint8Array');
    } catch {
      return ownFailure(GSS_S_NO_CRED, 'the password callback did not give a Uint8Array');
    }
    const password = Buffer.from(given);
    given.fill(0);
    return acquire({ ...source, password });
  }
  // The default credential: let the library pick the ccache at each use (it may be renewed by kinit meanwhile).
  // The system SPNEGO kept from NTLM needs a credential of its own to carry that restriction.
  if (!source.principal && !source.password && !source.ccache && !source.keytab && !source.impersonator && !refusesNtlm(source)) return { cred: null };
  let name: GssName | null = null;
  try {
    // Before any native call (the name import below is one): the password reaches GSS or krb5 as a C string.
    if (source.password) checkCString(source.password, 'password');
    if (source.principal) {
      const imported = GssName.import(source.principal, G.OIDS.KRB5_NT_PRINCIPAL_NAME);
      if (isFailure(imported)) return imported;
      name = imported;
    }
    const mechs = mechsFor(source);
    if (source.impersonator && name) {
      const impersonator = source.impersonator as GssCredential;
      const service = await impersonator.acquired;
      if (isFailure(service)) return service;
      // A renewing service: its TGT in use, kept alive for the S4U call.
      const held = await impersonator.take();
      if (held && isFailure(held)) return held;
      try {
        const cred = held?.cred ?? service.cred;
        if (!cred) return ownFailure(GSS_S_NO_CRED, 'the impersonating service needs an explicit credential (a keytab or ccache source)');
        return await impersonate(cred, name, mechs);
      } finally {
        if (held) impersonator.drop(held);
      }
    }
    // A private cache when we put tickets somewhere the caller did not name: keytab logons, optioned logons.
    const cache = source.ccache ? undefined : source.keytab || source.logon ? privateCache() : undefined;
    let got = await obtain(source, name, mechs, cache);
    if (isFailure(got)) {
      if (cache) destroyCcache(cache);
      return got;
    }
    if (cache) got = { ...got, privateCache: cache };
    const refused = restrictToKerberos(source, got.cred);
    if (refused && cache) destroyCcache(cache);
    return refused ?? got;
  } finally {
    name?.release();
    // The password is not kept past the acquisition.
    source.password?.fill(0);
  }
}

/** A GSS credential over a cache of ours that holds a TGT (after a KDC renewal), as acquire() makes one. */
async function credOver(source: CredentialSource, cache: string): Promise<Acquired | Failure> {
  const mechs = mechsFor(source);
  const stores = G.gssapi().fn.gss_acquire_cred_from !== undefined;
  const got = stores ? await acquireCred(null, mechs, undefined, { ccache: cache }) : await imported(cache, source.principal);
  if (isFailure(got)) return got;
  return restrictToKerberos(source, got.cred) ?? got;
}

/**
 * The next TGT of a renewing handle, into a new private cache: from the keytab (read afresh: a rotated key is
 * used); by the KDC's renewal of a renewable TGT; or, past its renew-till, by a logon with the callback's password.
 */
export async function nextTgt(source: CredentialSource, previous: Binding): Promise<Binding | Failure> {
  const method = nextMethod(source, previous.times);
  if (method === 'renew') {
    const cache = privateCache();
    const renewed = await renewTgt(source.principal!, previous.cache, cache);
    const got = isFailure(renewed) ? renewed : await credOver(source, cache);
    if (!isFailure(got) && !isFailure(renewed)) return { cred: got.cred!, cache, times: renewed, method, refs: 0, retired: false };
    destroyCcache(cache);
    return isFailure(renewed) ? renewed : (got as Failure);
  }
  if (!method) {
    return ownFailure(GSS_S_CREDENTIALS_EXPIRED,
      'the TGT cannot be renewed (not renewable, or past its renew-till time) and no password callback was given');
  }
  const got = await acquire(source);
  if (isFailure(got)) return got;
  const times = tgtTimes(got.privateCache!) ?? { start: new Date(), end: got.expiry ?? new Date() };
  return { cred: got.cred!, cache: got.privateCache!, times, method, refs: 0, retired: false };
}

/**
 * Whether a handle renews its own TGT (renewal.ts): a keytab logon into a cache of its own; a password logon into
 * one, when its TGT is renewable or a password callback can log on again.
 */
export function renews(source: CredentialSource, times: TicketTimes): boolean {
  if (source.ccache || source.impersonator) return false;
  if (source.keytab) return true;
  return !!source.passwordCallback || (!!source.password && !!times.renewTill);
}

/**
 * How a renewing handle gets its next TGT: from its keytab, by renewing the one it has, or by a password logon;
 * undefined when none is left (past renew-till, no callback).
 */
export function nextMethod(source: CredentialSource, times: TicketTimes): RenewalEvent['method'] | undefined {
  if (source.keytab) return 'keytab';
  // A KDC renewal needs a valid TGT that it can extend (RFC 4120 §3.3.3: renewal ends at renew-till).
  const now = Date.now();
  if (times.renewTill && times.renewTill.getTime() > times.end.getTime() && times.end.getTime() > now + EXPIRY_MARGIN_MS) return 'renew';
  return source.passwordCallback ? 'password' : undefined;
}
