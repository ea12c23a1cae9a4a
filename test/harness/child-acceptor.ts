// Our acceptor in a child process with an environment of its own (a krb5.conf with a one-second clockskew, so that a
// ticket expires for it seconds after its end rather than five minutes): one acceptSecurityContext of a token from
// argv with the keytab from argv, its result as one JSON line. (libfaketime cannot move this acceptor's clock: Node's
// own calls see the fake time, the krb5 library loaded through koffi does not.)
import { SECPKG_CRED_INBOUND, acceptSecurityContext, acquireCredentialsHandle } from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';

const [pkg, keytab, ...tokens] = process.argv.slice(2);
const credential = await acquireCredentialsHandle({ package: pkg as 'Kerberos' | 'Negotiate', credentialUse: SECPKG_CRED_INBOUND, keytab });
for (const token of tokens) {
  const r = await acceptSecurityContext({ credential, input: [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.from(token, 'base64') }], contextReq: 0 });
  process.stdout.write(`${JSON.stringify({ statusName: r.statusName, gss: r.gss, reply: Buffer.from(r.output[0]?.buffer ?? []).toString('base64') })}\n`);
}
