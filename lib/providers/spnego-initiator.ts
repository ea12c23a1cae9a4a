// The SPNEGO initiator of the GSS provider: the protocol's state machine (lib/spnego/initiator.ts) over one GSS krb5
// context, which this file fits to the mechanism interface. SPNEGO is framed by us, not by the GSS library, so that
// minor codes stay the mechanism's own (docs/spnego.md).
import { InitiatorMachine, type InitiatorOutput } from '../spnego/initiator.js';
import { SpnegoFailure } from '../spnego/failure.js';
import type { MechanismFailed, SpnegoMechanism } from '../spnego/mechanism.js';
import { KERBEROS_OIDS } from '../spnego/oids.js';
import { isFailure, type GssContext, type GssFailure, type StepResult } from './gssapi-native.js';
import { gssFailureOf } from './spnego-failure.js';

/** What one SPNEGO leg produced. */
export interface SpnegoStep {
  complete: boolean;
  token: Buffer;
  flags: number;
  expiry?: Date;
}

const failed = (failure: GssFailure): MechanismFailed<GssFailure> => ({ failure });

/** A GSS context as a SPNEGO mechanism: its OIDs, and its calls with failures marked for the state machine. */
export function gssMechanism(context: GssContext): SpnegoMechanism<StepResult, GssFailure> {
  // The krb5 mechanism answers to both Kerberos OIDs; any other runs under its own.
  const oids = KERBEROS_OIDS.includes(context.mech) ? KERBEROS_OIDS : [context.mech];
  return {
    oids,
    async step(input) {
      const r = await context.step(input);
      return isFailure(r) ? failed(r) : r;
    },
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

export class SpnegoInitiator {
  private readonly machine: InitiatorMachine<StepResult, GssFailure>;

  constructor(private readonly mech: GssContext) {
    this.machine = new InitiatorMachine(gssMechanism(mech));
  }

  /** First leg: the optimistic mechanism token inside a NegTokenInit. */
  async start(): Promise<SpnegoStep | GssFailure> {
    return leg(await this.machine.start());
  }

  /** A later leg: the acceptor's NegTokenResp. */
  async continue(input: Buffer): Promise<SpnegoStep | GssFailure> {
    return leg(await this.machine.continue(input));
  }

  release(): void {
    this.mech.release();
  }
}

/** A leg of the machine as the provider returns it: a GssFailure, or the token with the mechanism's flags and expiry. */
function leg(out: InitiatorOutput<StepResult> | SpnegoFailure<GssFailure>): SpnegoStep | GssFailure {
  if (out instanceof SpnegoFailure) return gssFailureOf(out);
  return { complete: out.complete, token: out.token, flags: out.mechStep.flags, expiry: out.mechStep.expiry };
}
