// The MEMORY credential caches this process's library created and still holds (MEMORY:kerberos-negotiate-<pid>-<n>):
// the evidence that a released handle's tickets and keys left memory. MIT's collection cursor does not visit
// MEMORY caches, so the names are probed, through the same krb5 library instance the GSS library uses (MEMORY
// caches live inside that instance): a cache exists while it still names its principal. Resolving a name MIT
// does not know leaves an empty entry behind: a few bytes each, in the test process only, harmless to later use.
import koffi from 'koffi';
import { gssapi } from '../../ffi/gssapi.js';
import { krb5Candidates } from '../../ffi/krb5.js';
import { privateCachesNamed } from '../../lib/providers/gssapi-sources.js';

/** Probes every number given out so far (each refill for a new principal takes one: a fixed bound falls behind). */
export function privateMemoryCaches(upTo = privateCachesNamed()): string[] {
  const { path, flavour } = gssapi();
  const lib = koffi.load(krb5Candidates(path, flavour)[0], { deep: true });
  const init = lib.func('int32_t krb5_init_context(_Out_ void **ctx)');
  const freeCtx = lib.func('void krb5_free_context(void *ctx)');
  const resolve = lib.func('int32_t krb5_cc_resolve(void *ctx, const char *name, _Out_ void **ccache)');
  const getPrincipal = lib.func('int32_t krb5_cc_get_principal(void *ctx, void *ccache, _Out_ void **principal)');
  const freePrincipal = lib.func('void krb5_free_principal(void *ctx, void *principal)');
  const close = lib.func('int32_t krb5_cc_close(void *ctx, void *ccache)');
  const ctx: unknown[] = [null];
  if (init(ctx)) return [];
  const live: string[] = [];
  for (let n = 1; n <= upTo; n++) {
    const name = `MEMORY:kerberos-negotiate-${process.pid}-${n}`;
    const cc: unknown[] = [null];
    if (resolve(ctx[0], name, cc) || !cc[0]) continue;
    const principal: unknown[] = [null];
    if (!getPrincipal(ctx[0], cc[0], principal) && principal[0]) {
      live.push(name);
      freePrincipal(ctx[0], principal[0]);
    }
    close(ctx[0], cc[0]);
  }
  freeCtx(ctx[0]);
  return live;
}
