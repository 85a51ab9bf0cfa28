"""Go binaries built from the pinned modules through the Go module proxy, cached by version.

``go install module@version`` cannot build Kubernetes, etcd or Argo: their go.mod files carry ``replace``
directives (and the proxy refuses the version listing ``go install`` asks for on some modules). So every
binary is built from a small generated wrapper module that ``require``s the pinned upstream module and
repeats what it needs of the upstream ``replace`` directives (Go ignores a dependency's replaces): local
ones (``X => ./staging/X``) rewritten to the published versions of the same modules (the recipe of
kubernetes issue #79384), and non-local ones (``X => Y v1.2.3``, Argo CD's and Argo Rollouts' pins of the
Kubernetes libraries) copied as they are. Static (``CGO_ENABLED=0``), ``-trimpath``, versions stamped
with ``-ldflags`` so components report what they are (kubeadm compares them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from genaiops import pins
from genaiops_e2e import cache
from genaiops_e2e.proc import HarnessError, output, run

GO_TIMEOUT = 3600
_REPLACE_START = re.compile(r"^replace\b\s*(.*)$")
_FORBIDDEN = "FORBIDDEN_DEPENDENCY"
"""etcd's go.mod replaces modules it must never depend on with this folder: those lines are dropped."""


@dataclass(frozen=True)
class Replace:
    """One ``replace`` directive of a go.mod: ``old [version] => new [version]``."""

    old: str
    """The replaced module, with its version when the directive names one (``X v1.0.0``)."""
    new: str
    """The replacement as written: ``module version``, or a folder (``./dir``, ``../dir``, ``/dir``)."""

    @property
    def module(self) -> str:
        """The replaced module's path."""
        return self.old.split()[0]

    @property
    def local(self) -> bool:
        """Whether the replacement is a folder (it has no version; Go's rule for a file path)."""
        return " " not in self.new and self.new.startswith(("./", "../", "/"))

    def directive(self) -> str:
        return f"{self.old} => {self.new}"


def replace_directives(go_mod: str) -> list[Replace]:
    """Every ``replace`` of a go.mod, from ``replace (...)`` blocks and single lines, comments dropped."""
    found: list[Replace] = []
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
                continue
            body = line
        else:
            start = _REPLACE_START.match(line)
            if not start:
                continue
            body = start.group(1)
            if body == "(":
                in_block = True
                continue
        if "=>" in body:
            old, new = (" ".join(side.split()) for side in body.split("=>", 1))
            if old and new:
                found.append(Replace(old, new))
    return found


@dataclass(frozen=True)
class GoBuild:
    """Binaries to build from one pinned module."""

    pin: pins.ModulePin
    binaries: dict[str, str]
    """Output file name -> main package path."""
    ldflags: tuple[str, ...] = ()
    staging_replaces: bool = False
    """Rewrite the upstream ``replace X => ./dir`` (or ``../dir``) lines to ``X => X <version>``."""
    upstream_replaces: bool = False
    """Copy the upstream non-local ``replace X => Y <version>`` directives as they are."""
    local_fixes: dict[str, str] = field(default_factory=dict)
    """Build from a copy of the module with these files added (destination -> existing file to copy)."""
    tags: tuple[str, ...] = ()
    """Build tags (``go build -tags``), the same for every binary of the build."""

    @property
    def key(self) -> str:
        return f"{self.pin.key}-r{cache.RECIPE_VERSION}"


def _k8s_version_flags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    flags: list[str] = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return tuple(flags)


_K8S_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "kubelet",
    "kubeadm",
)

