// The independent acceptor of the provider-level suite: python-gssapi over MIT on Linux. The suite talks to it the
// same way on every OS; on Linux it is a child process of the test, under Wine it sits behind test/wine/bridge.ts
// (the Windows node reaches it over loopback TCP, one JSON line per call).
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { PythonAcceptor } from '../harness/python-acceptor.js';
import { ourAcceptor } from './our-acceptor.js';
import type { Realm, ServiceKey } from './realm.js';

export interface PeerAnswer {
  token: Buffer;
  user: string | null;
  error: string | null;
  data?: Buffer;
  encrypted?: boolean;
}

export interface Peer {
  step(token: Uint8Array): Promise<PeerAnswer>;
  wrap(data: Uint8Array, conf?: boolean): Promise<PeerAnswer>;
  unwrap(token: Uint8Array): Promise<PeerAnswer>;
  mic(data: Uint8Array): Promise<PeerAnswer>;
  verify(data: Uint8Array, mic: Uint8Array): Promise<PeerAnswer>;
  /** Who the credential the initiator delegated belongs to (user null: nothing was delegated). */
  delegated(): Promise<PeerAnswer>;
  /** A first token for `service` (GSS form) made with the delegated credential. */
  forward(service: string): Promise<PeerAnswer>;
  close(): void;
}

/** Whether a peer can run here (the Linux side needs Debian's python3-gssapi, installed by .ci/run). */
export function peerAvailable(): boolean {
  return !!process.env.KN_BRIDGE_PORT || PythonAcceptor.available();
}

/**
 * An acceptor for the service `key` names (default http), bound to `bindings` (application data) when given:
 * python-gssapi, or (`acceptor: 'ours'`) our own acceptor over the Linux GSS library (our-acceptor.ts).
 */
export async function openPeer(realm: Realm, opts: { key?: ServiceKey; bindings?: Buffer; acceptor?: 'python' | 'ours' } = {}): Promise<Peer> {
  const key = opts.key ?? 'http';
  const service = `HTTP@${realm.host(key)}`;
  const bindings = opts.bindings;
  if (realm.localPeerEnv && opts.acceptor === 'ours') return ourAcceptor(realm.localPeerEnv(key).KRB5_KTNAME, bindings);
  if (realm.localPeerEnv) {
    const local = new PythonAcceptor(realm.localPeerEnv(key));
    try {
      await local.start(service, bindings);
    } catch (err) {
      local.close();
      throw err;
    }
    return {
      step: (t) => local.step(t), wrap: (d, c) => local.wrap(d, c), unwrap: (t) => local.unwrap(t), mic: (d) => local.mic(d),
      verify: (d, m) => local.verify(d, m), delegated: () => local.delegated(), forward: (svc) => local.forward(svc),
      close: () => local.close(),
    };
  }
  const socket = connect(Number(process.env.KN_BRIDGE_PORT), '127.0.0.1');
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
  const b64 = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes).toString('base64') : undefined);
  const call = async (req: Record<string, unknown>): Promise<PeerAnswer> => {
    socket.write(`${JSON.stringify(req)}\n`);
    const next = await lines.next();
    if (next.done) throw new Error('the bridge closed the connection');
    const r = JSON.parse(next.value as string);
    return { ...r, token: Buffer.from(r.token ?? '', 'base64'), data: r.data === undefined ? undefined : Buffer.from(r.data, 'base64') };
  };
  const started = await call({ op: 'new', service, key, bindings: bindings && b64(bindings), acceptor: opts.acceptor });
  if (started.error) {
    socket.destroy();
    throw new Error(`bridge: ${started.error}`);
  }
  return {
    step: (t) => call({ op: 'step', token: b64(t) }),
    wrap: (d, conf = true) => call({ op: 'wrap', data: b64(d), conf }),
    unwrap: (t) => call({ op: 'unwrap', token: b64(t) }),
    mic: (d) => call({ op: 'mic', data: b64(d) }),
    verify: (d, m) => call({ op: 'verify', data: b64(d), mic: b64(m) }),
    delegated: () => call({ op: 'delegated' }),
    forward: (svc) => call({ op: 'forward', service: svc }),
    close: () => socket.destroy(),
  };
}
