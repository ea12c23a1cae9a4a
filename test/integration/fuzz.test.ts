// A short seeded fuzz campaign in every run (`npm run fuzz` runs long ones): mutated real tokens into the second
// initializeSecurityContext leg, decryptMessage, verifySignature, the SPNEGO decoder, WWW-Authenticate and
// acceptSecurityContext (first and later client tokens), in child processes.
// Zero crashes and zero hangs; every result a SEC_E status (or, for the decoder, a value or SpnegoError).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kdcWithAlice } from '../harness/kdc.js';
import { PYTHON_GSSAPI_MISSING, PythonAcceptor } from '../harness/python-acceptor.js';
import { needs } from '../harness/skip.js';

const exec = promisify(execFile);
const RUNS = Number(process.env.KN_FUZZ_RUNS ?? 2000);

describe(`fuzz campaign (${RUNS} cases per entry point, seed 20261124)`, function () {
  this.timeout(300_000);

  it('survives every mutated token without a crash or a hang', async function () {
    // The message entry points take their seeds from python-gssapi (installed by .ci/run).
    needs(this, PythonAcceptor.available(), PYTHON_GSSAPI_MISSING);
    const kdc = await kdcWithAlice();
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/fuzz.ts', '--use-env', '--json', '--runs', String(RUNS), '--seed', '20261124'], {
      env: { ...process.env, KN_FUZZ_HOST: kdc.hostname },
      maxBuffer: 1 << 20,
    });
    const { reports } = JSON.parse(stdout) as { reports: Array<{ entry: string; cases: number; crashes: number; hangs: number; statuses: Record<string, number>; skipped?: string }> };
    expect(reports.map((r) => r.entry)).to.deep.equal(['isc-reply', 'decrypt', 'verify', 'spnego-decode', 'www-authenticate', 'asc-token']);
    for (const r of reports) {
      expect(r.skipped, r.entry).to.equal(undefined);
      expect(r.cases, r.entry).to.equal(RUNS);
      expect(r.crashes + r.hangs, `${r.entry}: ${JSON.stringify(r)}`).to.equal(0);
      const total = Object.values(r.statuses).reduce((a, b) => a + b, 0);
      expect(total, `${r.entry}: every case has a result`).to.equal(RUNS);
    }
  });
});