KUBERNETES = GoBuild(
    pins.KUBERNETES,
    {name: f"k8s.io/kubernetes/cmd/{name}" for name in (*_K8S_COMMANDS, "kubectl")},
    ldflags=_k8s_version_flags(pins.KUBERNETES.version),
    staging_replaces=True,
)
ETCD = GoBuild(
    pins.ETCD,
    {"etcd": pins.ETCD.module},
    ldflags=(f"-X go.etcd.io/etcd/api/v3/version.GitSHA={pins.ETCD.version}",),
    staging_replaces=True,
)
ARGO_WORKFLOWS = GoBuild(
    pins.ARGO_WORKFLOWS,
    {
        "workflow-controller": f"{pins.ARGO_WORKFLOWS.module}/cmd/workflow-controller",
        "argoexec": f"{pins.ARGO_WORKFLOWS.module}/cmd/argoexec",
    },
    ldflags=tuple(
        f"-X {pins.ARGO_WORKFLOWS.module}.{name}={value}"
        for name, value in (
            ("version", pins.ARGO_WORKFLOWS.version),
            ("gitTag", pins.ARGO_WORKFLOWS.version),
            ("gitTreeState", "clean"),
        )
    ),
    # Module zips drop symlinks; upstream signal_linux.go is a symlink to signal_darwin.go.
    local_fixes={
        "workflow/executor/os-specific/signal_linux.go": "workflow/executor/os-specific/signal_darwin.go"
    },
)
ARGO_EVENTS = GoBuild(
    pins.ARGO_EVENTS,
    {"argo-events": f"{pins.ARGO_EVENTS.module}/cmd"},
    ldflags=(f"-X {pins.ARGO_EVENTS.module}.version={pins.ARGO_EVENTS.version}",),
)
ARGO_CD_KUBECTL_VERSION = "v0.34.0"
"""The ``k8s.io/client-go`` version Argo CD's replace block pins (its Makefile stamps it as
``kubectlVersion``)."""
ARGO_CD = GoBuild(
    pins.ARGO_CD,
    # one binary for every component: it acts as argocd-server, argocd-repo-server, ... by the name it is
    # invoked as (the image links those names to it)
    {"argocd": f"{pins.ARGO_CD.module}/cmd"},
    ldflags=tuple(
        f"-X {pins.ARGO_CD.module}/common.{name}={value}"
        for name, value in (
            ("version", pins.ARGO_CD.version.lstrip("v")),
            ("kubectlVersion", ARGO_CD_KUBECTL_VERSION),
        )
    ),
    upstream_replaces=True,
)
ARGO_ROLLOUTS_TAG_COMMITS = {"v1.9.1": "b6bd3bcf8f60d717a98763d26acc983db7f97cb0"}
"""The commit of each Rollouts release tag (the Origin the Go module proxy records for it). Stamped with its
tag's commit, the tag and a clean tree, the controller reports exactly the tag (``v1.9.1``); a pin missing
here reports ``v<version>+unknown`` (``utils/version.GetVersion``), never a wrong commit."""


def _argo_rollouts_ldflags(version: str) -> tuple[str, ...]:
    """Upstream Makefile's stamps. ``version`` goes without its ``v``: GetVersion prefixes one."""
    values = {"version": version.lstrip("v"), "gitTag": version, "gitTreeState": "clean"}
    if version in ARGO_ROLLOUTS_TAG_COMMITS:
        values["gitCommit"] = ARGO_ROLLOUTS_TAG_COMMITS[version]
    return tuple(
        f"-X {pins.ARGO_ROLLOUTS.module}/utils/version.{name}={value}" for name, value in values.items()
    )


ARGO_ROLLOUTS = GoBuild(
    pins.ARGO_ROLLOUTS,
    {"rollouts-controller": f"{pins.ARGO_ROLLOUTS.module}/cmd/rollouts-controller"},
    ldflags=_argo_rollouts_ldflags(pins.ARGO_ROLLOUTS.version),
    upstream_replaces=True,
)


def prometheus_release(module_version: str) -> str:
    """The Prometheus release a module version is: 3.X.Y is published as v0.3XX.Y (v0.316.0 is 3.16.0)."""
    found = re.fullmatch(r"v0\.([1-9])(\d\d)\.(\S+)", module_version)
    if not found:
        raise HarnessError(f"{module_version}: not a Prometheus module version (v0.3XX.Y for 3.X.Y)")
    major, minor, patch = found.groups()
    return f"{major}.{int(minor)}.{patch}"


