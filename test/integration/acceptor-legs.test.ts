// The legs of one accept: each is judged by the contextReq and channel bindings it is given (as AcceptSecurityContext
// judges each call by its own fContextReq and SECBUFFER_CHANNEL_BINDINGS), and a leg that throws instead of returning
// a status (koffi refusing the native call) leaves no context, credential reference or replay-cache entry behind.
// Runs on MIT (`npm test`) and Heimdal (`npm run test:heimdal`).
import { expect } from 'chai';
import {
  ASC_REQ_ALLOCATE_MEMORY,
  ASC_REQ_CONFIDENTIALITY,
  ASC_REQ_PROXY_BINDINGS,
  SECPKG_CRED_INBOUND,
  acceptSecurityContext,
  acquireCredentialsHandle,
  deleteSecurityContext,
  freeCredentialsHandle,
  initializeSecurityContext,
  secChannelBindings,
  type CredentialsHandle,
} from '../../lib/index.js';
import { liveNativeStates } from '../../lib/facade/handles.js';
import * as F from '../../lib/vocabulary/flags.js';
import { gssapi } from '../../ffi/gssapi.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';

const ISC_DCE = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY | F.ISC_REQ_USE_DCE_STYLE;
const ASC = ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY;
const tokenOf = (r: { output: Array<{ buffer: Uint8Array }> }) => Buffer.from(r.output[0]?.buffer ?? []);
const tok = (b: Buffer) => [{ type: F.SECBUFFER_TOKEN, buffer: b }];
const bindings = () => ({ type: F.SECBUFFER_CHANNEL_BINDINGS, buffer: secChannelBindings({ applicationData: Buffer.from('tls-server-end-point:test') }) });

