// `kerberos-negotiate serve`: a whoami server for diagnosing a client or a keytab. Each request's outcome is printed
// with its SEC_E status and GSS codes (never a token); the answer's body names the principal that authenticated.
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { UsageError } from './http.js';
import { EXIT, print } from './output.js';
import { acquireCredentialsHandle, freeCredentialsHandle, negotiate, SEC_E_NO_CREDENTIALS, SECPKG_CRED_INBOUND, SecurityError, type ChannelBindingsMode, type NegotiateErrorEvent, type NegotiateRequest } from '../index.js';

export interface ServeFlags {
  keytab?: string;
  principal?: string;
  port?: string;
  host?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'channel-bindings'?: string;
  delegation?: boolean;
}

function readTls(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`serve: cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * What the text output prints of strings it does not control (a client's URL, a principal, a path): control
 * characters, DEL, the C1 set, line separators and bidirectional overrides become \\uXXXX, so that no peer or
 * argument can move the terminal's cursor, colour it, or forge a line of this log. (Backslashes stay: Kerberos names
 * use them for their own escapes.)
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it looks for
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The URL of a listening address: an IPv6 address in brackets, its zone's `%` escaped as RFC 6874 writes it. */
export function listeningUrl(scheme: 'http' | 'https', address: AddressInfo): string {
  const host = address.family === 'IPv6' || (address.family as unknown) === 6 ? `[${address.address.replace('%', '%25')}]` : address.address;
  return `${scheme}://${host}:${address.port}/`;
}

/** Runs until SIGINT or SIGTERM (or `stop`, for tests); resolves with the exit code. */
export async function serveCommand(f: ServeFlags, json: boolean, stop?: AbortSignal): Promise<number> {
  if (!f.keytab) throw new UsageError('serve needs --keytab');
  const port = f.port === undefined ? 8080 : Number(f.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('serve: --port must be 0..65535');
  if ((f['tls-cert'] === undefined) !== (f['tls-key'] === undefined)) throw new UsageError('serve: --tls-cert and --tls-key go together');
  const mode = (f['channel-bindings'] ?? 'when-supported') as ChannelBindingsMode;
  if (!['required', 'when-supported', 'never'].includes(mode)) throw new UsageError('serve: --channel-bindings must be required, when-supported or never');
  const tls = f['tls-cert'] ? { cert: readTls(f['tls-cert'], 'the certificate'), key: readTls(f['tls-key']!, 'the key') } : undefined;

  // A keytab that cannot be read is reported now, with its status, rather than at the first client. (Not through
  // queryCredentialsAttributes: Heimdal 7.8 crashes on NAMES of an inbound credential without a principal.)
  try {
    accessSync(f.keytab.replace(/^(?:WR)?FILE:/, ''), constants.R_OK);
  } catch (err) {
    throw new SecurityError(SEC_E_NO_CREDENTIALS, `cannot read the keytab ${f.keytab}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const credential = await acquireCredentialsHandle({ credentialUse: SECPKG_CRED_INBOUND, keytab: f.keytab, ...(f.principal ? { principal: f.principal } : {}) });
  try {

    const line = (value: Record<string, unknown>, text: string) => print(json, { time: new Date().toISOString(), ...value }, `${new Date().toISOString()} ${printable(text)}`);
    const where = (req: IncomingMessage) => `${req.socket.remoteAddress}:${req.socket.remotePort} ${req.method} ${req.url}`;
    let lastError: NegotiateErrorEvent | undefined;
    const auth = negotiate({
      credential,
      channelBindings: mode,
      delegation: f.delegation === true,
      onError: (e) => (lastError = e),
    });
    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      lastError = undefined;
      const decision = await auth.decide(req, res);
      const peer = { remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`, method: req.method, url: req.url };
      if (decision.action === 'reply') {
        res.writeHead(decision.status, decision.headers).end(decision.body);
        const e = lastError as NegotiateErrorEvent | undefined;
        if (e) {
          const gss = e.gss ? ` (GSS major 0x${(e.gss.major >>> 0).toString(16)}, minor ${e.gss.minor}: ${e.gss.minorText})` : '';
          line({ ...peer, outcome: e.reason, status: decision.status, sec: e.statusName, gss: e.gss, principal: e.principal, detail: e.detail },
            `${where(req)} -> ${decision.status} ${e.statusName ?? e.reason}${e.principal ? ` ${e.principal}` : ''}${gss}${e.statusName ? '' : `: ${e.detail}`}`);
        } else {
          line({ ...peer, outcome: decision.status === 401 ? 'challenge' : 'reply', status: decision.status }, `${where(req)} -> ${decision.status} ${decision.status === 401 && !req.headers.authorization ? 'challenge (no Authorization)' : 'continue'}`);
        }
        return;
      }
      const n = (req as NegotiateRequest).negotiate!;
      for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
      const who = { principal: n.principal, realm: n.realm, package: n.package, mutual: n.mutual, channelBound: n.channelBound, delegated: n.delegatedCredential !== undefined };
      const wantsJson = /json/.test(String(req.headers.accept ?? ''));
      res.writeHead(200, { 'Content-Type': wantsJson ? 'application/json' : 'text/plain; charset=utf-8' }).end(wantsJson ? `${JSON.stringify(who)}\n` : `${n.principal}\n`);
      const flags = [n.package, n.mutual ? 'mutual' : 'no mutual', n.channelBound ? 'channel-bound' : '', who.delegated ? 'delegated' : ''].filter(Boolean).join(', ');
      line({ ...peer, outcome: 'authenticated', status: 200, sec: 'SEC_E_OK', ...who }, `${where(req)} -> 200 SEC_E_OK ${n.principal} (${flags})`);
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      handle(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500).end();
        line({ outcome: 'error', message: err.message }, `internal error: ${err.message}`);
      });
    };
    const server: Server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
    const host = f.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const url = listeningUrl(tls ? 'https' : 'http', address);
    line({ event: 'listening', url, port: address.port, keytab: f.keytab, principal: f.principal ?? '(any in the keytab)', channelBindings: mode },
      `listening on ${url} (keytab ${f.keytab}, ${f.principal ? `principal ${f.principal}` : 'any principal of the keytab'}, channel bindings ${mode})`);

    await new Promise<void>((resolve) => {
      // Whichever ends it, the other listeners go too: a SIGINT listener left behind would keep Ctrl-C from ending
      // the process that called serve, and each run would add more.
      const done = () => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        stop?.removeEventListener('abort', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (stop?.aborted) done();
      else stop?.addEventListener('abort', done, { once: true });
    });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    auth.close();
    return EXIT.OK;
  } catch (err) {
    if (err instanceof SecurityError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      if (json) print(true, { error: code, message: (err as Error).message }, '');
      else process.stderr.write(`${code}: ${(err as Error).message}\n`);
      return EXIT.NETWORK;
    }
    throw err;
  } finally {
    freeCredentialsHandle(credential);
  }
}
