"""The e2e team's GitOps repository on the git server, and Argo CD bootstrapped from it.

What a team does once after ``copier copy``, done to a copy of this repository's files (tracked and new,
not ignored):

- ``genaiops.yaml`` names the git server as the repository, the pipeline image built here, and the HTTP
  sink as the team webhook (pipeline notifications and Argo CD's notifications both go there).
- Every environment says ``platform: false``: the harness installs the one pipelines instance itself,
  because the scenarios patch it (NodePorts, one JetStream server, settings changed at run time), which
  Argo CD's self-heal would undo. Argo CD deploys the environments (``environments/<env>``).
- ``genaiops init --force`` regenerates the bootstrap and the overlays from those settings.

The result is pushed to ``main`` as one root commit, and kept in the run folder: ``environments/bootstrap``
is applied from it (``kubectl apply -k``), after the repository Secret Argo CD reads the git server with
(docs/cluster.md), exactly as a team bootstraps a cluster.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from genaiops_e2e import docker, kube
from genaiops_e2e.cluster import Cluster
from genaiops_e2e.controllers import ARGO_CD_NAMESPACE
from genaiops_e2e.proc import HarnessError, log, run
from genaiops_e2e.state import State

REPOSITORY_SECRET = "genaiops-repository"
BOOTSTRAP_MANAGER = "genaiops-bootstrap"
"""The field manager of the bootstrap apply: Argo CD's ConfigMaps keep the install's keys and gain the
bootstrap's (``kubectl apply`` merges; a server-side apply by the install's manager would drop them)."""


def tree_dir() -> Path:
    """The team repository's working copy of this run (what main holds after seeding)."""
    return docker.RUN_DIR / "team-repository"


def _copy_files(repo: Path, tree: Path) -> None:
    files = run(["git", "-C", repo, "ls-files", "-co", "--exclude-standard", "-z"], capture=True, quiet=True)
    shutil.rmtree(tree, ignore_errors=True)
    for rel in filter(None, files.stdout.decode().split("\0")):
        source = repo / rel
        if source.is_file() and not source.is_symlink():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / rel)


def _settings(tree: Path, state: State) -> None:
    path = tree / "genaiops.yaml"
    data = yaml.safe_load(path.read_text())
    try:
        data["repository"]["url"] = state.git_url_cluster
        name, _, tag = state.pipeline_image.rpartition(":")
        data["image"] = {"name": name, "tag": tag}
        notifications = data.get("notifications") or {}
        data["notifications"] = {**notifications, "webhook": f"{state.sink_url_cluster}/webhook"}
        for environment in data["environments"]:
            environment["platform"] = False
    except (KeyError, TypeError) as exc:
        raise HarnessError(f"{path}: not the settings layout genaiops init writes ({exc})") from None
    header = "# genaiops.yaml of the e2e team (scripts/genaiops_e2e/team.py): the git server, the image\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))


def _init(repo: Path, tree: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(repo / "scripts")}
    run([sys.executable, "-m", "genaiops", "init", "--force"], cwd=tree, env=env, capture=True, quiet=True)


def seed_repository(repo: Path, state: State) -> str:
    """Write the team repository (module docstring) and force-push it to the git server's main branch."""
    tree = tree_dir()
    _copy_files(repo, tree)
    _settings(tree, state)
    _init(repo, tree)
    git = ["git", "-C", str(tree), "-c", "user.name=genaiops e2e", "-c", "user.email=e2e@genaiops.invalid"]
    run([*git, "init", "--quiet", "--initial-branch=main"], quiet=True)
    run([*git, "add", "-A"], quiet=True)
    run([*git, "commit", "--quiet", "-m", "e2e: the repository under test"], quiet=True)
    run([*git, "push", "--quiet", "--force", state.git_url_host_auth, "main"], timeout=300)
    sha = run([*git, "rev-parse", "HEAD"], capture=True, quiet=True).stdout.decode().strip()
    log(f"seeded {state.git_url_cluster} at {sha[:12]}")
    return sha


def bootstrap_argo_cd(cluster: Cluster, repo: Path, state: State) -> None:
    """The repository Secret, then ``environments/bootstrap`` of the seeded repository."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": REPOSITORY_SECRET,
            "namespace": ARGO_CD_NAMESPACE,
            "labels": {"argocd.argoproj.io/secret-type": "repository"},
        },
        "stringData": {
            "type": "git",
            "url": state.git_url_cluster,
            "username": state.git_user,
            "password": state.git_token,
        },
    }
    kube.apply(cluster, yaml.safe_dump(secret), what="Argo CD repository Secret")
    bootstrap = kube.build(repo, tree_dir() / "environments" / "bootstrap")
    kube.apply(cluster, bootstrap, what="Argo CD bootstrap", manager=BOOTSTRAP_MANAGER)
