// One whole establishment each way, the loops every bench script measures: ours as initiator, or the `kerberos`
// add-on's client, both against the add-on's server (a new server object per context, as its API requires), Negotiate
// with mutual authentication, confidentiality and integrity. Each gives the whole time and the initiator's share.
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SECBUFFER_TOKEN, deleteSecurityContext,
  initializeSecurityContext, type CredentialsHandle,
} from '../lib/index.js';
import { kerberosAddon } from '../test/harness/acceptor.js';

export const REQ = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;

export interface Timed { ms: number; initiatorMs: number }

/** Ours to `spn` with `cred`, the add-on's server as `HTTP@host`. */
export async function oursEstablish(cred: CredentialsHandle, spn: string, host: string): Promise<Timed> {
  const server = await kerberosAddon().initializeServer(`HTTP@${host}`);
  const t = performance.now();
  let initiator = 0;
  let t0 = performance.now();
  let r = await initializeSecurityContext({ credential: cred, targetName: spn, contextReq: REQ });
  initiator += performance.now() - t0;
  while (r.statusName === 'SEC_I_CONTINUE_NEEDED') {
    await server.step(Buffer.from(r.output[0].buffer).toString('base64'));
    t0 = performance.now();
    r = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: Buffer.from(server.response, 'base64') }] });
    initiator += performance.now() - t0;
  }
  if (r.statusName !== 'SEC_E_OK') throw new Error(r.error?.message);
  deleteSecurityContext(r.context!);
  return { ms: performance.now() - t, initiatorMs: initiator };
}

/** The add-on's client (MIT's SPNEGO, mutual) to `HTTP@host`, its server as acceptor. */
export async function kerberosEstablish(host: string): Promise<Timed> {
  const kerberos = kerberosAddon();
  const server = await kerberos.initializeServer(`HTTP@${host}`);
  const t = performance.now();
  let initiator = 0;
  let t0 = performance.now();
  const client = await kerberos.initializeClient(`HTTP@${host}`, { mechOID: kerberos.GSS_MECH_OID_SPNEGO, gssFlag: kerberos.GSS_C_MUTUAL_FLAG } as never);
  let token = await client.step('');
  initiator += performance.now() - t0;
  for (;;) {
    await server.step(token);
    if (!server.response) break;
    t0 = performance.now();
    token = await client.step(server.response);
    initiator += performance.now() - t0;
    if (client.contextComplete) break;
  }
  return { ms: performance.now() - t, initiatorMs: initiator };
}
