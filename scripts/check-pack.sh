#!/usr/bin/env bash
# The published package as a user gets it: `npm pack`, the tarball installed into an empty project, then
#   - nothing from test/, bench/, docker/ (or scripts/, .ci/) is in it, and it depends on koffi alone;
#   - ESM `import` and CJS `require` (Node >= 20.19's require(esm)) load it;
#   - `npx kerberos-negotiate --help` runs its CLI;
#   - its types check under moduleResolution node16 and bundler, with types ["node"] and skipLibCheck off,
#     using the typescript and @types/node versions of this repository's devDependencies.
# Prints the tarball's size. Run by .ci/run; needs only Node, npm and the npm registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/kn-pack.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-pack: $*" >&2; exit 1; }

cd "$root"
tgz=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
[ -f "$tmp/$tgz" ] || fail "npm pack made no tarball"
tar tzf "$tmp/$tgz" >"$tmp/files"
if grep -E '^package/(test|bench|docker|scripts|\.ci|\.github)/' "$tmp/files"; then
  fail "the files above come from test/, bench/, docker/, scripts/ or CI"
fi
tar xzf "$tmp/$tgz" -C "$tmp" package/package.json
node -e '
  const p = require(process.argv[1]);
  const deps = Object.keys(p.dependencies ?? {}).join(",");
  if (deps !== "koffi" || p.optionalDependencies || p.peerDependencies) {
    console.error("check-pack: the package must depend on koffi alone, found " + JSON.stringify({ deps, optional: p.optionalDependencies, peer: p.peerDependencies }));
    process.exit(1);
  }' "$tmp/package/package.json"

ts=$(node -p 'require("./package.json").devDependencies.typescript')
types=$(node -p 'require("./package.json").devDependencies["@types/node"]')
app="$tmp/app"
mkdir "$app"
cd "$app"
printf '{ "name": "kn-pack-check", "version": "1.0.0", "private": true, "type": "module" }\n' >package.json
npm install --no-audit --no-fund --loglevel=error "$tmp/$tgz" "typescript@$ts" "@types/node@$types" >/dev/null

node --input-type=module -e '
  import * as kn from "kerberos-negotiate";
  for (const f of ["acquireCredentialsHandle", "initializeSecurityContext", "negotiateFetch", "NegotiateDispatcher", "NegotiateClient"])
    if (typeof kn[f] !== "function") { console.error(`check-pack: ESM import lacks ${f}`); process.exit(1); }
  if (kn.SEC_E_OK !== 0) { console.error("check-pack: ESM import: SEC_E_OK is not 0"); process.exit(1); }'
node --no-warnings -e '
  const kn = require("kerberos-negotiate");
  if (typeof kn.initializeSecurityContext !== "function" || typeof kn.withNegotiate !== "function") {
    console.error("check-pack: CJS require did not give the API"); process.exit(1);
  }' 2>&1 | { ! grep .; } || fail "CJS require failed on $(node --version) (Node >= 20.19 required)"
npx --no-install kerberos-negotiate --help >"$tmp/help.txt" || fail "npx kerberos-negotiate --help exited non-zero"
grep -q '^Usage: kerberos-negotiate' "$tmp/help.txt" || fail "npx kerberos-negotiate --help printed no usage"

cat >use.ts <<'TS'
import { acquireCredentialsHandle, initializeSecurityContext, negotiateFetch, withNegotiate, NegotiateClient, SEC_E_OK,
  ISC_REQ_MUTUAL_AUTH, type SecurityError } from 'kerberos-negotiate';

export async function use(): Promise<number> {
  const credential = await acquireCredentialsHandle({ package: 'Negotiate' });
  const r = await initializeSecurityContext({ credential, targetName: 'HTTP/web.example.com', contextReq: ISC_REQ_MUTUAL_AUTH });
  const e: SecurityError | undefined = r.error;
  const res = await negotiateFetch('https://web.example.com/');
  const init: RequestInit = withNegotiate({ mutual: 'required' });
  using client = new NegotiateClient({ target: 'HTTP/web.example.com' });
  void client; void init; void e;
  return res.status + (r.status === SEC_E_OK ? 0 : 1);
}
TS
for mode in node16 bundler; do
  module=$([ "$mode" = node16 ] && echo node16 || echo esnext)
  printf '{ "compilerOptions": { "module": "%s", "moduleResolution": "%s", "target": "es2022", "lib": ["es2022", "esnext.disposable"], "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"] }, "files": ["use.ts"] }\n' \
    "$module" "$mode" >"tsconfig.$mode.json"
  npx --no-install tsc -p "tsconfig.$mode.json" || fail "the types do not check under moduleResolution $mode"
done

bytes=$(stat -c %s "$tmp/$tgz")
unpacked=$(tar xzf "$tmp/$tgz" -O | wc -c)
echo "check-pack: $tgz: $bytes bytes packed ($((bytes / 1024)) KiB), $unpacked bytes unpacked, $(wc -l <"$tmp/files") files; ESM, CJS, npx and types (node16, bundler) OK"
