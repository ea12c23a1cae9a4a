// What the integration suite needs from its host, each peer checked by the capability it is used for (a program
// that runs, a module that loads, a library that opens), with the Debian packages that provide it. One list for
// scripts/with-peers.ts, which runs `npm test`, `npm run test:heimdal` and `npm run demo` on this host when nothing
// is missing and in the suite image (docker/suite/Dockerfile) otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KERBEROS_ADDON_MISSING } from './acceptor.js';
import { apacheAvailable } from './apache.js';
import { ldapKdcMissing } from './ldap-kdc.js';
import { LIBFAKETIME, PythonAcceptor, SYSTEM_PYTHON } from './python-acceptor.js';
import { ntlmInstalled } from './ntlm.js';

export interface Missing {
  /** What is missing, as a reader would look for it. */
  what: string;
  /** The Debian packages that provide it (apt-get install ...). */
  packages: string[];
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, program)));
}

/** Whether the dynamic loader finds a shared library by its soname (the way koffi opens GSS-API). */
function libraryLoads(soname: string): boolean {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout.includes(`${soname} `);
  return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(join(d, soname)));
}

/**
 * Everything the suite (or the demo) would go without on this host. `heimdal`: the run loads Heimdal's GSS-API
 * (npm run test:heimdal), which needs libgssapi.so.3 as well.
 */
export function missingPeers(opts: { heimdal?: boolean } = {}): Missing[] {
  const missing: Missing[] = [];
  const need = (ok: boolean, what: string, ...packages: string[]) => {
    if (!ok) missing.push({ what, packages });
  };
  need(process.platform === 'linux', `a Linux host (this is ${process.platform})`);
  need(libraryLoads('libgssapi_krb5.so.2'), 'MIT GSS-API (libgssapi_krb5.so.2)', 'libgssapi-krb5-2');
  if (opts.heimdal) need(libraryLoads('libgssapi.so.3'), 'Heimdal GSS-API (libgssapi.so.3)', 'libgssapi3-heimdal');
  need(['krb5kdc', 'kdb5_util', 'kadmin.local'].every((p) => existsSync(join('/usr/sbin', p))),
    'the MIT KDC and its tools (/usr/sbin/krb5kdc, kdb5_util, kadmin.local)', 'krb5-kdc', 'krb5-admin-server');
  need(['kinit', 'kdestroy', 'ktutil'].every(onPath), 'kinit, kdestroy and ktutil on PATH', 'krb5-user');
  need(onPath('openssl'), 'openssl on PATH', 'openssl');
  need(onPath('curl'), 'curl on PATH', 'curl');
  need(apacheAvailable(), 'Apache with mod_auth_gssapi (/usr/sbin/apache2, mod_auth_gssapi.so)', 'apache2', 'libapache2-mod-auth-gssapi');
  need(existsSync(SYSTEM_PYTHON) && PythonAcceptor.available(), `${SYSTEM_PYTHON} that imports gssapi`, 'python3-gssapi');
  need(existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ['-c', 'import requests_kerberos']).status === 0,
    `${SYSTEM_PYTHON} that imports requests_kerberos (a client of the server middleware)`, 'python3-requests-kerberos');
  need(existsSync('/usr/bin/chromium'), 'Chromium (/usr/bin/chromium, a browser client of the server middleware)', 'chromium');
  need(LIBFAKETIME !== undefined, 'libfaketime (faketime/libfaketime.so.1)', 'faketime');
  need(ntlmInstalled(), 'a gss-ntlmssp mechanism registered in /etc/gss/mech.d', 'gss-ntlmssp');
  const ldap = ldapKdcMissing();
  need(ldap === undefined, ldap ?? '', 'slapd', 'ldap-utils', 'krb5-kdc-ldap');
  need(KERBEROS_ADDON_MISSING === undefined, KERBEROS_ADDON_MISSING ?? '', 'g++', 'make', 'python3', 'libkrb5-dev');
  return missing;
}

/** The missing peers as lines for a message, and the one apt-get command that installs them. */
export function describeMissing(missing: Missing[]): string {
  const packages = [...new Set(missing.flatMap((m) => m.packages))];
  return [
    ...missing.map((m) => `  - ${m.what}${m.packages.length ? ` [${m.packages.join(' ')}]` : ''}`),
    ...(packages.length ? [`  apt-get install --no-install-recommends ${packages.join(' ')}   (then npm ci, for the kerberos add-on)`] : []),
  ].join('\n');
}
