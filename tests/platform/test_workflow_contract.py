"""The templates call genaiops exactly as its CLI contract says: every step's arguments parse, every
report lands where the step's output artifact collects it, and a webhook goes end to end - Sensor
parameters, the route step's real command on a real git repository, and the withParam items the CI
DAG reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from genaiops.cli import build_parser
from genaiops.kinds import BY_NAME
from tests.conftest import PRESENT_KINDS, CliResult, git, write
from tests.platform import platform_policy as policy
from tests.platform.conftest import load_docs
from tests.platform.sensor_sim import fire

_VAR = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
SAMPLE_INPUTS = {
    "path": "artifacts/prompts/review-sentiment",
    "env": "dev",
    "kind": "prompt",
    "id": "review-sentiment",
    "prometheus-url": "http://prometheus.monitoring:9090",
    "event-type": "push",
    "stage": "validate",
    "approver": "approved in prompt-cd-v1-x",
    "status": "Failed",
    "summary": "| metric | value |",
    "webhook-url": "https://hooks.example.com/x",
    "repository": "ml-platform/genai-platform",
    "pr-number": "42",
    "github-api": "https://api.github.com",
}


@pytest.fixture(scope="module")
def docs(built_text: str) -> list[dict[str, Any]]:
    """The templates as a kustomize build deploys them (each kind's pipelines are renames of one)."""
    return load_docs(built_text)


def substitute(text: str, values: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        assert key in values, f"unexpected variable {{{{{key}}}}} in a genaiops argument"
        return values[key]

    return _VAR.sub(repl, text)


def genaiops_steps(docs: list[dict[str, Any]]) -> list[policy.TemplateAt]:
    return [
        at
        for at in policy.templates(docs)
        if (at.template.get("container") or {}).get("command") == ["genaiops"]
    ]


# Argo expressions used in genaiops arguments, with the argument each outcome produces (the expressions
# themselves are evaluated with Argo's engine in test_notify_render.py).
EXPRESSIONS = {
    "{{=inputs.parameters.to == '' ? '--repo=/work/src' : '--to=' + inputs.parameters.to}}": [
        "--repo=/work/src",
        "--to=1.2.0",
    ],
    "{{=inputs.parameters.deployed == 'true' ? '--deployed' : '--repo=/work/src'}}": [
        "--repo=/work/src",
        "--deployed",
    ],
}
NOT_ON_THE_TREE = {"notify", "pull-request-scorecard", "evidence"}
"""genaiops steps that do not read the checked-out repository."""
STAGE_STEPS = {"lint", "validate", "eval", "promote", "retire", "route"}


def argument_variants(args: list[str], values: dict[str, str]) -> list[list[str]]:
    """The argument lists a step can run with: one per outcome of each expression argument."""
    variants: list[list[str]] = [[]]
    for arg in args:
        outcomes = EXPRESSIONS.get(arg)
        if outcomes is None and arg.startswith("{{="):
            raise AssertionError(f"unknown expression argument {arg!r}: add its outcomes to EXPRESSIONS")
        choices = outcomes or [substitute(arg, values)]
        variants = [[*v, c] for v in variants for c in choices]
    return variants


def test_every_genaiops_step_parses_and_captures_its_report(docs: list[dict[str, Any]]) -> None:
    steps = genaiops_steps(docs)
    assert {at.template["name"] for at in steps} == STAGE_STEPS | {
        "rollback",
        "watch",
        "notify",
        "pull-request-scorecard",
        "evidence",
        "record-check",
    }
    for at in steps:
        values = {f"inputs.parameters.{k}": v for k, v in SAMPLE_INPUTS.items()} | {"workflow.name": "wf-1"}
        for args in argument_variants(at.template["container"]["args"], values):
            build_parser().parse_args(args)  # raises UsageError on anything the CLI does not accept
        if at.template["name"] not in STAGE_STEPS:
            continue
        report = args[args.index("--report") + 1]
        assert report.startswith("/tmp/"), f"{at.where}: reports go to the /tmp emptyDir"
        outputs = [
            substitute(a["path"], values) for a in (at.template.get("outputs") or {}).get("artifacts", [])
        ]
        assert report in outputs, f"{at.where}: the report {report} is not collected as an output artifact"


def test_rollback_passes_to_only_when_a_version_is_given(docs: list[dict[str, Any]]) -> None:
    [at] = [at for at in genaiops_steps(docs) if at.template["name"] == "rollback"]
    values = {f"inputs.parameters.{k}": v for k, v in SAMPLE_INPUTS.items()} | {"workflow.name": "wf-1"}
    parsed = [
        build_parser().parse_args(a) for a in argument_variants(at.template["container"]["args"], values)
    ]
    assert [(p.artifact, p.env, p.to, p.workflow) for p in parsed] == [
        ("prompt/review-sentiment", "dev", None, "wf-1"),
        ("prompt/review-sentiment", "dev", "1.2.0", "wf-1"),
    ]


def test_eval_keeps_the_markdown_scorecard_where_the_pull_request_comment_reads_it(
    docs: list[dict[str, Any]],
) -> None:
    """genaiops eval --scorecard-dir DIR writes DIR/<kind>-<id>.md; the step stores exactly that file under
    {{workflow.name}}/scorecards/, the folder the pull-request comment step reads back whole."""
    steps = genaiops_steps(docs)
    [evaluate] = [at for at in steps if at.template["name"] == "eval"]
    args = evaluate.template["container"]["args"]
    folder = args[args.index("--scorecard-dir") + 1]
    [markdown] = [a for a in evaluate.template["outputs"]["artifacts"] if a["name"] == "scorecard-markdown"]
    name = "{{inputs.parameters.kind}}-{{inputs.parameters.id}}.md"
    assert markdown["path"] == f"{folder}/{name}"
    assert markdown["optional"] is True, "a missing scorecard must not fail the step"
    assert "none" in markdown["archive"], "stored as the Markdown file itself"
    [comment] = [at for at in steps if at.template["name"] == "pull-request-scorecard"]
    [scorecards] = comment.template["inputs"]["artifacts"]
    assert markdown["s3"]["key"] == f"{scorecards['s3']['key']}/{name}"
    assert scorecards["optional"] is True, "no artifact reached eval: the comment still goes out"
    comment_args = comment.template["container"]["args"]
    assert comment_args[comment_args.index("--summary-dir") + 1] == scorecards["path"]


def test_stage_steps_read_the_checked_out_tree(docs: list[dict[str, Any]]) -> None:
    for at in genaiops_steps(docs):
        if at.template["name"] in NOT_ON_THE_TREE:
            continue
        args = at.template["container"]["args"]
        assert args[args.index("--repo") + 1] == "/work/src", at.where
        sources = {a["name"]: a["path"] for a in at.template["inputs"]["artifacts"]}
        assert sources["source"] == "/work/src", at.where


def _route_push_repo(git_repo: Path) -> tuple[str, str]:
    before = git(git_repo, "rev-parse", "HEAD").strip()
    write(git_repo, "artifacts/prompts/demo/prompt.yaml", 'id: demo\nversion: "1.0.0"\n')
    write(git_repo, "artifacts/prompts/demo/template.j2", "Hello {{ name }}\n")
    write(git_repo, "artifacts/model-configs/mc/model-config.yaml", 'id: mc\nversion: "1.0.0"\n')
    write(git_repo, "artifacts/rag/kb/rag.yaml", 'id: kb\nversion: "1.0.0"\n')
    write(git_repo, "artifacts/guardrails/strict/README.md", "docs only\n")
    write(git_repo, "artifacts/guardrails/strict/policy.yaml", 'id: strict\nversion: "1.0.0"\n')
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "add artifacts")
    middle = git(git_repo, "rev-parse", "HEAD").strip()
    write(git_repo, "artifacts/guardrails/strict/README.md", "docs only, edited\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "docs")
    return before, middle


@pytest.mark.parametrize("kind", PRESENT_KINDS)
def test_webhook_to_fan_out_end_to_end(
    kind: str, git_repo: Path, tmp_path: Path, docs: list[dict[str, Any]], run_cli: Any
) -> None:
    before, middle = _route_push_repo(git_repo)
    after = git(git_repo, "rev-parse", "HEAD").strip()
    files = git(git_repo, "diff", "--name-only", before, after).split()
    payload = {
        "X-GitHub-Event": "push",
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": "o/r", "clone_url": "file:///repo.git"},
        "commits": [{"added": files, "modified": [], "removed": []}],
    }
    sensors = [d for d in docs if d["kind"] == "Sensor" and d["metadata"]["name"] == f"{kind}-ci"]
    fired = fire(sensors, {"headers": {}, "body": payload})
    assert len(fired) == 1
    ci = next(d for d in docs if d["metadata"]["name"] == f"{kind}-ci-v1")
    # what the workflow sees: the template's defaults (its `kind`), then what the Sensor passes
    defaults = {p["name"]: p["value"] for p in ci["spec"]["arguments"]["parameters"] if "value" in p}
    params = {**defaults, **fired[0].parameters}
    main = next(t for t in ci["spec"]["templates"] if t["name"] == "main")
    route_task = next(t for t in main["dag"]["tasks"] if t["name"] == "route")
    task_args = {
        p["name"]: substitute(p["value"], {f"workflow.parameters.{k}": v for k, v in params.items()})
        if isinstance(p["value"], str)
        else str(p["value"])
        for p in route_task["arguments"]["parameters"]
    }
    route = next(d for d in docs if d["metadata"]["name"] == route_task["templateRef"]["name"])
    template = next(
        t for t in route["spec"]["templates"] if t["name"] == route_task["templateRef"]["template"]
    )

    # the raw input artifact becomes a file, the git artifact the checked-out repository
    raw = next(a for a in template["inputs"]["artifacts"] if "raw" in a)
    event_file = tmp_path / "payload.json"
    event_file.write_text(
        substitute(raw["raw"]["data"], {f"inputs.parameters.{k}": v for k, v in task_args.items()}),
        encoding="utf-8",
    )
    values = {f"inputs.parameters.{k}": v for k, v in task_args.items()}
    args = [substitute(a, values) for a in template["container"]["args"]]
    args = [str(event_file) if a == raw["path"] else str(git_repo) if a == "/work/src" else a for a in args]
    report_at = args.index("--report")
    args = args[:report_at] + args[report_at + 2 :]  # run_cli supplies its own report path
    result: CliResult = run_cli(*args, cwd=git_repo)
    assert result.code == 0, result.stderr
    items = json.loads(result.stdout)

    expected = {
        "prompt": [("demo", True)],
        "model-config": [("mc", True)],
        "rag": [("kb", True)],
        "guardrail": [("strict", True)],
    }[kind]
    assert [(i["id"], i["eval"]) for i in items] == expected
    fan_out = next(t for t in main["dag"]["tasks"] if t.get("withParam"))
    assert fan_out["withParam"] == "{{tasks.route.outputs.result}}"
    used = {
        m.group(1)
        for p in fan_out["arguments"]["parameters"]
        for m in re.finditer(r"\{\{item\.(\w+)\}\}", p["value"])
    }
    assert used and all(used <= set(i) for i in items), f"withParam items lack {used}"

    # a docs-only change routes to lint only: eval=false skips validate and eval in the DAG
    payload_docs = dict(
        payload,
        before=middle,
        after=after,
        commits=[{"added": [], "modified": ["artifacts/guardrails/strict/README.md"], "removed": []}],
    )
    event_file.write_text(json.dumps(payload_docs), encoding="utf-8")
    if kind == "guardrail":
        docs_only = run_cli(*args, cwd=git_repo)
        assert [(i["id"], i["stages"], i["eval"]) for i in json.loads(docs_only.stdout)] == [
            ("strict", ["lint"], False)
        ]


def test_every_kind_has_ci_and_cd_for_its_pipeline_name(docs: list[dict[str, Any]]) -> None:
    for kind in (BY_NAME[name] for name in PRESENT_KINDS):
        ci = next(d for d in docs if d["metadata"]["name"] == f"{kind.pipeline}-v1")
        cd = next(d for d in docs if d["metadata"]["name"] == f"{kind.name}-cd-v1")
        for pipeline in (ci, cd):
            [kind_param] = [p for p in pipeline["spec"]["arguments"]["parameters"] if p["name"] == "kind"]
            assert kind_param == {"name": "kind", "value": kind.name, "enum": [kind.name]}
            assert pipeline["metadata"]["labels"]["genaiops.dev/kind"] == kind.name
        release = next(
            t
            for t in next(t for t in ci["spec"]["templates"] if t["name"] == "artifact")["dag"]["tasks"]
            if t["name"] == "release"
        )
        assert release["templateRef"] == {"name": f"{kind.name}-cd-v1", "template": "release"}
