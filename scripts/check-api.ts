// The public API as a user of the package sees it: the declarations (tsc -p tsconfig.build.json, emitted to a
// temporary directory) read from each entry point of package.json's "exports", listed as every name a user can
// import with its declared signature, then every declaration those signatures reach without exporting it by name.
// Module paths never appear, so moving code between internal modules leaves the listing alone; changing what a user
// can import, or a signature, changes it. `npm run api:check` compares it with test/api-surface.txt and prints the
// difference; `npm run api:update` writes it after the change has been reviewed. test/unit/api-surface.test.ts
// runs the check in `npm test`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BASELINE = join(ROOT, 'test', 'api-surface.txt');

interface EntryPoint {
  /** What a user writes in `import ... from`. */
  specifier: string;
  /** The declaration file package.json names for it, relative to the package root. */
  types: string;
}

/** The package's entry points: each subpath of "exports" with the declarations its "types" condition names. */
export function entryPoints(): EntryPoint[] {
  type Target = string | null | Target[] | { [condition: string]: Target };
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; types?: string; exports?: Record<string, Target> };
  /** The first "types" condition in a (possibly nested) conditions object. */
  const typesOf = (target: Target): string | undefined => {
    if (typeof target === 'string') return target.endsWith('.d.ts') ? target : undefined;
    if (Array.isArray(target)) return target.map(typesOf).find((t) => t !== undefined);
    if (!target) return undefined;
    if (typeof target.types === 'string') return target.types;
    return Object.values(target).map(typesOf).find((t) => t !== undefined);
  };
  const out: EntryPoint[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? { '.': pkg.types ?? null })) {
    if (subpath.endsWith('.json')) continue;
    if (subpath.includes('*')) throw new Error(`exports["${subpath}"]: subpath patterns are not listed by this script yet`);
    const types = typesOf(target);
    if (!types) throw new Error(`exports["${subpath}"] names no declarations ("types"): its API cannot be listed`);
    out.push({ specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, types });
  }
  const main = out.find((e) => e.specifier === pkg.name);
  if (pkg.types && main && resolve(ROOT, pkg.types) !== resolve(ROOT, main.types)) {
    throw new Error(`package.json "types" (${pkg.types}) and exports["."] (${main.types}) name different files`);
  }
  return out.sort((a, b) => compare(a.specifier, b.specifier));
}

