"""20 promotions of different artifacts racing for one environment branch of a real bare remote.

Each is a separate `genaiops promote` process with its own private clone; pushes that lose the race
fetch, re-apply and retry. Nothing may be lost, the history must be linear and valid, and the
environment must still build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from genaiops.lineage import read_lineage
from tests.conftest import TOOLS_BIN
from tests.unit.promote_support import git, make_world

COUNT = 20


def test_twenty_concurrent_promotions_lose_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    artifacts = [
        world.write_artifact("prompt", f"p{i:02d}", f"1.0.{i}", text=f"prompt {i}") for i in range(COUNT)
    ]
    world.write_reports(artifacts)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "genaiops",
                "promote",
                "--env",
                "dev",
                "--repo",
                str(world.repo),
                "--reports",
                str(world.reports),
                "--report",
                str(tmp_path / f"promote-{a.id}.json"),
                "-q",
                str(a.root),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in artifacts
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    failures = [
        (a.id, p.returncode, err)
        for a, p, (_, err) in zip(artifacts, procs, outputs, strict=True)
        if p.returncode != 0
    ]
    assert not failures, failures

    subjects = git(world.remote, "log", "--first-parent", "--format=%s", "main").splitlines()
    assert sorted(s for s in subjects if s.startswith("promote ")) == sorted(
        f"promote prompt/{a.id} 1.0.{i} in dev" for i, a in enumerate(artifacts)
    )
    merges = git(world.remote, "rev-list", "--merges", "main").split()
    assert merges == []  # linear: every promotion is a fast-forward on top of the previous one
    subprocess.run(
        ["git", "-C", str(world.remote), "fsck", "--strict", "--no-dangling"], check=True, capture_output=True
    )

    clone = world.clone_remote(tmp_path / "final")
    names = [
        g["name"]
        for g in yaml.safe_load((clone / "environments/dev/kustomization.yaml").read_text())[
            "configMapGenerator"
        ]
    ]
    assert names == ["genai-settings", *(f"genaiops-prompt-p{i:02d}" for i in range(COUNT))]
    for i, artifact in enumerate(artifacts):
        [entry] = read_lineage(clone, "dev", "prompt", artifact.id)
        assert entry.version == f"1.0.{i}"
        assert (
            clone / f"environments/dev/artifacts/prompt/{artifact.id}/template.j2"
        ).read_text() == f"Answer {{{{ question }}}} (prompt {i})\n"

    kustomize = TOOLS_BIN / "kustomize"
    if kustomize.exists():
        out = subprocess.run(
            [str(kustomize), "build", str(clone / "environments/dev")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        generated = [
            d["metadata"]["name"]
            for d in yaml.safe_load_all(out)
            if d and d["metadata"]["name"].startswith("genaiops-prompt-")
        ]
        assert len(generated) == COUNT
