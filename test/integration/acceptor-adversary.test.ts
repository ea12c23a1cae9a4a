// The acceptor's public calls walked like an adversary would: every call (acceptSecurityContext,
// queryContextAttributes, delegatedCredential, the message calls, deleteSecurityContext, NegotiateServer.step and
// dispose) with every odd argument (handles of the wrong kind, deleted or forged handles, strings with NUL, contextReq
// out of range, buffers of the wrong type or size, SharedArrayBuffer and other typed arrays, concurrent calls on one
// context, an aborted signal). Each answer must be a TypeError or a SEC_E status (a SecurityError where the API
// throws), never a crash, a hang or a leak: every native state is released at the end. MIT and Heimdal.
import { expect } from 'chai';
import {
  ASC_REQ_ALLOCATE_MEMORY,
  ASC_REQ_CONFIDENTIALITY,
  ContextHandle,
  NegotiateServer,
  SECPKG_ATTR_NAMES,
  SECPKG_ATTR_SIZES,
  SECPKG_CRED_INBOUND,
  SecurityError,
  acceptSecurityContext,
  acquireCredentialsHandle,
  decryptMessage,
  delegatedCredential,
  deleteSecurityContext,
  encryptMessage,
  freeCredentialsHandle,
  initializeSecurityContext,
  makeSignature,
  queryContextAttributes,
  verifySignature,
  type CredentialsHandle,
} from '../../lib/index.js';
import { liveNativeStates } from '../../lib/facade/handles.js';
import * as F from '../../lib/vocabulary/flags.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';

const ASC = ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY;
const ISC_DCE = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY | F.ISC_REQ_USE_DCE_STYLE;
const tokenOf = (r: { output: Array<{ buffer: Uint8Array }> }) => Buffer.from(r.output[0]?.buffer ?? []);
const tok = (b: Uint8Array) => [{ type: F.SECBUFFER_TOKEN, buffer: b }];

/** Contexts the probes' results handed back (failed ones too: the caller deletes them), deleted by each test. */
const handedBack: ContextHandle[] = [];
const deleteHandedBack = () => handedBack.splice(0).forEach((c) => deleteSecurityContext(c));

/** What a call did: "TypeError", a SEC_E/SEC_I status name (returned, or thrown as SecurityError), or what else it threw. */
async function outcome(call: () => unknown): Promise<string> {
  try {
    const r = (await call()) as { statusName?: string; context?: unknown } | number | undefined;
    if (typeof r === 'object' && r !== null && r.context instanceof ContextHandle) handedBack.push(r.context);
    if (typeof r === 'object' && r !== null && typeof r.statusName === 'string') return r.statusName;
    return `value:${typeof r === 'object' && r !== null ? r.constructor.name : String(r)}`;
  } catch (err) {
    if (err instanceof SecurityError) return err.statusName;
    if (err instanceof TypeError) return 'TypeError';
    return `threw:${(err as Error)?.name}:${(err as Error)?.message}`;
  }
}

const acceptable = (o: string) => o === 'TypeError' || /^SEC_[EI]_/.test(o);

