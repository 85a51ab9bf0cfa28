"""``python -m genaiops_e2e [all|up|test|down]``: the end-to-end suite on a real kind cluster.

- ``all`` (``make e2e``): up, the chainsaw scenarios, down (down also after a failure, unless
  ``GENAIOPS_E2E_KEEP=1``), then the phase timings.
- ``up``: a Docker engine (the running one, or one started here), the pinned binaries and images (built
  where no registry is reachable, cached in ``$GENAIOPS_E2E_CACHE``), the kind cluster and everything in it.
- ``test [SCENARIO...]``: the chainsaw scenarios of ``tests/e2e`` against the running cluster.
- ``down``: delete the cluster and stop what this harness started (by PID).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genaiops import pins
from genaiops_e2e import catalog, cluster, docker, gobuild, images, install, nodeimage, scenarios
from genaiops_e2e.proc import HarnessError, log
from genaiops_e2e.timing import Timings

REPO = Path(__file__).resolve().parents[2]


def pipeline_ref(repo: Path) -> str:
    """The pipeline image's name from genaiops.yaml, with an e2e tag."""
    from genaiops.project import load_project

    name = (load_project(repo).settings.get("image") or {}).get("name") or "genaiops"
    return f"{name}:e2e"


def up(timings: Timings, repo: Path) -> None:
    with timings.phase("docker engine"):
        engine = docker.ensure_engine()
        log(f"docker: {engine.origin}")
    env = engine.env
    images.registries_reachable(env)  # says which way the images come
    with timings.phase("go builds"):  # the host-side tools need them either way (kubectl, cosign, chainsaw)
        for build in gobuild.ALL:
            gobuild.build_binaries(build)
        gobuild.build_pause()
    with timings.phase("node image"):
        node = nodeimage.node_image(env)
    origin = "kind's published node image" if node == nodeimage.upstream_node_image() else "built here"
    log(f"cluster: kind {pins.KIND.version}, Kubernetes {pins.KUBERNETES.version}, {node} ({origin})")
    with timings.phase("images"):
        refs = catalog.for_cluster(repo, pipeline_ref(repo), env)
    with timings.phase("cluster"):
        running = cluster.create(env, node)
    with timings.phase("load images"):
        cluster.load_images(running, list(refs.values()))
    with timings.phase("install"):
        install.install_all(running, repo, refs)


def down(timings: Timings) -> None:
    with timings.phase("down"):
        engine = docker.ensure_engine()
        cluster.delete(engine.env)
        engine.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genaiops_e2e", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("all", "up", "test", "down"), nargs="?", default="all")
    parser.add_argument("scenarios", nargs="*", help="scenario folders under tests/e2e (default: all)")
    args = parser.parse_args(argv)
    timings = Timings()
    failed = False
    digest: dict[str, list[str]] = {}
    try:
        if args.command in ("all", "up"):
            up(timings, REPO)
        if args.command in ("all", "test"):
            failed = not scenarios.run_all(timings, REPO, args.scenarios, digest)
    except HarnessError as exc:
        log(f"FAILED: {exc}")
        failed = True
    finally:
        if args.command == "down" or (args.command == "all" and os.environ.get("GENAIOPS_E2E_KEEP") != "1"):
            try:
                down(timings)
            except HarnessError as exc:
                log(f"teardown failed: {exc}")
                failed = True
        print(f"\ne2e phase timings\n{timings.table()}", file=sys.stderr)
        for scenario, lines in digest.items():
            # last, so a CI log's tail shows why (the debug dump of each failure is further up)
            print(f"\nscenario {scenario} failed:\n  " + "\n  ".join(lines), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
