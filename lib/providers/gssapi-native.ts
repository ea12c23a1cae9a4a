// Thin, typed wrappers over the GSS-API calls the provider makes: status text, names, credentials, one context.
// Calls that may reach a KDC run on the libuv pool (koffi async); local ones stay synchronous (docs/performance.md:
// a thread hop costs more than the call). A failed call is a Failure (failure.ts) whose status the table decides
// (gssapi-status.ts, failureOf); what the initiator decides around a step (a KRB-ERROR, clock skew) is in
// gssapi-step.ts.
import koffi from 'koffi';
import {
  GSS_C_GSS_CODE,
  GSS_C_INDEFINITE,
  GSS_C_INITIATE,
  GSS_C_MECH_CODE,
  GSS_C_QOP_DEFAULT,
  OIDS,
  gss_key_value_element_desc,
  gss_key_value_set_desc,
  gss_OID_desc,
  gss_OID_set_desc,
  gssapi,
  type GssBuffer,
} from '../../ffi/gssapi.js';
import { copyOut } from '../../ffi/memory.js';
import { gssOid, gssOidSet, readOid } from './gssapi-oid.js';
import type { GssStatusDetail } from '../vocabulary/status.js';
import { GSS_S_CONTINUE_NEEDED, GSS_S_DEFECTIVE_TOKEN, GSS_S_UNAVAILABLE, gssError } from '../../ffi/gss-status.js';
import { isFailure, type Failure } from './failure.js';
import { MINOR_ROWS, failureOf, minorName, type Phase } from './gssapi-status.js';
import { checkCString } from '../facade/cstring.js';
import { callAsync } from './pool.js';
import { busy, nextTurn } from './slice.js';
import type { ChannelBindings } from './provider.js';


function displayStatus(code: number, type: number, mech: string): string {
  const { fn } = gssapi();
  const texts: string[] = [];
  const ctx = [0];
  do {
    const minor = [0];
    const out: GssBuffer = { length: 0, value: null };
    const major = fn.gss_display_status(minor, code >>> 0, type, gssOid(mech), ctx, out);
    if (gssError(major)) break;
    const text = copyOut(out.value as bigint | null, Number(out.length)).toString('utf8');
    fn.gss_release_buffer(minor, out);
    if (text) texts.push(text);
  } while (ctx[0] !== 0 && texts.length < 8);
  // Heimdal pads its texts with a leading space.
  return texts.map((t) => t.trim()).join('; ');
}

/** A failed GSS call: both display texts of its major/minor pair, and the status the table gives them. */
export function gssFailure(major: number, minor: number, mech: string = OIDS.MECH_KRB5, detail?: string, phase: Phase = 'context'): Failure {
  let minorText = minor ? displayStatus(minor, GSS_C_MECH_CODE, mech) : '';
  // Heimdal keeps a minor's text per thread, and our KDC calls run on pool threads: from here it can only say
  // "unknown mech-code". The table's symbolic name is better than that.
  if (minor && (!minorText || /^unknown mech-code/.test(minorText))) minorText = minorName(minor) ?? minorText;
  const gss: GssStatusDetail = {
    major: major >>> 0,
    minor: minor | 0,
    majorText: displayStatus(major, GSS_C_GSS_CODE, mech),
    minorText,
  };
  // MIT's SPNEGO mechanism renumbers the krb5 minor (a per-process code from its mechglue's error map, 100001 ...)
  // but keeps its text: the table reads the krb5 code whose text it is, when exactly one row has that text.
  const known = mech === OIDS.MECH_SPNEGO && minorName(minor) === undefined && minorText ? krb5MinorByText(minorText) : undefined;
  return failureOf(gss, detail, phase, known ?? minor);
}

let krb5Texts: Map<string, number> | undefined;

/** The krb5 minor code of the table whose text (gss_display_status, krb5 mechanism) is `text`; once per process. */
function krb5MinorByText(text: string): number | undefined {
  if (!krb5Texts) {
    const texts = new Map<string, number>();
    const ambiguous = new Set<string>();
    for (const row of MINOR_ROWS) {
      const t = displayStatus(row.minor, GSS_C_MECH_CODE, OIDS.MECH_KRB5);
      if (!t || /^unknown/i.test(t)) continue;
      if (texts.has(t)) ambiguous.add(t);
      else texts.set(t, row.minor);
    }
    for (const t of ambiguous) texts.delete(t);
    krb5Texts = texts;
  }
  return krb5Texts.get(text);
}

