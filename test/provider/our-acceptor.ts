// Our acceptor on Linux (the GSS provider's acceptSecurityContext, with the service's keytab per handle) as a peer of
// the provider-level suite, beside python-gssapi: `openPeer(realm, { acceptor: 'ours' })`. Under Wine it is how the
// Windows provider, as the initiator, is checked against our Linux acceptor (served by test/wine/bridge.ts).
import {
  ASC_REQ_ALLOCATE_MEMORY, ASC_REQ_CONFIDENTIALITY, ASC_REQ_INTEGRITY, SECBUFFER_CHANNEL_BINDINGS, SECBUFFER_TOKEN, SECPKG_ATTR_NAMES,
  SECPKG_CRED_INBOUND, acceptSecurityContext, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle,
  queryContextAttributes, secChannelBindings, type ContextHandle, type CredentialsHandle, type SecBuffer,
} from '../../lib/index.js';
import { gssMessages } from './initiator.js';
import type { Peer, PeerAnswer } from './peer.js';

const answer = (a: { token?: Buffer; error: string | null; data?: Buffer; encrypted?: boolean }, user: string | null = null): PeerAnswer =>
  ({ token: a.token ?? Buffer.alloc(0), user, error: a.error, data: a.data, encrypted: a.encrypted });

/** A Negotiate acceptor (it takes SPNEGO and raw Kerberos tokens alike) for the keytab's services. */
export async function ourAcceptor(keytab: string, bindings?: Buffer): Promise<Peer> {
  const credential: CredentialsHandle = await acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED_INBOUND, keytab });
  let context: ContextHandle | undefined;
  const messages = () => gssMessages(context!);
  return {
    async step(token) {
      const input: SecBuffer[] = [{ type: SECBUFFER_TOKEN, buffer: Buffer.from(token) }];
      if (bindings) input.push({ type: SECBUFFER_CHANNEL_BINDINGS, buffer: secChannelBindings({ applicationData: bindings }) });
      const r = await acceptSecurityContext({ credential, context, input, contextReq: ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_ALLOCATE_MEMORY });
      if (r.context) context = r.context;
      const out = Buffer.from(r.output[0]?.buffer ?? []);
      if (r.error) return answer({ token: out, error: r.error.message });
      const user = r.statusName === 'SEC_E_OK' ? queryContextAttributes(context!, SECPKG_ATTR_NAMES).value?.userName ?? null : null;
      return answer({ token: out, error: null }, user);
    },
    wrap: async (data, conf) => answer(await messages().wrap(data, conf)),
    unwrap: async (token) => answer(await messages().unwrap(token)),
    mic: async (data) => answer(await messages().mic(data)),
    verify: async (data, mic) => answer(await messages().verify(data, mic)),
    delegated: async () => answer({ error: 'not served by this peer' }),
    forward: async () => answer({ error: 'not served by this peer' }),
    close() {
      if (context) deleteSecurityContext(context);
      freeCredentialsHandle(credential);
    },
  };
}
