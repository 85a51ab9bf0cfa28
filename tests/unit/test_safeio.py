"""Safe reading: no path escapes, size limits, strict UTF-8, YAML alias bombs, line numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genaiops.discovery import Artifact, digest, resolve_paths
from genaiops.errors import ArtifactError, UsageError
from genaiops.kinds import BY_NAME
from genaiops.safeio import MAX_FILE_BYTES, load_yaml, parse_yaml, read_text
from tests.conftest import write

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
)


def _rule(exc: pytest.ExceptionInfo[ArtifactError]) -> str:
    return exc.value.rule_id


def test_alias_bomb_is_refused_without_expanding_it() -> None:
    with pytest.raises(ArtifactError) as exc:
        parse_yaml(BOMB, "bomb.yaml")
    assert _rule(exc) == "core/yaml-too-large"


def test_invalid_yaml_reports_the_line() -> None:
    with pytest.raises(ArtifactError) as exc:
        parse_yaml("a: 1\nb: [unclosed\nc: 3\n", "x.yaml")
    assert _rule(exc) == "core/invalid-yaml" and exc.value.line is not None and exc.value.line >= 2


def test_line_of_finds_nested_values() -> None:
    doc = parse_yaml(
        "id: x\nvariables:\n  properties:\n    text:\n      maxLength: 10\nlist:\n  - a\n  - b\n", "x"
    )
    assert doc.line_of(["variables", "properties", "text", "maxLength"]) == 5
    assert doc.line_of(["list", 1]) == 8
    assert doc.line_of(["missing"]) == 1


def test_the_node_tree_is_composed_only_when_a_line_is_asked_for() -> None:
    """A run over thousands of artifacts must not hold every document's node tree: only data is kept, and
    the tree is composed again (once) for the first line number."""
    import yaml

    doc = parse_yaml("id: x\nlist:\n  - a\n  - b\n", "x")
    assert not any(isinstance(value, yaml.Node) for value in vars(doc).values())
    assert doc._node is None
    assert doc.line_of(["list", 1]) == 4
    tree = doc.node
    assert tree is not None and doc.node is tree


def test_a_large_document_without_aliases_is_still_bounded() -> None:
    """The alias-bomb count is skipped only where the text is too short to hold too many values."""
    from genaiops import safeio

    flat = "[" + ",".join("x" for _ in range(safeio.MAX_YAML_NODES)) + "]"
    with pytest.raises(ArtifactError) as exc:
        parse_yaml(flat, "flat.yaml")
    assert _rule(exc) == "core/yaml-too-large"


def test_invalid_utf8_and_binary_are_findings(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("a: caf\xe9\n".encode("latin-1"))
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ArtifactError) as exc:
        read_text(tmp_path / "latin1.yaml", tmp_path)
    assert _rule(exc) == "core/not-utf8" and exc.value.line == 1
    with pytest.raises(ArtifactError) as exc:
        read_text(tmp_path / "binary.yaml", tmp_path)
    assert _rule(exc) == "core/not-utf8"


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ArtifactError) as exc:
        load_yaml(tmp_path / "big.yaml", tmp_path)
    assert _rule(exc) == "core/file-too-large"


def test_symlink_out_of_the_repository_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(secret, repo / "link.yaml")
    with pytest.raises(ArtifactError) as exc:
        read_text(repo / "link.yaml", repo)
    assert _rule(exc) == "core/path-escape" and "TOP SECRET" not in str(exc.value)


def test_digest_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    write(tmp_path, "artifacts/prompts/p/prompt.yaml", "id: p\n")
    write(tmp_path, "artifacts/prompts/p/template.j2", "Hello {{ name }}\n")
    artifact = Artifact(BY_NAME["prompt"], "p", tmp_path)
    first = digest(artifact)
    write(tmp_path, "artifacts/prompts/p/.DS_Store", "junk")
    assert digest(artifact) == first
    write(tmp_path, "artifacts/prompts/p/template.j2", "Hello {{ name }}!\n")
    assert digest(artifact) != first


def test_symlinked_artifact_digest_does_not_read_the_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("one")
    write(tmp_path, "repo/artifacts/prompts/p/prompt.yaml", "id: p\n")
    os.symlink(outside, tmp_path / "repo/artifacts/prompts/p/data.txt")
    artifact = Artifact(BY_NAME["prompt"], "p", tmp_path / "repo")
    before = digest(artifact)
    outside.write_text("two")
    assert digest(artifact) == before


def test_resolve_paths_dedupes_and_rejects_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "artifacts/prompts/a/prompt.yaml", "id: a\n")
    write(tmp_path, "artifacts/rag/b/rag.yaml", "id: b\n")
    write(tmp_path, "artifacts/rag/not-an-artifact.txt", "")
    monkeypatch.chdir(tmp_path)
    found = resolve_paths(
        tmp_path, ["artifacts/prompts/a/prompt.yaml", "artifacts/prompts/a", "artifacts/rag"]
    )
    assert [(a.kind.name, a.id) for a in found] == [("prompt", "a"), ("rag", "b")]
    assert [a.id for a in resolve_paths(tmp_path, ["."])] == ["a", "b"]
    with pytest.raises(UsageError):
        resolve_paths(tmp_path, ["../"])


def test_symlinked_artifact_folder_leading_outside_is_a_finding_and_never_walked(
    git_repo: Path, tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from genaiops import discovery

    outside = tmp_path / "outside"
    write(outside, "prompt.yaml", 'id: leak\nversion: "1.0.0"\n')
    (git_repo / "artifacts/prompts").mkdir(parents=True)
    os.symlink(outside, git_repo / "artifacts/prompts/leak")
    walked: list[Path] = []
    real_files = discovery.artifact_files
    monkeypatch.setattr(discovery, "artifact_files", lambda a: walked.append(a.root) or real_files(a))
    result = run_cli("lint", "artifacts/prompts/leak", cwd=git_repo)
    assert result.code == 1
    assert [f["ruleId"] for f in result.report["artifacts"][0]["findings"]] == ["core/path-escape"]
    assert walked == []


SAME_AS_PYYAML = [
    "a: 1\nb: [1.5, .inf, -.nan, 0x1F, 0o17, 1_000, 190:20:30]\nc: {yes: on, no: off, ~: null}\n",
    "dates: [2001-12-14t21:59:43.10-05:00, 2002-12-14]\nbin: !!binary aGVsbG8=\n",
    "s: !!set {a, b}\no: !!omap [{x: 1}, {y: 2}]\np: !!pairs [{x: 1}, {x: 2}]\n",
    "forced: !!str 12\nnum: !!int '7'\nfloat: !!float '1'\nnested: [[], {}, [[{}]], '', ' ']\n",
    "? complex key\n: value\n1: int key\n2.5: float key\ntrue: bool key\nnull: null key\n",
    "=: value key\nplain: |\n  block\n  text\nfolded: >-\n  a\n  b\n",
    "---\n- a\n- b: c\n  d: [e, {f: g}]\n...\n",
    "dup: 1\ndup: 2\n",
    "anchor: &a {x: 1}\nnot_an_alias: 'x*y'\n",
    "base: &b {x: 1, z: 3}\nderived:\n  <<: *b\n  y: 2\n",
    "a: &x [1, {k: v}]\nb: *x\nc: [*x, *x]\n",
    "s: &v hello\nt: *v\nn: &n 5\nm: *n\n",
]


@pytest.mark.parametrize("text", SAME_AS_PYYAML)
def test_documents_parse_exactly_as_pyyaml_safe_load_does(text: str) -> None:
    import yaml

    data = parse_yaml(text, "x.yaml").data
    reference = yaml.safe_load(text)
    assert repr(data) == repr(reference), "same values, types and key order"


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{[x]: 1}\n", "? {a: 1}\n: 2\n"])
def test_an_unhashable_key_is_invalid_yaml_with_its_line(text: str) -> None:
    with pytest.raises(ArtifactError) as exc:
        parse_yaml(text, "x.yaml")
    assert _rule(exc) == "core/invalid-yaml" and "unhashable" in exc.value.message and exc.value.line == 1


def _yaml_values():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=12),
        st.sampled_from(["yes", "off", "0x1f", "1_0", "12:30", "2002-12-14", "~", "", "*x", "&y", "-", "?"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.booleans()), inner, max_size=4),
        ),
        max_leaves=20,
    )


def test_any_alias_free_document_parses_as_pyyaml_does() -> None:
    """Property: whatever PyYAML writes (block or flow style), genaiops reads back exactly as PyYAML does."""
    import yaml
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(value=_yaml_values(), flow=st.booleans())
    def check(value: object, flow: bool) -> None:
        text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
        assert repr(parse_yaml(text, "x.yaml").data) == repr(yaml.safe_load(text))

    check()


def test_an_alias_shares_as_in_pyyaml_and_a_bomb_behind_a_special_tag_is_refused() -> None:
    doc = parse_yaml("a: &x [1, {k: v}]\nb: *x\n", "x.yaml")
    assert doc.data["a"] is doc.data["b"], "one object, as yaml.safe_load makes it"
    inner = "[" + ", ".join("x" for _ in range(100)) + "]"
    bomb = f"a: !!omap\n  - k: &i {inner}\nb: [" + ", ".join("*i" for _ in range(5000)) + "]\n"
    for text in (bomb, "cycle: &c [1, *c]\n"):
        with pytest.raises(ArtifactError) as exc:
            parse_yaml(text, "bomb.yaml")
        assert _rule(exc) == "core/yaml-too-large"
