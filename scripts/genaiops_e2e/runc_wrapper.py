"""dockerd's runtime where the capability bounding set is smaller than ``--privileged`` asks for.

Installed by ``docker.py`` as an executable (with this interpreter's shebang) and named dockerd's default
runtime. Before ``create``/``run`` it removes, from the bundle's ``config.json``, every capability this
process's bounding set lacks; before ``exec`` it does the same in the ``--process`` JSON. Then it execs the
real runc with the same arguments. Without it, kind's privileged node (and every ``docker exec
--privileged``) fails with "unable to apply caps: operation not permitted".
"""

import json
import os
import shutil
import sys

CAP_NAMES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]


def unavailable() -> set[str]:
    with open("/proc/self/status") as status:
        bounding = next(int(line.split()[1], 16) for line in status if line.startswith("CapBnd:"))
    return {"CAP_" + name for bit, name in enumerate(CAP_NAMES) if not bounding & (1 << bit)}


def strip(path: str, process_only: bool) -> None:
    with open(path) as handle:
        spec = json.load(handle)
    process = spec if process_only else spec.get("process", {})
    caps = process.get("capabilities") or {}
    drop = unavailable()
    changed = False
    for key, values in caps.items():
        kept = [cap for cap in values or [] if cap not in drop]
        if kept != values:
            caps[key] = kept
            changed = True
    if changed:
        with open(path, "w") as handle:
            json.dump(spec, handle)


def option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def main() -> None:
    args = sys.argv[1:]
    command = next((a for a in args if a in ("create", "run", "exec")), None)
    if command in ("create", "run"):
        bundle = option(args, "--bundle", "-b") or "."
        strip(os.path.join(bundle, "config.json"), process_only=False)
    elif command == "exec":
        process = option(args, "--process", "-p")
        if process:
            strip(process, process_only=True)
    runc = os.environ.get("GENAIOPS_REAL_RUNC") or shutil.which("runc") or "/usr/sbin/runc"
    os.execv(runc, [runc, *args])


main()
