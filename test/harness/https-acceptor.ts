// A real acceptor that enforces channel bindings over HTTPS (test/harness/negotiate_https_server.py), because
// mod_auth_gssapi has none. Runs with the test realm's environment and the HTTP/<hostname> keytab.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Kdc } from './kdc.js';
import { SYSTEM_PYTHON } from './python-acceptor.js';

const SCRIPT = fileURLToPath(new URL('./negotiate_https_server.py', import.meta.url));

export interface HttpsAcceptor {
  port: number;
  stop(): Promise<void>;
}

export async function startHttpsAcceptor(kdc: Kdc, certPath: string, keyPath: string): Promise<HttpsAcceptor> {
  const child: ChildProcess = spawn(SYSTEM_PYTHON, [SCRIPT, certPath, keyPath, `HTTP@${kdc.hostname}`], {
    env: { ...process.env, ...kdc.env, KRB5RCACHETYPE: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (process.env.KN_DEBUG) process.stderr.write(d);
  });
  const first = createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  const exited = once(child, 'exit').then(() => {
    throw new Error(`the HTTPS acceptor exited: ${stderr.slice(-2000)}`);
  });
  const line = await Promise.race([first, exited]);
  const { port } = JSON.parse(String(line.value)) as { port: number };
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill();
        await once(child, 'exit');
      }
    },
  };
}
