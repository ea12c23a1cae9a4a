// The GSS-API acceptor (MIT, Heimdal): inbound credentials per handle, gss_accept_sec_context on the pool, our SPNEGO
// acceptor over it (spnego-acceptor.ts), and the calls a server context shares with a client one (attributes,
// message protection). Credentials are never process-global: MIT reads the handle's keytab and replay cache through
// gss_acquire_cred_from; Heimdal gets the keytab through krb5 and gss_krb5_import_cred (never
// gsskrb5_register_acceptor_identity or KRB5_KTNAME, which are process-wide).
import { existsSync } from 'node:fs';
import * as G from '../../ffi/gssapi.js';
import * as A from '../vocabulary/attributes.js';
import * as AF from '../vocabulary/accept-flags.js';
import * as S from '../vocabulary/status.js';
import type { SecPkgInfo } from '../vocabulary/attributes.js';
import { AcceptorMachine } from '../protocol/acceptor.js';
import { SpnegoFailure } from '../protocol/failure.js';
import { checkCString } from '../facade/cstring.js';
import type { Acceptor, AcceptOutcome, AcceptRequest, BindingsPolicy, InboundSource } from './acceptor.js';
import { queryAttribute } from './gssapi-attributes.js';
import { GssMessageCalls } from './gssapi-message.js';
import {
  GssContext,
  GssName,
  acquireCred,
  adoptCred,
  displayName,
  expiryFromNow,
  gssBindings,
  gssFailure,
  ownFailure,
  releaseCred,
  type StepResult,
} from './gssapi-native.js';
import { copyOut } from '../../ffi/memory.js';
import { KRB5_KEYTAB_ENTRY_BUFFER } from '../../ffi/krb5.js';
import { GSS_S_BAD_BINDINGS, GSS_S_CONTEXT_EXPIRED, GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE, GSS_S_NO_CRED, GSS_S_UNAVAILABLE, gssError } from '../../ffi/gss-status.js';
import { isFailure, withStatus, type Failure } from './failure.js';
import { GssCredential } from './gssapi-credential.js';
import { authenticatorKey, krb5RequestProblem } from './krb5-request.js';
import { krbErrorCode } from '../protocol/krb5-token.js';
import { destroyCcache, functions as krb5Functions, krb5Failure } from './krb5-native.js';
import { privateCache } from './gssapi-sources.js';
import { callAsync } from './pool.js';
import { busy, nextTurn } from './slice.js';
import type {
  AcquireOutcome,
  AttributeOutcome,
  ChannelBindings,
  InitializeOutcome,
  InitializeRequest,
  MessageOutcome,
  PackageName,
  Provider,
  ProviderContext,
  ProviderCredential,
} from './provider.js';
import { ReplayCache } from './replay-cache.js';
import { currentProvider } from './select.js';
import { gssFailureOf } from './spnego-failure.js';
import { acceptorMechanism, type AcceptStep } from './spnego-acceptor.js';

const GSS_C_BOTH = 0;
const GSS_C_ACCEPT = 2;
/** MIT ≥ 1.19 sets it on an acceptor context whose initiator bound it to the channel (RFC 4121 checksum). */
export const GSS_C_CHANNEL_BOUND_FLAG = 0x800;
/** KRB5KRB_AP_ERR_REPEAT: what MIT's replay cache answers a replayed authenticator with. */
const KRB5_ERROR_BASE = -1765328384;
const KRB5KRB_AP_ERR_REPEAT = KRB5_ERROR_BASE + 34;