describe('acceptSecurityContext: each leg is judged by its own request; a throwing leg leaves nothing behind', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let spn: string;
  let outbound: CredentialsHandle;
  let inbound: CredentialsHandle;

  before(async () => {
    kdc = await kdcWithAlice();
    spn = `HTTP/${kdc.hostname}`;
    outbound = await acquireCredentialsHandle({ package: 'Kerberos' });
    inbound = await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
  });
  after(() => {
    freeCredentialsHandle(outbound);
    freeCredentialsHandle(inbound);
  });

  /** A DCE-style Kerberos exchange (two accept legs), the client binding nothing, each leg with its own arguments. */
  async function twoLegs(first: { contextReq: number; input?: object[]; policy?: 'required' | 'when-supported' | 'never' },
    second: { contextReq: number; input?: object[]; policy?: 'required' | 'when-supported' | 'never' }) {
    const c1 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: ISC_DCE });
    const s1 = await acceptSecurityContext({
      credential: inbound, input: [...tok(tokenOf(c1)), ...(first.input ?? [])] as never, contextReq: first.contextReq,
      ...(first.policy ? { channelBindings: first.policy } : {}),
    });
    expect(s1.statusName, s1.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
    const c2 = await initializeSecurityContext({ context: c1.context, contextReq: ISC_DCE, input: tok(tokenOf(s1)) });
    const s2 = await acceptSecurityContext({
      context: s1.context, input: [...tok(tokenOf(c2)), ...(second.input ?? [])] as never, contextReq: second.contextReq,
      ...(second.policy ? { channelBindings: second.policy } : {}),
    });
    deleteSecurityContext(c1.context!);
    deleteSecurityContext(s1.context!);
    return s2;
  }

  it('a later leg that requires channel bindings (ASC_REQ_PROXY_BINDINGS) refuses an unbound client the first leg let through', async () => {
    // Fails on the old code: the closure kept the first call's policy ("never") and the context completed.
    const s2 = await twoLegs({ contextReq: ASC, policy: 'never' }, { contextReq: ASC | ASC_REQ_PROXY_BINDINGS, input: [bindings()] });
    expect(s2.statusName, s2.error?.message).to.equal('SEC_E_BAD_BINDINGS');
  });

  it('a later leg whose policy is "never" completes what a first leg under "required" began', async () => {
    // Fails on the old code: the first call's "required" was applied at completion (SEC_E_BAD_BINDINGS).
    const s2 = await twoLegs({ contextReq: ASC, policy: 'required', input: [bindings()] }, { contextReq: ASC, policy: 'never' });
    expect(s2.statusName, s2.error?.message).to.equal('SEC_E_OK');
  });

  it('a later leg under "required" without a SECBUFFER_CHANNEL_BINDINGS buffer is SEC_E_BAD_BINDINGS, and the context is failed', async () => {
    const c1 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: ISC_DCE });
    const s1 = await acceptSecurityContext({ credential: inbound, input: tok(tokenOf(c1)), contextReq: ASC });
    const c2 = await initializeSecurityContext({ context: c1.context, contextReq: ISC_DCE, input: tok(tokenOf(s1)) });
    const s2 = await acceptSecurityContext({ context: s1.context, input: tok(tokenOf(c2)), contextReq: ASC, channelBindings: 'required' });
    expect(s2.statusName).to.equal('SEC_E_BAD_BINDINGS');
    expect(s2.context).to.equal(s1.context);
    const s3 = await acceptSecurityContext({ context: s1.context, input: tok(tokenOf(c2)), contextReq: ASC });
    expect(s3.statusName).to.equal('SEC_E_INVALID_HANDLE');
    deleteSecurityContext(c1.context!);
    deleteSecurityContext(s1.context!);
  });

  it('a first leg whose native call throws frees its context and credential reference, and forgets the authenticator', async () => {
    const fn = gssapi().fn as unknown as Record<string, unknown>;
    const real = fn.gss_accept_sec_context;
    const before = liveNativeStates();
    const own = await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
    const c1 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: F.ISC_REQ_MUTUAL_AUTH });
    const withClient = liveNativeStates();
    const injected = new TypeError('injected: koffi refused the call');
    fn.gss_accept_sec_context = { async: () => { throw injected; } };
    let thrown: unknown;
    try {
      await acceptSecurityContext({ credential: own, input: tok(tokenOf(c1)), contextReq: ASC });
    } catch (err) {
      thrown = err;
    } finally {
      fn.gss_accept_sec_context = real;
    }
    expect(thrown).to.equal(injected);
    await new Promise((r) => setTimeout(r, 20));
    // Fails on the old code: the context (and so its reference on the credential) stayed live.
    expect(liveNativeStates().contexts, 'no server context left').to.equal(withClient.contexts);
    // The same AP-REQ, really accepted now: on Heimdal (the library's replay cache) the old code called it a replay.
    const again = await acceptSecurityContext({ credential: own, input: tok(tokenOf(c1)), contextReq: ASC });
    expect(again.statusName, again.error?.message).to.equal('SEC_E_OK');
    deleteSecurityContext(again.context!);
    deleteSecurityContext(c1.context!);
    freeCredentialsHandle(own);
    await new Promise((r) => setTimeout(r, 20));
    // The handle's credential is released once: the context's reference went with it.
    expect(liveNativeStates(), 'every native state released').to.deep.equal(before);
  });

  it('a later leg whose native call throws leaves a failed context that only deletion frees', async () => {
    const fn = gssapi().fn as unknown as Record<string, unknown>;
    const real = fn.gss_accept_sec_context;
    const before = liveNativeStates();
    const c1 = await initializeSecurityContext({ credential: outbound, targetName: spn, contextReq: ISC_DCE });
    const s1 = await acceptSecurityContext({ credential: inbound, input: tok(tokenOf(c1)), contextReq: ASC });
    const c2 = await initializeSecurityContext({ context: c1.context, contextReq: ISC_DCE, input: tok(tokenOf(s1)) });
    fn.gss_accept_sec_context = { async: () => { throw new TypeError('injected'); } };
    try {
      await acceptSecurityContext({ context: s1.context, input: tok(tokenOf(c2)), contextReq: ASC }).then(
        () => expect.fail('the injected throw was swallowed'), (err: Error) => expect(err.message).to.equal('injected'));
    } finally {
      fn.gss_accept_sec_context = real;
    }
    const s3 = await acceptSecurityContext({ context: s1.context, input: tok(tokenOf(c2)), contextReq: ASC });
    expect(s3.statusName).to.equal('SEC_E_INVALID_HANDLE');
    deleteSecurityContext(s1.context!);
    deleteSecurityContext(c1.context!);
    await new Promise((r) => setTimeout(r, 20));
    expect(liveNativeStates()).to.deep.equal(before);
  });
});
