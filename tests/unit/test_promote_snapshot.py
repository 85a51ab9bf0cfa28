"""The environment snapshot: which files are served, ConfigMap keys and labels, kustomization edits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from genaiops.errors import ArtifactError, UsageError
from genaiops.promote.request import approval_branch
from genaiops.promote.snapshot import (
    MAX_CONFIGMAP_BYTES,
    Snapshot,
    apply_snapshot,
    generator_entry,
    is_served,
    labels,
)

KUSTOMIZATION = """\
# team header comment
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base  # the shared base
configMapGenerator:
  - name: aaa-first
    literals: [a=1]
  # keep me
  - name: zzz-last
    literals: [z=1]
"""


def _snapshot(files: dict[str, bytes], version: str = "1.2.0+build.7") -> Snapshot:
    return Snapshot("prompt", "greeter", version, "sha256:" + "ab" * 32, files)


def test_served_files_exclude_eval_and_test_material() -> None:
    assert is_served("prompt", "prompt.yaml") and is_served("prompt", "templates/system.j2")
    assert is_served("guardrail", "terms/blocked.txt")
    for rel in (
        "eval/dataset.jsonl",
        "tests/cases.yaml",
        "cassettes/gpt.jsonl",
        "test_cases.yaml",
        "README.md",
        "eval/qrels/test.tsv",
        "extra.jsonl",
    ):
        assert not is_served("prompt", rel), rel


def test_generator_entry_keys_labels_and_annotations() -> None:
    entry = generator_entry(
        _snapshot(
            {"prompt.yaml": b"id: greeter\n", "templates/system.j2": b"hi\n", "eval/dataset.jsonl": b"{}\n"}
        )
    )
    assert entry["name"] == "genaiops-prompt-greeter"
    assert list(entry["files"]) == [
        "prompt.yaml=artifacts/prompt/greeter/prompt.yaml",
        "templates__system.j2=artifacts/prompt/greeter/templates/system.j2",
    ]
    found = labels(_snapshot({}))
    assert found["genaiops.dev/version"] == "1.2.0_build.7"  # '+' is not allowed in label values
    assert found["genaiops.dev/digest"] == "sha256-" + ("ab" * 32)[:56]
    assert all(len(v) <= 63 for v in found.values())
    assert entry["options"]["annotations"]["genaiops.dev/version"] == "1.2.0+build.7"


def test_too_large_for_a_configmap_is_refused() -> None:
    with pytest.raises(ArtifactError, match="ConfigMap holds at most"):
        generator_entry(_snapshot({"prompt.yaml": b"x" * (MAX_CONFIGMAP_BYTES + 1)}))
    generator_entry(_snapshot({"prompt.yaml": b"x", "eval/big.jsonl": b"x" * (MAX_CONFIGMAP_BYTES + 1)}))


def test_apply_keeps_comments_sorts_entries_and_replaces_the_folder(tmp_path: Path) -> None:
    env = tmp_path / "environments" / "dev"
    env.mkdir(parents=True)
    (env / "kustomization.yaml").write_text(KUSTOMIZATION, encoding="utf-8")
    apply_snapshot(tmp_path, "dev", _snapshot({"prompt.yaml": b"v1\n", "old.txt": b"gone soon\n"}))
    apply_snapshot(tmp_path, "dev", _snapshot({"prompt.yaml": b"v2\n", "templates/a.j2": b"a\n"}))
    text = (env / "kustomization.yaml").read_text(encoding="utf-8")
    for comment in ("# team header comment", "# the shared base", "# keep me"):
        assert comment in text
    data = yaml.safe_load(text)
    assert [g["name"] for g in data["configMapGenerator"]] == [
        "aaa-first",
        "genaiops-prompt-greeter",
        "zzz-last",
    ]
    folder = env / "artifacts" / "prompt" / "greeter"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "prompt.yaml",
        "templates/a.j2",
    ]
    assert (folder / "prompt.yaml").read_bytes() == b"v2\n"


def test_missing_environment_and_hostile_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"kustomization\.yaml does not exist") as caught:
        apply_snapshot(tmp_path, "qa", _snapshot({"prompt.yaml": b"x"}))
    assert "genaiops init" in (caught.value.hint or "")
    (tmp_path / "environments" / "dev").mkdir(parents=True)
    (tmp_path / "environments" / "dev" / "kustomization.yaml").write_text(KUSTOMIZATION, encoding="utf-8")
    with pytest.raises(UsageError, match="outside the snapshot folder"):
        apply_snapshot(tmp_path, "dev", _snapshot({"../../escape.txt": b"x"}))
    assert not (tmp_path / "environments" / "dev" / "escape.txt").exists()


def test_approval_branch_names_are_valid_refs() -> None:
    assert approval_branch("prod", "model-config", "chat", "1.0.0-rc.1+exp.sha.5114f85") == (
        "promote/prod/model-config-chat-1.0.0-rc.1_exp.sha.5114f85"
    )
