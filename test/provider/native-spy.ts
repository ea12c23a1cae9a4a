// Counts the native calls a piece of work makes: every function of the backend's tables (GSS-API and krb5 on Linux
// and macOS, secur32 on Windows) and koffi.load, wrapped for the duration. For tests that must show a call was
// refused before anything reached C.
import koffi from 'koffi';
import { gssapi } from '../../ffi/gssapi.js';
import { krb5 } from '../../ffi/krb5.js';
import { secur32 } from '../../ffi/secur32.js';
import { windows } from './platform.js';

type Table = Record<string, unknown>;

function tables(): Table[] {
  if (windows) return [secur32() as unknown as Table];
  const g = gssapi();
  const k = krb5(g.path, g.flavour);
  return [g.fn as unknown as Table, ...(k ? [k.fn as unknown as Table] : [])];
}

/** Runs `work`; resolves to the names of the native functions it called (synchronously or on the pool) and its outcome. */
export async function nativeCallsDuring(work: () => unknown): Promise<{ calls: string[]; error?: unknown; value?: unknown }> {
  const calls: string[] = [];
  const restore: Array<() => void> = [];
  for (const table of tables()) {
    for (const [name, fn] of Object.entries(table)) {
      if (typeof fn !== 'function') continue;
      const f = fn as ((...args: unknown[]) => unknown) & { async?: (...args: unknown[]) => unknown };
      table[name] = new Proxy(f, {
        apply(target, self, args) {
          calls.push(name);
          return Reflect.apply(target, self, args);
        },
        get(target, key, receiver) {
          if (key === 'async' && target.async) {
            return (...args: unknown[]) => {
              calls.push(`${name} (async)`);
              return target.async!(...args);
            };
          }
          return Reflect.get(target, key, receiver);
        },
      });
      restore.push(() => (table[name] = fn));
    }
  }
  const k = koffi as unknown as { load: (...args: unknown[]) => unknown };
  const load = k.load;
  k.load = (...args: unknown[]) => {
    calls.push('koffi.load');
    return load(...args);
  };
  restore.push(() => (k.load = load));
  try {
    return { calls, value: await work() };
  } catch (error) {
    return { calls, error };
  } finally {
    for (const r of restore) r();
  }
}
