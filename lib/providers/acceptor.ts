// What an acceptor backend must do, in SSPI terms (AcceptSecurityContext). lib/facade/accept.ts validates arguments and
// owns handles; an acceptor only adapts. Its `provider` serves the calls every context shares (attributes, message
// protection) on the contexts and credentials it makes.
import type { AcquireOutcome, ChannelBindings, InitializeOutcome, PackageName, Provider, ProviderContext, ProviderCredential } from './provider.js';
import type { BindingsPolicy } from '../vocabulary/packages.js';

export type { BindingsPolicy };

/** Where an inbound (service) credential comes from. Validated by the API before an acceptor sees it. */
export interface InboundSource {
  package: PackageName;
  /** The service's keytab (`/path`, `FILE:/path`, ...), read for this handle only; absent: the default keytab. */
  keytab?: string;
  /** One service principal of the keytab; absent: any key in it (GSS_C_NO_NAME). */
  principal?: string;
  /** MIT's replay cache for this handle (an rcache name such as `dfl:/dir` or `file2:/path`); absent: MIT's default. */
  replayCache?: string;
  /**
   * Also initiate as `principal` from the keytab (GSS_C_BOTH), so that a client's forwardable ticket becomes, on
   * MIT, a delegated credential for S4U2Proxy (constrained delegation, the ticket as evidence).
   */
  constrainedDelegation?: boolean;
}

export interface AcceptRequest {
  credential: ProviderCredential;
  /** undefined on the first call. */
  context?: ProviderContext;
  /** The initiator's token. */
  token: Buffer;
  /** ASC_REQ_* flags, already checked against what the acceptor supports. */
  contextReq: number;
  /** The server's view of the channel (SECBUFFER_CHANNEL_BINDINGS), when given. */
  channelBindings?: ChannelBindings;
  bindingsPolicy: BindingsPolicy;
}

/** Like InitializeOutcome; `token` may be set on failure too (a KRB-ERROR, a SPNEGO reject for the initiator). */
export type AcceptOutcome = InitializeOutcome;

export interface Acceptor {
  readonly provider: Provider;
  /** The ASC_REQ_* bits this acceptor can honour; any other bit gives SEC_E_UNSUPPORTED_FUNCTION. */
  readonly supportedContextReq: number;
  /** Like Provider.acquireCredentials: failures are reported by the first accept() with the credential. */
  acquireInbound(source: InboundSource): Promise<AcquireOutcome>;
  /** True for a credential this acceptor made (an outbound one cannot accept). */
  isInbound(credential: ProviderCredential): boolean;
  accept(request: AcceptRequest): Promise<AcceptOutcome>;
  /**
   * The credential the client delegated on a complete context, handed over once as an outbound credential of
   * `provider`: the caller owns it from then on. undefined when none was delegated (or it was already taken).
   */
  takeDelegated(context: ProviderContext): { credential: ProviderCredential; provider: Provider; expiry?: Date; package: PackageName } | undefined;
}
