#!/usr/bin/env bash
# The whole test suite: sets this machine up (scripts/setup.sh: Docker Engine, Redis, Node 24,
# dependencies, build, images), runs the static checks, then every unit, integration and
# end-to-end test against the real Docker engine and real redis-server processes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
source scripts/env.sh
npm run --silent lint
export TESTCONTAINERS_RYUK_DISABLED=true
exec node --test --test-concurrency=1 --test-timeout=300000 \
  'dist/src/**/*.test.js' 'sandboxes/node/dist/**/*.test.js' 'dist/test/**/*.test.js'
