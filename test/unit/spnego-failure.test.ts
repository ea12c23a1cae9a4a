// providers/spnego-failure.ts: the one function that turns a SPNEGO protocol failure into the GSS provider's.
import { expect } from 'chai';
import { GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE, SpnegoFailure } from '../../lib/protocol/failure.js';
import { gssFailureOf } from '../../lib/providers/spnego-failure.js';
import type { Failure as GssFailure } from '../../lib/providers/failure.js';
import * as S from '../../lib/vocabulary/status.js';

const MECH: GssFailure = {
  status: S.SEC_E_INVALID_TOKEN,
  gss: { major: 0x60000, minor: -1765328353, majorText: 'A token had an invalid Message Integrity Check (MIC)', minorText: 'krb5 text' },
  detail: 'krb5 said so',
};

describe('SPNEGO failures as GSS failures (gssFailureOf)', () => {
  it('a mechanism\'s failure is passed on as it is', () => {
    expect(gssFailureOf(new SpnegoFailure('mechanism', GSS_S_FAILURE, 'the mechanism failed', MECH))).to.equal(MECH);
  });

  it('a bad mechListMIC: SEC_E_MESSAGE_ALTERED with the mechanism\'s GSS codes kept', () => {
    const f = gssFailureOf(new SpnegoFailure('mic-bad', GSS_S_BAD_MIC, 'the MIC does not verify', MECH));
    expect(f.status).to.equal(S.SEC_E_MESSAGE_ALTERED);
    expect(f.gss).to.deep.equal(MECH.gss);
    expect(f.detail).to.equal('SPNEGO: the MIC does not verify');
  });

  const cases: Array<[SpnegoFailure<GssFailure>, number]> = [
    [new SpnegoFailure('malformed', GSS_S_DEFECTIVE_TOKEN, 'truncated'), S.SEC_E_INVALID_TOKEN],
    [new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'a NegTokenInit'), S.SEC_E_INVALID_TOKEN],
    [new SpnegoFailure('bad-mech', GSS_S_BAD_MECH, 'not offered'), S.SEC_E_INVALID_TOKEN],
    [new SpnegoFailure('rejected', GSS_S_FAILURE, 'rejected'), S.SEC_E_LOGON_DENIED],
    [new SpnegoFailure('mutual-auth', GSS_S_FAILURE, 'no AP-REP'), S.SEC_E_MUTUAL_AUTH_FAILED],
    [new SpnegoFailure('mic-missing', GSS_S_BAD_MIC, 'no MIC'), S.SEC_E_MESSAGE_ALTERED],
  ];
  for (const [failure, status] of cases) {
    it(`${failure.reason}: ${S.statusName(status)}, with our major and reason`, () => {
      const f = gssFailureOf(failure);
      expect(f.status).to.equal(status);
      expect(f.gss.major).to.equal(failure.major);
      expect(f.gss.minor).to.equal(0);
      expect(f.gss.minorText).to.equal(`SPNEGO: ${failure.detail}`);
    });
  }
});
