// The NUL sweep (issue 14, item 3): every string parameter of the public API that becomes a C string, given with an
// embedded NUL, is a TypeError that names the parameter (never its value) before any native call: no token for
// `HTTP/localhost` when `HTTP/localhost\0.evil.example` was asked for. Provider-independent: the same file runs
// against GSS-API (MIT in `npm test`, Heimdal in `npm run test:heimdal`) and against secur32.dll under Wine.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NegotiateClient, acquireCredentialsHandle, freeCredentialsHandle, gssapiLibrary, initializeSecurityContext, negotiateFetch,
  negotiateRequest, type CredentialsHandle,
} from '../../lib/index.js';
import { checkCString } from '../../lib/facade/cstring.js';
import { credentialState } from '../../lib/facade/handles.js';
import { currentProvider } from '../../lib/providers/select.js';
import { REQ } from './establish.js';
import { nativeCallsDuring } from './native-spy.js';
import { providerLabel } from './platform.js';
import { realm, type Realm } from './realm.js';

describe(`provider: a NUL inside a string that becomes a C string is a TypeError (${providerLabel})`, function () {
  this.timeout(60_000);
  let r: Realm;
  let cred: CredentialsHandle;
  let server: Server;
  let requests = 0;
  let url: string;

  before(async () => {
    r = await realm();
    cred = await acquireCredentialsHandle({ package: 'Negotiate' });
    // A server that asks for Negotiate, counting what reaches it: a refused option must send nothing.
    server = createServer((req, res) => {
      requests++;
      res.writeHead(401, { 'www-authenticate': 'Negotiate', connection: 'close' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://localhost:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    if (cred) freeCredentialsHandle(cred);
    server?.close();
  });

  // Each case: the parameter's name as the caller wrote it, the text before the NUL (which must not be echoed), and
  // the call. The text before the NUL is always one the call would accept on its own.
  const cases: Array<{ parameter: string; shown: () => string; call: () => unknown }> = [
    { parameter: 'principal', shown: () => r.alice, call: () => acquireCredentialsHandle({ principal: `${r.alice}\0.evil`, password: r.alicePassword }) },
    { parameter: 'password', shown: () => r.alicePassword, call: () => acquireCredentialsHandle({ principal: r.alice, password: `${r.alicePassword}\0tail` }) },
    {
      parameter: 'password',
      shown: () => r.alicePassword,
      call: () => acquireCredentialsHandle({ principal: r.alice, password: Buffer.concat([Buffer.from(r.alicePassword), Buffer.from([0]), Buffer.from('tail')]) }),
    },
    { parameter: 'ccache', shown: () => 'MEMORY:kn-nul', call: () => acquireCredentialsHandle({ ccache: 'MEMORY:kn-nul\0/etc/evil' }) },
    { parameter: 'keytab', shown: () => 'FILE:/tmp/kn-nul.keytab', call: () => acquireCredentialsHandle({ principal: r.alice, keytab: 'FILE:/tmp/kn-nul.keytab\0x' }) },
    { parameter: 'targetName', shown: () => r.spn, call: () => initializeSecurityContext({ credential: cred, targetName: `${r.spn}\0.evil.example`, contextReq: REQ }) },
    { parameter: 'target', shown: () => r.spn, call: () => new NegotiateClient({ target: `${r.spn}\0.evil.example`, credential: cred }).step() },
    { parameter: 'spn', shown: () => r.spn, call: () => negotiateRequest(url, { spn: `${r.spn}\0.evil.example`, credential: cred }) },
    { parameter: 'spn', shown: () => r.spn, call: () => negotiateFetch(url, { negotiate: { spn: `${r.spn}\0.evil.example`, credential: cred } }) },
    { parameter: 'proxySpn', shown: () => r.spn, call: () => negotiateRequest(url, { proxy: url, proxySpn: `${r.spn}\0.evil.example`, credential: cred }) },
    { parameter: 'service', shown: () => 'HTTP', call: () => negotiateRequest(url, { service: 'HTTP\0evil', credential: cred }) },
    { parameter: 'path', shown: () => 'libgssapi_krb5.so.2', call: () => gssapiLibrary('libgssapi_krb5.so.2\0.evil') },
    // The acceptor's handle (issue 18): its keytab, principal and replay cache become C strings too.
    { parameter: 'keytab', shown: () => 'FILE:/tmp/kn-nul.keytab', call: () => acquireCredentialsHandle({ credentialUse: 'inbound', keytab: 'FILE:/tmp/kn-nul.keytab\0x' }) },
    { parameter: 'principal', shown: () => r.spn, call: () => acquireCredentialsHandle({ credentialUse: 'inbound', principal: `${r.spn}\0.evil.example` }) },
    { parameter: 'replayCache', shown: () => 'none:', call: () => acquireCredentialsHandle({ credentialUse: 'inbound', replayCache: 'none:\0dfl:/tmp' }) },
  ];

  for (const [i, c] of cases.entries()) {
    it(`${c.parameter} (case ${i + 1}): TypeError naming it, not its value; no native call, no request, no token`, async () => {
      const before = requests;
      const { calls, error, value } = await nativeCallsDuring(c.call);
      expect(value, 'the call must not succeed (a token or a handle for the truncated string)').to.equal(undefined);
      expect(error).to.be.instanceOf(TypeError);
      const message = (error as TypeError).message;
      expect(message).to.match(new RegExp(`^${c.parameter} `));
      expect(message).to.contain('NUL');
      expect(message, 'the value is never echoed').to.not.contain(c.shown());
      expect(calls, 'native calls made').to.deep.equal([]);
      expect(requests - before, 'HTTP requests sent').to.equal(0);
    });
  }

  // The same check again where the provider hands text to C (GSS names, krb5 logons, secur32's UTF-16 strings): a
  // caller inside the library that skipped the API's check still cannot truncate.
  it('the provider refuses a NUL itself, with the same check, before any native call', async () => {
    const provider = currentProvider();
    const native = credentialState(cred)!.native;
    for (const [parameter, call] of [
      ['targetName', () => provider.initialize({ credential: native, targetName: `${r.spn}\0.evil.example`, contextReq: REQ })],
      ['principal', () => provider.acquireCredentials({ package: 'Negotiate', principal: `${r.alice}\0.evil`, password: Buffer.from(r.alicePassword), spnego: 'library', ntlm: false })],
      ['password', () => provider.acquireCredentials({ package: 'Negotiate', principal: r.alice, password: Buffer.from(`${r.alicePassword}\0x`), spnego: 'library', ntlm: false })],
    ] as const) {
      const { calls, error, value } = await nativeCallsDuring(call);
      expect(value, parameter).to.equal(undefined);
      expect(error, parameter).to.be.instanceOf(TypeError);
      expect((error as Error).message, parameter).to.match(/must not contain a NUL/).and.not.contain(r.alicePassword);
      expect(calls, parameter).to.deep.equal([]);
    }
  });

  it('checkCString: strings and bytes, the parameter named, the value never', () => {
    expect(checkCString('HTTP/web.example', 'targetName')).to.equal('HTTP/web.example');
    const bytes = new Uint8Array([0x61, 0x62]);
    expect(checkCString(bytes, 'password')).to.equal(bytes);
    expect(() => checkCString('secret\0', 'password')).to.throw(TypeError, /^password must not contain a NUL/);
    expect(() => checkCString(Buffer.from('Zq9\0Xw7'), 'password')).to.throw(TypeError).with.property('message').that.does.not.match(/Zq9|Xw7/);
    expect(() => checkCString('\0', 'ccache')).to.throw(TypeError, /^ccache /);
  });
});
