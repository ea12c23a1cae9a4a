// NegotiateClient: the idiomatic layer. One object per authentication, `step()` until done, exceptions instead of
// statuses, and secure defaults (mutual authentication required, no delegation).
import {
  deleteSecurityContext,
  initializeSecurityContext,
  type ContextHandle,
  type CredentialsHandle,
  type SecBuffer,
} from '../facade/api.js';
import { inspect } from 'node:util';
import { checkCString } from '../facade/cstring.js';
import { defaultCredential } from './default-credential.js';
import { secChannelBindings } from '../vocabulary/bindings.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import type { PackageName } from '../vocabulary/packages.js';

export interface NegotiateClientOptions {
  /** The SPN of the service: `HTTP/web.example.com`, `HTTP/web.example.com@REALM` or `HTTP@web.example.com`. */
  target: string;
  /**
   * `required` (default): the server must prove its identity, or step() throws SEC_E_MUTUAL_AUTH_FAILED.
   * `optional`: asked for, not enforced. `none`: not asked for.
   */
  mutual?: 'required' | 'optional' | 'none';
  /**
   * Delegate the client's TGT: `true` to targets the KDC marks ok-as-delegate (ISC_REQ_DELEGATE, Windows' meaning),
   * `'unconstrained'` to any target. Off by default.
   */
  delegate?: boolean | 'unconstrained';
  /** Channel-binding application data, e.g. `tls-server-end-point:` + certificate hash (RFC 5929). */
  channelBindings?: Uint8Array;
  /**
   * Credentials to use; default: the default credential cache, through one handle per package that the whole
   * process shares (default-credential.ts), so that repeated authentications do not acquire anew.
   */
  credential?: CredentialsHandle;
  /** `Negotiate` (default) or `Kerberos`. */
  package?: PackageName;
  /** Extra ISC_REQ_* flags or'ed into the defaults. */
  contextReq?: number;
}

export interface NegotiateStep {
  /** The token to send to the server (undefined when there is nothing to send). */
  token?: Buffer;
  /** True once the context is established and, where required, mutual authentication verified. */
  done: boolean;
}

/** A step whose token is not enumerable: util.inspect and JSON.stringify show its size only (docs/security.md). */
class Step implements NegotiateStep {
  readonly done: boolean;
  readonly #token?: Buffer;

  constructor(token: Buffer | undefined, done: boolean) {
    this.#token = token;
    this.done = done;
  }

  get token(): Buffer | undefined {
    return this.#token;
  }

  toJSON(): { done: boolean; token?: { size: number } } {
    return this.#token ? { done: this.done, token: { size: this.#token.length } } : { done: this.done };
  }

  [inspect.custom](): string {
    return `NegotiateStep { done: ${this.done}${this.#token ? `, token: <${this.#token.length} bytes>` : ''} }`;
  }
}

const DEFAULT_REQ = F.ISC_REQ_REPLAY_DETECT | F.ISC_REQ_SEQUENCE_DETECT | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY;

export class NegotiateClient {
  private readonly options: NegotiateClientOptions;
  private readonly contextReq: number;
  private credential?: CredentialsHandle;
  private context_?: ContextHandle;
  private attr = 0;
  private finished = false;
  private disposed = false;
  private expiryDate?: Date;
  /** Steps run one after the other: each needs the context and credential the one before it left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: NegotiateClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('NegotiateClient: options must be an object');
    if (typeof options.target !== 'string' || options.target.length === 0) throw new TypeError('NegotiateClient: target must be an SPN string');
    checkCString(options.target, 'target');
    const mutual = options.mutual ?? 'required';
    if (!['required', 'optional', 'none'].includes(mutual)) throw new TypeError('mutual must be "required", "optional" or "none"');
    if (options.channelBindings !== undefined && !(options.channelBindings instanceof Uint8Array)) {
      throw new TypeError('channelBindings must be a Uint8Array');
    }
    const extra = options.contextReq ?? 0;
    if (!Number.isInteger(extra) || extra < 0 || extra > 0xffffffff) throw new TypeError('contextReq must be an unsigned 32-bit integer of ISC_REQ_* flags');
    if (options.delegate !== undefined && typeof options.delegate !== 'boolean' && options.delegate !== 'unconstrained') {
      throw new TypeError('delegate must be a boolean or "unconstrained"');
    }
    if (options.package !== undefined && options.package !== 'Negotiate' && options.package !== 'Kerberos') {
      throw new TypeError('package must be "Negotiate" or "Kerberos"');
    }
    this.options = { ...options, mutual };
    this.contextReq = (DEFAULT_REQ | (options.contextReq ?? 0) | (mutual !== 'none' ? F.ISC_REQ_MUTUAL_AUTH : 0)
      | (options.delegate ? F.ISC_REQ_DELEGATE : 0)) >>> 0;
    this.credential = options.credential;
  }

  /** True once step() returned done. */
  get done(): boolean {
    return this.finished;
  }

