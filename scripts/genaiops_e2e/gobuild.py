"""Go binaries built from the pinned modules through the Go module proxy, cached by version.

``go install module@version`` cannot build Kubernetes, etcd or Argo: their go.mod files carry ``replace``
directives (and the proxy refuses the version listing ``go install`` asks for on some modules). So every
binary is built from a small generated wrapper module that ``require``s the pinned upstream module, with
the upstream ``replace`` block rewritten to the published versions of the same modules (the recipe of
kubernetes issue #79384). Static (``CGO_ENABLED=0``), ``-trimpath``, versions stamped with ``-ldflags``
so components report what they are (kubeadm compares them).
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
_REPLACE_LOCAL = re.compile(r"^\s*(\S+)\s+=>\s+\.\.?/(\S+)\s*$")
_FORBIDDEN = "FORBIDDEN_DEPENDENCY"
"""etcd's go.mod replaces modules it must never depend on with this folder: those lines are dropped."""


@dataclass(frozen=True)
class GoBuild:
    """Binaries to build from one pinned module."""

    pin: pins.ModulePin
    binaries: dict[str, str]
    """Output file name -> main package path."""
    ldflags: tuple[str, ...] = ()
    staging_replaces: bool = False
    """Rewrite the upstream ``replace X => ./dir`` (or ``../dir``) lines to ``X => X <version>``."""
    local_fixes: dict[str, str] = field(default_factory=dict)
    """Build from a copy of the module with these files added (destination -> existing file to copy)."""

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
    if build.staging_replaces:
        upstream = (module_dir(pin.spec, workdir) / "go.mod").read_text()
        staging_version = _staging_version(pin)
        for line in upstream.splitlines():
            found = _REPLACE_LOCAL.match(line.removeprefix("replace"))
            if found and _FORBIDDEN not in found.group(2):
                replaces.append(f"{found.group(1)} => {found.group(1)} {staging_version}")
        if not replaces:
            raise HarnessError(f"{pin.spec}: expected local replace directives in its go.mod, found none")
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
        flags = ["-trimpath", "-ldflags", " ".join(("-s", "-w", *build.ldflags))]
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
