// InitializeSecurityContext of the GSS provider, and the state of one context across its legs.
import * as G from '../../ffi/gssapi.js';
import { GSS_S_BAD_NAME } from '../../ffi/gss-status.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { isFailure, outcomeOf, type Failure } from './failure.js';
import type { Binding, GssCredential } from './gssapi-credential.js';
import type { Acquired } from './gssapi-sources.js';
import type { TicketCache } from './gssapi-tickets.js';
import { gssRequestFlags, iscRetFlags } from './gssapi-flags.js';
import { GssContext, GssName, ownFailure, type StepResult } from './gssapi-native.js';
import { mechFor, mechsFor, ntlmRefusal } from './gssapi-ntlm.js';
import { initiatorStep } from './gssapi-step.js';
import { targetNameType } from './gssapi-target.js';
import type { InitializeOutcome, InitializeRequest, PackageName, ProviderContext } from './provider.js';
import { SpnegoInitiator, type SpnegoStep } from './spnego-initiator.js';

/** Delegation asks the KDC for a forwarded TGT during the first leg (MIT's make_ap_req_v1, krb5_fwd_tgt_creds). */
const DELEGATION = G.GSS_C_DELEG_FLAG | G.GSS_C_DELEG_POLICY_FLAG;

/** First-leg failures after which a bound default credential is dropped and the leg tried once unbound. */
const UNBIND_ON = new Set([S.SEC_E_NO_CREDENTIALS, S.SEC_E_LOGON_DENIED, S.SEC_E_CONTEXT_EXPIRED, S.SEC_E_WRONG_PRINCIPAL]);

/** What each handle's acquisition settled to (GssCredential.acquired), once it has. */
const settled = new WeakMap<GssCredential, Acquired | Failure>();

export class GssContextState implements ProviderContext {
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
    /**
     * What the context was begun with and holds until it goes: a renewing handle's TGT, the handle's ticket cache
     * (a first leg on the loop), and the handle to give them back to.
     */
    private readonly held?: { credential: GssCredential; binding?: Binding; tickets?: TicketCache },
  ) {}

  release(): void {
    this.mech.release();
    this.target.release();
    if (this.held?.binding) this.held.credential.drop(this.held.binding);
    if (this.held?.tickets) this.held.credential.dropTickets(this.held.tickets);
  }
}

/**
 * InitializeSecurityContext over GSS: the first leg (target name, flags, the credential: a renewing handle's TGT, the
 * bound default one, or the handle's) or a later one, through our SPNEGO framing or the initiator step, then the
 * NTLM policy and the SSPI result.
 */
export async function initializeContext(request: InitializeRequest): Promise<InitializeOutcome> {
  const credential = request.credential as GssCredential;
  // A handle's acquisition settles once: after that its value is read here, not awaited again at every leg.
  let acquired = settled.get(credential);
  if (!acquired) settled.set(credential, acquired = await credential.acquired);
  if (isFailure(acquired)) return fail(acquired, request.context);

  let state = request.context as GssContextState | undefined;
  let reauth = false;
  if (state?.complete && !request.token) {
    // Calling again on a completed context without a token asks for a re-authentication (docs/api.md, "Context
    // states"): start over in place.
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
    const mechs = mechsFor(credential.source);
    const flags = gssRequestFlags(request.contextReq, request.unconstrainedDelegation);
    const begin = async (cred: bigint | null, local = false) => {
      const mech = new GssContext(mechFor(credential.source), cred, target, flags, request.channelBindings, local);
      const spnego = credential.source.package === 'Negotiate' && credential.source.spnego === 'library'
        ? new SpnegoInitiator(mech) : undefined;
      return { mech, spnego, step: spnego ? await spnego.start() : await initiatorStep(mech, request.token) };
    };
    const held = credential.renewer ? await credential.take() : undefined;
    if (held && isFailure(held)) {
      target.release();
      return fail(held);
    }
    // The service ticket in the handle's memory: the leg runs on this thread, with a credential that cannot reach a
    // KDC (gssapi-tickets.ts). Not for host-based names (MIT may canonicalize them through DNS) nor delegation (it
    // asks the KDC for a forwarded TGT).
    let tickets = !request.token && nameForm.type === G.OIDS.KRB5_NT_PRINCIPAL_NAME && !(flags & DELEGATION)
      ? credential.ticketsFor(nameForm.text, acquired, held) : undefined;
    let first: Awaited<ReturnType<typeof begin>> | undefined;
    try {
      first = tickets && await begin(tickets.cred, true);
    } catch (err) {
      credential.dropTickets(tickets!);
      throw err;
    }
    if (tickets && first && isFailure(first.step)) {
      // Not the ticket MIT looked for: the pool leg below decides, with the handle's own credential.
      first.mech.release();
      credential.missedTickets(nameForm.text, tickets);
      credential.dropTickets(tickets);
      tickets = undefined;
      first = undefined;
    }
    if (!first) {
      const bound = acquired.cred === null ? await credential.defaultCred(mechs) : null;
      first = await begin(held?.cred ?? acquired.cred ?? bound);
      if (bound && isFailure(first.step) && UNBIND_ON.has(first.step.status)) {
        // The default ccache changed hands (kinit as someone else, kdestroy): what GSS_C_NO_CREDENTIAL says now.
        first.mech.release();
        credential.unbind();
        first = await begin(null);
      }
      credential.ticketsChanged();
    }
    state = new GssContextState(first.mech, target, credential.source.package, first.spnego,
      held || tickets ? { credential, binding: held, tickets } : undefined);
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

/** A failed leg as the provider returns it: the failure, and the context when a later leg failed. */
function fail(failure: Failure, context?: ProviderContext): InitializeOutcome {
  const outcome: InitializeOutcome = { ...outcomeOf(failure), contextAttr: 0 };
  if (context) outcome.context = context;
  return outcome;
}

