// npm run fuzz -- --runs N --seed S [--entries isc-reply,decrypt,verify,spnego-decode,www-authenticate,asc-token] [--json] [--use-env]
// A reproducible fuzz campaign over every place a peer's bytes enter. Mutated real tokens (from a real exchange with
// a real KDC and python-gssapi as the peer) run in a child process per entry point: a native crash or a hang is
// caught, its input saved under .tmp/fuzz-crashes/, and the campaign goes on from the next case.
// --use-env: use the KDC named by the environment (KRB5_CONFIG, KRB5CCNAME with a ticket, KRB5_KTNAME) instead of
// starting one; the test suite uses this.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, ISC_REQ_REPLAY_DETECT, SECBUFFER_TOKEN,
  acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext,
} from '../lib/index.js';
import { startKdc, type Kdc } from '../test/harness/kdc.js';
import { PythonAcceptor } from '../test/harness/python-acceptor.js';
import type { Entry, WorkerJob } from './fuzz-worker.js';

const WORKER = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));
const ENTRIES: Entry[] = ['isc-reply', 'decrypt', 'verify', 'spnego-decode', 'www-authenticate', 'asc-token'];
const HANG_MS = 30_000;

export interface EntryReport {
  entry: Entry;
  cases: number;
  crashes: number;
  hangs: number;
  seconds: number;
  statuses: Record<string, number>;
  skipped?: string;
}

/** Real tokens to mutate: wrap tokens and MICs made by python-gssapi, and the SPNEGO tokens of one exchange. */
async function collectSeeds(spn: string, host: string): Promise<WorkerJob['seeds'] | string> {
  if (!PythonAcceptor.available()) return 'python3-gssapi is not installed';
  const contextReq = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT;
  const peer = new PythonAcceptor({});
  const credential = await acquireCredentialsHandle();
  try {
    await peer.start(`HTTP@${host}`);
    const first = await initializeSecurityContext({ credential, targetName: spn, contextReq });
    const s = await peer.step(first.output[0].buffer);
    const done = await initializeSecurityContext({ context: first.context, contextReq, input: [{ type: SECBUFFER_TOKEN, buffer: s.token }] });
    if (done.statusName !== 'SEC_E_OK') return `no exchange to take seeds from: ${done.error?.message}`;
    deleteSecurityContext(first.context!);
    const wraps: string[] = [];
    const mics: Array<[string, string]> = [];
    for (const size of [0, 1, 100, 4096]) {
      const data = Buffer.alloc(size, 0x61);
      wraps.push((await peer.wrap(data, size % 2 === 0)).token.toString('base64'));
      mics.push([data.toString('base64'), (await peer.mic(data)).token.toString('base64')]);
    }
    return { wraps, mics, spnego: [Buffer.from(first.output[0].buffer).toString('base64'), s.token.toString('base64')] };
  } finally {
    peer.close();
    freeCredentialsHandle(credential);
  }
}

/** Runs one entry point to `runs` cases, restarting the worker after a crash or hang. */
async function runEntry(entry: Entry, runs: number, seed: number, spn: string, seeds: WorkerJob['seeds'], crashDir: string): Promise<EntryReport> {
  const started = Date.now();
  const report: EntryReport = { entry, cases: 0, crashes: 0, hangs: 0, seconds: 0, statuses: {} };
  const scratch = mkdtempSync(join(tmpdir(), 'kn-fuzz-'));
  const progressFile = join(scratch, 'progress');
  let from = 0;
  try {
    while (from < runs) {
      const job: WorkerJob = { seed, runs, from, entry, spn, progressFile, seeds };
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], {
        env: { ...process.env, KRB5RCACHETYPE: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      let finished = false;
      let last: Record<string, number> = {};
      let timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
      let hung = false;
      child.on('exit', () => clearTimeout(timer));
      for await (const line of createInterface({ input: child.stdout })) {
        const msg = JSON.parse(line) as { done: number; statuses: Record<string, number>; finished?: boolean };
        last = msg.statuses;
        clearTimeout(timer);
        timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, HANG_MS);
        if (msg.finished) finished = true;
      }
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve({ code: child.exitCode, signal: child.signalCode }) : child.once('exit', (code, signal) => resolve({ code, signal })));
      for (const [k, v] of Object.entries(last)) report.statuses[k] = (report.statuses[k] ?? 0) + v;
      if (finished) {
        report.cases += runs - from;
        break;
      }
      // A crash, a hang or an exception: find the case, keep its input, go on after it.
      const index = Number(readFileSync(progressFile, 'utf8').trim() || from);
      report.cases += index + 1 - from;
      if (hung) report.hangs++;
      else report.crashes++;
      mkdirSync(crashDir, { recursive: true });
      const name = join(crashDir, `${entry}-seed${seed}-case${index}`);
      writeFileSync(`${name}.txt`, `exit ${exit.code} signal ${exit.signal}${hung ? ' (hang)' : ''}\n${stderr}`);
      copyFileSync(`${progressFile}.input`, `${name}.bin`);
      process.stderr.write(`${entry}: case ${index} ${hung ? 'hung' : `failed (exit ${exit.code}, signal ${exit.signal})`}; saved ${name}.bin\n`);
      from = index + 1;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      entries: { type: 'string', default: ENTRIES.join(',') },
      json: { type: 'boolean', default: false },
      'use-env': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const entries = values.entries!.split(',') as Entry[];
  for (const e of entries) if (!ENTRIES.includes(e)) throw new Error(`unknown entry point ${e} (known: ${ENTRIES.join(', ')})`);
  let kdc: Kdc | undefined;
  let host = process.env.KN_FUZZ_HOST ?? 'web.kn.test';
  if (!values['use-env']) {
    kdc = await startKdc();
    kdc.applyEnv();
    host = kdc.hostname;
    await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
  }
  const reports: EntryReport[] = [];
  try {
    const spn = `HTTP/${host}`;
    const seeds = await collectSeeds(spn, host);
    const crashDir = join(process.cwd(), '.tmp', 'fuzz-crashes');
    for (const entry of entries) {
      if (typeof seeds === 'string' && entry !== 'isc-reply') {
        reports.push({ entry, cases: 0, crashes: 0, hangs: 0, seconds: 0, statuses: {}, skipped: seeds });
        continue;
      }
      const s = typeof seeds === 'string' ? { wraps: [], mics: [], spnego: [] } : seeds;
      reports.push(await runEntry(entry, runs, seed, spn, s, crashDir));
    }
  } finally {
    await kdc?.stop();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ seed, runs, reports })}\n`);
  } else {
    for (const r of reports) {
      const top = Object.entries(r.statuses).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
      process.stdout.write(`${r.entry.padEnd(14)} ${r.skipped ? `skipped: ${r.skipped}` : `${r.cases} cases in ${r.seconds.toFixed(1)} s, ${r.crashes} crashes, ${r.hangs} hangs; ${top}`}\n`);
    }
  }
  process.exitCode = reports.some((r) => r.crashes || r.hangs) ? 1 : 0;
}

void main();
