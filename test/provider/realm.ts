// The test realm as the provider-level suite sees it. On Linux the suite starts the harness's KDC itself (Docker or
// native) and gets alice's TGT into the default cache. Under Wine the Windows node cannot drive the harness:
// scripts/test-wine.ts starts the same KDC and hands its names over in KN_* variables. The harness is imported
// statically even so (nothing in it runs at import): a dynamic import from a test file, which mocha loads as
// CommonJS through tsx, would make a second instance of kdc.ts and so a second KDC.
import { randomBytes } from 'node:crypto';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { acceptorEnv } from '../wine/bridge.js';

/** The services the realm has keys for: HTTP/<host> (not ok-as-delegate), HTTP/deleg.<domain> (ok-as-delegate), HTTP/other.<domain>. */
export type ServiceKey = 'http' | 'deleg' | 'other';

export interface Realm {
  /** The service the peer accepts for by default, as `HTTP/host` (SSPI's form). */
  spn: string;
  /** The same service in the GSS host-based form, `HTTP@host`. */
  gssService: string;
  /** The host of a service, by its key. */
  host(key: ServiceKey): string;
  alice: string;
  alicePassword: string;
  bob: string;
  bobPassword: string;
  /** A user whose tickets live `lifeS` seconds (kadmin -maxlife), for tests that outlive a ticket. */
  shortLived: { name: string; password: string; lifeS: number };
  /**
   * Linux: the keytab of HTTP/<host>, which the acceptor under test (acceptor.test.ts) names per handle. Undefined
   * under Wine: SSPI takes no keytab, and Wine's Kerberos reads MIT's default one (KRB5_KTNAME, set by test-wine.ts).
   */
  serviceKeytab?: string;
  /** Linux: the environment a local peer with `key`'s keytab runs in. Undefined when the peer is behind the bridge. */
  localPeerEnv?: (key: ServiceKey) => Record<string, string>;
}

let linux: Promise<Realm> | undefined;

/** The realm (on Linux: started, with alice's TGT, once for the whole suite). */
export function realm(): Promise<Realm> {
  if (process.env.KN_SPN) return Promise.resolve(fromEnvironment());
  linux ??= harnessRealm();
  return linux;
}

function fromEnvironment(): Realm {
  const spn = process.env.KN_SPN!;
  const domain = process.env.KN_DOMAIN!;
  return {
    spn, gssService: spn.replace('/', '@'), host: (key) => (key === 'http' ? spn.split('/')[1] : `${key}.${domain}`),
    alice: process.env.KN_ALICE!, alicePassword: process.env.KN_ALICE_PASSWORD!, bob: process.env.KN_BOB!, bobPassword: process.env.KN_BOB_PASSWORD!,
    shortLived: { name: process.env.KN_SHORT!, password: process.env.KN_SHORT_PASSWORD!, lifeS: Number(process.env.KN_SHORT_LIFE) },
  };
}

async function harnessRealm(): Promise<Realm> {
  const kdc = await kdcWithAlice();
  return {
    spn: `HTTP/${kdc.hostname}`,
    gssService: `HTTP@${kdc.hostname}`,
    host: (key) => (key === 'http' ? kdc.hostname : `${key}.${kdc.domain}`),
    alice: kdc.principals.alice.name,
    alicePassword: kdc.principals.alice.password!,
    bob: kdc.principals.bob.name,
    bobPassword: kdc.principals.bob.password!,
    shortLived: await shortLivedUser(kdc),
    serviceKeytab: kdc.principals.http.keytab,
    localPeerEnv: (key) => acceptorEnv(kdc, key),
  };
}

/** The ticket life of the realm's short-lived user: long enough for a first leg, short for the suite's time. */
export const SHORT_LIFE_S = 10;

/** Creates the short-lived user (scripts/test-wine.ts does the same for the Windows node, through KN_SHORT*). */
export async function shortLivedUser(kdc: Kdc): Promise<Realm['shortLived']> {
  const password = randomBytes(18).toString('hex');
  const user = `carol-${process.pid}`;
  await kdc.kadmin(`addprinc -pw ${password} -maxlife "${SHORT_LIFE_S} seconds" ${user}`);
  return { name: `${user}@${kdc.realm}`, password, lifeS: SHORT_LIFE_S };
}
