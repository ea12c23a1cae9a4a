// The GSS-API backend (MIT, Heimdal, Apple): the adapter from SSPI terms to GSS calls. Flags, names, credentials
// and statuses are translated here; the status table is data in gssapi-status.ts, the SPNEGO framing in
// spnego-initiator.ts.
import * as G from '../../ffi/gssapi.js';
import {
  GSS_S_BAD_MECH,
  GSS_S_BAD_NAME,
  GSS_S_CONTEXT_EXPIRED,
  GSS_S_CREDENTIALS_EXPIRED,
  GSS_S_NO_CRED,
  GSS_S_UNAVAILABLE,
  KRB5_ERROR_BASE,
} from '../../ffi/gss-status.js';
import * as F from '../sspi/flags.js';
import * as S from '../sspi/status.js';
import {
  GssContext,
  GssName,
  acquireCred,
  impersonate,
  inquireCred,
  installedMechs,
  gssFailure,
  ownFailure,
  releaseCred,
  setNegMechs,
  type StepResult,
} from './gssapi-native.js';
import { isFailure, outcomeOf, withStatus, type Failure } from './failure.js';
import { initiatorStep } from './gssapi-step.js';
import {
  SECPKG_ATTR_LIFESPAN,
  SECPKG_ATTR_NEGOTIATION_INFO,
  SECPKG_ATTR_PACKAGE_INFO,
  SECPKG_CRED_ATTR_NAMES,
  type SecPkgInfo,
} from '../sspi/attributes.js';
import { packageInfo, queryAttribute } from './gssapi-attributes.js';
import { decrypt, encrypt, sign, verify } from './gssapi-message.js';
import type {
  AcquireOutcome,
  AttributeOutcome,
  MessageBuffer,
  MessageOutcome,
  PackageName,
  CredentialSource,
  InitializeOutcome,
  InitializeRequest,
  Provider,
  ProviderContext,
  ProviderCredential,
} from './provider.js';
import { SpnegoInitiator, type SpnegoStep } from './spnego-initiator.js';
import { decodeNegToken } from '../spnego/tokens.js';
import { destroyCcache, importCcache, logon, renewTgt, tgtTimes, type TicketTimes } from './krb5-native.js';
import { EXPIRY_MARGIN_MS, Renewer, type Renewable, type RenewalEvent } from './renewal.js';
import { checkCString } from '../cstring.js';
import { KRB_AP_ERR_TKT_EXPIRED } from './krb5-token.js';

/** ISC_REQ_* -> GSS request flag. ISC_REQ_DELEGATE means Windows' delegation: only to ok-as-delegate targets. */
const REQ_TO_GSS: ReadonlyArray<readonly [number, number]> = [
  [F.ISC_REQ_DELEGATE, G.GSS_C_DELEG_POLICY_FLAG],
  [F.ISC_REQ_MUTUAL_AUTH, G.GSS_C_MUTUAL_FLAG],
  [F.ISC_REQ_REPLAY_DETECT, G.GSS_C_REPLAY_FLAG],
  [F.ISC_REQ_SEQUENCE_DETECT, G.GSS_C_SEQUENCE_FLAG],
  [F.ISC_REQ_CONFIDENTIALITY, G.GSS_C_CONF_FLAG],
  [F.ISC_REQ_INTEGRITY, G.GSS_C_INTEG_FLAG],
  [F.ISC_REQ_IDENTIFY, G.GSS_C_IDENTIFY_FLAG],
  [F.ISC_REQ_EXTENDED_ERROR, G.GSS_C_EXTENDED_ERROR_FLAG],
  [F.ISC_REQ_USE_DCE_STYLE, G.GSS_C_DCE_STYLE],
];

