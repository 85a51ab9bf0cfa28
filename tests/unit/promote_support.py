"""Builders for the promotion tests: a team repository with environments, a bare GitOps remote, reports."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genaiops.discovery import Artifact, digest
from genaiops.kinds import BY_NAME
from genaiops.promote.gate import ENVIRONMENT_BOUND
from genaiops.report import ArtifactResult, Report, write_report

ENVIRONMENTS: tuple[str | None, ...] = ("dev", "staging", "prod")
"""make_world's environments (a repository without genaiops.yaml environments gets reports for these)."""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "genaiops tests",
    "GIT_AUTHOR_EMAIL": "tests@genaiops.invalid",
    "GIT_COMMITTER_NAME": "genaiops tests",
    "GIT_COMMITTER_EMAIL": "tests@genaiops.invalid",
}

SETTINGS = """\
project: demo
repository:
  url: "{remote}"
  branch: main
environments:
  - name: dev
    approval: false
  - name: staging
    approval: false
  - name: prod
    approval: true
"""

ENV_KUSTOMIZATION = """\
# Environment `{env}`: team comments must survive promotions.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: demo-{env}
resources:
  - ../base
configMapGenerator:
  # the environment's settings
  - name: genai-settings
    files:
      - settings.yaml
"""

ENV_SETTINGS = """\
environment: {env}
approval: {approval}
thresholds:
  exact_match: 0.5
  prompt:
    latency_ms: {{max: 2000}}
"""

BASE_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - serving.yaml
"""

BASE_SERVING = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: serving-config
data:
  mode: reference
"""

MANIFESTS = {
    "prompt": 'id: {id}\nversion: "{version}"\ndescription: "{text}"\ntemplate: template.j2\n',
    "model-config": 'id: {id}\nversion: "{version}"\nprovider: openai\nmodel_name: gpt-4o-mini\n',
    "rag": 'id: {id}\nversion: "{version}"\nembedding: {{model: genaiops/hash-embedding-256}}\n'
    "chunking: {{size: 512, overlap: 64}}\nretrieval: {{top_k: 5}}\n"
    "vector_store: {{kind: qdrant, url: embedded, collection: {id}-v1, alias: {id}}}\n",
    "guardrail": 'id: {id}\nversion: "{version}"\nrules: []\n',
}


def git(repo: Path, *args: str) -> str:
    """Run git with a fixed identity; raise with git's stderr on failure."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout


@dataclass
class World:
    """A team checkout ``repo`` whose origin is the bare GitOps remote ``remote``; reports in ``reports``."""

    repo: Path
    remote: Path
    reports: Path

    def artifact(self, kind: str, artifact_id: str) -> Artifact:
        return Artifact(BY_NAME[kind], artifact_id, self.repo)

    def write_artifact(self, kind: str, artifact_id: str, version: str, text: str = "hello") -> Artifact:
        artifact = self.artifact(kind, artifact_id)
        artifact.root.mkdir(parents=True, exist_ok=True)
        artifact.manifest_path.write_text(
            MANIFESTS[kind].format(id=artifact_id, version=version, text=text), encoding="utf-8"
        )
        if kind == "prompt":
            (artifact.root / "template.j2").write_text(
                f"Answer {{{{ question }}}} ({text})\n", encoding="utf-8"
            )
            (artifact.root / "eval").mkdir(exist_ok=True)
            (artifact.root / "eval" / "dataset.jsonl").write_text(
                '{"question": "q", "answer": "a"}\n', encoding="utf-8"
            )
        return artifact

    def write_reports(
        self,
        artifacts: list[Artifact],
        *,
        statuses: dict[str, str] | None = None,
        scorecard: dict[str, Any] | None = None,
        digest_override: str | None = None,
        stages: tuple[str, ...] = ("lint", "validate", "eval"),
        suffix: str = "",
        with_scorecard: bool = True,
        envs: tuple[str | None, ...] | None = None,
    ) -> None:
        """Reports as the stages write them, for the artifacts' current digests: lint once, validate and
        eval once per environment of ``envs`` (as run with ``--env``; None: without one), by default
        every environment of the repository's genaiops.yaml."""
        statuses = statuses or {}
        if envs is None:
            envs = self.environments()
        for stage in stages:
            for env in envs if stage in ENVIRONMENT_BOUND else (None,):
                report = Report(stage=stage)
                if env is not None:
                    report.context["env"] = env
                for artifact in artifacts:
                    result = ArtifactResult(
                        kind=artifact.kind.name,
                        id=artifact.id,
                        path=artifact.relpath,
                        digest=digest_override or digest(artifact),
                    )
                    if statuses.get(stage) == "fail":
                        result.add(f"{artifact.kind.name}/broken", "deliberately failing")
                    if stage == "eval" and with_scorecard:
                        result.details["scorecard"] = (
                            scorecard if scorecard is not None else default_scorecard(artifact)
                        )
                    report.artifacts.append(result)
                where = f"-{env or 'none'}" if stage in ENVIRONMENT_BOUND else ""
                write_report(report, self.reports / f"{stage}-report{suffix}{where}.json")

    def environments(self) -> tuple[str | None, ...]:
        """The environment names of the repository's genaiops.yaml (make_world's when it has none)."""
        try:
            settings = yaml.safe_load((self.repo / "genaiops.yaml").read_text(encoding="utf-8"))
            return tuple(str(e["name"]) for e in settings["environments"]) or ENVIRONMENTS
        except (OSError, KeyError, TypeError, yaml.YAMLError):
            return ENVIRONMENTS

    def commit_source(self, message: str = "artifacts") -> str:
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.repo, "rev-parse", "HEAD").strip()

    def clone_remote(self, dest: Path) -> Path:
        git(dest.parent, "clone", "-q", str(self.remote), str(dest))
        return dest


