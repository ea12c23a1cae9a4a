// npm run demo: a throwaway MIT KDC, a ticket for alice, and a full Negotiate exchange with mutual authentication
// against an independent acceptor (the `kerberos` package's server), printing each step. Prints no secrets.
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, ISC_REQ_REPLAY_DETECT, ISC_REQ_SEQUENCE_DETECT,
  SECBUFFER_TOKEN, SEC_E_OK, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, gssapiLibrary,
  initializeSecurityContext, iscRetNames,
} from '../lib/index.js';
import { newAcceptor } from '../test/harness/acceptor.js';
import { startKdc } from '../test/harness/kdc.js';

const kdc = await startKdc();
try {
  kdc.applyEnv();
  const alice = kdc.principals.alice;
  await kdc.kinit(alice.name, { password: alice.password, ccache: kdc.env.KRB5CCNAME });
  const lib = gssapiLibrary();
  console.log(`KDC: ${kdc.mode}, realm ${kdc.realm}, 127.0.0.1:${kdc.port}; GSS-API: ${lib.flavour} (${lib.path})`);
  console.log(`client: ${alice.name} (default ccache), target: HTTP/${kdc.hostname}`);

  const credential = await acquireCredentialsHandle({ package: 'Negotiate' });
  const contextReq = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT;
  const acceptor = await newAcceptor(`HTTP@${kdc.hostname}`);
  let result = await initializeSecurityContext({ credential, targetName: `HTTP/${kdc.hostname}`, contextReq });
  let leg = 1;
  for (;;) {
    const token = result.output[0]?.buffer ?? new Uint8Array();
    console.log(`leg ${leg}: initializeSecurityContext -> ${result.statusName}, token ${token.length} bytes`);
    if (result.error) throw result.error;
    if (result.status === SEC_E_OK) break;
    const reply = await acceptor.step(token);
    console.log(`leg ${leg}: acceptor -> ${acceptor.complete ? 'complete' : 'continue'}, reply ${reply.length} bytes`);
    result = await initializeSecurityContext({ context: result.context, contextReq, input: [{ type: SECBUFFER_TOKEN, buffer: reply }] });
    leg++;
  }
  console.log(`acceptor authenticated: ${acceptor.username}`);
  console.log(`contextAttr: 0x${result.contextAttr.toString(16)} (${iscRetNames(result.contextAttr).join(' | ')})`);
  console.log(`expiry: ${result.expiry?.toISOString()}`);
  console.log(`final status: ${result.statusName}`);
  deleteSecurityContext(result.context!);
  freeCredentialsHandle(credential);
} finally {
  await kdc.stop();
}