/** GSS granted flag -> ISC_RET_*. */
const GSS_TO_RET: ReadonlyArray<readonly [number, number]> = [
  [G.GSS_C_DELEG_FLAG, F.ISC_RET_DELEGATE],
  [G.GSS_C_MUTUAL_FLAG, F.ISC_RET_MUTUAL_AUTH],
  [G.GSS_C_REPLAY_FLAG, F.ISC_RET_REPLAY_DETECT],
  [G.GSS_C_SEQUENCE_FLAG, F.ISC_RET_SEQUENCE_DETECT],
  [G.GSS_C_CONF_FLAG, F.ISC_RET_CONFIDENTIALITY],
  [G.GSS_C_INTEG_FLAG, F.ISC_RET_INTEGRITY],
  [G.GSS_C_IDENTIFY_FLAG, F.ISC_RET_IDENTIFY],
  [G.GSS_C_EXTENDED_ERROR_FLAG, F.ISC_RET_EXTENDED_ERROR],
  [G.GSS_C_ANON_FLAG, F.ISC_RET_NULL_SESSION],
  [G.GSS_C_DCE_STYLE, F.ISC_RET_USED_DCE_STYLE],
];

/** Requests with no GSS counterpart that only shape how we hand buffers back: accepted, handled by the API. */
const LOCAL_REQ = F.ISC_REQ_ALLOCATE_MEMORY | F.ISC_REQ_CONNECTION | F.ISC_REQ_STREAM | F.ISC_REQ_NO_INTEGRITY
  | F.ISC_REQ_UNVERIFIED_TARGET_NAME;

export function gssRequestFlags(contextReq: number, unconstrainedDelegation = false): number {
  let flags = 0;
  for (const [req, gss] of REQ_TO_GSS) if (contextReq & req) flags |= gss;
  // The explicit opt-in: forward the TGT whatever the KDC says of the target (GSS_C_DELEG_FLAG).
  if (unconstrainedDelegation && contextReq & F.ISC_REQ_DELEGATE) flags = (flags & ~G.GSS_C_DELEG_POLICY_FLAG) | G.GSS_C_DELEG_FLAG;
  // ISC_REQ_NO_INTEGRITY: "the ISC_REQ_INTEGRITY flag is ignored".
  if (contextReq & F.ISC_REQ_NO_INTEGRITY) flags &= ~G.GSS_C_INTEG_FLAG;
  return flags >>> 0;
}

export function iscRetFlags(gssFlags: number, contextReq: number): number {
  let attr = 0;
  for (const [gss, ret] of GSS_TO_RET) if (gssFlags & gss) attr |= ret;
  // Framing requests are honoured as asked: they describe how the caller uses the context.
  if (contextReq & F.ISC_REQ_CONNECTION) attr |= F.ISC_RET_CONNECTION;
  if (contextReq & F.ISC_REQ_STREAM) attr |= F.ISC_RET_STREAM;
  return attr >>> 0;
}

/**
 * SSPI target names to GSS names: `svc/host` and `svc/host@REALM` are Kerberos principal names, used as given (no
 * DNS canonicalization: what you name is what you get); `svc@host` is a GSS host-based service name, which the GSS
 * library maps to a principal by its krb5.conf rules.
 */
export function targetNameType(target: string, anyMech = false): { text: string; type: string } | undefined {
  // A name every mechanism reads (NTLM has no Kerberos principal names): service/host becomes service@host.
  if (anyMech && /^[^/@\s]+\/[^/@\s]+$/.test(target)) return { text: target.replace('/', '@'), type: G.OIDS.NT_HOSTBASED_SERVICE };
  if (/^[^/@\s]+\/[^/@\s]+(@[^/@\s]+)?$/.test(target)) return { text: target, type: G.OIDS.KRB5_NT_PRINCIPAL_NAME };
  if (/^[^/@\s]+@[^/@\s]+$/.test(target)) return { text: target, type: G.OIDS.NT_HOSTBASED_SERVICE };
  return undefined;
}

let memoryCaches = 0;