PROMETHEUS_RELEASE = prometheus_release(pins.PROMETHEUS.version)
PROMETHEUS = GoBuild(
    pins.PROMETHEUS,
    # promtool as upstream's image has it (``promtool check rules`` / ``test rules``): same module and tags
    {
        "prometheus": f"{pins.PROMETHEUS.module}/cmd/prometheus",
        "promtool": f"{pins.PROMETHEUS.module}/cmd/promtool",
    },
    ldflags=tuple(
        f"-X github.com/prometheus/common/version.{name}={value}"
        for name, value in (("Version", PROMETHEUS_RELEASE), ("Branch", "HEAD"))
    ),
    # only Kubernetes service discovery (plus the always-built static and file SD) is compiled in. Without
    # ``builtinassets`` the web UI is not embedded (the module holds no built UI): the HTTP API works, the UI
    # pages answer 500.
    tags=("remove_all_sd", "enable_kubernetes_sd"),
)
KUSTOMIZE = GoBuild(pins.KUSTOMIZE, {"kustomize": pins.KUSTOMIZE.module})
"""The kustomize ``make setup`` installs (same pin), static for images: Argo CD's repo-server runs it."""
NATS_SERVER = GoBuild(pins.NATS_SERVER, {"nats-server": pins.NATS_SERVER.module})
KIND = GoBuild(pins.KIND, {"kind": pins.KIND.module})
CHAINSAW = GoBuild(pins.CHAINSAW, {"chainsaw": pins.CHAINSAW.module})
COREDNS = GoBuild(pins.COREDNS, {"coredns": pins.COREDNS.module})
VERSITYGW = GoBuild(pins.VERSITYGW, {"versitygw": f"{pins.VERSITYGW.module}/cmd/versitygw"})
LOCAL_PATH_PROVISIONER = GoBuild(
    pins.LOCAL_PATH_PROVISIONER, {"local-path-provisioner": pins.LOCAL_PATH_PROVISIONER.module}
)
COSIGN = GoBuild(
    pins.COSIGN,
    {"cosign": f"{pins.COSIGN.module}/cmd/cosign"},
    ldflags=(f"-X sigs.k8s.io/release-utils/version.gitVersion={pins.COSIGN.version}",),
)

ALL = (
    KIND,
    CHAINSAW,
    KUBERNETES,
    ETCD,
    COREDNS,
    LOCAL_PATH_PROVISIONER,
    ARGO_WORKFLOWS,
    ARGO_EVENTS,
    ARGO_CD,
    KUSTOMIZE,
    ARGO_ROLLOUTS,
    PROMETHEUS,
    NATS_SERVER,
    VERSITYGW,
    COSIGN,
)


def go_env(workdir: Path) -> dict[str, str]:
    """Static builds with the machine's own Go (never a downloaded toolchain), modules updated as needed."""
    return {
        "CGO_ENABLED": "0",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local"),
        "GOWORK": "off",
        "PWD": str(workdir),
    }


def module_dir(spec: str, workdir: Path) -> Path:
    """The extracted source of ``module@version`` in the module cache (downloaded if needed)."""
    info = json.loads(output(["go", "mod", "download", "-json", spec], cwd=workdir, env=go_env(workdir)))
    if not info.get("Dir"):
        raise HarnessError(f"go mod download {spec}: {info.get('Error', 'no directory')}")
    return Path(info["Dir"])


