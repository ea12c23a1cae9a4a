// An independent initiator for the acceptor tests: python-gssapi in a child process (test/harness/gssapi_initiator.py),
// MIT's krb5 mechanism raw or under MIT's own SPNEGO.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { LIBFAKETIME, SYSTEM_PYTHON } from './python-acceptor.js';

const SCRIPT = fileURLToPath(new URL('./gssapi_initiator.py', import.meta.url));

export interface PyInitStep {
  token: Buffer;
  complete: boolean;
  error: string | null;
  flags: number;
  /** unwrap: the message and whether it was encrypted. */
  data?: Buffer;
  encrypted?: boolean;
}

export class PythonInitiator {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  /** `clockOffset` like "+2h": the initiator's clock skewed, libfaketime preloaded (as PythonAcceptor does). */
  constructor(env: Record<string, string>, clockOffset?: string) {
    const skew: Record<string, string> = clockOffset ? { LD_PRELOAD: LIBFAKETIME ?? 'libfaketime.so.1', FAKETIME: clockOffset } : {};
    this.child = spawn(SYSTEM_PYTHON, [SCRIPT], { env: { ...process.env, ...env, ...skew }, stdio: ['pipe', 'pipe', 'pipe'] });
    if (clockOffset) {
      const pid = this.child.pid;
      this.child.once('exit', () => {
        for (const name of [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`]) rmSync(`/dev/shm/${name}`, { force: true });
      });
    }
    this.child.stderr.resume();
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async send(req: object): Promise<PyInitStep> {
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the python initiator exited');
    const r = JSON.parse(value as string) as { token: string; complete: boolean; error: string | null; flags: number; data?: string; encrypted?: boolean };
    return { ...r, token: Buffer.from(r.token, 'base64'), data: r.data === undefined ? undefined : Buffer.from(r.data, 'base64') };
  }

  /** A new context to `service` (`HTTP@host`); its first token. */
  start(service: string, opts: { mech?: 'krb5' | 'spnego'; flags?: number; bindings?: Buffer } = {}): Promise<PyInitStep> {
    return this.send({ op: 'new', service, mech: opts.mech ?? 'krb5', flags: opts.flags ?? 0, bindings: opts.bindings?.toString('base64') });
  }

  step(token: Buffer): Promise<PyInitStep> {
    return this.send({ op: 'step', token: token.toString('base64') });
  }

  /** Per-message calls on the complete context (gss_wrap, gss_unwrap, gss_get_mic, gss_verify_mic). */
  wrap(data: Uint8Array, conf = true): Promise<PyInitStep> {
    return this.send({ op: 'wrap', data: Buffer.from(data).toString('base64'), conf });
  }

  unwrap(token: Uint8Array): Promise<PyInitStep> {
    return this.send({ op: 'unwrap', token: Buffer.from(token).toString('base64') });
  }

  mic(data: Uint8Array): Promise<PyInitStep> {
    return this.send({ op: 'mic', data: Buffer.from(data).toString('base64') });
  }

  verify(data: Uint8Array, mic: Uint8Array): Promise<PyInitStep> {
    return this.send({ op: 'verify', data: Buffer.from(data).toString('base64'), mic: Buffer.from(mic).toString('base64') });
  }

  close(): void {
    this.child.kill();
  }
}