/** GSS granted flag -> ASC_RET_*. */
const GSS_TO_ASC: ReadonlyArray<readonly [number, number]> = [
  [G.GSS_C_DELEG_FLAG, AF.ASC_RET_DELEGATE],
  [G.GSS_C_MUTUAL_FLAG, AF.ASC_RET_MUTUAL_AUTH],
  [G.GSS_C_REPLAY_FLAG, AF.ASC_RET_REPLAY_DETECT],
  [G.GSS_C_SEQUENCE_FLAG, AF.ASC_RET_SEQUENCE_DETECT],
  [G.GSS_C_CONF_FLAG, AF.ASC_RET_CONFIDENTIALITY],
  [G.GSS_C_INTEG_FLAG, AF.ASC_RET_INTEGRITY],
  [G.GSS_C_IDENTIFY_FLAG, AF.ASC_RET_IDENTIFY],
  [G.GSS_C_EXTENDED_ERROR_FLAG, AF.ASC_RET_EXTENDED_ERROR],
  [G.GSS_C_ANON_FLAG, AF.ASC_RET_NULL_SESSION],
  [G.GSS_C_DCE_STYLE, AF.ASC_RET_USED_DCE_STYLE],
];

export function ascRetFlags(gssFlags: number, contextReq: number): number {
  let attr = 0;
  for (const [gss, ret] of GSS_TO_ASC) if (gssFlags & gss) attr |= ret;
  if (contextReq & AF.ASC_REQ_CONNECTION) attr |= AF.ASC_RET_CONNECTION;
  if (contextReq & AF.ASC_REQ_STREAM) attr |= AF.ASC_RET_STREAM;
  return attr >>> 0;
}

/** The ASC_REQ_* bits the GSS acceptor honours (the rest give SEC_E_UNSUPPORTED_FUNCTION). */
const SUPPORTED_ASC_REQ = AF.ASC_REQ_DELEGATE | AF.ASC_REQ_MUTUAL_AUTH | AF.ASC_REQ_REPLAY_DETECT | AF.ASC_REQ_SEQUENCE_DETECT
  | AF.ASC_REQ_CONFIDENTIALITY | AF.ASC_REQ_INTEGRITY | AF.ASC_REQ_ALLOCATE_MEMORY | AF.ASC_REQ_USE_DCE_STYLE
  | AF.ASC_REQ_CONNECTION | AF.ASC_REQ_EXTENDED_ERROR | AF.ASC_REQ_STREAM | AF.ASC_REQ_IDENTIFY
  | AF.ASC_REQ_PROXY_BINDINGS | AF.ASC_REQ_ALLOW_MISSING_BINDINGS;

type Inbound = { cred: bigint | null; release?: () => void };

/** An inbound credential: the GSS acceptor credential, and (Heimdal) our replay cache of authenticators. */
export class GssAcceptorCredential implements ProviderCredential {
  constructor(
    readonly source: InboundSource,
    readonly acquired: Promise<Inbound | Failure>,
    readonly replays?: ReplayCache,
  ) {}

  release(): void {
    this.replays?.clear();
    void this.acquired.then((r) => {
      if (isFailure(r)) return;
      if (r.cred) releaseCred(r.cred);
      r.release?.();
    });
  }
}

/** The file behind a FILE: (or untyped) keytab name; undefined for other types (MEMORY:, ...). */
function keytabFile(name: string): string | undefined {
  if (name.startsWith('/')) return name;
  if (name.startsWith('FILE:')) return name.slice(5);
  if (name.startsWith('WRFILE:')) return name.slice(7);
  return undefined;
}

/**
 * Heimdal: the keytab through krb5 (krb5_kt_resolve) handed to gss_krb5_import_cred, with the principal when one is
 * named. The krb5 context and keytab stay open for the credential's life and close with it.
 */
