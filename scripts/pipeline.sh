#!/usr/bin/env bash
# Runs this repository's pipeline locally, the same genaiops stages the Argo WorkflowTemplates run:
#   route -> lint -> validate -> eval for the selected artifacts, the manifest validation, then (with
#   PROMOTE_ENV=<env>) the promotion of every artifact that passed into that environment of the GitOps remote
#   (validate and eval then run for that environment, as the promotion gate requires).
# Selection: BASE=<git ref> runs what changed since that ref (like a pull request); without it, every
# artifact. Reports land in $REPORTS_DIR (default build/reports), one JSON file per stage.
# Eval replays the recorded cassettes (EVAL_ARGS, default --replay): no model endpoint is needed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
reports="${REPORTS_DIR:-build/reports}"
stages="${STAGES:-lint validate eval}"
mkdir -p "$reports"

if [ -n "${BASE:-}" ]; then
  select=(--changed-since "$BASE")
  genaiops route --changed-since "$BASE" --report "$reports/route-report.json" > "$reports/route.json"
else
  select=(artifacts)
  mapfile -t files < <(git ls-files artifacts 2>/dev/null || find artifacts -type f)
  genaiops route "${files[@]}" --report "$reports/route-report.json" > "$reports/route.json"
fi
python3 - "$reports/route.json" <<'PY'
import json, sys
route = json.load(open(sys.argv[1]))
print(f"route: {len(route['targets'])} artifact(s) to run, {len(route['deletions'])} deletion(s), "
      f"{len(route['ignored'])} path(s) ignored", file=sys.stderr)
for t in route["targets"]:
    print(f"  {t['kind']:13} {t['id']:28} {t['pipeline']:16} {' -> '.join(t['stages'])}", file=sys.stderr)
PY

for stage in $stages; do
  echo "== genaiops $stage" >&2
  extra=()
  [ "$stage" = eval ] && read -r -a extra <<<"${EVAL_ARGS:---replay}"
  # the promotion gate counts validate and eval only when they ran for the environment it promotes to
  if [ -n "${PROMOTE_ENV:-}" ] && [ "$stage" != lint ]; then extra+=(--env "$PROMOTE_ENV"); fi
  genaiops "$stage" "${select[@]}" "${extra[@]}" --report "$reports/$stage-report.json"
done

echo "== manifests" >&2
scripts/validate.sh

if [ -n "${PROMOTE_ENV:-}" ]; then
  echo "== genaiops promote --env $PROMOTE_ENV" >&2
  mkdir -p "$reports/promote"
  genaiops promote --env "$PROMOTE_ENV" "${select[@]}" --reports "$reports" \
    --request-dir "$reports/promote" --report "$reports/promote/promote-report.json"
fi
echo "pipeline: all stages passed; reports in $reports" >&2
