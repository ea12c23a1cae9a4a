// Per-connection state of the HTTP acceptor. A multi-leg exchange continues only on the TCP/TLS connection that
// began it: the state is found through the request's socket (a WeakMap, so a connection that is gone leaves
// nothing), and dropped when the socket closes. A continuation token that arrives on another connection finds no
// state there and is taken as a first token, which the acceptor refuses.
import type { Socket } from 'node:net';
import type { NegotiateServer } from './negotiate-server.js';
import type { NegotiateIdentity } from './types.js';

export interface ConnectionState {
  /** The exchange in progress on this connection (after a 401 with a continuation token). */
  pending?: NegotiateServer;
  /** With `perConnection`: who authenticated on this connection (without the delegated credential). */
  identity?: Omit<NegotiateIdentity, 'delegatedCredential'>;
}

const states = new WeakMap<Socket, ConnectionState>();
let live = 0;

/** The state of `socket`, made (and tied to its close) on first use. */
export function connectionState(socket: Socket): ConnectionState {
  let state = states.get(socket);
  if (!state) {
    const made: ConnectionState = {};
    state = made;
    states.set(socket, made);
    live++;
    socket.once('close', () => {
      live--;
      dropPending(made);
      delete made.identity;
      states.delete(socket);
    });
  }
  return state;
}

/** The state of `socket` if it has one: never creates it. */
export function existingState(socket: Socket): ConnectionState | undefined {
  return states.get(socket);
}

/** Ends the exchange in progress, if any (its context is deleted). */
export function dropPending(state: ConnectionState): void {
  state.pending?.dispose();
  delete state.pending;
}

/** How many connections hold state now (for tests and diagnostics). */
export function connectionsWithState(): number {
  return live;
}
