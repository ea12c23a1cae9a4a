// A real Apache httpd (Debian's /usr/sbin/apache2) with mod_auth_gssapi, started as a standalone foreground
// process from a config generated into a temporary directory: an http, an https and a forward-proxy listener on
// free loopback ports, all accepting Kerberos (krb5 inside SPNEGO) from the test KDC (./kdc.ts) for both
// HTTP/<kdc.hostname> and HTTP/other.<kdc.domain>. Never touches /etc/apache2 or the system's service.
//
// Paths (the same on the http and the https listener):
//   /public/hello.txt    static, no authentication
//   /private/hello.txt   static, Negotiate required; the answer carries X-Remote-User: <client principal>
//   /private/echo        CGI, Negotiate required; answers text/plain "<REMOTE_USER>\n<request body>"
//   /redirect-other      302 to http://other.<domain>:<httpPort>/private/hello.txt
//
// The test host names (web.kn.test, other.kn.test) resolve nowhere: clients must map them to 127.0.0.1 themselves
// (curl --resolve host:port:127.0.0.1).
//
// The proxy listener (proxyPort) is a forward proxy that demands Negotiate through 407 / Proxy-Authenticate (the
// client's SPN is HTTP/<the proxy's host name as the client knows it>, e.g. HTTP/web.kn.test). Whatever absolute URI
// the client sends (GET http://web.kn.test:<httpPort>/public/hello.txt, or with 127.0.0.1 as the host) is relayed,
// through ProxyRemote, to this Apache's own http listener, so the target host name is never resolved; the path
// picks the resource.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kdc } from './kdc.js';
import { freePorts, tcpAnswers, waitFor } from './ports.js';

const run = promisify(execFile);
const HTTPD = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export interface Apache {
  httpPort: number;
  httpsPort: number;
  proxyPort: number;
  /** The self-signed certificate of the https listener (CN=<hostname>, SAN <hostname> and other.<domain>). */
  certPem: string;
  certDer: Buffer;
  /** The temporary ServerRoot; cert.pem lies there too (for curl --cacert). */
  dir: string;
  /** The parent httpd's pid, also its process group (its prefork children are in it): bench/http-server.ts sums their CPU. */
  pid: number;
  /** The error log so far. */
  errorLog(): string;
  /** Stops Apache, waits for it to exit and removes dir. */
  stop(): Promise<void>;
}

/** Why Apache cannot run, for needs() (test/harness/skip.ts). */
export const APACHE_MISSING = `${HTTPD} or ${MODULES}/mod_auth_gssapi.so is missing (apt-get install apache2 libapache2-mod-auth-gssapi)`;

export function apacheAvailable(): boolean {
  return existsSync(HTTPD) && existsSync(join(MODULES, 'mod_auth_gssapi.so'));
}

/** Runs ktutil with commands on stdin (no secret passes through: it only copies keytab entries). */
function ktutil(commands: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ktutil', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 && !err.trim() ? resolve() : reject(new Error(`ktutil failed: ${err.trim()}`))));
    child.stdin.end(`${commands.join('\n')}\nquit\n`);
  });
}

/** The authentication block shared by every protected location and the proxy. */
function gssapiAuth(keytab: string, name: string): string {
  return `
    AuthType GSSAPI
    AuthName "${name}"
    GssapiCredStore keytab:${keytab}
    GssapiAllowedMech krb5
    GssapiUseSessions Off
    GssapiSSLonly Off
    Require valid-user`;
}