/**
 * Sources chosen per handle go through MIT's credential store, never process.env or per-thread globals, so handles
 * with different sources work side by side. A keytab logon keeps its tickets in a private MEMORY cache unless a
 * ccache is named, so the default cache is never written.
 */
function privateCache(): string {
  return `MEMORY:kerberos-negotiate-${process.pid}-${++memoryCaches}`;
}

function credentialStore(source: CredentialSource, cache?: string): Record<string, string> | undefined {
  if (source.keytab) return { client_keytab: source.keytab, ccache: source.ccache ?? cache! };
  return source.ccache ? { ccache: source.ccache } : undefined;
}

type Acquired = { cred: bigint | null; expiry?: Date; privateCache?: string };

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
 * A TGT in use by a renewing handle: the GSS credential over the private cache that holds it. Contexts begun with it
 * hold a reference (their later legs pass this gss_cred_id_t); once replaced by a renewal it is freed, with its cache,
 * when the last of them goes.
 */
interface Binding extends Renewable {
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
   * It is dropped when KRB5CCNAME changes and when it stops serving (initialize() then retries unbound).
   */
  private bound?: Promise<{ cred: bigint | null }>;
  /** The KRB5CCNAME `bound` was made under. */
  private boundFor?: string;
  /** Bound credentials replaced since: contexts begun with them may still pass them, so they go with the handle. */
  private readonly retired: Array<Promise<{ cred: bigint | null }>> = [];
  private released = false;

  constructor(
    readonly source: CredentialSource,
    /** Resolves once: the acquired credential (null = the library's default) or why it failed. */
    readonly acquired: Promise<Acquired | Failure>,
  ) {}

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

/** First-leg failures after which a bound default credential is dropped and the leg tried once unbound. */
const UNBIND_ON = new Set([S.SEC_E_NO_CREDENTIALS, S.SEC_E_LOGON_DENIED, S.SEC_E_CONTEXT_EXPIRED, S.SEC_E_WRONG_PRINCIPAL]);

class GssContextState implements ProviderContext {
  complete = false;
  /** When the context completed: SECPKG_ATTR_LIFESPAN's start. */
  established?: Date;
  /** When it expires (its ticket's end): message calls are refused from then on. */
  expiry?: Date;
  /** The inner mechanism the system SPNEGO chose, as it reports it. */
  negotiatedMech?: string;
  constructor(
    readonly mech: GssContext,
    readonly target: GssName,
    readonly pkg: PackageName,
    readonly spnego?: SpnegoInitiator,
    /** A renewing handle's TGT this context was begun with, and how to give it back. */
    private readonly held?: { credential: GssCredential; binding: Binding },
  ) {}

  release(): void {
    this.mech.release();
    this.target.release();
    this.held?.credential.drop(this.held.binding);
  }
}

/**
 * `ntlm: false` with the system SPNEGO, checked on what it actually does: a first token offering NTLM, or a context
 * that settled on it, never leaves. The credential's mechanism list already keeps MIT from offering NTLM
 * (gss_set_neg_mechs); this is what enforces the policy on libraries without that call.
 */
function ntlmRefusal(source: CredentialSource, step: StepResult | SpnegoStep, state: GssContextState): Failure | undefined {
  if (source.ntlm || state.spnego || mechFor(source) !== G.OIDS.MECH_SPNEGO) return undefined;
  let offered = false;
  if (!state.complete && step.token.length > 0) {
    try {
      const t = decodeNegToken(step.token);
      offered = t.kind === 'init' && t.token.mechTypes.includes(G.OIDS.MECH_NTLMSSP);
    } catch {
      // not a NegTokenInit: nothing offered here
    }
  }
  if (!offered && state.negotiatedMech !== G.OIDS.MECH_NTLMSSP) return undefined;
  // GSS would say GSS_S_BAD_MECH (the table's SEC_E_SECPKG_NOT_FOUND); the refusal is a policy, as SSPI's
  // SEC_E_UNSUPPORTED_FUNCTION for a package it will not use.
  const why = 'NTLM is refused (ntlm: false), and the GSS library\'s SPNEGO offered or chose it; use spnego: "library" or allow NTLM';
  return withStatus(ownFailure(GSS_S_BAD_MECH, why), S.SEC_E_UNSUPPORTED_FUNCTION, why);
}

/** The mechanism the inner GSS context runs: krb5 for Kerberos and our SPNEGO, the library's SPNEGO otherwise. */
function mechFor(source: CredentialSource): string {
  if (source.package === 'Negotiate' && source.spnego === 'system') return G.OIDS.MECH_SPNEGO;
  return G.OIDS.MECH_KRB5;
}

export class GssapiProvider implements Provider {
  readonly name = 'gssapi';
  readonly supportedContextReq = REQ_TO_GSS.reduce((all, [req]) => all | req, 0) | LOCAL_REQ;

