// The SPNEGO initiator of the GSS provider: the protocol's state machine (lib/protocol/initiator.ts) over one GSS krb5
// context, which this file fits to the mechanism interface. SPNEGO is framed by us, not by the GSS library, so that
// minor codes stay the mechanism's own (docs/spnego.md).
import { InitiatorMachine, type InitiatorOutput } from '../protocol/initiator.js';
import { SpnegoFailure } from '../protocol/failure.js';
import type { MechanismFailed, SpnegoMechanism } from '../protocol/mechanism.js';
import { KERBEROS_OIDS } from '../protocol/oids.js';
import { isFailure, type Failure } from './failure.js';
import type { GssContext, StepResult } from './gssapi-native.js';
import { initiatorStep } from './gssapi-step.js';
import { gssFailureOf } from './spnego-failure.js';

/** What one SPNEGO leg produced. */
export interface SpnegoStep {
  complete: boolean;
  token: Buffer;
  flags: number;
  expiry?: Date;
}

/** A failure handed to the state machine, which carries it back untouched. */
const mechanismFailure = (failure: Failure): MechanismFailed<Failure> => ({ failure });

/** A GSS context as a SPNEGO mechanism: its OIDs, and its calls with failures marked for the state machine. */
export function gssMechanism(context: GssContext): SpnegoMechanism<StepResult, Failure> {
  // The krb5 mechanism answers to both Kerberos OIDs; any other runs under its own.
  const oids = KERBEROS_OIDS.includes(context.mech) ? KERBEROS_OIDS : [context.mech];
  return {
    oids,
    async step(input) {
      const r = await initiatorStep(context, input);
      return isFailure(r) ? mechanismFailure(r) : r;
    },
    getMic(message) {
      const r = context.getMic(message);
      return isFailure(r) ? mechanismFailure(r) : r;
    },
    verifyMic(message, mic) {
      const r = context.verifyMic(message, mic);
      return r && mechanismFailure(r);
    },
  };
}

export class SpnegoInitiator {
  private readonly machine: InitiatorMachine<StepResult, Failure>;

  constructor(private readonly mech: GssContext) {
    this.machine = new InitiatorMachine(gssMechanism(mech));
  }

  /** First leg: the optimistic mechanism token inside a NegTokenInit. */
  async start(): Promise<SpnegoStep | Failure> {
    return leg(await this.machine.start());
  }

  /** A later leg: the acceptor's NegTokenResp. */
  async continue(input: Buffer): Promise<SpnegoStep | Failure> {
    return leg(await this.machine.continue(input));
  }

  release(): void {
    this.mech.release();
  }
}

/** A leg of the machine as the provider returns it: a Failure, or the token with the mechanism's flags and expiry. */
function leg(out: InitiatorOutput<StepResult> | SpnegoFailure<Failure>): SpnegoStep | Failure {
  if (out instanceof SpnegoFailure) return gssFailureOf(out);
  return { complete: out.complete, token: out.token, flags: out.mechStep.flags, expiry: out.mechStep.expiry };
}
