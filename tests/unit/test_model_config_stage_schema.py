"""A model config with ``temperature: 5`` is refused by validate and eval (it used to pass validate):
both apply the model-config schema before their own checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.test_stage_schema import EXAMPLES, ROOT, rule_ids, team_copy


def test_a_value_out_of_range_stops_validate_and_eval(tmp_path: Path, run_cli: Any) -> None:
    repo = team_copy(tmp_path)
    folder = repo / EXAMPLES["model-config"][1].relative_to(ROOT)
    manifest = folder / "model-config.yaml"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("temperature:") for line in lines)
    manifest.write_text(
        "\n".join("temperature: 5" if line.startswith("temperature:") else line for line in lines) + "\n",
        encoding="utf-8",
    )
    for command in (["validate"], ["eval", "--replay"]):
        result = run_cli(*command, str(folder), "--repo", str(repo))
        assert result.code == 1, command
        assert rule_ids(result.report) == {"core/manifest-schema"}
        messages = [f["message"] for f in result.report["artifacts"][0]["findings"]]
        assert any(m.startswith("$.temperature: 5 is greater than the maximum") for m in messages)
