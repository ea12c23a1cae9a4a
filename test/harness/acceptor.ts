// The independent acceptor of the integration tests: the `kerberos` package's server (MIT's
// gss_accept_sec_context through its own native add-on, with MIT's SPNEGO), reading the harness's HTTP keytab.
import kerberos from 'kerberos';

export interface Acceptor {
  /** Feeds one initiator token; returns the acceptor's reply token (empty when none). */
  step(token: Uint8Array): Promise<Buffer>;
  readonly complete: boolean;
  /** The authenticated client principal, once complete. */
  readonly username: string | undefined;
}

/** A fresh acceptor for `service@host` (KRB5_KTNAME from the harness environment names the keytab). */
export async function newAcceptor(service = 'HTTP@web.kn.test'): Promise<Acceptor> {
  const server = await kerberos.initializeServer(service);
  return {
    async step(token) {
      await server.step(Buffer.from(token).toString('base64'));
      return Buffer.from(server.response ?? '', 'base64');
    },
    get complete() {
      return server.contextComplete;
    },
    get username() {
      return server.username || undefined;
    },
  };
}
