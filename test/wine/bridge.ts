// The Linux side of the Wine run: a loopback TCP service, one JSON object per line, that hands the Windows process's
// tokens to a real Linux acceptor (python-gssapi, MIT) and returns its answers. The Windows node under Wine reaches
// it through Wine's Winsock. Ops are PythonAcceptor's: new (with the service's key named: http, deleg or other; with
// `acceptor: 'ours'`, our own GSS acceptor instead), step, wrap, unwrap, mic, verify, delegated, forward
// (test/provider/peer.ts is the other end); and, for the Windows acceptor's tests, a Linux initiator's: init-new,
// init-step, init-wrap, init-unwrap, init-mic, init-verify (test/provider/initiator.ts).
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import type { Kdc } from '../harness/kdc.js';
import { PythonAcceptor } from '../harness/python-acceptor.js';
import { linuxInitiator, type Initiator, type InitiatorOptions } from '../provider/initiator.js';
import { ourAcceptor } from '../provider/our-acceptor.js';
import type { Peer } from '../provider/peer.js';

export type ServiceKey = 'http' | 'deleg' | 'other';

/** The environment an acceptor with `key`'s keytab runs in. */
export function acceptorEnv(kdc: Kdc, key: ServiceKey = 'http'): Record<string, string> {
  return { ...kdc.env, KRB5_KTNAME: `FILE:${kdc.principals[key].keytab}` };
}

export async function startBridge(kdc: Kdc): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    let acceptor: PythonAcceptor | Peer | undefined;
    let initiator: Initiator | undefined;
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => {
      void (async () => {
        const req = JSON.parse(line) as {
          op: string; service?: string; key?: ServiceKey; token?: string; data?: string; mic?: string; conf?: boolean; bindings?: string;
          acceptor?: 'python' | 'ours'; options?: InitiatorOptions & { bindings?: string };
        };
        const b = (s?: string) => Buffer.from(s ?? '', 'base64');
        let out: unknown;
        try {
          if (req.op === 'new' && req.acceptor === 'ours') {
            acceptor?.close();
            acceptor = await ourAcceptor(acceptorEnv(kdc, req.key).KRB5_KTNAME, req.bindings ? b(req.bindings) : undefined);
            out = { ok: true };
          } else if (req.op === 'new') {
            acceptor?.close();
            const python = new PythonAcceptor(acceptorEnv(kdc, req.key));
            acceptor = python;
            await python.start(req.service!, req.bindings ? b(req.bindings) : undefined);
            out = { ok: true };
          } else if (req.op === 'init-new') {
            initiator?.close();
            const o = req.options!;
            initiator = linuxInitiator({ ...o, bindings: o.bindings ? b(o.bindings) : undefined }, kdc.env);
            out = await initiator.start();
          } else if (req.op === 'init-step') out = await initiator!.step(b(req.token));
          else if (req.op === 'init-wrap') out = await initiator!.wrap(b(req.data), req.conf ?? true);
          else if (req.op === 'init-unwrap') out = await initiator!.unwrap(b(req.token));
          else if (req.op === 'init-mic') out = await initiator!.mic(b(req.data));
          else if (req.op === 'init-verify') out = await initiator!.verify(b(req.data), b(req.mic));
          else if (req.op === 'step') out = await acceptor!.step(b(req.token));
          else if (req.op === 'wrap') out = await acceptor!.wrap(b(req.data), req.conf ?? true);
          else if (req.op === 'unwrap') out = await acceptor!.unwrap(b(req.token));
          else if (req.op === 'mic') out = await acceptor!.mic(b(req.data));
          else if (req.op === 'verify') out = await acceptor!.verify(b(req.data), b(req.mic));
          else if (req.op === 'delegated') out = await acceptor!.delegated();
          else if (req.op === 'forward') out = await acceptor!.forward(req.service!);
          else out = { error: `unknown op ${req.op}` };
        } catch (err) {
          out = { error: (err as Error).message };
        }
        socket.write(`${JSON.stringify(out, (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v))}\n`);
      })();
    });
    const closeAll = () => {
      acceptor?.close();
      initiator?.close();
    };
    socket.on('close', closeAll);
    socket.on('error', closeAll);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}
