#!/usr/bin/env bash
# Installs what the tests and the demo need, once: npm packages (including Node 24
# itself, as the "node" dev dependency), a project-local Python virtualenv .venv with the
# pinned MLflow, and one more virtualenv .venv-mlflow-<version> for each other MLflow
# version the tests run against (requirements-mlflow-*.txt). Each one is (re)made only when
# it is missing or its lock/requirements file changed. Also cmark-gfm, GitHub's markdown
# parser, which the tests render the summaries and comments with (a Debian/Ubuntu package).
set -euo pipefail
cd "$(dirname "$0")/.."

stamp() { sha256sum "$1" | cut -d' ' -f1; }

if [ ! -x node_modules/.bin/node ] || [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$(stamp package-lock.json)" ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  stamp package-lock.json > node_modules/.setup-stamp
fi

# cmark-gfm: installed once with apt-get (through sudo unless root); without it the tests fail.
if ! command -v cmark-gfm >/dev/null 2>&1; then
  echo "setup: installing cmark-gfm (GitHub's markdown parser, for the summary tests)"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: cmark-gfm is missing and there is no apt-get here: install cmark-gfm (https://github.com/github/cmark-gfm) and run again" >&2
    exit 1
  fi
  "${as_root[@]}" apt-get install -y --no-install-recommends cmark-gfm >/dev/null ||
    { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y --no-install-recommends cmark-gfm >/dev/null; }
  command -v cmark-gfm >/dev/null 2>&1 || { echo "setup: could not install cmark-gfm" >&2; exit 1; }
fi

# venv DIR REQUIREMENTS: a virtualenv with those requirements, unless it is already there.
venv() {
  local dir=$1 req=$2
  if [ -x "$dir/bin/mlflow" ] && [ "$(cat "$dir/.setup-stamp" 2>/dev/null)" = "$(stamp "$req")" ]; then return 0; fi
  echo "setup: creating the Python virtualenv $dir with $(grep -E '^mlflow' "$req")"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  stamp "$req" > "$dir/.setup-stamp"
}

venv .venv requirements-test.txt

# The other versions install side by side (pip mostly waits on downloads); a failure fails setup.
pids=()
for req in requirements-mlflow-*.txt; do
  version=$(sed -nE 's/^mlflow(\[[^]]*\])?==([^ ]+).*/\2/p' "$req")
  if [ -z "$version" ]; then
    echo "setup: $req pins no mlflow==VERSION" >&2
    exit 1
  fi
  venv ".venv-mlflow-$version" "$req" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
