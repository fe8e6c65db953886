#!/usr/bin/env bash
# Installs what the tests and the demo need, once: npm packages (including Node 24
# itself, as the "node" dev dependency) and a project-local Python virtualenv with the
# pinned MLflow. Re-runs only when package-lock.json or requirements-test.txt change.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp() { sha256sum "$1" | cut -d' ' -f1; }

if [ ! -x node_modules/.bin/node ] || [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$(stamp package-lock.json)" ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  stamp package-lock.json > node_modules/.setup-stamp
fi

if [ ! -x .venv/bin/mlflow ] || [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$(stamp requirements-test.txt)" ]; then
  echo "setup: creating the Python virtualenv .venv with $(grep -E '^mlflow' requirements-test.txt)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
  stamp requirements-test.txt > .venv/.setup-stamp
fi
