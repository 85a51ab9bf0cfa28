"""The e2e harness's Go builds (the wrapper go.mod: which upstream ``replace`` directives it repeats, and how;
the recipes and their flags) and the images made of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaiops import pins
from genaiops_e2e import cache, catalog, gobuild
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


def test_the_argo_rollouts_recipe_copies_upstream_replaces_and_stamps_the_release() -> None:
    build = gobuild.ARGO_ROLLOUTS
    module = pins.ARGO_ROLLOUTS.module
    assert build.upstream_replaces and not build.staging_replaces and not build.tags
    assert build.key == f"argo-rollouts-{pins.ARGO_ROLLOUTS.version}-r{cache.RECIPE_VERSION}"
    assert build.binaries == {"rollouts-controller": f"{module}/cmd/rollouts-controller"}
    # GetVersion prints "v" + version: the stamp has no "v"; with the tag's commit it prints the tag alone
    assert build.ldflags == (
        f"-X {module}/utils/version.version=1.9.1",
        f"-X {module}/utils/version.gitTag=v1.9.1",
        f"-X {module}/utils/version.gitTreeState=clean",
        f"-X {module}/utils/version.gitCommit=b6bd3bcf8f60d717a98763d26acc983db7f97cb0",
    )


def test_a_rollouts_version_without_a_known_commit_is_stamped_without_one() -> None:
    flags = gobuild._argo_rollouts_ldflags("v9.9.9")
    assert f"-X {pins.ARGO_ROLLOUTS.module}/utils/version.version=9.9.9" in flags
    assert not any("gitCommit" in flag for flag in flags)


@pytest.mark.parametrize(
    ("module_version", "release"),
    [("v0.316.0", "3.16.0"), ("v0.300.1", "3.0.1"), ("v0.314.0-rc.0", "3.14.0-rc.0")],
)
def test_prometheus_module_versions_name_their_release(module_version: str, release: str) -> None:
    assert gobuild.prometheus_release(module_version) == release


@pytest.mark.parametrize("module_version", ["v3.16.0", "v0.56.0", "v0.316"])
def test_a_version_outside_prometheus_numbering_is_refused(module_version: str) -> None:
    with pytest.raises(HarnessError, match="not a Prometheus module version"):
        gobuild.prometheus_release(module_version)


def test_the_prometheus_recipe_builds_server_and_promtool_with_only_kubernetes_discovery() -> None:
    build = gobuild.PROMETHEUS
    assert pins.PROMETHEUS.spec == "github.com/prometheus/prometheus@v0.316.0"
    assert gobuild.PROMETHEUS_RELEASE == "3.16.0"
    assert build.binaries == {
        "prometheus": "github.com/prometheus/prometheus/cmd/prometheus",
        "promtool": "github.com/prometheus/prometheus/cmd/promtool",
    }
    assert not build.upstream_replaces and not build.staging_replaces  # upstream has no replace
    flags = gobuild.build_flags(build)
    assert flags[flags.index("-tags") + 1] == "remove_all_sd,enable_kubernetes_sd"
    assert "builtinassets" not in flags[flags.index("-tags") + 1]  # the module holds no built web UI
    ldflags = flags[flags.index("-ldflags") + 1].split(" -X ")
    assert "github.com/prometheus/common/version.Version=3.16.0" in ldflags


def test_builds_without_tags_pass_no_tags_flag() -> None:
    assert "-tags" not in gobuild.build_flags(gobuild.ARGO_CD)
    assert gobuild.build_flags(gobuild.ARGO_CD)[:2] == ["-trimpath", "-ldflags"]


ROLLOUTS_INSTALL = """\
kind: CustomResourceDefinition
spec:
  properties:
    image:
      type: string
---
kind: Deployment
spec:
  template:
    spec:
      containers:
      - image: quay.io/argoproj/argo-rollouts:latest
        imagePullPolicy: Always
"""


def _fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    source = tmp_path / "module"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    monkeypatch.setenv("GENAIOPS_E2E_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(gobuild, "module_dir", lambda spec, workdir: source)
    return source


def test_the_rollouts_image_takes_its_name_from_the_manifests_and_the_pinned_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_module(tmp_path, monkeypatch, {"manifests/install.yaml": ROLLOUTS_INSTALL})
    binary = tmp_path / "rollouts-controller"
    monkeypatch.setattr(gobuild, "binary", lambda build, name: binary)
    assert catalog.argo_rollouts_manifest_image() == "quay.io/argoproj/argo-rollouts:latest"
    image = catalog.argo_rollouts()
    assert image.ref == f"quay.io/argoproj/argo-rollouts:{pins.ARGO_ROLLOUTS.version}"
    assert image.files == {"/bin/rollouts-controller": binary}
    assert image.entrypoint == ("/bin/rollouts-controller",)  # the manifests give no command or args
    assert image.user == "999"  # numeric: the pod is runAsNonRoot without a runAsUser
    assert "WORKDIR /home/argo-rollouts" in image.run_lines


def test_a_rollouts_manifest_without_one_controller_image_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = ROLLOUTS_INSTALL + "      - image: quay.io/argoproj/argo-rollouts:v1.9.1\n"
    _fake_module(tmp_path, monkeypatch, {"manifests/install.yaml": install})
    with pytest.raises(HarnessError, match="expected one argo-rollouts image"):
        catalog.argo_rollouts_manifest_image()


def test_the_prometheus_image_is_laid_out_as_upstreams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _fake_module(
        tmp_path,
        monkeypatch,
        {"documentation/examples/prometheus.yml": "scrape_configs: []\n", "LICENSE": "L", "NOTICE": "N"},
    )
    bins = tmp_path / "bin"
    monkeypatch.setattr(gobuild, "build_binaries", lambda build: bins)
    image = catalog.prometheus()
    assert image.ref == "quay.io/prometheus/prometheus:v3.16.0"
    assert image.entrypoint == ("/bin/prometheus",)
    assert image.user == "65534:65534"
    assert image.files["/bin/promtool"] == bins / "promtool"
    assert image.files["/etc/prometheus/prometheus.yml"] == source / "documentation/examples/prometheus.yml"
    assert "WORKDIR /prometheus" in image.run_lines
    assert (
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
        in image.run_lines
    )
