#!/usr/bin/env bash
# Builds the C++ example plugins (examples/plugins/*, language cpp) with `classtop-sandbox build`
# in the builder image docker/build-images.sh tagged from this checkout, then signs each with the
# example developer certificate (it grants com.example.*). Their build/, plugin.crt and
# CLASSTOP-MANIFEST.json are generated, not committed (.gitignore). Run by scripts/setup.sh after
# the images; skips an example whose sources and builder image are those of its last build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh
log() { printf '[examples] %s\n' "$*" >&2; }

BUILDER_TAG_FILE=.cache/images/sandbox-cpp-builder
STAMPS=.cache/examples
DEVELOPER=examples/trust/developer
CLI=(node dist/src/cli/main.js)

if [ ! -f "$BUILDER_TAG_FILE" ]; then
  log "no $BUILDER_TAG_FILE: build the images first (bash docker/build-images.sh)"
  exit 1
fi
builder="$(cat "$BUILDER_TAG_FILE")"
mkdir -p "$STAMPS"

# What a build depends on: the builder image and every source file (not its outputs).
source_hash() {
  { echo "$builder"
    find "$1" -type f ! -path "$1/build/*" ! -name CLASSTOP-MANIFEST.json ! -name plugin.crt -print0 | sort -z |
      xargs -0 sha256sum; } | sha256sum | cut -c1-16
}

for dir in examples/plugins/*; do
  grep -Eq '^[[:space:]]+language:[[:space:]]*"?cpp"?' "$dir/plugin.yaml" 2>/dev/null || continue
  name="$(basename "$dir")"
  hash="$(source_hash "$dir")"
  if [ -f "$dir/build/plugin.so" ] && [ -f "$dir/CLASSTOP-MANIFEST.json" ] &&
    [ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$hash" ]; then
    continue
  fi
  log "building and signing $dir"
  rm -f "$STAMPS/$name"
  # The compiler's output is printed only when the build fails.
  if ! out="$("${CLI[@]}" build "$dir" --image "$builder" 2>&1)"; then
    printf '%s\n' "$out" >&2
    exit 1
  fi
  "${CLI[@]}" sign "$dir" --key "$DEVELOPER/developer.key.pem" --cert "$DEVELOPER/developer.pem" >/dev/null
  echo "$hash" > "$STAMPS/$name"
done
