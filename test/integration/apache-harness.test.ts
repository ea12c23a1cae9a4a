// The Apache harness itself (test/harness/apache.ts), proved with an independent client: Debian's curl, built with
// GSS-API, against mod_auth_gssapi over http, https and the Negotiate-authenticated forward proxy.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { realmSuite } from '../harness/realm-suite.js';

const exec = promisify(execFile);

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe('test harness: Apache with mod_auth_gssapi', function () {
  this.timeout(60_000);
  // Needs Debian's apache2 and libapache2-mod-auth-gssapi (.ci installs them); without them nothing here can run.
  // The KDC is shared by the whole run: the root hook stops it.
  const realm = realmSuite({ apache: 'required' });

  /** curl -i, the test host names mapped to 127.0.0.1, alice's cache and the realm's krb5.conf. */
  async function curl(args: string[]): Promise<Response> {
    const a = realm.apache!;
    const resolve = [a.httpPort, a.httpsPort, a.proxyPort].flatMap((p) => ['--resolve', `${realm.host}:${p}:127.0.0.1`, '--resolve', `other.${realm.kdc.domain}:${p}:127.0.0.1`]);
    const { stdout } = await exec('curl', ['-sS', '-i', '--max-time', '20', ...resolve, ...args], {
      env: { ...process.env, KRB5_CONFIG: realm.kdc.env.KRB5_CONFIG, KRB5CCNAME: realm.kdc.env.KRB5CCNAME },
      timeout: 30_000,
    });
    // -i prints the response head (possibly after a 100 Continue's), a blank line, then the body. With only one
    // method asked for, curl sends Negotiate / proxy Negotiate in its first request: no 401 or 407 round comes first.
    let rest = stdout;
    let status = 0;
    let headers: Record<string, string> = {};
    while (rest.startsWith('HTTP/')) {
      const end = rest.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
      status = Number(statusLine.split(' ')[1]);
      headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      rest = rest.slice(end + 4);
    }
    return { status, headers, body: rest };
  }

  const url = (path: string, scheme: 'http' | 'https' = 'http') => `${scheme}://${realm.host}:${scheme === 'http' ? realm.apache!.httpPort : realm.apache!.httpsPort}${path}`;

  it('serves /public without authentication and hands out its certificate', async () => {
    const r = await curl([url('/public/hello.txt')]);
    expect(r.status).to.equal(200);
    expect(r.body).to.equal('hello, public\n');
    const cert = new X509Certificate(realm.apache!.certPem);
    expect(cert.subjectAltName).to.contain(`DNS:${realm.host}`).and.to.contain(`DNS:other.${realm.kdc.domain}`);
    expect(Buffer.from(cert.raw).equals(realm.apache!.certDer)).to.equal(true);
  });

  it('answers an unauthenticated /private request with 401 and a bare WWW-Authenticate: Negotiate', async () => {
    const r = await curl([url('/private/hello.txt')]);
    expect(r.status).to.equal(401);
    expect(r.headers['www-authenticate']).to.equal('Negotiate');
    expect(r.headers).not.to.have.property('x-remote-user');
  });

  for (const scheme of ['http', 'https'] as const) {
    it(`authenticates alice with curl --negotiate over ${scheme}`, async () => {
      const r = await curl(['--negotiate', '-u', ':', '--cacert', join(realm.apache!.dir, 'cert.pem'), url('/private/hello.txt', scheme)]);
      expect(r.status).to.equal(200);
      expect(r.headers['x-remote-user']).to.equal(realm.kdc.principals.alice.name);
      expect(r.body).to.equal('hello, private\n');
      // mod_auth_gssapi returns the acceptor's final token (mutual authentication) on the 200.
      expect(r.headers['www-authenticate']).to.match(/^Negotiate [A-Za-z0-9+/]+=*$/);
    });
  }

  it('accepts tickets for HTTP/other.<domain> too (the combined keytab)', async () => {
    const r = await curl(['--negotiate', '-u', ':', `http://other.${realm.kdc.domain}:${realm.apache!.httpPort}/private/hello.txt`]);
    expect(r.status).to.equal(200);
    expect(r.headers['x-remote-user']).to.equal(realm.kdc.principals.alice.name);
  });

  it('echoes the user and the body of a POST and a PUT to /private/echo', async () => {
    const post = await curl(['--negotiate', '-u', ':', '--data-binary', 'line 1\nline 2', url('/private/echo')]);
    expect(post.status).to.equal(200);
    expect(post.headers['content-type']).to.match(/^text\/plain/);
    expect(post.body).to.equal(`${realm.kdc.principals.alice.name}\nline 1\nline 2`);
    const put = await curl(['--negotiate', '-u', ':', '-X', 'PUT', '--data-binary', 'put body', url('/private/echo', 'https'), '--cacert', join(realm.apache!.dir, 'cert.pem')]);
    expect(put.status).to.equal(200);
    expect(put.body).to.equal(`${realm.kdc.principals.alice.name}\nput body`);
  });

  it('redirects /redirect-other to other.<domain>', async () => {
    const r = await curl([url('/redirect-other')]);
    expect(r.status).to.equal(302);
    expect(r.headers.location).to.equal(`http://other.${realm.kdc.domain}:${realm.apache!.httpPort}/private/hello.txt`);
  });

  describe('the forward proxy', () => {
    const proxy = () => ['-x', `http://${realm.host}:${realm.apache!.proxyPort}`];

    it('answers 407 with a bare Proxy-Authenticate: Negotiate without credentials', async () => {
      const r = await curl([...proxy(), url('/public/hello.txt')]);
      expect(r.status).to.equal(407);
      expect(r.headers['proxy-authenticate']).to.equal('Negotiate');
      expect(r.headers).not.to.have.property('www-authenticate');
    });

    it('relays after curl --proxy-negotiate, to a target named by test host name or by 127.0.0.1', async () => {
      for (const target of [url('/public/hello.txt'), `http://127.0.0.1:${realm.apache!.httpPort}/public/hello.txt`]) {
        const r = await curl([...proxy(), '--proxy-negotiate', '-U', ':', target]);
        expect(r.status).to.equal(200);
        expect(r.body).to.equal('hello, public\n');
        // Like the origin's 200, the proxy's carries the acceptor's final token, in Proxy-Authenticate.
        expect(r.headers['proxy-authenticate']).to.match(/^Negotiate [A-Za-z0-9+/]+=*$/);
      }
    });
  });
});
