#!/usr/bin/env bash
# Builds the base root filesystem of the lab image from Debian packages (no Docker Hub needed) and writes it
# as a tar stream on stdout, ready for `docker import`. Usage: mmdebstrap.sh SOURCE_LINE... (one-line apt
# sources, e.g. "deb URI bookworm main"); build.sh derives them from the host's apt configuration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 'deb URI bookworm main'..." >&2; exit 2; }

# Package list without comments and blank lines, comma-separated as mmdebstrap wants it.
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" | tr -s '[:space:]' ',' | sed 's/,$//')

# No documentation, manual pages or translations: the image stays small, and the excludes are kept in
# /etc/dpkg/dpkg.cfg.d so packages installed later follow them too. Copyright files stay (licences).
exec mmdebstrap \
  --variant=minbase \
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
