#!/usr/bin/env bash
# Installs the pinned promptfoo (tests/promptfoo/package.json and its package-lock.json) into
# ./.tools/promptfoo with `npm ci` from the npm registry, for the side-by-side benchmarks
# (tests/benchmarks/bench_eval_vs_promptfoo.py). Install scripts are not run (promptfoo's native
# sqlite module is not needed: the benchmarks run it with --no-write). Re-running is cheap: an install
# made from the same lock file is left alone. Prints the path of the promptfoo executable.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${GENAIOPS_TOOLS_DIR:-$root/.tools}"
dest="$tools/promptfoo"
command -v npm >/dev/null || { echo "install-promptfoo: Node.js >= 20 with npm is required" >&2; exit 2; }

lock_sum="$(sha256sum "$root/tests/promptfoo/package-lock.json" | cut -d' ' -f1)"
if [ ! -x "$dest/node_modules/.bin/promptfoo" ] || [ "$(cat "$dest/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
  echo "install-promptfoo: npm ci (tests/promptfoo/package-lock.json) into $dest" >&2
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$root/tests/promptfoo/package.json" "$root/tests/promptfoo/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_sum" > "$dest/.lock.sha256"
fi
echo "$dest/node_modules/.bin/promptfoo"
