"""The git server side: clones, edits, promotion commits and environment snapshots on main."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from genaiops.kinds import BY_NAME
from genaiops.lineage import RETIRE, read_lineage
from genaiops.promote.snapshot import env_artifact_dir
from genaiops_e2e import kube
from genaiops_e2e.probe.common import ProbeFailed, load_record, save_record
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "genaiops e2e",
        "GIT_AUTHOR_EMAIL": "e2e@genaiops.invalid",
        "GIT_COMMITTER_NAME": "genaiops e2e",
        "GIT_COMMITTER_EMAIL": "e2e@genaiops.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    }
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(f"git {args[0]}: {proc.stderr.strip()}".replace(State.load().git_token, "***"))
    return proc.stdout


@contextmanager
def clone(state: State) -> Iterator[Path]:
    """A fresh clone of the git server's main branch."""
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        tree = Path(scratch) / "repo"
        git(Path(scratch), "clone", "--quiet", "--branch", "main", state.git_url_host_auth, str(tree))
        yield tree


SERVING_BUG = (
    '{% if customer_tier is defined and customer_tier == "free" %}Offer the upgrade: '
    '{{ {"plus": "the Business plan", "business": "the Enterprise plan"}[customer_tier] }}.\n{% endif %}'
)
"""A prompt template change that fails to render (HTTP 500 from the gateway) for free-tier customers: an
upgrade line whose lookup table lacks the free tier. No eval example or test case is a free-tier
customer, so every rendered eval prompt is unchanged and CI scores the change exactly as the stable
version; only the users' traffic has free-tier customers: a bad version that only the canary can catch."""


def edit(tree: Path, kind: str, artifact_id: str, broken: bool = False, serving_bug: bool = False) -> str:
    """Change the artifact; returns its folder (relative). ``broken``: a template variable the prompt does
    not declare (lint fails); ``serving_bug``: SERVING_BUG before the question (CI passes)."""
    rel = f"artifacts/{BY_NAME[kind].folder}/{artifact_id}"
    template = tree / rel / "template.j2"
    if broken:
        template.write_text(template.read_text() + "\n{{ e2e_undeclared_variable }}\n")
        return rel
    if serving_bug:
        text = template.read_text()
        if "\nQuestion:" not in text:
            raise HarnessError(f"{template}: no Question: line to put the change before")
        template.write_text(text.replace("\nQuestion:", "\n" + SERVING_BUG + "Question:", 1))
        return rel
    manifest = tree / rel / BY_NAME[kind].manifest
    text = manifest.read_text()
    marker = re.search(r"^description: >-\n((?:  .*\n)+)", text, re.MULTILINE)
    if marker is None:
        raise HarnessError(f"{manifest}: no folded description to change")
    stamp = f"  (e2e change {os.urandom(4).hex()})\n"
    manifest.write_text(text[: marker.end()] + stamp + text[marker.end() :])
    return rel


def promotions(tree: Path, since: str, workflow: str) -> list[str]:
    """Commits on main after ``since`` that ``workflow`` made (genaiops records it in a trailer)."""
    out = git(tree, "log", "--format=%H%x00%B%x01", f"{since}..HEAD")
    found = []
    for entry in filter(str.strip, out.split("\x01")):
        sha, _, body = entry.strip().partition("\x00")
        if f"Genaiops-Workflow: {workflow}" in body.splitlines():
            found.append(sha)
    return found


def promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    with clone(state) as tree:
        commits = promotions(tree, record["after"], args.workflow)
        if args.count is not None and len(commits) != args.count:
            raise ProbeFailed(
                f"expected {args.count} commit(s) by {args.workflow}, found {len(commits)}: {commits}"
            )
        if not commits:
            raise ProbeFailed(f"no promotion commit by {args.workflow} on main after {record['after'][:12]}")
        if args.approver is not None:  # recorded in the commit and in the lineage
            wanted = f"{args.approver} (in {args.workflow})"
            body = git(tree, "show", "-s", "--format=%B", commits[0]).splitlines()
            lineage = read_lineage(tree, args.env, record["kind"], record["id"])
            if f"Genaiops-Approver: {wanted}" not in body or lineage[-1].approver != wanted:
                raise ProbeFailed(
                    f"{commits[0][:12]} does not record the approver {wanted!r}: trailers "
                    f"{[line for line in body if line.startswith('Genaiops-')]}, lineage approver "
                    f"{lineage[-1].approver!r}"
                )
        built = kube.build(Path(state.repo), tree / "environments" / args.env)
        if record["digest"] not in built:
            raise ProbeFailed(f"kustomize build environments/{args.env} lacks {record['digest']}")
        snapshot = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        if not snapshot.is_dir():
            raise ProbeFailed(f"{snapshot.relative_to(tree)} is missing")
    print(
        f"{commits[0][:12]} by {args.workflow} promoted {record['id']} to {args.env}; "
        f"the build carries {record['digest']}"
    )


