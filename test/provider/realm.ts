// The test realm as the provider-level suite sees it. On Linux the suite starts the harness's KDC itself (Docker or
// native) and gets alice's TGT into the default cache. Under Wine the Windows node cannot drive the harness:
// scripts/test-wine.ts starts the same KDC and hands its names over in KN_* variables.
export interface Realm {
  /** The service the peer accepts for, as `HTTP/host` (SSPI's form). */
  spn: string;
  /** The same service in the GSS host-based form, `HTTP@host`. */
  gssService: string;
  alice: string;
  alicePassword: string;
  bob: string;
  bobPassword: string;
  /** The environment a local peer runs in (KRB5_CONFIG, KRB5_KTNAME); empty when the peer is remote. */
  peerEnv: Record<string, string>;
}

export async function realm(): Promise<Realm> {
  if (process.env.KN_SPN) {
    const spn = process.env.KN_SPN;
    return { spn, gssService: spn.replace('/', '@'), alice: process.env.KN_ALICE!, alicePassword: process.env.KN_ALICE_PASSWORD!, bob: process.env.KN_BOB!, bobPassword: process.env.KN_BOB_PASSWORD!, peerEnv: {} };
  }
  const { kdcWithAlice } = await import('../harness/kdc.js');
  const kdc = await kdcWithAlice();
  return {
    spn: `HTTP/${kdc.hostname}`,
    gssService: `HTTP@${kdc.hostname}`,
    alice: kdc.principals.alice.name,
    alicePassword: kdc.principals.alice.password!,
    bob: kdc.principals.bob.name,
    bobPassword: kdc.principals.bob.password!,
    peerEnv: kdc.env,
  };
}
