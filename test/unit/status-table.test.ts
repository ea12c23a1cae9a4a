// The GSS -> SSPI status table, row by row, and its minor codes against the installed krb5.h.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { MINOR_ROWS, ROUTINE_ROWS, SUPPLEMENTARY_ROWS, mapGssStatus } from '../../lib/providers/gssapi-status.js';
import * as S from '../../lib/sspi/status.js';

const GSS_S_FAILURE = 0xd0000;

describe('status table (GSS -> SSPI)', () => {
  for (const row of ROUTINE_ROWS) {
    it(`routine ${row.name} gives ${S.statusName(row.sec)} when the minor is unknown`, () => {
      expect(mapGssStatus(row.routine << 16, 12345).sec).to.equal(row.sec);
      expect(mapGssStatus(row.routine << 16, 12345).row).to.equal(row.name);
    });
  }

  for (const row of MINOR_ROWS) {
    it(`minor ${row.name} (${row.minor}) gives ${S.statusName(row.sec)} under a routine error that is not exact`, () => {
      expect(mapGssStatus(GSS_S_FAILURE, row.minor).sec).to.equal(row.sec);
      // OM_uint32 arrives unsigned from koffi: the table compares as signed int32.
      expect(mapGssStatus(GSS_S_FAILURE, row.minor >>> 0).sec).to.equal(row.sec);
    });
  }

  it('reads KRB5KRB_AP_ERR_BAD_INTEGRITY as a corrupted token, but as a wrong password during a password logon', () => {
    const badIntegrity = -1765328353;
    expect(mapGssStatus(GSS_S_FAILURE, badIntegrity).sec).to.equal(S.SEC_E_INVALID_TOKEN);
    expect(mapGssStatus(GSS_S_FAILURE, badIntegrity, 'acquire').sec).to.equal(S.SEC_E_LOGON_DENIED);
    // Rows without a special meaning during acquisition map the same in both phases.
    expect(mapGssStatus(GSS_S_FAILURE, -1765328360, 'acquire').sec).to.equal(S.SEC_E_LOGON_DENIED);
  });

  it('lets an exact routine error win over the minor: a bad MIC whose decryption failed is an altered message', () => {
    expect(mapGssStatus(0x60000, -1765328353).sec).to.equal(S.SEC_E_MESSAGE_ALTERED);
    expect(mapGssStatus(0x40000, -1765328353).sec).to.equal(S.SEC_E_BAD_BINDINGS);
    // NO_CRED is not exact: a password logon reports KDC and password failures under it.
    expect(mapGssStatus(0x70000, -1765328228).sec).to.equal(S.SEC_E_NO_AUTHENTICATING_AUTHORITY);
  });

  for (const row of SUPPLEMENTARY_ROWS) {
    it(`supplementary ${row.name} gives ${S.statusName(row.sec)}`, () => {
      expect(mapGssStatus(row.bit, 0).sec).to.equal(row.sec);
    });
  }

  it('maps COMPLETE and CONTINUE_NEEDED to SEC_E_OK and SEC_I_CONTINUE_NEEDED', () => {
    expect(mapGssStatus(0, 0).sec).to.equal(S.SEC_E_OK);
    expect(mapGssStatus(1, 0).sec).to.equal(S.SEC_I_CONTINUE_NEEDED);
  });

  it('maps an unmapped failure to SEC_E_INTERNAL_ERROR (seed: "did not map to an SSPI error code")', () => {
    expect(mapGssStatus(GSS_S_FAILURE, 424242).sec).to.equal(S.SEC_E_INTERNAL_ERROR);
    expect(mapGssStatus(0x7f0000, 0).sec).to.equal(S.SEC_E_INTERNAL_ERROR);
  });

  it('maps a calling error (our bug, not the peer\'s) to SEC_E_INTERNAL_ERROR', () => {
    expect(mapGssStatus(0x01000000, 0).sec).to.equal(S.SEC_E_INTERNAL_ERROR);
  });

  it('never produces SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE: Kerberos has no CompleteAuthToken step', () => {
    const all = [...ROUTINE_ROWS, ...MINOR_ROWS, ...SUPPLEMENTARY_ROWS].map((r) => r.sec);
    expect(all).to.not.include(S.SEC_I_COMPLETE_NEEDED);
    expect(all).to.not.include(S.SEC_I_COMPLETE_AND_CONTINUE);
  });

  it('has each minor code once', () => {
    const codes = MINOR_ROWS.map((r) => r.minor);
    expect(new Set(codes).size).to.equal(codes.length);
  });

  const header = '/usr/include/krb5/krb5.h';
  // libkrb5-dev is installed by .ci/run (the kerberos package builds against it); elsewhere the check is skipped.
  (existsSync(header) ? it : it.skip)('uses the values krb5.h defines for every krb5 and asn1 minor code', () => {
    const text = readFileSync(header, 'utf8');
    let checked = 0;
    for (const row of MINOR_ROWS) {
      const m = new RegExp(`#define\\s+${row.name}\\s+\\((-?\\d+)L\\)`).exec(text);
      if (row.name.startsWith('KG_')) continue; // MIT's gssapi krb5 table is not in a public header.
      if (row.name === 'ENOENT') continue; // an errno (Heimdal's), not a krb5 code
      expect(m, `${row.name} in krb5.h`).to.not.equal(null);
      expect(Number(m![1]), row.name).to.equal(row.minor);
      checked++;
    }
    expect(checked).to.be.greaterThan(40);
  });
});

describe('SSPI status vocabulary', () => {
  it('has unique names and codes, and SecurityError carries them', () => {
    const all = S.knownStatuses();
    expect(new Set(all.map((s) => s.code)).size).to.equal(all.length);
    expect(new Set(all.map((s) => s.name)).size).to.equal(all.length);
    const err = new S.SecurityError(S.SEC_E_LOGON_DENIED, 'wrong password', { major: 0x70000, minor: -1765328360, majorText: 'a', minorText: 'b' });
    expect(err.code).to.equal('0x8009030c');
    expect(err.statusName).to.equal('SEC_E_LOGON_DENIED');
    expect(err.message).to.match(/SEC_E_LOGON_DENIED \(0x8009030c\).*wrong password.*minor -1765328360/);
    expect(S.isSuccess(S.SEC_I_CONTINUE_NEEDED)).to.equal(true);
    expect(S.isSuccess(S.SEC_E_INVALID_TOKEN)).to.equal(false);
  });
});
