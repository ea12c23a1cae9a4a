// The fuzz worker: feeds mutated real tokens into every place a peer's bytes enter, in its own process so that a
// native crash is found (the parent sees the signal) instead of taking the campaign down. Case i of an entry point
// is fully determined by (seed, entry, i): the parent can regenerate any input.
// Input (JSON on argv[2]): { seed, runs, from, entry, spn, progressFile, seeds: { wraps, mics, spnego } }.
// Output: one JSON line per 100 cases ({ entry, done, statuses }), then { entry, finished: true, ... }. Before each
// case it writes the case index into progressFile, so the parent knows which input crashed.
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, ISC_REQ_REPLAY_DETECT, SECBUFFER_DATA, SECBUFFER_STREAM,
  SECBUFFER_TOKEN, acquireCredentialsHandle, decryptMessage, deleteSecurityContext, initializeSecurityContext, knownStatuses,
  verifySignature, type ContextHandle, type CredentialsHandle, ISC_REQ_USE_DCE_STYLE, SECPKG_CRED_INBOUND, acceptSecurityContext,
} from '../lib/index.js';
import { ftruncateSync, openSync, writeSync } from 'node:fs';
import { decodeNegToken, describeToken, SpnegoError } from '../lib/protocol/index.js';
import { HttpNegotiateError, findNegotiate } from '../lib/client/http/index.js';
import { newAcceptor } from '../test/harness/acceptor.js';
import { mulberry32, mutate } from '../test/harness/mutate.js';

export type Entry = 'isc-reply' | 'decrypt' | 'verify' | 'spnego-decode' | 'www-authenticate' | 'asc-token';
export interface WorkerJob {
  seed: number;
  runs: number;
  from: number;
  entry: Entry;
  spn: string;
  progressFile: string;
  seeds: { wraps: string[]; mics: Array<[string, string]>; spnego: string[] };
}

const REQ = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT;
const KNOWN = new Set(knownStatuses().map((s) => s.code));

/** The mutated input of case `index`: a PRNG seeded by (seed, entry, index), so any case can be replayed alone. */
export function caseInput(seed: number, entry: Entry, index: number, base: Buffer): Buffer {
  const rng = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b1) ^ entry.length * 0x85ebca6b) >>> 0);
  let input = base;
  for (let rounds = 1 + Math.floor(rng() * 3); rounds > 0; rounds--) input = mutate(input, rng);
  return input;
}