/** Emits the declarations of tsconfig.build.json into `outDir`; returns the directory the config's outDir maps to. */
function emitDeclarations(outDir: string): string {
  const configPath = join(ROOT, 'tsconfig.build.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configPath);
  if (parsed.errors.length) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  const configOutDir = parsed.options.outDir ?? ROOT;
  // noCheck: only what the declarations need is inferred (`npm run typecheck` checks the types); a few seconds.
  const options: ts.CompilerOptions = {
    ...parsed.options, outDir, declaration: true, emitDeclarationOnly: true, noEmit: false, noCheck: true,
    sourceMap: false, declarationMap: false, incremental: false, composite: false, tsBuildInfoFile: undefined,
  };
  const program = ts.createProgram({ rootNames: parsed.fileNames, options });
  const result = program.emit();
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length || result.emitSkipped) {
    throw new Error(`declaration emit failed:\n${ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' })}`);
  }
  return configOutDir;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the declarations and returns the listing (what test/api-surface.txt holds). */
export function apiSurface(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kn-api-'));
  try {
    const configOutDir = emitDeclarations(dir);
    const entries = entryPoints().map((e) => {
      const file = join(dir, relative(configOutDir, resolve(ROOT, e.types)));
      if (relative(dir, file).startsWith('..')) throw new Error(`${e.types} is not under the build's outDir`);
      return { ...e, file };
    });
    return listSurface(dir, entries);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function listSurface(dir: string, entries: Array<EntryPoint & { file: string }>): string {
  // Only our own declarations are resolved (to name and follow them); everything else is printed as written, so
  // neither the standard library nor @types is loaded.
  const program = ts.createProgram({
    rootNames: entries.map((e) => e.file),
    options: { noEmit: true, noLib: true, types: [], skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  });
  const checker = program.getTypeChecker();
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  const ours = (d: ts.Node) => !relative(dir, d.getSourceFile().fileName).startsWith('..');
  const resolveAlias = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const declarationsOf = (s: ts.Symbol) => s.declarations?.filter((d) => ours(d) && !ts.isSourceFile(d) && !ts.isTypeParameterDeclaration(d)) ?? [];

  // First pass: every importable name, so that a signature naming an exported type names it as users import it.
  interface Listed { name: string; kind: string; typeOnly: boolean; symbol: ts.Symbol }
  const sections: Array<{ specifier: string; names: Listed[] }> = [];
  const nameOf = new Map<ts.Symbol, string>();
  const exportsOf = (moduleSymbol: ts.Symbol, prefix: string, into: Listed[]): void => {
    const exports = checker.getExportsOfModule(moduleSymbol).slice().sort((a, b) => compare(a.name, b.name));
    for (const exported of exports) {
      const symbol = resolveAlias(exported);
      const name = `${prefix}${exported.name}`;
      if (symbol.declarations?.some(ts.isSourceFile)) {
        into.push({ name, kind: 'namespace', typeOnly: typeOnly(exported), symbol });
        exportsOf(symbol, `${name}.`, into);
        continue;
      }
      if (!nameOf.has(symbol)) nameOf.set(symbol, name);
      into.push({ name, kind: kindOf(symbol), typeOnly: typeOnly(exported), symbol });
    }
  };

  /** Whether an export reaches its declaration only through `export type` / `import type` (no value to import). */
  const typeOnly = (exported: ts.Symbol): boolean => {
    let s: ts.Symbol | undefined = exported;
    for (let hops = 0; s && s.flags & ts.SymbolFlags.Alias && hops < 50; hops++) {
      for (const d of s.declarations ?? []) {
        if ((ts.isExportSpecifier(d) || ts.isImportSpecifier(d)) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) return true;
        if ((ts.isImportClause(d) || ts.isNamespaceImport(d) || ts.isNamespaceExport(d)) && ts.isTypeOnlyImportOrExportDeclaration(d)) return true;
      }
      s = checker.getImmediateAliasedSymbol(s);
    }
    return false;
  };

  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`no module at ${entry.types}`);
    const names: Listed[] = [];
    exportsOf(moduleSymbol, '', names);
    sections.push({ specifier: entry.specifier, names });
  }

  // Second pass: the declarations as text. A name in a signature is written as the symbol is listed (its exported
  // name, else its declared name), whatever a declaration file calls it locally (`S.SecurityError`, an import alias
  // or an import("path") type): module layout never shows.
  const reached: ts.Symbol[] = [];
  const reach = (symbol: ts.Symbol) => {
    if (!nameOf.has(symbol) && declarationsOf(symbol).length) {
      nameOf.set(symbol, symbol.name);
      reached.push(symbol);
    }
  };
  const referenced = (n: ts.Node): ts.Symbol | undefined => {
    let at: ts.Node | undefined;
    if (ts.isTypeReferenceNode(n)) at = n.typeName;
    else if (ts.isExpressionWithTypeArguments(n)) at = n.expression;
    else if (ts.isTypeQueryNode(n)) at = n.exprName;
    else if (ts.isImportTypeNode(n)) at = n.qualifier;
    if (!at) return undefined;
    const name = ts.isQualifiedName(at) ? at.right : ts.isPropertyAccessExpression(at) ? at.name : at;
    const symbol = checker.getSymbolAtLocation(name);
    return symbol && resolveAlias(symbol);
  };
  const renamer: ts.TransformerFactory<ts.Node> = (context) => {
    const f = context.factory;
    const visit = (n: ts.Node, follow: boolean): ts.Node | undefined => {
      // Private members are no one's API (the declaration file lists them only by name).
      if (ts.isClassElement(n) && ((n.name && ts.isPrivateIdentifier(n.name)) || ts.getCombinedModifierFlags(n as ts.Declaration) & ts.ModifierFlags.Private)) return undefined;
      // A type from another package through a namespace import (`http.IncomingHttpHeaders`): named without the local alias.
      if (ts.isTypeReferenceNode(n) && ts.isQualifiedName(n.typeName) && ts.isIdentifier(n.typeName.left)) {
        const left = checker.getSymbolAtLocation(n.typeName.left);
        const spec = left?.declarations?.find(ts.isNamespaceImport)?.parent.parent.moduleSpecifier;
        if (spec && ts.isStringLiteral(spec) && !spec.text.startsWith('.')) {
          return f.createTypeReferenceNode(f.createIdentifier(n.typeName.right.text), n.typeArguments?.map((a) => visit(a, follow) as ts.TypeNode));
        }
      }
      const symbol = referenced(n);
      const ourSymbol = symbol && declarationsOf(symbol).length ? symbol : undefined;
      // A class's constructor parameters are followed no further: the handles take internal state users never build.
      if (ourSymbol && follow) reach(ourSymbol);
      const sub = (c: ts.Node) => visit(c, follow && !ts.isConstructorDeclaration(n));
      if (ourSymbol) {
        const name = f.createIdentifier(nameOf.get(ourSymbol) ?? ourSymbol.name);
        const args = (n as ts.TypeReferenceNode).typeArguments?.map((a) => sub(a) as ts.TypeNode);
        if (ts.isTypeReferenceNode(n) || ts.isImportTypeNode(n)) return f.createTypeReferenceNode(name, args);
        if (ts.isTypeQueryNode(n)) return f.createTypeQueryNode(name, args);
        if (ts.isExpressionWithTypeArguments(n)) return f.createExpressionWithTypeArguments(name, args);
      }
      return ts.visitEachChild(n, sub, context);
    };
    return (root) => visit(root, true)!;
  };

  const declarationText = (symbol: ts.Symbol): string[] => {
    const out: string[] = [];
    for (const decl of declarationsOf(symbol)) {
      const sourceFile = decl.getSourceFile();
      const print = (node: ts.Node) => {
        const result = ts.transform(node, [renamer]);
        try {
          return printer.printNode(ts.EmitHint.Unspecified, result.transformed[0], sourceFile);
        } finally {
          result.dispose();
        }
      };
      let text: string;
      if (ts.isVariableDeclaration(decl)) {
        const flags = decl.parent.flags;
        const keyword = flags & ts.NodeFlags.Const ? 'const' : flags & ts.NodeFlags.Let ? 'let' : 'var';
        text = `${keyword} ${decl.name.getText()}${decl.type ? `: ${print(decl.type)}` : ''}${decl.initializer ? ` = ${print(decl.initializer)}` : ''};`;
      } else {
        text = print(decl);
      }
      text = text.replace(/\bimport\("[^"]*"\)\./g, '').replace(/^(export )?(default )?(declare )?/, '');
      out.push(...text.split('\n').map((l) => `    ${l}`));
    }
    return out;
  };

  const lines: string[] = [
    '# The public API of kerberos-negotiate: scripts/check-api.ts writes this from the declarations the build emits.',
    '# `npm run api:check` compares; after a reviewed change to what users can import, `npm run api:update`.',
  ];
  for (const { specifier, names } of sections) {
    lines.push('', `## import from "${specifier}"`);
    for (const { name, kind, typeOnly: onlyType, symbol } of names) {
      lines.push('', `export ${onlyType ? 'type-only ' : ''}${kind} ${name}`);
      if (kind !== 'namespace') lines.push(...declarationText(symbol));
    }
  }
  // What the exported signatures name without exporting it: a user meets these in hover and in errors, and a change
  // to them changes the API all the same. In the order first met (deterministic); more may be met while listing.
  if (reached.length) lines.push('', '## reached from the exports, not importable by name');
  for (let i = 0; i < reached.length; i++) {
    lines.push('', `${kindOf(reached[i])} ${nameOf.get(reached[i])}`, ...declarationText(reached[i]));
  }
  return `${lines.join('\n')}\n`;
}

function kindOf(s: ts.Symbol): string {
  const f = s.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) return 'variable';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Module) return 'namespace';
  return 'symbol';
}

/** A line diff of `before` and `after` (longest common subsequence), with `context` unchanged lines around each change. */
export function diffLines(before: string, after: string, context = 3): string {
  const a = before.split('\n');
  const b = after.split('\n');
  // Trim the common head and tail first: an API change touches a few lines of a long listing.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = a.slice(0, head).map((line) => ({ op: ' ' as const, line }));
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push({ op: ' ', line: x[i++] });
      j++;
    } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ op: '-', line: x[i++] });
    else ops.push({ op: '+', line: y[j++] });
  }
  ops.push(...a.slice(a.length - tail).map((line) => ({ op: ' ' as const, line })));
  const out: string[] = [];
  let last = -1;
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    const from = Math.max(k - context, last + 1);
    if (last >= 0 && from > last + 1) out.push('...');
    for (let c = from; c < k; c++) out.push(`  ${ops[c].line}`);
    out.push(`${o.op} ${o.line}`);
    last = k;
    for (let c = k + 1; c <= Math.min(k + context, ops.length - 1) && ops[c].op === ' '; c++) {
      out.push(`  ${ops[c].line}`);
      last = c;
    }
  });
  return out.join('\n');
}

/** The listing compared with the baseline: undefined when equal, else the difference (baseline → now). */
export function checkApi(): { current: string; difference: string | undefined } {
  const current = apiSurface();
  let baseline: string;
  try {
    baseline = readFileSync(BASELINE, 'utf8');
  } catch {
    return { current, difference: `${relative(ROOT, BASELINE)} does not exist: run npm run api:update` };
  }
  return { current, difference: baseline === current ? undefined : diffLines(baseline, current) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const update = process.argv.includes('--update');
  const shown = relative(process.cwd(), BASELINE) || BASELINE;
  if (update) {
    writeFileSync(BASELINE, apiSurface());
    process.stdout.write(`wrote ${shown}\n`);
  } else {
    const { difference } = checkApi();
    if (difference === undefined) {
      process.stdout.write(`public API unchanged (${shown})\n`);
    } else {
      process.stderr.write(`The public API differs from ${shown} (- baseline, + now):\n${difference}\n\n`
        + `If the change is intended, review it and run: npm run api:update\n`);
      process.exitCode = 1;
    }
  }
}
