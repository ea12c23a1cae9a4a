// The command line, run as a user runs it (a child process), against the real KDC.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { newAcceptor } from '../harness/acceptor.js';
import { PYTHON_GSSAPI_MISSING, PythonAcceptor } from '../harness/python-acceptor.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';
import { needs } from '../harness/skip.js';

const exec = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('command line', function () {
  this.timeout(60_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });

  it('--help documents the commands and exits 0; no command exits 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/token <SPN>/).and.match(/decode <base64>/);
    expect((await cli([])).code).to.equal(2);
    expect((await cli(['frobnicate'])).code).to.equal(2);
    expect((await cli(['library', '--frobnicate'])).code, 'an unknown option').to.equal(2);
    expect((await cli(['token'])).code, 'token without an SPN').to.equal(2);
    expect((await cli(['decode'])).code, 'decode without a token').to.equal(2);
    // Every code the help lists is one the tests below produce.
    expect(help.stdout).to.match(/^ {2}0 {2}success/m).and.match(/^ {2}5 {2}decode:/m).and.match(/^ {2}70 an internal error/m);
  });

  it('without a loadable GSS-API library, token, credentials and library exit 1 with SEC_E_SECPKG_NOT_FOUND', async () => {
    for (const command of ['library', 'credentials', 'token']) {
      const r = await cli([command, '--json', ...(command === 'token' ? [`HTTP/${realm.kdc.hostname}`] : [])], { KERBEROS_NEGOTIATE_GSSAPI_LIBRARY: '/nonexistent/libgssapi.so' });
      expect(r.code, `${command}: ${r.stderr}`).to.equal(1);
      expect(JSON.parse(r.stdout).status, command).to.equal('SEC_E_SECPKG_NOT_FOUND');
      expect(r.stderr, command).to.not.match(/internal error|at main/);
    }
  });

  it('token prints a Negotiate token that an independent acceptor accepts', async () => {
    const { code, stdout } = await cli(['token', `HTTP/${realm.kdc.hostname}`]);
    expect(code).to.equal(0);
    const acceptor = await newAcceptor();
    await acceptor.step(Buffer.from(stdout.trim(), 'base64'));
    expect(acceptor.username).to.equal(realm.kdc.principals.alice.name);
  });

  it('token exits 1 with the SEC_E status for an unknown SPN, as JSON with --json', async () => {
    const plain = await cli(['token', `HTTP/missing.${realm.kdc.hostname}`]);
    expect(plain.code).to.equal(1);
    expect(plain.stderr).to.match(/SEC_E_TARGET_UNKNOWN \(0x80090303\)/);
    const json = await cli(['token', '--json', `HTTP/missing.${realm.kdc.hostname}`]);
    expect(json.code).to.equal(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.status).to.equal('SEC_E_TARGET_UNKNOWN');
    expect(parsed.gss.minor).to.equal(-1765328377);
  });

  it('decode describes our NegTokenInit: mechanisms and the AP-REQ inside, with no key material', async () => {
    const token = (await cli(['token', `HTTP/${realm.kdc.hostname}`])).stdout.trim();
    const { code, stdout } = await cli(['decode', '--json', token]);
    expect(code).to.equal(0);
    const d = JSON.parse(stdout);
    expect(d.framing).to.equal('spnego-init');
    expect(d.mechTypes).to.deep.equal([{ oid: '1.2.840.113554.1.2.2', name: 'Kerberos 5' }]);
    expect(d.mechToken.message).to.equal('AP-REQ');
    expect(d.mechToken.service).to.equal(`HTTP/${realm.kdc.hostname}@${realm.kdc.realm}`);
    expect(d.mechToken.mutualRequired).to.equal(true);
    expect(stdout.length, 'sizes and names only').to.be.lessThan(600);
  });

  it('decode names the KRB-ERROR of a skewed acceptor and the AP-REP of a good one', async function () {
    // python3-gssapi and faketime come from .ci/run's packages; without them this acceptor cannot run.
    needs(this, PythonAcceptor.available(), PYTHON_GSSAPI_MISSING);
    for (const [clock, message] of [[undefined, 'AP-REP'], ['+2h', 'KRB-ERROR']] as const) {
      // A fresh token per acceptor: the same one twice would be a replay (KRB_AP_ERR_REPEAT), not a skew.
      const token = Buffer.from((await cli(['token', '--package', 'Kerberos', `HTTP/${realm.kdc.hostname}`])).stdout.trim(), 'base64');
      const acceptor = new PythonAcceptor(realm.kdc.env, clock);
      try {
        await acceptor.start(`HTTP@${realm.kdc.hostname}`);
        const reply = await acceptor.step(token);
        const d = JSON.parse((await cli(['decode', '--json', reply.token.toString('base64')])).stdout);
        expect(d.framing).to.equal('kerberos');
        expect(d.mechToken.message).to.equal(message);
        if (message === 'KRB-ERROR') expect(d.mechToken.errorName).to.equal('KRB_AP_ERR_SKEW');
      } finally {
        acceptor.close();
      }
    }
  });

  it('decode describes garbage and a truncated token but exits 5, and refuses non-base64 input with 2', async () => {
    const garbage = await cli(['decode', '--json', Buffer.from('hello world').toString('base64')]);
    expect(garbage.code).to.equal(5);
    const d = JSON.parse(garbage.stdout);
    expect(d.framing).to.equal('unknown');
    expect(d.error).to.be.a('string');
    const token = Buffer.from((await cli(['token', `HTTP/${realm.kdc.hostname}`])).stdout.trim(), 'base64');
    const truncated = await cli(['decode', token.subarray(0, token.length - 40).toString('base64')]);
    expect(truncated.code).to.equal(5);
    expect(truncated.stdout).to.match(/"error"/);
    // A Kerberos message inside a valid GSS framing that is cut short: the mechanism part cannot be parsed.
    const krb = Buffer.from((await cli(['token', '--package', 'Kerberos', `HTTP/${realm.kdc.hostname}`])).stdout.trim(), 'base64');
    const inner = krb.subarray(0, krb.length - 40);
    inner[1] = 0x82;
    inner.writeUInt16BE(inner.length - 4, 2);
    const cut = await cli(['decode', '--json', inner.toString('base64')]);
    expect(cut.code, cut.stdout).to.equal(5);
    expect(JSON.parse(cut.stdout).mechToken.error).to.be.a('string');
    expect((await cli(['decode', '%%%'])).code).to.equal(2);
  });

  it('library names the loaded GSS-API library', async () => {
    const { code, stdout } = await cli(['library', '--json']);
    expect(code).to.equal(0);
    // The child inherits our environment, so it loads what this process loaded (MIT, or Heimdal under test:heimdal).
    const expected = process.env.KERBEROS_NEGOTIATE_GSSAPI_LIBRARY === 'libgssapi.so.3'
      ? { path: 'libgssapi.so.3', flavour: 'heimdal' } : { path: 'libgssapi_krb5.so.2', flavour: 'mit' };
    expect(JSON.parse(stdout)).to.deep.equal(expected);
  });
});

