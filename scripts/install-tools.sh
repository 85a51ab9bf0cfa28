#!/usr/bin/env bash
# Installs the pinned command-line tools this repository needs into ./.tools/bin.
# Go tools come from the Go module proxy with `go install module@version`; nothing is
# downloaded from anywhere else. Re-running is cheap: a tool already at its pinned
# version is left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${GENAIOPS_TOOLS_DIR:-$root/.tools}"
mkdir -p "$tools/bin"
export GOBIN="$tools/bin"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

command -v go >/dev/null || { echo "install-tools: Go >= 1.26 is required (https://go.dev/dl)" >&2; exit 2; }

# name|package@version|pin folder, one line per tool, from scripts/genaiops/pins.py (the one place
# versions are pinned; bump them there). A pin folder holds a go.mod/go.sum that pins the tool when
# `go install package@version` cannot be used (see scripts/tools/argo/tools.go for why argo needs one).
python="${GENAIOPS_PYTHON:-$root/.venv/bin/python}"
mapfile -t pins < <(PYTHONPATH="$root/scripts" "$python" -m genaiops.pins tools)
[ "${#pins[@]}" -gt 0 ] || { echo "install-tools: could not read the pins (scripts/genaiops/pins.py)" >&2; exit 2; }

for pin in "${pins[@]}"; do
  IFS='|' read -r name module pindir <<<"$pin"
  stamp="$tools/bin/.$name.version"
  if [ -x "$tools/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module" ]; then
    continue
  fi
  echo "install-tools: go install $module${pindir:+ (pinned by $pindir)}" >&2
  if [ -n "$pindir" ]; then
    (cd "$root/$pindir" && go install "${module%@*}")
  else
    go install "$module"
  fi
  echo "$module" > "$stamp"
done
echo "install-tools: tools ready in $tools/bin" >&2
