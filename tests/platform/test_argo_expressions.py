"""Our Argo expressions, rendered by Argo's own template engine (util/template, the code the controller
runs): the notification arguments carry Markdown with quotes, backticks, newlines and braces unchanged;
the rollback `--to` switch, the `--deployed` switch, the approver of a gated promotion, the artifact id
derived from its path, and the post-promotion watch condition give what the templates expect. A tiny Go
program is built offline against the argo module
pinned in scripts/tools/argo (already in the Go module and build caches after scripts/install-tools.sh)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from genaiops.kinds import BY_NAME
from tests.conftest import PRESENT_KINDS, REPO_ROOT
from tests.platform.conftest import PLATFORM

pytestmark = pytest.mark.tools

RENDERER = r"""
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/argo-workflows/v3/util/template"
)

// usage: render TEMPLATE VARS_JSON - substitutes like the controller (template JSON-marshalled first).
func main() {
	var vars map[string]string
	if err := json.Unmarshal([]byte(os.Args[2]), &vars); err != nil {
		panic(err)
	}
	tmpl, _ := json.Marshal(map[string]string{"v": os.Args[1]})
	out, err := template.Replace(string(tmpl), vars, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(m["v"])
}
"""

MARKDOWN = '| metric | value |\n|---|---|\n| "exact" `match` \\ | 0.91 |\n{{not.a.variable}} </details>'


NOTIFY = PLATFORM / "workflowtemplates" / "notify.yaml"
Render = Callable[[str, dict[str, str]], str]


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    go = shutil.which("go")
    assert go, "Go is needed to build the renderer (it also builds the pinned argo CLI)"
    folder = tmp_path_factory.mktemp("render")
    pin = REPO_ROOT / "scripts" / "tools" / "argo"
    (folder / "go.mod").write_text(
        (pin / "go.mod").read_text().replace("module genaiops.local/tools/argo", "module render"),
        encoding="utf-8",
    )
    shutil.copy(pin / "go.sum", folder / "go.sum")
    (folder / "main.go").write_text(RENDERER, encoding="utf-8")
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    proc = subprocess.run(
        [go, "build", "-o", "render", "."],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr

    def run(template: str, variables: dict[str, str]) -> str:
        out = subprocess.run(
            [str(folder / "render"), template, json.dumps(variables)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    return run


VARS = {
    "workflow.name": "prompt-ci-x7k2p",
    "inputs.parameters.status": "Failed",
    "inputs.parameters.summary": MARKDOWN,
    "inputs.parameters.webhook-url": "https://hooks.example.com/x",
    "inputs.parameters.repository": "ml-platform/genai-platform",
    "inputs.parameters.pr-number": "42",
    "inputs.parameters.github-api": "https://api.github.com",
}


@pytest.mark.parametrize("template", ["notify", "pull-request-scorecard"])
def test_notify_arguments_carry_the_summary_unchanged(render: Render, template: str) -> None:
    doc = yaml.safe_load(NOTIFY.read_text(encoding="utf-8"))
    [notify] = [t for t in doc["spec"]["templates"] if t["name"] == template]
    args = [render(arg, VARS) for arg in notify["container"]["args"]]
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert args[0] == "notify"
    expected = {
        "--status": "Failed",
        "--summary": MARKDOWN,
        "--workflow": "prompt-ci-x7k2p",
        "--webhook-url": "https://hooks.example.com/x",
    }
    if template == "pull-request-scorecard":
        # one comment per pull request, updated in place, with every artifact's scorecard read back
        expected |= {
            "--summary-dir": notify["inputs"]["artifacts"][0]["path"],
            "--repository": "ml-platform/genai-platform",
            "--pr-number": "42",
            "--comment-key": "scorecard",
            "--github-api": "https://api.github.com",
        }
    else:
        assert "env" not in notify["container"], "the webhook step gets no GitHub credential"
    assert options == expected


def _template(path: str, name: str) -> dict[str, Any]:
    doc = yaml.safe_load((PLATFORM / path).read_text(encoding="utf-8"))
    return next(t for t in doc["spec"]["templates"] if t["name"] == name)


def test_rollback_to_switch(render: Render) -> None:
    args = _template("workflowtemplates/base.yaml", "rollback")["container"]["args"]
    [expression] = [a for a in args if a.startswith("{{=")]
    assert render(expression, {"inputs.parameters.to": ""}) == "--repo=/work/src"
    assert render(expression, {"inputs.parameters.to": "1.2.0"}) == "--to=1.2.0"


@pytest.mark.parametrize("stage", ["validate", "eval"])
def test_deployed_switch(render: Render, stage: str) -> None:
    args = _template("workflowtemplates/base.yaml", stage)["container"]["args"]
    [expression] = [a for a in args if a.startswith("{{=")]
    assert render(expression, {"inputs.parameters.deployed": "true"}) == "--deployed"
    assert render(expression, {"inputs.parameters.deployed": "false"}) == "--repo=/work/src"


def test_gated_promotion_names_its_approval(render: Render) -> None:
    tasks = _template("workflowtemplates/pipeline/cd.yaml", "release")["dag"]["tasks"]
    promote = next(t for t in tasks if t["name"] == "promote")
    assert promote["depends"] == "verify.Succeeded && (approval.Succeeded || approval.Skipped)"
    [approver] = [p["value"] for p in promote["arguments"]["parameters"] if p["name"] == "approver"]
    # the scope the controller builds for promote: its ancestors' ids and phases, the approval's output
    scope = {"workflow.name": "prompt-cd-v1-abc", "tasks.verify.id": "n1", "tasks.verify.status": "Succeeded"}
    gated = {
        **scope,
        "inputs.parameters.require-approval": "true",
        "tasks.approval.status": "Succeeded",
        "tasks.approval.outputs.parameters.approver": "alice@example.com",
    }
    assert render(approver, gated) == "alice@example.com (in prompt-cd-v1-abc)"
    # no approval required: the approval task was skipped and has no output, which is never read
    direct = {**scope, "inputs.parameters.require-approval": "false", "tasks.approval.status": "Skipped"}
    assert render(approver, direct) == ""
    # the approval must name somebody: a suspend output without a default refuses an anonymous resume
    approval = _template("workflowtemplates/pipeline/cd.yaml", "approval")
    [output] = approval["outputs"]["parameters"]
    assert output["name"] == "approver" and output["valueFrom"] == {"supplied": {}}


def test_cd_derives_the_artifact_id_from_its_path(render: Render) -> None:
    kind = BY_NAME[PRESENT_KINDS[-1]]
    tasks = _template("workflowtemplates/pipeline/cd.yaml", "main")["dag"]["tasks"]
    ids = {
        p["value"] for t in tasks for p in t.get("arguments", {}).get("parameters", []) if p["name"] == "id"
    }
    assert len(ids) == 1
    variables = {"workflow.parameters.artifact-path": f"artifacts/{kind.folder}/support-docs"}
    assert render(ids.pop(), variables) == "support-docs"


@pytest.mark.parametrize(
    ("status", "prometheus", "expected"),
    [
        ("pushed", "http://prometheus:9090", "'pushed' == 'pushed' && 'http://prometheus:9090' != ''"),
        ("requested", "http://prometheus:9090", "'requested' == 'pushed' && 'http://prometheus:9090' != ''"),
        ("pushed", "", "'pushed' == 'pushed' && '' != ''"),
    ],
)
def test_watch_runs_only_for_a_pushed_promotion_with_prometheus(
    render: Render, status: str, prometheus: str, expected: str
) -> None:
    tasks = _template("workflowtemplates/pipeline/cd.yaml", "release")["dag"]["tasks"]
    watch = next(t for t in tasks if t["name"] == "watch")
    assert watch["depends"] == "promote.Succeeded", "the promotion status exists only when promote succeeded"
    variables = {
        "tasks.promote.outputs.parameters.status": status,
        "inputs.parameters.prometheus-url": prometheus,
    }
    assert render(watch["when"], variables) == expected


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("workflowtemplates/pipeline/ci.yaml", "exit-handler"),
        ("workflowtemplates/pipeline/cd.yaml", "exit-handler"),
        ("workflowtemplates/pull-request.yaml", "exit-handler"),
        ("base/cron/deployed-check.yaml", "exit-handler"),
    ],
)
def test_notifications_name_failed_steps_only_if_any(render: Render, path: str, template: str) -> None:
    """Argo sets workflow.failures to "null" when nothing failed: a success says so instead."""
    [[step]] = _template(path, template)["steps"]
    [summary] = [p["value"] for p in step["arguments"]["parameters"] if p["name"] == "summary"]
    failures = '[{"displayName":"lint","message":"exit code 1","templateName":"lint","phase":"Failed"}]'
    parameters = {name: name for name in re.findall(r"\{\{(workflow\.parameters\.[a-z-]+)\}\}", summary)}
    succeeded = render(summary, parameters | {"workflow.status": "Succeeded", "workflow.failures": "null"})
    failed = render(summary, parameters | {"workflow.status": "Failed", "workflow.failures": failures})
    assert succeeded.endswith("No step failed.") and "null" not in succeeded
    assert failed.endswith(f"Failed steps: {failures}")


@pytest.mark.parametrize(
    ("head", "secret"),
    [
        ("ml-platform/genai-platform", "genaiops-pipeline-env"),
        ("someone/genai-platform", "genaiops-pipeline-env-untrusted"),
        ("", "genaiops-pipeline-env-untrusted"),  # the fork was deleted: GitHub names no head repository
    ],
)
def test_a_fork_pull_request_gets_no_pipeline_secret(render: Render, head: str, secret: str) -> None:
    """Only a pull request whose head is the repository itself gets genaiops-pipeline-env; validate and eval
    mount whichever Secret this names."""
    main = _template("workflowtemplates/pull-request.yaml", "main")
    [fan_out] = [t for t in main["dag"]["tasks"] if t["name"] == "artifact"]
    [value] = [p["value"] for p in fan_out["arguments"]["parameters"] if p["name"] == "pipeline-env"]
    variables = {"workflow.parameters.repository": "ml-platform/genai-platform"}
    assert render(value, variables | {"workflow.parameters.head-repository": head}) == secret
    for stage in ("validate", "eval"):
        [env] = _template("workflowtemplates/base.yaml", stage)["container"]["envFrom"]
        assert env["secretRef"]["name"] == "{{inputs.parameters.pipeline-env}}"
    checks = {
        t["name"]: t for t in _template("workflowtemplates/pull-request.yaml", "artifact")["dag"]["tasks"]
    }
    for stage in ("validate", "eval"):
        passed = {p["name"]: p["value"] for p in checks[stage]["arguments"]["parameters"]}
        assert passed["pipeline-env"] == "{{inputs.parameters.pipeline-env}}", stage


def test_pull_request_checks_read_endpoints_from_the_base_commit(render: Render) -> None:
    """Argo's engine takes the base commit out of the webhook body; validate and eval get it as
    $GENAIOPS_TRUSTED_REF (genaiops.trusted), so the change under test cannot choose where credentials go."""
    main = _template("workflowtemplates/pull-request.yaml", "main")
    [fan_out] = [t for t in main["dag"]["tasks"] if t["name"] == "artifact"]
    [value] = [p["value"] for p in fan_out["arguments"]["parameters"] if p["name"] == "trusted-ref"]
    base = "9fceb02d0ae598e95dc970b74767f19372d61af8"
    event = {
        "action": "opened",
        "pull_request": {"base": {"sha": base, "ref": "main"}, "head": {"sha": "1" * 40}},
    }
    assert render(value, {"workflow.parameters.event": json.dumps(event)}) == base
    checks = {
        t["name"]: t for t in _template("workflowtemplates/pull-request.yaml", "artifact")["dag"]["tasks"]
    }
    for stage in ("validate", "eval"):
        passed = {p["name"]: p["value"] for p in checks[stage]["arguments"]["parameters"]}
        assert passed["trusted-ref"] == "{{inputs.parameters.trusted-ref}}", stage
        container = _template("workflowtemplates/base.yaml", stage)["container"]
        assert {"name": "GENAIOPS_TRUSTED_REF", "value": "{{inputs.parameters.trusted-ref}}"} in container[
            "env"
        ]
