"""Retirement: a deleted artifact leaves the environments that deploy it, through the promotion mechanism."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from genaiops.lineage import baseline_for, current, read_lineage
from genaiops.project import Project
from genaiops.promote.active import active_settings, served_by
from genaiops.promote.retire import retirement_refs
from genaiops.promote.run import run_status
from genaiops.report import ArtifactResult
from genaiops.stages.runner import StageContext
from tests.conftest import REPO_ROOT, TOOLS_BIN
from tests.unit.promote_support import World, git, make_world, remote_file

SCHEMA = json.loads((REPO_ROOT / "scripts/genaiops/schemas/report.schema.json").read_text(encoding="utf-8"))
GATEWAY = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: genai-gateway
spec:
  template:
    spec:
      containers:
        - name: serve
          image: genaiops
          args: [serve, --port=8080]
          env:
            - name: GENAIOPS_SERVE_PROMPT
              value: greeter
            - name: GENAIOPS_ARTIFACTS_DIR
              value: /etc/genai/artifacts
"""

POINT_ELSEWHERE = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: genai-gateway
spec:
  template:
    spec:
      containers:
        - name: serve
          env:
            - name: GENAIOPS_SERVE_PROMPT
              value: welcomer
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _promote(run_cli: Any, world: World, env: str, *args: str) -> Any:
    return run_cli("promote", "--env", env, "--repo", str(world.repo), "--workflow", "prompt-cd-42", *args)


def _deploy(run_cli: Any, world: World, kind: str, artifact_id: str, *envs: str) -> Path:
    artifact = world.write_artifact(kind, artifact_id, "1.0.0")
    world.write_reports([artifact])
    for env in envs:
        extra = ("--approver", "alice") if env == "prod" else ()
        result = _promote(run_cli, world, env, "--reports", str(world.reports), *extra, str(artifact.root))
        assert result.code == 0, result.stderr
    return artifact.root


def _head(world: World, ref: str = "main") -> str:
    return git(world.remote, "rev-parse", ref).strip()


def _retirement(result: Any, artifact_id: str) -> dict[str, Any]:
    [entry] = [a for a in result.report["artifacts"] if a["id"] == artifact_id]
    return dict(entry["details"]["retirement"])


def _tree(world: World, ref: str, path: str) -> list[str]:
    return git(world.remote, "ls-tree", "-r", "--name-only", ref, path).splitlines()


