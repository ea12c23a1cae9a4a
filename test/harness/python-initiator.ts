// An independent initiator for the acceptor tests: python-gssapi in a child process (test/harness/gssapi_initiator.py),
// MIT's krb5 mechanism raw or under MIT's own SPNEGO.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON } from './python-acceptor.js';

const SCRIPT = fileURLToPath(new URL('./gssapi_initiator.py', import.meta.url));

export interface PyInitStep {
  token: Buffer;
  complete: boolean;
  error: string | null;
  flags: number;
}

export class PythonInitiator {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(env: Record<string, string>) {
    this.child = spawn(SYSTEM_PYTHON, [SCRIPT], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.resume();
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async send(req: object): Promise<PyInitStep> {
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the python initiator exited');
    const r = JSON.parse(value as string) as { token: string; complete: boolean; error: string | null; flags: number };
    return { ...r, token: Buffer.from(r.token, 'base64') };
  }

  /** A new context to `service` (`HTTP@host`); its first token. */
  start(service: string, opts: { mech?: 'krb5' | 'spnego'; flags?: number; bindings?: Buffer } = {}): Promise<PyInitStep> {
    return this.send({ op: 'new', service, mech: opts.mech ?? 'krb5', flags: opts.flags ?? 0, bindings: opts.bindings?.toString('base64') });
  }

  step(token: Buffer): Promise<PyInitStep> {
    return this.send({ op: 'step', token: token.toString('base64') });
  }

  close(): void {
    this.child.kill();
  }
}
