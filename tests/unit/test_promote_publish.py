"""Promotion writes the environment snapshot and lineage, then pushes or opens an approval branch."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.discovery import digest
from genaiops.lineage import baseline_for, read_lineage
from tests.conftest import TOOLS_BIN
from tests.unit.promote_support import World, git, make_world, promote_upstream, remote_file


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _promote(run_cli: Any, world: World, path: Path, env: str, *extra: str) -> Any:
    return run_cli(
        "promote",
        "--env",
        env,
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        "--workflow",
        "prompt-ci-abc12",
        *extra,
        str(path),
    )


def _log(world: World, ref: str = "main") -> list[str]:
    return git(world.remote, "log", "--format=%s", ref).splitlines()


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_direct_environment_gets_a_commit_with_snapshot_configmap_and_lineage(
    world: World, run_cli: Any, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAIOPS_IMAGE_DIGEST", "sha256:" + "a" * 64)
    artifact = world.write_artifact("prompt", "greeter", "1.2.0")
    world.write_reports([artifact])
    source = world.commit_source()
    promote_upstream(run_cli, world, env, artifact.root)
    result = _promote(run_cli, world, artifact.root, env)
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "pushed"
    assert _log(world)[0] == f"promote prompt/greeter 1.2.0 in {env}"
    assert git(world.remote, "rev-parse", "main").strip() == promotion["commit"]

    kustomization = remote_file(world, "main", f"environments/{env}/kustomization.yaml")
    assert (
        "# Environment" in kustomization and "# the environment's settings" in kustomization
    )  # comments kept
    generators = yaml.safe_load(kustomization)["configMapGenerator"]
    assert [g["name"] for g in generators] == ["genai-settings", "genaiops-prompt-greeter"]
    entry = generators[1]
    # the template is served; the eval dataset is not deployed
    assert entry["files"] == [
        "prompt.yaml=artifacts/prompt/greeter/prompt.yaml",
        "template.j2=artifacts/prompt/greeter/template.j2",
    ]
    assert entry["options"]["labels"]["genaiops.dev/version"] == "1.2.0"
    assert entry["options"]["annotations"]["genaiops.dev/digest"] == digest(artifact)
    copied = remote_file(world, "main", f"environments/{env}/artifacts/prompt/greeter/template.j2")
    assert copied == (artifact.root / "template.j2").read_text(encoding="utf-8")

    clone = world.clone_remote(world.repo.parent / "check")
    [record] = read_lineage(clone, env, "prompt", "greeter")
    assert (record.version, record.digest, record.source_commit) == ("1.2.0", digest(artifact), source)
    assert record.workflow == "prompt-ci-abc12" and record.pipeline_image_digest == "sha256:" + "a" * 64
    assert record.eval_dataset_digest == "sha256:" + "d" * 64
    assert (
        record.snapshot_tree
        == git(clone, "rev-parse", f"HEAD:environments/{env}/artifacts/prompt/greeter").strip()
    )
    baseline = baseline_for(env, "prompt", "greeter", repo=clone)
    assert baseline is not None and baseline["metrics"][0]["value"] == 0.9
    assert baseline["baselineOf"]["version"] == "1.2.0"
    assert baseline_for("prod", "prompt", "greeter", repo=clone) is None


def test_promoting_what_is_deployed_changes_nothing(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("guardrail", "pii", "1.0.0")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    head = git(world.remote, "rev-parse", "main").strip()
    again = _promote(run_cli, world, artifact.root, "dev")
    assert again.code == 0
    assert again.report["artifacts"][0]["details"]["promotion"]["status"] == "unchanged"
    assert git(world.remote, "rev-parse", "main").strip() == head


def test_new_version_replaces_the_snapshot_and_appends_lineage(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0", text="first")
    (artifact.root / "extra.txt").write_text("only in v1\n", encoding="utf-8")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    (artifact.root / "extra.txt").unlink()
    world.write_artifact("prompt", "greeter", "1.1.0", text="second")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    files = git(
        world.remote, "ls-tree", "-r", "--name-only", "main", "environments/dev/artifacts/prompt/greeter"
    )
    assert "extra.txt" not in files  # the folder is replaced, not merged
    clone = world.clone_remote(world.repo.parent / "check")
    assert [e.version for e in read_lineage(clone, "dev", "prompt", "greeter")] == ["1.0.0", "1.1.0"]
    entries = yaml.safe_load((clone / "environments/dev/kustomization.yaml").read_text())[
        "configMapGenerator"
    ]
    assert len(entries) == 2 and entries[1]["options"]["labels"]["genaiops.dev/version"] == "1.1.0"


def test_approval_environment_gets_a_branch_and_a_request_not_a_push(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("model-config", "chat", "3.1.0")
    world.write_reports([artifact])
    promote_upstream(run_cli, world, "prod", artifact.root)
    main_before = git(world.remote, "rev-parse", "main").strip()
    result = _promote(run_cli, world, artifact.root, "prod")
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "requested"
    assert promotion["branch"] == "promote/prod/model-config-chat-3.1.0"
    assert git(world.remote, "rev-parse", "main").strip() == main_before  # main untouched
    assert git(world.remote, "rev-parse", f"{promotion['branch']}^").strip() == main_before  # starts at main
    assert _log(world, promotion["branch"])[0] == "promote model-config/chat 3.1.0 in prod"
    request = Path(promotion["request"]).read_text(encoding="utf-8")
    assert request.startswith("# Promote model-config/chat 3.1.0 to prod")
    assert "| exact_match | 0.9 | 0.85 | 0.05 |" in request and ">= 0.5" in request
    assert digest(artifact) in request
    lineage = remote_file(world, promotion["branch"], "environments/prod/lineage/model-config/chat.yaml")
    assert yaml.safe_load(lineage)["entries"][0]["approver"] is None  # nobody approved yet: the request asks

    again = _promote(run_cli, world, artifact.root, "prod")  # the request exists already: nothing new
    assert again.report["artifacts"][0]["details"]["promotion"]["status"] == "unchanged"
    assert len(_log(world, promotion["branch"])) == len(_log(world)) + 1

    git(world.remote, "update-ref", "refs/heads/main", promotion["commit"])  # the reviewer merges
    merged = _promote(run_cli, world, artifact.root, "prod")
    assert merged.report["artifacts"][0]["details"]["promotion"]["status"] == "unchanged"
    assert git(world.remote, "rev-parse", "main").strip() == promotion["commit"]


def test_an_approval_given_in_the_workflow_is_pushed_directly_and_recorded(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    """The workflow's approval step is the one human approval: no merge request waits for a second."""
    artifact = world.write_artifact("model-config", "chat", "3.2.0")
    world.write_reports([artifact])
    promote_upstream(run_cli, world, "prod", artifact.root)
    status = tmp_path / "out" / "promotion-status"
    result = _promote(
        run_cli,
        world,
        artifact.root,
        "prod",
        "--approver",
        "approved in prompt-cd-v1-x",
        "--status-file",
        str(status),
    )
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "pushed" and promotion["branch"] == "main"
    assert _log(world)[0] == "promote model-config/chat 3.2.0 in prod"
    lineage = remote_file(world, "main", "environments/prod/lineage/model-config/chat.yaml")
    assert yaml.safe_load(lineage)["entries"][-1]["approver"] == "approved in prompt-cd-v1-x"
    assert status.read_text(encoding="utf-8") == "pushed\n"  # what the CD workflow's watch keys off


