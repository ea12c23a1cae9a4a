// NegotiateServer: the idiomatic acceptor beside NegotiateClient. One object per authentication (per connection for
// multi-leg exchanges), `step(token)` until done, exceptions instead of statuses, and secure defaults: mutual
// authentication required, the client's identity and delegated credential only once complete.
import { inspect } from 'node:util';
import { acceptSecurityContext, delegatedCredential } from '../facade/accept.js';
import { deleteSecurityContext, type ContextHandle, type CredentialsHandle, type SecBuffer } from '../facade/api.js';
import { queryContextAttributes } from '../facade/query.js';
import type { BindingsPolicy } from '../vocabulary/packages.js';
import * as AF from '../vocabulary/accept-flags.js';
import { SECPKG_ATTR_NAMES } from '../vocabulary/attributes.js';
import { secChannelBindings } from '../vocabulary/bindings.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';

export interface NegotiateServerOptions {
  /** An inbound credential: acquireCredentialsHandle({ credentialUse: SECPKG_CRED_INBOUND, keytab }). */
  credential: CredentialsHandle;
  /**
   * `required` (default): a client that did not ask for mutual authentication is refused
   * (SEC_E_MUTUAL_AUTH_FAILED); `optional`: accepted either way.
   */
  mutual?: 'required' | 'optional';
  /** The server's channel-binding application data, e.g. `tls-server-end-point:` + its certificate's hash. */
  channelBindings?: Uint8Array;
  /** What to do with channel bindings (default: the credential handle's policy, `when-supported` unless set). */
  channelBindingsPolicy?: BindingsPolicy;
  /** Extra ASC_REQ_* flags or'ed into the defaults. */
  contextReq?: number;
}

export interface NegotiateServerStep {
  /** The token to send to the client (the AP-REP of mutual authentication on the last leg); undefined when none. */
  token?: Buffer;
  /** True once the client is authenticated. */
  done: boolean;
  /** The authenticated client's principal, once done. */
  client?: string;
}

