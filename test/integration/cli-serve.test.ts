// `kerberos-negotiate serve`, run as a user runs it (a child process): curl --negotiate authenticates to it, and
// each attempt's outcome is printed with its SEC_E status, never a token; a missing keytab exits 1, a bad usage 2.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { serveCommand, type ServeFlags } from '../../lib/cli/serve.js';
import { needs } from '../harness/skip.js';

const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { env: process.env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kerberos-negotiate serve (whoami server)', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let child: ChildProcess | undefined;

  before(async () => {
    kdc = await kdcWithAlice();
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    child = undefined;
  });

  it('wrong usage exits 2; a keytab that cannot serve exits 1 with SEC_E_NO_CREDENTIALS', async () => {
    expect((await cli(['serve'])).code, 'no --keytab').to.equal(2);
    expect((await cli(['serve', '--keytab', kdc.principals.http.keytab!, '--port', 'x'])).code).to.equal(2);
    expect((await cli(['serve', '--keytab', kdc.principals.http.keytab!, '--tls-cert', '/nonexistent.pem'])).code).to.equal(2);
    const missing = await cli(['serve', '--keytab', '/nonexistent/http.keytab', '--json']);
    expect(missing.code).to.equal(1);
    expect(JSON.parse(missing.stdout).status).to.equal('SEC_E_NO_CREDENTIALS');
  });

  it('curl --negotiate authenticates; the outcomes print with their SEC_E status and no token', async function () {
    const curlHasGss = await exec('curl', ['-V']).then(({ stdout }) => /\bSPNEGO\b/.test(stdout), () => false);
    needs(this, curlHasGss, 'curl has no GSS-API/SPNEGO support');
    child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'serve', '--keytab', kdc.principals.http.keytab!, '--port', '0', '--json'], {
      env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
    const listening = await next();
    expect(listening).to.include({ event: 'listening' });
    const port = listening.port as number;
    const curl = (args: string[]) => exec('curl', ['-sS', '--max-time', '20', '--resolve', `${kdc.hostname}:${port}:127.0.0.1`, ...args, `http://${kdc.hostname}:${port}/`], {
      env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: kdc.env.KRB5CCNAME },
    });

    await curl([]);
    expect(await next()).to.include({ outcome: 'challenge', status: 401 });
    // curl 7.88 sends its token with the first request: one line, the authenticated one.
    const ok = await curl(['--negotiate', '-u', ':']);
    expect(ok.stdout.trim()).to.equal(kdc.principals.alice.name);
    const authenticated = await next();
    expect(authenticated).to.include({ outcome: 'authenticated', status: 200, sec: 'SEC_E_OK', principal: kdc.principals.alice.name, package: 'Kerberos' });

    const bad = 'YIIBAAYGKwYBBQUCoIIA9DCCAPCgDTALBgkqhkiG9xIBAgKiggDdBIIA2WCCANUGCSqGSIb3EgECAgEAboIAxDCCAMCgAwIBBaEDAgEOog==';
    await curl(['-H', `Authorization: Negotiate ${bad}`]);
    const refused = await next();
    expect(refused).to.include({ outcome: 'rejected', status: 401 });
    expect(String(refused.sec)).to.match(/^SEC_E_/);
    expect(JSON.stringify(refused)).to.not.include(bad.slice(8, 40));
    await curl(['-H', 'Authorization: Negotiate !!!']);
    expect(await next()).to.include({ outcome: 'malformed', status: 400 });

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });

  it('the text output names the status and the principal', async function () {
    const curlHasGss = await exec('curl', ['-V']).then(({ stdout }) => /\bSPNEGO\b/.test(stdout), () => false);
    needs(this, curlHasGss, 'curl has no GSS-API/SPNEGO support');
    child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'serve', '--keytab', kdc.principals.http.keytab!, '--port', '0'], {
      env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = String((await lines.next()).value);
    const port = Number(/:(\d+)\//.exec(first)![1]);
    await exec('curl', ['-sS', '--resolve', `${kdc.hostname}:${port}:127.0.0.1`, `http://${kdc.hostname}:${port}/`]);
    await exec('curl', ['-sS', '--negotiate', '-u', ':', '--resolve', `${kdc.hostname}:${port}:127.0.0.1`, `http://${kdc.hostname}:${port}/`], {
      env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: kdc.env.KRB5CCNAME },
    });
    expect(String((await lines.next()).value)).to.match(/-> 401 challenge/);
    expect(String((await lines.next()).value)).to.match(new RegExp(`-> 200 SEC_E_OK ${kdc.principals.alice.name} \\(Kerberos, mutual\\)`));
  });

  /** serve in this process until `stopped` resolves; what it printed, and the listener counts before and after. */
  async function inProcess(flags: ServeFlags, json: boolean) {
    const printed: string[] = [];
    const write = process.stdout.write;
    const signals = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const before = signals();
    const stop = new AbortController();
    // The listening line is the one captured; the stop comes a turn later, once serve waits for it.
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      process.stdout.write = write;
      setTimeout(() => stop.abort(), 10);
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await serveCommand({ keytab: kdc.principals.http.keytab!, port: '0', ...flags }, json, stop.signal);
    } finally {
      process.stdout.write = write;
    }
    return { code, printed, before, after: signals() };
  }

  it('stopped by its AbortSignal, serve leaves no SIGINT or SIGTERM listener behind', async () => {
    // Fails on the old code: each run left one of each (so Ctrl-C stopped nothing afterwards).
    for (let i = 0; i < 2; i++) {
      const r = await inProcess({}, true);
      expect(r.code).to.equal(0);
      expect(r.after).to.deep.equal(r.before);
    }
  });

  it('prints an IPv6 listening URL in brackets, a zone\'s % escaped (RFC 6874)', async function () {
    const loop = await inProcess({ host: '::1' }, true);
    expect(String(JSON.parse(loop.printed[0]).url)).to.match(/^http:\/\/\[::1\]:\d+\/$/);
    const linkLocal = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
      (addrs ?? []).filter((a) => a.family === 'IPv6' && a.address.startsWith('fe80:')).map((a) => `${a.address}%${name}`))[0];
    needs(this, linkLocal !== undefined, 'no IPv6 link-local address to listen on');
    const zoned = await inProcess({ host: linkLocal }, true);
    const url = String(JSON.parse(zoned.printed[0]).url);
    // Fails on the old code, which printed the zone's % as is (not a URL).
    expect(url).to.equal(`http://[${linkLocal!.replace('%', '%25')}]:${JSON.parse(zoned.printed[0]).port}/`);
  });

  it('the text output escapes control characters of what it did not write (a principal here): no terminal escapes reach it', async () => {
    // Fails on the old code: the ESC and the newline were printed raw (a forged log line, a cleared screen).
    const odd = `HTTP/odd\u001b[2J\nforged line@${kdc.realm}`;
    const r = await inProcess({ principal: odd }, false);
    const text = r.printed.join('');
    expect(text).to.not.include('\u001b');
    expect(text.trim().split('\n')).to.have.length(1);
    expect(text).to.include('HTTP/odd\\u001b[2J\\u000aforged line@');
  });
});
