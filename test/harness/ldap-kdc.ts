// A second MIT KDC, on the LDAP database module, for what the DB2 module cannot do: constrained delegation
// (S4U2Proxy), which MIT decides from a principal's krbAllowedToDelegateTo attribute in LDAP. A throwaway slapd and
// krb5kdc in a temp dir, on free loopback ports, realm S4U.TEST; everything is removed by stop(). Debian packages:
// slapd, ldap-utils, krb5-kdc-ldap (.ci/run installs them).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { freePort, tcpAnswers, waitFor } from './ports.js';

const run = promisify(execFile);
const SCHEMA_GZ = '/usr/share/doc/krb5-kdc-ldap/kerberos.schema.gz';
const REALM = 'S4U.TEST';
const BASE = 'dc=s4u,dc=test';
const ADMIN = `cn=admin,${BASE}`;

export interface LdapKdc {
  realm: string;
  /** KRB5_CONFIG naming this realm (to put before the main test realm's file). */
  krb5Config: string;
  /** The front service, allowed to delegate to `back` (krbAllowedToDelegateTo) and to use protocol transition. */
  front: { name: string; keytab: string };
  /** A back-end service the front may reach for a user. */
  back: { name: string; keytab: string };
  /** A service the front may not delegate to. */
  other: { name: string; keytab: string };
  /** A user who never logs on (S4U2Self), or logs on from this keytab (a client of the front service). */
  user: string;
  userKeytab: string;
  stop(): Promise<void>;
}

/**
 * MIT's LDAP database module (krb5-kdc-ldap), which krb5kdc loads as `db_library = kldap` from its plugin directory
 * LIBDIR/krb5/plugins/kdb: /usr/lib/<multiarch triplet> on Debian (x86_64-linux-gnu, aarch64-linux-gnu, ...),
 * /usr/lib64 or /usr/lib elsewhere.
 */
export function kldapPlugin(): string | undefined {
  const multiarch = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((d) => d.includes('-linux-')).map((d) => join('/usr/lib', d)) : [];
  return [...multiarch, '/usr/lib64', '/usr/lib'].map((d) => join(d, 'krb5', 'plugins', 'kdb', 'kldap.so')).find((p) => existsSync(p));
}

/** Why the LDAP-backed KDC cannot run, or undefined when it can (for needs(), test/harness/skip.ts). */
export function ldapKdcMissing(): string | undefined {
  const missing = ['/usr/sbin/slapd', '/usr/bin/ldapadd', '/usr/sbin/kdb5_ldap_util', SCHEMA_GZ].filter((p) => !existsSync(p));
  if (!kldapPlugin()) missing.push('krb5/plugins/kdb/kldap.so');
  return missing.length ? `the LDAP-backed KDC needs ${missing.join(', ')} (apt-get install slapd ldap-utils krb5-kdc-ldap)` : undefined;
}

export function ldapKdcAvailable(): boolean {
  return ldapKdcMissing() === undefined;
}

