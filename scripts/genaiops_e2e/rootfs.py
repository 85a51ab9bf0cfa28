"""Debian root filesystems made with debootstrap, for base images no registry can supply here.

Each is cached as a tar archive keyed by suite and package list, imported into Docker as a base image
(``docker import``), so everything built on it is an ordinary ``docker build``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from genaiops import pins
from genaiops_e2e import cache
from genaiops_e2e.docker import apt_install
from genaiops_e2e.proc import run

MIRROR = "http://deb.debian.org/debian"


def debian_rootfs_tar(name: str, packages: tuple[str, ...], *, variant: str = "minbase") -> Path:
    """A tar archive of a Debian ``pins.DEBIAN_SUITE`` root filesystem with ``packages`` installed."""
    key = f"{name}-{pins.DEBIAN_SUITE}-{cache.content_key(variant, *packages)}"

    def make(out: Path) -> None:
        apt_install("debootstrap", command="debootstrap")
        with cache.scratch(f"{name}-") as scratch:
            root = scratch / "root"
            run(
                [
                    "debootstrap",
                    f"--variant={variant}",
                    "--include=" + ",".join(packages),
                    pins.DEBIAN_SUITE,
                    root,
                    MIRROR,
                ],
                timeout=1800,
            )
            # no apt lists or caches in an image; documentation is of no use in a container
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
                for child in (root / junk).glob("*"):
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    elif child.name != "lock":
                        child.unlink()
            run(
                ["tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", out / "rootfs.tar", "."],
                timeout=900,
            )

    return cache.entry("rootfs", key, make) / "rootfs.tar"