def default_scorecard(artifact: Artifact) -> dict[str, Any]:
    return {
        "kind": artifact.kind.name,
        "id": artifact.id,
        "verdict": "pass",
        "metrics": [
            {
                "name": "exact_match",
                "value": 0.9,
                "baseline": 0.85,
                "delta": 0.05,
                "ci": [0.01, 0.09],
                "verdict": "pass",
            },
            {"name": "latency_ms", "value": 800.0, "verdict": "pass"},
        ],
        "provenance": {"datasetDigest": "sha256:" + "d" * 64},
    }


def make_world(tmp: Path) -> World:
    """A team repository with dev, staging and prod (approval) environments, pushed to a bare remote."""
    remote = tmp / "gitops.git"
    repo = tmp / "team"
    reports = tmp / "reports"
    reports.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "genaiops.yaml").write_text(SETTINGS.format(remote=remote.as_uri()), encoding="utf-8")
    base = repo / "environments" / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text(BASE_KUSTOMIZATION, encoding="utf-8")
    (base / "serving.yaml").write_text(BASE_SERVING, encoding="utf-8")
    for env, approval in (("dev", "false"), ("staging", "false"), ("prod", "true")):
        folder = repo / "environments" / env
        folder.mkdir()
        (folder / "kustomization.yaml").write_text(ENV_KUSTOMIZATION.format(env=env), encoding="utf-8")
        (folder / "settings.yaml").write_text(
            ENV_SETTINGS.format(env=env, approval=approval), encoding="utf-8"
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "environments")
    git(repo, "remote", "add", "origin", remote.as_uri())
    git(repo, "push", "-q", "origin", "main")
    return World(repo, remote, reports)


def promote_upstream(run_cli: Any, world: World, env: str, *paths: str | Path) -> None:
    """Promote ``paths`` (reports in ``world.reports``) to every environment before ``env`` in the chain,
    as the order rule requires before ``env`` accepts them (recorded approver: ``upstream``)."""
    chain = [name for name in world.environments() if name]
    for earlier in chain[: chain.index(env)]:
        result = run_cli(
            "promote",
            "--env",
            earlier,
            "--repo",
            str(world.repo),
            "--reports",
            str(world.reports),
            "--approver",
            "upstream",
            *(str(p) for p in paths),
        )
        assert result.code == 0, result.stderr


def remote_file(world: World, ref: str, path: str) -> str:
    """A file's content on the remote at ``ref``."""
    return git(world.remote, "show", f"{ref}:{path}")


def promote_cli(run_cli: Any, world: World, env: str, path: Path, *extra: str) -> Any:
    """`genaiops promote --env ENV` of ``path`` with the world's reports (and ``extra`` options)."""
    return run_cli(
        "promote", "--env", env, "--repo", str(world.repo), "--reports", str(world.reports), *extra, str(path)
    )


def deployed_in_dev(run_cli: Any, world: World, artifact_id: str = "greeter", text: str = "") -> Artifact:
    """A prompt at 1.0.0, checked and promoted to dev."""
    artifact = world.write_artifact("prompt", artifact_id, "1.0.0", **({"text": text} if text else {}))
    world.write_reports([artifact])
    result = promote_cli(run_cli, world, "dev", artifact.root)
    assert result.code == 0, result.stderr
    return artifact
