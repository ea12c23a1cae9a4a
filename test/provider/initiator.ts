// The independent initiator of the acceptor contract (acceptor.test.ts): the acceptor under test authenticates it and
// exchanges messages with it. Two kinds, both on Linux: our own client over the GSS library the Linux process loads
// (MIT in `npm test` and behind the Wine bridge, Heimdal in `npm run test:heimdal`), and python-gssapi over MIT (raw
// krb5 for Kerberos, MIT's SPNEGO for Negotiate). In the Linux run it lives in the test process; under Wine the
// Windows node reaches it through test/wine/bridge.ts (ops init-*), as peer.ts reaches the acceptor.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_DELEGATE, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SECBUFFER_CHANNEL_BINDINGS, SECBUFFER_DATA,
  SECBUFFER_PADDING, SECBUFFER_STREAM, SECBUFFER_TOKEN, SECQOP_WRAP_NO_ENCRYPT, SECPKG_ATTR_SIZES, acquireCredentialsHandle, decryptMessage, deleteSecurityContext, encryptMessage,
  freeCredentialsHandle, initializeSecurityContext, makeSignature, queryContextAttributes, secChannelBindings, verifySignature,
  type ContextHandle, type CredentialsHandle, type SecBuffer,
} from '../../lib/index.js';
import { PythonInitiator } from '../harness/python-initiator.js';
import type { Realm } from './realm.js';

export type InitiatorKind = 'ours' | 'python';

export interface InitiatorOptions {
  kind: InitiatorKind;
  package: 'Kerberos' | 'Negotiate';
  /** The service in the GSS host-based form, `HTTP@host`. */
  service: string;
  /** Ask for mutual authentication (default true). */
  mutual?: boolean;
  delegate?: boolean;
  /** Channel bindings' application data the initiator binds the context to. */
  bindings?: Buffer;
}

export interface InitiatorStep {
  token: Buffer;
  complete: boolean;
  error: string | null;
  /** unwrap: the message and whether it was encrypted. */
  data?: Buffer;
  encrypted?: boolean;
}

export interface Initiator {
  /** The first token. */
  start(): Promise<InitiatorStep>;
  /** The acceptor's reply; the next token, if any. */
  step(token: Uint8Array): Promise<InitiatorStep>;
  /** A sealed (or, conf false, signed-only) message as it goes on the wire (gss_wrap's token). */
  wrap(data: Uint8Array, conf?: boolean): Promise<InitiatorStep>;
  unwrap(token: Uint8Array): Promise<InitiatorStep>;
  mic(data: Uint8Array): Promise<InitiatorStep>;
  verify(data: Uint8Array, mic: Uint8Array): Promise<InitiatorStep>;
  close(): void;
}

export const fail = (error: unknown): InitiatorStep => ({ token: Buffer.alloc(0), complete: false, error: error instanceof Error ? error.message : String(error) });

/**
 * Per-message calls on a complete context of the GSS provider (client or server), as the wire carries them: TOKEN,
 * DATA, PADDING in a row is gss_wrap's token, and a SECBUFFER_STREAM opens one.
 */
export function gssMessages(context: ContextHandle): Pick<Initiator, 'wrap' | 'unwrap' | 'mic' | 'verify'> {
  const sizes = () => queryContextAttributes(context, SECPKG_ATTR_SIZES).value!;
  return {
    async wrap(data, conf = true) {
      const s = sizes();
      const r = encryptMessage(context, conf ? 0 : SECQOP_WRAP_NO_ENCRYPT, [
        { type: SECBUFFER_TOKEN, buffer: new Uint8Array(s.cbSecurityTrailer) }, { type: SECBUFFER_DATA, buffer: Buffer.from(data) },
        { type: SECBUFFER_PADDING, buffer: new Uint8Array(s.cbBlockSize) },
      ]);
      if (r.error) return fail(r.error);
      return { token: Buffer.concat(r.buffers!.map((b) => b.buffer)), complete: true, error: null };
    },
    async unwrap(token) {
      const r = decryptMessage(context, [{ type: SECBUFFER_STREAM, buffer: Buffer.from(token) }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }]);
      if (r.error) return fail(r.error);
      return { token: Buffer.alloc(0), complete: true, error: null, data: Buffer.from(r.buffers![1].buffer), encrypted: r.qop === 0 };
    },
    async mic(data) {
      const r = makeSignature(context, 0, [{ type: SECBUFFER_DATA, buffer: Buffer.from(data) }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(sizes().cbMaxSignature) }]);
      if (r.error) return fail(r.error);
      return { token: Buffer.from(r.buffers![1].buffer), complete: true, error: null };
    },
    async verify(data, mic) {
      const r = verifySignature(context, [{ type: SECBUFFER_DATA, buffer: Buffer.from(data) }, { type: SECBUFFER_TOKEN, buffer: Buffer.from(mic) }]);
      return r.error ? fail(r.error) : { token: Buffer.alloc(0), complete: true, error: null };
    },
  };
}

/** Our client over the GSS library of this (Linux) process, with the default credential (alice's TGT). */
class OurInitiator implements Initiator {
  private credential?: CredentialsHandle;
  private context?: ContextHandle;
  private readonly req: number;

  constructor(private readonly opts: InitiatorOptions) {
    this.req = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | (opts.mutual === false ? 0 : ISC_REQ_MUTUAL_AUTH) | (opts.delegate ? ISC_REQ_DELEGATE : 0);
  }

