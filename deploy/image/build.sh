#!/usr/bin/env bash
# Builds the backend image atelier-backend:<hash of what it holds> (also :latest).
#   default: base root filesystem from Debian packages (mmdebstrap | docker import, no Docker Hub), cached as
#            atelier-backend-base:<hash of deploy/image/base>, then the application (Dockerfile) on top of it.
#   ATELIER_IMAGE_FROM=hub: the same application on debian:bookworm-slim (Dockerfile.hub).
#   ATELIER_SITE_DIST=dir: an already built site (`npm run build`) instead of building one for the image.
#   ATELIER_DEBIAN_MIRROR=URI, DOCKER=podman: as for the lab image (sandbox/image/build.sh).
# The application is staged first (stage.sh): Node from node_modules, the server's code, the lab definitions,
# the built site, and only the packages the server imports (runtime-deps.ts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
docker=${DOCKER:-docker}
say() { printf '\033[1m[backend-image]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[backend-image] %s\033[0m\n' "$*" >&2; exit 1; }
node="$root/node_modules/.bin/node"
[ -x "$node" ] || die "missing $node: run 'bash scripts/setup.sh deps' first"
hash_of() { "$node" --input-type=module -e "import { hashTree } from '$root/sandbox/image/tag.ts'; console.log(hashTree(process.argv[1]))" "$1"; }
build() {
  local log; log=$(mktemp)
  if ! "$docker" build -q "$@" >/dev/null 2>"$log"; then cat "$log" >&2; rm -f "$log"; die "docker build failed"; fi
  rm -f "$log"
}

start=$(date +%s)
context=$(mktemp -d /tmp/atelier-backend-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
bash "$here/stage.sh" "$context/app"
tag="atelier-backend:$(hash_of "$context/app")"
base="atelier-backend-base:$(hash_of "$here/base")"

if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  say "$tag is up to date"
elif [ "${ATELIER_IMAGE_FROM:-debian}" = hub ]; then
  say "building $tag from debian:bookworm-slim (Dockerfile.hub)"
  build -f "$here/Dockerfile.hub" -t "$tag" "$context"
else
  if "$docker" image inspect "$base" >/dev/null 2>&1; then
    say "base $base is up to date"
  else
    command -v mmdebstrap >/dev/null || die "missing mmdebstrap (apt-get install mmdebstrap), or use ATELIER_IMAGE_FROM=hub where Docker Hub is reachable"
    mapfile -t sources < <("$node" "$root/sandbox/image/apt-sources.ts")
    [ ${#sources[@]} -gt 0 ] || die "no Debian apt source found"
    say "building base $base with mmdebstrap from: ${sources[*]}"
    log=$(mktemp)
    if ! bash "$here/base/mmdebstrap.sh" "${sources[@]}" 2>"$log" | "$docker" import - "$base" >/dev/null; then
      tail -n 30 "$log" >&2; rm -f "$log"; die "mmdebstrap failed"
    fi
    rm -f "$log"
  fi
  say "building $tag (application on $base)"
  build --build-arg "BASE=$base" -f "$here/Dockerfile" -t "$tag" "$context"
fi
"$docker" tag "$tag" atelier-backend:latest
# Untag older builds (an image still used by a container stays until that container goes).
for old in $("$docker" image ls --format '{{.Repository}}:{{.Tag}}' atelier-backend; "$docker" image ls --format '{{.Repository}}:{{.Tag}}' atelier-backend-base); do
  case "$old" in "$tag" | "$base" | *:latest) ;; *) "$docker" rmi "$old" >/dev/null 2>&1 || true ;; esac
done
size=$("$docker" image inspect -f '{{.Size}}' "$tag")
say "built $tag in $(( $(date +%s) - start ))s ($(( size / 1000000 )) MB)"
echo "$tag"
