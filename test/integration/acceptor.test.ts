// acceptSecurityContext against real initiators: ours (both packages, MIT or Heimdal as loaded), python-gssapi's
// (MIT; raw krb5 and SPNEGO), the `kerberos` add-on's client. Real KDC, real keytabs, one keytab per handle.
import { expect } from 'chai';
import {
  ASC_REQ_ALLOCATE_MEMORY,
  ASC_REQ_CONFIDENTIALITY,
  ASC_REQ_MUTUAL_AUTH,
  ASC_RET_MUTUAL_AUTH,
  SECPKG_ATTR_AUTHORITY,
  SECPKG_ATTR_NAMES,
  SECPKG_ATTR_NATIVE_NAMES,
  SECPKG_CRED_INBOUND,
  acceptSecurityContext,
  acquireCredentialsHandle,
  deleteSecurityContext,
  freeCredentialsHandle,
  initializeSecurityContext,
  queryContextAttributes,
  type AcceptResult,
  type ContextHandle,
  type CredentialsHandle,
  type InitializeResult,
} from '../../lib/index.js';
import * as F from '../../lib/sspi/flags.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';

export const ISC = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY;
export const ASC = ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY;
export const tokenOf = (r: InitializeResult | AcceptResult) => Buffer.from(r.output[0]?.buffer ?? []);
const tok = (b: Buffer) => [{ type: F.SECBUFFER_TOKEN, buffer: b }];

/** Our initiator against our acceptor until both are done or one fails. */
export async function handshake(client: CredentialsHandle, server: CredentialsHandle, spn: string, opts: { isc?: number; asc?: number } = {}) {
  const isc = opts.isc ?? ISC;
  const asc = opts.asc ?? ASC;
  let c = await initializeSecurityContext({ credential: client, targetName: spn, contextReq: isc });
  let s: AcceptResult | undefined;
  let sctx: ContextHandle | undefined;
  for (let i = 0; i < 6; i++) {
    if (!['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'].includes(c.statusName) || tokenOf(c).length === 0) break;
    s = await acceptSecurityContext({ credential: server, context: sctx, input: tok(tokenOf(c)), contextReq: asc });
    sctx = s.context ?? sctx;
    if (s.statusName !== 'SEC_E_OK' && s.statusName !== 'SEC_I_CONTINUE_NEEDED') break;
    if (tokenOf(s).length === 0 || c.statusName === 'SEC_E_OK') break;
    c = await initializeSecurityContext({ context: c.context, contextReq: isc, input: tok(tokenOf(s)) });
  }
  return { client: c, server: s!, cctx: c.context, sctx };
}

describe('acceptSecurityContext: our initiator to our acceptor', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let spn: string;
  const held: CredentialsHandle[] = [];
  const contexts: ContextHandle[] = [];

  before(async () => {
    kdc = await kdcWithAlice();
    spn = `HTTP/${kdc.hostname}`;
  });
  after(() => {
    contexts.forEach((c) => deleteSecurityContext(c));
    held.forEach((h) => freeCredentialsHandle(h));
  });
  const keep = <T extends CredentialsHandle>(h: T) => (held.push(h), h);

  for (const pkg of ['Negotiate', 'Kerberos'] as const) {
    it(`${pkg}: mutual authentication completes both ways, the server names alice`, async () => {
      const client = keep(await acquireCredentialsHandle({ package: pkg }));
      const server = keep(await acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab }));
      const r = await handshake(client, server, spn);
      if (r.cctx) contexts.push(r.cctx);
      if (r.sctx) contexts.push(r.sctx);
      expect(r.server.statusName, r.server.error?.message).to.equal('SEC_E_OK');
      expect(r.client.statusName, r.client.error?.message).to.equal('SEC_E_OK');
      expect(r.server.contextAttr & ASC_RET_MUTUAL_AUTH).to.equal(ASC_RET_MUTUAL_AUTH);
      const names = queryContextAttributes(r.sctx!, SECPKG_ATTR_NAMES);
      expect(names.value?.userName).to.equal(kdc.principals.alice.name);
      const native = queryContextAttributes(r.sctx!, SECPKG_ATTR_NATIVE_NAMES);
      expect(native.value).to.deep.equal({ clientName: kdc.principals.alice.name, serverName: kdc.principals.http.name });
      expect(queryContextAttributes(r.sctx!, SECPKG_ATTR_AUTHORITY).value).to.deep.equal({ authorityName: kdc.realm });
    });
  }
});
