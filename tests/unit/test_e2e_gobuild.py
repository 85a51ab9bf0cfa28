"""The e2e harness's wrapper go.mod: which upstream ``replace`` directives it repeats, and how."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaiops import pins
from genaiops_e2e import cache, gobuild
from genaiops_e2e.proc import HarnessError

# Shaped like Argo Rollouts v1.9.1's go.mod: one block (with comments and blank lines) plus single lines.
ROLLOUTS_LIKE = """\
module github.com/argoproj/argo-rollouts

go 1.24.9

require (
\tk8s.io/api v0.34.1
\tk8s.io/client-go v0.34.1 // indirect
)

replace (
\tgithub.com/go-check/check => github.com/go-check/check v0.0.0-20180628173108-788fd7840127

\t// Avoid CVE-2022-28948
\tgopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1 // pinned
\tk8s.io/api => k8s.io/api v0.34.1
)

replace k8s.io/kms => k8s.io/kms v0.34.1

replace   k8s.io/externaljwt   =>   k8s.io/externaljwt   v0.34.1
"""

# Shaped like etcd's: local folders, including the ones it must never depend on.
ETCD_LIKE = """\
module go.etcd.io/etcd/server/v3

replace (
\tgo.etcd.io/etcd/api/v3 => ../api
\tgo.etcd.io/etcd/client/v3 => ../client/v3
)

// Bad imports are sometimes causing attempts to pull that code.
replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
"""


def test_replace_directives_reads_blocks_and_single_lines_without_comments() -> None:
    found = gobuild.replace_directives(ROLLOUTS_LIKE)
    assert [r.directive() for r in found] == [
        "github.com/go-check/check => github.com/go-check/check v0.0.0-20180628173108-788fd7840127",
        "gopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1",
        "k8s.io/api => k8s.io/api v0.34.1",
        "k8s.io/kms => k8s.io/kms v0.34.1",
        "k8s.io/externaljwt => k8s.io/externaljwt v0.34.1",
    ]
    assert not any(r.local for r in found)


def test_replace_directives_tells_folders_from_modules() -> None:
    found = gobuild.replace_directives(
        ETCD_LIKE + "replace example.com/a v1.0.0 => example.com/b v1.1.0\nreplace example.com/c => /abs/c\n"
    )
    assert [(r.module, r.local) for r in found] == [
        ("go.etcd.io/etcd/api/v3", True),
        ("go.etcd.io/etcd/client/v3", True),
        ("go.etcd.io/etcd", True),
        ("example.com/a", False),
        ("example.com/c", True),
    ]
    assert found[3].directive() == "example.com/a v1.0.0 => example.com/b v1.1.0"


def test_require_and_other_lines_are_not_replaces() -> None:
    assert gobuild.replace_directives("module x\n\nrequire replacer.dev/y v1.0.0\nreplacements x\n") == []


def _upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, go_mod: str) -> Path:
    source = tmp_path / "module"
    source.mkdir()
    (source / "go.mod").write_text(go_mod)
    monkeypatch.setattr(gobuild, "module_dir", lambda spec, workdir: source)
    return tmp_path / "work"


def test_upstream_replaces_are_copied_into_the_wrapper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = _upstream(tmp_path, monkeypatch, ROLLOUTS_LIKE + "replace example.com/local => ./local\n")
    build = gobuild.GoBuild(pins.ARGO_ROLLOUTS, {"rollouts-controller": "x"}, upstream_replaces=True)
    wrapper = gobuild._wrapper_go_mod(build, workdir)
    assert f"require {pins.ARGO_ROLLOUTS.module} {pins.ARGO_ROLLOUTS.version}\n" in wrapper
    block = wrapper.split("replace (\n", 1)[1].split("\n)", 1)[0].splitlines()
    assert block == [
        "\tgithub.com/go-check/check => github.com/go-check/check v0.0.0-20180628173108-788fd7840127",
        "\tgopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1",
        "\tk8s.io/api => k8s.io/api v0.34.1",
        "\tk8s.io/kms => k8s.io/kms v0.34.1",
        "\tk8s.io/externaljwt => k8s.io/externaljwt v0.34.1",
    ]  # the folder replace cannot work outside its repository: not copied


def test_staging_replaces_still_rewrite_folders_to_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = _upstream(tmp_path, monkeypatch, ETCD_LIKE)
    build = gobuild.GoBuild(pins.ETCD, {"etcd": "x"}, staging_replaces=True)
    block = gobuild._wrapper_go_mod(build, workdir).split("replace (\n", 1)[1].split("\n)", 1)[0]
    version = pins.ETCD.version
    assert block.splitlines() == [
        f"\tgo.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 {version}",
        f"\tgo.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 {version}",
    ]


def test_a_recipe_expecting_replaces_fails_when_upstream_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = _upstream(tmp_path, monkeypatch, ETCD_LIKE)
    build = gobuild.GoBuild(pins.ARGO_CD, {"argocd": "x"}, upstream_replaces=True)
    with pytest.raises(HarnessError, match="no non-local replace"):
        gobuild._wrapper_go_mod(build, workdir)


def test_the_argo_cd_recipe_copies_upstream_replaces_and_keeps_its_own_cache_key() -> None:
    assert gobuild.ARGO_CD.upstream_replaces
    assert not gobuild.ARGO_CD.staging_replaces
    assert gobuild.ARGO_CD.key == f"argo-cd-{pins.ARGO_CD.version}-r{cache.RECIPE_VERSION}"
    assert gobuild.ARGO_CD.binaries == {"argocd": f"{pins.ARGO_CD.module}/cmd"}