describe('command line: fetch and credentials', function () {
  this.timeout(60_000);
  // fetch needs a real Negotiate server: Apache with mod_auth_gssapi, installed by .ci/run.
  const realm = realmSuite({ apache: 'required' });
  let resolve: string[];

  before(() => {
    resolve = [realm.apache.httpPort, realm.apache.httpsPort].flatMap((p) => ['--resolve', `${realm.host}:${p}:127.0.0.1`]);
  });

  it('fetch prints the body, and the status, principal, mutual authentication and channel bindings', async () => {
    const { code, stdout, stderr } = await cli(['fetch', `https://${realm.kdc.hostname}:${realm.apache.httpsPort}/private/hello.txt`, '--cacert', `${realm.apache.dir}/cert.pem`, ...resolve]);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.equal('hello, private\n');
    expect(stderr).to.contain('HTTP 200').and.contain(`authenticated as ${realm.kdc.principals.alice.name} to HTTP/${realm.kdc.hostname}`)
      .and.contain('mutual authentication: yes').and.contain('channel bindings: yes');
  });

  it('fetch --mutual none says mutual authentication did not hold (it was not asked for)', async () => {
    const { code, stderr } = await cli(['fetch', `http://${realm.kdc.hostname}:${realm.apache.httpPort}/private/hello.txt`, '--mutual', 'none', ...resolve]);
    expect(code, stderr).to.equal(0);
    expect(stderr).to.contain(`authenticated as ${realm.kdc.principals.alice.name}`).and.contain('mutual authentication: no');
    const json = await cli(['fetch', `http://${realm.kdc.hostname}:${realm.apache.httpPort}/private/hello.txt`, '--mutual', 'none', '--json', ...resolve]);
    expect(JSON.parse(json.stdout).auth).to.include({ authenticated: true, mutual: false });
  });

  it('fetch --json reports everything as one object; a POST body is sent again after the challenge', async () => {
    const { code, stdout } = await cli(['fetch', `http://${realm.kdc.hostname}:${realm.apache.httpPort}/private/echo`, '-X', 'POST', '-d', 'hi', '-H', 'Content-Type: text/plain', '--json', ...resolve]);
    expect(code).to.equal(0);
    const out = JSON.parse(stdout);
    expect(out.status).to.equal(200);
    expect(out.body).to.equal(`${realm.kdc.principals.alice.name}\nhi`);
    expect(out.auth).to.include({ authenticated: true, mutual: true, channelBindings: false, client: realm.kdc.principals.alice.name });
  });

  it('fetch exits 1 with the reason for an unknown SPN, 3 for an HTTP error, 2 for bad usage', async () => {
    const bad = await cli(['fetch', `http://${realm.kdc.hostname}:${realm.apache.httpPort}/private/hello.txt`, '--spn', `HTTP/nobody.${realm.kdc.domain}`, '--json', ...resolve]);
    expect(bad.code).to.equal(1);
    expect(JSON.parse(bad.stdout)).to.include({ error: 'SECURITY', status: 'SEC_E_TARGET_UNKNOWN' });
    const missing = await cli(['fetch', `http://${realm.kdc.hostname}:${realm.apache.httpPort}/public/none.txt`, ...resolve]);
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.contain('HTTP 404');
    expect((await cli(['fetch', 'not a url'])).code).to.equal(2);
    expect((await cli(['fetch', 'http://x/', '--mutual', 'maybe'])).code).to.equal(2);
    expect((await cli(['fetch', 'http://x/', '--cacert', `${realm.kdc.dir}/no-such-ca.pem`])).code, 'an unreadable --cacert').to.equal(2);
    expect((await cli(['fetch', 'http://x/', '-H', 'Bad Name: x'])).code, 'a header name that is not a token').to.equal(2);
  });

  it('fetch exits 4 when the connection fails: refused, or a TLS certificate it cannot verify', async () => {
    const refused = await cli(['fetch', 'http://127.0.0.1:1/', '--json']);
    expect(refused.code).to.equal(4);
    expect(JSON.parse(refused.stdout).error).to.equal('ECONNREFUSED');
    const untrusted = await cli(['fetch', `https://${realm.kdc.hostname}:${realm.apache.httpsPort}/private/hello.txt`, '--json', ...resolve]);
    expect(untrusted.code, untrusted.stderr).to.equal(4);
    expect(JSON.parse(untrusted.stdout).error).to.match(/CERT|SIGNATURE/);
  });

  it('credentials names the ccache, the principal, the expiry and the library; exits 1 without a ticket', async () => {
    const { code, stdout } = await cli(['credentials', '--json']);
    expect(code).to.equal(0);
    const out = JSON.parse(stdout);
    expect(out).to.include({ ccache: realm.kdc.env.KRB5CCNAME, principal: realm.kdc.principals.alice.name, expired: false });
    expect(new Date(out.expiry).getTime()).to.be.greaterThan(Date.now());
    expect(out.library.path).to.be.a('string');
    const none = await cli(['credentials', '--json'], { KRB5CCNAME: `FILE:${realm.kdc.dir}/never-written` });
    expect(none.code).to.equal(1);
    expect(JSON.parse(none.stdout).status).to.equal('SEC_E_NO_CREDENTIALS');
  });
});
