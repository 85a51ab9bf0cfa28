"""Model-config lint: one fixture per rule id breaks exactly that rule; the examples pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from genaiops import rules
from genaiops.catalog import load_catalog
from genaiops.errors import ArtifactError
from tests.unit.lint_cases import BASE, CASES, LintCase, build_base, case_named, finding_ids, load_cases
from tests.unit.rule_cases import assert_breaks_exactly_its_rule

ENTRY = (
    "  - name: a\n    provider: p\n    type: chat\n    context_window: 10\n    max_output_tokens: 5\n"
    "    tokenizer: o200k_base\n    environments: [dev]\n"
)
DUPLICATE = "models:\n" + ENTRY + ENTRY
CASES_MC = load_cases("model-config/") + load_cases("catalog/")


@pytest.mark.parametrize("case", CASES_MC, ids=[c.name for c in CASES_MC])
def test_fixture_breaks_exactly_its_rule(
    case: LintCase, tmp_path: Path, run_cli: Callable[..., object]
) -> None:
    assert_breaks_exactly_its_rule(case, tmp_path, run_cli)


def test_every_model_config_rule_has_a_fixture() -> None:
    import genaiops.lint.model_config  # noqa: F401 - declares the rules

    declared = {
        r.id
        for r in rules.RULES.values()
        if r.id.startswith(("model-config/", "catalog/")) and r.stage in ("lint", "all")
    }
    assert declared == {c.rule for c in CASES_MC}


def test_base_fixture_is_clean(tmp_path: Path, run_cli: Callable[..., object]) -> None:
    result = run_cli("lint", "artifacts", cwd=build_base(tmp_path / "repo"))
    assert result.code == 0
    assert result.report is not None and finding_ids(result.report) == set()


def test_schema_finding_names_the_path_and_line(tmp_path: Path, run_cli: Callable[..., object]) -> None:
    repo = case_named("mc-schema").build(tmp_path / "repo")
    result = run_cli("lint", "artifacts/model-configs/mc", cwd=repo)
    assert result.report is not None
    [finding] = result.report["artifacts"][0]["findings"]
    assert finding["message"].startswith("$.temperature: 2.5 is greater than the maximum of 2.0")
    assert finding["file"] == "artifacts/model-configs/mc/model-config.yaml"
    lines = (repo / finding["file"]).read_text(encoding="utf-8").splitlines()
    assert lines[finding["line"] - 1].startswith("temperature:")


def test_max_tokens_checks_the_fallback_limit_too(tmp_path: Path, run_cli: Callable[..., object]) -> None:
    repo = case_named("mc-max-tokens").build(tmp_path / "repo")
    result = run_cli("lint", "artifacts/model-configs/mc", cwd=repo)
    assert result.report is not None
    messages = [f["message"] for f in result.report["artifacts"][0]["findings"]]
    assert messages == [
        "max_tokens 1000 exceeds the published output limit of fallback_model 'tiny-chat' (512 tokens)"
    ]


def test_catalog_api() -> None:
    catalog = load_catalog(BASE)
    assert catalog.names() == ["embed-model", "old-chat", "small-chat", "tiny-chat"]
    assert catalog.names(type="embedding") == ["embed-model"]
    entry = catalog.get("embed-model")
    assert entry is not None and entry.embedding_dimension == 64 and entry.max_output_tokens is None
    assert catalog.get("missing") is None and catalog.get(42) is None
    small = catalog.get("small-chat")
    assert small is not None and small.available_in("prod") and not small.available_in("staging")


def test_repository_catalog_has_the_offline_embedder() -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[2])
    entry = catalog.get("genaiops/hash-embedding-256")
    assert entry is not None and entry.type == "embedding" and entry.embedding_dimension == 256


@pytest.mark.parametrize(
    "text",
    [
        "models: []\n",
        DUPLICATE,
        "models: [\n",
        "models:\n  - name: e\n    provider: p\n    type: embedding\n    context_window: 10\n"
        "    tokenizer: tiktoken-remote\n    environments: [dev]\n    embedding_dimension: 8\n",
    ],
)
def test_bad_catalog_is_catalog_invalid(text: str, tmp_path: Path) -> None:
    (tmp_path / "artifacts/catalog").mkdir(parents=True)
    (tmp_path / "artifacts/catalog/models.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ArtifactError) as caught:
        load_catalog(tmp_path)
    assert caught.value.rule_id == "catalog/invalid"


def test_missing_catalog_is_catalog_invalid(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        load_catalog(tmp_path)
    assert caught.value.rule_id == "catalog/invalid" and "missing" in caught.value.message


def test_case_folders_are_well_formed() -> None:
    for folder in CASES.iterdir():
        assert (folder / "case.yaml").is_file() and (folder / "repo").is_dir(), folder.name