  async acquireCredentials(source: CredentialSource): Promise<AcquireOutcome> {
    const credential = new GssCredential(source, this.acquire(source));
    const acquired = await credential.acquired;
    if (isFailure(acquired)) return { credential, failure: acquired };
    const times = acquired.privateCache ? tgtTimes(acquired.privateCache) : undefined;
    if (acquired.cred && acquired.privateCache && times && renews(source, times)) {
      const initial: Binding = { cred: acquired.cred, cache: acquired.privateCache, times, method: source.keytab ? 'keytab' : 'password', refs: 0, retired: false };
      credential.renewer = new Renewer(initial, (previous) => this.next(source, previous), (old) => credential.retire(old), source.onRenewal,
        (previous) => nextMethod(source, previous.times));
    }
    return { credential, expiry: acquired.expiry };
  }

  /**
   * The next TGT of a renewing handle, into a new private cache: from the keytab (read afresh: a rotated key is
   * used); by the KDC's renewal of a renewable TGT; or, past its renew-till, by a logon with the callback's password.
   */
  private async next(source: CredentialSource, previous: Binding): Promise<Binding | Failure> {
    const method = nextMethod(source, previous.times);
    if (method === 'renew') {
      const cache = privateCache();
      const renewed = await renewTgt(source.principal!, previous.cache, cache);
      const got = isFailure(renewed) ? renewed : await this.credOver(source, cache);
      if (!isFailure(got) && !isFailure(renewed)) return { cred: got.cred!, cache, times: renewed, method, refs: 0, retired: false };
      destroyCcache(cache);
      return isFailure(renewed) ? renewed : (got as Failure);
    }
    if (!method) {
      return ownFailure(GSS_S_CREDENTIALS_EXPIRED,
        'the TGT cannot be renewed (not renewable, or past its renew-till time) and no password callback was given');
    }
    const got = await this.acquire(source);
    if (isFailure(got)) return got;
    const times = tgtTimes(got.privateCache!) ?? { start: new Date(), end: got.expiry ?? new Date() };
    return { cred: got.cred!, cache: got.privateCache!, times, method, refs: 0, retired: false };
  }

  /** A GSS credential over a cache of ours that holds a TGT (after a KDC renewal), as acquire() makes one. */
  private async credOver(source: CredentialSource, cache: string): Promise<Acquired | Failure> {
    const mechs = mechFor(source) === G.OIDS.MECH_SPNEGO ? [G.OIDS.MECH_SPNEGO, G.OIDS.MECH_KRB5] : [G.OIDS.MECH_KRB5];
    const stores = G.gssapi().fn.gss_acquire_cred_from !== undefined;
    const got = stores ? await acquireCred(null, mechs, undefined, { ccache: cache }) : await imported(cache, source.principal);
    if (isFailure(got) || mechFor(source) !== G.OIDS.MECH_SPNEGO || source.ntlm || !G.gssapi().fn.gss_set_neg_mechs) return got;
    const refused = setNegMechs(got.cred!, [G.OIDS.MECH_KRB5]);
    if (refused) releaseCred(got.cred!);
    return refused ?? got;
  }

