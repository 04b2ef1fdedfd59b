#!/usr/bin/env bash
# Builds the lab image atelier-lab:<hash of sandbox/image> (also tagged atelier-lab:latest), unless it exists.
#   default: base root filesystem from Debian packages (mmdebstrap | docker import, no Docker Hub), cached as
#            atelier-lab-base:<hash of sandbox/image/base>, then the lab layers (Dockerfile) on top of it.
#   ATELIER_IMAGE_FROM=hub: the same image from debian:bookworm-slim with apt-get (Dockerfile.hub).
#   ATELIER_DEBIAN_MIRROR=URI: Debian archive to use instead of the host's apt sources (see apt-sources.ts).
#   DOCKER=podman: another Docker-compatible CLI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
docker=${DOCKER:-docker}
say() { printf '\033[1m[image]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[image] %s\033[0m\n' "$*" >&2; exit 1; }

node="$root/node_modules/.bin/node"
[ -x "$node" ] || die "missing $node: run 'bash scripts/setup.sh deps' first (the tag is computed by sandbox/image/tag.ts)"
tag=$("$node" "$here/tag.ts")
base=$("$node" "$here/tag.ts" --base)
has_image() { "$docker" image inspect "$1" >/dev/null 2>&1; }
# docker build, quiet unless it fails (the classic builder also warns that it is deprecated on every run).
build() {
  local log; log=$(mktemp)
  if ! "$docker" build -q "$@" >/dev/null 2>"$log"; then cat "$log" >&2; rm -f "$log"; die "docker build failed"; fi
  rm -f "$log"
}

if has_image "$tag"; then
  say "$tag is up to date"
  "$docker" tag "$tag" atelier-lab:latest
  exit 0
fi

start=$(date +%s)
if [ "${ATELIER_IMAGE_FROM:-debian}" = hub ]; then
  say "building $tag from debian:bookworm-slim (Dockerfile.hub)"
  build -f "$here/Dockerfile.hub" -t "$tag" "$here"
else
  if has_image "$base"; then
    say "base $base is up to date"
  else
    command -v mmdebstrap >/dev/null || die "missing mmdebstrap (apt-get install mmdebstrap), or use ATELIER_IMAGE_FROM=hub where Docker Hub is reachable"
    mapfile -t sources < <("$node" "$here/apt-sources.ts")
    [ ${#sources[@]} -gt 0 ] || die "no Debian apt source found"
    say "building base $base with mmdebstrap from: ${sources[*]}"
    log=$(mktemp)
    # pipefail makes a failed mmdebstrap fail the import step too; its log is shown only then.
    if ! bash "$here/base/mmdebstrap.sh" "${sources[@]}" 2>"$log" | "$docker" import - "$base" >/dev/null; then
      tail -n 30 "$log" >&2
      rm -f "$log"
      die "mmdebstrap failed"
    fi
    rm -f "$log"
  fi
  say "building $tag (lab layers on $base)"
  # The base exists only locally: the classic builder uses it without pulling (no --pull).
  build --build-arg "BASE=$base" -f "$here/Dockerfile" -t "$tag" "$here"
fi
"$docker" tag "$tag" atelier-lab:latest
# Untag the images of older definitions (an image still used by a container stays until that container goes).
for old in $("$docker" image ls --format '{{.Repository}}:{{.Tag}}' atelier-lab; "$docker" image ls --format '{{.Repository}}:{{.Tag}}' atelier-lab-base); do
  case "$old" in "$tag" | "$base" | *:latest) ;; *) "$docker" rmi "$old" >/dev/null 2>&1 || true ;; esac
done
size=$("$docker" image inspect -f '{{.Size}}' "$tag")
say "built $tag in $(( $(date +%s) - start ))s ($(( size / 1000000 )) MB)"