function config(o: { dir: string; kdc: Kdc; keytab: string; httpPort: number; httpsPort: number; proxyPort: number; workers?: number }): string {
  const { dir, kdc, keytab } = o;
  const asRoot = process.getuid?.() === 0;
  // Apache refuses to serve as root: its children switch to an unprivileged user (mod_unixd is compiled in), which
  // is why everything they read lies in dir, made world-readable.
  const user = asRoot ? (passwdEntry('www-data') ? 'www-data' : 'nobody') : undefined;
  const load = ['mpm_prefork', 'authn_core', 'authz_core', 'authz_user', 'auth_gssapi', 'mime', 'alias', 'headers', 'cgi', 'ssl', 'proxy', 'proxy_http', 'proxy_connect'];
  const site = `
    DocumentRoot "${dir}/htdocs"
    ScriptAlias "/private/echo" "${dir}/cgi/echo"
    RedirectMatch 302 "^/redirect-other$" "http://other.${kdc.domain}:${o.httpPort}/private/hello.txt"
    <Location "/private">${gssapiAuth(keytab, 'private')}
      # expr= evaluates after authentication, for static files too (the REMOTE_USER env var exists only for CGI).
      Header always set X-Remote-User "expr=%{REMOTE_USER}" "expr=-n %{REMOTE_USER}"
    </Location>
    # Multi-leg exchanges (e.g. DCE style: AP-REQ, AP-REP, AP-REP) keep their half-done context on the connection.
    Alias "/bound" "${dir}/htdocs/private"
    <Location "/bound">${gssapiAuth(keytab, 'bound')}
      GssapiConnectionBound On
      Header always set X-Remote-User "expr=%{REMOTE_USER}" "expr=-n %{REMOTE_USER}"
    </Location>`;
  return `# Generated by test/harness/apache.ts
ServerRoot "${dir}"
ServerName ${kdc.hostname}
${load.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`).join('\n')}
${user ? `User ${user}\nGroup #${groupOf(user)}` : ''}
PidFile "${dir}/httpd.pid"
DefaultRuntimeDir "${dir}"
ErrorLog "${dir}/error.log"
LogLevel warn auth_gssapi:info
TypesConfig "${dir}/mime.types"
${o.workers ? `StartServers ${o.workers}\nMinSpareServers ${o.workers}\nMaxSpareServers ${o.workers}\nMaxRequestWorkers ${o.workers}` : `StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16`}
Timeout 30
<Directory "/">
  AllowOverride None
  Require all denied
</Directory>
<Directory "${dir}/htdocs">
  Require all granted
</Directory>
<Directory "${dir}/cgi">
  Require all granted
</Directory>

Listen 127.0.0.1:${o.httpPort}
Listen 127.0.0.1:${o.httpsPort}
Listen 127.0.0.1:${o.proxyPort}

<VirtualHost 127.0.0.1:${o.httpPort}>
  ServerName ${kdc.hostname}:${o.httpPort}${site}
</VirtualHost>

<VirtualHost 127.0.0.1:${o.httpsPort}>
  ServerName ${kdc.hostname}:${o.httpsPort}
  SSLEngine on
  SSLCertificateFile "${dir}/cert.pem"
  SSLCertificateKeyFile "${dir}/key.pem"${site}
</VirtualHost>

# Forward proxy. ProxyRemote hands every proxied request, absolute URI and all, to our own http listener, which
# serves an absolute-form request locally by its path: the client's target host name is never looked up.
<VirtualHost 127.0.0.1:${o.proxyPort}>
  ServerName ${kdc.hostname}:${o.proxyPort}
  ProxyRequests On
  ProxyVia Off
  ProxyRemote "http" "http://127.0.0.1:${o.httpPort}"
  # https targets come as CONNECT host:port (mod_proxy_connect), to this Apache's https listener only.
  AllowCONNECT ${o.httpsPort}
  <Proxy "*">${gssapiAuth(keytab, 'proxy')}
  </Proxy>
