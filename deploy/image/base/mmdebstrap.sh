#!/usr/bin/env bash
# The base root filesystem of the backend image from Debian packages (no Docker Hub), as a tar stream on
# stdout for `docker import`. Usage: mmdebstrap.sh SOURCE_LINE... ("deb URI bookworm main"), like the lab
# image's (sandbox/image/base/mmdebstrap.sh), with the smaller essential variant: no apt in the image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 'deb URI bookworm main'..." >&2; exit 2; }
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" | tr -s '[:space:]' ',' | sed 's/,$//')
exec mmdebstrap \
  --variant=essential \
  --include="$packages" \
  --aptopt='Acquire::Languages "none"' \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --format=tar \
  bookworm - "$@"
