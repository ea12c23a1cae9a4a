// A fake SPNEGO mechanism for the state-machine tests (lib/protocol/mechanism.ts): a fixed number of legs, tokens that
// name their leg and side, and MICs that are an HMAC under a key the two sides share. It checks what it receives, so
// a machine that forwards the wrong token, or a MIC over the wrong bytes, fails the test.
import { createHmac } from 'node:crypto';
import type { MechanismFailed, MechanismStep, SpnegoMechanism } from '../../lib/protocol/mechanism.js';
import { KERBEROS_OIDS } from '../../lib/protocol/oids.js';

export interface FakeStep extends MechanismStep {
  leg: number;
}

export interface FakeFailure {
  fake: string;
}

export interface FakeOptions {
  /** Mechanism tokens in the whole exchange, initiator first: 1 (krb5 without mutual), 2 (with), 3 (DCE style). */
  legs?: number;
  oids?: readonly string[];
  key?: string;
  requiresMic?: boolean;
  /** The step (1-based, counted on this side) that fails, with an error token for the peer. */
  failStep?: number;
}

export class FakeMechanism implements SpnegoMechanism<FakeStep, FakeFailure> {
  readonly oids: readonly string[];
  readonly requiresMic: boolean;
  readonly legs: number;
  /** Every input and MIC call, for assertions. */
  readonly received: Buffer[] = [];
  readonly micsMade: Buffer[] = [];
  readonly micsChecked: Buffer[] = [];
  private last = 0;
  private steps = 0;
  complete = false;

  constructor(readonly side: 'initiator' | 'acceptor', private readonly options: FakeOptions = {}) {
    this.oids = options.oids ?? KERBEROS_OIDS;
    this.requiresMic = options.requiresMic ?? false;
    this.legs = options.legs ?? 2;
  }

  static token(leg: number): Buffer {
    return Buffer.from(`fake-leg-${leg}`);
  }

  static readonly ERROR_TOKEN = Buffer.from('fake-error');

  private fail(why: string): MechanismFailed<FakeFailure> {
    return { failure: { fake: why }, token: FakeMechanism.ERROR_TOKEN };
  }

  async step(input?: Buffer): Promise<FakeStep | MechanismFailed<FakeFailure>> {
    this.steps++;
    if (input) this.received.push(Buffer.from(input));
    if (this.options.failStep === this.steps) return this.fail(`step ${this.steps} fails`);
    if (this.complete) return this.fail('a step after completion');
    if (input === undefined) {
      if (this.side !== 'initiator' || this.last !== 0) return this.fail('no input');
    } else {
      if (input.equals(FakeMechanism.ERROR_TOKEN)) return this.fail('the peer sent its error');
      if (!input.equals(FakeMechanism.token(this.last + 1))) return this.fail(`expected leg ${this.last + 1}, got ${input.toString('latin1')}`);
      this.last++;
    }
    if (this.last >= this.legs) {
      this.complete = true;
      return { complete: true, token: Buffer.alloc(0), leg: this.last };
    }
    this.last++;
    this.complete = this.last >= this.legs;
    return { complete: this.complete, token: FakeMechanism.token(this.last), leg: this.last };
  }

  private mac(message: Buffer): Buffer {
    return createHmac('sha256', this.options.key ?? 'shared').update(message).digest().subarray(0, 16);
  }

  getMic(message: Buffer): Buffer | MechanismFailed<FakeFailure> {
    if (!this.complete) return this.fail('no context for a MIC');
    this.micsMade.push(Buffer.from(message));
    return this.mac(message);
  }

  verifyMic(message: Buffer, mic: Buffer): MechanismFailed<FakeFailure> | undefined {
    if (!this.complete) return this.fail('no context for a MIC');
    this.micsChecked.push(Buffer.from(message));
    return this.mac(message).equals(mic) ? undefined : this.fail('bad MIC');
  }
}