/** WWW-Authenticate values as servers send them, around a real Negotiate token. */
function challenges(spnego: Buffer[]): Buffer[] {
  const token = (spnego[1] ?? spnego[0] ?? Buffer.alloc(0)).toString('base64');
  return [
    `Negotiate ${token}`,
    'Negotiate, Basic realm="intranet", charset="UTF-8"',
    `Bearer realm="api", error="invalid_token", error_description="The token expired", Negotiate ${token}`,
    'Digest realm="x", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  ].map((h) => Buffer.from(h, 'latin1'));
}

function check(status: number, where: string, gss?: { major: number; minor: number }): string {
  if (!KNOWN.has(status | 0)) throw new Error(`${where}: unknown status 0x${(status >>> 0).toString(16)}`);
  const name = knownStatuses().find((s) => s.code === (status | 0))!.name;
  // The unmapped fallback names its GSS codes, so that the table gains the row it lacks.
  return name === 'SEC_E_INTERNAL_ERROR' && gss ? `${name} (major 0x${gss.major.toString(16)}, minor ${gss.minor})` : name;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const statuses: Record<string, number> = {};
  const count = (name: string) => (statuses[name] = (statuses[name] ?? 0) + 1);
  const credential = await acquireCredentialsHandle();
  let established: ContextHandle | undefined;
  const wraps = job.seeds.wraps.map((b) => Buffer.from(b, 'base64'));
  const mics = job.seeds.mics.map(([d, m]) => [Buffer.from(d, 'base64'), Buffer.from(m, 'base64')] as const);
  const spnego = job.seeds.spnego.map((b) => Buffer.from(b, 'base64'));
  const progress = openSync(job.progressFile, 'w');
  const lastInput = openSync(`${job.progressFile}.input`, 'w');
  /** The exact bytes of the case about to run: seeds from a live peer differ per run, so the index alone is not enough. */
  const record = (input: Uint8Array) => {
    ftruncateSync(lastInput, 0);
    writeSync(lastInput, input, 0, input.length, 0);
    return input;
  };

  if (job.entry === 'decrypt' || job.entry === 'verify') {
    // One context for all message cases; the acceptor that made the seeds is gone, which does not matter: a
    // mutated token must give a SEC_E code whatever the context.
    const r = await initializeSecurityContext({ credential, targetName: job.spn, contextReq: REQ });
    const acceptor = await newAcceptor();
    const reply = await acceptor.step(r.output[0].buffer);
    const done = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: reply }] });
    if (done.statusName !== 'SEC_E_OK') throw new Error(`setup: ${done.error?.message}`);
    established = r.context;
  }

  // The acceptor's entry: the service keytab of the environment (KRB5_KTNAME), one inbound handle per package.
  const inbound: Record<string, CredentialsHandle> = {};
  const outbound: Record<string, CredentialsHandle> = {};
  if (job.entry === 'asc-token') {
    for (const pkg of ['Negotiate', 'Kerberos'] as const) {
      inbound[pkg] = await acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED_INBOUND });
      outbound[pkg] = await acquireCredentialsHandle({ package: pkg });
    }
  }

  for (let i = job.from; i < job.runs; i++) {
    writeSync(progress, `${i}        `, 0);
    switch (job.entry) {
      case 'asc-token': {
        // A real first token of our initiator (each case its own: an unmutated one would be a replay), mutated into
        // a first acceptSecurityContext; every fourth case a DCE context's second client token into a later leg.
        const pkg = i % 2 ? 'Kerberos' : 'Negotiate';
        const dce = i % 4 === 3;
        const req = REQ | (dce ? ISC_REQ_USE_DCE_STYLE : 0);
        const first = await initializeSecurityContext({ credential: outbound[pkg], targetName: job.spn, contextReq: req });
        let context: ContextHandle | undefined;
        let base = Buffer.from(first.output[0].buffer);
        if (dce) {
          const s = await acceptSecurityContext({ credential: inbound[pkg], input: [{ type: SECBUFFER_TOKEN, buffer: base }], contextReq: 0 });
          context = s.context;
          const second = await initializeSecurityContext({ context: first.context, contextReq: req, input: [{ type: SECBUFFER_TOKEN, buffer: s.output[0]?.buffer ?? new Uint8Array(0) }] });
          base = Buffer.from(second.output[0]?.buffer ?? []);
        }
        const r = await acceptSecurityContext({
          credential: context ? undefined : inbound[pkg], context, contextReq: 0,
          input: [{ type: SECBUFFER_TOKEN, buffer: record(caseInput(job.seed, job.entry, i, base)) }],
        });
        count(check(r.status, `case ${i}`, r.gss));
        if (r.context) deleteSecurityContext(r.context);
        if (context) deleteSecurityContext(context);
        deleteSecurityContext(first.context!);
        break;
      }
      case 'isc-reply': {
        const first = await initializeSecurityContext({ credential, targetName: job.spn, contextReq: REQ });
        const acceptor = await newAcceptor();
        const reply = await acceptor.step(first.output[0].buffer);
        const r = await initializeSecurityContext({
          context: first.context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: record(caseInput(job.seed, job.entry, i, reply)) }],
        });
        count(check(r.status, `case ${i}`, r.gss));
        deleteSecurityContext(first.context!);
        break;
      }
      case 'decrypt': {
        const token = record(caseInput(job.seed, job.entry, i, wraps[i % wraps.length]));
        // Both layouts: the whole token in a STREAM, and split into TOKEN (header) and DATA, decrypted in place.
        const split = Math.min(60, token.length);
        const r = i % 2
          ? decryptMessage(established!, [{ type: SECBUFFER_TOKEN, buffer: token.subarray(0, split) }, { type: SECBUFFER_DATA, buffer: token.subarray(split) }])
          : decryptMessage(established!, [{ type: SECBUFFER_STREAM, buffer: token }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }]);
        count(check(r.status, `case ${i}`, r.gss));
        break;
      }
      case 'verify': {
        const [data, mic] = mics[i % mics.length];
        const r = verifySignature(established!, [
          { type: SECBUFFER_DATA, buffer: i % 4 === 0 ? caseInput(job.seed, job.entry, i + 1e9, data) : data },
          { type: SECBUFFER_TOKEN, buffer: record(caseInput(job.seed, job.entry, i, mic)) },
        ]);
        count(check(r.status, `case ${i}`, r.gss));
        break;
      }
      case 'spnego-decode': {
        const input = record(caseInput(job.seed, job.entry, i, spnego[i % spnego.length]));
        try {
          decodeNegToken(input);
          count('decoded');
        } catch (err) {
          if (!(err instanceof SpnegoError)) throw err;
          count('SpnegoError');
        }
        describeToken(input);
        break;
      }
      case 'www-authenticate': {
        // Real challenge headers (a server's Negotiate token among other schemes), mutated as bytes.
        const header = Buffer.from(record(caseInput(job.seed, job.entry, i, challenges(spnego)[i % 4]))).toString('latin1');
        try {
          const found = findNegotiate(i % 2 ? [header] : header.split(/(?<=\S) {2,}/));
          count(found ? 'negotiate' : 'none');
        } catch (err) {
          if (!(err instanceof HttpNegotiateError) || err.code !== 'BAD_CHALLENGE') throw err;
          count('BAD_CHALLENGE');
        }
        break;
      }
    }
    if ((i + 1) % 100 === 0) process.stdout.write(`${JSON.stringify({ entry: job.entry, done: i + 1, statuses })}\n`);
  }
  process.stdout.write(`${JSON.stringify({ entry: job.entry, done: job.runs, statuses, finished: true })}\n`);
  process.exit(0);
}

if (process.argv[2]) void main();