def _wrapper_go_mod(build: GoBuild, workdir: Path) -> str:
    pin = build.pin
    lines = [
        "module genaiops.local/e2e/" + pin.name,
        "",
        "go 1.26",
        "",
        f"require {pin.module} {pin.version}",
        "",
    ]
    replaces: list[str] = []
    if build.staging_replaces or build.upstream_replaces:
        upstream = replace_directives((module_dir(pin.spec, workdir) / "go.mod").read_text())
        if build.staging_replaces:
            staging = [r for r in upstream if r.local and _FORBIDDEN not in r.new]
            if not staging:
                raise HarnessError(f"{pin.spec}: expected local replace directives in its go.mod, found none")
            version = _staging_version(pin)
            replaces += [f"{r.module} => {r.module} {version}" for r in staging]
        if build.upstream_replaces:
            copied = [r.directive() for r in upstream if not r.local]
            if not copied:
                raise HarnessError(f"{pin.spec}: its go.mod has no non-local replace directive")
            replaces += copied
    if build.local_fixes:
        replaces.append(f"{pin.module} => ./upstream")
    if replaces:
        lines += ["replace (", *(f"\t{r}" for r in replaces), ")", ""]
    return "\n".join(lines)


def _staging_version(pin: pins.ModulePin) -> str:
    """Kubernetes publishes its staging modules as v0.<minor>.<patch>; etcd's share the main version."""
    if pin.module == "k8s.io/kubernetes":
        return "v0." + pin.version.lstrip("v").split(".", 1)[1]
    return pin.version


def _prepare_local_copy(build: GoBuild, workdir: Path) -> None:
    source = module_dir(build.pin.spec, workdir)
    dest = workdir / "upstream"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, symlinks=True)
    for path in dest.rglob("*"):  # the module cache is read-only; the copy must be writable
        path.chmod(path.stat().st_mode | 0o200)
    dest.chmod(0o755)
    for target, original in build.local_fixes.items():
        shutil.copyfile(dest / original, dest / target)


def build_flags(build: GoBuild) -> list[str]:
    """``go build`` flags of ``build`` (before ``-o``)."""
    flags = ["-trimpath", "-ldflags", " ".join(("-s", "-w", *build.ldflags))]
    if build.tags:
        flags += ["-tags", ",".join(build.tags)]
    return flags


def build_binaries(build: GoBuild) -> Path:
    """The cached folder holding ``build``'s binaries (built on first use)."""

    def make(out: Path) -> None:
        workdir = cache.cache_root() / "gowork" / build.pin.key
        workdir.mkdir(parents=True, exist_ok=True)
        if build.local_fixes:
            _prepare_local_copy(build, workdir)
        (workdir / "go.mod").write_text(_wrapper_go_mod(build, workdir))
        (workdir / "go.sum").touch()
        env = go_env(workdir)
        run(["go", "mod", "download", build.pin.module], cwd=workdir, env=env, timeout=GO_TIMEOUT)
        flags = build_flags(build)
        for name, package in build.binaries.items():
            run(["go", "build", *flags, "-o", out / name, package], cwd=workdir, env=env, timeout=GO_TIMEOUT)

    return cache.entry("bin", build.key, make)


def build_pause() -> Path:
    """The pod sandbox binary, compiled statically from Kubernetes' own pause.c."""
    key = f"pause-{pins.PAUSE_VERSION}-{pins.KUBERNETES.version}-r{cache.RECIPE_VERSION}"

    def make(out: Path) -> None:
        workdir = cache.cache_root() / "gowork" / "pause"
        workdir.mkdir(parents=True, exist_ok=True)
        source = module_dir(pins.KUBERNETES.spec, workdir) / "build" / "pause" / "linux" / "pause.c"
        run(
            [
                "gcc",
                "-Os",
                "-static",
                "-Wall",
                "-Werror",
                f"-DVERSION=v{pins.PAUSE_VERSION}",
                "-o",
                out / "pause",
                source,
            ]
        )
        run(["strip", out / "pause"])

    return cache.entry("bin", key, make)


def binary(build: GoBuild, name: str) -> Path:
    """Path of one built binary."""
    return build_binaries(build) / name
