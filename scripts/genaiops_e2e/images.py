"""Container images made locally, under the names and tags the upstream projects publish.

Where a registry is reachable, an upstream image is pulled under its own name (``pull``). Where none is,
each image is an ordinary ``docker build`` from a generated context: static Go binaries on ``scratch`` (as
the upstream distroless images are), or a Debian root filesystem from ``rootfs`` for images that need one.
Every image carries the label ``genaiops.e2e/key`` (a digest of what it was made from), so an image that
is already in the engine with the same key is never rebuilt.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from genaiops_e2e import cache, rootfs
from genaiops_e2e.proc import log, output, run

KEY_LABEL = "genaiops.e2e/key"
LOCAL_PREFIX = "localhost/genaiops-e2e"

PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
GROUP = "root:x:0:\nnonroot:x:65532:\n"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Image:
    """One image: its reference, what it is built on and what goes into it."""

    ref: str
    files: dict[str, Path] = field(default_factory=dict)
    """Destination in the image -> file or folder on the host."""
    entrypoint: tuple[str, ...] = ()
    user: str = "65532:65532"
    debian_packages: tuple[str, ...] = ()
    """Empty: a static image on ``scratch``; otherwise a Debian root filesystem with these packages."""
    run_lines: tuple[str, ...] = ()
    """Extra Dockerfile instructions after the files are copied (Debian images only)."""
    env: dict[str, str] = field(default_factory=dict)

    def key(self) -> str:
        described = json.dumps(
            {
                "ref": self.ref,
                "files": {dest: _fingerprint(src) for dest, src in sorted(self.files.items())},
                "entrypoint": self.entrypoint,
                "user": self.user,
                "packages": self.debian_packages,
                "run": self.run_lines,
                "env": self.env,
            },
            sort_keys=True,
        )
        return cache.content_key(described)


_BIG = 32 * 1024 * 1024


def _fingerprint(path: Path) -> str:
    """What a file or folder holds: a content digest (large files, which are versioned cache entries,
    by path and size)."""
    items = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    parts = []
    for item in items:
        size = item.stat().st_size
        rel = str(item.relative_to(path)) if path.is_dir() else str(item)
        parts.append(f"{rel}:{size}" if size > _BIG else f"{rel}:{cache.content_key(item.read_bytes())}")
    return cache.content_key(*parts)


def image_key(ref: str, env: dict[str, str]) -> str | None:
    """The ``genaiops.e2e/key`` label of ``ref`` in the engine, or None when the image is absent."""
    proc = run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", ref],
        env=env,
        capture=True,
        check=False,
        quiet=True,
    )
    if proc.returncode != 0:
        return None
    labels = json.loads(proc.stdout or b"null") or {}
    return labels.get(KEY_LABEL, "")


_registries: bool | None = None
PROBE_IMAGE = "registry.k8s.io/pause:3.10.1"
"""Pulled once to learn whether registries are reachable (small, and needed anyway)."""


def registries_reachable(env: dict[str, str]) -> bool:
    """Whether this engine can pull from public registries (asked once per run)."""
    global _registries
    if _registries is None:
        proc = run(["docker", "pull", "-q", PROBE_IMAGE], env=env, check=False, capture=True, quiet=True)
        _registries = proc.returncode == 0
        where = "reachable: upstream images are pulled" if _registries else "unreachable: built here"
        log(f"container registries {where}")
    return _registries


def pull(ref: str, env: dict[str, str]) -> bool:
    """Pull an upstream image when registries are reachable; False when it could not be pulled."""
    if ref.startswith(LOCAL_PREFIX) or not registries_reachable(env):
        return False
    pulled = run(["docker", "pull", "-q", ref], env=env, check=False, capture=True, quiet=True)
    return pulled.returncode == 0


def debian_base(name: str, packages: tuple[str, ...], env: dict[str, str]) -> str:
    """A Debian base image (debootstrap, then ``docker import``), imported once per package list."""
    tar = rootfs.debian_rootfs_tar(name, packages)
    ref = f"{LOCAL_PREFIX}/{name}-rootfs:{tar.parent.name.rsplit('-', 1)[-1]}"
    if image_key(ref, env) is None:
        run(["docker", "import", "--change", f"LABEL {KEY_LABEL}=rootfs", tar, ref], env=env, timeout=900)
    return ref


def build(image: Image, env: dict[str, str]) -> str:
    """Make ``image`` in the engine unless it is there with the same key; returns its reference."""
    key = image.key()
    if image_key(image.ref, env) == key or pull(image.ref, env):
        return image.ref
    base = (
        debian_base(image.ref.rsplit("/", 1)[-1].split(":")[0], image.debian_packages, env)
        if image.debian_packages
        else "scratch"
    )
    with tempfile.TemporaryDirectory(prefix="genaiops-image-") as scratch:
        context = Path(scratch)
        lines = [f"FROM {base}"]
        if not image.debian_packages:
            etc = context / "etc"
            (etc / "ssl" / "certs").mkdir(parents=True)
            (etc / "passwd").write_text(PASSWD)
            (etc / "group").write_text(GROUP)
            (etc / "nsswitch.conf").write_text("hosts: files dns\n")
            shutil.copyfile(CA_BUNDLE, etc / "ssl" / "certs" / "ca-certificates.crt")
            (context / "tmp").mkdir(mode=0o1777)
            (context / "tmp").chmod(0o1777)
            lines += ["COPY etc/ /etc/", "COPY tmp/ /tmp/"]
        for index, (dest, src) in enumerate(sorted(image.files.items())):
            staged = context / "files" / str(index)
            staged.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, staged, symlinks=True)
            else:
                shutil.copy2(src, staged)
            _normalise_modes(staged)
            lines.append(f"COPY files/{index} {dest}")
        lines += list(image.run_lines)
        lines += [f"ENV {name}={json.dumps(value)}" for name, value in sorted(image.env.items())]
        lines.append(f"USER {image.user}")
        if image.entrypoint:
            lines.append(f"ENTRYPOINT {json.dumps(list(image.entrypoint))}")
        lines.append(
            f'LABEL {KEY_LABEL}="{key}" org.opencontainers.image.description="built locally by genaiops_e2e"'
        )
        (context / "Dockerfile").write_text("\n".join(lines) + "\n")
        log(f"building image {image.ref}")
        run(["docker", "build", "--quiet", "-t", image.ref, context], env=env, timeout=1800)
    return image.ref


def _normalise_modes(path: Path) -> None:
    """Folders 0755 and files owner-writable: sources in Go's module cache are read-only (0444/0555)."""
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if item.is_symlink():
            continue
        mode = item.stat().st_mode
        item.chmod(0o755 if item.is_dir() else (mode | 0o644) & 0o7777)


def save(refs: list[str], dest: Path, env: dict[str, str]) -> Path:
    """``docker save`` of ``refs`` into one archive (for preloading into a kind node)."""
    run(["docker", "save", "-o", dest, *refs], env=env, timeout=900)
    return dest


def image_id(ref: str, env: dict[str, str]) -> str:
    """The engine's id of ``ref``."""
    return output(["docker", "image", "inspect", "--format", "{{.Id}}", ref], env=env, quiet=True).strip()
