#!/bin/sh
# Create the bare repositories named in $GIT_REPOSITORIES (owner/name, space separated) if they do not
# exist yet, then serve them. Repositories live in /srv/git (a volume, so they survive a restart).
set -eu
for repo in ${GIT_REPOSITORIES:-}; do
  dir="/srv/git/${repo}.git"
  if [ ! -d "$dir" ]; then
    git init --quiet --bare --initial-branch="${GIT_DEFAULT_BRANCH:-main}" "$dir"
    git -C "$dir" config http.receivepack true
    echo "git-server: created $dir" >&2
  fi
done
exec /usr/sbin/lighttpd -D -f /etc/genaiops-git/lighttpd.conf