/**
 * A failure of our own layers (SPNEGO framing, checks before a call, a missing extension) told as the major a GSS
 * mechanism would return: minor 0, our reason as the minor text and the detail; the table gives the status.
 */
export function ownFailure(major: number, reason: string): Failure {
  return failureOf({ major: major >>> 0, minor: 0, majorText: displayStatus(major, GSS_C_GSS_CODE, OIDS.MECH_KRB5), minorText: reason }, reason);
}

/**
 * A GSS lifetime (whole seconds left, counted from the library's clock during the call) as the ticket's own end
 * time. Kerberos times are whole seconds (RFC 4120, KerberosTime), and the library's "now" lay between `before` (ms,
 * taken before the call) and this moment, so the end time is exact unless the call straddled a second boundary;
 * then it may be a second late. `exact` says which.
 */
export function endTime(seconds: number, before: number): { date: Date; exact: boolean } {
  if (seconds >>> 0 === GSS_C_INDEFINITE) return { date: new Date(8.64e15), exact: true };
  const start = Math.floor(before / 1000);
  const end = Math.floor(Date.now() / 1000);
  return { date: new Date((end + (seconds >>> 0)) * 1000), exact: start === end };
}

/** endTime's date alone, for the callers that cannot ask again. */
export function expiryFromNow(seconds: number, before: number): Date {
  return endTime(seconds, before).date;
}

/** A `gss_name_t` we own. */
export class GssName {
  private ptr: bigint | null;
  private constructor(ptr: bigint) {
    this.ptr = ptr;
  }
  get handle(): bigint | null {
    return this.ptr;
  }

  /** Imports `text` with the given name-type OID. */
  static import(text: string, nameType: string): GssName | Failure {
    // gss_import_name takes a length, but MIT and Heimdal parse a NUL-terminated copy: the text would end at a NUL.
    checkCString(text, 'name');
    const { fn } = gssapi();
    const bytes = Buffer.from(text, 'utf8');
    const minor = [0];
    const out: Array<bigint | null> = [null];
    const major = fn.gss_import_name(minor, { length: bytes.length, value: bytes }, gssOid(nameType), out);
    if (gssError(major) || !out[0]) return gssFailure(major, minor[0], OIDS.MECH_KRB5, `cannot import the name "${text}"`);
    return new GssName(out[0]);
  }

  release(): void {
    if (this.ptr) {
      gssapi().fn.gss_release_name([0], [this.ptr]);
      this.ptr = null;
    }
  }
}

/** Reads a gss_name_t as text (gss_display_name). */
export function displayName(name: bigint | null): string | undefined {
  if (!name) return undefined;
  const { fn } = gssapi();
  const minor = [0];
  const out: GssBuffer = { length: 0, value: null };
  const major = fn.gss_display_name(minor, name, out, [null]);
  if (gssError(major)) return undefined;
  const text = copyOut(out.value as bigint | null, Number(out.length)).toString('utf8');
  fn.gss_release_buffer(minor, out);
  return text;
}

/** The mechanisms the GSS library offers (gss_indicate_mechs), as dotted OIDs. */
export function installedMechs(): string[] {
  const { fn } = gssapi();
  const set: Array<bigint | null> = [null];
  if (gssError(fn.gss_indicate_mechs([0], set)) || !set[0]) return [];
  try {
    const desc = koffi.decode(set[0], gss_OID_set_desc) as { count: number; elements: bigint };
    const size = koffi.sizeof(gss_OID_desc);
    return Array.from({ length: Number(desc.count) }, (_, i) => readOid(desc.elements + BigInt(i * size))).filter((o): o is string => o !== null);
  } finally {
    fn.gss_release_oid_set([0], set);
  }
}

/** A gss_key_value_set in memory we own (strings, elements, set), for gss_acquire_cred_from; free() after the call. */
function credStore(entries: Record<string, string>): { ptr: bigint; free: () => void } {
  const allocations: bigint[] = [];
  const cString = (text: string) => {
    checkCString(text, 'a credential store value');
    const bytes = Buffer.from(`${text}\0`, 'utf8');
    const ptr = koffi.alloc('uint8_t', bytes.length) as bigint;
    koffi.encode(ptr, 'uint8_t', Array.from(bytes), bytes.length);
    allocations.push(ptr);
    return ptr;
  };
  const list = Object.entries(entries);
  const elements = koffi.alloc(gss_key_value_element_desc, list.length) as bigint;
  allocations.push(elements);
  const size = koffi.sizeof(gss_key_value_element_desc);
  list.forEach(([key, value], i) => koffi.encode(elements, i * size, gss_key_value_element_desc, { key: cString(key), value: cString(value) }));
  const set = koffi.alloc(gss_key_value_set_desc, 1) as bigint;
  allocations.push(set);
  koffi.encode(set, gss_key_value_set_desc, { count: list.length, elements });
  return { ptr: set, free: () => allocations.forEach((p) => koffi.free(p)) };
}

