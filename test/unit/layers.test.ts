// The layers and which may import which (docs/architecture.md), checked on every source file of lib/ and ffi/:
// ffi/ only declares, lib/sspi/ is vocabulary, lib/spnego/ is protocol, lib/providers/ adapts, the facade (lib/*.ts)
// is the API, lib/http/ is a client convenience over the facade. A new import that crosses a layer the wrong way fails
// here, in CI, before it spreads.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Layer = 'ffi' | 'sspi' | 'spnego' | 'providers' | 'facade' | 'http' | 'server' | 'cli';

function layerOf(file: string): Layer {
  if (file.startsWith('ffi/')) return 'ffi';
  if (file.startsWith('lib/sspi/')) return 'sspi';
  if (file.startsWith('lib/spnego/')) return 'spnego';
  if (file.startsWith('lib/providers/')) return 'providers';
  if (file.startsWith('lib/http/')) return 'http';
  if (file.startsWith('lib/server/')) return 'server';
  if (/^lib\/cli[^/]*\.ts$/.test(file)) return 'cli';
  return 'facade';
}

/** What each layer may import (besides itself and packages). */
const ALLOWED: Record<Layer, Layer[]> = {
  ffi: [],
  sspi: [],
  spnego: ['sspi'],
  providers: ['ffi', 'sspi', 'spnego', 'facade'],
  facade: ['providers', 'sspi', 'spnego', 'http', 'server'],
  http: ['facade', 'sspi', 'spnego'],
  server: ['facade', 'http', 'sspi', 'spnego'],
  cli: ['facade', 'http', 'server', 'sspi', 'spnego', 'providers'],
};

/**
 * The crossings still to be removed by the restructuring (issue 17), each named: nothing else may join this list.
 * lib/cstring.ts is the one facade module providers may use (every C string is checked in one place).
 */
const KNOWN: Array<[string, string]> = [];

/**
 * The GSS status numbers (RFC 2744 majors, the krb5 com_err bases) are defined once, in ffi/, and the protocol layer
 * reports its failures in those terms (the major a GSS mechanism would return): it may read that one file, which is
 * data and imports nothing (checked below), never the native declarations.
 */
const SHARED_DATA: Array<[Layer, string]> = [['spnego', 'ffi/gss-status.ts']];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** The modules `file` imports or re-exports from; `typesToo` counts `import type` (erased at run time) as well. */
function importsOf(file: string, typesToo = true): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)(\s+type)?\b[^;]*?from\s*'(\.[^']+)'|^import\s*'(\.[^']+)'/gm)]
    .filter((m) => typesToo || !m[1])
    .map((m) => normalize(join(dirname(file), m[2] ?? m[3])).replace(/\.js$/, '.ts'));
}

describe('layers (docs/architecture.md)', () => {
  const files = [...sources('lib'), ...sources('ffi')].map((f) => relative('.', f));
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('every import goes down a layer, or is a named crossing left for the restructuring', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        const from = layerOf(file);
        const to = layerOf(target);
        if (from === to || ALLOWED[from].includes(to)) {
          // Providers use exactly one facade module: the C-string check.
          if (from === 'providers' && to === 'facade' && target !== 'lib/cstring.ts') wrong.push(`${file} -> ${target}`);
          continue;
        }
        if (SHARED_DATA.some(([layer, data]) => layer === from && data === target)) continue;
        if (!KNOWN.some(([a, b]) => a === file && b === target)) wrong.push(`${file} -> ${target} (${from} may not import ${to})`);
      }
    }
    expect(files.length).to.be.greaterThan(40);
    expect(wrong, wrong.join('\n')).to.deep.equal([]);
  });

  it('the shared data files import nothing', () => {
    for (const [, data] of SHARED_DATA) expect(graph.get(data), data).to.deep.equal([]);
  });

  it('the named crossings still exist (remove an entry once its import is gone)', () => {
    for (const [a, b] of KNOWN) expect(graph.get(a), a).to.include(b);
  });

  it('no import cycle between modules (at run time: type-only imports are erased)', () => {
    const runtime = new Map(files.map((f) => [f, importsOf(f, false)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of runtime.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of runtime.keys()) visit(f, []);
    expect(cycles, cycles.join('\n')).to.deep.equal([]);
  });
});