  private async acquire(source: CredentialSource): Promise<Acquired | Failure> {
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
      return this.acquire({ ...source, password });
    }
    // The default credential: let the library pick the ccache at each use (it may be renewed by kinit meanwhile).
    // The system SPNEGO kept from NTLM needs a credential of its own to carry that restriction.
    const restrictSpnego = mechFor(source) === G.OIDS.MECH_SPNEGO && !source.ntlm;
    if (!source.principal && !source.password && !source.ccache && !source.keytab && !source.impersonator && !restrictSpnego) return { cred: null };
    let name: GssName | null = null;
    try {
      // Before any native call (the name import below is one): the password reaches GSS or krb5 as a C string.
      if (source.password) checkCString(source.password, 'password');
      if (source.principal) {
        const imported = GssName.import(source.principal, G.OIDS.KRB5_NT_PRINCIPAL_NAME);
        if (isFailure(imported)) return imported;
        name = imported;
      }
      const mechs = mechFor(source) === G.OIDS.MECH_SPNEGO ? [G.OIDS.MECH_SPNEGO, G.OIDS.MECH_KRB5] : [G.OIDS.MECH_KRB5];
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
      // Without gss_set_neg_mechs (Heimdal) the refusal is enforced on the tokens instead (ntlmRefusal).
      if (!restrictSpnego || !got.cred || !G.gssapi().fn.gss_set_neg_mechs) return got;
      const refused = setNegMechs(got.cred, [G.OIDS.MECH_KRB5]);
      if (refused) {
        releaseCred(got.cred);
        if (cache) destroyCcache(cache);
        return refused;
      }
      return got;
    } finally {
      name?.release();
      // The password is not kept past the acquisition.
      source.password?.fill(0);
    }
  }

  async initialize(request: InitializeRequest): Promise<InitializeOutcome> {
    const credential = request.credential as GssCredential;
    const acquired = await credential.acquired;
    if (isFailure(acquired)) return fail(acquired, request.context);

    let state = request.context as GssContextState | undefined;
    let reauth = false;
    if (state?.complete && !request.token) {
      // Seed remark: calling again on a completed context asks for a re-authentication. Start over in place.
      state.release();
      state = undefined;
      reauth = true;
    }

    let step: StepResult | SpnegoStep | Failure;
    const fresh = !state;
    if (!state) {
      const nameForm = targetNameType(request.targetName, credential.source.ntlm && mechFor(credential.source) === G.OIDS.MECH_SPNEGO);
      if (!nameForm) {
        return fail(ownFailure(GSS_S_BAD_NAME, 'the target name must be an SPN of the form service/host, service/host@REALM or service@host'));
      }
      const target = GssName.import(nameForm.text, nameForm.type);
      if (isFailure(target)) return fail(target);
      const mechs = mechFor(credential.source) === G.OIDS.MECH_SPNEGO ? [G.OIDS.MECH_SPNEGO, G.OIDS.MECH_KRB5] : [G.OIDS.MECH_KRB5];
      const begin = async (cred: bigint | null) => {
        const mech = new GssContext(mechFor(credential.source), cred, target,
          gssRequestFlags(request.contextReq, request.unconstrainedDelegation), request.channelBindings);
        const spnego = credential.source.package === 'Negotiate' && credential.source.spnego === 'library'
          ? new SpnegoInitiator(mech) : undefined;
        return { mech, spnego, step: spnego ? await spnego.start() : await initiatorStep(mech, request.token) };
      };
      const held = await credential.take();
      if (held && isFailure(held)) {
        target.release();
        return fail(held);
      }
      const bound = acquired.cred === null ? await credential.defaultCred(mechs) : null;
      let first = await begin(held?.cred ?? acquired.cred ?? bound);
      if (bound && isFailure(first.step) && UNBIND_ON.has(first.step.status)) {
        // The default ccache changed hands (kinit as someone else, kdestroy): what GSS_C_NO_CREDENTIAL says now.
        first.mech.release();
        credential.unbind();
        first = await begin(null);
      }
      state = new GssContextState(first.mech, target, credential.source.package, first.spnego, held ? { credential, binding: held } : undefined);
      step = first.step;
      if (isFailure(step)) {
        state.release();
        return fail(step);
      }
    } else {
      // The API passes a token here: it refuses a continuing context without one (api.ts, refusal).
      step = state.spnego ? await state.spnego.continue(request.token!) : await initiatorStep(state.mech, request.token!);
      if (isFailure(step)) return fail(step, state);
    }

    state.complete = step.complete;
    if (step.complete) {
      state.established = new Date();
      state.expiry = step.expiry;
    }
    // The system SPNEGO reports the mechanism it settled on (krb5, or NTLM through gss-ntlmssp).
    if (!state.spnego && state.pkg === 'Negotiate' && 'mech' in step && typeof step.mech === 'string') state.negotiatedMech = step.mech;
    const refused = ntlmRefusal(credential.source, step, state);
    if (refused) {
      if (!fresh) return fail(refused, state);
      state.release();
      return fail(refused);
    }
    let contextAttr = iscRetFlags(step.flags, request.contextReq);
    if (reauth) contextAttr |= F.ISC_RET_REAUTHENTICATION;
    return {
      status: step.complete ? S.SEC_E_OK : S.SEC_I_CONTINUE_NEEDED,
      context: state,
      token: step.token,
      contextAttr,
      expiry: step.expiry,
    };
  }

