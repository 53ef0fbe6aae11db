#!/usr/bin/env bash
# The main job: sets this machine up (scripts/setup.sh), then runs the orchestrator in the
# foreground hosting the example plugins of two tenants, on embedded defaults (a private
# redis-server, the built-in host). In another terminal: scripts/classtop-sandbox status
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/env.sh"
exec node "$ROOT/dist/src/cli/main.js" up --config "$ROOT/examples/config.yaml" "$@"
