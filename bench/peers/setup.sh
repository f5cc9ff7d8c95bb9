#!/usr/bin/env bash
# Installs the peer protocols measured by bench/b_peers.py (Hyperlane, LayerZero v2) into
# bench/peers/node_modules from package-lock.json, isolated from the project's own
# node_modules. Idempotent: does nothing when the lock file has not changed since the last
# install. Needs Node.js/npm and the npm registry only. .npmrc sets legacy-peer-deps: the
# peers' peerDependencies (hardhat-deploy, OpenZeppelin 4, chain SDKs) are only needed to
# recompile them, and the benchmark deploys their published bytecode instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
stamp=node_modules/.installed
if [[ -f $stamp && $stamp -nt package-lock.json && $stamp -nt package.json ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "error: npm not found; install Node.js and npm (apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