def test_several_kinds_in_one_run_and_git_history_is_clean(world: World, run_cli: Any) -> None:
    artifacts = [
        world.write_artifact(kind, f"{kind}-one", "0.1.0")
        for kind in ("prompt", "model-config", "rag", "guardrail")
    ]
    world.write_reports(artifacts)
    promote_upstream(run_cli, world, "staging", world.repo / "artifacts")
    result = run_cli(
        "promote",
        "--env",
        "staging",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(world.repo / "artifacts"),
    )
    assert result.code == 0, result.stderr
    assert sorted(_log(world)[:4]) == sorted(
        f"promote {a.kind.name}/{a.id} 0.1.0 in staging" for a in artifacts
    )
    subprocess.run(["git", "-C", str(world.remote), "fsck", "--strict"], check=True, capture_output=True)


@pytest.mark.tools
def test_environment_still_builds_with_kustomize(world: World, run_cli: Any) -> None:
    kustomize = TOOLS_BIN / "kustomize"
    if not kustomize.exists():
        pytest.fail(f"{kustomize} is missing: run scripts/install-tools.sh")
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    clone = world.clone_remote(world.repo.parent / "built")
    out = subprocess.run(
        [str(kustomize), "build", str(clone / "environments/dev")], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    [cm] = [d for d in docs if d["metadata"]["name"].startswith("genaiops-prompt-greeter-")]
    assert len(cm["metadata"]["name"]) > len("genaiops-prompt-greeter-")  # kustomize's content hash suffix
    assert cm["metadata"]["labels"]["genaiops.dev/id"] == "greeter"
    assert cm["data"]["template.j2"] == (artifact.root / "template.j2").read_text(encoding="utf-8")
    assert "dataset.jsonl" not in cm["data"]


def test_a_refusing_remote_is_an_infra_error_not_an_endless_retry(world: World, run_cli: Any) -> None:
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch protected by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    head = git(world.remote, "rev-parse", "main").strip()
    result = _promote(run_cli, world, artifact.root, "dev")
    assert result.code == 3
    infra = result.report["artifacts"][0]["infraError"]
    assert "branch protected by policy" in infra
    assert git(world.remote, "rev-parse", "main").strip() == head


def test_credentials_in_the_remote_url_never_reach_messages() -> None:
    from genaiops.errors import InfraError
    from genaiops.gitops import private_clone, redact

    assert redact("push to https://bot:s3cret@git.example.com/x.git failed") == (
        "push to https://***@git.example.com/x.git failed"
    )
    with pytest.raises(InfraError) as caught, private_clone("http://bot:s3cret@127.0.0.1:9/x.git", "main"):
        pass
    assert "s3cret" not in caught.value.message and "***@127.0.0.1:9" in caught.value.message


def test_commit_identity_comes_from_git_else_a_default(
    world: World, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    assert (
        git(world.remote, "log", "-1", "--format=%an <%ae>", "main").strip()
        == "genaiops <genaiops@localhost>"
    )
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Release Bot\n\temail = bot@example.org\n", encoding="utf-8"
    )
    assert _promote(run_cli, world, artifact.root, "staging").code == 0
    assert (
        git(world.remote, "log", "-1", "--format=%an <%ae>", "main").strip()
        == "Release Bot <bot@example.org>"
    )


def test_push_credentials_come_from_the_environment_and_are_written_nowhere(tmp_path: Path) -> None:
    """In a pipeline step the git token arrives as GENAIOPS_GIT_USERNAME/PASSWORD (from a Secret): git's
    credential prompt is answered from them, after any GIT_CONFIG_* the image already sets, and only for
    the GitOps remote's host: a redirect or submodule URL on another host gets no token."""
    import os

    from genaiops.gitops import credential_env

    remote = "https://git.example.com:8443/team/gitops.git"
    assert credential_env({}, remote) == {}
    environ = {
        "GENAIOPS_GIT_USERNAME": "bot",
        "GENAIOPS_GIT_PASSWORD": "s3cr3t",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "*",
    }
    assert credential_env(environ, "/srv/git/gitops.git") == {}, "no helper for a local path"
    assert credential_env(environ, None) == {}
    extra = credential_env(environ, remote)
    assert extra["GIT_CONFIG_COUNT"] == "2"
    assert extra["GIT_CONFIG_KEY_1"] == "credential.https://git.example.com:8443.helper"
    assert "s3cr3t" not in extra["GIT_CONFIG_VALUE_1"], "the helper reads the variable, it holds no secret"

    def fill(protocol: str, host: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "credential", "fill"],
            input=f"protocol={protocol}\nhost={host}\n\n",
            capture_output=True,
            text=True,
            env={**os.environ, **environ, **extra, "GIT_TERMINAL_PROMPT": "0", "HOME": str(tmp_path)},
            check=False,
        )

    proc = fill("https", "git.example.com:8443")
    assert proc.returncode == 0 and "username=bot" in proc.stdout and "password=s3cr3t" in proc.stdout
    for protocol, host in [
        ("https", "evil.example.org"),
        ("http", "git.example.com:8443"),
        ("https", "git.example.com"),
    ]:
        other = fill(protocol, host)
        assert "s3cr3t" not in other.stdout, (protocol, host)
        assert other.returncode != 0  # no helper answered and prompts are off


