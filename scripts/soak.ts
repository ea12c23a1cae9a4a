// npm run soak -- [--establish N] [--messages N] [--json]
// Leak check: N context establishments and N protect/unprotect pairs in one process against a real KDC, sampling
// RSS and external memory after warm-up and at the end, and the library's count of live native states.
import { parseArgs } from 'node:util';
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SECBUFFER_DATA, SECBUFFER_PADDING, SECBUFFER_STREAM,
  SECBUFFER_TOKEN, SECPKG_ATTR_SIZES, acquireCredentialsHandle, decryptMessage, deleteSecurityContext, encryptMessage,
  freeCredentialsHandle, initializeSecurityContext, makeSignature, queryContextAttributes,
} from '../lib/index.js';
import { liveNativeStates } from '../lib/facade/handles.js';
import { startKdc } from '../test/harness/kdc.js';
import { PythonAcceptor } from '../test/harness/python-acceptor.js';

const { values } = parseArgs({
  options: {
    establish: { type: 'string', default: '100000' },
    messages: { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
  },
});
const ESTABLISH = Number(values.establish);
const MESSAGES = Number(values.messages);
const WARMUP = Math.min(10_000, Math.floor(Math.min(ESTABLISH, MESSAGES) / 10));

const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
function sample() {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, external: m.external, heap: m.heapUsed };
}

const kdc = await startKdc();
try {
  kdc.applyEnv();
  await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
  const spn = `HTTP/${kdc.hostname}`;
  // Kerberos without mutual authentication completes in one call: the loop measures our initiator alone.
  const krb = await acquireCredentialsHandle({ package: 'Kerberos' });
  const establishOnce = async () => {
    const r = await initializeSecurityContext({ credential: krb, targetName: spn, contextReq: ISC_REQ_INTEGRITY });
    if (r.statusName !== 'SEC_E_OK') throw new Error(r.error?.message);
    deleteSecurityContext(r.context!);
  };
  for (let i = 0; i < WARMUP; i++) await establishOnce();
  const establishStart = sample();
  const t0 = Date.now();
  const half = Math.floor((WARMUP + ESTABLISH) / 2);
  for (let i = WARMUP; i < half; i++) await establishOnce();
  const establishHalf = sample();
  for (let i = half; i < ESTABLISH; i++) await establishOnce();
  const establishEnd = sample();
  const establishSeconds = (Date.now() - t0) / 1000;
  freeCredentialsHandle(krb);

  // Message protection on one context with a python-gssapi peer for the peer's tokens.
  const peer = new PythonAcceptor({});
  const cred = await acquireCredentialsHandle();
  await peer.start(`HTTP@${kdc.hostname}`);
  const req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;
  const first = await initializeSecurityContext({ credential: cred, targetName: spn, contextReq: req });
  const reply = await peer.step(first.output[0].buffer);
  await initializeSecurityContext({ context: first.context, contextReq: req, input: [{ type: SECBUFFER_TOKEN, buffer: reply.token }] });
  const ctx = first.context!;
  const sizes = queryContextAttributes(ctx, SECPKG_ATTR_SIZES).value!;
  const wrapped = (await peer.wrap(Buffer.alloc(1024, 1), true)).token;
  const payload = Buffer.alloc(1024, 2);
  const token = new Uint8Array(sizes.cbSecurityTrailer);
  const sig = new Uint8Array(sizes.cbMaxSignature);
  const messageOnce = () => {
    encryptMessage(ctx, 0, [{ type: SECBUFFER_TOKEN, buffer: token }, { type: SECBUFFER_DATA, buffer: payload }, { type: SECBUFFER_PADDING, buffer: new Uint8Array(1) }]);
    makeSignature(ctx, 0, [{ type: SECBUFFER_DATA, buffer: payload }, { type: SECBUFFER_TOKEN, buffer: sig }]);
    // After the first, a replay: the failure path allocates and frees too.
    decryptMessage(ctx, [{ type: SECBUFFER_STREAM, buffer: Buffer.from(wrapped) }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }]);
  };
  for (let i = 0; i < WARMUP; i++) messageOnce();
  const messageStart = sample();
  const t1 = Date.now();
  for (let i = WARMUP; i < MESSAGES; i++) messageOnce();
  const messageEnd = sample();
  const messageSeconds = (Date.now() - t1) / 1000;
  deleteSecurityContext(ctx);
  freeCredentialsHandle(cred);
  peer.close();
  await new Promise((resolve) => setTimeout(resolve, 50));

  const report = {
    establishments: ESTABLISH,
    messagePairs: MESSAGES,
    warmup: WARMUP,
    establish: {
      seconds: establishSeconds,
      rssGrowthMB: mb(establishEnd.rss - establishStart.rss),
      rssGrowthSecondHalfMB: mb(establishEnd.rss - establishHalf.rss),
      externalGrowthMB: mb(establishEnd.external - establishStart.external),
      heapGrowthMB: mb(establishEnd.heap - establishStart.heap),
      nonHeapGrowthMB: mb(establishEnd.rss - establishEnd.heap - (establishStart.rss - establishStart.heap)),
    },
    messages: { seconds: messageSeconds, rssGrowthMB: mb(messageEnd.rss - messageStart.rss), externalGrowthMB: mb(messageEnd.external - messageStart.external) },
    liveNativeStatesAtEnd: liveNativeStates(),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else console.log(report);
} finally {
  await kdc.stop();
}
process.exit(0);