  private async leg(input: SecBuffer[]): Promise<InitiatorStep> {
    const r = await initializeSecurityContext({ credential: this.credential, context: this.context, targetName: this.opts.service, contextReq: this.req, input });
    if (r.context) this.context = r.context;
    if (r.error) return fail(r.error);
    return { token: Buffer.from(r.output[0]?.buffer ?? []), complete: r.statusName === 'SEC_E_OK', error: null };
  }

  async start(): Promise<InitiatorStep> {
    this.credential = await acquireCredentialsHandle({ package: this.opts.package });
    const bindings = this.opts.bindings ? [{ type: SECBUFFER_CHANNEL_BINDINGS, buffer: secChannelBindings({ applicationData: this.opts.bindings }) }] : [];
    return this.leg(bindings);
  }

  step(token: Uint8Array): Promise<InitiatorStep> {
    return this.leg([{ type: SECBUFFER_TOKEN, buffer: Buffer.from(token) }]);
  }

  wrap(data: Uint8Array, conf = true) { return gssMessages(this.context!).wrap(data, conf); }
  unwrap(token: Uint8Array) { return gssMessages(this.context!).unwrap(token); }
  mic(data: Uint8Array) { return gssMessages(this.context!).mic(data); }
  verify(data: Uint8Array, mic: Uint8Array) { return gssMessages(this.context!).verify(data, mic); }

  close(): void {
    if (this.context) deleteSecurityContext(this.context);
    if (this.credential) freeCredentialsHandle(this.credential);
    this.context = undefined;
    this.credential = undefined;
  }
}

/** python-gssapi (MIT): raw krb5 for Kerberos, MIT's SPNEGO for Negotiate. GSS flags: mutual 2, conf 16, integ 32, deleg 1. */
class PythonSide implements Initiator {
  private readonly py: PythonInitiator;
  constructor(private readonly opts: InitiatorOptions, env: Record<string, string>) {
    this.py = new PythonInitiator(env);
  }

  start(): Promise<InitiatorStep> {
    const flags = 16 | 32 | (this.opts.mutual === false ? 0 : 2) | (this.opts.delegate ? 1 : 0);
    return this.py.start(this.opts.service, { mech: this.opts.package === 'Negotiate' ? 'spnego' : 'krb5', flags, bindings: this.opts.bindings });
  }

  step(token: Uint8Array) { return this.py.step(Buffer.from(token)); }
  wrap(data: Uint8Array, conf = true) { return this.py.wrap(data, conf); }
  unwrap(token: Uint8Array) { return this.py.unwrap(token); }
  mic(data: Uint8Array) { return this.py.mic(data); }
  verify(data: Uint8Array, mic: Uint8Array) { return this.py.verify(data, mic); }
  close(): void { this.py.close(); }
}

/** An initiator in this (Linux) process: what the Linux run uses directly and the Wine bridge serves. */
export function linuxInitiator(opts: InitiatorOptions, env: Record<string, string> = {}): Initiator {
  const inner = opts.kind === 'ours' ? new OurInitiator(opts) : new PythonSide(opts, env);
  const guard = <A extends unknown[]>(f: (...a: A) => Promise<InitiatorStep>) => (...a: A) => f(...a).catch(fail);
  return {
    start: guard(() => inner.start()), step: guard((t) => inner.step(t)), wrap: guard((d, c) => inner.wrap(d, c)),
    unwrap: guard((t) => inner.unwrap(t)), mic: guard((d) => inner.mic(d)), verify: guard((d, m) => inner.verify(d, m)),
    close: () => inner.close(),
  };
}

/** The initiator for the suite: local on Linux, behind the bridge under Wine. */
export async function openInitiator(realm: Realm, opts: Omit<InitiatorOptions, 'service'>): Promise<Initiator> {
  const full: InitiatorOptions = { ...opts, service: realm.gssService };
  if (!process.env.KN_BRIDGE_PORT) return linuxInitiator(full, realm.localPeerEnv?.('http') ?? {});
  const socket = connect(Number(process.env.KN_BRIDGE_PORT), '127.0.0.1');
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
  const b64 = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes).toString('base64') : undefined);
  const call = async (req: Record<string, unknown>): Promise<InitiatorStep> => {
    socket.write(`${JSON.stringify(req)}\n`);
    const next = await lines.next();
    if (next.done) throw new Error('the bridge closed the connection');
    const r = JSON.parse(next.value as string);
    if (r.error && r.token === undefined) return fail(r.error);
    return { ...r, token: Buffer.from(r.token ?? '', 'base64'), data: r.data === undefined ? undefined : Buffer.from(r.data, 'base64') };
  };
  return {
    start: () => call({ op: 'init-new', options: { ...full, bindings: b64(full.bindings) } }),
    step: (t) => call({ op: 'init-step', token: b64(t) }),
    wrap: (d, conf = true) => call({ op: 'init-wrap', data: b64(d), conf }),
    unwrap: (t) => call({ op: 'init-unwrap', token: b64(t) }),
    mic: (d) => call({ op: 'init-mic', data: b64(d) }),
    verify: (d, m) => call({ op: 'init-verify', data: b64(d), mic: b64(m) }),
    close: () => socket.destroy(),
  };
}