export interface AcquiredCred {
  cred: bigint;
  expiry: Date;
}

/**
 * gss_acquire_cred, _with_password or _from (with a credential store: ccache, client_keytab) for `mechs`, on the
 * pool: a password or keytab logon reaches the KDC.
 */
export async function acquireCred(
  name: GssName | null,
  mechs: readonly string[],
  password?: Buffer,
  store?: Record<string, string>,
  usage: number = GSS_C_INITIATE,
): Promise<AcquiredCred | Failure> {
  const { fn } = gssapi();
  const minor = [0];
  const out: Array<bigint | null> = [null];
  const time = [0];
  const before = Date.now();
  let major: number;
  if (store) {
    if (!fn.gss_acquire_cred_from) {
      return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_acquire_cred_from (credential stores: ccache and keytab sources)');
    }
    const set = credStore(store);
    try {
      major = await callAsync(fn.gss_acquire_cred_from, minor, name?.handle ?? null, 0, gssOidSet(mechs), usage, set.ptr, out, null, time);
    } finally {
      set.free();
    }
  } else if (password) {
    if (!fn.gss_acquire_cred_with_password) {
      return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_acquire_cred_with_password');
    }
    checkCString(password, 'password');
    major = await callAsync(fn.gss_acquire_cred_with_password, minor, name?.handle ?? null,
      { length: password.length, value: password }, 0, gssOidSet(mechs), GSS_C_INITIATE, out, null, time);
  } else {
    major = await callAsync(fn.gss_acquire_cred, minor, name?.handle ?? null, 0, gssOidSet(mechs), usage, out, null, time);
  }
  if (gssError(major) || !out[0]) return gssFailure(major, minor[0], OIDS.MECH_KRB5, undefined, 'acquire');
  return { cred: adoptCred(out[0]), expiry: expiryFromNow(time[0], before) };
}

/**
 * gss_acquire_cred_from over a credential store on this thread, for the caches of service tickets alone that
 * gssapi-tickets.ts makes: no TGT, no key, no password, and every ticket valid past MIT's 30-second refresh window, so
 * the library reads that MEMORY cache and nothing else (scan_ccache, MIT's acquire_cred.c). Never for a cache that
 * could be empty or hold a TGT: the library may then try the client keytab, which reaches a KDC.
 */
export function acquireCredHere(mechs: readonly string[], store: Record<string, string>): AcquiredCred | Failure {
  const { fn } = gssapi();
  if (!fn.gss_acquire_cred_from) return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_acquire_cred_from');
  const minor = [0];
  const out: Array<bigint | null> = [null];
  const time = [0];
  const before = Date.now();
  const set = credStore(store);
  let major: number;
  try {
    major = fn.gss_acquire_cred_from(minor, null, 0, gssOidSet(mechs), GSS_C_INITIATE, set.ptr, out, null, time) as number;
  } finally {
    set.free();
  }
  if (gssError(major) || !out[0]) return gssFailure(major, minor[0], OIDS.MECH_KRB5, undefined, 'acquire');
  return { cred: adoptCred(out[0]), expiry: expiryFromNow(time[0], before) };
}

/** S4U2Self: a credential for `name` obtained by the service whose credential is `impersonator` (on the pool). */
export async function impersonate(impersonator: bigint, name: GssName, mechs: readonly string[]): Promise<AcquiredCred | Failure> {
  const { fn } = gssapi();
  if (!fn.gss_acquire_cred_impersonate_name) {
    return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_acquire_cred_impersonate_name (S4U)');
  }
  const minor = [0];
  const out: Array<bigint | null> = [null];
  const time = [0];
  const before = Date.now();
  const major = await callAsync(fn.gss_acquire_cred_impersonate_name, minor, impersonator, name.handle, 0, gssOidSet(mechs), GSS_C_INITIATE, out, null, time);
  if (gssError(major) || !out[0]) return gssFailure(major, minor[0], OIDS.MECH_KRB5, 'the KDC did not let the service act for this user (S4U2Self)', 'acquire');
  return { cred: adoptCred(out[0]), expiry: expiryFromNow(time[0], before) };
}

