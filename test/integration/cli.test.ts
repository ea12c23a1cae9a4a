// The command line, run as a user runs it (a child process), against the real KDC.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { newAcceptor } from '../harness/acceptor.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { PythonAcceptor } from '../harness/python-acceptor.js';

const exec = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'lib/cli.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('command line', function () {
  this.timeout(60_000);
  let kdc: Kdc;

  before(async () => {
    kdc = await kdcWithAlice();
  });

  it('--help documents the commands and exits 0; no command exits 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/token <SPN>/).and.match(/decode <base64>/);
    expect((await cli([])).code).to.equal(2);
    expect((await cli(['frobnicate'])).code).to.equal(2);
  });

  it('token prints a Negotiate token that an independent acceptor accepts', async () => {
    const { code, stdout } = await cli(['token', `HTTP/${kdc.hostname}`]);
    expect(code).to.equal(0);
    const acceptor = await newAcceptor();
    await acceptor.step(Buffer.from(stdout.trim(), 'base64'));
    expect(acceptor.username).to.equal(kdc.principals.alice.name);
  });

  it('token exits 1 with the SEC_E status for an unknown SPN, as JSON with --json', async () => {
    const plain = await cli(['token', `HTTP/missing.${kdc.hostname}`]);
    expect(plain.code).to.equal(1);
    expect(plain.stderr).to.match(/SEC_E_TARGET_UNKNOWN \(0x80090303\)/);
    const json = await cli(['token', '--json', `HTTP/missing.${kdc.hostname}`]);
    expect(json.code).to.equal(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.status).to.equal('SEC_E_TARGET_UNKNOWN');
    expect(parsed.gss.minor).to.equal(-1765328377);
  });

  it('decode describes our NegTokenInit: mechanisms and the AP-REQ inside, with no key material', async () => {
    const token = (await cli(['token', `HTTP/${kdc.hostname}`])).stdout.trim();
    const { code, stdout } = await cli(['decode', '--json', token]);
    expect(code).to.equal(0);
    const d = JSON.parse(stdout);
    expect(d.framing).to.equal('spnego-init');
    expect(d.mechTypes).to.deep.equal([{ oid: '1.2.840.113554.1.2.2', name: 'Kerberos 5' }]);
    expect(d.mechToken.message).to.equal('AP-REQ');
    expect(d.mechToken.service).to.equal(`HTTP/${kdc.hostname}@${kdc.realm}`);
    expect(d.mechToken.mutualRequired).to.equal(true);
    expect(stdout.length, 'sizes and names only').to.be.lessThan(600);
  });

  it('decode names the KRB-ERROR of a skewed acceptor and the AP-REP of a good one', async function () {
    // python3-gssapi and faketime come from .ci/run's packages; without them this acceptor cannot run.
    if (!PythonAcceptor.available()) this.skip();
    for (const [clock, message] of [[undefined, 'AP-REP'], ['+2h', 'KRB-ERROR']] as const) {
      // A fresh token per acceptor: the same one twice would be a replay (KRB_AP_ERR_REPEAT), not a skew.
      const token = Buffer.from((await cli(['token', '--package', 'Kerberos', `HTTP/${kdc.hostname}`])).stdout.trim(), 'base64');
      const acceptor = new PythonAcceptor(kdc.env, clock);
      try {
        await acceptor.start(`HTTP@${kdc.hostname}`);
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

  it('decode reports garbage without crashing, and refuses non-base64 input', async () => {
    const d = JSON.parse((await cli(['decode', '--json', Buffer.from('hello world').toString('base64')])).stdout);
    expect(d.framing).to.equal('unknown');
    expect(d.error).to.be.a('string');
    expect((await cli(['decode', '%%%'])).code).to.equal(2);
  });

  it('library names the loaded GSS-API library', async () => {
    const { code, stdout } = await cli(['library', '--json']);
    expect(code).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ path: 'libgssapi_krb5.so.2', flavour: 'mit' });
  });
});
