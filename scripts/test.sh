#!/usr/bin/env bash
# `npm test`: every test layer, against real services (Docker Engine, Chromium, the WebSocket server).
# Installs what is missing first. Leaves no container, network or volume behind (name prefix atelier-test-).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh deps docker chromium image
export PATH="$PWD/node_modules/.bin:$PATH"
export ATELIER_TEST=1
cleanup() { node scripts/clean-test-labs.ts || true; }
trap cleanup EXIT
cleanup
echo "== typecheck"; tsc --noEmit -p tsconfig.json
echo "== build"; npm run --silent build >/dev/null
echo "== tests (unit, integration, e2e, security)"
# One run so that the closing summary counts every test.
node --test --test-concurrency=1 --test-reporter=spec \
  'tests/unit/**/*.test.ts' 'tests/integration/**/*.test.ts' 'tests/e2e/**/*.test.ts' 'tests/security/**/*.test.ts'
