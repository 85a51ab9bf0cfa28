"""Every example artifact of the repository evaluates offline from its committed cassettes and passes.

When a prompt template, a dataset or a model config changes, this fails with the replay miss that
names the request: re-record the cassettes (docs/eval.md, "The example prompts' cassettes").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaiops.cli import main
from tests.conftest import PRESENT_KINDS

ROOT = Path(__file__).resolve().parents[2]


def test_examples_pass_from_cassettes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # replay must not need it
    for name in ("GENAIOPS_REPO", "GENAIOPS_BASE_REF"):
        monkeypatch.delenv(name, raising=False)
    report = tmp_path / "eval.json"
    code = main(
        [
            "eval",
            ".",
            "--replay",
            "--repo",
            str(ROOT),
            "--report",
            str(report),
            "-q",
            "--scorecard-dir",
            str(tmp_path / "cards"),
        ]
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    problems = [
        (a["kind"], a["id"], f["message"])
        for a in data["artifacts"]
        for f in a["findings"]
        if f["severity"] == "error"
    ]
    assert code == 0, problems
    kinds = {a["kind"] for a in data["artifacts"]}
    assert kinds == set(PRESENT_KINDS)
    for artifact in data["artifacts"]:
        card = artifact["details"]["scorecard"]
        assert card["provenance"]["calls"] == 0
        assert (tmp_path / "cards" / f"{artifact['kind']}-{artifact['id']}.md").is_file()
        if artifact["kind"] == "prompt":
            assert card["synthetic"] is True  # the example cassettes are not from a real model