describe('acceptor API walked like an adversary: a TypeError or a SEC_E status, never a crash, hang or leak', function () {
  this.timeout(120_000);
  let kdc: Kdc;
  let spn: string;
  let outbound: CredentialsHandle;
  let inbound: CredentialsHandle;
  const odd: Record<string, string> = {};

  before(async () => {
    kdc = await kdcWithAlice();
    spn = `HTTP/${kdc.hostname}`;
    outbound = await acquireCredentialsHandle({ package: 'Kerberos' });
    inbound = await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
  });
  after(() => {
    freeCredentialsHandle(outbound);
    freeCredentialsHandle(inbound);
  });

  async function firstToken(contextReq = F.ISC_REQ_MUTUAL_AUTH) {
    const c = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq });
    return { token: tokenOf(c), client: c.context! };
  }

  /** Runs `call`, records its outcome under `name`, and checks it is acceptable. */
  async function probe(name: string, call: () => unknown, expected?: string): Promise<string> {
    const o = await outcome(call);
    odd[name] = o;
    expect(acceptable(o), `${name}: ${o}`).to.equal(true);
    if (expected) expect(o, name).to.equal(expected);
    return o;
  }

  it('acceptSecurityContext: odd options, handles and buffers', async () => {
    const before = liveNativeStates();
    const { token, client } = await firstToken();
    const freed = await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
    freeCredentialsHandle(freed);
    const other = await firstToken();
    const deleted = (await acceptSecurityContext({ credential: inbound, input: tok(other.token), contextReq: ASC }));
    deleteSecurityContext(deleted.context!);
    deleteSecurityContext(other.client);
    const asc = (o: object) => () => acceptSecurityContext(o as never);
    const base = { credential: inbound, contextReq: ASC };

    await probe('no options', () => acceptSecurityContext(undefined as never), 'TypeError');
    await probe('options a string', asc('x' as never), 'TypeError');
    await probe('unknown option', asc({ ...base, input: tok(token), targetName: 'x' }), 'TypeError');
    for (const contextReq of [-1, 2 ** 32, 1.5, NaN, '0', null, 2 ** 53]) {
      await probe(`contextReq ${String(contextReq)}`, asc({ ...base, input: tok(token), contextReq }), 'TypeError');
    }
    await probe('contextReq 0xffffffff', asc({ ...base, input: tok(token), contextReq: 0xffffffff }), 'SEC_E_UNSUPPORTED_FUNCTION');
    await probe('targetDataRep 7', asc({ ...base, input: tok(token), targetDataRep: 7 }), 'TypeError');
    await probe('channelBindings policy "bogus"', asc({ ...base, input: tok(token), channelBindings: 'bogus' }), 'TypeError');
    await probe('channelBindings policy with NUL', asc({ ...base, input: tok(token), channelBindings: 'required\0' }), 'TypeError');
    await probe('signal a string', asc({ ...base, input: tok(token), signal: 'x' }), 'TypeError');
    const aborted = AbortSignal.abort(new TypeError('aborted by the caller'));
    await probe('signal already aborted (its reason is thrown)', asc({ ...base, input: tok(token), signal: aborted }), 'TypeError');

    await probe('an outbound credential', asc({ credential: outbound, input: tok(token), contextReq: ASC }), 'SEC_E_NO_CREDENTIALS');
    await probe('a freed credential', asc({ credential: freed, input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');
    await probe('a forged credential {}', asc({ credential: {}, input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');
    await probe('credential a string', asc({ credential: 'HTTP/x', input: tok(token), contextReq: ASC }), 'TypeError');
    await probe('credential null', asc({ credential: null, input: tok(token), contextReq: ASC }), 'TypeError');
    await probe('no credential, no context', asc({ input: tok(token), contextReq: ASC }), 'SEC_E_NO_CREDENTIALS');
    await probe('a client context', asc({ context: client, input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');
    await probe('a deleted server context', asc({ context: deleted.context, input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');
    await probe('a forged context (its prototype)', asc({ context: Object.create(ContextHandle.prototype), input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');
    await probe('a credential handle as the context', asc({ context: inbound, input: tok(token), contextReq: ASC }), 'SEC_E_INVALID_HANDLE');

    await probe('input undefined', asc({ ...base }), 'SEC_E_INVALID_TOKEN');
    await probe('input a string', asc({ ...base, input: 'YII=' }), 'TypeError');
    await probe('input [null]', asc({ ...base, input: [null] }), 'TypeError');
    await probe('input sparse', asc({ ...base, input: [, { type: F.SECBUFFER_TOKEN, buffer: token }] }), 'TypeError'); // eslint-disable-line no-sparse-arrays
    await probe('buffer a string', asc({ ...base, input: [{ type: F.SECBUFFER_TOKEN, buffer: token.toString('base64') }] }), 'TypeError');
    await probe('buffer an ArrayBuffer', asc({ ...base, input: [{ type: F.SECBUFFER_TOKEN, buffer: token.buffer }] }), 'TypeError');
    await probe('buffer a Uint16Array', asc({ ...base, input: [{ type: F.SECBUFFER_TOKEN, buffer: new Uint16Array(8) }] }), 'TypeError');
    await probe('buffer a DataView', asc({ ...base, input: [{ type: F.SECBUFFER_TOKEN, buffer: new DataView(new ArrayBuffer(8)) }] }), 'TypeError');
    await probe('type 1.5', asc({ ...base, input: [{ type: 1.5, buffer: token }] }), 'TypeError');
    await probe('type a string', asc({ ...base, input: [{ type: '2', buffer: token }] }), 'TypeError');
    await probe('only a SECBUFFER_DATA', asc({ ...base, input: [{ type: F.SECBUFFER_DATA, buffer: token }] }), 'SEC_E_INVALID_TOKEN');
    await probe('type -1', asc({ ...base, input: [{ type: -1, buffer: token }] }), 'SEC_E_INVALID_TOKEN');
    await probe('type 0xffffffff', asc({ ...base, input: [{ type: 0xffffffff, buffer: token }] }), 'SEC_E_INVALID_TOKEN');
    await probe('a 0-byte token', asc({ ...base, input: tok(Buffer.alloc(0)) }), 'SEC_E_INVALID_TOKEN');
    await probe('a 1 MiB token', asc({ ...base, input: tok(Buffer.alloc(1 << 20, 0x60)) }), 'SEC_E_INVALID_TOKEN');
    await probe('0-byte channel bindings', asc({ ...base, input: [...tok(token), { type: F.SECBUFFER_CHANNEL_BINDINGS, buffer: Buffer.alloc(0) }] }), 'SEC_E_BAD_BINDINGS');
    const lying = Buffer.alloc(32);
    lying.writeUInt32LE(16, 24); // cbApplicationDataLength
    lying.writeUInt32LE(0xffffff00, 28); // dwApplicationDataOffset, far outside the buffer
    await probe('channel bindings whose offsets lie', asc({ ...base, input: [...tok(token), { type: F.SECBUFFER_CHANNEL_BINDINGS, buffer: lying }] }), 'SEC_E_BAD_BINDINGS');
    const small = await firstToken();
    await probe('output: a 0-byte token buffer without ALLOCATE_MEMORY', asc({ credential: inbound, contextReq: ASC_REQ_CONFIDENTIALITY, input: tok(small.token), output: [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(0) }] }), 'SEC_E_INSUFFICIENT_MEMORY');
    deleteSecurityContext(small.client);
    await probe('output a string', asc({ ...base, input: tok(token), output: 'x' }), 'TypeError');

    // A real token in memory a worker could be changing (SharedArrayBuffer) and at an offset inside a larger buffer.
    const shared = new Uint8Array(new SharedArrayBuffer(token.length));
    shared.set(token);
    const r1 = await acceptSecurityContext({ ...base, input: tok(shared) });
    await probe('a token in a SharedArrayBuffer', () => r1, 'SEC_E_OK');
    deleteSecurityContext(r1.context!);
    const second = await firstToken();
    const padded = Buffer.concat([Buffer.alloc(7), second.token, Buffer.alloc(9)]).subarray(7, 7 + second.token.length);
    const sharedOut = new Uint8Array(new SharedArrayBuffer(4096));
    const r2 = await acceptSecurityContext({ credential: inbound, contextReq: ASC_REQ_CONFIDENTIALITY, input: tok(padded), output: [{ type: F.SECBUFFER_TOKEN, buffer: sharedOut }] });
    await probe('a token at an offset, the reply into a SharedArrayBuffer', () => r2, 'SEC_E_OK');
    deleteSecurityContext(r2.context!);
    deleteSecurityContext(second.client);
    deleteSecurityContext(client);
    deleteHandedBack();
    await new Promise((r) => setTimeout(r, 50));
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  it('concurrent calls: one AP-REQ accepted by many at once succeeds once; many next legs on one context complete it once', async () => {
    const before = liveNativeStates();
    const { token, client } = await firstToken();
    const all = await Promise.all(Array.from({ length: 8 }, () => acceptSecurityContext({ credential: inbound, input: tok(token), contextReq: ASC })));
    const names = all.map((r) => r.statusName);
    expect(names.filter((n) => n === 'SEC_E_OK'), names.join()).to.have.length(1);
    expect(names.every(acceptable), names.join()).to.equal(true);
    for (const r of all) if (r.context) deleteSecurityContext(r.context);
    deleteSecurityContext(client);

    const c1 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: ISC_DCE });
    const s1 = await acceptSecurityContext({ credential: inbound, input: tok(tokenOf(c1)), contextReq: ASC });
    const c2 = await initializeSecurityContext({ context: c1.context, contextReq: ISC_DCE, input: tok(tokenOf(s1)) });
    const legs = await Promise.all(Array.from({ length: 6 }, () => acceptSecurityContext({ context: s1.context, input: tok(tokenOf(c2)), contextReq: ASC })));
    const legNames = legs.map((r) => r.statusName);
    expect(legNames.filter((n) => n === 'SEC_E_OK'), legNames.join()).to.have.length(1);
    expect(legNames.every(acceptable), legNames.join()).to.equal(true);
    // Deleted while a leg is in flight: the leg ends with a status, the context goes after it.
    const c3 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: ISC_DCE });
    const s3 = await acceptSecurityContext({ credential: inbound, input: tok(tokenOf(c3)), contextReq: ASC });
    const c4 = await initializeSecurityContext({ context: c3.context, contextReq: ISC_DCE, input: tok(tokenOf(s3)) });
    const inflight = acceptSecurityContext({ context: s3.context, input: tok(tokenOf(c4)), contextReq: ASC });
    expect(deleteSecurityContext(s3.context!)).to.equal(0);
    await probe('a leg whose context was deleted while it ran', () => inflight);
    await probe('delegatedCredential of a context deleted mid-leg', () => ({ statusName: delegatedCredential(s3.context!) === undefined ? 'SEC_E_OK' : 'leaked' }), 'SEC_E_OK');
    // Aborted mid-leg: the Promise rejects with the reason, the context is deleted when the native call ends.
    const c5 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: F.ISC_REQ_MUTUAL_AUTH });
    const ac = new AbortController();
    const abortedLeg = acceptSecurityContext({ credential: inbound, input: tok(tokenOf(c5)), contextReq: ASC, signal: ac.signal });
    ac.abort(new TypeError('gave up'));
    await probe('a first leg aborted in flight', () => abortedLeg, 'TypeError');
    for (const c of [c1, c3, c5]) deleteSecurityContext(c.context!);
    deleteSecurityContext(s1.context!);
    deleteHandedBack();
    await new Promise((r) => setTimeout(r, 100));
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  it('queryContextAttributes, delegatedCredential, the message calls and deleteSecurityContext with odd arguments', async () => {
    const before = liveNativeStates();
    const { token, client } = await firstToken(F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY);
    const s = await acceptSecurityContext({ credential: inbound, input: tok(token), contextReq: ASC });
    const ctx = s.context!;
    for (const attribute of [-1, 2 ** 40, 0x7fffffff, 1.5, NaN, '0']) {
      await probe(`query attribute ${String(attribute)}`, () => queryContextAttributes(ctx, attribute as never));
    }
    for (const handle of [undefined, null, {}, 'ctx', inbound, Object.create(ContextHandle.prototype)]) {
      await probe(`query NAMES of ${String(handle)}`, () => queryContextAttributes(handle as never, SECPKG_ATTR_NAMES));
      await probe(`delegatedCredential of ${String(handle)}`, () => ({ statusName: delegatedCredential(handle as never) === undefined ? 'SEC_E_OK' : 'value' }), 'SEC_E_OK');
      await probe(`encryptMessage on ${String(handle)}`, () => encryptMessage(handle as never, 0, [{ type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }]));
      await probe(`deleteSecurityContext of ${String(handle)}`, () => ({ statusName: String(deleteSecurityContext(handle as never)) === '0' ? 'SEC_E_OK' : 'SEC_E_INVALID_HANDLE' }));
    }
    await probe('delegatedCredential of a client context', () => ({ statusName: delegatedCredential(client) === undefined ? 'SEC_E_OK' : 'value' }), 'SEC_E_OK');
    const sizes = queryContextAttributes(ctx, SECPKG_ATTR_SIZES).value!;
    const trailer = () => ({ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbSecurityTrailer) });
    const data = () => ({ type: F.SECBUFFER_DATA, buffer: Buffer.from('hello') });
    for (const qop of [-1, 2 ** 32, 1.5, NaN, 0x80000001]) await probe(`encryptMessage qop ${qop}`, () => encryptMessage(ctx, qop, [trailer(), data()]));
    for (const seq of [-1, 2 ** 40, NaN]) await probe(`encryptMessage seq ${seq}`, () => encryptMessage(ctx, 0, [trailer(), data()], seq));
    await probe('encryptMessage without buffers', () => encryptMessage(ctx, 0, []));
    // A hole is no SecBuffer (Array.prototype.some skips holes; the check must not).
    await probe('encryptMessage with a hole in its buffers', () => encryptMessage(ctx, 0, [, trailer(), data()] as never), 'TypeError'); // eslint-disable-line no-sparse-arrays
    await probe('decryptMessage with a hole in its buffers', () => decryptMessage(ctx, [{ type: F.SECBUFFER_STREAM, buffer: Buffer.alloc(64) }, ,] as never), 'TypeError'); // eslint-disable-line no-sparse-arrays
    await probe('verifySignature with a hole in its buffers', () => verifySignature(ctx, [data(), , { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(64) }] as never), 'TypeError'); // eslint-disable-line no-sparse-arrays
    await probe('encryptMessage buffers a string', () => encryptMessage(ctx, 0, 'x' as never), 'TypeError');
    await probe('encryptMessage with a 0-byte trailer', () => encryptMessage(ctx, 0, [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(0) }, data()]));
    await probe('encryptMessage with two DATA and no trailer', () => encryptMessage(ctx, 0, [data(), data()]));
    const sharedData = new Uint8Array(new SharedArrayBuffer(5));
    sharedData.set(Buffer.from('hello'));
    const sharedTrailer = new Uint8Array(new SharedArrayBuffer(sizes.cbSecurityTrailer));
    await probe('encryptMessage in SharedArrayBuffers', () => encryptMessage(ctx, 0, [{ type: F.SECBUFFER_TOKEN, buffer: sharedTrailer }, { type: F.SECBUFFER_DATA, buffer: sharedData }]), 'SEC_E_OK');
    await probe('decryptMessage of 0-byte buffers', () => decryptMessage(ctx, [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(0) }, { type: F.SECBUFFER_DATA, buffer: Buffer.alloc(0) }]));
    await probe('decryptMessage of a 0-byte STREAM', () => decryptMessage(ctx, [{ type: F.SECBUFFER_STREAM, buffer: Buffer.alloc(0) }, { type: F.SECBUFFER_DATA, buffer: Buffer.alloc(0) }]));
    await probe('decryptMessage of garbage', () => decryptMessage(ctx, [{ type: F.SECBUFFER_STREAM, buffer: Buffer.alloc(200, 0x60) }, { type: F.SECBUFFER_DATA, buffer: Buffer.alloc(0) }]));
    await probe('makeSignature into a 0-byte token', () => makeSignature(ctx, 0, [data(), { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(0) }]));
    await probe('verifySignature of a 0-byte MIC', () => verifySignature(ctx, [data(), { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(0) }]));
    await probe('verifySignature of a 1 MiB MIC', () => verifySignature(ctx, [data(), { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(1 << 20) }]));
    await probe('deleteSecurityContext twice (first)', () => ({ statusName: deleteSecurityContext(ctx) === 0 ? 'SEC_E_OK' : 'SEC_E_INVALID_HANDLE' }), 'SEC_E_OK');
    await probe('deleteSecurityContext twice (second)', () => ({ statusName: deleteSecurityContext(ctx) === 0 ? 'SEC_E_OK' : 'SEC_E_INVALID_HANDLE' }), 'SEC_E_INVALID_HANDLE');
    await probe('a message call after deletion', () => makeSignature(ctx, 0, [data(), { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(64) }]), 'SEC_E_INVALID_HANDLE');
    deleteSecurityContext(client);
    deleteHandedBack();
    await new Promise((r) => setTimeout(r, 50));
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  it('inbound acquisition with odd keytabs and principals: a TypeError, or a handle whose first accept gives a SEC_E status', async () => {
    const before = liveNativeStates();
    const keytab = kdc.principals.http.keytab!;
    const cases: Array<[string, object]> = [
      ['principal "@"', { keytab, principal: '@' }],
      ['principal of 100 000 characters', { keytab, principal: `HTTP/${'h'.repeat(100_000)}@${kdc.realm}` }],
      ['principal of another realm', { keytab, principal: `HTTP/${kdc.hostname}@NO.SUCH.REALM` }],
      ['principal with a NUL', { keytab, principal: 'HTTP/x\0@R' }],
      ['keytab a MEMORY: name', { keytab: 'MEMORY:kn-adversary' }],
      ['keytab of an unknown type', { keytab: 'NOSUCHTYPE:/x' }],
      ['keytab a directory', { keytab: '/tmp' }],
      ['keytab /dev/zero', { keytab: '/dev/zero' }],
      ['keytab with a NUL', { keytab: `${keytab}\0x` }],
      ['keytab a number', { keytab: 7 }],
      ['principal an empty string', { keytab, principal: '' }],
    ];
    for (const [name, options] of cases) {
      let cred: CredentialsHandle | undefined;
      const acquired = await outcome(async () => {
        cred = await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, ...options } as never);
        return { statusName: 'SEC_E_OK' };
      });
      if (!cred) {
        await probe(`acquire: ${name}`, () => ({ statusName: acquired }));
        continue;
      }
      const { token, client } = await firstToken();
      await probe(`accept with ${name}`, () => acceptSecurityContext({ credential: cred, input: tok(token), contextReq: ASC }));
      freeCredentialsHandle(cred);
      deleteSecurityContext(client);
    }
    deleteHandedBack();
    await new Promise((r) => setTimeout(r, 50));
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  it('NegotiateServer: odd constructor options, tokens, concurrent steps, dispose mid-step and after', async () => {
    const before = liveNativeStates();
    for (const options of [undefined, {}, { credential: 'x' }, { credential: inbound, mutual: 'maybe' }, { credential: inbound, contextReq: -1 }, { credential: inbound, channelBindings: 'cb' }]) {
      await probe(`new NegotiateServer(${JSON.stringify(options)})`, () => new NegotiateServer(options as never), 'TypeError');
    }
    const { token, client } = await firstToken();
    const withOutbound = new NegotiateServer({ credential: outbound });
    await probe('step with an outbound credential', () => withOutbound.step(token), 'SEC_E_NO_CREDENTIALS');
    withOutbound.dispose();
    for (const t of [123, null, undefined, {}, [1, 2]]) {
      const s = new NegotiateServer({ credential: inbound });
      await probe(`step(${JSON.stringify(t)})`, () => s.step(t as never), 'TypeError');
      s.dispose();
    }
    for (const t of ['', '\0\0\0\0', '!!!!', 'YII=\0', 'A'.repeat(200_000)]) {
      const s = new NegotiateServer({ credential: inbound });
      await probe(`step(${JSON.stringify(t.slice(0, 8))}... ${t.length})`, () => s.step(t), 'SEC_E_INVALID_TOKEN');
      s.dispose();
    }
    const s1 = new NegotiateServer({ credential: inbound, mutual: 'optional' });
    const both = await Promise.all([outcome(() => s1.step(token)), outcome(() => s1.step(token))]);
    expect(both.every((o) => acceptable(o) || o === 'value:ServerStep'), both.join()).to.equal(true);
    expect(both.filter((o) => o === 'value:ServerStep'), both.join()).to.have.length(1);
    s1.dispose();
    await probe('step after dispose', () => s1.step(token), 'SEC_E_INVALID_HANDLE');
    const again = await firstToken();
    const s2 = new NegotiateServer({ credential: inbound, mutual: 'optional' });
    const mid = s2.step(again.token);
    s2.dispose();
    await probe('dispose during the first step', () => mid, 'SEC_E_INVALID_HANDLE');
    s2.dispose();
    const aborted = new NegotiateServer({ credential: inbound, mutual: 'optional' });
    await probe('step with an aborted signal', () => aborted.step(again.token, { signal: AbortSignal.abort(new TypeError('no')) }), 'TypeError');
    aborted.dispose();
    deleteSecurityContext(client);
    deleteSecurityContext(again.client);
    deleteHandedBack();
    await new Promise((r) => setTimeout(r, 100));
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  after(() => {
    if (process.env.KN_ADVERSARY_TABLE) console.log(odd);
  });
});