def test_the_publishing_clone_checks_out_only_the_environments_and_keeps_the_rest(
    world: World, run_cli: Any
) -> None:
    """The GitOps repository is the team's monorepo: the private clone checks out (and indexes) only
    environments/, so a promotion's cost does not grow with the artifacts beside it, while the commit it
    pushes still carries every other file unchanged."""
    from genaiops.gitops import private_clone

    (world.repo / "artifacts/prompts/other").mkdir(parents=True)
    (world.repo / "artifacts/prompts/other/prompt.yaml").write_text("id: other\n", encoding="utf-8")
    git(world.repo, "add", "-A")
    git(world.repo, "commit", "-q", "-m", "an artifact beside the environments")
    git(world.repo, "push", "-q", "origin", "main")
    with private_clone(str(world.remote), "main", checkout=["environments"]) as clone:
        assert (clone / "environments/dev/kustomization.yaml").is_file()
        assert (clone / "genaiops.yaml").is_file(), "top-level files come with a cone checkout"
        assert not (clone / "artifacts").exists()
        indexed = git(clone, "ls-files", "--sparse").splitlines()
        assert "artifacts/" in indexed and not any(p.startswith("artifacts/prompts") for p in indexed)
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    assert _promote(run_cli, world, artifact.root, "dev").code == 0
    assert remote_file(world, "main", "artifacts/prompts/other/prompt.yaml") == "id: other\n"
    changed = git(world.remote, "diff", "--name-only", "main~1", "main").split()
    assert changed and all(p.startswith("environments/dev/") for p in changed)


def test_a_lost_race_is_told_from_the_push_status_without_asking_the_remote(tmp_path: Path) -> None:
    """git's porcelain push status says when another push won; only an unexplained refusal costs a
    round trip to the remote (which, unreachable here, makes it not a lost race)."""
    from genaiops.gitops import GitError, _head_moved

    clone = tmp_path / "clone"
    git_init = subprocess.run(["git", "init", "-q", str(clone)], check=False)
    assert git_init.returncode == 0
    lost = "To /srv/gitops.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone"
    assert _head_moved(clone, "main", GitError(("push", "origin"), lost))
    locked = "! [remote rejected] HEAD -> main (cannot lock ref 'refs/heads/main')"
    assert _head_moved(clone, "main", GitError(("push", "origin"), locked))
    hook = "! [remote rejected] HEAD -> main (pre-receive hook declined)"
    assert not _head_moved(clone, "main", GitError(("push", "origin"), hook))
