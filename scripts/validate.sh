#!/usr/bin/env bash
# Validate the Kubernetes manifests of this repository the way Argo CD renders them:
# `kustomize build` of every kustomization under platform/ and environments/ (Components are
# not roots), then `kubeconform -strict` against pinned Kubernetes and Argo schemas generated
# offline from the Go module proxy into .cache/schemas/. Ends with a valid/invalid/skipped tally
# per kind and exits non-zero when anything is invalid or a kind we ship has no schema.
#
# Usage: scripts/validate.sh [DIR...] [--json FILE] [--allow-skip KIND]   (see `genaiops manifests -h`)
# Prerequisites: Go (to install the pinned tools and fetch the schema modules) and Python 3.11+.
set -o errexit -o nounset -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${GENAIOPS_TOOLS_DIR:-$root/.tools}"

for tool in kustomize kubeconform; do
  if [ ! -x "$tools/bin/$tool" ] && ! command -v "$tool" >/dev/null 2>&1; then
    echo "validate: $tool missing, installing the pinned tools" >&2
    "$root/scripts/install-tools.sh"
    break
  fi
done

if [ -x "$root/.venv/bin/genaiops" ]; then
  genaiops=("$root/.venv/bin/genaiops")
elif command -v genaiops >/dev/null 2>&1; then
  genaiops=(genaiops)
else
  genaiops=(env "PYTHONPATH=$root/scripts${PYTHONPATH:+:$PYTHONPATH}" python3 -m genaiops)
fi

exec "${genaiops[@]}" manifests --repo "$root" "$@"
