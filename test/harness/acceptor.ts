// The independent acceptor of the integration tests: the `kerberos` package's server (MIT's
// gss_accept_sec_context through its own native add-on, with MIT's SPNEGO), reading the harness's HTTP keytab.
// The add-on is an optionalDependency of the private workspace test/peers (never of the published package): it
// builds from source (node-gyp, g++, make, python3, libkrb5-dev) where no prebuilt binary can be downloaded, and a
// failed optional build must not fail `npm ci`. Without it, the tests that
// use it say so through needs() (test/harness/skip.ts): skipped with this reason, or failed under CI=true.
import { createRequire } from 'node:module';

/** The part of the `kerberos` package's API that the tests and bench/run.ts use (typed here, so that `npm run
 * typecheck` passes on a machine where the optional add-on did not install). */
export interface KerberosContext {
  step(challenge: string): Promise<string>;
  readonly response: string;
  readonly contextComplete: boolean;
  readonly username: string;
}
export interface KerberosAddon {
  initializeServer(service: string): Promise<KerberosContext>;
  initializeClient(service: string, options?: { mechOID?: unknown; gssFlag?: number }): Promise<KerberosContext>;
  readonly GSS_MECH_OID_SPNEGO: unknown;
  readonly GSS_C_MUTUAL_FLAG: number;
}

// Loaded with require (the add-on is CommonJS): no top-level await, which mocha's require of a spec cannot take.
let kerberos: KerberosAddon | undefined;
let loadError: string | undefined;
try {
  kerberos = createRequire(import.meta.url)('kerberos') as KerberosAddon;
} catch (err) {
  loadError = (err as Error).message.split('\n')[0];
}

/** The loaded add-on; throws the reason it is missing (bench/run.ts, scripts/demo.ts, scripts/fuzz-worker.ts). */
export function kerberosAddon(): KerberosAddon {
  if (!kerberos) throw new Error(KERBEROS_ADDON_MISSING);
  return kerberos;
}

/** Why the add-on cannot be used (for needs()), or undefined when it loads. */
export const KERBEROS_ADDON_MISSING: string | undefined = kerberos ? undefined
  : `the kerberos add-on (test/peers, optional) does not load (${loadError}); its build needs g++ make python3 libkrb5-dev, then npm install`;

export function kerberosAddonAvailable(): boolean {
  return kerberos !== undefined;
}

export interface Acceptor {
  /** Feeds one initiator token; returns the acceptor's reply token (empty when none). */
  step(token: Uint8Array): Promise<Buffer>;
  readonly complete: boolean;
  /** The authenticated client principal, once complete. */
  readonly username: string | undefined;
}

/** A fresh acceptor for `service@host` (KRB5_KTNAME from the harness environment names the keytab). */
export async function newAcceptor(service = 'HTTP@web.kn.test'): Promise<Acceptor> {
  const server = await kerberosAddon().initializeServer(service);
  return {
    async step(token) {
      await server.step(Buffer.from(token).toString('base64'));
      return Buffer.from(server.response ?? '', 'base64');
    },
    get complete() {
      return server.contextComplete;
    },
    get username() {
      return server.username || undefined;
    },
  };
}
