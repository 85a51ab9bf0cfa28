"""The e2e team's GitOps repository on the git server, and Argo CD bootstrapped from it.

What a team does once after ``copier copy``, done to a copy of this repository's files (tracked and new,
not ignored):

- ``genaiops.yaml`` names the git server (branch ``main``) as the repository, the pipeline image built
  here, and the HTTP sink as the team webhook (pipeline notifications and Argo CD's notifications both go
  there). Its endpoints are emptied, and so are the environments': the cluster has no way out, so the
  stages use the embedded offline defaults.
- Every environment says ``platform: false``: the harness installs the one pipelines instance itself,
  because the scenarios patch it (NodePorts, one JetStream server, settings changed at run time), which
  Argo CD's self-heal would undo. Argo CD deploys the environments (``environments/<env>``).
- ``genaiops init --force`` regenerates the bootstrap and the overlays from those settings.

The history on the git server's ``main`` then grows as a team's would before it adopts Argo CD:

1. the root commit with those files;
2. the artifacts the serving workload serves (environments/base/serving-*.yaml: a prompt, a guardrail
   policy, a model config) promoted down the whole chain of environments (an approval environment
   approved by ``e2e-seed``), by the real stages (``genaiops lint``, then per environment ``validate``,
   ``eval --replay`` and ``promote``): the first Rollout revisions are then ready, so the first canary
   has a healthy stable revision to compare with, and every environment deploys the model config the
   prompts name;
3. one commit that points those environments at the cluster: ``llm.endpoint`` in their settings.yaml is
   the in-cluster model endpoint, their image is the one built here, and they take the e2e serving sizes
   (the component tests/e2e/team/serving: fewer pods, a one-minute canary, the e2e Prometheus).

The working copy is kept in the run folder: ``environments/bootstrap`` is applied from it (``kubectl apply
-k``), after the repository Secret Argo CD reads the git server with (docs/cluster.md), exactly as a team
bootstraps a cluster.
"""

from __future__ import annotations

import json
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
SERVED = (
    "artifacts/prompts/support-qa-cot",
    "artifacts/guardrails/customer-support",
    "artifacts/model-configs/support-assistant",
)
"""What environments/base/serving-*.yaml serve (GENAIOPS_SERVE_* in the Rollouts). A repository rendered
without one of these kinds has serving pods that stay unready (docs/serving.md); its seed promotes what
it has."""
SERVING_COMPONENT = "tests/e2e/team/serving"
IDENTITY = {"GIT_AUTHOR_NAME": "genaiops e2e", "GIT_AUTHOR_EMAIL": "e2e@genaiops.invalid"}


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
        data["repository"]["branch"] = "main"  # the branch the harness seeds and the scenarios push to
        name, _, tag = state.pipeline_image.rpartition(":")
        data["image"] = {"name": name, "tag": tag}
        # The cluster has no way out: validate and eval use the embedded offline defaults until step 3
        # points the environments at the in-cluster model.
        data["endpoints"] = {**(data.get("endpoints") or {}), "llm": "", "embedding": ""}
        notifications = data.get("notifications") or {}
        data["notifications"] = {**notifications, "webhook": f"{state.sink_url_cluster}/webhook"}
        for environment in data["environments"]:
            environment["platform"] = False
    except (KeyError, TypeError) as exc:
        raise HarnessError(f"{path}: not the settings layout genaiops init writes ({exc})") from None
    header = "# genaiops.yaml of the e2e team (scripts/genaiops_e2e/team.py): the git server, the image\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))
    for settings_file in sorted(tree.glob("environments/*/settings.yaml")):
        _offline(settings_file)


def _offline(path: Path) -> None:
    """Empty the endpoints of an environment's settings.yaml (``genaiops init`` keeps them as edited)."""
    settings = yaml.safe_load(path.read_text())
    sections = [settings.get(key) for key in ("llm", "embedding")] if isinstance(settings, dict) else []
    if any(isinstance(s, dict) and s.get("endpoint") for s in sections):
        for section in sections:
            if isinstance(section, dict):
                section["endpoint"] = ""
        path.write_text(yaml.safe_dump(settings, sort_keys=False))


def _auto_synced(tree: Path) -> list[str]:
    """The environments Argo CD syncs without an approval, in promotion order, up to the first that needs
    one: a version reaches an environment only through the ones before it (genaiops.promote.order)."""
    data = yaml.safe_load((tree / "genaiops.yaml").read_text())
    names = [str(e["name"]) for e in data["environments"]]
    gated = [i for i, e in enumerate(data["environments"]) if e.get("approval")]
    return names[: gated[0]] if gated else names


def _genaiops(repo: Path, tree: Path, *args: str) -> None:
    """``genaiops ARGS`` of this repository's package, in the team tree, as the e2e seed's author."""
    env = {**os.environ, **IDENTITY, "PYTHONPATH": str(repo / "scripts"), "ARGO_WORKFLOW_NAME": "e2e-seed"}
    env.update(
        GIT_COMMITTER_NAME=IDENTITY["GIT_AUTHOR_NAME"], GIT_COMMITTER_EMAIL=IDENTITY["GIT_AUTHOR_EMAIL"]
    )
    run([sys.executable, "-m", "genaiops", *args], cwd=tree, env=env, capture=True, quiet=True)


def _init(repo: Path, tree: Path) -> None:
    _genaiops(repo, tree, "init", "--force")


def _chain(tree: Path) -> list[tuple[str, bool]]:
    """Every environment in promotion order, with whether it needs approval."""
    data = yaml.safe_load((tree / "genaiops.yaml").read_text())
    return [(str(e["name"]), bool(e.get("approval"))) for e in data["environments"]]


