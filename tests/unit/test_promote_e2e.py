"""The repository's own environments and example artifacts through promote and rollback.

A team repository made of this template's genaiops.yaml, environments/ and example artifacts, with a
local bare remote: one example of each kind it ships is promoted to every environment (pushed, or a
branch + request where approval is required), one is rolled back in the first environment without
approval, and the environments still pass the manifest validation harness (kustomize build +
kubeconform -strict against the pinned schemas). The stage reports are written
here as fixtures (the gate's own behaviour on them is covered by test_promote_gate.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.discovery import discover_all
from genaiops.lineage import read_lineage
from genaiops.manifests.build import find_tool
from genaiops.manifests.harness import run as run_harness
from genaiops.manifests.schemas import default_cache_root, ensure_schemas
from tests.conftest import PRESENT_KINDS, REPO_ROOT
from tests.unit.promote_support import World, git

pytestmark = pytest.mark.tools


def _template_world(tmp: Path) -> World:
    remote, repo, reports = tmp / "gitops.git", tmp / "team", tmp / "reports"
    reports.mkdir()
    settings = yaml.safe_load((REPO_ROOT / "genaiops.yaml").read_text(encoding="utf-8"))
    branch = str((settings.get("repository") or {}).get("branch") or "main")  # the rendered default branch
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(remote)], check=True)
    repo.mkdir()
    for top in ("environments", "artifacts"):
        shutil.copytree(REPO_ROOT / top, repo / top)
    shutil.copy(REPO_ROOT / "genaiops.yaml", repo / "genaiops.yaml")
    git(repo, "init", "-q", "-b", branch)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rendered from the template")
    git(repo, "remote", "add", "origin", remote.as_uri())
    git(repo, "push", "-q", "origin", branch)
    return World(repo, remote, reports)


def test_examples_promote_to_every_environment_and_roll_back(tmp_path: Path, run_cli: Any) -> None:
    world = _template_world(tmp_path)
    settings = yaml.safe_load((world.repo / "genaiops.yaml").read_text(encoding="utf-8"))
    envs = {e["name"]: bool(e.get("approval")) for e in settings["environments"]}
    examples = {}
    for artifact in discover_all(world.repo):
        examples.setdefault(artifact.kind.name, artifact)
    assert set(examples) == set(PRESENT_KINDS)
    if "prompt" in examples:  # a prompt needs the model config it names deployed next to it
        named = yaml.safe_load(examples["prompt"].manifest_path.read_text(encoding="utf-8"))["model_config"]
        examples["model-config"] = world.artifact("model-config", named)
    chosen = list(examples.values())
    versions = {
        a.key: str(yaml.safe_load(a.manifest_path.read_text(encoding="utf-8"))["version"]) for a in chosen
    }
    world.write_reports(chosen, scorecard={"verdict": "pass", "metrics": []})
    for env_name in envs:
        (world.repo / "environments" / env_name / "settings.yaml").write_text(
            f"environment: {env_name}\nthresholds: {{}}\n", encoding="utf-8"
        )

    # down the chain, in order; an approval environment's approval given in the workflow (--approver),
    # so each environment deploys the examples on the branch and the next one may take them
    for env_name, approval in envs.items():
        result = run_cli(
            "promote",
            "--env",
            env_name,
            "--repo",
            str(world.repo),
            "--reports",
            str(world.reports),
            *(("--approver", "release-manager") if approval else ()),
            *(str(a.root) for a in chosen),
        )
        assert result.code == 0, result.stderr
        statuses = {a["details"]["promotion"]["status"] for a in result.report["artifacts"]}
        assert statuses == {"pushed"}

    first = next(iter(envs))  # a newer version there (approved where it needs approval), then rolled back
    approved = ("--approver", "release-manager") if envs[first] else ()
    rolled_back = chosen[0]
    manifest = rolled_back.manifest_path.read_text(encoding="utf-8")
    version = yaml.safe_load(manifest)["version"]
    rolled_back.manifest_path.write_text(manifest.replace(f'"{version}"', '"99.0.0"', 1), encoding="utf-8")
    world.write_reports(chosen, scorecard={"verdict": "pass", "metrics": []})
    assert (
        run_cli(
            "promote",
            "--env",
            first,
            "--repo",
            str(world.repo),
            "--reports",
            str(world.reports),
            *approved,
            str(rolled_back.root),
        ).code
        == 0
    )
    rolled = run_cli(
        "rollback",
        "--env",
        first,
        "--repo",
        str(world.repo),
        f"{rolled_back.kind.name}/{rolled_back.id}",
        *approved,
        report=False,
    )
    assert rolled.code == 0, rolled.stderr
    assert json.loads(rolled.stdout)["to"]["version"] == version

    checkout = world.clone_remote(tmp_path / "checkout")
    assert git(world.remote, "branch", "--list", "promote/*").split() == []  # approved: no requests
    for env in (name for name, approval in envs.items() if approval):
        for a in chosen:
            entry = read_lineage(checkout, env, a.kind.name, a.id)[0]  # the chain's promotion
            assert (entry.version, entry.approver) == (versions[a.key], "release-manager")
    lineage = [e.version for e in read_lineage(checkout, first, rolled_back.kind.name, rolled_back.id)]
    assert lineage == [version, "99.0.0", version]

    result = run_harness(
        checkout,
        find_tool("kustomize", REPO_ROOT),
        find_tool("kubeconform", REPO_ROOT),
        ensure_schemas(default_cache_root(REPO_ROOT)),
        search=["environments"],
    )
    report = result.render()
    assert result.ok and not result.failed_builds and not result.invalid, report
    built = {b.rel for b in result.builds}
    assert {f"environments/{env}" for env in envs} <= built
    promoted = {
        (r.build, r.name.rsplit("-", 1)[0])
        for r in result.resources
        if r.kind == "ConfigMap" and r.name.startswith("genaiops-") and r.status == "valid"
    }
    expected = {(f"environments/{env}", f"genaiops-{a.kind.name}-{a.id}") for env in envs for a in chosen}
    assert promoted == expected, report  # every environment, the approved ones too
