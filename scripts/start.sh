#!/usr/bin/env bash
# `npm start`: install what is missing, build the site, run the server (site, API, terminals, preview).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh deps docker image
export PATH="$PWD/node_modules/.bin:$PATH"
npm run build
# The first students' click is warm: one lab of each kind prepared ahead, refilled after each claim
# (about 42 MiB each when idle). ATELIER_LAB_POOL= (empty) turns it off; docs/operations.md sizes it.
export ATELIER_LAB_POOL="${ATELIER_LAB_POOL-*:1}"
exec node server/supervise.ts