def _promote_served(repo: Path, tree: Path, state: State) -> None:
    """Step 2 of the module docstring: the served artifacts through the stages into every environment,
    down the chain (the promotion commits land on the git server). An environment that needs approval
    gets it from the seed itself (``--approver e2e-seed``, recorded); Argo CD still syncs it only by
    hand. So every environment deploys what the prompts it may receive need (their model config)."""
    served = [path for path in SERVED if (tree / path).is_dir()]
    if not served:
        return
    reports = docker.RUN_DIR / "team-seed-reports"
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir(parents=True)
    _genaiops(repo, tree, "lint", *served, "--quiet", "--report", str(reports / "lint-report.json"))
    for env, approval in _chain(tree):  # validate and eval count for the environment they ran for
        for stage, extra in (("validate", ()), ("eval", ("--replay",))):
            report = str(reports / f"{stage}-report-{env}.json")
            _genaiops(repo, tree, stage, *served, *extra, "--env", env, "--quiet", "--report", report)
        remote, report = state.git_url_host_auth, str(reports / f"promote-{env}.json")
        promote = ("promote", *served, "--env", env, "--reports", str(reports), "--remote", remote)
        _genaiops(
            repo,
            tree,
            *promote,
            *(("--approver", "e2e-seed") if approval else ()),
            "--quiet",
            "--report",
            report,
        )


def _serve_from_cluster(tree: Path, state: State) -> None:
    """Step 3 of the module docstring, in each auto-synced environment's seeded files."""
    name, _, tag = state.pipeline_image.rpartition(":")
    for env in _auto_synced(tree):
        folder = tree / "environments" / env
        settings = yaml.safe_load((folder / "settings.yaml").read_text())
        settings["llm"] = {**(settings.get("llm") or {}), "endpoint": state.llm_url}
        (folder / "settings.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        kustomization["images"] = [{"name": "genaiops", "newName": name, "newTag": tag}]
        kustomization["components"] = [os.path.relpath(tree / SERVING_COMPONENT, folder)]
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))


def seed_repository(repo: Path, state: State) -> str:
    """Write the team repository (module docstring) and force-push its history to the git server's main."""
    tree = tree_dir()
    _copy_files(repo, tree)
    _settings(tree, state)
    _init(repo, tree)
    git = ["git", "-C", str(tree), "-c", "user.name=genaiops e2e", "-c", "user.email=e2e@genaiops.invalid"]
    run([*git, "init", "--quiet", "--initial-branch=main"], quiet=True)
    run([*git, "add", "-A"], quiet=True)
    run([*git, "commit", "--quiet", "-m", "e2e: the repository under test"], quiet=True)
    run([*git, "push", "--quiet", "--force", state.git_url_host_auth, "main"], timeout=300)
    _promote_served(repo, tree, state)
    run([*git, "pull", "--quiet", "--ff-only", state.git_url_host_auth, "main"], timeout=300)
    _serve_from_cluster(tree, state)
    if run([*git, "status", "--porcelain"], capture=True, quiet=True).stdout.strip():
        # (nothing to commit when every environment needs approval: Argo CD syncs none by itself)
        message = "e2e: environments serve from the cluster (endpoint, image, sizes)"
        run([*git, "commit", "--quiet", "-am", message], quiet=True)
        run([*git, "push", "--quiet", state.git_url_host_auth, "main"], timeout=300)
    sha = run([*git, "rev-parse", "HEAD"], capture=True, quiet=True).stdout.decode().strip()
    log(
        f"seeded {state.git_url_cluster} at {sha[:12]}; served artifacts promoted to "
        f"{', '.join(env for env, _ in _chain(tree))}; serving from the cluster: "
        f"{', '.join(_auto_synced(tree)) or 'none (every environment needs approval)'}"
    )
    return sha


def _remove_applications(cluster: Cluster) -> None:
    """Delete every Application with its resources. Automated sync is switched off first (so neither the
    root recreates children nor a retry starts a new operation), and a sync operation still running (one
    waiting for a Rollout to become healthy) is terminated, as ``argocd app terminate-op`` does: Argo CD
    finishes a deletion only after the operation ends."""
    listed = json.loads(kube.kubectl(cluster, "-n", ARGO_CD_NAMESPACE, "get", "applications", "-o", "json"))
    if not listed["items"]:
        return
    manual = json.dumps({"spec": {"syncPolicy": None}})
    terminate = json.dumps({"status": {"operationState": {"phase": "Terminating"}}})
    for app in listed["items"]:
        name = app["metadata"]["name"]
        kube.kubectl(
            cluster, "-n", ARGO_CD_NAMESPACE, "patch", "application", name, "--type", "merge", "-p", manual
        )
        if ((app.get("status") or {}).get("operationState") or {}).get("phase") == "Running":
            kube.kubectl(
                cluster,
                "-n",
                ARGO_CD_NAMESPACE,
                "patch",
                "application",
                name,
                "--type",
                "merge",
                "-p",
                terminate,
            )
    kube.kubectl(cluster, "-n", ARGO_CD_NAMESPACE, "delete", "applications", "--all", "--timeout=300s")


def bootstrap_argo_cd(cluster: Cluster, repo: Path, state: State) -> None:
    """The repository Secret, then ``environments/bootstrap`` of the seeded repository. On a cluster that
    ran before, the earlier run's Applications go first, with what they deployed (their finalizer
    deletes it): the environments start from the new history, not from Rollouts of the old one."""
    _remove_applications(cluster)
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
