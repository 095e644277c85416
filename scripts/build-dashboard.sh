#!/usr/bin/env bash
# Builds the dashboard (dashboard/ → dashboard/dist) that the host embeds.
# Installs its npm dependencies from package-lock.json when they are missing
# or out of date. Node ≥ 20.19 and npm are required.
set -euo pipefail
cd "$(dirname "$0")/../dashboard"

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is required to build the dashboard (install Node.js ≥ 20.19)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
