#!/usr/bin/env bash
# Stages the backend's files in DIR (the image's /app): Node, the server, the lab definitions and the lab
# image's definition (its tag is a hash of it: it must match the lab image the engine has), the built site,
# package.json (ES modules) and the packages the server imports, without TypeScript files (Node never
# strips types under node_modules, so it cannot load them) and source maps.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
out=$1
node="$root/node_modules/.bin/node"
export PATH="$root/node_modules/.bin:$PATH" # Astro's own scripts run `node` from the PATH
mkdir -p "$out/bin" "$out/sandbox"

# Node: Debian 12's nodejs is 18 and the server needs >= 22.12 (type stripping, node:sqlite). The npm
# package `node` (a devDependency, pinned by package-lock.json) installs the official nodejs.org build;
# its native symbols are stripped (126 MB -> 108 MB for 24.21): JavaScript stack traces are unchanged,
# only gdb and perf lose Node's own C++ names.
cp "$(readlink -f "$node")" "$out/bin/node"
if command -v strip >/dev/null; then strip --strip-all "$out/bin/node"; fi

cp "$root/package.json" "$out/"
cp -r "$root/server" "$root/protocol" "$out/"
cp -r "$root/sandbox/labs" "$root/sandbox/image" "$out/sandbox/"

if [ -n "${ATELIER_SITE_DIST:-}" ]; then
  [ -f "$ATELIER_SITE_DIST/index.html" ] || { echo "ATELIER_SITE_DIST=$ATELIER_SITE_DIST has no index.html" >&2; exit 1; }
  cp -r "$ATELIER_SITE_DIST" "$out/dist"
else
  # Its own output directory: the working tree's dist/ is left as it is.
  (cd "$root" && "$root/node_modules/.bin/astro" build --silent --outDir "$out/dist" >&2)
  "$node" "$root/scripts/precompress.ts" "$out/dist" >&2
fi

(cd "$root" && "$node" "$here/runtime-deps.ts") | grep -v '^node_modules/@types/' | (cd "$root" && xargs cp -r --parents -t "$out")
find "$out/node_modules" \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) -type f -delete