  encryptMessage(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return usable(context) ?? encrypt((context as GssContextState).mech, qop, buffers);
  }

  decryptMessage(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return usable(context) ?? decrypt((context as GssContextState).mech, buffers);
  }

  makeSignature(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return usable(context) ?? sign((context as GssContextState).mech, qop, buffers);
  }

  verifySignature(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return usable(context) ?? verify((context as GssContextState).mech, buffers);
  }

  async queryCredentialsAttributes(credential: ProviderCredential, attribute: number): Promise<AttributeOutcome> {
    if (attribute !== SECPKG_CRED_ATTR_NAMES && attribute !== SECPKG_ATTR_LIFESPAN) {
      return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `credential attribute ${attribute} is not available over GSS-API` };
    }
    const cred = credential as GssCredential;
    const acquired = await cred.acquired;
    // A renewing handle's TGT in use, held for the pool call (a renewal meanwhile would free it otherwise).
    const held = isFailure(acquired) ? undefined : await cred.take();
    let info: Awaited<ReturnType<typeof inquireCred>>;
    try {
      info = isFailure(acquired) ? acquired : held && isFailure(held) ? held : await inquireCred(held?.cred ?? acquired.cred);
    } finally {
      if (held && !isFailure(held)) cred.drop(held);
    }
    if (isFailure(info)) return outcomeOf(info);
    if (attribute === SECPKG_ATTR_LIFESPAN) return { status: S.SEC_E_OK, value: lifespan(cred, acquired as Acquired, info.expiry, (held as Binding | undefined)?.times) };
    return info.name ? { status: S.SEC_E_OK, value: { userName: info.name } } : { status: S.SEC_E_NO_CREDENTIALS, detail: 'the credential names no principal' };
  }

  securityPackages(): SecPkgInfo[] {
    // Both packages need the krb5 mechanism (Negotiate frames SPNEGO around it).
    return installedMechs().includes(G.OIDS.MECH_KRB5) ? [packageInfo('Negotiate'), packageInfo('Kerberos')] : [];
  }

  queryContextAttributes(context: ProviderContext, attribute: number): AttributeOutcome {
    const state = context as GssContextState;
    // Package and negotiation state are known from the first leg; everything else needs the finished context.
    if (attribute !== SECPKG_ATTR_PACKAGE_INFO && attribute !== SECPKG_ATTR_NEGOTIATION_INFO) {
      const notYet = established(context);
      if (notYet) return notYet;
    }
    const negotiated = state.negotiatedMech === G.OIDS.MECH_NTLMSSP ? 'NTLM' : 'Kerberos';
    return queryAttribute(state.mech, attribute, state.pkg, negotiated, state.established, (flags) => iscRetFlags(flags, 0));
  }
}

