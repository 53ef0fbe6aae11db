#!/usr/bin/env bash
# Makes the base image `debian:bookworm-slim` available without a registry.
# Where a registry answers, the ordinary pull is used; otherwise a minimal Debian rootfs is made
# with debootstrap from Debian's archive and imported under the same tag, so every Dockerfile that
# says `FROM debian:bookworm-slim` builds unchanged. Does nothing when the tag already exists.
set -euo pipefail
BASE_TAG="${CLASSTOP_BASE_IMAGE:-debian:bookworm-slim}"
PULL_TIMEOUT_S=20

log() { printf '[base-image] %s\n' "$*" >&2; }

if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then exit 0; fi

if timeout "$PULL_TIMEOUT_S" docker pull -q "$BASE_TAG" >/dev/null 2>&1; then
  log "pulled $BASE_TAG"
  exit 0
fi

command -v debootstrap >/dev/null || { log "no registry and no debootstrap: apt-get install debootstrap"; exit 1; }
rootfs="$(mktemp -d /var/tmp/classtop-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
log "no registry answered; building $BASE_TAG with debootstrap (about 30 s)"
debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
# Trim what a container never needs, as the official slim image does.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$BASE_TAG" >/dev/null
log "imported $BASE_TAG"
