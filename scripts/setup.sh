#!/usr/bin/env bash
# Installs what Atelier needs, each part only when it is missing, so `npm start` and `npm test` work on a
# fresh Debian machine. Usage: setup.sh [deps] [docker] [chromium] [image] [lb] (no argument: all of them;
# lb, the load balancer of the several-backends test, only when asked for).
# On machines where it cannot install (not root, not Debian), it says what is missing and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
# Each external command a part needs that a fresh machine of this kind lacks, as command:package (Debian).
# tests/unit/setup-tools.test.ts checks that every command the scripts call is declared here or is on a fresh
# machine (tests/fixtures/fresh-machine-packages.txt), so a tool installed by hand cannot hide a missing step.
TOOLS_docker="docker:docker.io dockerd:docker.io iptables:iptables"
TOOLS_image="mmdebstrap:mmdebstrap"
TOOLS_lb="haproxy:haproxy"
apt_updated=
apt_install() {
  can_apt || die "missing: $* (install it, or run as root on Debian/Ubuntu so this script can)"
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

deps() {
  command -v npm >/dev/null || die "missing: npm (install Node.js and npm; Node >= 22.12 is then brought from the npm registry)"
  # node_modules/.package-lock.json is npm's own record of the last install: reinstall when the lock is newer.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # The `node` devDependency puts Node 24 in node_modules/.bin, first on PATH inside npm scripts.
  local v; v=$(node_modules/.bin/node -p 'process.versions.node')
  say "node $v"
}

# Installs the packages of a part's missing commands (TOOLS_<part>), in one apt-get call.
need_tools() {
  local pair missing=()
  for pair in $1; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing from Debian: ${missing[*]}"
  apt_install "${missing[@]}"
}

docker_engine() {
  # A remote engine (DOCKER_HOST) needs only the client.
  if ! docker info >/dev/null 2>&1; then need_tools "$TOOLS_docker"; fi
  if ! docker info >/dev/null 2>&1; then
    [ -n "${DOCKER_HOST:-}" ] && die "DOCKER_HOST=$DOCKER_HOST does not answer"
    command -v dockerd >/dev/null || die "missing: a running Docker Engine (or set DOCKER_HOST)"
    [ "$(id -u)" = 0 ] || die "Docker Engine is not running and only root can start it here"
    say "starting dockerd"
    mkdir -p /var/log
    nohup dockerd >/var/log/atelier-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || die "dockerd did not start: see /var/log/atelier-dockerd.log"
  fi
}

chromium() {
  [ -x /usr/bin/chromium ] && return 0
  say "installing Chromium from Debian (browser tests; never a downloaded browser)"
  apt_install chromium fonts-liberation
}

image() {
  docker_engine
  need_tools "$TOOLS_image"
  bash sandbox/image/build.sh
}

# The load balancer of the several-backends test (tests/integration/backends.test.ts).
lb() { need_tools "$TOOLS_lb"; }

parts=("$@"); [ ${#parts[@]} -gt 0 ] || parts=(deps docker chromium image)
for p in "${parts[@]}"; do
  case "$p" in
    deps) deps ;;
    docker) docker_engine ;;
    chromium) chromium ;;
    image) image ;;
    lb) lb ;;
    *) die "unknown part: $p" ;;
  esac
done
