// Every public call with hostile arguments (wrong types, null, NaN, symbols, NUL, huge strings, prototype-less
// objects): a programmer error is a TypeError that says what was wrong, an SSPI failure a status, an HTTP one an
// HttpNegotiateError; never an internal exception ("Cannot read properties of undefined ...") and never a crash.
// The calls that are valid go as far as the network (a closed loopback port) or the KDC of the harness.
import { expect } from 'chai';
import * as K from '../../lib/index.js';
import { realmSuite } from '../harness/realm-suite.js';

/** What a leaked internal error looks like, as opposed to a TypeError of ours naming the argument. */
const INTERNAL = /Cannot read propert|is not a function|Cannot convert a Symbol|is not iterable|Cannot use 'in'|of undefined|of null/;

describe('hostile arguments to every public call', function () {
  this.timeout(120_000);
  realmSuite();

  it('give a TypeError that names the problem, a status, or a network error: never an internal exception', async () => {
    const bad: unknown[] = [undefined, null, 0, -1, 1.5, NaN, '', 'x', '\u0000', 'a'.repeat(100000), {}, [], [{}], [{ type: 2, buffer: 'x' }], [{ type: 2, buffer: new Uint8Array(1) }], Symbol('s'), () => 1, Object.create(null), 2n, true];
    const fns: Record<string, (a: unknown, b?: unknown) => unknown> = {
      acquire: (a) => K.acquireCredentialsHandle(a as never),
      acquireP: (a) => K.acquireCredentialsHandle({ principal: a } as never),
      acquirePkg: (a) => K.acquireCredentialsHandle({ package: a } as never),
      acquirePw: (a) => K.acquireCredentialsHandle({ principal: 'a@B', password: a } as never),
      acquireLife: (a) => K.acquireCredentialsHandle({ keytab: '/x', principal: 'a', lifetime: a } as never),
      isc: (a) => K.initializeSecurityContext(a as never),
      iscTarget: (a) => K.initializeSecurityContext({ contextReq: 0, targetName: a } as never),
      iscInput: (a) => K.initializeSecurityContext({ contextReq: 0, targetName: 'HTTP/x', input: a } as never),
      iscOutput: (a) => K.initializeSecurityContext({ contextReq: 0, targetName: 'HTTP/x', output: a } as never),
      iscCtx: (a) => K.initializeSecurityContext({ contextReq: 0, context: a } as never),
      iscCred: (a) => K.initializeSecurityContext({ contextReq: 0, credential: a, targetName: 'HTTP/x' } as never),
      iscReq: (a) => K.initializeSecurityContext({ contextReq: a, targetName: 'HTTP/x' } as never),
      iscSignal: (a) => K.initializeSecurityContext({ contextReq: 0, targetName: 'HTTP/x', signal: a } as never),
      del: (a) => K.deleteSecurityContext(a as never),
      free: (a) => K.freeCredentialsHandle(a as never),
      complete: (a) => K.completeAuthToken(a as never),
      enc: (a) => K.encryptMessage(a as never, 0, []),
      enc2: (a) => K.encryptMessage({} as never, a as never, []),
      enc3: (a) => K.encryptMessage({} as never, 0, a as never),
      dec: (a) => K.decryptMessage(a as never, []),
      dec3: (a) => K.decryptMessage({} as never, a as never),
      sig: (a) => K.makeSignature(a as never, 0, []),
      ver: (a) => K.verifySignature({} as never, a as never),
      qca: (a) => K.queryContextAttributes(a as never, 0),
      qca2: (a) => K.queryContextAttributes({} as never, a as never),
      qcred: (a) => K.queryCredentialsAttributes(a as never, 0),
      qcred2: (a) => K.queryCredentialsAttributes({} as never, a as never),
      qspi: (a) => K.querySecurityPackageInfo(a as never),
      client: (a) => new K.NegotiateClient(a as never),
      clientT: (a) => new K.NegotiateClient({ target: a } as never),
      clientCB: (a) => new K.NegotiateClient({ target: 'HTTP/x', channelBindings: a } as never),
      clientCred: (a) => new K.NegotiateClient({ target: 'HTTP/x', credential: a } as never).step(),
      clientPkg: (a) => new K.NegotiateClient({ target: 'HTTP/x', package: a } as never).step(),
      clientReq: (a) => new K.NegotiateClient({ target: 'HTTP/x', contextReq: a } as never).step(),
      clientDel: (a) => new K.NegotiateClient({ target: 'HTTP/x', delegate: a } as never).step(),
      clientStep: (a) => new K.NegotiateClient({ target: 'HTTP/x' }).step(a as never),
      from64: (a) => K.fromBase64(a as never),
      to64: (a) => K.toBase64(a as never),
      secCB: (a) => K.secChannelBindings(a as never),
      parseCB: (a) => K.parseSecChannelBindings(a as never),
      lib: (a) => K.gssapiLibrary(a as never),
      maxKdc: (a) => { const p = K.setMaxConcurrentKdcCalls(a as never); K.setMaxConcurrentKdcCalls(p); return p; },
      statusName: (a) => K.statusName(a as never),
      secErr: (a) => new K.SecurityError(a as never),
      fetch: (a) => K.negotiateFetch(a as never),
      fetchOpt: (a) => K.negotiateFetch('http://127.0.0.1:1/', a as never),
      fetchSpn: (a) => K.negotiateFetch('http://127.0.0.1:1/', { spn: a } as never),
      fetchNeg: (a) => K.negotiateFetch('http://127.0.0.1:1/', { negotiate: a } as never),
      req: (a) => K.negotiateRequest(a as never),
      reqOpt: (a) => K.negotiateRequest('http://127.0.0.1:1/', a as never),
      reqHeaders: (a) => K.negotiateRequest('http://127.0.0.1:1/', { headers: a } as never),
      reqBody: (a) => K.negotiateRequest('http://127.0.0.1:1/', { method: 'POST', body: a } as never),
      reqProxy: (a) => K.negotiateRequest('http://127.0.0.1:1/', { proxy: a } as never),
      reqConnect: (a) => K.negotiateRequest('http://127.0.0.1:1/', { connect: a } as never),
      reqMaxLegs: (a) => K.negotiateRequest('http://127.0.0.1:1/', { maxLegs: a } as never),
      dispatcher: (a) => new (K as never as { NegotiateDispatcher: new (x: unknown) => unknown }).NegotiateDispatcher(a),
      withNeg: (a) => (K as never as { withNegotiate: (x: unknown) => unknown }).withNegotiate(a),
    };
    const leaked: string[] = [];
    let calls = 0;
    for (const [name, fn] of Object.entries(fns)) {
      for (const [i, v] of bad.entries()) {
        calls++;
        try {
          const r = fn(v);
          const settled = r instanceof Promise ? await r : r;
          // A handle a valid call returned is freed; a client is disposed.
          if (settled instanceof K.CredentialsHandle) K.freeCredentialsHandle(settled);
        } catch (e) {
          const err = e as Error;
          const ours = err instanceof K.SecurityError || err instanceof K.HttpNegotiateError;
          const network = /ECONNREFUSED/.test(String(err?.message));
          // (The WHATWG Headers constructor's own TypeErrors are what fetch throws for the same headers.)
          const typeError = err instanceof TypeError && (!INTERNAL.test(err.message) || /^Headers con/.test(err.message));
          const state = /already loaded/.test(String(err?.message));
          if (!ours && !network && !typeError && !state) leaked.push(`${name}(${typeof v === 'string' ? `string of ${v.length}` : String(typeof v === 'symbol' ? 'symbol' : typeof v)} #${i}): ${err?.constructor?.name}: ${String(err?.message).slice(0, 120)}`);
        }
      }
    }
    expect(calls).to.be.greaterThan(1000);
    expect(leaked, leaked.join('\n')).to.deep.equal([]);
  });
});
