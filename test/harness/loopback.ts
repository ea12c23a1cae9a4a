// The test realm's host names (*.kn.test) resolve nowhere: HTTP tests connect every such name to loopback through a
// lookup function given to the client (`connect: { lookup }`), so that the name, and so the SPN, stay the realm's.
import type { LookupFunction } from 'node:net';

export const loopbackLookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;