/** Restricts what the library's SPNEGO offers with this credential (gss_set_neg_mechs): how NTLM is refused. */
export function setNegMechs(cred: bigint, mechs: readonly string[]): Failure | undefined {
  const { fn } = gssapi();
  if (!fn.gss_set_neg_mechs) {
    return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_set_neg_mechs: its SPNEGO cannot be kept from NTLM');
  }
  const minor = [0];
  const major = fn.gss_set_neg_mechs(minor, cred, gssOidSet(mechs)) as number;
  return gssError(major) ? gssFailure(major, minor[0], OIDS.MECH_SPNEGO, 'SPNEGO refused the mechanism list') : undefined;
}

/** gss_inquire_cred (name and remaining lifetime), on the pool: it may read a ccache; null asks about the default. */
export async function inquireCred(cred: bigint | null): Promise<{ name?: string; expiry: Date } | Failure> {
  const { fn } = gssapi();
  const minor = [0];
  const name: Array<bigint | null> = [null];
  const lifetime = [0];
  const before = Date.now();
  const major = await callAsync(fn.gss_inquire_cred, minor, cred, name, lifetime, [0], null);
  if (gssError(major)) return gssFailure(major, minor[0], OIDS.MECH_KRB5, 'the credential cannot be read');
  const text = displayName(name[0]);
  if (name[0]) fn.gss_release_name([0], name);
  if (cred === null && text === undefined) {
    // Heimdal does not name the default credential: ask about an explicit one, obtained for the moment.
    const explicit = await acquireCred(null, [OIDS.MECH_KRB5]);
    if (isFailure(explicit)) return explicit;
    try {
      return await inquireCred(explicit.cred);
    } finally {
      releaseCred(explicit.cred!);
    }
  }
  return { name: text, expiry: expiryFromNow(lifetime[0], before) };
}

/** gss_cred_id_t handles acquired and not yet released: a leak check for tests and diagnostics. */
let liveCreds = 0;
export function liveGssCredentials(): number {
  return liveCreds;
}

/** Counts a credential the library handed us; every one goes back through releaseCred. */
export function adoptCred(cred: bigint): bigint {
  liveCreds++;
  return cred;
}

export function releaseCred(cred: bigint): void {
  liveCreds--;
  gssapi().fn.gss_release_cred([0], [cred]);
}

export interface StepResult {
  complete: boolean;
  token: Buffer;
  flags: number;
  expiry: Date;
  mech: string | null;
}

/** One GSS security context (gss_ctx_id_t) of one mechanism, initiator side. */
export class GssContext {
  protected ctx: bigint | null = null;
  /**
   * Wrap sizes (header, trailer, padding) by layout and QOP, where they do not depend on the data's length (RFC 4121
   * with a CTS cipher): EncryptMessage then makes one native call, not two.
   */
  readonly wrapSizes = new Map<string, number[] | null>();

  constructor(
    readonly mech: string,
    private readonly cred: bigint | null,
    private readonly target: GssName,
    /** The GSS request flags (gss_init_sec_context's req_flags). */
    readonly flags: number,
    /** The channel bindings sent with the first call, if any. */
    readonly bindings?: ChannelBindings,
    /**
     * The first call runs on this thread: `cred` holds service tickets alone and cannot reach a KDC
     * (gssapi-tickets.ts). Otherwise it runs on the pool.
     */
    readonly firstCallLocal = false,
  ) {}

  /** The gss_ctx_id_t, for the synchronous per-message and inquiry calls. */
  get handle(): bigint | null {
    return this.ctx;
  }

  /**
   * One gss_init_sec_context call, on the pool (the first one usually fetches a service ticket from the KDC), or on
   * this thread when `how.local` says the call is local work. `how.detail` gives the detail a failure carries. The
   * initiator's checks and decisions around the call are gssapi-step.ts's.
   */
  async step(input?: Buffer, how: { local?: boolean; detail?: () => string | undefined } = {}): Promise<StepResult | Failure> {
    if (input && input.length === 0) return emptyToken();
    const { fn } = gssapi();
    const minor = [0];
    const ctx = [this.ctx];
    const actualMech: Array<bigint | null> = [null];
    const out: GssBuffer = { length: 0, value: null };
    const retFlags = [0];
    const time = [0];
    const cb = gssBindings(this.bindings);
    const args = [minor, this.cred, ctx, this.target.handle, gssOid(this.mech), this.flags, 0, cb ?? null,
      input ? { length: input.length, value: input } : null, actualMech, out, retFlags, time];
    let major: number;
    const before = Date.now();
    if (how.local) {
      if (busy()) await nextTurn();
      major = fn.gss_init_sec_context(...args) as number;
    } else major = await callAsync(fn.gss_init_sec_context, ...args);
    this.ctx = ctx[0] ?? null;
    const token = copyOut(out.value as bigint | null, Number(out.length));
    if (out.value) fn.gss_release_buffer([0], out);
    if (gssError(major)) return gssFailure(major, minor[0], this.mech, how.detail?.());
    return {
      complete: (major & GSS_S_CONTINUE_NEEDED) === 0,
      token,
      flags: retFlags[0] >>> 0,
      expiry: this.endTime(time[0], before),
      mech: readOid(actualMech[0]),
    };
  }