export async function startLdapKdc(): Promise<LdapKdc> {
  const dir = mkdtempSync(join(tmpdir(), 'kn-ldap-kdc-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const done = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await done;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ldapPort = await freePort();
    const kdcPort = await freePort();
    const ldapPassword = randomBytes(12).toString('hex');
    const ldapUrl = `ldap://127.0.0.1:${ldapPort}/`;
    mkdirSync(join(dir, 'db'));
    writeFileSync(join(dir, 'kerberos.schema'), gunzipSync(readFileSync(SCHEMA_GZ)));
    writeFileSync(join(dir, 'slapd.conf'), [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      `include ${join(dir, 'kerberos.schema')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'database mdb',
      `suffix "${BASE}"`,
      `rootdn "${ADMIN}"`,
      `rootpw ${ldapPassword}`,
      `directory ${join(dir, 'db')}`,
      'index objectClass eq',
      'index krbPrincipalName eq',
      '',
    ].join('\n'), { mode: 0o600 });
    let slapdExit: string | undefined;
    const slapd = spawn('/usr/sbin/slapd', ['-d', '0', '-f', join(dir, 'slapd.conf'), '-h', ldapUrl], { stdio: 'ignore' });
    children.push(slapd);
    slapd.once('exit', (code, signal) => (slapdExit = `slapd exited (${code ?? signal})`));
    await waitFor('slapd', () => tcpAnswers(ldapPort), 20_000, () => slapdExit);
    const bind = ['-x', '-H', ldapUrl, '-D', ADMIN, '-w', ldapPassword];
    const ldapadd = (ldif: string, tool = '/usr/bin/ldapadd') => new Promise<void>((resolve, reject) => {
      const p = spawn(tool, bind, { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} failed: ${err.slice(-500)}`))));
      p.stdin.end(ldif);
    });
    await ldapadd(`dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\no: s4u\ndc: s4u\n`);

    const krb5Config = join(dir, 'krb5.conf');
    const kdcConf = join(dir, 'kdc.conf');
    const keyfile = join(dir, 'service.keyfile');
    writeFileSync(krb5Config, [
      '[realms]',
      ` ${REALM} = {`,
      `  kdc = 127.0.0.1:${kdcPort}`,
      ' }',
      '[domain_realm]',
      ' .s4u.test = S4U.TEST',
      '',
    ].join('\n'));
    // The tools run with this realm as default; clients get only its [realms] entry (krb5Config), not a default.
    const adminConfig = join(dir, 'admin.conf');
    writeFileSync(adminConfig, `[libdefaults]\n default_realm = ${REALM}\n${readFileSync(krb5Config, 'utf8')}`);
    writeFileSync(kdcConf, [
      '[kdcdefaults]',
      ` kdc_listen = 127.0.0.1:${kdcPort}`,
      ` kdc_tcp_listen = 127.0.0.1:${kdcPort}`,
      '[realms]',
      ` ${REALM} = {`,
      `  database_module = ldap`,
      `  key_stash_file = ${join(dir, 'stash')}`,
      `  acl_file = ${join(dir, 'kadm5.acl')}`,
      ' }',
      '[dbmodules]',
      ' ldap = {',
      '  db_library = kldap',
      `  ldap_kerberos_container_dn = "cn=krbcontainer,${BASE}"`,
      `  ldap_kdc_dn = "${ADMIN}"`,
      `  ldap_kadmind_dn = "${ADMIN}"`,
      `  ldap_service_password_file = ${keyfile}`,
      `  ldap_servers = ${ldapUrl}`,
      ' }',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'kadm5.acl'), '');
    const env = { ...process.env, KRB5_CONFIG: adminConfig, KRB5_KDC_PROFILE: kdcConf };
    const master = randomBytes(12).toString('hex');
    await run('/usr/sbin/kdb5_ldap_util', ['-D', ADMIN, '-w', ldapPassword, '-H', ldapUrl, 'create', '-subtrees', BASE, '-r', REALM, '-s', '-P', master],
      { env, timeout: 60_000 });
    await new Promise<void>((resolve, reject) => {
      const p = spawn('/usr/sbin/kdb5_ldap_util', ['-D', ADMIN, '-w', ldapPassword, '-H', ldapUrl, 'stashsrvpw', '-f', keyfile, ADMIN],
        { env, stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`stashsrvpw failed: ${err.slice(-300)}`))));
      p.stdin.end(`${ldapPassword}\n${ldapPassword}\n`);
    });
    const kadmin = (q: string) => run('/usr/sbin/kadmin.local', ['-r', REALM, '-q', q], { env, timeout: 60_000 });
    const principal = (name: string) => `${name}@${REALM}`;
    const front = { name: principal('HTTP/front.s4u.test'), keytab: join(dir, 'front.keytab') };
    const back = { name: principal('HTTP/back.s4u.test'), keytab: join(dir, 'back.keytab') };
    const other = { name: principal('HTTP/other.s4u.test'), keytab: join(dir, 'other.keytab') };
    const user = principal('carol');
    await kadmin('addprinc -randkey carol');
    // ok_to_auth_as_delegate: protocol transition gives a forwardable ticket, which S4U2Proxy needs as evidence.
    await kadmin('addprinc -randkey +ok_to_auth_as_delegate HTTP/front.s4u.test');
    await kadmin('addprinc -randkey HTTP/back.s4u.test');
    await kadmin('addprinc -randkey HTTP/other.s4u.test');
    for (const p of [front, back, other]) await kadmin(`ktadd -k ${p.keytab} ${p.name.split('@')[0]}`);
    const userKeytab = join(dir, 'carol.keytab');
    await kadmin(`ktadd -k ${userKeytab} carol`);
    // The constrained-delegation policy: front may act for users towards back only.
    await ldapadd([
      `dn: krbPrincipalName=${front.name},cn=${REALM},cn=krbcontainer,${BASE}`,
      'changetype: modify',
      'add: krbAllowedToDelegateTo',
      `krbAllowedToDelegateTo: ${back.name}`,
      '',
    ].join('\n'), '/usr/bin/ldapmodify');

    let kdcExit: string | undefined;
    const kdc = spawn('/usr/sbin/krb5kdc', ['-n', '-r', REALM], { env, stdio: 'ignore' });
    children.push(kdc);
    kdc.once('exit', (code, signal) => (kdcExit = `krb5kdc exited (${code ?? signal})`));
    await waitFor('the LDAP-backed krb5kdc', () => tcpAnswers(kdcPort), 20_000, () => kdcExit);
    return { realm: REALM, krb5Config, front, back, other, user, userKeytab, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
