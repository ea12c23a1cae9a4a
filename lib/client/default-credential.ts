// The default credential that NegotiateClient (and so the HTTP client) uses when the caller names none: one handle
// per package, shared by the whole process, instead of a handle acquired and freed for every authentication. A
// default handle reads the default ccache at each use (docs/api.md), so sharing it loses nothing: an external kinit,
// k5start or sssd renewal is seen, and MIT's bound credential (acquired once per handle) is paid once per process,
// as is the handle's in-memory copy of its service tickets (first legs on the loop: providers/gssapi-tickets.ts).
// It holds no timer or socket, so it never keeps the process alive; at exit its memory goes with the process.
import { acquireCredentialsHandle, freeCredentialsHandle, type CredentialsHandle } from '../facade/api.js';
import type { PackageName } from '../vocabulary/packages.js';

const shared = new Map<PackageName, { ccname: string | undefined; handle: Promise<CredentialsHandle> }>();

/**
 * The process's default handle for `pkg`. A change of KRB5CCNAME gets a new one (the previous is freed: contexts
 * begun with it keep their reference); a failed acquisition is not kept.
 */
export function defaultCredential(pkg: PackageName): Promise<CredentialsHandle> {
  const ccname = process.env.KRB5CCNAME;
  const current = shared.get(pkg);
  if (current && current.ccname === ccname) return current.handle;
  if (current) void current.handle.then(freeCredentialsHandle, () => undefined);
  const handle = acquireCredentialsHandle({ package: pkg });
  const entry = { ccname, handle };
  shared.set(pkg, entry);
  handle.catch(() => {
    if (shared.get(pkg) === entry) shared.delete(pkg);
  });
  return handle;
}
