"""Validate and eval apply the kind's manifest schema before their own checks: they refuse a manifest
lint would reject (``core/manifest-schema``) instead of passing it. Promote decides on their reports.

Runs on the first example of every kind the repository has (a rendered team repository may have fewer)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from genaiops.kinds import KINDS, Kind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    kind.name: (kind, manifests[0].parent)
    for kind in KINDS
    if (manifests := sorted((ROOT / "artifacts" / kind.folder).glob(f"*/{kind.manifest}")))
}
LINT_SCHEMA_RULE = {
    "prompt": "prompt/schema",
    "model-config": "model-config/schema",
    "rag": "rag/schema",
    "guardrail": "guardrail/schema",
}


def team_copy(tmp_path: Path) -> Path:
    """This repository's artifacts and settings, copied to a scratch team repository."""
    root = tmp_path / "team"
    shutil.copytree(ROOT / "artifacts", root / "artifacts")
    shutil.copy2(ROOT / "genaiops.yaml", root / "genaiops.yaml")
    return root


def rule_ids(report: dict[str, Any] | None) -> set[str]:
    assert report is not None
    return {f["ruleId"] for a in report["artifacts"] for f in a["findings"]}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_validate_refuses_a_manifest_that_breaks_its_schema(name: str, tmp_path: Path, run_cli: Any) -> None:
    kind: Kind = EXAMPLES[name][0]
    repo = team_copy(tmp_path)
    folder = repo / EXAMPLES[name][1].relative_to(ROOT)
    manifest = folder / kind.manifest
    manifest.write_text(manifest.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")

    validated = run_cli("validate", str(folder), "--repo", str(repo))
    assert validated.code == 1
    assert rule_ids(validated.report) == {"core/manifest-schema"}
    (finding,) = validated.report["artifacts"][0]["findings"]
    assert "surprise" in finding["message"] and finding["line"] is not None

    linted = run_cli("lint", str(folder), "--repo", str(repo))
    assert LINT_SCHEMA_RULE[name] in rule_ids(linted.report)
    assert "core/manifest-schema" not in rule_ids(linted.report)