  /**
   * When the context expires. A pool call's bracket is wide (queueing, slicing): where it straddled a second, the
   * context is asked again here (gss_inquire_context is local and takes microseconds).
   */
  private endTime(seconds: number, before: number): Date {
    const first = endTime(seconds, before);
    if (first.exact || !this.ctx) return first.date;
    const lifetime = [0];
    const again = Date.now();
    const major = gssapi().fn.gss_inquire_context([0], this.ctx, null, null, lifetime, null, null, null, null) as number;
    return gssError(major) ? first.date : endTime(lifetime[0], again).date;
  }

  /** gss_get_mic over `message`. */
  getMic(message: Buffer): Buffer | Failure {
    const { fn } = gssapi();
    const minor = [0];
    const out: GssBuffer = { length: 0, value: null };
    const major = fn.gss_get_mic(minor, this.ctx, GSS_C_QOP_DEFAULT, { length: message.length, value: message }, out);
    if (gssError(major)) return gssFailure(major, minor[0], this.mech);
    const mic = copyOut(out.value as bigint | null, Number(out.length));
    fn.gss_release_buffer([0], out);
    return mic;
  }

  /** gss_unwrap of a whole token: the plaintext (a copy) and whether it was encrypted. */
  /** gss_unwrap; the plaintext goes into `into` when given (it must be large enough: a wrap token always is). */
  unwrap(token: Buffer, into?: Uint8Array): { data: Uint8Array; encrypted: boolean } | Failure {
    if (token.length === 0) return emptyToken();
    const { fn } = gssapi();
    const minor = [0];
    const out: GssBuffer = { length: 0, value: null };
    const conf = [0];
    const major = fn.gss_unwrap(minor, this.ctx, { length: token.length, value: token }, out, conf, [0]);
    if (major !== 0) {
      if (out.value) fn.gss_release_buffer([0], out);
      return gssFailure(major, minor[0], this.mech);
    }
    const length = Number(out.length);
    let data: Uint8Array;
    if (into && length <= into.byteLength) {
      if (length && fn.memcpy) fn.memcpy(into, out.value, length);
      else if (length) into.set(copyOut(out.value as bigint, length));
      data = into.subarray(0, length);
    } else data = copyOut(out.value as bigint | null, length);
    if (out.value) fn.gss_release_buffer([0], out);
    return { data, encrypted: conf[0] !== 0 };
  }

  /** gss_verify_mic; undefined when the MIC is good. */
  verifyMic(message: Buffer, mic: Buffer): Failure | undefined {
    if (mic.length === 0) return emptyToken();
    const { fn } = gssapi();
    const minor = [0];
    const major = fn.gss_verify_mic(minor, this.ctx, { length: message.length, value: message }, { length: mic.length, value: mic }, [0]);
    return major === 0 ? undefined : gssFailure(major, minor[0], this.mech);
  }

  release(): void {
    if (this.ctx) {
      gssapi().fn.gss_delete_sec_context([0], [this.ctx], null);
      this.ctx = null;
    }
  }
}

/** A peer's empty token is a defective token (GSS would see a NULL buffer: a calling error, our bug, not theirs). */
export function emptyToken(): Failure {
  return ownFailure(GSS_S_DEFECTIVE_TOKEN, 'the token is empty');
}

/** Channel bindings as the gss_channel_bindings_struct both gss_init_sec_context and gss_accept_sec_context take. */
export function gssBindings(cb: ChannelBindings | undefined) {
  return cb && {
    initiator_addrtype: cb.initiatorAddrType,
    initiator_address: { length: cb.initiatorAddress.length, value: cb.initiatorAddress },
    acceptor_addrtype: cb.acceptorAddrType,
    acceptor_address: { length: cb.acceptorAddress.length, value: cb.acceptorAddress },
    application_data: { length: cb.applicationData.length, value: cb.applicationData },
  };
}
