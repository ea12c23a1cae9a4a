// What an integration test file starts from, in one call in its describe block (after its this.timeout, which the
// hooks take when they are made): what it cannot run without, checked first through needs() (skipped with the reason,
// or failed under CI=true); the shared KDC with its environment applied and, unless asked otherwise, alice's TGT in
// its default cache; credentials acquired for the file; Apache with mod_auth_gssapi. Everything the suite made is
// freed or stopped after the file; the KDC itself is shared by the run and stopped by the root hook (hooks.ts).
// The fields are set once the suite's `before` has run: read them in tests and hooks, not in the describe body.
import { acquireCredentialsHandle, freeCredentialsHandle, type AcquireCredentialsOptions, type CredentialsHandle } from '../../lib/index.js';
import { KERBEROS_ADDON_MISSING, kerberosAddonAvailable } from './acceptor.js';
import { APACHE_MISSING, apacheAvailable, startApache, type Apache } from './apache.js';
import { kdcWithAlice, sharedKdc, type Kdc } from './kdc.js';
import { PYTHON_GSSAPI_MISSING, PythonAcceptor } from './python-acceptor.js';
import { needs } from './skip.js';

/** Something a file cannot run without, and the reason needs() gives when it is missing. */
export interface Need {
  available: () => boolean;
  reason: string;
}

/** The `kerberos` add-on (test/peers), the independent acceptor of harness/acceptor.ts. */
export const KERBEROS_ADDON: Need = { available: kerberosAddonAvailable, reason: KERBEROS_ADDON_MISSING ?? '' };
/** Debian's python3-gssapi (.ci/run installs it), the acceptor of harness/python-acceptor.ts. */
export const PYTHON_GSSAPI: Need = { available: () => PythonAcceptor.available(), reason: PYTHON_GSSAPI_MISSING };
/** apache2 with libapache2-mod-auth-gssapi (.ci/run installs them). */
export const APACHE: Need = { available: apacheAvailable, reason: APACHE_MISSING };

type ApacheOption = 'required' | 'if-available' | undefined;

export interface RealmSuiteOptions<K extends string, A extends ApacheOption = undefined> {
  /** Checked in this order before anything starts. */
  needs?: Need[];
  /** `alice` (the default): her TGT is put into the realm's default cache. `none`: the environment only. */
  logon?: 'alice' | 'none';
  /** One credential, acquired with these options after the logon: `suite.cred`. */
  credential?: AcquireCredentialsOptions;
  /** Credentials by name, acquired in this order after `credential`: `suite.creds[name]`. */
  credentials?: Record<K, AcquireCredentialsOptions>;
  /** Apache for the realm: `required` needs it (APACHE first, unless `needs` places it); `if-available` starts it where installed. */
  apache?: A;
}

export interface RealmSuite<K extends string = never, A extends ApacheOption = undefined> {
  kdc: Kdc;
  /** The host of the realm's HTTP service (kdc.hostname). */
  host: string;
  /** That service in SSPI's form, `HTTP/<host>`. */
  spn: string;
  /** Set when the options ask for `credential`. */
  cred: CredentialsHandle;
  creds: Record<K, CredentialsHandle>;
  /** Apache, when started: always with `apache: 'required'`, where installed with `if-available`. */
  apache: A extends 'required' ? Apache : Apache | undefined;
}

export function realmSuite<K extends string = never, A extends ApacheOption = undefined>(options: RealmSuiteOptions<K, A> = {}): RealmSuite<K, A> {
  const suite = { creds: {} as Record<K, CredentialsHandle> } as RealmSuite<K, A>;
  const wanted = [...(options.needs ?? [])];
  if (options.apache === 'required' && !wanted.includes(APACHE)) wanted.unshift(APACHE);
  before('the realm', async function () {
    for (const need of wanted) needs(this, need.available(), need.reason);
    if ((options.logon ?? 'alice') === 'alice') {
      suite.kdc = await kdcWithAlice();
    } else {
      suite.kdc = await sharedKdc();
      suite.kdc.applyEnv();
    }
    suite.host = suite.kdc.hostname;
    suite.spn = `HTTP/${suite.kdc.hostname}`;
    if (options.credential) suite.cred = await acquireCredentialsHandle(options.credential);
    for (const [name, acquire] of Object.entries(options.credentials ?? {}) as Array<[K, AcquireCredentialsOptions]>) {
      suite.creds[name] = await acquireCredentialsHandle(acquire);
    }
    if (options.apache === 'required' || (options.apache === 'if-available' && apacheAvailable())) {
      (suite as RealmSuite<K, 'if-available'>).apache = await startApache(suite.kdc);
    }
  });
  after('what the realm suite made', async () => {
    if (suite.cred) freeCredentialsHandle(suite.cred);
    for (const cred of Object.values<CredentialsHandle | undefined>(suite.creds)) if (cred) freeCredentialsHandle(cred);
    await suite.apache?.stop();
  });
  return suite;
}