function importKeytab(source: InboundSource): Inbound | Failure {
  const gss = G.gssapi().fn;
  if (!gss.gss_krb5_import_cred) {
    return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has neither gss_acquire_cred_from nor gss_krb5_import_cred: a keytab per handle needs one');
  }
  const fn = krb5Functions();
  if ('status' in fn) return fn;
  const ctx: Array<bigint | null> = [null];
  let code = fn.krb5_init_context(ctx) as number;
  if (code) return krb5Failure(code, 'krb5_init_context failed');
  const kt: Array<bigint | null> = [null];
  const principal: Array<bigint | null> = [null];
  const close = () => {
    if (kt[0]) fn.krb5_kt_close(ctx[0], kt[0]);
    if (principal[0]) fn.krb5_free_principal(ctx[0], principal[0]);
    fn.krb5_free_context(ctx[0]);
  };
  try {
    if ((code = fn.krb5_kt_resolve(ctx[0], source.keytab!, kt) as number)) {
      close();
      return krb5Failure(code, 'the keytab name cannot be resolved');
    }
    if (source.principal && (code = fn.krb5_parse_name(ctx[0], source.principal, principal) as number)) {
      close();
      return krb5Failure(code, 'the service principal cannot be parsed');
    }
    if (principal[0] && fn.krb5_kt_get_entry && fn.krb5_kt_free_entry) {
      // Heimdal imports a keytab without the principal's key and fails only at each accept, as if the client were at
      // fault; MIT refuses at acquisition (KG_KEYTAB_NOMATCH). The server's misconfiguration is told now, on both.
      const entry = Buffer.alloc(KRB5_KEYTAB_ENTRY_BUFFER);
      if ((code = fn.krb5_kt_get_entry(ctx[0], kt[0], principal[0], 0, 0, entry) as number)) {
        close();
        return krb5Failure(code, `the keytab holds no key for ${source.principal}`);
      }
      fn.krb5_kt_free_entry(ctx[0], entry);
    }
    const minor = [0];
    const out: Array<bigint | null> = [null];
    const major = gss.gss_krb5_import_cred(minor, null, principal[0], kt[0], out) as number;
    if (gssError(major) || !out[0]) {
      close();
      return gssFailure(major, minor[0], G.OIDS.MECH_KRB5, 'the keytab cannot be used', 'acquire');
    }
    return { cred: adoptCred(out[0]), release: close };
  } catch (err) {
    close();
    throw err;
  }
}

async function acquireInbound(source: InboundSource): Promise<Inbound | Failure> {
  const g = G.gssapi();
  if (source.keytab) {
    const file = keytabFile(source.keytab);
    // Heimdal would find out only at the first accept; MIT says the same at acquisition (GSS_S_NO_CRED).
    if (file !== undefined && !existsSync(file)) return ownFailure(GSS_S_NO_CRED, `the keytab ${file} does not exist`);
  }
  if (source.constrainedDelegation) return acquireBoth(source);
  if (g.fn.gss_acquire_cred_from && g.flavour !== 'heimdal') {
    const store: Record<string, string> = {};
    if (source.keytab) store.keytab = source.keytab;
    if (source.replayCache) store.rcache = source.replayCache;
    return acquireAccept(source.principal, Object.keys(store).length > 0 ? store : undefined);
  }
  if (source.keytab) return importKeytab(source);
  // No keytab named: the library's default keytab, read as it reads it.
  return acquireAccept(source.principal, undefined);
}

/**
 * An acceptor credential that can also initiate as its principal (GSS_C_BOTH), its tickets in a private MEMORY cache
 * from the keytab. MIT's acceptor turns a client's forwardable ticket into a delegated credential for S4U2Proxy only
 * for such a credential (kg_accept_krb5 in MIT's accept_sec_context.c). Heimdal's GSS-API has no S4U.
 */
async function acquireBoth(source: InboundSource): Promise<Inbound | Failure> {
  const g = G.gssapi();
  if (g.flavour === 'heimdal' || !g.fn.gss_acquire_cred_from) {
    return ownFailure(GSS_S_UNAVAILABLE, 'constrained delegation (S4U2Proxy) needs MIT\'s GSS-API: this library has no S4U');
  }
  const cache = privateCache();
  const store: Record<string, string> = { ccache: cache };
  if (source.keytab) Object.assign(store, { keytab: source.keytab, client_keytab: source.keytab });
  if (source.replayCache) store.rcache = source.replayCache;
  const got = await acquireAccept(source.principal, store, GSS_C_BOTH);
  if (isFailure(got)) {
    destroyCcache(cache);
    return got;
  }
  return { ...got, release: () => destroyCcache(cache) };
}