class ServerStep implements NegotiateServerStep {
  readonly done: boolean;
  readonly client?: string;
  readonly #token?: Buffer;
  constructor(token: Buffer | undefined, done: boolean, client?: string) {
    this.#token = token;
    this.done = done;
    if (client !== undefined) this.client = client;
  }
  get token(): Buffer | undefined {
    return this.#token;
  }
  toJSON(): object {
    return { done: this.done, ...(this.client ? { client: this.client } : {}), ...(this.#token ? { token: { size: this.#token.length } } : {}) };
  }
  [inspect.custom](): string {
    return `NegotiateServerStep { done: ${this.done}${this.client ? `, client: ${this.client}` : ''}${this.#token ? `, token: <${this.#token.length} bytes>` : ''} }`;
  }
}

const DEFAULT_REQ = AF.ASC_REQ_REPLAY_DETECT | AF.ASC_REQ_SEQUENCE_DETECT | AF.ASC_REQ_CONFIDENTIALITY | AF.ASC_REQ_INTEGRITY;

export class NegotiateServer {
  private readonly options: NegotiateServerOptions;
  private readonly contextReq: number;
  private context_?: ContextHandle;
  private attr = 0;
  private finished = false;
  private disposed = false;
  private expiryDate?: Date;
  private clientName?: string;
  private errorReply?: Buffer;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: NegotiateServerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('NegotiateServer: options must be an object');
    if (typeof options.credential !== 'object' || options.credential === null) throw new TypeError('NegotiateServer: credential must be an inbound CredentialsHandle');
    const mutual = options.mutual ?? 'required';
    if (mutual !== 'required' && mutual !== 'optional') throw new TypeError('mutual must be "required" or "optional"');
    if (options.channelBindings !== undefined && !(options.channelBindings instanceof Uint8Array)) throw new TypeError('channelBindings must be a Uint8Array');
    const extra = options.contextReq ?? 0;
    if (!Number.isInteger(extra) || extra < 0 || extra > 0xffffffff) throw new TypeError('contextReq must be an unsigned 32-bit integer of ASC_REQ_* flags');
    this.options = { ...options, mutual };
    this.contextReq = (DEFAULT_REQ | extra | (mutual === 'required' ? AF.ASC_REQ_MUTUAL_AUTH : 0)) >>> 0;
  }

  get done(): boolean {
    return this.finished;
  }

  /** The ASC_RET_* flags of the last step. */
  get contextAttr(): number {
    return this.attr;
  }

  /** The server context, for queryContextAttributes and the message calls (undefined before the first step). */
  get context(): ContextHandle | undefined {
    return this.context_;
  }

  get expiry(): Date | undefined {
    return this.expiryDate;
  }

  /** The authenticated client's principal (`alice@EXAMPLE.COM`), once done. */
  get client(): string | undefined {
    return this.clientName;
  }

  /**
   * After a step threw: the token to send the client anyway (a KRB-ERROR, or a SPNEGO reject carrying it), which
   * tells it why. undefined when there is none.
   */
  get errorToken(): Buffer | undefined {
    return this.errorReply;
  }

  /**
   * One leg: the client's token (Buffer or base64, e.g. from `Authorization: Negotiate <token>`). Throws
   * SecurityError on failure (see errorToken for the reply the client may still get).
   */
  step(clientToken: Uint8Array | string, options: { signal?: AbortSignal } = {}): Promise<NegotiateServerStep> {
    const run = this.queue.then(() => this.leg(clientToken, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async leg(clientToken: Uint8Array | string, options: { signal?: AbortSignal }): Promise<NegotiateServerStep> {
    if (this.disposed) throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this NegotiateServer was disposed');
    if (this.finished) throw new S.SecurityError(S.SEC_E_INVALID_TOKEN, 'this authentication is already complete');
    if (typeof clientToken !== 'string' && !(clientToken instanceof Uint8Array)) throw new TypeError('step: the client token must be a Uint8Array or base64 string');
    const input: SecBuffer[] = [{ type: F.SECBUFFER_TOKEN, buffer: typeof clientToken === 'string' ? Buffer.from(clientToken, 'base64') : clientToken }];
    if (this.options.channelBindings) {
      input.push({ type: F.SECBUFFER_CHANNEL_BINDINGS, buffer: secChannelBindings({ applicationData: this.options.channelBindings }) });
    }
    this.errorReply = undefined;
    const result = await acceptSecurityContext({
      credential: this.context_ ? undefined : this.options.credential,
      context: this.context_,
      input,
      contextReq: this.contextReq,
      channelBindings: this.options.channelBindingsPolicy,
      signal: options.signal,
    });
    if (this.disposed) {
      if (result.context) deleteSecurityContext(result.context);
      throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this NegotiateServer was disposed during the step');
    }
    if (result.context) this.context_ = result.context;
    const token = result.output[0]?.buffer.length ? Buffer.from(result.output[0].buffer) : undefined;
    if (result.error) {
      this.errorReply = token;
      throw result.error;
    }
    this.attr = result.contextAttr;
    this.expiryDate = result.expiry;
    if (result.status !== S.SEC_E_OK) return new ServerStep(token, false);
    this.finished = true;
    this.clientName = queryContextAttributes(this.context_!, SECPKG_ATTR_NAMES).value?.userName;
    return new ServerStep(token, true, this.clientName);
  }

  /**
   * The credential the client delegated, as a new outbound CredentialsHandle (initializeSecurityContext,
   * NegotiateClient, negotiateFetch): handed over once, then yours to free. undefined when none was delegated.
   */
  delegatedCredential(): CredentialsHandle | undefined {
    return this.finished && this.context_ ? delegatedCredential(this.context_) : undefined;
  }

  /** Frees the context. The credential handle stays the caller's. */
  dispose(): void {
    this.disposed = true;
    if (this.context_) deleteSecurityContext(this.context_);
    this.context_ = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
