#!/usr/bin/env bash
# `npm start`: install what is missing, build the site, run the server (site, API, terminals, preview).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh deps docker image
export PATH="$PWD/node_modules/.bin:$PATH"
npm run build
exec node server/supervise.ts