/** gss_acquire_cred(_from) of an accepting Kerberos credential, for `principal` (any in the keytab without one). */
async function acquireAccept(principal: string | undefined, store: Record<string, string> | undefined, usage = GSS_C_ACCEPT): Promise<Inbound | Failure> {
  let name: GssName | null = null;
  try {
    if (principal) {
      const imported = GssName.import(principal, G.OIDS.KRB5_NT_PRINCIPAL_NAME);
      if (isFailure(imported)) return imported;
      name = imported;
    }
    const got = await acquireCred(name, [G.OIDS.MECH_KRB5], undefined, store, usage);
    return isFailure(got) ? got : { cred: got.cred };
  } finally {
    name?.release();
  }
}

/** One gss_accept_sec_context context. Per-message calls and MICs are the GssContext ones, on this handle. */
export class GssAcceptorContext extends GssContext {
  /** The credential the initiator delegated, until handed over (takeDelegated) or released with the context. */
  delegated?: { cred: bigint; expiry: Date };
  /** The authenticated client, once complete. */
  client?: string;
  private claimed?: string;

  constructor(
    private readonly acceptorCred: bigint | null,
    private readonly replays: ReplayCache | undefined,
  ) {
    // The base class's target and flags are an initiator's; an acceptor has neither.
    super(G.OIDS.MECH_KRB5, null, undefined as unknown as GssName, 0);
  }

  /** An acceptor context never initiates. */
  override async step(): Promise<StepResult | Failure> {
    return ownFailure(GSS_S_FAILURE, 'an acceptor context cannot initiate');
  }

  /**
   * One gss_accept_sec_context call, on the pool (it reads the keytab and the replay cache), with the channel
   * bindings of this call (SSPI takes them with each AcceptSecurityContext call, and so do we).
   */
  async accept(input: Buffer, channel: ChannelBindings | undefined): Promise<AcceptStep | { failure: Failure; token?: Buffer }> {
    const first = this.ctx === null;
    const problem = krb5RequestProblem(input, first);
    if (problem) return { failure: ownFailure(GSS_S_DEFECTIVE_TOKEN, problem) };
    let key: string | undefined;
    if (first && this.replays) {
      key = authenticatorKey(input);
      const claim = key ? this.replays.claim(key) : 'new';
      if (claim === 'replay') {
        return { failure: gssFailure(GSS_S_FAILURE, KRB5KRB_AP_ERR_REPEAT, G.OIDS.MECH_KRB5, 'this authenticator was accepted before (a replayed AP-REQ)') };
      }
      if (claim === 'full') {
        return { failure: refuse(S.SEC_E_INSUFFICIENT_MEMORY, GSS_S_FAILURE, 'the replay cache is full: no authenticator is accepted until older ones expire') };
      }
    }
    const { fn } = G.gssapi();
    const minor = [0];
    const ctx = [this.ctx];
    const src: Array<bigint | null> = [null];
    const out: G.GssBuffer = { length: 0, value: null };
    const flags = [0];
    const time = [0];
    const deleg: Array<bigint | null> = [null];
    const cb = gssBindings(channel);
    const before = Date.now();
    let major: number;
    try {
      // No mech_type out (null): this context is krb5's, and each out-parameter is converted back to JS on the loop.
      major = await callAsync(fn.gss_accept_sec_context, minor, ctx, this.acceptorCred, { length: input.length, value: input },
        cb ?? null, src, null, out, flags, time, deleg);
    } catch (err) {
      // The call never ran or never returned (koffi refused it): the authenticator was not accepted, so a client's
      // honest retry with it must not be taken for a replay.
      if (key) this.replays!.forget(key);
      throw err;
    }
    // The continuation (names, the SPNEGO reply) waits its turn when many accepts complete at once (slice.ts).
    if (busy()) await nextTurn();
    this.ctx = ctx[0] ?? null;
    const token = copyOut(out.value as bigint | null, Number(out.length));
    if (out.value) fn.gss_release_buffer([0], out);
    const client = displayName(src[0]);
    if (src[0]) fn.gss_release_name([0], src);
    if (gssError(major)) {
      if (deleg[0]) fn.gss_release_cred([0], deleg);
      if (key) this.replays!.forget(key);
      return { failure: gssFailure(major, minor[0], G.OIDS.MECH_KRB5, undefined, 'accept'), token: token.length > 0 ? token : undefined };
    }
    const complete = (major & 1) === 0;
    const krbError = complete ? undefined : krbErrorCode(token);
    if (krbError !== undefined) {
      // Heimdal answers a skewed authenticator with a KRB-ERROR and GSS_S_CONTINUE_NEEDED, inviting the client to try
      // again with the server's time; MIT, and SSPI's SEC_E_TIME_SKEW, end the exchange. So do we, on both: the
      // client gets the KRB-ERROR, the caller its code.
      if (deleg[0]) fn.gss_release_cred([0], deleg);
      if (key) this.replays!.forget(key);
      return { failure: gssFailure(GSS_S_FAILURE, KRB5_ERROR_BASE + krbError, G.OIDS.MECH_KRB5, 'the acceptor refused the authenticator and answered with a Kerberos error', 'accept'), token };
    }
    const expiry = expiryFromNow(time[0], before);
    if (complete) {
      this.client = client;
      if (deleg[0]) {
        if (this.delegated) releaseCred(this.delegated.cred);
        this.delegated = { cred: adoptCred(deleg[0]), expiry };
      }
    } else if (deleg[0]) fn.gss_release_cred([0], deleg);
    return { complete, token, flags: flags[0] >>> 0, expiry };
  }

