"""The Docker engine kind runs on: the one already running, or one the harness starts and stops by PID.

Hosted CI runners and laptops have a Docker engine; these machines have only Debian's ``docker.io``, which
the harness starts itself with its own data root (in the user-level cache, so built images survive between
runs), exec root and socket. Where the machine's capability bounding set lacks capabilities that
``--privileged`` asks for (kind runs its node privileged), dockerd's default runtime is a small wrapper
(``runc_wrapper.py``) that drops exactly those before calling runc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from genaiops_e2e import cache
from genaiops_e2e.proc import HarnessError, log, run

RUN_DIR = Path(os.environ.get("GENAIOPS_E2E_RUN_DIR", "/run/genaiops-e2e"))
SOCKET = RUN_DIR / "docker.sock"
START_TIMEOUT = 60


@dataclass
class Engine:
    """How to reach the engine, and the PID to stop when the harness started it."""

    env: dict[str, str]
    pid: int | None
    origin: str

    def stop(self) -> None:
        """Stop dockerd if (and only if) this harness started it, waiting for it to exit."""
        if self.pid is None:
            return
        log(f"stopping dockerd (pid {self.pid})")
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                waited, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # not our child (started by an earlier `up`)
                waited = 0 if _alive(self.pid) else self.pid
            if waited == self.pid:
                return
            time.sleep(0.5)
        os.kill(self.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reachable(env: dict[str, str]) -> bool:
    if shutil.which("docker") is None:
        return False
    proc = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=30,
        check=False,
    )
    return proc.returncode == 0


def missing_capabilities() -> list[int]:
    """Capability numbers the kernel knows but this process's bounding set lacks."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            bounding = int(line.split()[1], 16)
            return [cap for cap in range(last + 1) if not bounding & (1 << cap)]
    return []


def apt_install(*packages: str, command: str) -> None:
    """Install Debian packages for a missing ``command`` (root only; otherwise say what to install)."""
    if shutil.which(command):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise HarnessError(f"{command} is missing: install {' '.join(packages)} (or run as root on Debian)")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, timeout=900)


def ensure_engine() -> Engine:
    """An engine to build images and run kind on (reusing a running one when there is one)."""
    own = {"DOCKER_HOST": f"unix://{SOCKET}", "DOCKER_BUILDKIT": "0"}
    if _reachable(own):
        pidfile = RUN_DIR / "dockerd.pid"
        pid = int(pidfile.read_text()) if pidfile.exists() else None
        return Engine(own, pid, f"dockerd started earlier by this harness ({SOCKET})")
    if _reachable({}):
        return Engine({"DOCKER_BUILDKIT": "0"}, None, "the Docker engine already running")
    apt_install("docker.io", command="dockerd")
    return _start_dockerd(own)


def _start_dockerd(env: dict[str, str]) -> Engine:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    data_root = cache.cache_root() / "docker"
    config: dict[str, object] = {"storage-driver": "overlay2", "log-driver": "json-file"}
    missing = missing_capabilities()
    if missing:
        wrapper = RUN_DIR / "runc-wrapper"
        wrapper.write_text(
            f"#!{sys.executable}\n" + (Path(__file__).with_name("runc_wrapper.py")).read_text(),
        )
        wrapper.chmod(0o755)
        config["runtimes"] = {"genaiops-runc": {"path": str(wrapper)}}
        config["default-runtime"] = "genaiops-runc"
        log(f"capabilities {missing} are outside the bounding set: runc is wrapped to drop them")
    (RUN_DIR / "daemon.json").write_text(json.dumps(config, indent=2))
    logfile = (RUN_DIR / "dockerd.log").open("ab")
    proc = subprocess.Popen(
        [
            "dockerd",
            f"--config-file={RUN_DIR / 'daemon.json'}",
            f"--data-root={data_root}",
            f"--exec-root={RUN_DIR / 'exec'}",
            f"--pidfile={RUN_DIR / 'dockerd.pid'}",
            f"--host=unix://{SOCKET}",
            "--exec-opt=native.cgroupdriver=cgroupfs",
        ],
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log(f"started dockerd (pid {proc.pid}), data root {data_root}, log {RUN_DIR / 'dockerd.log'}")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"dockerd exited with {proc.returncode}; see {RUN_DIR / 'dockerd.log'}")
        if _reachable(env):
            return Engine(env, proc.pid, f"dockerd started by this harness ({SOCKET})")
        time.sleep(0.5)
    raise HarnessError(
        f"dockerd did not answer on {SOCKET} within {START_TIMEOUT}s; see {RUN_DIR / 'dockerd.log'}"
    )
