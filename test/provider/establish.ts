// One whole exchange between our initiator and the suite's peer: what most provider-level tests start from.
import { expect } from 'chai';
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SECBUFFER_TOKEN, initializeSecurityContext,
  type ContextHandle, type CredentialsHandle, type SecBuffer,
} from '../../lib/index.js';
import type { Peer } from './peer.js';

export const REQ = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;

export interface Established {
  context: ContextHandle;
  contextAttr: number;
  /** The initiator's first token, as sent. */
  firstToken: Uint8Array;
  /** The user the peer saw. */
  user: string | null;
  /** How many tokens we sent. */
  legs: number;
}

/** Runs legs until both sides are complete; fails the test on any other status. */
export async function establish(credential: CredentialsHandle, targetName: string, peer: Peer, contextReq = REQ, input: SecBuffer[] = []): Promise<Established> {
  let r = await initializeSecurityContext({ credential, targetName, contextReq, input });
  expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
  const context = r.context!;
  const firstToken = r.output[0].buffer;
  let user: string | null = null;
  let token = firstToken;
  let legs = 0;
  for (let leg = 0; leg < 4; leg++) {
    const s = await peer.step(token);
    legs++;
    expect(s.error, 'the peer accepts our token').to.equal(null);
    user = s.user ?? user;
    if (r.statusName === 'SEC_E_OK') break;
    r = await initializeSecurityContext({ context, contextReq, input: [{ type: SECBUFFER_TOKEN, buffer: s.token }] });
    expect(r.statusName, r.error?.message).to.be.oneOf(['SEC_E_OK', 'SEC_I_CONTINUE_NEEDED']);
    token = r.output[0]?.buffer ?? new Uint8Array(0);
    if (r.statusName === 'SEC_E_OK' && token.length === 0) break;
  }
  expect(r.statusName).to.equal('SEC_E_OK');
  return { context, contextAttr: r.contextAttr, firstToken, user, legs };
}