  override release(): void {
    super.release();
    if (this.delegated) {
      releaseCred(this.delegated.cred);
      this.delegated = undefined;
    }
  }
}

/** A server context: the GSS acceptor context, our SPNEGO acceptor around it (Negotiate), and what completed. */
export class GssServerContext implements ProviderContext {
  complete = false;
  established?: Date;
  expiry?: Date;
  /** The granted GSS flags of the mechanism's last step. */
  flags = 0;
  /**
   * The call in progress: each leg is judged by the contextReq, bindings and policy it was given, as
   * AcceptSecurityContext judges each call by its own fContextReq and SECBUFFER_CHANNEL_BINDINGS (docs/api.md).
   */
  request?: Pick<AcceptRequest, 'contextReq' | 'channelBindings' | 'bindingsPolicy'>;
  constructor(
    readonly mech: GssAcceptorContext,
    readonly pkg: PackageName,
    readonly spnego: AcceptorMachine<AcceptStep, Failure> | undefined,
    readonly step: (token: Buffer) => Promise<AcceptStep | { failure: Failure; token?: Buffer }>,
  ) {}

  release(): void {
    this.mech.release();
  }
}

function fail(failure: Failure, token?: Buffer, context?: ProviderContext): AcceptOutcome {
  const outcome: AcceptOutcome = { status: failure.status, contextAttr: 0, gss: failure.gss };
  if (failure.detail) outcome.detail = failure.detail;
  if (token && token.length > 0) outcome.token = token;
  if (context) outcome.context = context;
  return outcome;
}

/** A refusal of policy above the table: its status, told as the major a GSS mechanism would return. */
function refuse(status: number, major: number, why: string): Failure {
  return withStatus(ownFailure(major, why), status, why);
}

/** What a complete step must also satisfy: mutual authentication when asked, channel binding when required. */
function policyRefusal(step: AcceptStep, contextReq: number, policy: BindingsPolicy): Failure | undefined {
  if (contextReq & AF.ASC_REQ_MUTUAL_AUTH && !(step.flags & G.GSS_C_MUTUAL_FLAG)) {
    return  refuse(S.SEC_E_MUTUAL_AUTH_FAILED, GSS_S_FAILURE, 'mutual authentication is required (ASC_REQ_MUTUAL_AUTH) and the client did not ask for it');
  }
  if (policy === 'required' && !(step.flags & GSS_C_CHANNEL_BOUND_FLAG)) {
    return ownFailure(GSS_S_BAD_BINDINGS,
      'channel bindings are required and the client did not bind the context to this channel (or this GSS library cannot tell: only MIT ≥ 1.19 reports it)');
  }
  return undefined;
}