</VirtualHost>
`;
}

function passwdEntry(name: string): string[] | undefined {
  return readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))?.split(':');
}

/** The user's primary group id (nobody's group is nogroup on Debian, not "nobody"). */
function groupOf(name: string): string {
  return passwdEntry(name)?.[3] ?? '65534';
}

/** `workers`: prefork children, all started at once (the bench's load: one per connection in flight); default 2 to 16. */
export async function startApache(kdc: Kdc, tuning: { workers?: number } = {}): Promise<Apache> {
  if (!apacheAvailable()) throw new Error(`${HTTPD} or mod_auth_gssapi is missing (apt-get install apache2 libapache2-mod-auth-gssapi)`);
  const dir = mkdtempSync(join(tmpdir(), 'kn-apache-'));
  chmodSync(dir, 0o755);
  const errorLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  try {
    const [httpPort, httpsPort, proxyPort] = await freePorts(3);

    // One keytab with both service principals, so one acceptor (GSS_C_NO_NAME) takes tickets for either name.
    const keytab = join(dir, 'http.keytab');
    await ktutil([`rkt ${kdc.principals.http.keytab}`, `rkt ${kdc.principals.other.keytab}`, `wkt ${keytab}`]);
    // Test keys of a throwaway realm: readable by the unprivileged children when we run as root.
    chmodSync(keytab, 0o644);
    // The realm's krb5.conf lies in the KDC's private (0700) directory; the children need a copy they can read.
    const krb5Config = join(dir, 'krb5.conf');
    copyFileSync(kdc.krb5Config, krb5Config);
    chmodSync(krb5Config, 0o644);

    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-sha256', '-nodes', '-days', '2', '-subj', `/CN=${kdc.hostname}`,
      '-addext', `subjectAltName=DNS:${kdc.hostname},DNS:other.${kdc.domain}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { timeout: 30_000 });
    const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    chmodSync(join(dir, 'cert.pem'), 0o644);

    for (const sub of ['htdocs/public', 'htdocs/private', 'cgi']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'htdocs/public/hello.txt'), 'hello, public\n', { mode: 0o644 });
    writeFileSync(join(dir, 'htdocs/private/hello.txt'), 'hello, private\n', { mode: 0o644 });
    writeFileSync(join(dir, 'mime.types'), 'text/plain txt\n', { mode: 0o644 });
    // mod_cgi closes the script's stdin after the (de-chunked) body, so cat copies exactly the request body.
    writeFileSync(join(dir, 'cgi/echo'), '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n%s\\n\' "$REMOTE_USER"\ncat\n', { mode: 0o755 });
    const conf = join(dir, 'httpd.conf');
    writeFileSync(conf, config({ dir, kdc, keytab, httpPort, httpsPort, proxyPort, workers: tuning.workers }));

    // kdc.env points GSS-API at the test realm; KRB5_CONFIG at the readable copy, the default keytab at the combined
    // one and the default ccache at an empty path here (the acceptor never needs alice's TGT). No replay cache:
    // KRB5RCACHEDIR lies in the KDC's private directory.
    const env = {
      ...process.env, ...kdc.env,
      KRB5_CONFIG: krb5Config, KRB5_KTNAME: `FILE:${keytab}`, KRB5CCNAME: `FILE:${join(dir, 'ccache')}`, KRB5RCACHETYPE: 'none',
    };
    // detached: its own process group. Prefork's shutdown signals its whole process group (killpg), which without
    // this would include node, and -DFOREGROUND does not setsid.
    const child = spawn(HTTPD, ['-DFOREGROUND', '-d', dir, '-f', conf], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (d: Buffer) => (output = (output + d.toString()).slice(-8000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let exited: string | undefined;
    // If node exits without stop() (a crash, mocha's --exit), take Apache's process group (its pid) down with it.
    const orphanGuard = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', orphanGuard);
    const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
      exited = `exited (${code ?? signal})`;
      process.off('exit', orphanGuard);
      resolve();
    }));
    child.once('error', (err) => (exited = err.message));

    const fail = async (why: string) => {
      if (!exited) {
        process.kill(-child.pid!, 'SIGKILL');
        await exit;
      }
      // Errors before ErrorLog is open (config syntax) go to stderr; the rest to the log.
      throw new Error(`apache ${why}\n${output.trim()}\n${errorLog().split('\n').slice(-40).join('\n')}`);
    };
    await waitFor('the listeners', async () => (await Promise.all([httpPort, httpsPort, proxyPort].map(tcpAnswers))).every(Boolean), 20_000, () => exited)
      .catch((err: Error) => fail(err.message));

    return {
      httpPort, httpsPort, proxyPort, certPem, dir, pid: child.pid!,
      certDer: Buffer.from(new X509Certificate(certPem).raw),
      errorLog,
      async stop() {
        if (!exited) {
          // SIGTERM: the parent stops its children and exits; SIGKILL only if it hangs.
          child.kill('SIGTERM');
          const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
          await exit;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
