#!/usr/bin/env bash
# Rebuilds dist/ and fails when it differs from what is committed, like
# actions/typescript-action's check-dist workflow.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
if [ -n "$(git status --porcelain -- dist/)" ]; then
  echo "dist/ is stale: run 'npm run build' and commit dist/." >&2
  git status --short -- dist/ >&2
  git diff --stat -- dist/ >&2
  exit 1
fi
echo "dist/ matches the source."
