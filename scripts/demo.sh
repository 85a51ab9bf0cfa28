#!/usr/bin/env bash
# The main job, end to end on embedded defaults: render a team repository from this template (default
# answers), push it to a local bare git remote, and run its pipeline there.
#   build/demo-remote.git  the team's "GitOps remote" (a real bare repository)
#   build/demo             the rendered team repository, a clone of that remote
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DEMO_DIR:-$root/build}"
remote="$build/demo-remote.git"
dest="$build/demo"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-genaiops demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@genaiops.invalid}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"

rm -rf "$remote" "$dest"
mkdir -p "$build"
git init --quiet --bare --initial-branch=main "$remote"

echo "== copier copy (default answers) -> $dest" >&2
copier copy --trust --defaults --quiet --vcs-ref HEAD \
  --data "repo_url=file://$remote" "$root" "$dest"

cd "$dest"
git init --quiet --initial-branch=main
git add -A
git commit --quiet -m "Bootstrap the GenAI GitOps repository from the genaiops template"
git remote add origin "file://$remote"
git push --quiet -u origin main

echo "== pipeline in the rendered repository (ends with a promotion to the first environment)" >&2
first_env="$(python3 -c 'import yaml,sys; print(yaml.safe_load(open("genaiops.yaml"))["environments"][0]["name"])' 2>/dev/null \
  || awk '/^environments:/{f=1} f && /name:/{print $NF; exit}' genaiops.yaml)"
PROMOTE_ENV="${PROMOTE_ENV:-$first_env}" make --no-print-directory pipeline

echo "== the GitOps remote after promotion" >&2
git --git-dir="$remote" log --oneline -n 8 main >&2
echo "demo: rendered repo in $dest, remote in $remote" >&2
