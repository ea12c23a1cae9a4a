// NegotiateServer behind a plain node:http server (RFC 4559), authenticated by an independent HTTP client: curl
// --negotiate (libcurl's GSS-API, MIT). The server answers 401 with a bare challenge, then 200 with its final token
// and the client's principal; a bad token gets 401 with the SPNEGO reject that says why.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { NegotiateServer, SECPKG_CRED_INBOUND, SecurityError, acquireCredentialsHandle, freeCredentialsHandle, type CredentialsHandle } from '../../lib/index.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { needs } from '../harness/skip.js';

const exec = promisify(execFile);

describe('NegotiateServer over HTTP (RFC 4559) with curl --negotiate as the client', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let server: Server;
  let port: number;
  let credential: CredentialsHandle;
  let curlHasGss = false;

  before(async () => {
    kdc = await kdcWithAlice();
    credential = await acquireCredentialsHandle({ credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
    curlHasGss = await exec('curl', ['-V']).then(({ stdout }) => /\bSPNEGO\b/.test(stdout), () => false);
    server = createServer((req, res) => {
      const header = req.headers.authorization ?? '';
      const match = /^Negotiate\s+(\S+)$/i.exec(header);
      if (!match) {
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
        return;
      }
      // One leg is enough for Kerberos; a multi-leg mechanism would keep its NegotiateServer per connection.
      const negotiate = new NegotiateServer({ credential, mutual: 'optional' });
      negotiate.step(match[1]).then(
        (step) => {
          const headers: Record<string, string> = step.token ? { 'WWW-Authenticate': `Negotiate ${step.token.toString('base64')}` } : {};
          res.writeHead(step.done ? 200 : 401, headers).end(step.done ? `hello ${step.client}` : '');
          negotiate.dispose();
        },
        (err: SecurityError) => {
          const reply = negotiate.errorToken;
          res.writeHead(401, { 'WWW-Authenticate': reply ? `Negotiate ${reply.toString('base64')}` : 'Negotiate', 'X-Status': err.statusName }).end();
          negotiate.dispose();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (credential) freeCredentialsHandle(credential);
  });

  async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
    const { stdout } = await exec('curl', ['-sS', '-i', '--max-time', '20', '--resolve', `${kdc.hostname}:${port}:127.0.0.1`, ...args], {
      env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: kdc.env.KRB5CCNAME },
      timeout: 30_000,
    });
    const blocks = stdout.split('\r\n\r\n');
    const heads = blocks.filter((b) => b.startsWith('HTTP/'));
    const last = heads[heads.length - 1];
    return { status: Number(last.split(' ')[1]), headers: last, body: blocks.slice(heads.length).join('\r\n\r\n') };
  }

  it('curl authenticates as alice; the server answers with its final token', async function () {
    needs(this, curlHasGss, 'curl has no GSS-API/SPNEGO support');
    const r = await curl(['--negotiate', '-u', ':', `http://${kdc.hostname}:${port}/`]);
    expect(r.status, r.headers).to.equal(200);
    expect(r.body).to.equal(`hello ${kdc.principals.alice.name}`);
    expect(r.headers).to.match(/WWW-Authenticate: Negotiate \S+/);
  });

  it('a garbage token gets 401 and the status, never a 500 or a crash', async function () {
    needs(this, curlHasGss, 'curl has no GSS-API/SPNEGO support');
    const r = await curl(['-H', 'Authorization: Negotiate YIIBAAYGKwYBBQUCoA==', `http://${kdc.hostname}:${port}/`]);
    expect(r.status).to.equal(401);
    expect(r.headers).to.match(/X-Status: SEC_E_INVALID_TOKEN/);
  });
});