/** Message calls need a complete server context whose ticket has not expired. */
function usable(context: ProviderContext): MessageOutcome | undefined {
  const state = context as GssServerContext;
  if (!state.complete || !state.mech.handle) return { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established' };
  if (state.expiry && Date.now() >= state.expiry.getTime()) {
    const f = gssFailure(GSS_S_CONTEXT_EXPIRED, 0, G.OIDS.MECH_KRB5, `the context expired at ${state.expiry.toISOString()} (its service ticket's end)`);
    return { status: f.status, gss: f.gss, detail: f.detail };
  }
  return undefined;
}

export class GssAcceptor extends GssMessageCalls implements Acceptor, Provider {
  readonly name = 'gssapi-acceptor';
  readonly supportedContextReq = SUPPORTED_ASC_REQ;
  readonly provider: Provider = this;

  async acquireInbound(source: InboundSource): Promise<AcquireOutcome> {
    if (source.keytab) checkCString(source.keytab, 'keytab');
    // Heimdal 7.8's acceptor keeps no replay cache: ours, per handle. MIT's is the credential store's rcache.
    const replays = G.gssapi().flavour === 'heimdal' ? new ReplayCache() : undefined;
    const acquired = acquireInbound(source);
    const credential = new GssAcceptorCredential(source, acquired, replays);
    const r = await acquired;
    return isFailure(r) ? { credential, failure: { status: r.status, gss: r.gss, detail: r.detail } } : { credential };
  }

  isInbound(credential: ProviderCredential): boolean {
    return credential instanceof GssAcceptorCredential;
  }

  async accept(request: AcceptRequest): Promise<AcceptOutcome> {
    // Many accepts started in one turn (a burst of connections) do their local work (SPNEGO, checks) a slice at a time.
    if (busy()) await nextTurn();
    const credential = request.credential as GssAcceptorCredential;
    const acquired = await credential.acquired;
    if (isFailure(acquired)) return fail(acquired, undefined, request.context);
    let state = request.context as GssServerContext | undefined;
    const fresh = !state;
    if (request.bindingsPolicy === 'required' && !request.channelBindings) {
      // A caller's omission, refused on whichever leg it happens; a later leg's refusal ends the context like any.
      return fail(ownFailure(GSS_S_BAD_BINDINGS, 'channel bindings are required: pass the server\'s SECBUFFER_CHANNEL_BINDINGS'), undefined, state);
    }
    if (!state) {
      const mech = new GssAcceptorContext(acquired.cred, credential.replays);
      const step = async (token: Buffer) => {
        // The leg's own request (set below before every leg), not the first one's.
        const leg = s.request!;
        const r = await mech.accept(token, leg.bindingsPolicy === 'never' ? undefined : leg.channelBindings);
        if ('failure' in r) return r;
        s.flags = r.flags;
        const refused = r.complete ? policyRefusal(r, leg.contextReq, leg.bindingsPolicy) : undefined;
        return refused ? { failure: refused } : r;
      };
      const spnego = credential.source.package === 'Negotiate'
        ? new AcceptorMachine<AcceptStep, Failure>([acceptorMechanism(mech, step)]) : undefined;
      const s: GssServerContext = new GssServerContext(mech, credential.source.package, spnego, step);
      state = s;
    }
    state.request = { contextReq: request.contextReq, channelBindings: request.channelBindings, bindingsPolicy: request.bindingsPolicy };
    let complete: boolean;
    let token: Buffer;
    let expiry: Date | undefined;
    try {
      if (state.spnego) {
        const out = await state.spnego.step(request.token);
        if (out instanceof SpnegoFailure) {
          if (fresh) state.release();
          return fail(gssFailureOf(out), out.token, fresh ? undefined : state);
        }
        ({ complete, token } = out);
        expiry = out.mechStep?.expiry;
      } else {
        const out = await state.step(request.token);
        if ('failure' in out) {
          if (fresh) state.release();
          return fail(out.failure, out.token, fresh ? undefined : state);
        }
        ({ complete, token, expiry } = out);
      }
    } catch (err) {
      // A throw (not a status) on a first leg: nobody else holds this context, so it goes now. A later leg's context
      // is the caller's, released with its handle.
      if (fresh) state.release();
      throw err;
    }
    if (expiry) state.expiry = expiry;
    if (complete) {
      state.complete = true;
      state.established = new Date();
    }
    return {
      status: complete ? S.SEC_E_OK : S.SEC_I_CONTINUE_NEEDED,
      context: state,
      token,
      contextAttr: ascRetFlags(state.flags, request.contextReq),
      expiry: state.expiry,
    };
  }

  takeDelegated(context: ProviderContext): ReturnType<Acceptor['takeDelegated']> {
    const state = context as GssServerContext;
    const d = state.mech.delegated;
    if (!state.complete || !d) return undefined;
    state.mech.delegated = undefined;
    const pkg = state.pkg;
    const credential = new GssCredential({ package: pkg, spnego: 'library', ntlm: false }, Promise.resolve({ cred: d.cred, expiry: d.expiry }));
    return { credential, provider: currentProvider(), expiry: d.expiry, package: pkg };
  }

  // The Provider calls on server contexts and inbound credentials.

  async acquireCredentials(): Promise<AcquireOutcome> {
    throw new Error('the acceptor acquires inbound credentials only (acquireInbound)');
  }

  async initialize(request: InitializeRequest): Promise<InitializeOutcome> {
    // lib/facade/api.ts refuses inbound credentials and server contexts before this; kept safe all the same.
    return { status: S.SEC_E_NO_CREDENTIALS, context: request.context, contextAttr: 0, detail: 'an inbound (SECPKG_CRED_INBOUND) credential cannot initialize a context: acquire an outbound one' };
  }

  protected unusable(context: ProviderContext): MessageOutcome | undefined {
    return usable(context);
  }

  async queryCredentialsAttributes(credential: ProviderCredential, attribute: number): Promise<AttributeOutcome> {
    if (attribute !== A.SECPKG_CRED_ATTR_NAMES) return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `credential attribute ${attribute} is not available on an inbound credential` };
    const cred = credential as GssAcceptorCredential;
    const acquired = await cred.acquired;
    if (isFailure(acquired)) return { status: acquired.status, gss: acquired.gss, detail: acquired.detail };
    if (cred.source.principal) return { status: S.SEC_E_OK, value: { userName: cred.source.principal } };
    // Without a principal the credential takes any key of its keytab: there is no name to give, on any library. Never
    // ask GSS: Heimdal 7.8's gss_inquire_cred on such an imported acceptor credential dereferences its null principal
    // (SIGSEGV, observed), and MIT has no single name either.
    return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: 'the credential takes any service key of its keytab: it names no principal' };
  }

  securityPackages(): SecPkgInfo[] {
    return currentProvider().securityPackages();
  }

  queryContextAttributes(context: ProviderContext, attribute: number): AttributeOutcome {
    const state = context as GssServerContext;
    if (attribute !== A.SECPKG_ATTR_PACKAGE_INFO && attribute !== A.SECPKG_ATTR_NEGOTIATION_INFO && (!state.complete || !state.mech.handle)) {
      return { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established yet' };
    }
    if (attribute === A.SECPKG_ATTR_AUTHORITY) {
      const client = state.mech.client;
      const at = client?.lastIndexOf('@') ?? -1;
      return client && at >= 0 ? { status: S.SEC_E_OK, value: { authorityName: client.slice(at + 1) } } : { status: S.SEC_E_INTERNAL_ERROR, detail: 'the client has no realm' };
    }
    // The client's name was displayed once when the context completed (accept above): asking GSS again costs an
    // inquire and three name calls on the event loop, each of which (MIT) makes and frees a krb5 context, reading
    // krb5.conf's state from disk. NegotiateServer asks for it on every authentication.
    if (attribute === A.SECPKG_ATTR_NAMES && state.mech.client !== undefined) return { status: S.SEC_E_OK, value: { userName: state.mech.client } };
    return queryAttribute(state.mech, attribute, state.pkg, 'Kerberos', state.established, (flags) => ascRetFlags(flags, 0));
  }
}
