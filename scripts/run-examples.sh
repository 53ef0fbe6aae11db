#!/usr/bin/env bash
# The main job: sets this machine up (scripts/setup.sh), then runs the orchestrator in the
# foreground hosting the example plugins of two tenants, on embedded defaults (a private
# redis-server, the built-in host). In another terminal: scripts/classtop-sandbox status
#
# Ctrl-C (or SIGTERM to this job's process group) disables every plugin, removes its container,
# sockets and shm, then stops the private redis-server, which runs in a session of its own so
# that the terminal's signal does not stop it first. `exec` makes the orchestrator this job's
# process: no shell stays between the terminal and it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/env.sh"
exec node "$ROOT/dist/src/cli/main.js" up --config "$ROOT/examples/config.yaml" "$@"