def retired(args: argparse.Namespace) -> None:
    """WORKFLOW's one retirement commit took the deleted artifact out of ENV: no generator entry, no
    snapshot folder, and a lineage that ends with ``retire``."""
    state = State.load()
    record = load_record(args.workflow)
    kind, artifact_id = record["kind"], record["id"]
    with clone(state) as tree:
        commits = promotions(tree, record["after"], args.workflow)
        if len(commits) != 1:
            raise ProbeFailed(f"expected one commit by {args.workflow}, found {commits}")
        body = git(tree, "show", "-s", "--format=%B", commits[0])
        if "Genaiops-Action: retire" not in body.splitlines():
            raise ProbeFailed(f"{commits[0][:12]} is not a retirement:\n{body}")
        built = kube.build(Path(state.repo), tree / "environments" / args.env)
        if f"name: genaiops-{kind}-{artifact_id}-" in built:
            raise ProbeFailed(f"kustomize build environments/{args.env} still has {kind}/{artifact_id}")
        if (tree / env_artifact_dir(args.env, kind, artifact_id)).exists():
            raise ProbeFailed(f"{env_artifact_dir(args.env, kind, artifact_id)} is still there")
        history = read_lineage(tree, args.env, kind, artifact_id)
        if not history or history[-1].action != RETIRE:
            raise ProbeFailed(f"the lineage of {kind}/{artifact_id} in {args.env} does not end with retire")
    print(
        f"{commits[0][:12]} by {args.workflow} retired {kind}/{artifact_id} {history[-1].version} from "
        f"{args.env}: the build and the snapshot folder no longer have it; {len(history)} lineage entries"
    )


def not_promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    with clone(state) as tree:
        commits = promotions(tree, record["after"], args.workflow)
    if commits:
        raise ProbeFailed(f"{args.workflow} pushed commits to main: {commits}")
    print(f"{args.workflow} pushed nothing after {record['after'][:12]}")


def revert(args: argparse.Namespace) -> None:
    """Undo WORKFLOW's change on main (a scenario that pushed a broken artifact cleans up after itself);
    the revert commit is recorded with the change (``restored --revert`` waits for it)."""
    state = State.load()
    record = load_record(args.workflow)
    with clone(state) as tree:
        git(tree, "revert", "--no-edit", record["after"])
        git(tree, "push", "--quiet", "origin", "main")
        reverted = git(tree, "rev-parse", "HEAD").strip()
    save_record(args.workflow, {**record, "reverted": reverted})
    print(f"reverted {record['after'][:12]} on main with {reverted[:12]}")


def env_change(args: argparse.Namespace) -> None:
    """Set KEY (dotted) to VALUE in environments/ENV/settings.yaml on main: a change made straight in the
    environment's folder, which no CI stage checks and Argo CD syncs as it is. Recorded as CHANGE."""
    state = State.load()
    rel = f"environments/{args.env}/settings.yaml"
    with clone(state) as tree:
        before = git(tree, "rev-parse", "HEAD").strip()
        settings = yaml.safe_load((tree / rel).read_text())
        *parents, leaf = args.key.split(".")
        section = settings
        for name in parents:
            section = section.setdefault(name, {})
        section[leaf] = args.value
        (tree / rel).write_text(yaml.safe_dump(settings, sort_keys=False))
        git(tree, "commit", "--quiet", "-am", f"e2e: {args.env} settings {args.key}={args.value}")
        git(tree, "push", "--quiet", "origin", "main")
        after = git(tree, "rev-parse", "HEAD").strip()
    save_record(
        args.change,
        {
            "kind": "settings",
            "id": args.env,
            "path": rel,
            "before": before,
            "after": after,
            "value": args.value,
        },
    )
    print(f"pushed {after[:12]}: {rel} {args.key}={args.value}")


def snapshot(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    with clone(state) as tree:
        folder = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
        kustomization = (tree / "environments" / args.env / "kustomization.yaml").read_text()
    data = {"files": files, "kustomization": kustomization}
    if args.compare:
        saved = json.loads(Path(args.compare).read_text())
        if saved != data:
            raise ProbeFailed(f"environments/{args.env} differs from the snapshot in {args.compare}")
        print(f"environments/{args.env} is byte-identical to {args.compare}")
        return
    Path(args.save).write_text(json.dumps(data))
    print(f"saved environments/{args.env} ({len(files)} files of {record['id']}) to {args.save}")


def read_only_token(args: argparse.Namespace) -> None:
    """The checkout's token (genaiops-git-read-credentials) fetches but cannot push: the push token is a
    different one, which only the publishing steps hold."""
    state = State.load()
    if not state.git_read_token:
        raise ProbeFailed(
            "this installation has no read-only git token: run `python -m genaiops_e2e up` again"
        )
    branch = f"e2e/read-only-{os.urandom(4).hex()}"
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        tree = Path(scratch) / "repo"
        git(Path(scratch), "clone", "--quiet", "--branch", "main", state.git_url_host_reader, str(tree))
        git(tree, "commit", "--quiet", "--allow-empty", "-m", "e2e: a push with the read-only token")
        proc = subprocess.run(
            ["git", "-C", str(tree), "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"],
            capture_output=True,
            text=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
        if proc.returncode == 0:
            raise ProbeFailed(f"the read-only token pushed {branch}: it can write to the repository")
        refused = proc.stderr.replace(state.git_read_token, "***").strip().splitlines()[-1:]
        if git(tree, "ls-remote", "origin", f"refs/heads/{branch}").strip():
            raise ProbeFailed(f"{branch} exists on the server after a refused push")
    print(f"the read-only token fetched main and its push was refused ({' '.join(refused)})")
