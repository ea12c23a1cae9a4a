// A second independent acceptor: python-gssapi in a child process (test/harness/gssapi_acceptor.py). It can run
// under another clock (faketime) and hands back the error token of a failed step, which the `kerberos` package
// cannot.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const SCRIPT = fileURLToPath(new URL('./gssapi_acceptor.py', import.meta.url));
/** Debian's python3-gssapi installs into the system python's dist-packages, not into another python on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
/** Why the python acceptor cannot run, for needs() (test/harness/skip.ts). */
export const PYTHON_GSSAPI_MISSING = `${SYSTEM_PYTHON} cannot import gssapi (apt-get install python3-gssapi)`;
let importsGssapi: boolean | undefined;

/** Debian's libfaketime (package faketime), for an acceptor whose clock is skewed; undefined when not installed. */
export const LIBFAKETIME: string | undefined = ['/usr/lib', '/usr/lib64', ...(() => {
  try {
    return readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')).map((d) => `/usr/lib/${d}`);
  } catch {
    return [];
  }
})()].map((dir) => `${dir}/faketime/libfaketime.so.1`).find((path) => existsSync(path));

/** Why a skewed acceptor cannot run, for needs(). */
export const FAKETIME_MISSING = 'libfaketime is not installed (apt-get install faketime): the acceptor\'s clock cannot be skewed';

export interface PyStep {
  token: Buffer;
  complete: boolean;
  user: string | null;
  error: string | null;
  flags: number;
  /** Message operations: the data, whether it was encrypted, the session key's enctype. */
  data?: Buffer;
  encrypted?: boolean;
  enctype?: number;
}

export class PythonAcceptor {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private readonly clock?: string;
  /** The child's stderr (its last 2 KB), for the error when it exits early. */
  private stderr = '';

  /**
   * `clockOffset` like "+2h" runs the acceptor with a skewed clock: libfaketime preloaded with FAKETIME set. Not the
   * `faketime` wrapper: it names a semaphore and a shared-memory segment after its pid and leaves both behind when it
   * is killed (as close() does), so a later wrapper that gets the same pid fails with "sem_open: File exists".
   */
  constructor(env: Record<string, string>, clockOffset?: string) {
    const skew: Record<string, string> = clockOffset ? { LD_PRELOAD: LIBFAKETIME ?? 'libfaketime.so.1', FAKETIME: clockOffset } : {};
    this.clock = clockOffset;
    this.child = spawn(SYSTEM_PYTHON, [SCRIPT], { env: { ...process.env, ...env, ...skew }, stdio: ['pipe', 'pipe', 'pipe'] });
    // libfaketime also names a shared-memory segment and a semaphore after the pid and leaves them when the process
    // is killed: removed here, so that no later process given the same pid finds them.
    if (clockOffset) {
      const pid = this.child.pid;
      this.child.once('exit', () => {
        for (const name of [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`]) rmSync(`/dev/shm/${name}`, { force: true });
      });
    }
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString('utf8')).slice(-2048)));
  }

  /** Whether the system python can import gssapi (asked once per process). */
  static available(): boolean {
    importsGssapi ??= spawnSync(SYSTEM_PYTHON, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0;
    return importsGssapi;
  }

  private async call(req: object): Promise<PyStep> {
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const next = await this.lines.next();
    if (next.done) {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        await Promise.race([once(this.child, 'exit'), new Promise((r) => setTimeout(r, 1000))]);
      }
      const { exitCode, signalCode } = this.child;
      throw new Error(`the python acceptor exited (code ${exitCode}, signal ${signalCode}${this.cmdline()}): ${this.stderr.trim() || 'no stderr'}`);
    }
    const r = JSON.parse(next.value);
    return { ...r, token: Buffer.from(r.token, 'base64'), data: r.data === undefined ? undefined : Buffer.from(r.data, 'base64') };
  }

  private cmdline(): string {
    return this.clock ? `, under libfaketime ${this.clock}` : '';
  }

  async start(service: string, bindings?: Buffer): Promise<void> {
    const r = await this.call({ op: 'new', service, bindings: bindings?.toString('base64') });
    if (r.error) throw new Error(`python acceptor: ${r.error}`);
  }

  step(token: Uint8Array): Promise<PyStep> {
    return this.call({ op: 'step', token: Buffer.from(token).toString('base64') });
  }

  /** Per-message calls on the established acceptor context. */
  wrap(data: Uint8Array, conf = true): Promise<PyStep> {
    return this.call({ op: 'wrap', data: Buffer.from(data).toString('base64'), conf });
  }
  unwrap(token: Uint8Array): Promise<PyStep> {
    return this.call({ op: 'unwrap', token: Buffer.from(token).toString('base64') });
  }
  mic(data: Uint8Array): Promise<PyStep> {
    return this.call({ op: 'mic', data: Buffer.from(data).toString('base64') });
  }
  verify(data: Uint8Array, mic: Uint8Array): Promise<PyStep> {
    return this.call({ op: 'verify', data: Buffer.from(data).toString('base64'), mic: Buffer.from(mic).toString('base64') });
  }
  /** Delegation: who the delegated credential is (user null: none), and a token made with it for another service. */
  delegated(): Promise<PyStep> {
    return this.call({ op: 'delegated' });
  }
  forward(service: string): Promise<PyStep> {
    return this.call({ op: 'forward', service });
  }
  sessionKey(): Promise<PyStep> {
    return this.call({ op: 'session_key' });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