def test_a_deleted_artifact_is_retired_in_one_commit_with_trailers(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev")
    _deploy(run_cli, world, "model-config", "chat", "dev")
    before_delete = world.commit_source("two artifacts")
    shutil.rmtree(greeter)
    deletion = world.commit_source("delete prompt/greeter")
    head = _head(world)
    status = tmp_path / "out" / "promotion-status"

    result = _promote(run_cli, world, "dev", "--changed-since", before_delete, "--status-file", str(status))

    assert result.code == 0, result.stderr
    jsonschema.validate(result.report, SCHEMA)
    assert result.report["context"]["deleted"][0]["id"] == "greeter"
    retirement = _retirement(result, "greeter")
    assert retirement["status"] == "retired" and retirement["version"] == "1.0.0"
    assert status.read_text(encoding="utf-8") == "retired\n"
    assert git(world.remote, "rev-list", "--count", f"{head}..main").strip() == "1"  # one commit
    assert _head(world) == retirement["commit"] and git(world.remote, "rev-parse", "main^").strip() == head
    message = git(world.remote, "log", "-1", "--format=%B", "main")
    assert message.startswith("retire prompt/greeter 1.0.0 from dev\n")
    trailers = message.splitlines()
    for trailer in (
        "Genaiops-Action: retire",
        "Genaiops-Artifact: prompt/greeter",
        "Genaiops-Version: 1.0.0",
        "Genaiops-Workflow: prompt-cd-42",
        f"Genaiops-Source-Commit: {deletion}",
    ):
        assert trailer in trailers, message

    kustomization = remote_file(world, "main", "environments/dev/kustomization.yaml")
    assert "# the environment's settings" in kustomization  # the team's comments stay
    names = [g["name"] for g in yaml.safe_load(kustomization)["configMapGenerator"]]
    assert names == ["genai-settings", "genaiops-model-config-chat"]
    assert _tree(world, "main", "environments/dev/artifacts/prompt") == []
    assert _tree(world, "main", "environments/dev/artifacts/model-config/chat") != []

    clone = world.clone_remote(tmp_path / "check")
    entries = read_lineage(clone, "dev", "prompt", "greeter")
    assert [e.action for e in entries] == ["promote", "retire"]  # the history stays
    retired = entries[-1]
    assert (retired.version, retired.digest, retired.snapshot_tree) == (
        entries[0].version,
        entries[0].digest,
        entries[0].snapshot_tree,
    )  # names exactly what was removed
    assert (retired.source_commit, retired.workflow, retired.approver) == (deletion, "prompt-cd-42", None)
    assert retired.scorecard is None and retired.time
    assert current(clone, "dev", "prompt", "greeter") is None
    assert baseline_for("dev", "prompt", "greeter", repo=clone) is None

    again = _promote(run_cli, world, "dev", "--changed-since", before_delete)
    assert again.code == 0 and _retirement(again, "greeter")["status"] == "unchanged"
    assert _head(world) == retirement["commit"]  # nothing new
    assert "nothing to retire" in again.stderr

    rollback = run_cli("rollback", "--env", "dev", "--repo", str(world.repo), "prompt/greeter", report=False)
    assert rollback.code == 2 and "was retired" in rollback.stderr


def test_an_approval_environment_gets_a_retirement_branch_and_request(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev", "staging", "prod")
    shutil.rmtree(greeter)
    main_before = _head(world)
    requests = tmp_path / "requests"

    result = _promote(run_cli, world, "prod", "--retire", "prompt/greeter", "--request-dir", str(requests))

    assert result.code == 0, result.stderr
    retirement = _retirement(result, "greeter")
    assert retirement["status"] == "requested"
    assert retirement["branch"] == "retire/prod/prompt-greeter-1.0.0"
    assert _head(world) == main_before  # prod's branch untouched
    assert git(world.remote, "rev-parse", f"{retirement['branch']}^").strip() == main_before
    assert git(world.remote, "log", "-1", "--format=%s", retirement["branch"]).strip() == (
        "retire prompt/greeter 1.0.0 from prod"
    )
    assert _tree(world, retirement["branch"], "environments/prod/artifacts/prompt") == []
    request = Path(retirement["request"])
    assert request == requests / "retire-request-prod-prompt-greeter.md"
    text = request.read_text(encoding="utf-8")
    assert text.startswith("# Retire prompt/greeter 1.0.0 from prod")
    assert "`retire/prod/prompt-greeter-1.0.0`" in text and retirement["digest"] in text
    lineage = yaml.safe_load(
        remote_file(world, retirement["branch"], "environments/prod/lineage/prompt/greeter.yaml")
    )
    assert [e["action"] for e in lineage["entries"]] == ["promote", "retire"]
    assert lineage["entries"][-1]["approver"] is None  # nobody approved yet: the request asks

    pending = _promote(run_cli, world, "prod", "--retire", "prompt/greeter", "--request-dir", str(requests))
    assert _retirement(pending, "greeter")["status"] == "unchanged"
    assert "waits for approval" in pending.stderr

    git(world.remote, "update-ref", "refs/heads/main", retirement["commit"])  # the reviewer merges
    merged = _promote(run_cli, world, "prod", "--retire", "prompt/greeter")
    assert _retirement(merged, "greeter")["status"] == "unchanged"
    assert _head(world) == retirement["commit"]


def test_an_approver_given_in_the_workflow_retires_directly(world: World, run_cli: Any) -> None:
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev", "staging", "prod")
    shutil.rmtree(greeter)
    result = _promote(run_cli, world, "prod", "--retire", "prompt/greeter", "--approver", "bob")
    assert result.code == 0, result.stderr
    retirement = _retirement(result, "greeter")
    assert retirement["status"] == "retired" and retirement["branch"] == "main"
    assert "Genaiops-Approver: bob" in git(world.remote, "log", "-1", "--format=%B", "main")
    lineage = yaml.safe_load(remote_file(world, "main", "environments/prod/lineage/prompt/greeter.yaml"))
    assert lineage["entries"][-1] == {**lineage["entries"][-1], "action": "retire", "approver": "bob"}


def test_an_artifact_the_environment_does_not_deploy_is_nothing_to_retire(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev")
    before_delete = world.commit_source("greeter")
    shutil.rmtree(greeter)
    world.commit_source("delete greeter")
    head = _head(world)
    status = tmp_path / "status"

    staging = _promote(
        run_cli, world, "staging", "--changed-since", before_delete, "--status-file", str(status)
    )
    never = _promote(run_cli, world, "dev", "--retire", "guardrail/never-promoted")

    for result, artifact_id, env in ((staging, "greeter", "staging"), (never, "never-promoted", "dev")):
        assert result.code == 0, result.stderr
        entry = next(a for a in result.report["artifacts"] if a["id"] == artifact_id)
        assert entry["status"] == "pass" and entry["details"]["retirement"]["status"] == "unchanged"
        assert entry["findings"][0]["message"].startswith(f"not deployed in {env}")
    assert status.read_text(encoding="utf-8") == "unchanged\n"
    assert _head(world) == head  # nothing pushed
    assert _tree(world, "main", "environments/dev/artifacts/prompt/greeter") != []  # dev keeps it


def test_retiring_what_a_workload_serves_is_refused(world: World, run_cli: Any, tmp_path: Path) -> None:
    base = world.repo / "environments" / "base"
    (base / "serving-gateway.yaml").write_text(GATEWAY, encoding="utf-8")
    (base / "kustomization.yaml").write_text(
        (base / "kustomization.yaml").read_text(encoding="utf-8") + "  - serving-gateway.yaml\n",
        encoding="utf-8",
    )
    world.commit_source("serve prompt/greeter")
    git(world.repo, "push", "-q", "origin", "main")
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev")
    shutil.rmtree(greeter)
    head = _head(world)
    status = tmp_path / "status"

    refused = _promote(run_cli, world, "dev", "--retire", "prompt/greeter", "--status-file", str(status))

    assert refused.code == 1
    jsonschema.validate(refused.report, SCHEMA)
    entry = refused.report["artifacts"][0]
    assert entry["status"] == "fail" and entry["details"]["retirement"]["status"] == "refused"
    [finding] = [f for f in entry["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "promote/retire-served"
    assert (
        "Rollout/genai-gateway" in finding["message"]
        and "GENAIOPS_SERVE_PROMPT=greeter" in finding["message"]
    )
    assert finding["file"] == "environments/base/serving-gateway.yaml"
    assert "Point Rollout/genai-gateway at another prompt first" in finding["hint"]
    assert entry["details"]["retirement"]["servedBy"][0]["workload"] == "Rollout/genai-gateway"
    assert _head(world) == head and not status.exists()  # nothing pushed, no status

    # The environment points the gateway at another prompt (a patch in its overlay): now it can go.
    clone = world.clone_remote(tmp_path / "edit")
    (clone / "environments/dev/gateway-prompt.yaml").write_text(POINT_ELSEWHERE, encoding="utf-8")
    with (clone / "environments/dev/kustomization.yaml").open("a", encoding="utf-8") as handle:
        handle.write("patches:\n  - path: gateway-prompt.yaml\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "dev serves prompt/welcomer")
    git(clone, "push", "-q", "origin", "HEAD:main")
    retired = _promote(run_cli, world, "dev", "--retire", "prompt/greeter")
    assert retired.code == 0, retired.stderr
    assert _retirement(retired, "greeter")["status"] == "retired"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("widget/x", "is not KIND/ID"),
        ("prompt/Not_A_Label", "is not KIND/ID"),
        ("nonsense", "is not KIND/ID"),
        ("prompt/greeter", "still exists"),
    ],
)
def test_garbage_retire_input_is_a_usage_error_with_a_report(
    world: World, run_cli: Any, ref: str, message: str
) -> None:
    greeter = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([greeter])
    head = _head(world)
    # a promotion in the same run is not published either: the retirements are checked first
    result = _promote(
        run_cli, world, "dev", "--reports", str(world.reports), str(greeter.root), "--retire", ref
    )
    assert result.code == 2
    assert result.report is not None and result.report["exitCode"] == 2
    [finding] = result.report["findings"]
    assert finding["ruleId"] == "core/usage" and message in finding["message"]
    assert _head(world) == head


def test_retire_needs_a_known_environment(world: World, run_cli: Any) -> None:
    missing_env = run_cli("promote", "--repo", str(world.repo), "--retire", "prompt/greeter")
    assert missing_env.code == 2 and missing_env.report["findings"][0]["ruleId"] == "core/usage"
    unknown_env = _promote(run_cli, world, "qa", "--retire", "prompt/greeter")
    assert unknown_env.code == 2 and "unknown environment" in unknown_env.report["findings"][0]["message"]


def test_what_to_retire_is_deduplicated_and_kept_to_the_kind_option(tmp_path: Path) -> None:
    deleted = [
        {"kind": "prompt", "id": "greeter", "path": "artifacts/prompts/greeter"},
        {"kind": "guardrail", "id": "pii", "path": "artifacts/guardrails/pii"},
    ]
    ctx = StageContext(Project(tmp_path), "promote", {"retire": ["prompt/greeter", "prompt/old"]})
    assert retirement_refs(ctx, deleted) == [("prompt", "greeter"), ("guardrail", "pii"), ("prompt", "old")]
    ctx.options["kind"] = ["guardrail"]
    assert retirement_refs(ctx, deleted) == [("guardrail", "pii")]


def test_the_status_file_holds_the_most_consequential_outcome() -> None:
    def result(key: str, status: str) -> ArtifactResult:
        item = ArtifactResult(kind="prompt", id="x", path="artifacts/prompts/x")
        item.details[key] = {"status": status}
        return item

    assert run_status([result("retirement", "retired"), result("promotion", "pushed")]) == "pushed"
    assert run_status([result("promotion", "unchanged"), result("retirement", "retired")]) == "retired"
    assert run_status([result("retirement", "refused"), result("promotion", "requested")]) == "requested"
    assert run_status([result("retirement", "refused")]) is None


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_active_settings_follow_the_overlay_like_kustomize(tmp_path: Path) -> None:
    """Resources first, then patches: a strategic-merge patch (file or inline) overrides by name, args are
    replaced, a JSON 6902 patch's value counts in addition, and a remote base is not read."""
    _write(tmp_path, "environments/base/kustomization.yaml", "resources: [gateway.yaml, model.yaml]\n")
    _write(tmp_path, "environments/base/gateway.yaml", GATEWAY)
    _write(
        tmp_path,
        "environments/base/model.yaml",
        GATEWAY.replace("genai-gateway", "genai-model")
        .replace("args: [serve, --port=8080]", "args: [serve, --model-config, chat-v1]")
        .replace("GENAIOPS_SERVE_PROMPT", "GENAIOPS_SERVE_GUARDRAIL"),
    )
    _write(tmp_path, "environments/dev/patch.yaml", POINT_ELSEWHERE)
    _write(
        tmp_path,
        "environments/dev/kustomization.yaml",
        """\
resources: [../base, https://github.com/example/remote//base]
patches:
  - path: patch.yaml
  - patch: |-
      apiVersion: argoproj.io/v1alpha1
      kind: Rollout
      metadata: {name: genai-model}
      spec:
        template:
          spec:
            containers:
              - name: serve
                args: [serve, --model-config=chat-v2]
  - target: {kind: Rollout, name: genai-model}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/env/0/value
        value: strict-policy
""",
    )
    found = {(u.workload, u.setting, u.value) for u in active_settings(tmp_path, "dev")}
    assert found == {
        ("Rollout/genai-gateway", "GENAIOPS_SERVE_PROMPT", "welcomer"),
        ("Rollout/genai-model", "GENAIOPS_SERVE_GUARDRAIL", "greeter"),
        ("Rollout/genai-model", "--model-config", "chat-v2"),
        ("Rollout/genai-model", "an env value set by a JSON 6902 patch", "strict-policy"),
    }
    assert served_by(tmp_path, "dev", "prompt", "greeter") == []  # dev's patch replaced it
    assert served_by(tmp_path, "base", "prompt", "greeter") != []  # the base alone still serves it
    assert [u.file for u in served_by(tmp_path, "dev", "guardrail", "strict-policy")] == [
        "environments/dev/kustomization.yaml"
    ]
    assert served_by(tmp_path, "dev", "model-config", "chat-v1") == []
    assert served_by(tmp_path, "dev", "rag", "greeter") == []  # no workload names a RAG config


def test_an_unreadable_serving_file_refuses_the_retirement(world: World, run_cli: Any) -> None:
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev")
    shutil.rmtree(greeter)
    clone = world.clone_remote(world.repo.parent / "broken")
    (clone / "environments/base/serving.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    git(clone, "commit", "-q", "-am", "break the base")
    git(clone, "push", "-q", "origin", "HEAD:main")
    head = _head(world)
    result = _promote(run_cli, world, "dev", "--retire", "prompt/greeter")
    assert result.code == 1
    entry = result.report["artifacts"][0]
    assert entry["details"]["retirement"]["status"] == "refused"
    assert entry["findings"][0]["ruleId"] == "core/invalid-yaml"
    assert "cannot tell what the environment serves" in entry["findings"][0]["message"]
    assert _head(world) == head


@pytest.mark.tools
def test_the_environment_still_builds_after_a_retirement(world: World, run_cli: Any, tmp_path: Path) -> None:
    kustomize = TOOLS_BIN / "kustomize"
    if not kustomize.exists():
        pytest.fail(f"{kustomize} is missing: run scripts/install-tools.sh")
    greeter = _deploy(run_cli, world, "prompt", "greeter", "dev")
    _deploy(run_cli, world, "guardrail", "pii", "dev")
    shutil.rmtree(greeter)
    assert _promote(run_cli, world, "dev", "--retire", "prompt/greeter").code == 0
    clone = world.clone_remote(tmp_path / "built")
    out = subprocess.run(
        [str(kustomize), "build", str(clone / "environments/dev")], capture_output=True, text=True, check=True
    ).stdout
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(out) if d]
    assert not [n for n in names if n.startswith("genaiops-prompt-greeter")]
    assert [n for n in names if n.startswith("genaiops-guardrail-pii-")]
