// The SPNEGO acceptor of the GSS provider: the protocol's acceptor half (lib/protocol/acceptor.ts) runs over one GSS
// krb5 acceptor context, which this file fits to the mechanism interface: both Kerberos OIDs, each step through the
// provider's checked accept (gssapi-acceptor.ts), MICs over the same context.
import type { MechanismFailed, MechanismStep, SpnegoMechanism } from '../protocol/mechanism.js';
import { KERBEROS_OIDS } from '../protocol/oids.js';
import type { Failure } from './failure.js';
import type { GssContext } from './gssapi-native.js';

/** One acceptor step of the krb5 mechanism: the MechanismStep, the granted GSS flags and the context's end. */
export interface AcceptStep extends MechanismStep {
  flags: number;
  expiry?: Date;
}

const failed = (failure: Failure): MechanismFailed<Failure> => ({ failure });

export function acceptorMechanism(
  context: GssContext,
  step: (token: Buffer) => Promise<AcceptStep | MechanismFailed<Failure>>,
): SpnegoMechanism<AcceptStep, Failure> {
  return {
    oids: KERBEROS_OIDS,
    step: (input) => step(input ?? Buffer.alloc(0)),
    getMic(message) {
      const r = context.getMic(message);
      return Buffer.isBuffer(r) ? r : failed(r);
    },
    verifyMic(message, mic) {
      const r = context.verifyMic(message, mic);
      return r && failed(r);
    },
  };
}