/**
 * Whether a handle renews its own TGT (renewal.ts): a keytab logon into a cache of its own; a password logon into
 * one, when its TGT is renewable or a password callback can log on again.
 */
function renews(source: CredentialSource, times: TicketTimes): boolean {
  if (source.ccache || source.impersonator) return false;
  if (source.keytab) return true;
  return !!source.passwordCallback || (!!source.password && !!times.renewTill);
}

/**
 * How a renewing handle gets its next TGT: from its keytab, by renewing the one it has, or by a password logon;
 * undefined when none is left (past renew-till, no callback).
 */
function nextMethod(source: CredentialSource, times: TicketTimes): RenewalEvent['method'] | undefined {
  if (source.keytab) return 'keytab';
  // A KDC renewal needs a valid TGT that it can extend (RFC 4120 §3.3.3: renewal ends at renew-till).
  const now = Date.now();
  if (times.renewTill && times.renewTill.getTime() > times.end.getTime() && times.end.getTime() > now + EXPIRY_MARGIN_MS) return 'renew';
  return source.passwordCallback ? 'password' : undefined;
}

/**
 * SECPKG_ATTR_LIFESPAN of a credential: the TGT's end as GSS reports it, with its start and renew-till where the
 * cache holding it is known (a renewing handle's own, a named cache, the default one) and holds that very TGT.
 */
function lifespan(credential: GssCredential, acquired: Acquired, expiry: Date, held?: TicketTimes): { expiry: Date; start?: Date; renewTill?: Date } {
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

/**
 * Message calls need an established context whose ticket has not expired. MIT 1.20 and Heimdal 7.8 still sign and
 * seal with an expired context (observed: gss_get_mic returned GSS_S_COMPLETE past the ticket's end); RFC 2743
 * §2.3 gives the per-message calls GSS_S_CONTEXT_EXPIRED for "context-related data items have expired", and SSPI
 * answers SEC_E_CONTEXT_EXPIRED: so do we.
 */
function usable(context: ProviderContext): MessageOutcome | undefined {
  const notYet = established(context);
  if (notYet) return notYet;
  const expiry = (context as GssContextState).expiry;
  if (expiry && Date.now() >= expiry.getTime()) {
    return outcomeOf(gssFailure(GSS_S_CONTEXT_EXPIRED, 0, G.OIDS.MECH_KRB5, `the context expired at ${expiry.toISOString()} (its service ticket's end): establish a new one`));
  }
  return undefined;
}

/** Per-message calls and most attributes need an established context (SEC_E_INVALID_HANDLE otherwise, as SSPI). */
function established(context: ProviderContext): { status: number; detail: string } | undefined {
  const state = context as GssContextState;
  if (!state.complete) return { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established yet' };
  // Never hand GSS_C_NO_CONTEXT to the library: Heimdal dereferences it in some calls.
  return state.mech.handle ? undefined : { status: S.SEC_E_INVALID_HANDLE, detail: 'the GSS library deleted this context' };
}

/** A failed leg as the provider returns it: the failure, and the context when a later leg failed. */
function fail(failure: Failure, context?: ProviderContext): InitializeOutcome {
  const outcome: InitializeOutcome = { ...outcomeOf(failure), contextAttr: 0 };
  if (context) outcome.context = context;
  return outcome;
}