  /** The ISC_RET_* flags of the last step. */
  get contextAttr(): number {
    return this.attr;
  }

  /** The security context, for queryContextAttributes (undefined before the first step and after dispose). */
  get context(): ContextHandle | undefined {
    return this.context_;
  }

  get expiry(): Date | undefined {
    return this.expiryDate;
  }

  /**
   * One leg: pass the server's token (Buffer or base64), or nothing on the first call. Throws SecurityError on
   * failure, including a server that did not prove itself when mutual authentication is required. With
   * `{ signal }` (e.g. `AbortSignal.timeout(5000)`) it rejects with the signal's reason on time.
   */
  step(serverToken?: Uint8Array | string, options: { signal?: AbortSignal } = {}): Promise<NegotiateStep> {
    const run = this.queue.then(() => this.leg(serverToken, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async leg(serverToken: Uint8Array | string | undefined, options: { signal?: AbortSignal }): Promise<NegotiateStep> {
    if (this.disposed) throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this NegotiateClient was disposed');
    if (this.finished && serverToken === undefined) throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this authentication is already complete');
    if (!this.credential) {
      options.signal?.throwIfAborted();
      const credential = await defaultCredential(this.options.package ?? 'Negotiate');
      if (this.disposed) throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this NegotiateClient was disposed during the step');
      this.credential = credential;
    }
    const input: SecBuffer[] = [];
    if (serverToken !== undefined) {
      input.push({ type: F.SECBUFFER_TOKEN, buffer: typeof serverToken === 'string' ? Buffer.from(serverToken, 'base64') : serverToken });
    }
    if (this.options.channelBindings) {
      input.push({ type: F.SECBUFFER_CHANNEL_BINDINGS, buffer: secChannelBindings({ applicationData: this.options.channelBindings }) });
    }
    const result = await initializeSecurityContext({
      credential: this.credential,
      context: this.context_,
      targetName: this.options.target,
      contextReq: this.contextReq,
      input,
      delegation: this.options.delegate === 'unconstrained' ? 'unconstrained' : 'policy',
      signal: options.signal,
    });
    if (this.disposed) {
      // dispose() ran while this leg was on the pool: what the leg made goes too.
      if (result.context) deleteSecurityContext(result.context);
      throw new S.SecurityError(S.SEC_E_INVALID_HANDLE, 'this NegotiateClient was disposed during the step');
    }
    if (result.context) this.context_ = result.context;
    if (result.error) throw result.error;
    this.attr = result.contextAttr;
    this.expiryDate = result.expiry;
    const token = result.output[0]?.buffer.length ? Buffer.from(result.output[0].buffer) : undefined;
    if (result.status !== S.SEC_E_OK) return new Step(token, false);
    if (this.options.mutual === 'required' && !(this.attr & F.ISC_RET_MUTUAL_AUTH)) {
      throw new S.SecurityError(S.SEC_E_MUTUAL_AUTH_FAILED, 'the server did not complete mutual authentication');
    }
    this.finished = true;
    return new Step(token, true);
  }

  /** Frees the context (and the credential, when this client acquired it). */
  dispose(): void {
    this.disposed = true;
    if (this.context_) deleteSecurityContext(this.context_);
    this.context_ = undefined;
    this.credential = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Base64 of a token, for an `Authorization: Negotiate` header. */
export function toBase64(token: Uint8Array): string {
  if (!(token instanceof Uint8Array)) throw new TypeError('toBase64: token must be a Uint8Array');
  return Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('base64');
}

/** A token from base64 (e.g. from `WWW-Authenticate: Negotiate <token>`). */
export function fromBase64(text: string): Buffer {
  if (typeof text !== 'string') throw new TypeError('fromBase64: text must be a string');
  return Buffer.from(text, 'base64');
}
