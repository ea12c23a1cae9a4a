// The layers and which may import which (docs/architecture.md), checked on every source file of lib/ and ffi/. Each
// layer is a folder: ffi/ only declares, lib/vocabulary/ is SSPI's words, lib/protocol/ is DER, SPNEGO and Kerberos
// token parsing, lib/providers/ adapts, lib/facade/ is the SSPI-shaped API, lib/client/ and lib/server/ are the
// conveniences over it, lib/cli/ is the command; lib/index.ts, the entry point, re-exports. A new import that crosses
// a layer the wrong way fails here, in CI, before it spreads.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const LAYERS = ['ffi', 'vocabulary', 'protocol', 'providers', 'facade', 'client', 'server', 'cli', 'entry'] as const;
type Layer = (typeof LAYERS)[number];

function layerOf(file: string): Layer {
  if (file.startsWith('ffi/')) return 'ffi';
  if (file === 'lib/index.ts') return 'entry';
  const folder = /^lib\/([^/]+)\//.exec(file)?.[1];
  const layer = LAYERS.find((l) => l === folder);
  if (!layer) throw new Error(`${file} is in no layer's folder (docs/architecture.md)`);
  return layer;
}

/** What each layer may import (besides itself and packages). */
const ALLOWED: Record<Layer, Layer[]> = {
  ffi: [],
  vocabulary: [],
  protocol: ['vocabulary'],
  providers: ['ffi', 'vocabulary', 'protocol', 'facade'],
  facade: ['providers', 'vocabulary', 'protocol'],
  client: ['facade', 'vocabulary', 'protocol'],
  server: ['facade', 'client', 'vocabulary', 'protocol'],
  cli: ['entry', 'facade', 'client', 'server', 'vocabulary', 'protocol', 'providers'],
  entry: ['facade', 'client', 'server', 'vocabulary', 'protocol', 'providers'],
};

/**
 * Crossings to be removed, each named: nothing else may join this list.
 * lib/facade/cstring.ts is the one facade module providers may use (every C string is checked in one place).
 */
const KNOWN: Array<[string, string]> = [];

/**
 * The GSS status numbers (RFC 2744 majors, the krb5 com_err bases) are defined once, in ffi/, and the protocol layer
 * reports its failures in those terms (the major a GSS mechanism would return): it may read that one file, which is
 * data and imports nothing (checked below), never the native declarations.
 */
const SHARED_DATA: Array<[Layer, string]> = [['protocol', 'ffi/gss-status.ts']];

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
          if (from === 'providers' && to === 'facade' && target !== 'lib/facade/cstring.ts') wrong.push(`${file} -> ${target}`);
          continue;
        }
        if (SHARED_DATA.some(([layer, data]) => layer === from && data === target)) continue;
        if (!KNOWN.some(([a, b]) => a === file && b === target)) wrong.push(`${file} -> ${target} (${from} may not import ${to})`);
      }
    }
    expect(files.length).to.be.greaterThan(40);
    expect(readdirSync(join(ROOT, 'lib')).filter((e) => e.endsWith('.ts')), 'lib/ holds only the entry point').to.deep.equal(['index.ts']);
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
